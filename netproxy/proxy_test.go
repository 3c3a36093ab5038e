package netproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/pki"
)

// listenLoopback serves each connection on a loopback port with handle.
func listenLoopback(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveWith(t, l, handle)
}

// serveWith serves each connection l accepts with handle, until the test
// ends, and returns l's address.
func serveWith(t testing.TB, l net.Listener, handle func(net.Conn)) string {
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return l.Addr().String()
}

// backend answers each connection with its name and then echoes a line.
func backend(t testing.TB, name string) string {
	return listenLoopback(t, func(c net.Conn) {
		fmt.Fprintf(c, "%s\n", name)
		line, _ := bufio.NewReader(c).ReadString('\n')
		fmt.Fprint(c, line)
	})
}

// closedPort is a loopback address nothing listens on.
func closedPort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// call connects to addr, reads the backend's name, and checks the echo.
func call(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	name, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("through %s: %v", addr, err)
	}
	fmt.Fprint(c, "ping\n")
	if echo, err := r.ReadString('\n'); err != nil || echo != "ping\n" {
		t.Fatalf("echo through %s: %q, %v", addr, echo, err)
	}
	return strings.TrimSpace(name)
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func serve(t testing.TB, p *Proxy, b *Balancer) string {
	t.Helper()
	if err := p.Sync(context.Background(), []Frontend{{Name: "default/web:80", Listen: "127.0.0.1:0", Balancer: b}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	addr, _ := p.Addr("default/web:80")
	return addr
}

// Connections take turns over the endpoints, and one that cannot be
// reached is passed over: no client sees it fail.
func TestProxyRoundRobinAndRetry(t *testing.T) {
	b := NewBalancer(time.Now, 0)
	b.SetEndpoints([]Endpoint{{Addr: backend(t, "a")}, {Addr: closedPort(t)}, {Addr: backend(t, "c")}})
	addr := serve(t, &Proxy{Log: quietLog()}, b)
	count := map[string]int{}
	for range 12 {
		count[call(t, addr)]++
	}
	if count["a"] != 6 || count["c"] != 6 {
		t.Fatalf("12 connections went %v; want 6 to a and 6 to c", count)
	}
}

func TestProxyClientIPAffinity(t *testing.T) {
	b := NewBalancer(time.Now, time.Hour)
	b.SetEndpoints([]Endpoint{{Addr: backend(t, "a")}, {Addr: backend(t, "b")}, {Addr: backend(t, "c")}})
	addr := serve(t, &Proxy{Log: quietLog()}, b)
	first := call(t, addr)
	for range 5 {
		if got := call(t, addr); got != first {
			t.Fatalf("a client with affinity went to %s, then %s", first, got)
		}
	}
}

// A frontend with no endpoints ends its connections; Sync moves and drops
// frontends.
func TestProxySyncAndNoEndpoints(t *testing.T) {
	p := &Proxy{Log: quietLog()}
	b := NewBalancer(time.Now, 0)
	addr := serve(t, p, b)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("a connection to a service without endpoints got data")
	}
	c.Close()
	if err := p.Sync(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Addr("default/web:80"); ok {
		t.Fatal("a dropped frontend still has an address")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("a dropped frontend still accepts")
	}
}

// tunnelTLS is a server and a client config from one test CA.
func tunnelTLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	ca, err := pki.NewCA("test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	issue := func(name string) tls.Certificate {
		key, cert, err := ca.Issue(pki.CertRequest{CommonName: name, Organization: pki.OrgPeers, IPs: []net.IP{net.ParseIP("127.0.0.1")}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return pki.TLSCertificate(cert, key, ca.Cert)
	}
	server = &tls.Config{Certificates: []tls.Certificate{issue("p2")}, ClientCAs: ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13}
	client = &tls.Config{Certificates: []tls.Certificate{issue("p1")}, RootCAs: ca.Pool(), MinVersion: tls.VersionTLS13}
	return server, client
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func startTunnel(t testing.TB, allowed string) (addr string, accepted *countingListener, client *tls.Config) {
	t.Helper()
	server, client := tunnelTLS(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := &TunnelServer{TLS: server, Allowed: []netip.Prefix{netip.MustParsePrefix(allowed)}, Log: quietLog()}
	go func() { _ = s.Serve(ctx, cl) }()
	return l.Addr().String(), cl, client
}

// Pods on another peer are reached through its tunnel: many connections
// share one mutual-TLS connection, and an unreachable pod is passed over.
func TestProxyThroughTheTunnel(t *testing.T) {
	tunnel, accepted, client := startTunnel(t, "127.0.0.0/8")
	d := &TunnelDialer{TLS: client}
	t.Cleanup(d.Close)
	b := NewBalancer(time.Now, 0)
	b.SetEndpoints([]Endpoint{
		{Addr: backend(t, "remote-a"), Tunnel: tunnel},
		{Addr: closedPort(t), Tunnel: tunnel},
		{Addr: backend(t, "local-b")},
	})
	addr := serve(t, &Proxy{Tunnel: d, Log: quietLog()}, b)
	count := map[string]int{}
	for range 20 {
		count[call(t, addr)]++
	}
	if count["remote-a"] != 10 || count["local-b"] != 10 {
		t.Fatalf("20 connections went %v; want 10 through the tunnel and 10 direct", count)
	}
	if n := accepted.n.Load(); n != 1 {
		t.Fatalf("the tunnel accepted %d connections for 20 service connections; want 1", n)
	}
}

// A tunnel dials only the addresses its peer serves, for TCP and UDP.
func TestTunnelRefusesTargetsOutsideItsPrefixes(t *testing.T) {
	tunnel, _, client := startTunnel(t, "10.32.0.0/24")
	d := &TunnelDialer{TLS: client}
	t.Cleanup(d.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := d.Dial(ctx, tunnel, backend(t, "loopback"))
	if !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), "not an address this peer serves") {
		t.Fatalf("a target outside the prefix: %v", err)
	}
	// So does a UDP flow.
	_, err = d.DialUDP(ctx, tunnel, udpEcho(t, "loopback"))
	if !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), "not an address this peer serves") {
		t.Fatalf("a UDP target outside the prefix: %v", err)
	}
	// A client without a certificate from the cluster CA gets no tunnel.
	bad := client.Clone()
	bad.Certificates = nil
	d2 := &TunnelDialer{TLS: bad}
	t.Cleanup(d2.Close)
	if _, err := d2.Dial(ctx, tunnel, "10.32.0.5:80"); err == nil {
		t.Fatal("a client without a certificate opened a tunnel stream")
	}
}

// Apply serves what Routes plans and keeps a route's balancer across
// endpoint changes.
func TestProxyApplyRoutes(t *testing.T) {
	p := &Proxy{Log: quietLog()}
	t.Cleanup(p.Close)
	a, b := backend(t, "a"), backend(t, "b")
	route := Route{Name: "default/web:80", Listen: "127.0.0.1:0", Endpoints: []Endpoint{{Addr: a}}}
	if err := p.Apply(context.Background(), []Route{route}); err != nil {
		t.Fatal(err)
	}
	addr, _ := p.Addr("default/web:80")
	if got := call(t, addr); got != "a" {
		t.Fatalf("went to %s, want a", got)
	}
	// RoutesTo says which routes still send connections to a pod's address.
	db := Route{Name: "default/db:5432", Listen: "127.0.0.1:0", Endpoints: []Endpoint{{Addr: "10.9.0.7:5432", Tunnel: "10.0.0.2:7949"}}}
	if err := p.Apply(context.Background(), []Route{route, db}); err != nil {
		t.Fatal(err)
	}
	if got := p.RoutesTo("10.9.0.7"); len(got) != 1 || got[0] != "default/db:5432" {
		t.Fatalf("RoutesTo(10.9.0.7) = %v, want [default/db:5432]", got)
	}
	route.Endpoints = []Endpoint{{Addr: b}}
	db.Endpoints = nil
	if err := p.Apply(context.Background(), []Route{route, db}); err != nil {
		t.Fatal(err)
	}
	if got := p.RoutesTo("10.9.0.7"); got != nil {
		t.Fatalf("RoutesTo(10.9.0.7) = %v after its endpoint left", got)
	}
	if again, _ := p.Addr("default/web:80"); again != addr {
		t.Fatalf("the listener moved from %s to %s on an endpoint change", addr, again)
	}
	if got := call(t, addr); got != "b" {
		t.Fatalf("after the change went to %s, want b", got)
	}
	if err := p.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Addr("default/web:80"); ok {
		t.Fatal("a route that is gone is still served")
	}
}

// A tunnel refuses the addresses in its prefix that are not pods'.
func TestTunnelRefusesDeniedAddresses(t *testing.T) {
	server, client := tunnelTLS(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	gateway := backend(t, "gateway")
	host, _, _ := net.SplitHostPort(gateway)
	s := &TunnelServer{TLS: server, Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Denied: []netip.Addr{netip.MustParseAddr(host)}, Log: quietLog()}
	go func() { _ = s.Serve(ctx, l) }()
	d := &TunnelDialer{TLS: client}
	t.Cleanup(d.Close)
	dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
	defer dcancel()
	if _, err := d.Dial(dctx, l.Addr().String(), gateway); err == nil || !strings.Contains(err.Error(), "not a pod's address") {
		t.Fatalf("dial a denied address: %v", err)
	}
}
