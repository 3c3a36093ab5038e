package netproxy

import (
	"bufio"
	"container/list"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// UDP service ports, as kube-proxy's userspace mode served them: a
// frontend's socket receives every client's datagrams; each client
// address (IP and port) gets a session, which the balancer gives an
// endpoint when it starts (ClientIP affinity holds across a client's
// ports), with a connected socket of its own to a local pod or a UDP
// flow through the tunnel to a remote one. The pod's answers go back to
// the client from the frontend's address.
//
// A session ends when no datagram has passed either way for the idle
// timeout (Proxy.UDPIdleTimeout; default 30 s, conntrack's UDP timeout,
// which is what a Kubernetes user of the iptables or IPVS proxy gets;
// kube-proxy's userspace mode used 250 ms, which loses the answer of a
// DNS server slower than that), when its endpoint leaves the route, when
// the endpoint refuses (ICMP port unreachable) or the tunnel flow ends,
// and when the frontend stops. The next datagram from that client starts
// a new session. A frontend holds at most Proxy.MaxUDPSessions (default
// 1024): a new client beyond that takes the place of the least recently
// active one, as a DNS client that uses a new port per query would
// otherwise fill the table with finished sessions.
//
// Datagrams are never queued for long: a session keeps up to
// udpQueueLen of its client's datagrams while it connects (a tunnel
// flow's first round trip) and drops more, as a full socket buffer does.
// Once a session to a local pod is connected the frontend writes to its
// socket itself; a tunnel flow's datagrams go through the queue to the
// session's writer, so that a stream waiting for its window stalls only
// its own client.

const (
	defaultUDPIdleTimeout = 30 * time.Second
	defaultMaxUDPSessions = 1024
	udpQueueLen           = 64
	// maxDatagram is the largest UDP payload (over IPv4); each session's
	// reader holds a buffer this big.
	maxDatagram = 65507
)

// udpFrontend serves one UDP frontend: its socket and its sessions.
type udpFrontend struct {
	pc   *net.UDPConn
	now  func() time.Time
	idle time.Duration
	max  int

	mu        sync.Mutex
	sessions  map[netip.AddrPort]*udpSession
	lru       *list.List        // of *udpSession, most recently active first
	balancer  *Balancer         // picks new sessions' endpoints
	endpoints map[Endpoint]bool // the balancer's endpoints
	closed    bool
}

// udpSession is one client address's flow to its endpoint.
type udpSession struct {
	client netip.AddrPort
	in     chan []byte   // the client's datagrams, to the endpoint
	done   chan struct{} // closed when the session ends
	// direct is the socket to a local endpoint once connected: the
	// frontend writes to it itself, without a hop through in.
	direct atomic.Pointer[net.UDPConn]
	// Under udpFrontend.mu:
	last time.Time // the last datagram either way
	elem *list.Element
	ep   Endpoint // once connected
}

func newUDPFrontend(pc *net.UDPConn, now func() time.Time, idle time.Duration, maxSessions int, b *Balancer) *udpFrontend {
	if idle <= 0 {
		idle = defaultUDPIdleTimeout
	}
	if maxSessions <= 0 {
		maxSessions = defaultMaxUDPSessions
	}
	u := &udpFrontend{pc: pc, now: now, idle: idle, max: maxSessions, sessions: map[netip.AddrPort]*udpSession{}, lru: list.New()}
	u.setBalancer(b)
	return u
}

// setBalancer hands new sessions to b and ends the sessions whose
// endpoint is no longer among b's, as kube-proxy clears a removed UDP
// endpoint's conntrack entries: a client that never pauses would
// otherwise go on sending to a deleted pod.
func (u *udpFrontend) setBalancer(b *Balancer) {
	eps := b.Endpoints()
	u.mu.Lock()
	defer u.mu.Unlock()
	u.balancer = b
	u.endpoints = map[Endpoint]bool{}
	for _, e := range eps {
		u.endpoints[e] = true
	}
	for _, s := range u.sessions {
		if s.ep != (Endpoint{}) && !u.endpoints[s.ep] {
			u.endLocked(s)
		}
	}
}

// session returns from's session, marking it active, or starts one: the
// least recently active session makes room when the frontend is full.
// start runs a new session with the balancer that is to pick its
// endpoint; start must not block. session reports nil once the frontend
// is closed.
func (u *udpFrontend) session(from netip.AddrPort, start func(*udpSession, *Balancer)) *udpSession {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return nil
	}
	now := u.now()
	if s, ok := u.sessions[from]; ok {
		if now.Sub(s.last) < u.idle {
			s.last = now
			u.lru.MoveToFront(s.elem)
			return s
		}
		u.endLocked(s) // idle, and its expiry has not run yet
	}
	for len(u.sessions) >= u.max {
		u.endLocked(u.lru.Back().Value.(*udpSession))
	}
	s := &udpSession{client: from, in: make(chan []byte, udpQueueLen), done: make(chan struct{}), last: now}
	s.elem = u.lru.PushFront(s)
	u.sessions[from] = s
	start(s, u.balancer)
	return s
}

