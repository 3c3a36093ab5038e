package peer

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/kubeapi"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
)

// Logs and exec stream from the peer that runs the pod. Any peer accepts
// the call and, when the pod runs elsewhere, relays it to that peer over
// the peers' mutual TLS. These are the calls between peers, and the shoal
// CLI's; kubectl's upgraded streams (kubestreams.go) are served by the
// peer kubectl talks to, which reaches the pod's peer through them.
//
//	GET  /api/v1/namespaces/NS/pods/NAME/log?container=&follow=true&tailLines=N&previous=true&limitBytes=N
//	POST /api/v1/namespaces/NS/pods/NAME/exec?container=&command=A&command=B&stdin=true&tty=true
//
// A log streams as text/plain (podlogs.go has its parameters). Exec
// without an Upgrade header is Shoal's framing: the request body is the
// command's stdin; the answer is frames: a kind byte (ExecStdout,
// ExecStderr, ExecExit, whose data is the exit code in decimal, or
// ExecError), a 4-byte big-endian length, and the data. Errors before the
// answer starts are Kubernetes Status objects.

// Exec frame kinds.
const (
	ExecStdout byte = 1
	ExecStderr byte = 2
	ExecExit   byte = 3
	ExecError  byte = 4
)

// maxExecFrame bounds a frame's data when frames are read back, so a bad
// peer cannot make this one allocate gigabytes.
const maxExecFrame = 16 << 20

// headerRelayed marks a call relayed from another peer, so it is never
// relayed again.
const headerRelayed = "X-Shoal-Relayed"

var podsResource = schema.GroupResource{Resource: "pods"}

// findPod reads a pod from the store (a linearizable read: a pod just
// created is found). A missing pod is Kubernetes' NotFound.
func (p *Peer) findPod(ctx context.Context, ns, name string) (workload.Pod, error) {
	info, _ := workload.LookupKind("Pod")
	_, so, err := p.locate(ctx, target{info: info, ns: ns, name: name}, true)
	if err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			return workload.Pod{}, apierrors.NewNotFound(podsResource, name)
		}
		return workload.Pod{}, err
	}
	return decodePod(so)
}

// podContainer finds the pod and the runtime ID of one of its containers
// (the only one when name is empty). Its errors are Kubernetes': NotFound
// for the pod, BadRequest for the container, with kube-apiserver's words.
// When the pod is found, it is returned with the error too, so that a
// call can still be relayed to the peer that runs it.
func (p *Peer) podContainer(ctx context.Context, ns, podName, name string) (workload.Pod, string, error) {
	pod, err := p.findPod(ctx, ns, podName)
	if err != nil {
		return pod, "", err
	}
	if name == "" {
		if len(pod.Spec.Containers) != 1 {
			var names []string
			for _, c := range pod.Spec.Containers {
				names = append(names, c.Name)
			}
			return pod, "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: [%s]", podName, strings.Join(names, " ")))
		}
		name = pod.Spec.Containers[0].Name
	}
	for _, cs := range append(append([]workload.ContainerStatus(nil), pod.Status.ContainerStatuses...), pod.Status.InitContainerStatuses...) {
		if cs.Name == name {
			if cs.ContainerID == "" {
				return pod, "", apierrors.NewBadRequest(fmt.Sprintf("container %q in pod %q is waiting to start", name, podName))
			}
			_, id, _ := strings.Cut(cs.ContainerID, "://")
			return pod, id, nil
		}
	}
	for _, c := range append(append([]workload.Container(nil), pod.Spec.Containers...), pod.Spec.InitContainers...) {
		if c.Name == name {
			return pod, "", apierrors.NewBadRequest(fmt.Sprintf("container %q in pod %q is waiting to start", name, podName))
		}
	}
	return pod, "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, podName))
}

// containerStatus is the pod's status of one container, by name.
func containerStatus(pod workload.Pod, name string) (workload.ContainerStatus, bool) {
	for _, cs := range append(append([]workload.ContainerStatus(nil), pod.Status.ContainerStatuses...), pod.Status.InitContainerStatuses...) {
		if cs.Name == name {
			return cs, true
		}
	}
	return workload.ContainerStatus{}, false
}

// containerName is the container a call means: the one named, or the
// pod's only one.
func containerName(pod workload.Pod, name string) string {
	if name == "" && len(pod.Spec.Containers) == 1 {
		return pod.Spec.Containers[0].Name
	}
	return name
}

