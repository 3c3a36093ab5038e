package gossip

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// MemNetwork is an in-memory network for gossip: members started with
// Config.Network set to the same MemNetwork reach each other through it,
// in one process, without opening sockets. Tests and hollow peers use it.
//
// It plays the role of memberlist.MockNetwork but behaves like a real
// network where MockNetwork cannot: packets to a member that is gone or
// whose queue is full are dropped like UDP datagrams (MockNetwork blocks
// the sender forever), and it is safe for concurrent use (MockNetwork's
// maps are not locked).
//
// Each member gets an address of its own in 198.18.0.0/15 (reserved for
// benchmarks, never routed), port 7946. A member started again under the
// same name gets its previous address back, as a rebooted machine would,
// unless Config.BindAddr names a specific IP.
//
// The zero value is ready to use. All methods are safe for concurrent use.
type MemNetwork struct {
	mu       sync.Mutex
	byAddr   map[string]*memTransport
	lastAddr map[string]string // member name -> the address it last had
	cut      map[string]bool   // addresses whose traffic is dropped
	next     int               // last host number handed out
}

// NewMemNetwork returns an empty in-memory network.
func NewMemNetwork() *MemNetwork { return &MemNetwork{} }

// memPacketQueue and memStreamQueue are the per-member receive queues.
// A full packet queue drops, as a full UDP socket buffer does.
const (
	memPacketQueue = 1024
	memStreamQueue = 64
)

// attach creates the transport for member name. bindAddr, if a specific
// IP, is used with bindPort (or DefaultPort).
func (n *MemNetwork) attach(name, bindAddr string, bindPort int) (*memTransport, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.byAddr == nil {
		n.byAddr = make(map[string]*memTransport)
		n.lastAddr = make(map[string]string)
		n.cut = make(map[string]bool)
	}
	for _, t := range n.byAddr {
		if t.name == name {
			return nil, fmt.Errorf("memory network: member %q is already attached at %s: %w", name, t.addr, errdefs.ErrAlreadyExists)
		}
	}
	var addr string
	if ip := net.ParseIP(bindAddr); ip != nil && !ip.IsUnspecified() {
		if bindPort == 0 {
			bindPort = DefaultPort
		}
		addr = net.JoinHostPort(ip.String(), strconv.Itoa(bindPort))
	} else if prev, ok := n.lastAddr[name]; ok && n.byAddr[prev] == nil {
		addr = prev
	} else {
		for {
			n.next++
			if n.next >= 1<<17-1 {
				return nil, fmt.Errorf("memory network: out of addresses: %w", errdefs.ErrUnavailable)
			}
			ip := net.IPv4(198, 18+byte(n.next>>16), byte(n.next>>8), byte(n.next))
			addr = net.JoinHostPort(ip.String(), strconv.Itoa(DefaultPort))
			if n.byAddr[addr] == nil {
				break
			}
		}
	}
	if t := n.byAddr[addr]; t != nil {
		return nil, fmt.Errorf("memory network: address %s is in use by %q: %w", addr, t.name, errdefs.ErrConflict)
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	t := &memTransport{
		net:      n,
		name:     name,
		addr:     memAddr(addr),
		ip:       net.ParseIP(host),
		port:     p,
		packetCh: make(chan *memberlist.Packet, memPacketQueue),
		streamCh: make(chan net.Conn, memStreamQueue),
		done:     make(chan struct{}),
	}
	n.byAddr[addr] = t
	n.lastAddr[name] = addr
	return t, nil
}

// detach removes t from the network if it is still attached.
func (n *MemNetwork) detach(t *memTransport) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.byAddr[string(t.addr)] == t {
		delete(n.byAddr, string(t.addr))
	}
}

// route returns the transport at addr, or nil when there is none or the
// traffic between from and addr is cut.
func (n *MemNetwork) route(from memAddr, addr string) *memTransport {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cut[string(from)] || n.cut[addr] {
		return nil
	}
	return n.byAddr[addr]
}