// connected records s's endpoint; false when s has ended meanwhile or
// its endpoint left the route while it connected.
func (u *udpFrontend) connected(s *udpSession, ep Endpoint) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.sessions[s.client] != s {
		return false
	}
	if !u.endpoints[ep] {
		u.endLocked(s)
		return false
	}
	s.ep = ep
	return true
}

// touch marks s active (an answer passed).
func (u *udpFrontend) touch(s *udpSession) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.sessions[s.client] == s {
		s.last = u.now()
		u.lru.MoveToFront(s.elem)
	}
}

// expire ends the sessions idle for the timeout.
func (u *udpFrontend) expire() {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.now()
	for e := u.lru.Back(); e != nil; {
		s := e.Value.(*udpSession)
		if now.Sub(s.last) < u.idle {
			return // the rest are more recent
		}
		e = e.Prev()
		u.endLocked(s)
	}
}

func (u *udpFrontend) end(s *udpSession) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.endLocked(s)
}

func (u *udpFrontend) endLocked(s *udpSession) {
	if u.sessions[s.client] != s {
		return // ended already
	}
	delete(u.sessions, s.client)
	u.lru.Remove(s.elem)
	close(s.done)
}

// close stops the frontend and ends every session.
func (u *udpFrontend) close() {
	u.pc.Close()
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closed = true
	for _, s := range u.sessions {
		u.endLocked(s)
	}
}

// count is the number of sessions.
func (u *udpFrontend) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.sessions)
}

// serveUDP reads the frontend's datagrams and hands each to its client's
// session, until the frontend closes.
func (p *Proxy) serveUDP(ctx context.Context, ln *listener) {
	u := ln.udp
	go p.expireUDP(ctx, u)
	buf := make([]byte, maxDatagram)
	backoff := 5 * time.Millisecond
	for {
		n, from, err := u.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			p.Log.Debug("proxy read", "frontend", ln.fe.Name, "err", err)
			if !pause(ctx, &backoff) {
				return
			}
			continue
		}
		backoff = 5 * time.Millisecond
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		s := u.session(from, func(s *udpSession, b *Balancer) {
			go p.runUDPSession(ctx, u, s, b)
		})
		if s == nil {
			return
		}
		if uc := s.direct.Load(); uc != nil && len(s.in) == 0 {
			_, _ = uc.Write(buf[:n]) // an error ends the session, and it is noticed there
			continue
		}
		select {
		case s.in <- append([]byte(nil), buf[:n]...):
		default: // the session is still connecting and its queue is full
		}
	}
}

// expireUDP ends idle sessions until ctx ends. It ticks a quarter of the
// idle timeout (between 10 ms and 1 s); what is idle is decided by the
// proxy's clock.
func (p *Proxy) expireUDP(ctx context.Context, u *udpFrontend) {
	t := time.NewTicker(min(max(u.idle/4, 10*time.Millisecond), time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			u.expire()
		}
	}
}

