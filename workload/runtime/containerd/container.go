package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/cio"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
)

func (r *Runtime) containerDir(id string) string {
	return filepath.Join(r.cfg.StateDir, "containers", id)
}

func (r *Runtime) logPath(id string, previous bool) string {
	if previous {
		return filepath.Join(r.containerDir(id), "previous.log")
	}
	return filepath.Join(r.containerDir(id), "current.log")
}

// CreateContainer implements runtime.ContainerService.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg runtime.ContainerConfig) (string, error) {
	if err := runtime.ValidateContainerConfig(cfg); err != nil {
		return "", err
	}
	ref, _ := runtime.NormalizeImageRef(cfg.Image)
	for i, m := range cfg.Mounts {
		if _, err := os.Stat(m.HostPath); err != nil {
			return "", fmt.Errorf("container %q: Mounts[%d].HostPath: %v: %w", cfg.Name, i, err, errdefs.ErrInvalid)
		}
	}
	ctx = r.ctx(ctx)
	unlock := r.locks.lock(sandboxID)
	defer unlock()

	_, sbInfo, err := r.loadRecord(ctx, sandboxID, runtime.KindSandbox)
	if err != nil {
		return "", err
	}
	sb := r.sandboxOf(sbInfo)
	if sb.State != runtime.SandboxReady {
		return "", fmt.Errorf("create container %q: sandbox %q is not ready: %w", cfg.Name, sandboxID, errdefs.ErrConflict)
	}
	same, err := r.client.ContainerService().List(ctx, r.filter(runtime.KindContainer, runtime.LabelSandboxID, sandboxID, runtime.LabelContainerName, cfg.Name))
	if err != nil {
		return "", wrap(err, "create container %q", cfg.Name)
	}
	if len(same) > 0 {
		return "", fmt.Errorf("sandbox %q already has container %q (%s): %w", sandboxID, cfg.Name, same[0].ID, errdefs.ErrAlreadyExists)
	}
	img, err := r.readyImage(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("create container %q: %w", cfg.Name, err)
	}

	sysctls, err := decodeSysctls(sbInfo.Labels[labelSysctls])
	if err != nil {
		return "", fmt.Errorf("create container %q: %w", cfg.Name, err)
	}
	imgSpec, err := img.Spec(ctx)
	if err != nil {
		return "", wrap(err, "create container %q: image config", cfg.Name)
	}
	security, err := r.securityOpts(cfg.Name, imgSpec.Config.User, cfg.Security, sysctls)
	if err != nil {
		return "", err
	}

	id := newID()
	labels := map[string]string{}
	for k, v := range cfg.Labels {
		labels[k] = v
	}
	for k, v := range map[string]string{
		runtime.LabelOwner:         r.cfg.Namespace,
		runtime.LabelKind:          runtime.KindContainer,
		runtime.LabelPodUID:        sb.PodUID,
		runtime.LabelPodNamespace:  sb.Namespace,
		runtime.LabelPodName:       sb.Name,
		runtime.LabelSandboxID:     sandboxID,
		runtime.LabelContainerName: cfg.Name,
	} {
		labels[k] = v
	}
	if err := os.MkdirAll(r.containerDir(id), 0o700); err != nil {
		return "", fmt.Errorf("create container %q: %w", cfg.Name, err)
	}
	_, err = r.client.NewContainer(ctx, id,
		client.WithImage(img),
		client.WithSnapshotter(r.cfg.Snapshotter),
		client.WithNewSnapshot(id, img),
		client.WithNewSpec(append(r.specOpts(img, sb, cfg), security...)...),
		client.WithContainerLabels(labels),
	)
	if err != nil {
		os.RemoveAll(r.containerDir(id))
		return "", wrap(err, "create container %q", cfg.Name)
	}
	r.log.Info("container created", "container", id, "name", cfg.Name, "sandbox", sandboxID, "image", ref)
	return id, nil
}

// loadContainer returns this runtime's container id, or ErrNotFound.
func (r *Runtime) loadContainer(ctx context.Context, id string) (client.Container, containers.Container, error) {
	return r.loadRecord(ctx, id, runtime.KindContainer)
}

// sandboxOfContainer reads a container's sandbox id without a round trip.
func sandboxOfContainer(info containers.Container) string {
	return info.Labels[runtime.LabelSandboxID]
}

