package containerd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/containerd/containerd/v2/client"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
)

// followPoll is how often a followed log is checked for new output.
const followPoll = 100 * time.Millisecond

// Logs implements runtime.ContainerService by reading the log file of the
// container's last (or previous) start.
func (r *Runtime) Logs(ctx context.Context, containerID string, opts runtime.LogOptions, w io.Writer) error {
	ctx = r.ctx(ctx)
	c, _, err := r.loadContainer(ctx, containerID)
	if err != nil {
		return err
	}
	path := r.logPath(containerID, opts.Previous)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		if opts.Previous {
			return fmt.Errorf("container %q: previous log: %w", containerID, errdefs.ErrNotFound)
		}
		return nil // never started
	}
	if err != nil {
		return fmt.Errorf("container %q: log: %w", containerID, err)
	}
	defer f.Close()
	start, err := tailOffset(f, opts.TailLines)
	if err != nil {
		return fmt.Errorf("container %q: log: %w", containerID, err)
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(w, f); err != nil {
		return err
	}
	if !opts.Follow || opts.Previous {
		return nil
	}
	ticker := time.NewTicker(followPoll)
	defer ticker.Stop()
	for {
		n, err := io.Copy(w, f)
		if err != nil {
			return err
		}
		if n == 0 {
			if !r.stillWriting(ctx, c, f, path) {
				if err := ctx.Err(); err != nil {
					return err // the task query failed because ctx ended, not the container
				}
				_, err := io.Copy(w, f) // what came after the last read
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-ticker.C:
			}
		}
	}
}

// stillWriting reports whether the start whose log f is can still write
// to it: its file is still the current log and the container runs.
func (r *Runtime) stillWriting(ctx context.Context, c client.Container, f *os.File, path string) bool {
	open, err1 := f.Stat()
	now, err2 := os.Stat(path)
	if err1 != nil || err2 != nil || !os.SameFile(open, now) {
		return false // restarted or removed since
	}
	task, err := c.Task(ctx, nil)
	if err != nil {
		return false
	}
	st, err := task.Status(ctx)
	return err == nil && st.Status != client.Stopped
}

// tailOffset returns where the last n lines of f start (0 for n < 0, the
// end for n == 0), reading backwards in chunks.
func tailOffset(f *os.File, n int) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	if n < 0 || size == 0 {
		return 0, nil
	}
	if n == 0 {
		return size, nil
	}
	const chunk = 32 << 10
	buf := make([]byte, chunk)
	pos := size
	lines := 0
	first := true
	for pos > 0 {
		read := int64(chunk)
		if pos < read {
			read = pos
		}
		pos -= read
		b := buf[:read]
		if _, err := f.ReadAt(b, pos); err != nil && err != io.EOF {
			return 0, err
		}
		if first && len(b) > 0 && b[len(b)-1] == '\n' {
			b = b[:len(b)-1] // the last line's own newline
		}
		first = false
		for i := len(b); ; {
			j := bytes.LastIndexByte(b[:i], '\n')
			if j < 0 {
				break
			}
			if lines++; lines == n {
				return pos + int64(j) + 1, nil
			}
			i = j
		}
	}
	return 0, nil
}
