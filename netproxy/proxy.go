package netproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/yamux"

	"github.com/shoalproject/shoal/workload"
)

// Frontend is one address the proxy serves for a service port: a cluster
// IP's port, or a NodePort on the peer's address.
type Frontend struct {
	Name     string            // for logs and Addr: "namespace/service:port"
	Protocol workload.Protocol // ProtocolTCP (also when empty) or ProtocolUDP
	Listen   string            // IP:port; port 0 picks one (tests)
	Balancer *Balancer
}

// Proxy serves frontends: each accepted connection, or each new UDP
// client address (see udp.go), goes to an endpoint its balancer picks,
// directly when the pod is local and through the tunnel otherwise; a
// connect that fails is retried on another endpoint.
type Proxy struct {
	Tunnel *TunnelDialer // for endpoints on other peers
	Log    *slog.Logger
	// ConnectTimeout bounds one connect attempt (default 2 s); MaxAttempts
	// bounds the endpoints tried per connection (default 3).
	ConnectTimeout time.Duration
	MaxAttempts    int
	// Now is the clock of the balancers' ClientIP affinity and of UDP
	// sessions' idle time (default time.Now).
	Now func() time.Time
	// UDPIdleTimeout ends a UDP session after no datagram either way for
	// this long (default 30 s); MaxUDPSessions bounds each UDP frontend's
	// sessions (default 1024), a new client beyond it taking the place
	// of the least recently active. Read when a frontend starts.
	UDPIdleTimeout time.Duration
	MaxUDPSessions int

	mu        sync.Mutex
	frontends map[string]*listener // by Name
	balancers map[string]*Balancer // Apply's, by route name
}

// Apply serves routes (as Routes plans them): each route's balancer is
// kept across calls, so that round-robin turns and client affinities
// survive endpoint changes, and gets the route's current endpoints.
func (p *Proxy) Apply(ctx context.Context, routes []Route) error {
	now := p.clock()
	p.mu.Lock()
	old := p.balancers
	p.balancers = map[string]*Balancer{}
	fes := make([]Frontend, 0, len(routes))
	for _, r := range routes {
		b, ok := old[r.Name]
		if !ok || b.affinity != r.Affinity {
			b = NewBalancer(now, r.Affinity)
		}
		b.SetEndpoints(r.Endpoints)
		if r.Affinity > 0 {
			b.Expire() // clients that have not come back lose their affinity
		}
		p.balancers[r.Name] = b
		fes = append(fes, Frontend{Name: r.Name, Protocol: r.Protocol, Listen: r.Listen, Balancer: b})
	}
	p.mu.Unlock()
	return p.Sync(ctx, fes)
}

func (p *Proxy) clock() func() time.Time {
	if p.Now == nil {
		return time.Now
	}
	return p.Now
}

// listener is a served frontend: a TCP listener, or a UDP socket and its
// sessions.
type listener struct {
	fe     Frontend
	l      net.Listener // TCP
	udp    *udpFrontend // UDP
	cancel context.CancelFunc
}

func (ln *listener) addr() net.Addr {
	if ln.udp != nil {
		return ln.udp.pc.LocalAddr()
	}
	return ln.l.Addr()
}

func (ln *listener) close() {
	ln.cancel()
	if ln.udp != nil {
		ln.udp.close()
		return
	}
	ln.l.Close()
}

func isUDP(fe Frontend) bool { return fe.Protocol == workload.ProtocolUDP }

// Sync makes the proxy serve exactly fes: new frontends start listening,
// those gone stop (their open TCP connections go on; their UDP sessions
// end, since answers leave from the frontend's socket), and a frontend
// whose address changed moves. A UDP frontend's sessions to endpoints its
// balancer no longer has end. Frontends that could not listen are
// reported together; the others are served all the same.
func (p *Proxy) Sync(ctx context.Context, fes []Frontend) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frontends == nil {
		p.frontends = map[string]*listener{}
	}
	want := map[string]Frontend{}
	for _, fe := range fes {
		want[fe.Name] = fe
	}
	for name, ln := range p.frontends {
		if fe, ok := want[name]; !ok || fe.Listen != ln.fe.Listen || isUDP(fe) != isUDP(ln.fe) {
			ln.close()
			delete(p.frontends, name)
		}
	}
	var errs []error
	for name, fe := range want {
		if ln, ok := p.frontends[name]; ok {
			ln.fe.Balancer = fe.Balancer
			if ln.udp != nil {
				ln.udp.setBalancer(fe.Balancer)
			}
			continue
		}
		lctx, cancel := context.WithCancel(ctx)
		ln := &listener{fe: fe, cancel: cancel}
		if isUDP(fe) {
			pc, err := listenUDP(fe.Listen)
			if err != nil {
				cancel()
				errs = append(errs, fmt.Errorf("%s on %s: %w", name, fe.Listen, err))
				continue
			}
			ln.udp = newUDPFrontend(pc, p.clock(), p.UDPIdleTimeout, p.MaxUDPSessions, fe.Balancer)
			p.frontends[name] = ln
			go p.serveUDP(lctx, ln)
			continue
		}
		l, err := net.Listen("tcp", fe.Listen)
		if err != nil {
			cancel()
			errs = append(errs, fmt.Errorf("%s on %s: %w", name, fe.Listen, err))
			continue
		}
		ln.l = l
		p.frontends[name] = ln
		go p.accept(lctx, ln)
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return fmt.Errorf("proxy: %v", errs)
	}
	return nil
}

