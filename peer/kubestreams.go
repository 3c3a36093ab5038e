package peer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/websocket"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/wsstream"
	utilexec "k8s.io/utils/exec"

	"github.com/shoalproject/shoal/kubeapi"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
)

// kubectl's streams: exec, attach and port-forward upgraded to SPDY or to
// WebSocket, as Kubernetes serves them. The peer kubectl talks to serves
// the upgrade with kubelet's own server side (k8s.io/cri-streaming) and
// reaches the pod from here: through the runtime when the pod runs on this
// peer, else through the peer that runs it, over the channels peers
// already share (Shoal's framed exec for commands, the mutual-TLS tunnel
// for ports), so that peers speak one protocol to each other whatever
// kubectl speaks.
//
//	exec, attach   SPDY/3.1 (channel.k8s.io v1 to v4), and WebSocket:
//	               v5.channel.k8s.io (kubectl's default since 1.30; kubelet's
//	               server stops at v4, so this file serves v5 itself, as
//	               kube-apiserver does), and the older v1 to v4 channel
//	               protocols (cri-streaming's)
//	portforward    SPDY/3.1 (portforward.k8s.io), SPDY tunnelled in
//	               WebSocket (SPDY/3.1+portforward.k8s.io, kubectl's
//	               default since 1.31: portforward.go) and the v4 channel
//	               protocol over WebSocket
//
// What the runtime cannot do is said, not faked: attach is refused (the
// runtime has no way into a running container's stdio), and a terminal's
// resize messages are read and dropped (its Exec has no resize, so a
// command under -t keeps the terminal size it started with, 80x24 for
// containerd).
//
// Errors found before the upgrade (no such pod, a bad parameter) are
// answered as Kubernetes Status; those after it go on the stream's error
// channel, where kubectl reads the exit code too.

const (
	// streamIdleTimeout ends an upgraded stream with no traffic, as
	// kubelet's default does.
	streamIdleTimeout = 4 * time.Hour
	// streamCreationTimeout bounds how long a SPDY client takes to open
	// the streams it asked for.
	streamCreationTimeout = remotecommand.DefaultStreamCreationTimeout
	// statusWriteTimeout bounds writing the final status to a client that
	// no longer reads.
	statusWriteTimeout = 10 * time.Second
)

// Transports, as the pod streams counter labels them.
const (
	transportSPDY      = "spdy"
	transportWebSocket = "websocket"
	transportFramed    = "shoal" // Shoal's own framing: the CLI, and peers relaying
	transportHTTP      = "http"  // a log
)

// podStreams is kubeapi's Streams for this peer.
type podStreams struct {
	p *Peer
	// served counts the streams served, by subresource and transport.
	served *prometheus.CounterVec
}

var _ kubeapi.Streams = podStreams{}

func newPodStreams(p *Peer) podStreams {
	served := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shoal_pod_streams_total",
		Help: "Pod streams this peer served, by subresource (log, exec, attach, portforward) and transport (spdy, websocket, shoal, http).",
	}, []string{"subresource", "transport"})
	if err := p.reg.Register(served); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			served = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	return podStreams{p: p, served: served}
}

// ServePod implements kubeapi.Streams. It runs in the request's handler
// and returns when the stream ends.
func (s podStreams) ServePod(w http.ResponseWriter, r *http.Request, sub, ns, name string) {
	upgrade := httpstream.IsUpgradeRequest(r)
	transport := transportSPDY
	switch {
	case wsstream.IsWebSocketRequest(r):
		transport = transportWebSocket
	case !upgrade && sub == "log":
		transport = transportHTTP
	case !upgrade:
		transport = transportFramed
	}
	switch sub {
	case "log":
		s.count(sub, transport)
		s.p.podLog(w, r, ns, name)
	case "exec":
		if !upgrade {
			if r.Method != http.MethodPost {
				writeStreamError(w, r, apierrors.NewBadRequest("Upgrade request required"))
				return
			}
			s.count(sub, transport)
			s.p.podExec(w, r, ns, name)
			return
		}
		s.serveExec(w, r, ns, name, transport)
	case "attach":
		s.serveAttach(w, r, ns, name)
	case "portforward":
		if !upgrade {
			writeStreamError(w, r, apierrors.NewBadRequest("Upgrade request required"))
			return
		}
		s.servePortForward(w, r, ns, name, transport)
	default:
		writeStreamError(w, r, apierrors.NewNotFound(podsResource, name))
	}
}

