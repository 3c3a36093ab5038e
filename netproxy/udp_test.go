package netproxy

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
)

// udpEcho stands in for a UDP pod on loopback: it answers each datagram
// with its name, a space, and the datagram.
func udpEcho(t testing.TB, name string) string {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, maxDatagram)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteToUDPAddrPort(append([]byte(name+" "), buf[:n]...), from)
		}
	}()
	return pc.LocalAddr().String()
}

// closedUDPPort is a loopback UDP address nothing listens on.
func closedUDPPort(t testing.TB) string {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// udpClient is a client socket (one client address) on loopback.
func udpClient(t testing.TB, to string) *net.UDPConn {
	t.Helper()
	c, err := net.Dial("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.UDPConn)
}

// ask sends msg from c until an answer comes back (a datagram may be
// lost: to an endpoint that refused it, or while a session starts) and
// returns the name of the echo server that answered.
func ask(t *testing.T, c *net.UDPConn, msg string) string {
	t.Helper()
	buf := make([]byte, maxDatagram)
	for range 20 {
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		n, err := c.Read(buf)
		if err != nil {
			continue // lost, or refused: the client tries again, as UDP clients do
		}
		name, echo, _ := strings.Cut(string(buf[:n]), " ")
		if echo != msg {
			t.Fatalf("through %s: %d bytes came back for %d (%.20q...)", c.RemoteAddr(), len(echo), len(msg), echo)
		}
		return name
	}
	t.Fatalf("no answer through %s to %q", c.RemoteAddr(), msg)
	return ""
}

// fakeClock is the proxy's clock in tests: time moves when Advance says.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const udpRoute = "default/dns:53/UDP"

// serveUDPRoute serves one UDP route on loopback and returns its address.
func serveUDPRoute(t testing.TB, p *Proxy, eps []Endpoint, affinity time.Duration) string {
	t.Helper()
	r := Route{Name: udpRoute, Protocol: workload.ProtocolUDP, Listen: "127.0.0.1:0", Endpoints: eps, Affinity: affinity}
	if err := p.Apply(context.Background(), []Route{r}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	addr, _ := p.Addr(udpRoute)
	return addr
}

func (p *Proxy) udpSessions(name string) int {
	p.mu.Lock()
	ln := p.frontends[name]
	p.mu.Unlock()
	return ln.udp.count()
}

// waitSessions polls until the route has n sessions.
func waitSessions(t *testing.T, p *Proxy, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for p.udpSessions(udpRoute) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d UDP sessions, want %d", p.udpSessions(udpRoute), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Each client address is a session, held to one endpoint; new clients
// take turns over the endpoints, and one that refuses (ICMP port
// unreachable) loses its session, so the client's next datagram goes to
// another.
func TestProxyUDPSessionsRoundRobin(t *testing.T) {
	p := &Proxy{Log: quietLog()}
	addr := serveUDPRoute(t, p, []Endpoint{{Addr: udpEcho(t, "a")}, {Addr: closedUDPPort(t)}, {Addr: udpEcho(t, "c")}}, 0)
	count := map[string]int{}
	for range 6 {
		c := udpClient(t, addr)
		first := ask(t, c, "q1")
		for i := range 3 {
			if got := ask(t, c, "q"+strconv.Itoa(i+2)); got != first {
				t.Fatalf("one client address went to %s, then %s", first, got)
			}
		}
		count[first]++
	}
	if count["a"] != 3 || count["c"] != 3 {
		t.Fatalf("6 clients went %v; want 3 to a and 3 to c", count)
	}
	waitSessions(t, p, 6)
}

// A UDP session to a pod on another peer is a stream through the tunnel,
// and the tunnel's streams share its one connection.
func TestProxyUDPThroughTheTunnel(t *testing.T) {
	tunnel, accepted, client := startTunnel(t, "127.0.0.0/8")
	d := &TunnelDialer{TLS: client}
	t.Cleanup(d.Close)
	p := &Proxy{Tunnel: d, Log: quietLog()}
	addr := serveUDPRoute(t, p, []Endpoint{{Addr: udpEcho(t, "remote"), Tunnel: tunnel}, {Addr: udpEcho(t, "local")}}, 0)
	count := map[string]int{}
	for range 10 {
		c := udpClient(t, addr)
		count[ask(t, c, "hello")]++
		// A datagram bigger than any stream frame would be if the length
		// were a byte comes back whole.
		big := strings.Repeat("x", 4000)
		if got := ask(t, c, big); got == "" {
			t.Fatal("no answer to a 4000-byte datagram")
		}
	}
	if count["remote"] != 5 || count["local"] != 5 {
		t.Fatalf("10 clients went %v; want 5 through the tunnel and 5 direct", count)
	}
	if n := accepted.n.Load(); n != 1 {
		t.Fatalf("the tunnel accepted %d connections for 10 UDP sessions; want 1", n)
	}
}

// A session idle for the timeout ends (by the proxy's clock); the
// client's next datagram starts a new one, which the balancer places anew.
func TestProxyUDPIdleExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	p := &Proxy{Log: quietLog(), Now: clock.Now, UDPIdleTimeout: 30 * time.Second}
	addr := serveUDPRoute(t, p, []Endpoint{{Addr: udpEcho(t, "a")}, {Addr: udpEcho(t, "b")}}, 0)
	c := udpClient(t, addr)
	first := ask(t, c, "q")
	clock.Advance(29 * time.Second)
	if got := ask(t, c, "q"); got != first {
		t.Fatalf("within the timeout the client moved from %s to %s", first, got)
	}
	clock.Advance(29 * time.Second) // the datagram above restarted the timer
	waitSessions(t, p, 1)
	clock.Advance(time.Second)
	waitSessions(t, p, 0)
	if got := ask(t, c, "q"); got == first {
		t.Fatalf("after its session expired the client went to %s again; round-robin says the other", got)
	}
	waitSessions(t, p, 1)
}

// With ClientIP affinity every client address of one IP goes to the same
// endpoint.
func TestProxyUDPClientIPAffinity(t *testing.T) {
	p := &Proxy{Log: quietLog()}
	addr := serveUDPRoute(t, p, []Endpoint{{Addr: udpEcho(t, "a")}, {Addr: udpEcho(t, "b")}, {Addr: udpEcho(t, "c")}}, time.Hour)
	first := ask(t, udpClient(t, addr), "q")
	for range 5 {
		if got := ask(t, udpClient(t, addr), "q"); got != first {
			t.Fatalf("a client IP with affinity went to %s, then %s", first, got)
		}
	}
}

// A frontend keeps at most MaxUDPSessions: a new client ends the least
// recently active session.
func TestProxyUDPSessionBound(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	p := &Proxy{Log: quietLog(), Now: clock.Now, MaxUDPSessions: 2}
	addr := serveUDPRoute(t, p, []Endpoint{{Addr: udpEcho(t, "a")}}, 0)
	c1, c2, c3 := udpClient(t, addr), udpClient(t, addr), udpClient(t, addr)
	ask(t, c1, "q")
	clock.Advance(time.Second)
	ask(t, c2, "q")
	clock.Advance(time.Second)
	ask(t, c1, "q") // c1 is now the more recently active
	clock.Advance(time.Second)
	ask(t, c3, "q")
	waitSessions(t, p, 2)
	p.mu.Lock()
	u := p.frontends[udpRoute].udp
	p.mu.Unlock()
	u.mu.Lock()
	_, has1 := u.sessions[c1.LocalAddr().(*net.UDPAddr).AddrPort()]
	_, has2 := u.sessions[c2.LocalAddr().(*net.UDPAddr).AddrPort()]
	u.mu.Unlock()
	if !has1 || has2 {
		t.Fatalf("at the bound the sessions kept c1 %v, c2 %v; want c1's kept and c2's (least recently active) ended", has1, has2)
	}
}

// Apply keeps sessions whose endpoint stays and ends those whose endpoint
// left, so a client that never pauses does not go on sending to a
// deleted pod. A TCP and a UDP route may share a port number (DNS).
func TestProxyApplyUDPRoutes(t *testing.T) {
	p := &Proxy{Log: quietLog()}
	t.Cleanup(p.Close)
	a, b := Endpoint{Addr: udpEcho(t, "a")}, Endpoint{Addr: udpEcho(t, "b")}
	tcp := Route{Name: "default/dns:53", Protocol: workload.ProtocolTCP, Listen: "127.0.0.1:0", Endpoints: []Endpoint{{Addr: backend(t, "tcp")}}}
	if err := p.Apply(context.Background(), []Route{tcp}); err != nil {
		t.Fatal(err)
	}
	tcpAddr, _ := p.Addr(tcp.Name)
	_, port, _ := net.SplitHostPort(tcpAddr)
	tcp.Listen = tcpAddr
	udp := Route{Name: udpRoute, Protocol: workload.ProtocolUDP, Listen: net.JoinHostPort("127.0.0.1", port), Endpoints: []Endpoint{a, b}}
	if err := p.Apply(context.Background(), []Route{tcp, udp}); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.Addr(udpRoute); got != udp.Listen {
		t.Fatalf("the UDP route listens on %s, want %s (the TCP route's port)", got, udp.Listen)
	}
	if got := call(t, tcpAddr); got != "tcp" {
		t.Fatalf("TCP on the shared port went to %s", got)
	}
	ca, cb := udpClient(t, udp.Listen), udpClient(t, udp.Listen)
	if ask(t, ca, "q") != "a" || ask(t, cb, "q") != "b" {
		t.Fatal("two clients did not take turns")
	}
	if got := p.RoutesTo("127.0.0.1"); len(got) != 2 {
		t.Fatalf("RoutesTo(127.0.0.1) = %v, want both routes", got)
	}
	udp.Endpoints = []Endpoint{b}
	if err := p.Apply(context.Background(), []Route{tcp, udp}); err != nil {
		t.Fatal(err)
	}
	waitSessions(t, p, 1)
	if got := ask(t, ca, "q"); got != "b" {
		t.Fatalf("after a left the route, its client went to %s", got)
	}
	if got := ask(t, cb, "q"); got != "b" {
		t.Fatalf("b's client went to %s", got)
	}
	if err := p.Apply(context.Background(), []Route{tcp}); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Addr(udpRoute); ok {
		t.Fatal("a UDP route that is gone is still served")
	}
}

// datagramStream keeps datagram boundaries, an empty datagram included,
// and cuts one longer than the reader's buffer as a UDP socket does.
func TestDatagramStreamFraming(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w, r := &datagramStream{Conn: a}, &datagramStream{Conn: b, r: bufio.NewReader(b)}
	go func() {
		for _, m := range []string{"one", "", "three", "a longer datagram"} {
			if _, err := w.Write([]byte(m)); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 8)
	var got []string
	for range 4 {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(buf[:n]))
	}
	if want := []string{"one", "", "three", "a longer"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("read %q, want %q", got, want)
	}
}
