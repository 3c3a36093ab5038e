package nodeagent

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
)

func TestPodDNSFollowsDNSPolicyAsKubelet(t *testing.T) {
	host := &runtime.DNSConfig{Servers: []string{"192.0.2.53"}, Searches: []string{"corp.example"}, Options: []string{"ndots:1", "timeout:2"}}
	hostFn := func() *runtime.DNSConfig { c := *host; return &c }
	two := "2"
	mk := func(policy corev1.DNSPolicy, hostNet bool, cfg *corev1.PodDNSConfig) *workload.Pod {
		return &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "shop"}, Spec: workload.PodSpec{DNSPolicy: policy, HostNetwork: hostNet, DNSConfig: cfg}}
	}
	cluster := &runtime.DNSConfig{Servers: []string{"10.32.1.1"},
		Searches: []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"}, Options: []string{"ndots:5"}}
	extra := &corev1.PodDNSConfig{Nameservers: []string{"10.9.9.9"}, Searches: []string{"extra.example"},
		Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &two}, {Name: "edns0"}}}
	for _, c := range []struct {
		name       string
		pod        *workload.Pod
		clusterDNS string
		want       *runtime.DNSConfig
	}{
		{"ClusterFirst", mk("", false, nil), "10.32.1.1", cluster},
		{"ClusterFirst without a cluster DNS is the host's", mk(corev1.DNSClusterFirst, false, nil), "", nil},
		{"ClusterFirst on the host's network is the host's", mk(corev1.DNSClusterFirst, true, nil), "10.32.1.1", nil},
		{"ClusterFirstWithHostNet", mk(corev1.DNSClusterFirstWithHostNet, true, nil), "10.32.1.1", cluster},
		{"Default", mk(corev1.DNSDefault, false, nil), "10.32.1.1", nil},
		{"Default with dnsConfig", mk(corev1.DNSDefault, false, extra), "10.32.1.1", &runtime.DNSConfig{Servers: []string{"192.0.2.53", "10.9.9.9"},
			Searches: []string{"corp.example", "extra.example"}, Options: []string{"timeout:2", "ndots:2", "edns0"}}},
		{"None", mk(corev1.DNSNone, false, extra), "10.32.1.1", &runtime.DNSConfig{Servers: []string{"10.9.9.9"},
			Searches: []string{"extra.example"}, Options: []string{"ndots:2", "edns0"}}},
		{"ClusterFirst with dnsConfig", mk(corev1.DNSClusterFirst, false, extra), "10.32.1.1", &runtime.DNSConfig{Servers: []string{"10.32.1.1", "10.9.9.9"},
			Searches: append(append([]string{}, cluster.Searches...), "extra.example"), Options: []string{"ndots:2", "edns0"}}},
	} {
		if got := PodDNS(c.pod, c.clusterDNS, "cluster.local", hostFn); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestParseResolvConf(t *testing.T) {
	got := ParseResolvConf([]byte("# a comment\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch a.example b.example\noptions ndots:2 rotate\n"))
	want := &runtime.DNSConfig{Servers: []string{"192.0.2.53", "192.0.2.54"}, Searches: []string{"a.example", "b.example"}, Options: []string{"ndots:2", "rotate"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseResolvConf = %+v, want %+v", got, want)
	}
}

func TestPodFQDNAndHostAliases(t *testing.T) {
	p := &workload.Pod{ObjectMeta: workload.ObjectMeta{Name: "web-0", Namespace: "shop"}, Spec: workload.PodSpec{Subdomain: "web",
		HostAliases: []corev1.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"foo.local", "bar.local"}}}}}
	if got := podFQDN(p, "cluster.local"); got != "web-0.web.shop.svc.cluster.local" {
		t.Errorf("podFQDN = %q", got)
	}
	p.Spec.Hostname = "db"
	if got := podFQDN(p, "cluster.local"); got != "db.web.shop.svc.cluster.local" {
		t.Errorf("podFQDN with a hostname = %q", got)
	}
	if got := podFQDN(&workload.Pod{}, "cluster.local"); got != "" {
		t.Errorf("podFQDN without a subdomain = %q", got)
	}
	if got := hostAliases(p); len(got) != 1 || got[0].IP != "10.1.2.3" || len(got[0].Hostnames) != 2 {
		t.Errorf("hostAliases = %+v", got)
	}
}
