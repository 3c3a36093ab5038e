package netproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/yamux"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// The tunnel protocol, on a yamux stream: the dialing side writes the
// target as a uvarint length and the bytes, "IP:port" for a TCP
// connection and "udp/IP:port" for a UDP flow; the serving side checks
// and dials it and answers one byte, tunnelOK, or tunnelRefused followed
// by a uvarint-length reason, and closes. After tunnelOK a TCP stream
// carries the connection's bytes both ways; a UDP stream carries
// datagrams both ways, each as a 2-byte big-endian length and its bytes,
// until either side closes (the dialing side does when its flow is idle).
const (
	tunnelOK      = 0
	tunnelRefused = 1

	maxTargetLen = 64
	udpTarget    = "udp/" // the prefix of a UDP flow's target
)

// TunnelServer accepts tunnel connections from other peers (mutual TLS
// with the cluster CA, which the caller's tls.Config requires) and connects
// their streams to local targets inside Allowed.
type TunnelServer struct {
	TLS     *tls.Config
	Allowed []netip.Prefix // the addresses this peer serves: its pod CIDR
	// Denied are addresses inside Allowed that are not pods: the bridge's
	// gateway (the host itself), the network and broadcast addresses.
	Denied []netip.Addr
	Log    *slog.Logger
	// DialTimeout bounds the connect to a target (default 3 s).
	DialTimeout time.Duration
}

// Serve accepts on l until ctx ends or l fails.
func (s *TunnelServer) Serve(ctx context.Context, l net.Listener) error {
	tl := tls.NewListener(l, s.TLS)
	go func() {
		<-ctx.Done()
		tl.Close()
	}()
	for {
		c, err := tl.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go s.serveConn(ctx, c)
	}
}

func (s *TunnelServer) serveConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	if tc, ok := c.(*tls.Conn); ok {
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			s.Log.Debug("tunnel handshake", "from", c.RemoteAddr(), "err", err)
			return
		}
	}
	sess, err := yamux.Server(c, yamuxConfig())
	if err != nil {
		return
	}
	defer sess.Close()
	defer context.AfterFunc(ctx, func() { sess.Close() })()
	for {
		st, err := sess.Accept()
		if err != nil {
			return
		}
		go s.serveStream(st)
	}
}

func (s *TunnelServer) serveStream(st net.Conn) {
	defer st.Close()
	br := bufio.NewReader(st)
	target, network, err := readTarget(br)
	if err != nil {
		return
	}
	if err := s.allowed(target); err != nil {
		writeRefusal(st, err)
		return
	}
	timeout := s.DialTimeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	up, err := net.DialTimeout(network, target.String(), timeout)
	if err != nil {
		writeRefusal(st, err)
		return
	}
	defer up.Close()
	if _, err := st.Write([]byte{tunnelOK}); err != nil {
		return
	}
	// Bytes the dialer sent after the header are in br's buffer.
	if network == "udp" {
		relayDatagrams(up, &datagramStream{Conn: st, r: br})
		return
	}
	pipe(up, &bufferedConn{Conn: st, r: br})
}

func (s *TunnelServer) allowed(target netip.AddrPort) error {
	if slices.Contains(s.Denied, target.Addr()) {
		return fmt.Errorf("tunnel: %s is not a pod's address: %w", target, errdefs.ErrForbidden)
	}
	for _, p := range s.Allowed {
		if p.Contains(target.Addr()) {
			return nil
		}
	}
	return fmt.Errorf("tunnel: %s is not an address this peer serves: %w", target, errdefs.ErrForbidden)
}

// readTarget reads a stream's header: the target and its network, "tcp"
// or "udp".
func readTarget(r *bufio.Reader) (netip.AddrPort, string, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil || n == 0 || n > maxTargetLen {
		return netip.AddrPort{}, "", fmt.Errorf("tunnel: bad target header: %w", errdefs.ErrInvalid)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return netip.AddrPort{}, "", err
	}
	target, network := string(b), "tcp"
	if rest, ok := strings.CutPrefix(target, udpTarget); ok {
		target, network = rest, "udp"
	}
	ap, err := netip.ParseAddrPort(target)
	return ap, network, err
}

func writeRefusal(w io.Writer, err error) {
	msg := err.Error()
	b := append([]byte{tunnelRefused}, binary.AppendUvarint(nil, uint64(len(msg)))...)
	_, _ = w.Write(append(b, msg...))
}

// TunnelDialer reaches pods on other peers through their tunnel servers,
// keeping one multiplexed connection per peer. Safe for concurrent use.
type TunnelDialer struct {
	TLS *tls.Config // client side: the peer certificate and the cluster CA

	mu       sync.Mutex
	sessions map[string]*yamux.Session // by tunnel address
}