// runUDPSession connects s to an endpoint and relays its datagrams both
// ways until the session ends.
func (p *Proxy) runUDPSession(ctx context.Context, u *udpFrontend, s *udpSession, b *Balancer) {
	defer u.end(s)
	up, ep, ok := p.connect(ctx, s.client.Addr().String(), b, p.dialUDP)
	if !ok {
		return // the client's datagrams are dropped; its next one tries again
	}
	defer up.Close()
	if !u.connected(s, ep) {
		return
	}
	if uc, ok := up.(*net.UDPConn); ok {
		// A local pod: the frontend writes from now on (a UDP socket
		// takes concurrent writes); what it queued meanwhile goes below.
		s.direct.Store(uc)
	}
	go func() {
		defer u.end(s)
		buf := make([]byte, maxDatagram)
		for {
			n, err := up.Read(buf)
			if err != nil {
				return // closed, refused (ICMP), or the tunnel flow ended
			}
			u.touch(s)
			if _, err := u.pc.WriteToUDPAddrPort(buf[:n], s.client); err != nil && errors.Is(err, net.ErrClosed) {
				return
			}
		}
	}()
	for {
		select {
		case d := <-s.in:
			if _, err := up.Write(d); err != nil {
				p.Log.Debug("proxy send", "endpoint", ep.Addr, "via", ep.Tunnel, "err", err)
				return
			}
		case <-s.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// dialUDP opens a flow to ep: a connected UDP socket to a local pod, a
// UDP stream through the tunnel to a remote one.
func (p *Proxy) dialUDP(ctx context.Context, ep Endpoint) (net.Conn, error) {
	if ep.Local() {
		var d net.Dialer
		return d.DialContext(ctx, "udp", ep.Addr)
	}
	if p.Tunnel == nil {
		return nil, fmt.Errorf("endpoint %s is on another peer and this proxy has no tunnel", ep.Addr)
	}
	return p.Tunnel.DialUDP(ctx, ep.Tunnel, ep.Addr)
}

// datagramStream carries datagrams over a tunnel stream, each framed as a
// 2-byte big-endian length and its bytes: Write sends one datagram, Read
// returns one, cut to the buffer as a UDP socket's read is. One reader
// and one writer may use it at once.
type datagramStream struct {
	net.Conn               // the stream: writes, deadlines, Close
	r        *bufio.Reader // reads, holding bytes read past the header
	rhdr     [2]byte
	wbuf     []byte
}

func (d *datagramStream) Read(b []byte) (int, error) {
	if _, err := io.ReadFull(d.r, d.rhdr[:]); err != nil {
		return 0, err
	}
	n := int(binary.BigEndian.Uint16(d.rhdr[:]))
	if n <= len(b) {
		return io.ReadFull(d.r, b[:n])
	}
	if _, err := io.ReadFull(d.r, b); err != nil {
		return 0, err
	}
	if _, err := d.r.Discard(n - len(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (d *datagramStream) Write(b []byte) (int, error) {
	if len(b) > 0xffff {
		return 0, fmt.Errorf("tunnel: a %d-byte datagram: too long", len(b))
	}
	d.wbuf = binary.BigEndian.AppendUint16(d.wbuf[:0], uint16(len(b)))
	d.wbuf = append(d.wbuf, b...)
	if _, err := d.Conn.Write(d.wbuf); err != nil {
		return 0, err
	}
	return len(b), nil
}

// relayDatagrams copies datagrams both ways between two datagram conns
// (a UDP socket, a datagramStream) until either fails or ends, then
// closes both.
func relayDatagrams(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		buf := make([]byte, maxDatagram)
		for {
			n, err := src.Read(buf)
			if err != nil {
				break
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				break
			}
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	a.Close()
	b.Close()
	<-done
}