// lockContainer takes the read lock of the container's sandbox and the
// write lock of the container, after looking it up.
func (r *Runtime) lockContainer(ctx context.Context, id string) (client.Container, func(), error) {
	c, info, err := r.loadContainer(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	unlockSandbox := r.locks.rlock(sandboxOfContainer(info))
	unlockContainer := r.locks.lock(id)
	return c, func() { unlockContainer(); unlockSandbox() }, nil
}

// StartContainer implements runtime.ContainerService.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	ctx = r.ctx(ctx)
	c, unlock, err := r.lockContainer(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	info, err := c.Info(ctx, client.WithoutRefreshedMetadata)
	if err != nil {
		return wrap(err, "start container %q", id)
	}
	sandboxID := sandboxOfContainer(info)
	if _, sbInfo, err := r.loadRecord(ctx, sandboxID, runtime.KindSandbox); err != nil {
		return fmt.Errorf("start container %q: %w", id, err)
	} else if r.sandboxOf(sbInfo).State != runtime.SandboxReady {
		return fmt.Errorf("start container %q: sandbox %q is not ready: %w", id, sandboxID, errdefs.ErrConflict)
	}

	if task, err := c.Task(ctx, nil); err == nil {
		st, err := task.Status(ctx)
		if err != nil {
			return wrap(err, "start container %q", id)
		}
		switch st.Status {
		case client.Running, client.Paused, client.Pausing:
			return fmt.Errorf("start container %q: it is %s: %w", id, st.Status, errdefs.ErrConflict)
		case client.Stopped:
			if err := r.finish(ctx, c, task); err != nil {
				return fmt.Errorf("start container %q: %w", id, err)
			}
		default: // created but never started (a crash in between): start over
			if _, err := task.Delete(ctx, client.WithProcessKill); err != nil && !errors.Is(wrap(err, ""), errdefs.ErrNotFound) {
				return wrap(err, "start container %q", id)
			}
		}
	} else if !errors.Is(wrap(err, ""), errdefs.ErrNotFound) {
		return wrap(err, "start container %q", id)
	}

	current := r.logPath(id, false)
	if _, err := os.Stat(current); err == nil {
		if err := os.Rename(current, r.logPath(id, true)); err != nil {
			return fmt.Errorf("start container %q: keep previous log: %w", id, err)
		}
	}
	task, err := c.NewTask(ctx, cio.LogFile(current))
	if err != nil {
		return wrap(err, "start container %q", id)
	}
	if err := task.Start(ctx); err != nil {
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		task.Delete(cleanup, client.WithProcessKill)
		return wrap(err, "start container %q", id)
	}
	if _, err := c.SetLabels(ctx, map[string]string{
		labelStartedAt:  formatTime(time.Now()),
		labelExitCode:   "",
		labelFinishedAt: "",
		labelReason:     "",
	}); err != nil {
		return wrap(err, "start container %q", id)
	}
	r.log.Info("container started", "container", id, "name", info.Labels[runtime.LabelContainerName], "pid", task.Pid())
	return nil
}

// finish records a stopped task's exit in the container's labels and
// deletes the task (and with it the shim and the cgroup).
func (r *Runtime) finish(ctx context.Context, c client.Container, task client.Task) error {
	st, err := task.Status(ctx)
	if err != nil {
		return wrap(err, "container %q", c.ID())
	}
	if st.Status != client.Stopped {
		return nil
	}
	code := int(st.ExitStatus)
	reason := runtime.ReasonCompleted
	if code != 0 {
		reason = runtime.ReasonError
	}
	if spec, err := c.Spec(ctx); err == nil && spec.Linux != nil && oomKilled(spec.Linux.CgroupsPath) {
		reason = runtime.ReasonOOMKilled
	}
	finished := st.ExitTime
	if finished.IsZero() {
		finished = time.Now()
	}
	if _, err := c.SetLabels(ctx, map[string]string{
		labelExitCode:   strconv.Itoa(code),
		labelFinishedAt: formatTime(finished),
		labelReason:     reason,
	}); err != nil {
		return wrap(err, "container %q: record exit", c.ID())
	}
	if _, err := task.Delete(ctx); err != nil && !errors.Is(wrap(err, ""), errdefs.ErrNotFound) {
		return wrap(err, "container %q: delete task", c.ID())
	}
	r.log.Info("container exited", "container", c.ID(), "exit_code", code, "reason", reason)
	return nil
}

// StopContainer implements runtime.ContainerService.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	ctx = r.ctx(ctx)
	c, unlock, err := r.lockContainer(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	return r.stopLocked(ctx, c, grace)
}

// stopLocked sends SIGTERM, then SIGKILL after grace, waits for the exit
// and records it.
func (r *Runtime) stopLocked(ctx context.Context, c client.Container, grace time.Duration) error {
	task, err := c.Task(ctx, nil)
	if err != nil {
		if errors.Is(wrap(err, ""), errdefs.ErrNotFound) {
			return nil
		}
		return wrap(err, "stop container %q", c.ID())
	}
	st, err := task.Status(ctx)
	if err != nil {
		return wrap(err, "stop container %q", c.ID())
	}
	if st.Status == client.Running || st.Status == client.Paused || st.Status == client.Pausing {
		waitCtx, cancelWait := context.WithCancel(ctx)
		defer cancelWait()
		exited, err := task.Wait(waitCtx)
		if err != nil {
			return wrap(err, "stop container %q", c.ID())
		}
		if grace > 0 {
			if err := task.Kill(ctx, syscall.SIGTERM); err != nil && !errors.Is(wrap(err, ""), errdefs.ErrNotFound) {
				return wrap(err, "stop container %q: SIGTERM", c.ID())
			}
			timer := time.NewTimer(grace)
			defer timer.Stop()
			select {
			case <-exited:
				exited = nil
			case <-timer.C:
			case <-ctx.Done():
				return fmt.Errorf("stop container %q: %w", c.ID(), ctx.Err())
			}
		}
		if exited != nil {
			if err := task.Kill(ctx, syscall.SIGKILL, client.WithKillAll); err != nil && !errors.Is(wrap(err, ""), errdefs.ErrNotFound) {
				return wrap(err, "stop container %q: SIGKILL", c.ID())
			}
			select {
			case <-exited:
			case <-ctx.Done():
				return fmt.Errorf("stop container %q: %w", c.ID(), ctx.Err())
			}
		}
	}
	return r.finish(ctx, c, task)
}

// RemoveContainer implements runtime.ContainerService.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	ctx = r.ctx(ctx)
	c, unlock, err := r.lockContainer(ctx, id)
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unlock()
	return r.removeLocked(ctx, c)
}

