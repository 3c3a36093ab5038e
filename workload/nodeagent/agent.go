package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/volumes"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
)

// Pods is the agent's window on the cluster's pods. Package peer implements
// it over the replicated store. Methods are called from many goroutines.
type Pods interface {
	// Bound returns every pod whose spec.nodeName is node, as stored now.
	Bound(ctx context.Context, node string) ([]workload.Pod, error)
	// UpdateStatus stores pod.Status, if the stored pod still has
	// pod.ObjectMeta.ResourceVersion (ErrConflict otherwise, ErrNotFound when
	// it is gone), and returns the pod as stored: a copy of pod at its new
	// resourceVersion, sharing pod's maps and slices.
	UpdateStatus(ctx context.Context, pod *workload.Pod) (*workload.Pod, error)
	// Remove deletes a pod that has finished terminating, if the stored pod
	// is still the one with pod's UID; a pod already gone is not an error.
	Remove(ctx context.Context, pod *workload.Pod) error
}

// Recorder records events about pods (Pulling, Started, BackOff, ...). It
// must not block for long; errors are the recorder's to log.
type Recorder interface {
	Event(ctx context.Context, pod *workload.Pod, eventType, reason, message string)
}

// ConfigMaps reads the config maps that environment variables refer to.
type ConfigMaps interface {
	ConfigMap(ctx context.Context, namespace, name string) (*workload.ConfigMap, error)
}

// Secrets reads the secrets that environment variables refer to, opened.
// Implementations must not log their values.
type Secrets interface {
	Secret(ctx context.Context, namespace, name string) (*workload.Secret, error)
}

// Services lists a namespace's services, for the environment variables a
// container gets for each (WEB_SERVICE_HOST, ...).
type Services interface {
	Services(ctx context.Context, namespace string) ([]*workload.Service, error)
}

// Unrouter takes a terminating pod out of service traffic before its
// containers are told to stop.
type Unrouter interface {
	// Unroute returns once no service proxy in the cluster sends new
	// connections to pod, or with ctx's error when ctx ends first.
	Unroute(ctx context.Context, pod *workload.Pod) error
}

// ImageFetcher gets an image this peer lacks from another peer that has
// it, into the runtime; ErrNotFound when no peer has it.
type ImageFetcher interface {
	Fetch(ctx context.Context, ref string) error
}

// Config configures an Agent.
type Config struct {
	Node    string // this peer's node name; required
	HostIP  string // reported as status.hostIP
	Runtime runtime.Runtime
	Pods    Pods
	Events  Recorder   // nil: events are only logged
	Config  ConfigMaps // nil: configMapKeyRef env vars fail
	Secrets Secrets    // nil: secretKeyRef env vars fail
	// Services gives containers their service variables; nil: none.
	Services Services
	Images   ImageFetcher // nil: images come from registries only
	// Unrouter, when set, is waited for before a deleted pod's containers
	// get SIGTERM (for at most UnrouteLimit, and never longer than the
	// pod's grace period), so that no new connection reaches a pod that is
	// shutting down: Kubernetes users add a preStop sleep for that.
	Unrouter Unrouter
	// UnrouteLimit bounds the wait for Unrouter; default 10 s.
	UnrouteLimit time.Duration
	// Allocatable is what this node offers pods (cpu, memory,
	// ephemeral-storage): a resourceFieldRef variable reads it for a limit
	// its container leaves out, as in Kubernetes. Empty: such a variable
	// is 0.
	Allocatable workload.ResourceList
	// Volumes sets up pods' volumes (emptyDir, hostPath, configMap) on
	// this node; nil: a pod with volumes stays ContainerCreating with a
	// FailedMount event saying the node serves none.
	Volumes *volumes.Mounter
	// VolumeSources gives the Mounter config maps, claims and volumes;
	// nil: such volumes cannot be set up.
	VolumeSources volumes.Sources
	// VolumeRefresh is how often a running pod's projected volumes
	// (configMap) are brought up to date; default 2 s.
	VolumeRefresh time.Duration
	// InsecureRegistries are registries ("HOST:PORT") reached over plain
	// HTTP, besides those on loopback.
	InsecureRegistries []string
	// ClusterDNS, when set, is the nameserver in every pod's resolv.conf,
	// with Kubernetes' search path under ClusterDomain ("cluster.local"
	// when empty); unset, pods get the host's resolv.conf.
	ClusterDNS    string
	ClusterDomain string
	// ResolvConf is the host's resolver configuration, which pods with
	// dnsPolicy Default (or host networking) start from; "" is
	// /etc/resolv.conf.
	ResolvConf string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// SyncPeriod is how often every pod is looked at even when nothing
	// changed (probes, back-off, drift); default 1 s.
	SyncPeriod time.Duration
	Logger     *slog.Logger
}

// Agent runs the pods bound to one node. Create it with New, start it with
// Run, and call Notify when pods may have changed.
type Agent struct {
	cfg    Config
	log    *slog.Logger
	prober *prober
	wake   chan struct{}

	mu      sync.Mutex
	workers map[string]*worker // by pod UID
	wg      sync.WaitGroup
}

