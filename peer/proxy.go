package peer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/internal/pki"
	"github.com/shoalproject/shoal/netproxy"
	"github.com/shoalproject/shoal/workload"
)

// Service traffic. Every peer runs netproxy's proxy: it lists Services and
// Endpoints, plans routes (netproxy.Routes) and serves them. A peer that
// runs pods also serves the tunnel, through which other peers' proxies
// reach its pods.
//
// What is bound: NodePorts, on the peer's advertised address; cluster IPs
// where they are local: with Config.ServiceRoute the whole service CIDR is
// made local (netproxy.ServiceRoute), and a loopback CIDR (tests, one host)
// is local already. A cluster IP that is not is left out of the plan, and
// said so once; its service is still reached by NodePort.

// proxyResync bounds how stale the proxy's plan gets when neither a watch
// nor a membership change wakes it.
const proxyResync = 2 * time.Second

// listenTunnel opens the tunnel port when this peer runs pods, before
// gossip starts, so that the tunnel tag carries the real port.
func (p *Peer) listenTunnel() error {
	if p.cfg.Runtime == nil {
		return nil
	}
	addr := net.JoinHostPort(p.cfg.BindAddr, strconv.Itoa(p.cfg.TunnelPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("tunnel listen %s: %w", addr, err)
	}
	p.tunnelLn = ln
	return nil
}

// tunnelAddr is the advertised tunnel address, or "" when none listens.
func (p *Peer) tunnelAddr() string {
	if p.tunnelLn == nil {
		return ""
	}
	return net.JoinHostPort(p.cfg.AdvertiseAddr, strconv.Itoa(p.tunnelLn.Addr().(*net.TCPAddr).Port))
}

// serveTunnel serves the tunnel for this node's pod CIDR until ctx ends.
// Only peers (certificates of the cluster CA in the peers' organization)
// may open it.
func (p *Peer) serveTunnel(ctx context.Context, podCIDR string) {
	if p.tunnelLn == nil {
		return
	}
	prefix, err := netip.ParsePrefix(podCIDR)
	if err != nil {
		p.log.Error("tunnel: pod CIDR", "cidr", podCIDR, "err", err)
		return
	}
	tc := &tls.Config{
		Certificates: p.peerTLS.Certificates,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.st.CA.Pool(),
		MinVersion:   tls.VersionTLS13,
		VerifyPeerCertificate: func(_ [][]byte, chains [][]*x509.Certificate) error {
			if len(chains) == 0 || !slices.Contains(chains[0][0].Subject.Organization, pki.OrgPeers) {
				return errors.New("tunnel: not a peer's certificate")
			}
			return nil
		},
	}
	// The bridge's gateway is this host, not a pod; the network and
	// broadcast addresses are no one's.
	network := prefix.Masked().Addr()
	denied := []netip.Addr{network, network.Next()}
	if network.Is4() {
		b := network.As4()
		binary.BigEndian.PutUint32(b[:], binary.BigEndian.Uint32(b[:])|(1<<(32-prefix.Bits())-1))
		denied = append(denied, netip.AddrFrom4(b))
	}
	s := &netproxy.TunnelServer{TLS: tc, Allowed: []netip.Prefix{prefix}, Denied: denied, Log: p.log.With("component", "tunnel")}
	if err := s.Serve(ctx, p.tunnelLn); err != nil && ctx.Err() == nil {
		p.log.Error("tunnel stopped", "err", err)
	}
}

// runServiceProxy keeps the proxy serving the current plan until ctx ends.
func (p *Peer) runServiceProxy(ctx context.Context) {
	px := &netproxy.Proxy{Tunnel: &netproxy.TunnelDialer{TLS: p.peerTLS}, Log: p.log.With("component", "proxy"), Now: p.cfg.Now}
	defer px.Tunnel.Close()
	defer px.Close()
	p.routing.px.Store(px)
	defer p.routing.px.Store(nil)
	local := p.clusterIPsLocal()
	defer local.remove()
	wake := make(chan struct{}, 1)
	go p.wakeOnChanges(ctx, wake, "Service", "Endpoints")
	members, unsubscribe := p.gossip.Subscribe(16) // tunnel addresses come and go with members
	defer unsubscribe()
	t := time.NewTicker(proxyResync)
	defer t.Stop()
	var said string
	for {
		p.routing.planning.Add(1)
		routes, skipped, err := p.serviceRoutes(ctx, local)
		if err == nil {
			err = px.Apply(ctx, routes)
		}
		p.routing.planning.Add(-1)
		msg := ""
		if err != nil {
			msg = err.Error()
		} else if len(skipped) > 0 {
			msg = fmt.Sprintf("cluster IPs not local to this host (see --service-route); these services are reached by NodePort only: %v", skipped)
		}
		if msg != said && ctx.Err() == nil {
			if msg != "" {
				p.log.Warn("service proxy", "err", msg)
			}
			said = msg
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		case <-members:
		}
	}
}

// localClusterIPs says which cluster IPs this host can listen on, making
// the service CIDR local when the peer is configured to and a service
// first needs it.
type localClusterIPs struct {
	cidr    netip.Prefix
	route   *netproxy.ServiceRoute // nil: the peer does not add the route
	added   bool
	failed  time.Time // when adding the route last failed; tried again a minute on
	onError func(error)
	now     func() time.Time
}

func (p *Peer) clusterIPsLocal() *localClusterIPs {
	cidr := netip.MustParsePrefix(p.cfg.ServiceCIDR) // checked in setDefaults
	l := &localClusterIPs{cidr: cidr, onError: func(err error) { p.log.Error("service route", "err", err) }, now: p.cfg.Now}
	if p.cfg.ServiceRoute && !cidr.Addr().IsLoopback() {
		l.route = &netproxy.ServiceRoute{Prefix: cidr}
	}
	return l
}

// bound says whether the proxy can listen on ip.
func (l *localClusterIPs) bound(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	if a.IsLoopback() {
		return true
	}
	if l.route == nil || !l.cidr.Contains(a) {
		return false
	}
	if !l.added {
		if !l.failed.IsZero() && l.now().Sub(l.failed) < time.Minute {
			return false
		}
		if err := l.route.Ensure(); err != nil {
			l.failed = l.now()
			l.onError(err)
			return false
		}
		l.added = true
	}
	return true
}

func (l *localClusterIPs) remove() {
	if l.added {
		if err := l.route.Remove(); err != nil {
			l.onError(err)
		}
	}
}

// wakeOnChanges signals wake on every change to objects of kinds (which
// live in the object shards), watching again whenever a watch ends.
func (p *Peer) wakeOnChanges(ctx context.Context, wake chan<- struct{}, kinds ...string) {
	info, _ := workload.LookupKind(kinds[0])
	for ctx.Err() == nil {
		events, err := consensus.WatchShards(ctx, p.store, p.shardsFor(info), nil, consensus.Filter{Kinds: kinds})
		if err == nil {
			for range events {
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}
		sleepCtx(ctx, time.Second)
	}
}

// serviceRoutes lists Services and Endpoints and plans this peer's routes.
// The reads are linearizable: a replica that is still catching up (one just
// added as the cluster grew) would otherwise hand the proxy an older state,
// and the proxy would drop routes until the next resync.
// It also returns the cluster IPs left out because this host cannot bind
// them.
func (p *Peer) serviceRoutes(ctx context.Context, local *localClusterIPs) ([]netproxy.Route, []string, error) {
	snap := netproxy.Snapshot{Endpoints: map[string]*workload.Endpoints{}, Self: p.cfg.Name, NodeIP: p.cfg.AdvertiseAddr,
		Tunnels: map[string]string{}, ClusterIPBound: local.bound}
	svcInfo, _ := workload.LookupKind("Service")
	objs, _, err := consensus.ListShards(ctx, p.store, p.shardsFor(svcInfo), consensus.Filter{Kind: "Service"}, true)
	if err != nil {
		return nil, nil, err
	}
	var skipped []string
	for _, so := range objs {
		var s workload.Service
		if json.Unmarshal(so.Data, &s) != nil {
			continue
		}
		if s.Spec.ClusterIP != "" && s.Spec.ClusterIP != "None" && !local.bound(s.Spec.ClusterIP) {
			skipped = append(skipped, s.ObjectMeta.Namespace+"/"+s.ObjectMeta.Name)
		}
		snap.Services = append(snap.Services, &s)
	}
	epInfo, _ := workload.LookupKind("Endpoints")
	objs, _, err = consensus.ListShards(ctx, p.store, p.shardsFor(epInfo), consensus.Filter{Kind: "Endpoints"}, true)
	if err != nil {
		return nil, nil, err
	}
	for _, so := range objs {
		var e workload.Endpoints
		if json.Unmarshal(so.Data, &e) == nil {
			snap.Endpoints[e.ObjectMeta.Namespace+"/"+e.ObjectMeta.Name] = &e
		}
	}
	if p.dns != nil {
		p.dns.SetServices(snap.Services, snap.Endpoints)
	}
	for _, m := range p.gossip.Members() {
		if m.Status == gossip.StatusAlive && m.Tags.Tunnel != "" {
			snap.Tunnels[m.Name] = m.Tags.Tunnel
		}
	}
	return netproxy.Routes(snap), skipped, nil
}

// podDNSAddr is where this peer's pods find their DNS: the pod bridge's
// gateway, the first address of the pod CIDR; "" without Config.PodDNS.
func (p *Peer) podDNSAddr(podCIDR string) string {
	prefix, err := netip.ParsePrefix(podCIDR)
	if p.dns == nil || err != nil {
		return ""
	}
	return prefix.Masked().Addr().Next().String()
}

// serveDNS answers the pods' queries on addr:53 until ctx ends. The
// address is the bridge's, which exists once the first pod's network is
// made, so binding is tried again every second until it works.
func (p *Peer) serveDNS(ctx context.Context, addr string) {
	if p.dns == nil || addr == "" {
		return
	}
	listen := net.JoinHostPort(addr, "53")
	said := false
	for ctx.Err() == nil {
		err := p.dns.Serve(ctx, listen, nil)
		if ctx.Err() != nil {
			return
		}
		if !said {
			p.log.Info("pod DNS waits for its address", "addr", listen, "err", err)
			said = true
		}
		sleepCtx(ctx, time.Second)
	}
}
