package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/volumes"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
)

const (
	eventNormal  = "Normal"
	eventWarning = "Warning"
)

// worker drives one pod. Only its own goroutine touches its fields, except
// updates, which the agent fills.
type worker struct {
	a       *Agent
	updates chan *workload.Pod // capacity 1, newest wins; nil: the pod is gone

	pod     *workload.Pod
	gone    bool
	sandbox *runtime.Sandbox
	inits   []*ctr
	ctrs    []*ctr
	written workload.PodStatus // the status last stored
	// initialized: every init container of this sandbox has completed
	// (a sidecar: started); the regular ones do not run again.
	initialized bool
	// finished: the pod's containers have ended for good (or an init
	// container failed for good), so its sidecars are stopped and not
	// restarted.
	finished bool
	// mounts are the pod's volumes once set up, by name; mountedAt is
	// when they were last refreshed, and mountErr the last failure said.
	mounts    map[string]volumes.Mounted
	mountedAt time.Time
	mountErr  string
}

// ctr is a worker's bookkeeping for one container.
type ctr struct {
	view         containerView
	id           string
	pullFailures int32
	nextTry      time.Time // no create or restart before this
	level        int32     // back-off level: restarts since it last ran backoffReset
	exitHandled  bool      // the current exit has its restart time in nextTry
	liveness     probeState
	readiness    probeState
	startup      probeState
	lastStarted  time.Time  // the run the probes belong to
	postStart    *postStart // the current run's postStart hook, while it runs
}

func newWorker(a *Agent, pod *workload.Pod, sb *runtime.Sandbox) *worker {
	w := &worker{a: a, updates: make(chan *workload.Pod, 1), pod: pod, sandbox: sb, written: pod.Status}
	mk := func(specs []workload.Container, statuses []workload.ContainerStatus) []*ctr {
		var out []*ctr
		for _, s := range specs {
			c := &ctr{view: containerView{spec: s}}
			for _, st := range statuses { // a restarted agent keeps counting
				if st.Name == s.Name {
					c.view.restarts = st.RestartCount
					c.view.last = st.LastTerminationState.Terminated
				}
			}
			out = append(out, c)
		}
		return out
	}
	w.inits = mk(pod.Spec.InitContainers, pod.Status.InitContainerStatuses)
	w.ctrs = mk(pod.Spec.Containers, pod.Status.ContainerStatuses)
	// A restarted agent adopting a running sandbox does not run its
	// completed init containers again.
	for _, c := range pod.Status.Conditions {
		w.initialized = w.initialized || sb != nil && c.Type == workload.PodInitialized && c.Status == workload.ConditionTrue
	}
	return w
}

// update hands the worker the pod's newest state, or nil when it is no
// longer bound here. It never blocks.
func (w *worker) update(p *workload.Pod) {
	for {
		select {
		case w.updates <- p:
			return
		default:
		}
		select {
		case <-w.updates:
		default:
		}
	}
}