// peerAPI is the API address of a live peer, for relaying to it.
func (p *Peer) peerAPI(node string) (string, error) {
	for _, m := range p.gossip.Members() {
		if m.Name == node && m.Status == gossip.StatusAlive && m.Tags.API != "" {
			return m.Tags.API, nil
		}
	}
	return "", fmt.Errorf("node %s is not reachable: %w", node, errdefs.ErrUnavailable)
}

// relay sends a call on to the peer that runs the pod; it reports whether
// it handled the call (false: the pod runs here).
func (p *Peer) relay(w http.ResponseWriter, r *http.Request, pod workload.Pod) bool {
	node := pod.Spec.NodeName
	if node == p.cfg.Name {
		return false
	}
	if node == "" {
		writeStreamError(w, r, apierrors.NewBadRequest(fmt.Sprintf("pod %s is not bound to a node yet", pod.Name)))
		return true
	}
	if r.Header.Get(headerRelayed) != "" {
		writeStreamError(w, r, fmt.Errorf("pod runs on %s, not here: %w", node, errdefs.ErrUnavailable))
		return true
	}
	addr, err := p.peerAPI(node)
	if err != nil {
		writeStreamError(w, r, err)
		return true
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, "https://"+addr+r.URL.RequestURI(), r.Body)
	if err != nil {
		writeStreamError(w, r, err)
		return true
	}
	req.Header.Set(headerRelayed, p.cfg.Name)
	resp, err := p.streamClient.Do(req)
	if err != nil {
		writeStreamError(w, r, fmt.Errorf("relay to %s: %v: %w", node, err, errdefs.ErrUnavailable))
		return true
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	fw := newFlushWriter(w)
	fw.flush()
	_, _ = io.Copy(fw, resp.Body)
	return true
}

func (p *Peer) localRuntime() (runtime.Runtime, error) {
	p.nodeMu.Lock()
	defer p.nodeMu.Unlock()
	if p.runtime == nil {
		return nil, fmt.Errorf("peer %s runs no container runtime: %w", p.cfg.Name, errdefs.ErrUnavailable)
	}
	return p.runtime, nil
}

// containerHere finds a pod's container for a stream: the pod, the
// container's runtime ID and this peer's runtime when the pod runs here.
// A pod bound to another peer is relayed there (which finds it again);
// anything else is written as the stream's error. ok is false when w has
// been answered.
func (p *Peer) containerHere(w http.ResponseWriter, r *http.Request, ns, name, container string) (pod workload.Pod, id string, rt runtime.Runtime, ok bool) {
	pod, id, err := p.podContainer(r.Context(), ns, name, container)
	if err != nil && pod.Spec.NodeName == "" {
		writeStreamError(w, r, err)
		return pod, "", nil, false
	}
	if p.relay(w, r, pod) {
		return pod, "", nil, false
	}
	if err == nil {
		rt, err = p.localRuntime()
	}
	if err != nil {
		writeStreamError(w, r, err)
		return pod, "", nil, false
	}
	return pod, id, rt, true
}

// podExec serves Shoal's framed exec: the shoal CLI's, and the one a peer
// relays kubectl's exec over.
func (p *Peer) podExec(w http.ResponseWriter, r *http.Request, ns, name string) {
	eq, err := parseExecQuery(r.URL.Query(), "exec")
	if err != nil {
		writeStreamError(w, r, err)
		return
	}
	_, id, rt, ok := p.containerHere(w, r, ns, name, eq.container)
	if !ok {
		return
	}
	// The body is stdin while the answer streams: HTTP/2 does both at once,
	// HTTP/1.1 only when asked to.
	_ = http.NewResponseController(w).EnableFullDuplex()
	w.Header().Set("Content-Type", "application/vnd.shoal.exec")
	w.WriteHeader(http.StatusOK)
	fw := newFlushWriter(w)
	fw.flush() // the caller learns at once that the command starts
	var mu sync.Mutex
	frame := func(kind byte, b []byte) {
		mu.Lock()
		defer mu.Unlock()
		var hdr [5]byte
		hdr[0] = kind
		binary.BigEndian.PutUint32(hdr[1:], uint32(len(b)))
		_, _ = fw.Write(append(hdr[:], b...))
	}
	cfg := runtime.ExecConfig{Cmd: eq.command, TTY: eq.tty,
		Stdout: frameWriter{ExecStdout, frame}, Stderr: frameWriter{ExecStderr, frame}}
	if eq.stdin {
		cfg.Stdin = r.Body
	}
	code, err := rt.Exec(r.Context(), id, cfg)
	if err != nil {
		frame(ExecError, []byte(err.Error()))
		return
	}
	frame(ExecExit, []byte(strconv.Itoa(code)))
}

// execOnPeer runs a command in a container of a pod that runs on node,
// through that peer's framed exec, and returns its exit code. stdin, when
// not nil, is sent until it ends; the output is written as it comes.
func (p *Peer) execOnPeer(ctx context.Context, node string, pod workload.Pod, container string, cmd []string, tty bool, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	addr, err := p.peerAPI(node)
	if err != nil {
		return 0, err
	}
	q := url.Values{"command": cmd}
	if container != "" {
		q.Set("container", container)
	}
	body := io.Reader(http.NoBody)
	if stdin != nil {
		q.Set("stdin", "true")
		body = stdin
	}
	if tty {
		q.Set("tty", "true")
	}
	u := fmt.Sprintf("https://%s/api/v1/namespaces/%s/pods/%s/exec?%s", addr, url.PathEscape(pod.Namespace), url.PathEscape(pod.Name), q.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set(headerRelayed, p.cfg.Name)
	resp, err := p.streamClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("exec through %s: %v: %w", node, err, errdefs.ErrUnavailable)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, remoteStatus(resp)
	}
	return readExecFrames(resp.Body, stdout, stderr)
}

// readExecFrames copies an exec answer's frames to stdout and stderr (nil
// discards) until its exit frame, and returns the exit code.
func readExecFrames(r io.Reader, stdout, stderr io.Writer) (int, error) {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return 0, fmt.Errorf("exec: the answer ended before the command's exit code: %v: %w", err, errdefs.ErrUnavailable)
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n > maxExecFrame {
			return 0, fmt.Errorf("exec: a frame of %d bytes: %w", n, errdefs.ErrInvalid)
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(r, data); err != nil {
			return 0, fmt.Errorf("exec: %v: %w", err, errdefs.ErrUnavailable)
		}
		switch hdr[0] {
		case ExecStdout:
			if _, err := stdout.Write(data); err != nil {
				return 0, err
			}
		case ExecStderr:
			if _, err := stderr.Write(data); err != nil {
				return 0, err
			}
		case ExecError:
			return 0, errors.New(string(data))
		case ExecExit:
			code, err := strconv.Atoi(string(data))
			if err != nil {
				return 0, fmt.Errorf("exec: exit code %q: %w", data, errdefs.ErrInvalid)
			}
			return code, nil
		}
	}
}

// remoteStatus is the error a peer answered with: its Kubernetes Status.
func remoteStatus(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var st metav1.Status
	if err := json.Unmarshal(b, &st); err == nil && st.Message != "" {
		if st.Code == 0 {
			st.Code = int32(resp.StatusCode)
		}
		st.Status = metav1.StatusFailure
		return &apierrors.StatusError{ErrStatus: st}
	}
	return apierrors.NewGenericServerResponse(resp.StatusCode, "", podsResource, "", strings.TrimSpace(string(b)), 0, false)
}

// streamStatus turns an error into the Kubernetes Status it is answered
// with: a StatusError as it is, Shoal's sentinels by their HTTP status.
func streamStatus(err error) *apierrors.StatusError {
	var se *apierrors.StatusError
	if errors.As(err, &se) {
		return se
	}
	code := errdefs.HTTPStatus(err)
	if code == http.StatusInternalServerError {
		return apierrors.NewInternalError(err)
	}
	if errors.Is(err, errdefs.ErrInvalid) || errors.Is(err, errdefs.ErrConflict) {
		return apierrors.NewBadRequest(err.Error()) // as kube-apiserver answers a stream it cannot open
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: int32(code), Reason: metav1.StatusReason(errdefs.Reason(err)), Message: err.Error(),
	}}
}

// writeStreamError answers a stream's request with an error, as a
// Kubernetes Status.
func writeStreamError(w http.ResponseWriter, r *http.Request, err error) {
	st := streamStatus(err)
	if st.ErrStatus.Code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="shoal"`)
	}
	kubeapi.WriteStatus(w, r, st)
}

type frameWriter struct {
	kind  byte
	frame func(byte, []byte)
}

func (f frameWriter) Write(b []byte) (int, error) {
	f.frame(f.kind, b)
	return len(b), nil
}

// flushWriter flushes after every write, so streams reach the client as
// they come.
type flushWriter struct {
	w io.Writer
	f http.Flusher
}

func newFlushWriter(w http.ResponseWriter) flushWriter {
	f, _ := w.(http.Flusher)
	return flushWriter{w: w, f: f}
}

func (fw flushWriter) Write(b []byte) (int, error) {
	n, err := fw.w.Write(b)
	fw.flush()
	return n, err
}

func (fw flushWriter) flush() {
	if fw.f != nil {
		fw.f.Flush()
	}
}