// Addr is the address a frontend listens on.
func (p *Proxy) Addr(name string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ln, ok := p.frontends[name]
	if !ok {
		return "", false
	}
	return ln.addr().String(), true
}

// RoutesTo names the routes that would send a new connection to an
// endpoint at ip (any port), sorted: none once a pod has left every
// service this proxy serves.
func (p *Proxy) RoutesTo(ip string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for name, b := range p.balancers {
		for _, e := range b.Endpoints() {
			if host, _, err := net.SplitHostPort(e.Addr); err == nil && host == ip {
				out = append(out, name)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// Close stops every frontend.
func (p *Proxy) Close() {
	_ = p.Sync(context.Background(), nil)
}

func (p *Proxy) accept(ctx context.Context, ln *listener) {
	backoff := 5 * time.Millisecond
	for {
		c, err := ln.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			// Out of file descriptors, say: wait and accept again, as
			// net/http does, rather than leave the frontend dead.
			p.Log.Debug("proxy accept", "frontend", ln.fe.Name, "err", err)
			if !pause(ctx, &backoff) {
				return
			}
			continue
		}
		backoff = 5 * time.Millisecond
		p.mu.Lock()
		b := ln.fe.Balancer
		p.mu.Unlock()
		go p.handle(ctx, c, b)
	}
}

// pause waits *backoff after a failed accept or read, and doubles it up
// to a second; false when ctx ends first.
func pause(ctx context.Context, backoff *time.Duration) bool {
	select {
	case <-time.After(*backoff):
	case <-ctx.Done():
		return false
	}
	*backoff = min(2**backoff, time.Second)
	return true
}

// handle connects c to an endpoint, trying another when a connect fails.
func (p *Proxy) handle(ctx context.Context, c net.Conn, b *Balancer) {
	clientIP, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	if up, _, ok := p.connect(ctx, clientIP, b, p.dial); ok {
		pipe(c, up)
		return
	}
	c.Close() // no endpoint could take it: the client sees the connection end
}

// connect dials an endpoint b picks for clientIP, trying another when a
// dial fails; false when none could be reached.
func (p *Proxy) connect(ctx context.Context, clientIP string, b *Balancer, dial func(context.Context, Endpoint) (net.Conn, error)) (net.Conn, Endpoint, bool) {
	attempts := p.MaxAttempts
	if attempts <= 0 {
		attempts = 3
	}
	timeout := p.ConnectTimeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	failed := map[Endpoint]bool{}
	for range attempts {
		ep, ok := b.Pick(clientIP, failed)
		if !ok {
			break
		}
		dctx, cancel := context.WithTimeout(ctx, timeout)
		up, err := dial(dctx, ep)
		cancel()
		if err != nil {
			p.Log.Debug("proxy connect", "endpoint", ep.Addr, "via", ep.Tunnel, "err", err)
			failed[ep] = true
			continue
		}
		return up, ep, true
	}
	return nil, Endpoint{}, false
}

func (p *Proxy) dial(ctx context.Context, ep Endpoint) (net.Conn, error) {
	if ep.Local() {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", ep.Addr)
	}
	if p.Tunnel == nil {
		return nil, fmt.Errorf("endpoint %s is on another peer and this proxy has no tunnel", ep.Addr)
	}
	return p.Tunnel.Dial(ctx, ep.Tunnel, ep.Addr)
}

// pipe copies both ways until both directions end, passing each end of
// stream on as a half-close, then closes both. Between two TCP sockets
// io.Copy splices, with no copy through user space.
func pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = closeWrite(dst)
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
	a.Close()
	b.Close()
}

// closeWrite half-closes c where it can: TCP (and TLS) connections shut
// their write side; a yamux stream's Close does the same.
func closeWrite(c net.Conn) error {
	switch c := c.(type) {
	case interface{ CloseWrite() error }:
		return c.CloseWrite()
	case *yamux.Stream:
		return c.Close()
	}
	return nil
}

// listenUDP opens a UDP frontend's socket.
func listenUDP(addr string) (*net.UDPConn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	return net.ListenUDP("udp", ua)
}
