package netproxy

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/shoalproject/shoal/workload"
)

// DefaultClusterDomain is the domain Kubernetes manifests hard-code.
const DefaultClusterDomain = "cluster.local"

// DNS answers the pods of a peer for the cluster's names, as Kubernetes'
// DNS specification has them (NAME.NAMESPACE.svc.DOMAIN, and the same
// without the domain; a bare NAME reaches them through the search path the
// node agent writes into the pod's resolv.conf):
//   - a Service with a cluster IP: an A record of that IP;
//   - a headless Service (clusterIP None): an A record per address of its
//     Endpoints, and HOSTNAME.NAME.NAMESPACE.svc for each address that has
//     a hostname (pods whose spec.subdomain names the service) or else the
//     address with dashes (10-32-0-5.NAME.NAMESPACE.svc);
//   - an ExternalName Service: a CNAME to its externalName, followed by
//     the target's A records when an upstream resolves them;
//   - _PORT._PROTO.NAME.NAMESPACE.svc: SRV records of each named port (the
//     service's name and port, or each endpoint's for a headless one).
//
// Other names in the cluster's domain get NXDOMAIN; names outside it go to
// the peer's own resolvers, when it has any. Safe for concurrent use.
type DNS struct {
	Domain    string   // default DefaultClusterDomain
	Upstreams []string // "IP:53" resolvers for outside names; none: SERVFAIL
	TTL       uint32   // answer TTL in seconds; default 5

	mu      sync.RWMutex
	records map[string]*record // "name.namespace", "host.name.namespace", "_p._tcp.name.namespace"
}

// record is what one cluster name holds.
type record struct {
	a     []netip.Addr
	cname string // an ExternalName's target, fully qualified
	srv   []srvTarget
}

// srvTarget is one SRV answer: a name relative to the cluster domain
// ("web.default.svc") and a port.
type srvTarget struct {
	target string
	port   uint16
}

// SetServices replaces the records with those of services and their
// Endpoints (by "namespace/name"; only headless services need them).
func (d *DNS) SetServices(svcs []*workload.Service, endpoints map[string]*workload.Endpoints) {
	records := map[string]*record{}
	get := func(name string) *record {
		name = strings.ToLower(name)
		r := records[name]
		if r == nil {
			r = &record{}
			records[name] = r
		}
		return r
	}
	for _, s := range svcs {
		key := s.ObjectMeta.Name + "." + s.ObjectMeta.Namespace
		switch {
		case s.Spec.Type == workload.ServiceTypeExternalName:
			get(key).cname = dns.Fqdn(s.Spec.ExternalName)
		case s.Spec.ClusterIP == workload.ClusterIPNone:
			d.headless(get, key, s, endpoints[s.ObjectMeta.Namespace+"/"+s.ObjectMeta.Name])
		default:
			ip, err := netip.ParseAddr(s.Spec.ClusterIP)
			if err != nil {
				continue
			}
			get(key).a = []netip.Addr{ip}
			for _, p := range s.Spec.Ports {
				if p.Name != "" {
					r := get(srvName(p.Name, p.Protocol, key))
					r.srv = append(r.srv, srvTarget{target: key + ".svc", port: uint16(p.Port)})
				}
			}
		}
	}
	for name, r := range records {
		if len(r.a) == 0 && r.cname == "" && len(r.srv) == 0 {
			delete(records, name) // a headless service with no endpoints yet
		}
	}
	d.mu.Lock()
	d.records = records
	d.mu.Unlock()
}

// headless adds a headless service's records: its addresses under its own
// name and each under the endpoint's name, and SRV records per named port.
func (d *DNS) headless(get func(string) *record, key string, s *workload.Service, ep *workload.Endpoints) {
	if ep == nil {
		return
	}
	for _, sub := range ep.Subsets {
		addrs := sub.Addresses
		if s.Spec.PublishNotReadyAddresses {
			addrs = append(slices.Clip(addrs), sub.NotReadyAddresses...)
		}
		for _, a := range addrs {
			ip, err := netip.ParseAddr(a.IP)
			if err != nil {
				continue
			}
			host := a.Hostname
			if host == "" {
				host = strings.ReplaceAll(a.IP, ".", "-")
			}
			get(key).a = append(get(key).a, ip)
			get(host + "." + key).a = append(get(host+"."+key).a, ip)
			for _, p := range sub.Ports {
				if p.Name != "" {
					r := get(srvName(p.Name, p.Protocol, key))
					r.srv = append(r.srv, srvTarget{target: host + "." + key + ".svc", port: uint16(p.Port)})
				}
			}
		}
	}
}

