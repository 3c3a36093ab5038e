package peer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"golang.org/x/net/websocket"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/netproxy"
	"github.com/shoalproject/shoal/workload"
)

// Port-forward: each connection kubectl forwards is dialed to the pod's
// IP and port from the peer that runs the pod. When that is this peer, the
// pod network is here; when it is another, the connection goes through
// that peer's tunnel (netproxy's mutual-TLS tunnel, the one the service
// proxy reaches remote endpoints through), whose far end dials only inside
// its pod CIDR. Nothing leaves the peers' network.

const (
	// podDialTimeout bounds connecting to the pod's port.
	podDialTimeout = 10 * time.Second
	// halfCloseGrace is how long a connection whose one direction has
	// ended waits for the other before it is closed (containerd's CRI
	// waits a second; an answer to a request still on its way gets more).
	halfCloseGrace = 5 * time.Second
	// tunnelProtocol is the WebSocket subprotocol kubectl tunnels SPDY in.
	tunnelProtocol = "SPDY/3.1+" + portforward.ProtocolV1Name
)

func (s podStreams) servePortForward(w http.ResponseWriter, r *http.Request, ns, name, transport string) {
	q := r.URL.Query()
	if err := checkQuery(q, []string{"ports"}); err != nil {
		writeStreamError(w, r, err)
		return
	}
	var ports []int32
	for _, v := range q["ports"] {
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil || n == 0 {
			writeStreamError(w, r, apierrors.NewBadRequest(fmt.Sprintf("ports: %q is not a port (1 to 65535)", v)))
			return
		}
		ports = append(ports, int32(n))
	}
	pod, err := s.p.findPod(r.Context(), ns, name)
	if err != nil {
		writeStreamError(w, r, err)
		return
	}
	switch {
	case pod.Spec.NodeName == "":
		err = apierrors.NewBadRequest(fmt.Sprintf("pod %s is not bound to a node yet", name))
	case pod.Status.PodIP == "":
		err = apierrors.NewBadRequest(fmt.Sprintf("pod %s has no IP address yet", name))
	}
	if err != nil {
		writeStreamError(w, r, err)
		return
	}
	s.count("portforward", transport)
	fwd := podForwarder{p: s.p, pod: pod}
	w = hijackable{w}
	switch {
	case wsstream.IsWebSocketRequestWithTunnelingProtocol(r):
		serveTunneledPortForward(w, r, fwd)
	case wsstream.IsWebSocketRequest(r):
		// The channel protocol names its ports in the URL.
		opts, err := portforward.BuildV4Options(ports)
		if err == nil && len(ports) == 0 {
			err = fmt.Errorf("at least one port must be given in ports")
		}
		if err != nil {
			writeStreamError(w, r, apierrors.NewBadRequest(err.Error()))
			return
		}
		portforward.ServePortForward(w, r, fwd, pod.Name, string(pod.UID), opts, streamIdleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
	default:
		portforward.ServePortForward(w, r, fwd, pod.Name, string(pod.UID), nil, streamIdleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
	}
}

// serveTunneledPortForward serves SPDY inside a WebSocket, as kubectl
// 1.31 and later speak port-forward: the WebSocket's binary messages carry
// the SPDY connection's bytes, with no HTTP upgrade inside. The SPDY side
// is cri-streaming's, handed the WebSocket as the connection it hijacks.
func serveTunneledPortForward(w http.ResponseWriter, r *http.Request, fwd podForwarder) {
	srv := websocket.Server{
		Handshake: func(cfg *websocket.Config, _ *http.Request) error {
			if !slices.Contains(cfg.Protocol, tunnelProtocol) {
				return fmt.Errorf("websocket protocols %v: want %s", cfg.Protocol, tunnelProtocol)
			}
			cfg.Protocol = []string{tunnelProtocol}
			return nil
		},
		Handler: func(ws *websocket.Conn) {
			ws.PayloadType = websocket.BinaryFrame
			defer ws.Close() // with a close message
			portforward.ServePortForward(&tunneledWriter{conn: ws}, spdyRequest(r), fwd, fwd.pod.Name, string(fwd.pod.UID), nil,
				streamIdleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
		},
	}
	srv.ServeHTTP(w, r)
}

// spdyRequest is a WebSocket tunnel's request as the SPDY upgrade it
// stands for.
func spdyRequest(r *http.Request) *http.Request {
	req := r.Clone(r.Context())
	req.Method = http.MethodPost
	req.Body = http.NoBody
	for _, h := range []string{"Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions"} {
		req.Header.Del(h)
	}
	req.Header.Set(httpstream.HeaderConnection, httpstream.HeaderUpgrade)
	req.Header.Set(httpstream.HeaderUpgrade, spdy.HeaderSpdy31)
	req.Header.Set(httpstream.HeaderProtocolVersion, portforward.ProtocolV1Name)
	return req
}

// tunneledWriter is the http.ResponseWriter the SPDY upgrade sees inside
// a WebSocket tunnel: the WebSocket already is the connection, so the
// upgrade's answer goes nowhere and Hijack hands the WebSocket over.
type tunneledWriter struct {
	conn   net.Conn
	header http.Header
}

func (t *tunneledWriter) Header() http.Header {
	if t.header == nil {
		t.header = http.Header{}
	}
	return t.header
}

func (t *tunneledWriter) Write(b []byte) (int, error) { return len(b), nil }

func (t *tunneledWriter) WriteHeader(int) {}

func (t *tunneledWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return t.conn, bufio.NewReadWriter(bufio.NewReader(t.conn), bufio.NewWriter(t.conn)), nil
}

// podForwarder forwards connections to one pod's ports. It is
// cri-streaming's PortForwarder.
type podForwarder struct {
	p   *Peer
	pod workload.Pod
}

var _ portforward.PortForwarder = podForwarder{}

// PortForward implements portforward.PortForwarder: it connects stream
// to the pod's port until both directions end.
func (f podForwarder) PortForward(ctx context.Context, _, _ string, port int32, stream io.ReadWriteCloser) error {
	conn, err := f.p.dialPod(ctx, f.pod, port)
	if err != nil {
		return err
	}
	defer conn.Close()
	splice(ctx, conn, stream)
	return nil
}

// dialPod connects to a pod's port: directly when the pod runs here,
// through its peer's tunnel when it runs elsewhere.
func (p *Peer) dialPod(ctx context.Context, pod workload.Pod, port int32) (net.Conn, error) {
	if pod.Status.PodIP == "" {
		return nil, fmt.Errorf("pod %s has no IP address: %w", pod.Name, errdefs.ErrUnavailable)
	}
	target := net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(int(port)))
	ctx, cancel := context.WithTimeout(ctx, podDialTimeout)
	defer cancel()
	node := pod.Spec.NodeName
	if node == p.cfg.Name {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", target)
	}
	tunnel := ""
	for _, m := range p.gossip.Members() {
		if m.Name == node && m.Status == gossip.StatusAlive {
			tunnel = m.Tags.Tunnel
		}
	}
	if tunnel == "" {
		return nil, fmt.Errorf("node %s serves no tunnel: %w", node, errdefs.ErrUnavailable)
	}
	// The service proxy's dialer keeps one connection per peer; share it.
	if px := p.routing.px.Load(); px != nil && px.Tunnel != nil {
		return px.Tunnel.Dial(ctx, tunnel, target)
	}
	d := &netproxy.TunnelDialer{TLS: p.peerTLS}
	c, err := d.Dial(ctx, tunnel, target)
	if err != nil {
		d.Close()
		return nil, err
	}
	return closingConn{Conn: c, also: d.Close}, nil
}

// closingConn closes something more with the connection.
type closingConn struct {
	net.Conn
	also func()
}

func (c closingConn) Close() error {
	err := c.Conn.Close()
	c.also()
	return err
}

func (c closingConn) CloseWrite() error { return closeWrite(c.Conn) }

// closeWrite half-closes a connection that can, and closes one that
// cannot.
func closeWrite(c io.Closer) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Close()
}

// splice copies between a pod's connection and a forwarded stream. When
// one direction ends, its writing half is closed on the other side (a
// server still answers the request it has read; kubectl sees the pod's
// end), and the other direction gets halfCloseGrace to end too. ctx
// ending closes both.
func splice(ctx context.Context, conn net.Conn, stream io.ReadWriteCloser) {
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(conn, stream)
		_ = closeWrite(conn)
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(stream, conn)
		_ = stream.Close() // a SPDY stream's Close ends only its writing half
		done <- struct{}{}
	}()
	abort := func() {
		conn.Close()
		if r, ok := stream.(interface{ Reset() error }); ok {
			_ = r.Reset() // ends a read that Close leaves waiting
		}
		stream.Close()
	}
	stop := context.AfterFunc(ctx, abort)
	defer stop()
	<-done
	t := time.NewTimer(halfCloseGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		abort()
		<-done
	}
}
