package netproxy

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/shoalproject/shoal/workload"
)

// startDNS serves d on a free loopback port and returns its address.
func startDNS(t *testing.T, d *DNS) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, addr, started) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-started:
	case err := <-done:
		t.Fatal(err)
	}
	return addr
}

func query(t *testing.T, server, name string, qtype uint16, network string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	resp, _, err := c.Exchange(m, server) // Serve said both listeners started
	if err != nil {
		t.Fatalf("%s %s: %v", network, name, err)
	}
	return resp
}

func TestDNSAnswersServiceNames(t *testing.T) {
	// An upstream of the test's own, for names outside the cluster.
	upstream := &DNS{Domain: "upstream.test"}
	upstream.SetServices([]*workload.Service{{ObjectMeta: workload.ObjectMeta{Namespace: "example", Name: "www"}, Spec: workload.ServiceSpec{ClusterIP: "192.0.2.7"}}}, nil)
	up := startDNS(t, upstream)

	d := &DNS{Upstreams: []string{up}}
	node := "p1"
	d.SetServices([]*workload.Service{
		{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "web"}, Spec: workload.ServiceSpec{ClusterIP: "10.96.0.10",
			Ports: []workload.ServicePort{{Name: "http", Port: 80, Protocol: workload.ProtocolTCP}}}},
		{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "headless"}, Spec: workload.ServiceSpec{ClusterIP: "None"}},
		{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "db"}, Spec: workload.ServiceSpec{ClusterIP: "None"}},
		{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "ext"}, Spec: workload.ServiceSpec{Type: workload.ServiceTypeExternalName, ExternalName: "www.example.svc.upstream.test"}},
		{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "alias"}, Spec: workload.ServiceSpec{Type: workload.ServiceTypeExternalName, ExternalName: "web.default.svc.cluster.local"}},
	}, map[string]*workload.Endpoints{"default/db": {Subsets: []workload.EndpointSubset{{
		Addresses: []workload.EndpointAddress{{IP: "10.32.0.5", Hostname: "db-0", NodeName: &node}, {IP: "10.32.1.6", NodeName: &node}},
		Ports:     []workload.EndpointPort{{Name: "pg", Port: 5432, Protocol: workload.ProtocolTCP}},
	}}}})
	server := startDNS(t, d)
	cases := []struct {
		name  string
		qtype uint16
		rcode int
		want  string // the answers: A addresses, "-> target" CNAMEs, "target:port" SRVs
	}{
		{"web.default.svc.cluster.local", dns.TypeA, dns.RcodeSuccess, "10.96.0.10"},
		{"WEB.Default.svc", dns.TypeA, dns.RcodeSuccess, "10.96.0.10"},
		{"web.default.svc.cluster.local", dns.TypeAAAA, dns.RcodeSuccess, ""},
		{"web.other.svc.cluster.local", dns.TypeA, dns.RcodeNameError, ""},
		{"headless.default.svc.cluster.local", dns.TypeA, dns.RcodeNameError, ""},
		{"x.web.default.svc.cluster.local", dns.TypeA, dns.RcodeNameError, ""},
		{"web.default.cluster.local", dns.TypeA, dns.RcodeNameError, ""},
		{"www.example.svc.upstream.test", dns.TypeA, dns.RcodeSuccess, "192.0.2.7"}, // forwarded
		{"db.default.svc.cluster.local", dns.TypeA, dns.RcodeSuccess, "10.32.0.5 10.32.1.6"},
		{"db-0.db.default.svc.cluster.local", dns.TypeA, dns.RcodeSuccess, "10.32.0.5"},
		{"10-32-1-6.db.default.svc.cluster.local", dns.TypeA, dns.RcodeSuccess, "10.32.1.6"},
		{"db-1.db.default.svc.cluster.local", dns.TypeA, dns.RcodeNameError, ""},
		{"_pg._tcp.db.default.svc.cluster.local", dns.TypeSRV, dns.RcodeSuccess, "db-0.db.default.svc.cluster.local.:5432 10-32-1-6.db.default.svc.cluster.local.:5432"},
		{"_http._tcp.web.default.svc.cluster.local", dns.TypeSRV, dns.RcodeSuccess, "web.default.svc.cluster.local.:80"},
		{"ext.default.svc.cluster.local", dns.TypeA, dns.RcodeSuccess, "-> www.example.svc.upstream.test. 192.0.2.7"},
		{"alias.default.svc.cluster.local", dns.TypeA, dns.RcodeSuccess, "-> web.default.svc.cluster.local. 10.96.0.10"},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, c := range cases {
			resp := query(t, server, c.name, c.qtype, network)
			var answers []string
			for _, rr := range resp.Answer {
				switch a := rr.(type) {
				case *dns.A:
					answers = append(answers, a.A.String())
				case *dns.CNAME:
					answers = append(answers, "-> "+a.Target)
				case *dns.SRV:
					answers = append(answers, fmt.Sprintf("%s:%d", a.Target, a.Port))
				}
			}
			got := strings.Join(answers, " ")
			if resp.Rcode != c.rcode || got != c.want {
				t.Errorf("%s %s %s: rcode %s, answers %q; want %s, %q", network, c.name, dns.TypeToString[c.qtype],
					dns.RcodeToString[resp.Rcode], got, dns.RcodeToString[c.rcode], c.want)
			}
		}
	}
	// Without upstreams, an outside name fails rather than hangs.
	alone := startDNS(t, &DNS{})
	if resp := query(t, alone, "example.org", dns.TypeA, "udp"); resp.Rcode != dns.RcodeServerFailure {
		t.Errorf("an outside name with no upstream: %s", dns.RcodeToString[resp.Rcode])
	}
}

func TestUpstreams(t *testing.T) {
	f := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(f, []byte("nameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := Upstreams(f); !slices.Equal(got, []string{"192.0.2.53:53"}) {
		t.Errorf("upstreams %v, want the reachable one only", got)
	}
	if got := Upstreams(filepath.Join(t.TempDir(), "none")); got != nil {
		t.Errorf("no resolv.conf gave %v", got)
	}
}