func (w *worker) run(ctx context.Context) {
	defer w.a.forget(string(w.pod.ObjectMeta.UID), w)
	for {
		if w.sync(ctx) {
			return
		}
		t := time.NewTimer(w.a.cfg.SyncPeriod)
		select {
		case p := <-w.updates:
			if p == nil {
				w.gone = true
			} else if newer(p, w.pod) {
				w.pod = p
				w.written = p.Status
			}
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		t.Stop()
	}
}

// newer reports whether p is a later state of the pod than cur: a higher
// resource version (a pod's versions come from its one shard and only
// grow), or the first sight of its deletion. A list that a slow watch
// delivers after the worker's own status write carries an older version;
// taking it would forget the status written (its start time and transition
// times) and write it again.
func newer(p, cur *workload.Pod) bool {
	if p.ObjectMeta.DeletionTimestamp != nil && cur.ObjectMeta.DeletionTimestamp == nil {
		return true
	}
	a, errA := strconv.ParseUint(p.ObjectMeta.ResourceVersion, 10, 64)
	b, errB := strconv.ParseUint(cur.ObjectMeta.ResourceVersion, 10, 64)
	if errA != nil || errB != nil {
		return p.ObjectMeta.ResourceVersion != cur.ObjectMeta.ResourceVersion
	}
	return a > b
}

func (w *worker) now() time.Time { return w.a.cfg.Now() }

func (w *worker) event(ctx context.Context, typ, reason, format string, args ...any) {
	w.a.event(ctx, w.pod, typ, reason, fmt.Sprintf(format, args...))
}

// sync takes one step towards the pod's spec and reports whether the
// worker is done (the pod terminated and its object removed, or gone).
func (w *worker) sync(ctx context.Context) bool {
	if w.gone || w.pod.ObjectMeta.DeletionTimestamp != nil {
		w.terminate(ctx)
		if !w.gone {
			if err := w.a.cfg.Pods.Remove(ctx, w.pod); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
				w.a.log.Warn("remove terminated pod", "pod", w.name(), "err", err)
				return false
			}
		}
		return true
	}
	if !w.admit(ctx) {
		return false
	}
	if w.sandbox == nil || w.sandbox.State != runtime.SandboxReady {
		if !w.runSandbox(ctx) {
			w.writeStatus(ctx, false, false)
			return false
		}
	}
	if !w.setUpVolumes(ctx) {
		// Nothing runs yet: ContainerCreating (or Init:0/N), as kubelet says.
		w.writeStatus(ctx, len(w.inits) == 0, false)
		return false
	}
	initDone, initFailed := w.syncInits(ctx)
	if initDone {
		// The kubelet starts the containers in order, each once the
		// postStart hook of the one before returned.
		hooking := false
		for _, c := range w.ctrs {
			if hooking && c.id == "" {
				continue
			}
			w.syncContainer(ctx, c)
			hooking = hooking || c.postStart != nil
		}
	}
	w.probe(ctx)
	if p := podPhase(w.pod.Spec.RestartPolicy, false, viewsOf(w.ctrs)); initFailed || p == workload.PodSucceeded || p == workload.PodFailed {
		w.finish(ctx)
	}
	w.writeStatus(ctx, initDone, initFailed)
	return false
}

// configMapData is a config map's data, for env vars; nil for an
// optional one that does not exist.
func (w *worker) configMapData(ctx context.Context, name string, optional *bool) (map[string]string, error) {
	if w.a.cfg.Config == nil {
		return nil, fmt.Errorf("configmap %q: config maps are not available to this node: %w", name, errdefs.ErrUnavailable)
	}
	m, err := w.a.cfg.Config.ConfigMap(ctx, w.pod.ObjectMeta.Namespace, name)
	if errors.Is(err, errdefs.ErrNotFound) && optional != nil && *optional {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("configmap %q not found", name)
	}
	if m.Data == nil {
		return map[string]string{}, nil // there, and empty: not the nil of an absent one
	}
	return m.Data, nil
}

// secretData is a secret's data, opened, for env vars; nil for an
// optional one that does not exist. Errors never carry values.
func (w *worker) secretData(ctx context.Context, name string, optional *bool) (map[string]string, error) {
	if w.a.cfg.Secrets == nil {
		return nil, fmt.Errorf("secret %q: secrets are not available to this node: %w", name, errdefs.ErrUnavailable)
	}
	s, err := w.a.cfg.Secrets.Secret(ctx, w.pod.ObjectMeta.Namespace, name)
	if errors.Is(err, errdefs.ErrNotFound) && optional != nil && *optional {
		return nil, nil
	}
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil, fmt.Errorf("secret %q not found", name)
	}
	if err != nil {
		return nil, fmt.Errorf("secret %q: %w", name, err)
	}
	data := make(map[string]string, len(s.Data))
	for k, v := range s.Data {
		data[k] = string(v)
	}
	return data, nil
}