// srvName is a named port's SRV name: "_http._tcp.web.default".
func srvName(port string, protocol workload.Protocol, key string) string {
	if protocol == "" {
		protocol = workload.ProtocolTCP
	}
	return "_" + port + "._" + strings.ToLower(string(protocol)) + "." + key
}

func (d *DNS) domain() string {
	if d.Domain == "" {
		return DefaultClusterDomain
	}
	return strings.ToLower(strings.TrimSuffix(d.Domain, "."))
}

// lookup decides a name: its record, nil for a cluster name that does not
// exist (NXDOMAIN); cluster is false for an outside name, to forward. Pure
// but for the records it reads.
func (d *DNS) lookup(qname string) (r *record, cluster bool) {
	name := strings.ToLower(strings.TrimSuffix(qname, "."))
	dom := d.domain()
	switch {
	case strings.HasSuffix(name, ".svc."+dom):
		name = strings.TrimSuffix(name, ".svc."+dom)
	case strings.HasSuffix(name, ".svc"):
		name = strings.TrimSuffix(name, ".svc")
	case name == dom || strings.HasSuffix(name, "."+dom) || name == "svc":
		return nil, true
	default:
		return nil, false
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.records[name], true
}

func (d *DNS) ttl() uint32 {
	if d.TTL == 0 {
		return 5
	}
	return d.TTL
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
	rec, cluster := d.lookup(q.Name)
	if !cluster {
		d.forward(w, r)
		return
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if rec == nil {
		m.Rcode = dns.RcodeNameError
		_ = w.WriteMsg(m)
		return
	}
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: d.ttl()}
	}
	switch {
	case rec.cname != "":
		m.Answer = append(m.Answer, &dns.CNAME{Hdr: hdr(dns.TypeCNAME), Target: rec.cname})
		if q.Qtype != dns.TypeCNAME {
			m.Answer = append(m.Answer, d.chase(rec.cname, q.Qtype, network(w))...)
		}
	case q.Qtype == dns.TypeA:
		for _, ip := range rec.a {
			if ip.Is4() {
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr(dns.TypeA), A: net.IP(ip.AsSlice())})
			}
		}
	case q.Qtype == dns.TypeSRV:
		for _, t := range rec.srv {
			m.Answer = append(m.Answer, &dns.SRV{Hdr: hdr(dns.TypeSRV), Priority: 0, Weight: 100, Port: t.port, Target: t.target + "." + d.domain() + "."})
		}
	} // other types of a name that exists: no data
	_ = w.WriteMsg(m)
}

// chase resolves an ExternalName's target: a cluster name from the
// records, another through the upstreams; nothing when neither answers.
func (d *DNS) chase(target string, qtype uint16, net string) []dns.RR {
	if rec, cluster := d.lookup(target); cluster {
		var out []dns.RR
		if rec != nil && qtype == dns.TypeA {
			for _, ip := range rec.a {
				out = append(out, &dns.A{Hdr: dns.RR_Header{Name: target, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: d.ttl()}, A: ip.AsSlice()})
			}
		}
		return out
	}
	q := new(dns.Msg)
	q.SetQuestion(target, qtype)
	if resp := d.exchange(q, net); resp != nil {
		return resp.Answer
	}
	return nil
}

// network is the transport a query came over: "udp" or "tcp".
func network(w dns.ResponseWriter) string {
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		return "tcp"
	}
	return "udp"
}

// exchange asks the upstreams in turn; nil when none answers.
func (d *DNS) exchange(r *dns.Msg, network string) *dns.Msg {
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	for _, up := range d.Upstreams {
		if resp, _, err := c.ExchangeContext(context.Background(), r, up); err == nil {
			return resp
		}
	}
	return nil
}

// forward passes an outside name to the first upstream that answers.
func (d *DNS) forward(w dns.ResponseWriter, r *dns.Msg) {
	if resp := d.exchange(r, network(w)); resp != nil {
		_ = w.WriteMsg(resp)
		return
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
