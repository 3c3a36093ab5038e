package netproxy

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/shoalproject/shoal/workload"
)

// DefaultClusterDomain is the domain Kubernetes manifests hard-code.
const DefaultClusterDomain = "cluster.local"

// DNS answers the pods of a peer for service names: NAME.NAMESPACE.svc and
// NAME.NAMESPACE.svc.DOMAIN get the service's cluster IP (a bare NAME
// reaches them through the search path the node agent writes into the
// pod's resolv.conf); other names in the cluster's domains get NXDOMAIN; names
// outside it go to the peer's own resolvers, when it has any. Safe for
// concurrent use.
type DNS struct {
	Domain    string   // default DefaultClusterDomain
	Upstreams []string // "IP:53" resolvers for outside names; none: SERVFAIL
	TTL       uint32   // answer TTL in seconds; default 5

	mu      sync.RWMutex
	records map[string]netip.Addr // "name.namespace" -> cluster IP
}

// SetServices replaces the records with services' cluster IPs (headless
// services have none).
func (d *DNS) SetServices(svcs []*workload.Service) {
	records := map[string]netip.Addr{}
	for _, s := range svcs {
		if ip, err := netip.ParseAddr(s.Spec.ClusterIP); err == nil {
			records[strings.ToLower(s.ObjectMeta.Name+"."+s.ObjectMeta.Namespace)] = ip
		}
	}
	d.mu.Lock()
	d.records = records
	d.mu.Unlock()
}

func (d *DNS) domain() string {
	if d.Domain == "" {
		return DefaultClusterDomain
	}
	return strings.ToLower(strings.TrimSuffix(d.Domain, "."))
}

// answer is what a name gets: a cluster IP, NXDOMAIN (a cluster name that
// does not exist), or neither (an outside name, to forward).
type answer struct {
	ip       netip.Addr
	nxdomain bool
}

// lookup decides a name. Pure but for the records it reads.
func (d *DNS) lookup(qname string) (answer, bool) {
	name := strings.ToLower(strings.TrimSuffix(qname, "."))
	dom := d.domain()
	inCluster := false
	switch {
	case strings.HasSuffix(name, ".svc."+dom):
		name, inCluster = strings.TrimSuffix(name, ".svc."+dom), true
	case strings.HasSuffix(name, ".svc"):
		name, inCluster = strings.TrimSuffix(name, ".svc"), true
	case name == dom || strings.HasSuffix(name, "."+dom) || name == "svc":
		return answer{nxdomain: true}, true
	}
	if !inCluster {
		return answer{}, false
	}
	d.mu.RLock()
	ip, ok := d.records[name]
	d.mu.RUnlock()
	if !ok || strings.Count(name, ".") != 1 {
		return answer{nxdomain: true}, true
	}
	return answer{ip: ip}, true
}

// ServeDNS answers one query.
func (d *DNS) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	if len(r.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	a, cluster := d.lookup(q.Name)
	if !cluster {
		d.forward(w, r)
		return
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	switch {
	case a.nxdomain:
		m.Rcode = dns.RcodeNameError
	case q.Qtype == dns.TypeA && a.ip.Is4():
		ttl := d.TTL
		if ttl == 0 {
			ttl = 5
		}
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: net.IP(a.ip.AsSlice())})
	} // other types of a name that exists: no data
	_ = w.WriteMsg(m)
}

// forward passes an outside name to the first upstream that answers.
func (d *DNS) forward(w dns.ResponseWriter, r *dns.Msg) {
	network := "udp"
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		network = "tcp"
	}
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	for _, up := range d.Upstreams {
		resp, _, err := c.ExchangeContext(context.Background(), r, up)
		if err == nil {
			_ = w.WriteMsg(resp)
			return
		}
	}
	m := new(dns.Msg)
	m.SetRcode(r, dns.RcodeServerFailure)
	_ = w.WriteMsg(m)
}

// Serve answers on addr ("IP:53") over UDP and TCP until ctx ends; started
// is closed once both listen.
func (d *DNS) Serve(ctx context.Context, addr string, started chan<- struct{}) error {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		pc.Close()
		return err
	}
	servers := []*dns.Server{{PacketConn: pc, Handler: d}, {Listener: l, Handler: d}}
	errc := make(chan error, len(servers))
	up := make(chan struct{}, len(servers))
	for _, s := range servers {
		s.NotifyStartedFunc = func() { up <- struct{}{} }
		go func() { errc <- s.ActivateAndServe() }()
	}
	// Shutdown refuses a server that has not started yet, which would then
	// serve on: wait for both (or a failure) before anything may stop them.
	for range servers {
		select {
		case <-up:
		case err = <-errc:
		}
		if err != nil {
			break
		}
	}
	if err == nil {
		if started != nil {
			close(started)
		}
		select {
		case <-ctx.Done():
		case err = <-errc:
		}
	}
	for _, s := range servers {
		_ = s.Shutdown()
	}
	pc.Close()
	l.Close()
	return err
}

// Upstreams reads the nameservers of a resolv.conf that a peer's pods can
// reach: loopback resolvers (a local stub, as systemd-resolved's) are left
// out, since they are not reachable from a pod's namespace or the peer's.
func Upstreams(resolvConf string) []string {
	cfg, err := dns.ClientConfigFromFile(resolvConf)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range cfg.Servers {
		if ip, err := netip.ParseAddr(s); err == nil && !ip.IsLoopback() {
			out = append(out, net.JoinHostPort(s, cfg.Port))
		}
	}
	return out
}