// Dial opens a stream through the tunnel at tunnelAddr to target (a pod's
// IP:port) and returns it once the far side has connected. An error means
// no connection was made: the caller may try another endpoint.
func (d *TunnelDialer) Dial(ctx context.Context, tunnelAddr, target string) (net.Conn, error) {
	st, err := d.open(ctx, tunnelAddr, target)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// DialUDP opens a UDP flow through the tunnel at tunnelAddr to target (a
// pod's IP:port): the far side sends each datagram written to the
// returned conn from one UDP socket of its own, and each Read returns one
// datagram the pod answered (cut to the buffer, as a UDP socket's read).
// The flow lasts until the conn is closed. An error means the far side
// refused or could not be reached: the caller may try another endpoint.
func (d *TunnelDialer) DialUDP(ctx context.Context, tunnelAddr, target string) (net.Conn, error) {
	st, err := d.open(ctx, tunnelAddr, udpTarget+target)
	if err != nil {
		return nil, err
	}
	return &datagramStream{Conn: st.Conn, r: st.r}, nil
}

// open opens a stream whose header names target, and reads the answer.
func (d *TunnelDialer) open(ctx context.Context, tunnelAddr, target string) (*bufferedConn, error) {
	if len(target) > maxTargetLen {
		return nil, fmt.Errorf("tunnel: target %q: %w", target, errdefs.ErrInvalid)
	}
	sess, err := d.session(ctx, tunnelAddr)
	if err != nil {
		return nil, err
	}
	st, err := sess.Open()
	if err != nil {
		d.drop(tunnelAddr, sess)
		return nil, fmt.Errorf("tunnel %s: %v: %w", tunnelAddr, err, errdefs.ErrUnavailable)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(dl)
	}
	hdr := binary.AppendUvarint(nil, uint64(len(target)))
	if _, err := st.Write(append(hdr, target...)); err != nil {
		st.Close()
		return nil, fmt.Errorf("tunnel %s: %v: %w", tunnelAddr, err, errdefs.ErrUnavailable)
	}
	br := bufio.NewReader(st)
	status, err := br.ReadByte()
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("tunnel %s: %v: %w", tunnelAddr, err, errdefs.ErrUnavailable)
	}
	if status != tunnelOK {
		n, _ := binary.ReadUvarint(br)
		msg := make([]byte, min(n, 1024))
		_, _ = io.ReadFull(br, msg)
		st.Close()
		return nil, fmt.Errorf("tunnel %s to %s: %s: %w", tunnelAddr, strings.TrimPrefix(target, udpTarget), msg, errdefs.ErrUnavailable)
	}
	_ = st.SetDeadline(time.Time{})
	return &bufferedConn{Conn: st, r: br}, nil
}

// session returns the open session to addr, or dials one. The dial runs
// without the lock, so an unreachable peer delays only the connections
// going to it; when two dials race, the first stored wins and the other
// closes.
func (d *TunnelDialer) session(ctx context.Context, addr string) (*yamux.Session, error) {
	d.mu.Lock()
	if s, ok := d.sessions[addr]; ok && !s.IsClosed() {
		d.mu.Unlock()
		return s, nil
	}
	d.mu.Unlock()
	dialer := tls.Dialer{Config: d.TLS}
	c, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tunnel %s: %v: %w", addr, err, errdefs.ErrUnavailable)
	}
	s, err := yamux.Client(c, yamuxConfig())
	if err != nil {
		c.Close()
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if cur, ok := d.sessions[addr]; ok && !cur.IsClosed() {
		s.Close()
		return cur, nil
	}
	if d.sessions == nil {
		d.sessions = map[string]*yamux.Session{}
	}
	d.sessions[addr] = s
	return s, nil
}

func (d *TunnelDialer) drop(addr string, s *yamux.Session) {
	d.mu.Lock()
	if d.sessions[addr] == s {
		delete(d.sessions, addr)
	}
	d.mu.Unlock()
	s.Close()
}

// Close ends every tunnel connection.
func (d *TunnelDialer) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for addr, s := range d.sessions {
		s.Close()
		delete(d.sessions, addr)
	}
}

func yamuxConfig() *yamux.Config {
	c := yamux.DefaultConfig()
	c.LogOutput = io.Discard
	c.EnableKeepAlive = true
	c.KeepAliveInterval = 10 * time.Second
	c.MaxStreamWindowSize = 4 << 20 // the default 256 KiB window caps a stream at a window per round trip
	return c
}

// bufferedConn reads through a bufio.Reader that may hold bytes already
// read from the connection.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// CloseWrite half-closes: a yamux stream's Close sends its end of stream
// and still reads what the other side sends until that side closes.
func (c *bufferedConn) CloseWrite() error { return closeWrite(c.Conn) }