// New checks cfg and makes an agent.
func New(cfg Config) (*Agent, error) {
	if cfg.Node == "" || cfg.Runtime == nil || cfg.Pods == nil {
		return nil, fmt.Errorf("node agent: Node, Runtime and Pods are required: %w", errdefs.ErrInvalid)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SyncPeriod <= 0 {
		cfg.SyncPeriod = time.Second
	}
	if cfg.UnrouteLimit <= 0 {
		cfg.UnrouteLimit = 10 * time.Second
	}
	if cfg.VolumeRefresh <= 0 {
		cfg.VolumeRefresh = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Agent{
		cfg: cfg, log: cfg.Logger.With("component", "nodeagent", "node", cfg.Node),
		prober: newProber(cfg.Runtime), wake: make(chan struct{}, 1), workers: map[string]*worker{},
	}, nil
}

// Notify tells the agent that the pods bound to it may have changed. It
// never blocks.
func (a *Agent) Notify() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Run removes what the runtime holds for pods no longer bound here, then
// keeps every bound pod's worker running until ctx ends. Pods keep running
// when Run returns: a restarted agent adopts them.
func (a *Agent) Run(ctx context.Context) error {
	pods, err := a.bound(ctx)
	for err != nil {
		a.log.Warn("cannot list this node's pods yet", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(a.cfg.SyncPeriod):
		}
		pods, err = a.bound(ctx)
	}
	adopted, err := a.cleanup(ctx, pods)
	if err != nil {
		a.log.Warn("orphan cleanup", "err", err)
	}
	a.dispatch(ctx, pods, adopted)
	t := time.NewTicker(a.cfg.SyncPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			a.wg.Wait()
			return ctx.Err()
		case <-a.wake:
		case <-t.C:
		}
		pods, err := a.bound(ctx)
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("list this node's pods", "err", err)
			}
			continue
		}
		a.dispatch(ctx, pods, nil)
	}
}

func (a *Agent) bound(ctx context.Context) ([]workload.Pod, error) {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return a.cfg.Pods.Bound(lctx, a.cfg.Node)
}

// cleanup removes every sandbox (with its containers) and every stray
// container this runtime owns that belongs to no pod in pods, and returns
// the sandboxes of the pods that are still wanted, by pod UID.
func (a *Agent) cleanup(ctx context.Context, pods []workload.Pod) (map[string]runtime.Sandbox, error) {
	wanted := map[string]bool{}
	for _, p := range pods {
		wanted[string(p.ObjectMeta.UID)] = true
	}
	sandboxes, err := a.cfg.Runtime.ListSandboxes(ctx)
	if err != nil {
		return nil, err
	}
	adopted := map[string]runtime.Sandbox{}
	known := map[string]bool{}
	var errs []error
	for _, sb := range sandboxes {
		_, dup := adopted[sb.PodUID]
		if wanted[sb.PodUID] && !dup && sb.State == runtime.SandboxReady {
			adopted[sb.PodUID] = sb
			known[sb.ID] = true
			continue
		}
		a.log.Info("removing orphan sandbox", "pod", sb.Namespace+"/"+sb.Name, "uid", sb.PodUID, "sandbox", sb.ID)
		if err := a.cfg.Runtime.RemoveSandbox(ctx, sb.ID); err != nil {
			errs = append(errs, err)
		}
	}
	containers, err := a.cfg.Runtime.ListContainers(ctx, runtime.ContainerFilter{})
	if err != nil {
		return adopted, errors.Join(append(errs, err)...)
	}
	for _, c := range containers {
		if !known[c.SandboxID] {
			a.log.Info("removing orphan container", "container", c.ID, "name", c.Name)
			if err := a.cfg.Runtime.RemoveContainer(ctx, c.ID); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if m := a.cfg.Volumes; m != nil { // once no container uses them
		uids, err := m.PodUIDs()
		errs = append(errs, err)
		for _, uid := range uids {
			if !wanted[uid] {
				a.log.Info("removing orphan volumes", "uid", uid)
				errs = append(errs, m.TearDown(uid))
			}
		}
	}
	return adopted, errors.Join(errs...)
}

// dispatch hands every bound pod to its worker, starting workers for new
// pods, and tells workers whose pod is no longer bound here that it is gone.
func (a *Agent) dispatch(ctx context.Context, pods []workload.Pod, adopted map[string]runtime.Sandbox) {
	a.mu.Lock()
	defer a.mu.Unlock()
	seen := map[string]bool{}
	for i := range pods {
		p := pods[i]
		uid := p.ObjectMeta.UID
		seen[string(uid)] = true
		w, ok := a.workers[string(uid)]
		if !ok {
			var sb *runtime.Sandbox
			if s, ok := adopted[string(uid)]; ok {
				sb = &s
			}
			w = newWorker(a, &p, sb)
			a.workers[string(uid)] = w
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				w.run(ctx)
			}()
			continue
		}
		w.update(&p)
	}
	for uid, w := range a.workers {
		if !seen[uid] {
			w.update(nil)
		}
	}
}

// forget drops a worker that has finished.
func (a *Agent) forget(uid string, w *worker) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.workers[uid] == w {
		delete(a.workers, uid)
	}
}

func (a *Agent) event(ctx context.Context, pod *workload.Pod, typ, reason, msg string) {
	a.log.Debug("event", "pod", pod.ObjectMeta.Namespace+"/"+pod.ObjectMeta.Name, "type", typ, "reason", reason, "message", msg)
	if a.cfg.Events != nil {
		a.cfg.Events.Event(ctx, pod, typ, reason, msg)
	}
}