// Disconnect cuts the member named name off the network without stopping
// it, like pulling its cable: everything it sends and everything sent to
// it is lost, and connections to or from it are refused. The others
// declare it failed; it declares them failed. Reconnect undoes it. It
// reports whether such a member is attached.
func (n *MemNetwork) Disconnect(name string) bool { return n.setCut(name, true) }

// Reconnect undoes Disconnect. It reports whether such a member is attached.
func (n *MemNetwork) Reconnect(name string) bool { return n.setCut(name, false) }

func (n *MemNetwork) setCut(name string, cut bool) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	addr, ok := n.lastAddr[name]
	if !ok || n.byAddr[addr] == nil {
		return false
	}
	if cut {
		n.cut[addr] = true
	} else {
		delete(n.cut, addr)
	}
	return true
}

// Members returns the names of the members attached to the network.
func (n *MemNetwork) Members() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	names := make([]string, 0, len(n.byAddr))
	for _, t := range n.byAddr {
		names = append(names, t.name)
	}
	return names
}

// memAddr is an address on a MemNetwork, "ip:port".
type memAddr string

func (a memAddr) Network() string { return "mem" }
func (a memAddr) String() string  { return string(a) }

// memTransport is one member's memberlist transport on a MemNetwork.
type memTransport struct {
	net      *MemNetwork
	name     string
	addr     memAddr
	ip       net.IP
	port     int
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	done     chan struct{}
	stop     sync.Once
}

var _ memberlist.NodeAwareTransport = (*memTransport)(nil)

// FinalAdvertiseAddr returns the address the network assigned; the
// configured advertise address is ignored.
func (t *memTransport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	return t.ip, t.port, nil
}

func (t *memTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress delivers a copy of b to the member at a.Addr, or drops
// it when there is none, it is cut off or its queue is full: datagrams
// are not reliable, and a sender never blocks.
func (t *memTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	now := time.Now()
	dest := t.net.route(t.addr, a.Addr)
	if dest == nil {
		return now, nil
	}
	p := &memberlist.Packet{Buf: append([]byte(nil), b...), From: t.addr, Timestamp: now}
	select {
	case dest.packetCh <- p:
	case <-dest.done:
	default:
	}
	return now, nil
}

func (t *memTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

func (t *memTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout connects to the member at a.Addr with an in-memory
// pipe. It fails at once when nobody is there (connection refused) and
// after timeout when the member does not accept.
func (t *memTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	dest := t.net.route(t.addr, a.Addr)
	if dest == nil {
		return nil, &net.OpError{Op: "dial", Net: "mem", Addr: memAddr(a.Addr), Err: fmt.Errorf("connection refused")}
	}
	local, remote := net.Pipe()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case dest.streamCh <- &memConn{Conn: remote, local: dest.addr, remote: t.addr}:
		return &memConn{Conn: local, local: t.addr, remote: dest.addr}, nil
	case <-dest.done:
	case <-timer.C:
	}
	_ = local.Close()
	_ = remote.Close()
	return nil, &net.OpError{Op: "dial", Net: "mem", Addr: memAddr(a.Addr), Err: fmt.Errorf("i/o timeout")}
}

func (t *memTransport) StreamCh() <-chan net.Conn { return t.streamCh }

// Shutdown detaches the transport: from now on the member is unreachable,
// as a crashed process is. Connections queued but not yet accepted are
// closed. Idempotent.
func (t *memTransport) Shutdown() error {
	t.stop.Do(func() {
		t.net.detach(t)
		close(t.done)
		for {
			select {
			case c := <-t.streamCh:
				_ = c.Close()
			default:
				return
			}
		}
	})
	return nil
}

// memConn is one end of an in-memory stream with the members' addresses.
type memConn struct {
	net.Conn
	local, remote memAddr
}

func (c *memConn) LocalAddr() net.Addr  { return c.local }
func (c *memConn) RemoteAddr() net.Addr { return c.remote }
