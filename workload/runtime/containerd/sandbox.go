package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/identifiers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
)

// RunSandbox implements runtime.SandboxService. The sandbox's record is
// written first, so a crash half-way leaves something ListSandboxes shows
// and RemoveSandbox cleans.
func (r *Runtime) RunSandbox(ctx context.Context, cfg runtime.SandboxConfig) (runtime.Sandbox, error) {
	if err := runtime.ValidateSandboxConfig(cfg); err != nil {
		return runtime.Sandbox{}, err
	}
	ctx = r.ctx(ctx)
	id := newID()
	unlock := r.locks.lock(id)
	defer unlock()

	hostname := cfg.Hostname
	if hostname == "" {
		hostname = cfg.Name
	}
	nsPath := r.netnsPath(id)
	if cfg.HostNetwork {
		// The host's namespaces: its network, its host name.
		h, err := os.Hostname()
		if err != nil {
			return runtime.Sandbox{}, fmt.Errorf("sandbox for pod %s/%s: host name: %w", cfg.Namespace, cfg.Name, err)
		}
		hostname, nsPath = h, ""
		cfg.PortMappings = nil
	}
	labels := map[string]string{}
	for k, v := range cfg.Labels {
		labels[k] = v
	}
	for k, v := range map[string]string{
		runtime.LabelOwner:        r.cfg.Namespace,
		runtime.LabelKind:         runtime.KindSandbox,
		runtime.LabelPodUID:       cfg.PodUID,
		runtime.LabelPodNamespace: cfg.Namespace,
		runtime.LabelPodName:      cfg.Name,
		labelHostname:             hostname,
		labelNetNS:                nsPath,
		labelState:                string(runtime.SandboxNotReady),
	} {
		labels[k] = v
	}
	if len(cfg.Sysctls) > 0 {
		labels[labelSysctls] = encodeSysctls(cfg.Sysctls)
	}
	if err := setHostLabels(labels, cfg); err != nil {
		return runtime.Sandbox{}, fmt.Errorf("sandbox for pod %s/%s: %w", cfg.Namespace, cfg.Name, err)
	}
	// A record without a task: containerd wants a spec, any will do.
	rec, err := r.client.NewContainer(ctx, id,
		client.WithContainerLabels(labels),
		client.WithSpec(&oci.Spec{Version: specs.Version}))
	if err != nil {
		return runtime.Sandbox{}, wrap(err, "sandbox for pod %s/%s", cfg.Namespace, cfg.Name)
	}
	ip, err := r.setUpSandbox(ctx, id, nsPath, hostname, cfg)
	if err == nil {
		_, err = rec.SetLabels(ctx, map[string]string{labelIP: ip, labelState: string(runtime.SandboxReady)})
		err = wrap(err, "label sandbox")
	}
	if err != nil {
		// Undo with a context that outlives a cancelled ctx.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if rerr := r.removeSandboxLocked(cleanup, id); rerr != nil {
			r.log.Warn("cleaning up a failed sandbox", "sandbox", id, "err", rerr)
		}
		return runtime.Sandbox{}, fmt.Errorf("sandbox for pod %s/%s: %w", cfg.Namespace, cfg.Name, err)
	}
	info, err := rec.Info(ctx)
	if err != nil {
		return runtime.Sandbox{}, wrap(err, "sandbox %q", id)
	}
	r.log.Info("sandbox ready", "sandbox", id, "pod", cfg.Namespace+"/"+cfg.Name, "ip", ip)
	return r.sandboxOf(info), nil
}

func (r *Runtime) setUpSandbox(ctx context.Context, id, nsPath, hostname string, cfg runtime.SandboxConfig) (string, error) {
	if cfg.HostNetwork {
		return "", r.writePodFiles(id, hostname, "", cfg)
	}
	if err := createNetNS(nsPath); err != nil {
		return "", err
	}
	ip, err := r.attach(ctx, id, nsPath, cfg.PortMappings)
	if err != nil {
		return "", err
	}
	if err := r.writePodFiles(id, hostname, ip, cfg); err != nil {
		return "", fmt.Errorf("pod files: %w", err)
	}
	return ip, nil
}

func (r *Runtime) sandboxOf(info containers.Container) runtime.Sandbox {
	l := info.Labels
	sb := runtime.Sandbox{
		ID:        info.ID,
		PodUID:    l[runtime.LabelPodUID],
		Namespace: l[runtime.LabelPodNamespace],
		Name:      l[runtime.LabelPodName],
		Hostname:  l[labelHostname],
		IP:        l[labelIP],
		NetNSPath: l[labelNetNS],
		State:     runtime.SandboxState(l[labelState]),
		CreatedAt: info.CreatedAt,
		Labels:    userLabels(l),
	}
	hostNS := hostNamespacesOf(l)
	sb.HostNetwork, sb.HostPID, sb.HostIPC = hostNS.network, hostNS.pid, hostNS.ipc
	sb.PortMappings, _ = decodePorts(l[labelPorts])
	if sb.State == runtime.SandboxReady {
		// After a reboot the record remains but the namespace is gone; a
		// host-network sandbox has none, and goes by the boot it was made in.
		if sb.HostNetwork {
			if l[labelBootID] != bootID() {
				sb.State = runtime.SandboxNotReady
			}
		} else if _, err := os.Stat(sb.NetNSPath); err != nil {
			sb.State = runtime.SandboxNotReady
		}
	}
	if sb.State != runtime.SandboxReady {
		sb.IP = ""
	}
	return sb
}

