package peer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
)

// Logs and exec stream from the peer that runs the pod. Any peer accepts
// the call and, when the pod runs elsewhere, relays it to that peer over
// the peers' mutual TLS.
//
//	GET  /api/v1/namespaces/NS/pods/NAME/log?container=&follow=true&tailLines=N&previous=true
//	POST /api/v1/namespaces/NS/pods/NAME/exec?container=&command=A&command=B&stdin=true&tty=true
//
// A log streams as text/plain. Exec's request body is the command's stdin;
// its answer is frames: a kind byte (ExecStdout, ExecStderr, ExecExit, whose
// data is the exit code in decimal, or ExecError), a 4-byte big-endian
// length, and the data.

// Exec frame kinds.
const (
	ExecStdout byte = 1
	ExecStderr byte = 2
	ExecExit   byte = 3
	ExecError  byte = 4
)

// headerRelayed marks a call relayed from another peer, so it is never
// relayed again.
const headerRelayed = "X-Shoal-Relayed"

func (p *Peer) podStreamRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/namespaces/{ns}/pods/{name}/log", p.authenticated(http.HandlerFunc(p.podLog)))
	mux.Handle("POST /api/v1/namespaces/{ns}/pods/{name}/exec", p.authenticated(http.HandlerFunc(p.podExec)))
}

// podContainer finds the pod and the runtime ID of one of its containers
// (the only one when name is empty).
func (p *Peer) podContainer(ctx context.Context, ns, podName, name string) (workload.Pod, string, error) {
	info, _ := workload.LookupKind("Pod")
	_, so, err := p.locate(ctx, target{info: info, ns: ns, name: podName}, true)
	if err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			return workload.Pod{}, "", errdefs.Newf(errdefs.ErrNotFound, "pods %q not found", podName)
		}
		return workload.Pod{}, "", err
	}
	pod, err := decodePod(so)
	if err != nil {
		return pod, "", err
	}
	if name == "" {
		if len(pod.Spec.Containers) != 1 {
			var names []string
			for _, c := range pod.Spec.Containers {
				names = append(names, c.Name)
			}
			return pod, "", errdefs.Newf(errdefs.ErrInvalid, "a container name must be specified for pod %s, choose one of: [%s]", podName, strings.Join(names, " "))
		}
		name = pod.Spec.Containers[0].Name
	}
	for _, cs := range append(append([]workload.ContainerStatus(nil), pod.Status.ContainerStatuses...), pod.Status.InitContainerStatuses...) {
		if cs.Name == name {
			if cs.ContainerID == "" {
				return pod, "", errdefs.Newf(errdefs.ErrInvalid, "container %q in pod %q is waiting to start", name, podName)
			}
			_, id, _ := strings.Cut(cs.ContainerID, "://")
			return pod, id, nil
		}
	}
	return pod, "", errdefs.Newf(errdefs.ErrNotFound, "container %s is not valid for pod %s", name, podName)
}

// relay sends a call on to the peer that runs the pod; it reports whether
// it handled the call (false: the pod runs here).
func (p *Peer) relay(w http.ResponseWriter, r *http.Request, node string) bool {
	if node == p.cfg.Name {
		return false
	}
	if node == "" {
		writeError(w, errdefs.Newf(errdefs.ErrInvalid, "pod %q is not bound to a node yet", r.PathValue("name")))
		return true
	}
	if r.Header.Get(headerRelayed) != "" {
		writeError(w, fmt.Errorf("pod runs on %s, not here: %w", node, errdefs.ErrUnavailable))
		return true
	}
	addr := ""
	for _, m := range p.gossip.Members() {
		if m.Name == node && m.Status == gossip.StatusAlive {
			addr = m.Tags.API
		}
	}
	if addr == "" {
		writeError(w, fmt.Errorf("node %s is not reachable: %w", node, errdefs.ErrUnavailable))
		return true
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, "https://"+addr+r.URL.RequestURI(), r.Body)
	if err != nil {
		writeError(w, err)
		return true
	}
	req.Header.Set(headerRelayed, p.cfg.Name)
	resp, err := p.streamClient.Do(req)
	if err != nil {
		writeError(w, fmt.Errorf("relay to %s: %v: %w", node, err, errdefs.ErrUnavailable))
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

func (p *Peer) podLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pod, id, err := p.podContainer(r.Context(), r.PathValue("ns"), r.PathValue("name"), q.Get("container"))
	if err != nil && pod.Spec.NodeName == "" {
		writeError(w, err)
		return
	}
	if p.relay(w, r, pod.Spec.NodeName) {
		return
	}
	if err != nil {
		writeError(w, err)
		return
	}
	rt, err := p.localRuntime()
	if err != nil {
		writeError(w, err)
		return
	}
	opts := runtime.LogOptions{Follow: q.Get("follow") == "true", Previous: q.Get("previous") == "true", TailLines: runtime.AllLines}
	if t := q.Get("tailLines"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			writeError(w, errdefs.Newf(errdefs.ErrInvalid, "tailLines: Invalid value: %q: must be a whole number", t))
			return
		}
		opts.TailLines = n
	}
	// Check the container before the answer starts, so errors get a status.
	if _, err := rt.ContainerStatus(r.Context(), id); err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fw := newFlushWriter(w)
	if err := rt.Logs(r.Context(), id, opts, fw); err != nil && r.Context().Err() == nil {
		fmt.Fprintf(fw, "\nerror: %v\n", err)
	}
}

func (p *Peer) podExec(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pod, id, err := p.podContainer(r.Context(), r.PathValue("ns"), r.PathValue("name"), q.Get("container"))
	if err != nil && pod.Spec.NodeName == "" {
		writeError(w, err)
		return
	}
	if p.relay(w, r, pod.Spec.NodeName) {
		return
	}
	if err != nil {
		writeError(w, err)
		return
	}
	rt, err := p.localRuntime()
	if err != nil {
		writeError(w, err)
		return
	}
	cmd := q["command"]
	if len(cmd) == 0 {
		writeError(w, errdefs.Newf(errdefs.ErrInvalid, "command: Required value: you must specify at least one command for the container"))
		return
	}
	w.Header().Set("Content-Type", "application/vnd.shoal.exec")
	w.WriteHeader(http.StatusOK)
	fw := newFlushWriter(w)
	var mu sync.Mutex
	frame := func(kind byte, b []byte) {
		mu.Lock()
		defer mu.Unlock()
		var hdr [5]byte
		hdr[0] = kind
		binary.BigEndian.PutUint32(hdr[1:], uint32(len(b)))
		_, _ = fw.Write(append(hdr[:], b...))
	}
	cfg := runtime.ExecConfig{Cmd: cmd, TTY: q.Get("tty") == "true",
		Stdout: frameWriter{ExecStdout, frame}, Stderr: frameWriter{ExecStderr, frame}}
	if q.Get("stdin") == "true" {
		cfg.Stdin = r.Body
	}
	code, err := rt.Exec(r.Context(), id, cfg)
	if err != nil {
		frame(ExecError, []byte(err.Error()))
		return
	}
	frame(ExecExit, []byte(strconv.Itoa(code)))
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
	if fw.f != nil {
		fw.f.Flush()
	}
	return n, err
}