// setUpVolumes sets the pod's volumes up, and refreshes them every
// VolumeRefresh once they are; it reports whether the containers may run.
// A failure before the first success holds the containers back (the pod
// stays ContainerCreating) with a FailedMount event each time the reason
// changes; a failed refresh leaves the running pod its last good files, as
// Kubernetes does.
func (w *worker) setUpVolumes(ctx context.Context) bool {
	if len(w.pod.Spec.Volumes) == 0 {
		return true
	}
	now := w.now()
	if w.mounts != nil && now.Sub(w.mountedAt) < w.a.cfg.VolumeRefresh {
		return true
	}
	var mounts map[string]volumes.Mounted
	err := fmt.Errorf("this node sets up no volumes: %w", errdefs.ErrUnavailable)
	if m := w.a.cfg.Volumes; m != nil {
		mounts, err = m.SetUp(ctx, w.pod, w.a.cfg.VolumeSources)
	}
	if err != nil {
		if msg := err.Error(); msg != w.mountErr {
			w.mountErr = msg
			w.event(ctx, eventWarning, "FailedMount", "MountVolume.SetUp failed: %s", strings.ReplaceAll(msg, "\n", "; "))
		}
		if w.mounts != nil {
			w.mountedAt = now // keep the last good files; try again later
			return true
		}
		return false
	}
	w.mounts, w.mountedAt, w.mountErr = mounts, now, ""
	return true
}

func (w *worker) name() string { return w.pod.ObjectMeta.Namespace + "/" + w.pod.ObjectMeta.Name }