func (r *Runtime) removeLocked(ctx context.Context, c client.Container) error {
	if err := r.stopLocked(ctx, c, 0); err != nil {
		return err
	}
	if task, err := c.Task(ctx, nil); err == nil { // stopLocked left one it could not finish
		if _, err := task.Delete(ctx, client.WithProcessKill); err != nil && !errors.Is(wrap(err, ""), errdefs.ErrNotFound) {
			return wrap(err, "remove container %q", c.ID())
		}
	}
	if err := c.Delete(ctx, client.WithSnapshotCleanup); err != nil && !errors.Is(wrap(err, ""), errdefs.ErrNotFound) {
		return wrap(err, "remove container %q", c.ID())
	}
	if err := os.RemoveAll(r.containerDir(c.ID())); err != nil {
		return fmt.Errorf("remove container %q: %w", c.ID(), err)
	}
	r.log.Info("container removed", "container", c.ID())
	return nil
}

// ContainerStatus implements runtime.ContainerService.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (runtime.ContainerStatus, error) {
	ctx = r.ctx(ctx)
	c, _, err := r.loadContainer(ctx, id)
	if err != nil {
		return runtime.ContainerStatus{}, err
	}
	return r.status(ctx, c)
}

// status reads a container's state; when its task has stopped and no one
// else holds the container, it records the exit first.
func (r *Runtime) status(ctx context.Context, c client.Container) (runtime.ContainerStatus, error) {
	task, err := c.Task(ctx, nil)
	if err != nil && !errors.Is(wrap(err, ""), errdefs.ErrNotFound) {
		return runtime.ContainerStatus{}, wrap(err, "container %q", c.ID())
	}
	var st client.Status
	if task != nil {
		if st, err = task.Status(ctx); err != nil {
			return runtime.ContainerStatus{}, wrap(err, "container %q", c.ID())
		}
		if st.Status == client.Stopped {
			if unlock, ok := r.locks.tryLock(c.ID()); ok {
				err := r.finish(ctx, c, task)
				unlock()
				if err != nil {
					return runtime.ContainerStatus{}, err
				}
				task = nil
			}
		}
	}
	info, err := c.Info(ctx)
	if err != nil {
		return runtime.ContainerStatus{}, wrap(err, "container %q", c.ID())
	}
	l := info.Labels
	out := runtime.ContainerStatus{
		ID:        info.ID,
		Name:      l[runtime.LabelContainerName],
		SandboxID: l[runtime.LabelSandboxID],
		Image:     info.Image,
		CreatedAt: info.CreatedAt,
		StartedAt: parseTime(l[labelStartedAt]),
		Labels:    userLabels(l),
	}
	switch {
	case task != nil && st.Status == client.Stopped: // being finished by someone else
		out.State = runtime.ContainerExited
		out.ExitCode = int(st.ExitStatus)
		out.FinishedAt = st.ExitTime
		out.Reason = runtime.ReasonError
		if out.ExitCode == 0 {
			out.Reason = runtime.ReasonCompleted
		}
	case task != nil && st.Status == client.Created:
		out.State = runtime.ContainerCreated
	case task != nil:
		out.State = runtime.ContainerRunning
	case l[labelExitCode] != "":
		out.State = runtime.ContainerExited
		out.ExitCode = atoi(l[labelExitCode])
		out.FinishedAt = parseTime(l[labelFinishedAt])
		out.Reason = l[labelReason]
	case l[labelStartedAt] != "":
		// Started, but the task is gone without a recorded exit.
		out.State = runtime.ContainerExited
		out.ExitCode = 255
		out.Reason = runtime.ReasonUnknown
	default:
		out.State = runtime.ContainerCreated
	}
	return out, nil
}

// ListContainers implements runtime.ContainerService.
func (r *Runtime) ListContainers(ctx context.Context, filter runtime.ContainerFilter) ([]runtime.ContainerStatus, error) {
	ctx = r.ctx(ctx)
	var kv []string
	if filter.SandboxID != "" {
		kv = []string{runtime.LabelSandboxID, filter.SandboxID}
	}
	ctrs, err := r.client.Containers(ctx, r.filter(runtime.KindContainer, kv...))
	if err != nil {
		return nil, wrap(err, "list containers")
	}
	out := make([]runtime.ContainerStatus, 0, len(ctrs))
	for _, c := range ctrs {
		st, err := r.status(ctx, c)
		if errors.Is(err, errdefs.ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