func (s podStreams) count(sub, transport string) {
	if s.served != nil {
		s.served.WithLabelValues(sub, transport).Inc()
	}
}

// execQuery is an exec's or attach's parameters (PodExecOptions,
// PodAttachOptions).
type execQuery struct {
	container                  string
	command                    []string
	stdin, stdout, stderr, tty bool
}

// parseExecQuery reads an exec's (sub "exec") or attach's parameters.
func parseExecQuery(q url.Values, sub string) (execQuery, error) {
	allowed := []string{"container", "stdin", "stdout", "stderr", "tty"}
	if sub == "exec" {
		allowed = append(allowed, "command")
	}
	eq := execQuery{container: q.Get("container"), command: q["command"]}
	if err := checkQuery(q, allowed); err != nil {
		return eq, err
	}
	for k, p := range map[string]*bool{"stdin": &eq.stdin, "stdout": &eq.stdout, "stderr": &eq.stderr, "tty": &eq.tty} {
		v, err := queryBool(q, k)
		if err != nil {
			return eq, err
		}
		*p = v
	}
	if sub == "exec" && len(eq.command) == 0 {
		return eq, apierrors.NewBadRequest("you must specify at least one command for the container")
	}
	return eq, nil
}

// streamOptions are the streams kubectl asked for; a terminal has no
// stderr (its output all comes on stdout).
func (eq execQuery) streamOptions() (*remotecommand.Options, error) {
	if !eq.stdin && !eq.stdout && !eq.stderr {
		return nil, apierrors.NewBadRequest("you must specify at least 1 of stdin, stdout, stderr")
	}
	return &remotecommand.Options{Stdin: eq.stdin, Stdout: eq.stdout, Stderr: eq.stderr && !eq.tty, TTY: eq.tty}, nil
}

