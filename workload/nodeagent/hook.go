package nodeagent

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
)

// postStart is a container's postStart hook in flight. The hook runs in
// its own goroutine, so that the worker goes on syncing the pod (its other
// containers, its deletion) while it runs; only done crosses goroutines.
type postStart struct {
	done   chan string // receives the hook's failure ("" for none) once
	cancel context.CancelFunc
}

// runPostStart starts c's postStart hook, against the container as it
// runs now.
func (w *worker) runPostStart(ctx context.Context, c *ctr, h *workload.LifecycleHandler) *postStart {
	ctx, cancel := context.WithCancel(ctx)
	ps := &postStart{done: make(chan string, 1), cancel: cancel}
	spec, id, podIP := c.view.spec, c.id, w.podIP()
	pod := fmt.Sprintf("%s_%s(%s)", w.pod.ObjectMeta.Name, w.pod.ObjectMeta.Namespace, w.pod.ObjectMeta.UID)
	go func() { ps.done <- w.a.prober.hook(ctx, h, spec, pod, podIP, id) }()
	return ps
}

// result says whether the hook has returned, and why it failed ("" when
// it succeeded).
func (ps *postStart) result() (finished bool, failure string) {
	select {
	case why := <-ps.done:
		return true, why
	default:
		return false, ""
	}
}

// hook runs one lifecycle handler as the kubelet does: an exec in the
// container, an HTTP GET (only a failed request fails it: the kubelet
// does not look at the status code), or a sleep. It returns why it failed,
// in the kubelet's words, or "" when it did not; pod is the pod as the
// kubelet names it in there.
func (pr *prober) hook(ctx context.Context, h *workload.LifecycleHandler, c workload.Container, pod, podIP, containerID string) string {
	switch {
	case h.Exec != nil:
		out := &limitedBuffer{max: 4 << 10}
		code, err := pr.rt.Exec(ctx, containerID, runtime.ExecConfig{Cmd: h.Exec.Command, Stdout: out, Stderr: out})
		if err == nil && code != 0 {
			err = fmt.Errorf("command '%s' exited with %d: %s", strings.Join(h.Exec.Command, " "), code, out.String())
		}
		if err != nil {
			return fmt.Sprintf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: %v, message: %q", h.Exec.Command, c.Name, pod, err, out.String())
		}
	case h.HTTPGet != nil:
		if _, err := pr.get(ctx, h.HTTPGet, c, podIP); err != nil {
			return fmt.Sprintf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %v", h.HTTPGet.Path, c.Name, pod, err)
		}
	case h.Sleep != nil:
		t := time.NewTimer(time.Duration(h.Sleep.Seconds) * time.Second)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Sprintf("Sleep lifecycle hook (%d) for Container %q in Pod %q failed - error: %v", h.Sleep.Seconds, c.Name, pod, ctx.Err())
		}
	default:
		return fmt.Sprintf("Cannot run handler: invalid handler for Container %q in Pod %q", c.Name, pod)
	}
	return ""
}

// limitedBuffer keeps the first max bytes written to it and drops the
// rest; Stdout and Stderr may write to it at once.
type limitedBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