func (w *worker) runSandbox(ctx context.Context) bool {
	if w.sandbox != nil { // not ready: its network is gone; start over
		_ = w.a.cfg.Runtime.RemoveSandbox(ctx, w.sandbox.ID)
		w.sandbox = nil
		for _, c := range append(w.inits, w.ctrs...) {
			c.id, c.view.rt = "", nil
			c.dropPostStart()
		}
	}
	w.initialized = false // a new sandbox runs the init containers again
	hostname := w.pod.Spec.Hostname
	if hostname == "" {
		hostname = w.pod.ObjectMeta.Name
	}
	sb, err := w.a.cfg.Runtime.RunSandbox(ctx, runtime.SandboxConfig{
		PodUID: string(w.pod.ObjectMeta.UID), Namespace: w.pod.ObjectMeta.Namespace, Name: w.pod.ObjectMeta.Name, Hostname: hostname,
		DNS: w.a.podDNS(w.pod), FQDN: podFQDN(w.pod, w.a.clusterDomain()), Aliases: hostAliases(w.pod),
		Sysctls: allowedSysctls(w.pod), PortMappings: portMappings(w.pod),
		HostNetwork: w.pod.Spec.HostNetwork, HostPID: w.pod.Spec.HostPID, HostIPC: w.pod.Spec.HostIPC,
	})
	if err != nil {
		w.event(ctx, eventWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %v", err)
		return false
	}
	w.sandbox = &sb
	return true
}

// syncInits runs the init containers one after another: a regular one to
// completion, a sidecar (restartPolicy Always) until it has started; the
// next one is created only then. Sidecars are kept running beside the
// containers, restarted whenever they exit. It reports whether the pod is
// initialized, and whether a regular init container failed for good
// (restartPolicy Never).
func (w *worker) syncInits(ctx context.Context) (done, failed bool) {
	waiting := false // for a sidecar before this one to start
	for _, c := range w.inits {
		if !sidecar(c.view.spec) && (w.initialized ||
			c.view.rt != nil && c.view.rt.State == runtime.ContainerExited && c.view.rt.ExitCode == 0 && c.view.waiting == nil) {
			continue
		}
		if waiting && c.id == "" {
			return false, false
		}
		w.syncContainer(ctx, c)
		if sidecar(c.view.spec) {
			waiting = waiting || !w.initialized && !c.hasStarted()
			continue
		}
		rt := c.view.rt
		switch {
		case rt != nil && rt.State == runtime.ContainerExited && rt.ExitCode == 0:
			continue
		case rt != nil && rt.State == runtime.ContainerExited && w.pod.Spec.RestartPolicy == workload.RestartPolicyNever:
			return false, true
		default:
			return false, false
		}
	}
	if waiting {
		return false, false
	}
	w.initialized = true
	return true, false
}

// hasStarted says whether a container's current run counts as started:
// running, its postStart hook returned, its startup probe (if any) passed.
func (c *ctr) hasStarted() bool {
	return c.view.rt != nil && c.view.rt.State == runtime.ContainerRunning && c.postStart == nil &&
		(c.view.spec.StartupProbe == nil || c.startup.passing)
}

// policy is one container's restart policy: a sidecar's is Always until
// the pod has finished, then Never; the others' is the pod's.
func (w *worker) policy(c *ctr) workload.RestartPolicy {
	switch {
	case !sidecar(c.view.spec):
		return w.pod.Spec.RestartPolicy
	case w.finished:
		return workload.RestartPolicyNever
	}
	return workload.RestartPolicyAlways
}

// sidecars are the pod's init containers with restartPolicy Always.
func (w *worker) sidecars() []*ctr {
	var out []*ctr
	for _, c := range w.inits {
		if sidecar(c.view.spec) {
			out = append(out, c)
		}
	}
	return out
}

// finish stops the sidecars of a pod whose containers have ended for good,
// last one first, as the kubelet does; they are not restarted.
func (w *worker) finish(ctx context.Context) {
	w.finished = true
	sc := w.sidecars()
	slices.Reverse(sc)
	for _, c := range sc {
		w.stop(ctx, []*ctr{c}, w.grace(), w.now())
	}
}

// syncContainer creates, starts or restarts one container as needed.
func (w *worker) syncContainer(ctx context.Context, c *ctr) {
	rt := w.a.cfg.Runtime
	now := w.now()
	if c.id != "" {
		st, err := rt.ContainerStatus(ctx, c.id)
		if errors.Is(err, errdefs.ErrNotFound) {
			c.id, c.view.rt = "", nil // removed behind our back: create it again
		} else if err != nil {
			return
		} else {
			c.view.rt = &st
		}
	}
	if c.id == "" {
		if now.Before(c.nextTry) {
			return
		}
		w.create(ctx, c)
		return
	}
	st := c.view.rt
	switch st.State {
	case runtime.ContainerCreated:
		if now.Before(c.nextTry) {
			return // a start failed: back off
		}
		w.start(ctx, c, false)
	case runtime.ContainerRunning:
		if c.postStart != nil && !w.postStarted(ctx, c) {
			return
		}
		c.view.waiting = nil
		if now.Sub(st.StartedAt) >= backoffReset {
			c.level = 0
		}
	case runtime.ContainerExited:
		c.dropPostStart() // it ended under its hook
		if !restarts(w.policy(c), st.ExitCode) {
			c.view.waiting = nil
			return
		}
		if !c.exitHandled {
			// A new exit: the first restart is at once, then back off.
			// At once means now, not at FinishedAt: the runtime's clock
			// may put that a moment ahead of ours, and the container
			// then showed CrashLoopBackOff with no restart behind it.
			c.exitHandled = true
			c.nextTry = time.Time{}
			if c.level > 0 {
				c.nextTry = st.FinishedAt.Add(backoff(c.level - 1))
			}
		}
		if now.Before(c.nextTry) {
			wait := c.nextTry.Sub(st.FinishedAt).Round(time.Second)
			if c.view.waiting == nil || c.view.waiting.Reason != workload.ReasonCrashLoopBackOff {
				w.event(ctx, eventWarning, "BackOff", "Back-off restarting failed container %s in pod %s", c.view.spec.Name, w.pod.ObjectMeta.Name)
			}
			c.view.waiting = &workload.ContainerStateWaiting{Reason: workload.ReasonCrashLoopBackOff,
				Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", wait, c.view.spec.Name, w.pod.ObjectMeta.Name)}
			c.view.last = terminated(st)
			return
		}
		c.view.last = terminated(st)
		w.start(ctx, c, true)
	}
}

// create gets the image and creates and starts the container.
func (w *worker) create(ctx context.Context, c *ctr) {
	if !w.ensureImage(ctx, c) {
		return
	}
	cfg, err := w.containerConfig(ctx, c.view.spec)
	if err != nil {
		c.view.waiting = &workload.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: err.Error()}
		c.nextTry = w.now().Add(backoff(0))
		w.event(ctx, eventWarning, "Failed", "Error: %v", err)
		return
	}
	id, err := w.a.cfg.Runtime.CreateContainer(ctx, w.sandbox.ID, cfg)
	if errors.Is(err, errdefs.ErrAlreadyExists) {
		id, err = w.adopt(ctx, c.view.spec.Name)
	}
	if err != nil {
		c.view.waiting = &workload.ContainerStateWaiting{Reason: "CreateContainerError", Message: err.Error()}
		c.nextTry = w.now().Add(backoff(0))
		w.event(ctx, eventWarning, "Failed", "Error: %v", err)
		return
	}
	c.id = id
	w.event(ctx, eventNormal, "Created", "Created container %s", c.view.spec.Name)
	w.start(ctx, c, false)
}

// adopt finds the container of that name in the sandbox (one made before
// this agent restarted).
func (w *worker) adopt(ctx context.Context, name string) (string, error) {
	cs, err := w.a.cfg.Runtime.ListContainers(ctx, runtime.ContainerFilter{SandboxID: w.sandbox.ID})
	if err != nil {
		return "", err
	}
	for _, c := range cs {
		if c.Name == name {
			return c.ID, nil
		}
	}
	return "", fmt.Errorf("container %q: %w", name, errdefs.ErrNotFound)
}

func (w *worker) start(ctx context.Context, c *ctr, restart bool) {
	if err := w.a.cfg.Runtime.StartContainer(ctx, c.id); err != nil {
		c.view.waiting = &workload.ContainerStateWaiting{Reason: "RunContainerError", Message: err.Error()}
		c.nextTry = w.now().Add(backoff(c.level))
		c.level++
		w.event(ctx, eventWarning, "Failed", "Error: %v", err)
		return
	}
	if restart {
		c.view.restarts++
		c.level++
	}
	c.exitHandled = false
	c.view.waiting = nil
	c.liveness, c.readiness, c.startup = probeState{}, probeState{}, probeState{}
	if st, err := w.a.cfg.Runtime.ContainerStatus(ctx, c.id); err == nil {
		c.view.rt = &st
	}
	w.event(ctx, eventNormal, "Started", "Started container %s", c.view.spec.Name)
	c.dropPostStart()
	if h := c.view.spec.Lifecycle; h != nil && h.PostStart != nil {
		c.postStart = w.runPostStart(ctx, c, h.PostStart)
		c.view.postStart = true
	}
}

// postStarted says whether a running container's postStart hook has
// returned successfully. A failed hook kills the container, with a
// FailedPostStartHook event; its restart policy decides what follows.
func (w *worker) postStarted(ctx context.Context, c *ctr) bool {
	finished, why := c.postStart.result()
	if !finished {
		return false
	}
	c.dropPostStart()
	if why == "" {
		return true
	}
	w.event(ctx, eventWarning, "FailedPostStartHook", "PostStartHookError: %s", why)
	w.event(ctx, eventNormal, "Killing", "FailedPostStartHook")
	_ = w.a.cfg.Runtime.StopContainer(ctx, c.id, w.grace())
	if st, err := w.a.cfg.Runtime.ContainerStatus(ctx, c.id); err == nil {
		c.view.rt = &st
	}
	return false
}

// dropPostStart forgets the postStart hook of the container's last start,
// ending it if it still runs.
func (c *ctr) dropPostStart() {
	if c.postStart != nil {
		c.postStart.cancel()
		c.postStart = nil
	}
	c.view.postStart = false
}

// ensureImage makes the container's image present, as its pull policy
// says: from the runtime's store, another peer, or a registry.
func (w *worker) ensureImage(ctx context.Context, c *ctr) bool {
	rt := w.a.cfg.Runtime
	spec := c.view.spec
	img, err := rt.ImageStatus(ctx, spec.Image)
	present := err == nil
	if present && spec.ImagePullPolicy != workload.PullAlways {
		c.view.imageID = img.Digest
		return true
	}
	if spec.ImagePullPolicy == workload.PullNever {
		c.view.waiting = &workload.ContainerStateWaiting{Reason: workload.ReasonErrImageNeverPull,
			Message: fmt.Sprintf("Container image %q is not present with pull policy of Never", spec.Image)}
		w.event(ctx, eventWarning, workload.ReasonErrImageNeverPull, "%s", c.view.waiting.Message)
		return false
	}
	now := w.now()
	if now.Before(c.nextTry) {
		return false
	}
	w.event(ctx, eventNormal, "Pulling", "Pulling image %q", spec.Image)
	start := now
	err = errdefs.ErrNotFound
	if w.a.cfg.Images != nil && !present {
		err = w.a.cfg.Images.Fetch(ctx, spec.Image)
	}
	if err != nil {
		_, err = rt.PullImage(ctx, spec.Image, runtime.PullOptions{PlainHTTP: plainHTTPRegistry(spec.Image, w.a.cfg.InsecureRegistries)})
	}
	if err == nil {
		img, err = rt.ImageStatus(ctx, spec.Image)
	}
	if err != nil {
		c.pullFailures++
		reason := workload.ReasonErrImagePull
		if c.pullFailures > 1 {
			reason = workload.ReasonImagePullBackOff
		}
		c.nextTry = w.now().Add(backoff(c.pullFailures - 1))
		c.view.waiting = &workload.ContainerStateWaiting{Reason: reason, Message: fmt.Sprintf("Back-off pulling image %q: %v", spec.Image, err)}
		w.event(ctx, eventWarning, "Failed", "Failed to pull image %q: %v", spec.Image, err)
		return false
	}
	c.pullFailures = 0
	c.view.imageID = img.Digest
	w.event(ctx, eventNormal, "Pulled", "Successfully pulled image %q in %s", spec.Image, w.now().Sub(start).Round(time.Millisecond))
	return true
}

// plainHTTPRegistry says whether an image's registry is served over plain
// HTTP: one on loopback (Docker and containerd treat those so too), or one
// the operator listed as insecure.
func plainHTTPRegistry(ref string, insecure []string) bool {
	host, _, _ := strings.Cut(ref, "/")
	if slices.Contains(insecure, host) {
		return true
	}
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// containerConfig turns a container spec into what the runtime creates.
func (w *worker) containerConfig(ctx context.Context, s workload.Container) (runtime.ContainerConfig, error) {
	env, err := w.env(ctx, s)
	if err != nil {
		return runtime.ContainerConfig{}, err
	}
	cfg := runtime.ContainerConfig{Name: s.Name, Image: s.Image, Command: s.Command, Args: s.Args, Env: env, WorkingDir: s.WorkingDir}
	for _, vm := range s.VolumeMounts {
		mv, ok := w.mounts[vm.Name]
		if !ok {
			return runtime.ContainerConfig{}, fmt.Errorf("volumeMount %q: volume %q is not set up", vm.MountPath, vm.Name)
		}
		host := mv.Path
		if vm.SubPath != "" {
			if host, err = volumes.SubPath(mv.Path, vm.SubPath, !mv.ReadOnly); err != nil {
				return runtime.ContainerConfig{}, fmt.Errorf("volumeMount %q: %w", vm.MountPath, err)
			}
		}
		cfg.Mounts = append(cfg.Mounts, runtime.Mount{HostPath: host, ContainerPath: vm.MountPath, ReadOnly: vm.ReadOnly || mv.ReadOnly})
	}
	if q, ok := s.Resources.Limits[workload.ResourceCPU]; ok {
		cfg.CPUMillis = q.MilliValue()
	}
	if q, ok := s.Resources.Limits[workload.ResourceMemory]; ok {
		cfg.MemoryBytes = q.Value()
	}
	if cfg.Security, err = w.security(ctx, s); err != nil {
		return runtime.ContainerConfig{}, err
	}
	return cfg, nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// probe runs the probes that are due for every running container. A
// container with a startup probe is probed for liveness and readiness only
// once the startup probe passed; a failed liveness (or startup) probe
// stops the container, and the restart policy decides what follows.
func (w *worker) probe(ctx context.Context) {
	now := w.now()
	for _, c := range append(w.sidecars(), w.ctrs...) {
		s := c.view.spec
		rt := c.view.rt
		if rt == nil || rt.State != runtime.ContainerRunning || c.postStart != nil {
			c.view.ready, c.view.started = false, false
			continue
		}
		if !rt.StartedAt.Equal(c.lastStarted) {
			c.lastStarted = rt.StartedAt
			c.liveness, c.readiness, c.startup = probeState{}, probeState{}, probeState{}
		}
		c.view.started = s.StartupProbe == nil || c.startup.passing
		if !c.view.started {
			if c.startup.due(s.StartupProbe, rt.StartedAt, now) {
				ok, why := w.a.prober.run(ctx, s.StartupProbe.ProbeHandler, s, w.podIP(), c.id, probeTimeout(s.StartupProbe))
				c.view.started = c.startup.record(s.StartupProbe, ok, w.now())
				if !ok && c.startup.failures >= max(s.StartupProbe.FailureThreshold, 1) {
					w.kill(ctx, c, "Startup", why)
				}
			}
			c.view.ready = false
			continue
		}
		if p := s.LivenessProbe; p != nil && c.liveness.due(p, rt.StartedAt, now) {
			ok, why := w.a.prober.run(ctx, p.ProbeHandler, s, w.podIP(), c.id, probeTimeout(p))
			c.liveness.record(p, ok, w.now())
			if !ok {
				w.event(ctx, eventWarning, "Unhealthy", "Liveness probe failed: %s", why)
				if c.liveness.failures >= max(p.FailureThreshold, 1) {
					w.kill(ctx, c, "Liveness", why)
					continue
				}
			}
		}
		if p := s.ReadinessProbe; p == nil {
			c.view.ready = true
		} else if c.readiness.due(p, rt.StartedAt, now) {
			ok, why := w.a.prober.run(ctx, p.ProbeHandler, s, w.podIP(), c.id, probeTimeout(p))
			c.view.ready = c.readiness.record(p, ok, w.now())
			if !ok {
				w.event(ctx, eventWarning, "Unhealthy", "Readiness probe failed: %s", why)
			}
		}
	}
}

// kill stops a container whose probe failed, with the pod's grace period.
func (w *worker) kill(ctx context.Context, c *ctr, probe, why string) {
	w.event(ctx, eventNormal, "Killing", "Container %s failed %s probe (%s), will be restarted", c.view.spec.Name, strings.ToLower(probe), why)
	_ = w.a.cfg.Runtime.StopContainer(ctx, c.id, w.grace())
	if st, err := w.a.cfg.Runtime.ContainerStatus(ctx, c.id); err == nil {
		c.view.rt = &st
	}
	c.view.ready = false
}

func (w *worker) grace() time.Duration {
	if g := w.pod.ObjectMeta.DeletionGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	if g := w.pod.Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return time.Duration(workload.DefaultTerminationGracePeriodSeconds) * time.Second
}

// terminate stops the pod's containers gracefully (preStop, then SIGTERM,
// then SIGKILL once the grace period is over): first the containers and
// regular init containers, all at once, then the sidecars one by one, last
// one first, within what is left of the grace period. Then it removes the
// pod's sandbox.
func (w *worker) terminate(ctx context.Context) {
	defer w.tearDownVolumes()
	if w.sandbox == nil {
		sbs, err := w.a.cfg.Runtime.ListSandboxes(ctx)
		if err == nil {
			for _, sb := range sbs {
				if sb.PodUID == string(w.pod.ObjectMeta.UID) {
					_ = w.a.cfg.Runtime.RemoveSandbox(ctx, sb.ID)
				}
			}
		}
		return
	}
	grace := w.grace()
	w.unroute(ctx, grace)
	start := w.now()
	var first []*ctr
	for _, c := range append(append([]*ctr(nil), w.inits...), w.ctrs...) {
		c.dropPostStart()
		if !sidecar(c.view.spec) {
			first = append(first, c)
		}
	}
	w.stop(ctx, first, grace, start)
	sc := w.sidecars()
	slices.Reverse(sc)
	for _, c := range sc {
		w.stop(ctx, []*ctr{c}, grace, start)
	}
	if err := w.a.cfg.Runtime.RemoveSandbox(ctx, w.sandbox.ID); err != nil {
		w.a.log.Warn("remove sandbox", "pod", w.name(), "err", err)
	}
	w.sandbox = nil
}

// stop stops those of cs that run, all at once, each with its preStop
// hook, within grace counted from start.
func (w *worker) stop(ctx context.Context, cs []*ctr, grace time.Duration, start time.Time) {
	var wg sync.WaitGroup
	var stopped []*ctr
	for _, c := range cs {
		if c.id == "" || c.view.rt == nil || c.view.rt.State != runtime.ContainerRunning {
			continue
		}
		stopped = append(stopped, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.event(ctx, eventNormal, "Killing", "Stopping container %s", c.view.spec.Name)
			if h := c.view.spec.Lifecycle; h != nil && h.PreStop != nil {
				hctx, cancel := context.WithTimeout(ctx, grace)
				w.preStop(hctx, c, h.PreStop, grace)
				cancel()
			}
			_ = w.a.cfg.Runtime.StopContainer(ctx, c.id, max(grace-w.now().Sub(start), 0))
		}()
	}
	wg.Wait()
	for _, c := range stopped {
		if st, err := w.a.cfg.Runtime.ContainerStatus(ctx, c.id); err == nil {
			c.view.rt = &st
		}
	}
}

// unroute waits, at most UnrouteLimit and never longer than grace, until
// no service proxy sends new connections to the pod. The wait is not taken
// from the grace period: the containers get all of it after SIGTERM. A pod
// whose object is gone (a forced delete) or that has no address is not
// waited for.
func (w *worker) unroute(ctx context.Context, grace time.Duration) {
	u := w.a.cfg.Unrouter
	if u == nil || w.gone || w.pod.Status.PodIP == "" || grace <= 0 {
		return
	}
	uctx, cancel := context.WithTimeout(ctx, min(grace, w.a.cfg.UnrouteLimit))
	defer cancel()
	if err := u.Unroute(uctx, w.pod); err != nil && ctx.Err() == nil {
		w.a.log.Warn("stopping a pod that service proxies may still send connections to", "pod", w.name(), "err", err)
	}
}

// tearDownVolumes removes what setUpVolumes made, once the containers are
// gone.
func (w *worker) tearDownVolumes() {
	if m := w.a.cfg.Volumes; m != nil {
		if err := m.TearDown(string(w.pod.ObjectMeta.UID)); err != nil {
			w.a.log.Warn("tear down volumes", "pod", w.name(), "err", err)
		}
	}
	w.mounts = nil
}

// preStop runs a preStop hook within limit (the hook's ctx also ends then).
func (w *worker) preStop(ctx context.Context, c *ctr, h *workload.LifecycleHandler, limit time.Duration) {
	var ok bool
	var why string
	switch {
	case h.Sleep != nil:
		t := time.NewTimer(min(time.Duration(h.Sleep.Seconds)*time.Second, limit))
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		return
	case h.Exec != nil:
		ok, why = w.a.prober.run(ctx, workload.ProbeHandler{Exec: h.Exec}, c.view.spec, w.podIP(), c.id, limit)
	case h.HTTPGet != nil:
		ok, why = w.a.prober.run(ctx, workload.ProbeHandler{HTTPGet: h.HTTPGet}, c.view.spec, w.podIP(), c.id, limit)
	default:
		return
	}
	if !ok {
		w.event(ctx, eventWarning, "FailedPreStopHook", "PreStopHook failed: %s", why)
	}
}

// writeStatus stores the pod's status when it changed.
func (w *worker) writeStatus(ctx context.Context, initDone, initFailed bool) {
	st := podStatus(w.written, w.sandbox, w.a.cfg.HostIP, w.pod.Spec.RestartPolicy, viewsOf(w.inits), initDone, initFailed, viewsOf(w.ctrs), w.now())
	if reflect.DeepEqual(st, w.written) {
		return
	}
	p := *w.pod
	p.Status = st
	stored, err := w.a.cfg.Pods.UpdateStatus(ctx, &p)
	if err != nil {
		if !errors.Is(err, errdefs.ErrConflict) && !errors.Is(err, errdefs.ErrNotFound) {
			w.a.log.Warn("write pod status", "pod", w.name(), "err", err)
		}
		return // the next list brings the newer pod; try again then
	}
	w.pod, w.written = stored, stored.Status
}

func viewsOf(cs []*ctr) []containerView {
	out := make([]containerView, len(cs))
	for i, c := range cs {
		out[i] = c.view
	}
	return out
}