// loadRecord returns this runtime's containerd record id of kind, or
// ErrNotFound.
func (r *Runtime) loadRecord(ctx context.Context, id, kind string) (client.Container, containers.Container, error) {
	notFound := fmt.Errorf("%s %q: %w", kind, id, errdefs.ErrNotFound)
	if identifiers.Validate(id) != nil {
		return nil, containers.Container{}, notFound
	}
	rec, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return nil, containers.Container{}, wrap(err, "%s %q", kind, id)
	}
	info, err := rec.Info(ctx, client.WithoutRefreshedMetadata)
	if err != nil {
		return nil, containers.Container{}, wrap(err, "%s %q", kind, id)
	}
	if info.Labels[runtime.LabelOwner] != r.cfg.Namespace || info.Labels[runtime.LabelKind] != kind {
		return nil, containers.Container{}, notFound
	}
	return rec, info, nil
}

// SandboxStatus implements runtime.SandboxService.
func (r *Runtime) SandboxStatus(ctx context.Context, id string) (runtime.Sandbox, error) {
	_, info, err := r.loadRecord(r.ctx(ctx), id, runtime.KindSandbox)
	if err != nil {
		return runtime.Sandbox{}, err
	}
	return r.sandboxOf(info), nil
}

// ListSandboxes implements runtime.SandboxService.
func (r *Runtime) ListSandboxes(ctx context.Context) ([]runtime.Sandbox, error) {
	recs, err := r.client.ContainerService().List(r.ctx(ctx), r.filter(runtime.KindSandbox))
	if err != nil {
		return nil, wrap(err, "list sandboxes")
	}
	out := make([]runtime.Sandbox, 0, len(recs))
	for _, info := range recs {
		out = append(out, r.sandboxOf(info))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// StopSandbox implements runtime.SandboxService.
func (r *Runtime) StopSandbox(ctx context.Context, id string) error {
	ctx = r.ctx(ctx)
	unlock := r.locks.lock(id)
	defer unlock()
	rec, _, err := r.loadRecord(ctx, id, runtime.KindSandbox)
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return r.stopSandboxLocked(ctx, id, rec)
}

func (r *Runtime) stopSandboxLocked(ctx context.Context, id string, rec client.Container) error {
	ctrs, err := r.containersOf(ctx, id)
	if err != nil {
		return err
	}
	for _, c := range ctrs {
		unlock := r.locks.lock(c.ID())
		err := r.stopLocked(ctx, c, 0)
		unlock()
		if err != nil {
			return fmt.Errorf("stop sandbox %q: %w", id, err)
		}
	}
	if err := r.release(ctx, id, rec); err != nil {
		return fmt.Errorf("stop sandbox %q: %w", id, err)
	}
	if rec != nil {
		if _, err := rec.SetLabels(ctx, map[string]string{labelState: string(runtime.SandboxNotReady), labelIP: ""}); err != nil {
			return wrap(err, "stop sandbox %q", id)
		}
	}
	return nil
}

// RemoveSandbox implements runtime.SandboxService.
func (r *Runtime) RemoveSandbox(ctx context.Context, id string) error {
	ctx = r.ctx(ctx)
	unlock := r.locks.lock(id)
	defer unlock()
	if _, _, err := r.loadRecord(ctx, id, runtime.KindSandbox); err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			return nil
		}
		return err
	}
	return r.removeSandboxLocked(ctx, id)
}

// release gives back the sandbox's network: CNI DEL with the port
// mappings of its record (rec nil: none). A host-network sandbox has
// nothing to give back.
func (r *Runtime) release(ctx context.Context, id string, rec client.Container) error {
	var labels map[string]string
	if rec != nil {
		info, err := rec.Info(ctx, client.WithoutRefreshedMetadata)
		if err != nil && !errors.Is(wrap(err, ""), errdefs.ErrNotFound) {
			return wrap(err, "sandbox %q", id)
		}
		labels = info.Labels
	}
	if hostNamespacesOf(labels).network {
		return nil
	}
	ports, err := decodePorts(labels[labelPorts])
	if err != nil {
		return err
	}
	return r.detach(ctx, id, r.netnsPath(id), ports)
}

// removeSandboxLocked removes everything a sandbox may have, whatever
// state it got to.
func (r *Runtime) removeSandboxLocked(ctx context.Context, id string) error {
	ctrs, err := r.containersOf(ctx, id)
	if err != nil {
		return err
	}
	for _, c := range ctrs {
		unlock := r.locks.lock(c.ID())
		err := r.removeLocked(ctx, c)
		unlock()
		if err != nil {
			return fmt.Errorf("remove sandbox %q: %w", id, err)
		}
	}
	rec, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		if !errors.Is(wrap(err, ""), errdefs.ErrNotFound) {
			return wrap(err, "remove sandbox %q", id)
		}
		rec = nil
	}
	if err := r.release(ctx, id, rec); err != nil {
		return fmt.Errorf("remove sandbox %q: %w", id, err)
	}
	nsPath := r.netnsPath(id)
	if err := removeNetNS(nsPath); err != nil {
		return fmt.Errorf("remove sandbox %q: %w", id, err)
	}
	if err := os.RemoveAll(r.sandboxDir(id)); err != nil {
		return fmt.Errorf("remove sandbox %q: %w", id, err)
	}
	if err := r.client.ContainerService().Delete(ctx, id); err != nil && !errors.Is(wrap(err, ""), errdefs.ErrNotFound) {
		return wrap(err, "remove sandbox %q", id)
	}
	r.log.Info("sandbox removed", "sandbox", id)
	return nil
}

// containersOf lists the sandbox's containers.
func (r *Runtime) containersOf(ctx context.Context, sandboxID string) ([]client.Container, error) {
	ctrs, err := r.client.Containers(ctx, r.filter(runtime.KindContainer, runtime.LabelSandboxID, sandboxID))
	if err != nil {
		return nil, wrap(err, "containers of sandbox %q", sandboxID)
	}
	return ctrs, nil
}
