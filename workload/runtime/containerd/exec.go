package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
)

// Exec implements runtime.ContainerService. It takes no lock: a long exec
// session does not hold up StopContainer, which ends it with the
// container.
func (r *Runtime) Exec(ctx context.Context, containerID string, cfg runtime.ExecConfig) (int, error) {
	if len(cfg.Cmd) == 0 {
		return 0, fmt.Errorf("exec in %q: Cmd: required: %w", containerID, errdefs.ErrInvalid)
	}
	ctx = r.ctx(ctx)
	c, _, err := r.loadContainer(ctx, containerID)
	if err != nil {
		return 0, err
	}
	task, err := c.Task(ctx, nil)
	if errors.Is(wrap(err, ""), errdefs.ErrNotFound) {
		return 0, fmt.Errorf("exec in %q: container is not running: %w", containerID, errdefs.ErrConflict)
	}
	if err != nil {
		return 0, wrap(err, "exec in %q", containerID)
	}
	if st, err := task.Status(ctx); err != nil {
		return 0, wrap(err, "exec in %q", containerID)
	} else if st.Status != client.Running {
		return 0, fmt.Errorf("exec in %q: container is %s: %w", containerID, st.Status, errdefs.ErrConflict)
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return 0, wrap(err, "exec in %q", containerID)
	}
	pspec := *spec.Process
	pspec.Args = cfg.Cmd
	pspec.Terminal = cfg.TTY

	stdout, stderr := cfg.Stdout, cfg.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	var stdin *stdinCloser
	var stdinReader io.Reader
	if cfg.Stdin != nil {
		stdin = &stdinCloser{r: cfg.Stdin, started: make(chan struct{})}
		stdinReader = stdin
	}
	opts := []cio.Opt{cio.WithStreams(stdinReader, stdout, stderr), cio.WithFIFODir(filepath.Join(r.cfg.StateDir, "fifo"))}
	if cfg.TTY {
		opts = append(opts, cio.WithTerminal)
	}
	execID := "exec-" + newID()
	proc, err := task.Exec(ctx, execID, &pspec, cio.NewCreator(opts...))
	if err != nil {
		if stdin != nil {
			close(stdin.started)
		}
		return 0, wrap(err, "exec in %q", containerID)
	}
	// Delete the process and its FIFOs whatever happens, even after ctx.
	defer func() {
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		proc.Delete(cleanup, client.WithProcessKill)
	}()
	waitCtx, cancelWait := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWait()
	exited, err := proc.Wait(waitCtx)
	if err != nil {
		return 0, wrap(err, "exec in %q", containerID)
	}
	if err := proc.Start(ctx); err != nil {
		if stdin != nil {
			close(stdin.started)
		}
		return 0, wrap(err, "exec in %q", containerID)
	}
	if stdin != nil {
		stdin.proc = proc
		stdin.ctx = waitCtx
		close(stdin.started)
	}
	select {
	case st := <-exited:
		proc.IO().Wait() // all output copied
		code, _, err := st.Result()
		if err != nil {
			return 0, wrap(err, "exec in %q", containerID)
		}
		return int(code), nil
	case <-ctx.Done():
		kill, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		proc.Kill(kill, syscall.SIGKILL)
		select {
		case <-exited:
		case <-kill.Done():
		}
		return 0, fmt.Errorf("exec in %q: %w", containerID, ctx.Err())
	}
}

// stdinCloser passes stdin through and, at its end, closes the process's
// stdin so it sees EOF (the FIFO alone does not tell it).
type stdinCloser struct {
	r       io.Reader
	started chan struct{} // closed once proc and ctx are set, or on failure
	proc    client.Process
	ctx     context.Context
	once    sync.Once
}

func (s *stdinCloser) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		s.once.Do(func() {
			<-s.started
			if s.proc != nil {
				s.proc.CloseIO(s.ctx, client.WithStdinCloser)
			}
		})
	}
	return n, err
}
