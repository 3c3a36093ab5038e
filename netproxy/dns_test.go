package netproxy

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
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
	upstream.SetServices([]*workload.Service{{ObjectMeta: workload.ObjectMeta{Namespace: "example", Name: "www"}, Spec: workload.ServiceSpec{ClusterIP: "192.0.2.7"}}})
	up := startDNS(t, upstream)

	d := &DNS{Upstreams: []string{up}}
	d.SetServices([]*workload.Service{
		{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "web"}, Spec: workload.ServiceSpec{ClusterIP: "10.96.0.10"}},
		{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "headless"}, Spec: workload.ServiceSpec{ClusterIP: "None"}},
	})
	server := startDNS(t, d)
	cases := []struct {
		name  string
		qtype uint16
		rcode int
		want  string // the A record, or ""
	}{
		{"web.default.svc.cluster.local", dns.TypeA, dns.RcodeSuccess, "10.96.0.10"},
		{"WEB.Default.svc", dns.TypeA, dns.RcodeSuccess, "10.96.0.10"},
		{"web.default.svc.cluster.local", dns.TypeAAAA, dns.RcodeSuccess, ""},
		{"web.other.svc.cluster.local", dns.TypeA, dns.RcodeNameError, ""},
		{"headless.default.svc.cluster.local", dns.TypeA, dns.RcodeNameError, ""},
		{"x.web.default.svc.cluster.local", dns.TypeA, dns.RcodeNameError, ""},
		{"web.default.cluster.local", dns.TypeA, dns.RcodeNameError, ""},
		{"www.example.svc.upstream.test", dns.TypeA, dns.RcodeSuccess, "192.0.2.7"}, // forwarded
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, c := range cases {
			resp := query(t, server, c.name, c.qtype, network)
			var got string
			for _, rr := range resp.Answer {
				if a, ok := rr.(*dns.A); ok {
					got = a.A.String()
				}
			}
			if resp.Rcode != c.rcode || got != c.want {
				t.Errorf("%s %s %s: rcode %s, A %q; want %s, %q", network, c.name, dns.TypeToString[c.qtype],
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