func (s podStreams) serveExec(w http.ResponseWriter, r *http.Request, ns, name, transport string) {
	eq, err := parseExecQuery(r.URL.Query(), "exec")
	if err != nil {
		writeStreamError(w, r, err)
		return
	}
	opts, err := eq.streamOptions()
	if err != nil {
		writeStreamError(w, r, err)
		return
	}
	pod, id, err := s.p.podContainer(r.Context(), ns, name, eq.container)
	if err != nil {
		writeStreamError(w, r, err)
		return
	}
	container := containerName(pod, eq.container)
	if cs, _ := containerStatus(pod, container); cs.State.Running == nil {
		writeStreamError(w, r, apierrors.NewBadRequest(fmt.Sprintf("container %s is not running in pod %s", container, name)))
		return
	}
	if pod.Spec.NodeName == "" {
		writeStreamError(w, r, apierrors.NewBadRequest(fmt.Sprintf("pod %s is not bound to a node yet", name)))
		return
	}
	s.count("exec", transport)
	ex := podExecutor{p: s.p, pod: pod, container: container, id: id}
	w = hijackable{w}
	if wsstream.IsWebSocketRequestWithStreamCloseProtocol(r) {
		serveExecV5(w, r, ex, eq.command, opts)
		return
	}
	remotecommand.ServeExec(w, r, ex, pod.Name, string(pod.UID), container, eq.command, opts,
		streamIdleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

// errNoAttach is attach's answer: Shoal's runtime interface runs commands
// in a container (Exec) and reads its output (Logs), but has no way into
// the stdin and stdout of the process that already runs.
func errNoAttach(pod string) *apierrors.StatusError {
	err := apierrors.NewMethodNotSupported(podsResource, "attach")
	err.ErrStatus.Message = fmt.Sprintf("pods %q: attach is not supported: Shoal's container runtime cannot attach to the stdin and stdout of a running container; "+
		"read its output with kubectl logs -f, run a command in it with kubectl exec", pod)
	return err
}

func (s podStreams) serveAttach(w http.ResponseWriter, r *http.Request, ns, name string) {
	eq, err := parseExecQuery(r.URL.Query(), "attach")
	if err != nil {
		writeStreamError(w, r, err)
		return
	}
	if _, _, err := s.p.podContainer(r.Context(), ns, name, eq.container); err != nil {
		writeStreamError(w, r, err)
		return
	}
	writeStreamError(w, r, errNoAttach(name))
}

// podExecutor runs kubectl's commands in one container of a pod: through
// the runtime when the pod runs here, else through the framed exec of the
// peer that runs it. It is remotecommand's Executor for SPDY and the older
// WebSocket protocols; serveExecV5 calls exec directly.
type podExecutor struct {
	p         *Peer
	pod       workload.Pod
	container string
	id        string // the container's runtime ID
}

var _ remotecommand.Executor = podExecutor{}

// ExecInContainer implements remotecommand.Executor: a non-zero exit code
// is a utilexec.ExitError, which ServeExec turns into kubectl's exit code.
func (e podExecutor) ExecInContainer(ctx context.Context, _, _, _ string, cmd []string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
	go dropResizes(resize)
	// A stream kubectl did not ask for is a nil WriteCloser: make it a nil
	// Writer, not a Writer holding a nil.
	var stdout, stderr io.Writer
	if out != nil {
		stdout = out
	}
	if errOut != nil {
		stderr = errOut
	}
	code, err := e.exec(ctx, cmd, tty, in, stdout, stderr)
	if err != nil {
		return err
	}
	if code != 0 {
		return exitError(code)
	}
	return nil
}

// exec runs cmd and returns its exit code; stdin, stdout and stderr may be
// nil.
func (e podExecutor) exec(ctx context.Context, cmd []string, tty bool, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if e.pod.Spec.NodeName != e.p.cfg.Name {
		return e.p.execOnPeer(ctx, e.pod.Spec.NodeName, e.pod, e.container, cmd, tty, stdin, stdout, stderr)
	}
	rt, err := e.p.localRuntime()
	if err != nil {
		return 0, err
	}
	return rt.Exec(ctx, e.id, runtime.ExecConfig{Cmd: cmd, TTY: tty, Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

func exitError(code int) utilexec.CodeExitError {
	return utilexec.CodeExitError{Err: fmt.Errorf("command terminated with exit code %d", code), Code: code}
}

// dropResizes reads a terminal's resize messages until they end, so the
// stream that carries them never backs up: the runtime cannot resize.
func dropResizes(resize <-chan remotecommand.TerminalSize) {
	for range resize {
	}
}

// The channels of the v5 WebSocket protocol, by number, and its CLOSE
// signal: a message {255, channel} ends that channel's input.
const (
	wsStdin = iota
	wsStdout
	wsStderr
	wsError
	wsResize

	wsClose = 255
)

// serveExecV5 serves an exec over WebSocket with v5.channel.k8s.io: binary
// messages whose first byte is their channel (stdin, stdout, stderr,
// error, resize, as in v4), and the CLOSE signal, with which kubectl ends
// stdin. The last message, on the error channel, is the command's Status:
// its exit code, or why it could not run. (k8s.io/streaming's wsstream
// speaks this too, but it logs an error for every connection the server
// closes, and the server is the one that closes: kubectl waits for it.)
func serveExecV5(w http.ResponseWriter, r *http.Request, ex podExecutor, cmd []string, opts *remotecommand.Options) {
	srv := websocket.Server{
		Handshake: func(cfg *websocket.Config, _ *http.Request) error {
			if !slices.Contains(cfg.Protocol, remotecommand.StreamProtocolV5Name) {
				return fmt.Errorf("websocket protocols %v: want %s", cfg.Protocol, remotecommand.StreamProtocolV5Name)
			}
			cfg.Protocol = []string{remotecommand.StreamProtocolV5Name}
			return nil
		},
		Handler: func(ws *websocket.Conn) {
			c := newChannelConn(ws)
			defer ws.Close()      // with a close message, which the client waits for
			defer c.stdin.Close() // ends a write of stdin the command never read
			go c.read()
			// An empty message on the first channel it will read tells the
			// client the connection is up.
			first := byte(wsError)
			switch {
			case opts.Stdout:
				first = wsStdout
			case opts.Stderr:
				first = wsStderr
			}
			if err := c.send(first, nil); err != nil {
				return
			}
			var stdin io.Reader
			var stdout, stderr io.Writer
			if opts.Stdin {
				stdin = c.stdin
			}
			if opts.Stdout {
				stdout = channelWriter{c, wsStdout}
			}
			if opts.Stderr {
				stderr = channelWriter{c, wsStderr}
			}
			code, err := ex.exec(r.Context(), cmd, opts.TTY, stdin, stdout, stderr)
			b, _ := json.Marshal(execStatus(code, err))
			_ = ws.SetWriteDeadline(time.Now().Add(statusWriteTimeout))
			_ = c.send(wsError, b)
		},
	}
	srv.ServeHTTP(w, r)
}

// channelConn is an exec's WebSocket, its channels multiplexed as the v4
// and v5 channel protocols do.
type channelConn struct {
	ws     *websocket.Conn
	mu     sync.Mutex // one message written at a time
	stdin  *io.PipeReader
	stdinW *io.PipeWriter
}

func newChannelConn(ws *websocket.Conn) *channelConn {
	ws.PayloadType = websocket.BinaryFrame
	r, w := io.Pipe()
	return &channelConn{ws: ws, stdin: r, stdinW: w}
}

// send writes one message on a channel.
func (c *channelConn) send(channel byte, b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return websocket.Message.Send(c.ws, append([]byte{channel}, b...))
}

// read takes the client's messages until it closes the connection: stdin
// goes to c.stdin (until the CLOSE signal, or the connection's end, ends
// it), resize messages are dropped (see dropResizes). A stream idle for
// streamIdleTimeout is closed.
func (c *channelConn) read() {
	defer c.stdinW.Close()
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(streamIdleTimeout))
		var msg []byte
		if err := websocket.Message.Receive(c.ws, &msg); err != nil {
			return
		}
		switch {
		case len(msg) == 0:
		case msg[0] == wsClose && len(msg) == 2 && msg[1] == wsStdin:
			c.stdinW.Close()
		case msg[0] == wsStdin:
			if _, err := c.stdinW.Write(msg[1:]); err != nil && !errors.Is(err, io.ErrClosedPipe) {
				return
			}
		}
	}
}

// channelWriter writes to one of a channelConn's output channels.
type channelWriter struct {
	c       *channelConn
	channel byte
}

func (w channelWriter) Write(b []byte) (int, error) {
	if err := w.c.send(w.channel, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// execStatus is the Status that ends an exec stream, as kubelet writes it:
// Success, NonZeroExitCode with the code as the ExitCode cause, or the
// error that kept the command from running.
func execStatus(code int, err error) metav1.Status {
	switch {
	case err != nil:
		return apierrors.NewInternalError(fmt.Errorf("error executing command in container: %v", err)).ErrStatus
	case code != 0:
		return metav1.Status{
			Status:  metav1.StatusFailure,
			Reason:  remotecommand.NonZeroExitCodeReason,
			Message: fmt.Sprintf("command terminated with non-zero exit code: %v", exitError(code)),
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{
				Type: remotecommand.ExitCodeCauseType, Message: strconv.Itoa(code),
			}}},
		}
	}
	return metav1.Status{Status: metav1.StatusSuccess}
}

// hijackable lets the upgraders, which ask the ResponseWriter itself for
// http.Hijacker, take the connection under writers that only unwrap to
// one (the metrics middleware's).
type hijackable struct{ http.ResponseWriter }

func (h hijackable) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(h.ResponseWriter).Hijack()
}

func (h hijackable) Flush() { _ = http.NewResponseController(h.ResponseWriter).Flush() }

func (h hijackable) Unwrap() http.ResponseWriter { return h.ResponseWriter }
