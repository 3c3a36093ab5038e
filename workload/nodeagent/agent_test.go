package nodeagent

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/poll"
	"github.com/shoalproject/shoal/volumes"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
	"github.com/shoalproject/shoal/workload/runtime/fake"
)

// clock is a fake clock the tests advance.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// memPods is an in-memory Pods with resource versions and events.
type memPods struct {
	mu     sync.Mutex
	rv     int
	pods   map[string]*workload.Pod // by namespace/name
	events []string                 // "Reason: message"
	cms    map[string]*workload.ConfigMap
	// secrets, by namespace/name, opened.
	secrets map[string]*workload.Secret
	// statusWrites counts UpdateStatus calls, refused ones too.
	statusWrites int
}

func newMemPods() *memPods { return &memPods{pods: map[string]*workload.Pod{}} }

func (m *memPods) put(p workload.Pod) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rv++
	p.ObjectMeta.ResourceVersion = fmt.Sprint(m.rv)
	m.pods[p.ObjectMeta.Namespace+"/"+p.ObjectMeta.Name] = &p
}

func (m *memPods) get(name string) (workload.Pod, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pods["default/"+name]
	if !ok {
		return workload.Pod{}, false
	}
	return *p, true
}

func (m *memPods) Bound(_ context.Context, node string) ([]workload.Pod, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []workload.Pod
	for _, p := range m.pods {
		if p.Spec.NodeName == node {
			out = append(out, *p)
		}
	}
	return out, nil
}

func (m *memPods) UpdateStatus(_ context.Context, p *workload.Pod) (*workload.Pod, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.statusWrites++
	cur, ok := m.pods[p.ObjectMeta.Namespace+"/"+p.ObjectMeta.Name]
	if !ok {
		return nil, errdefs.ErrNotFound
	}
	if cur.ObjectMeta.ResourceVersion != p.ObjectMeta.ResourceVersion {
		return nil, errdefs.ErrConflict
	}
	m.rv++
	n := *cur
	n.Status = p.Status
	n.ObjectMeta.ResourceVersion = fmt.Sprint(m.rv)
	m.pods[p.ObjectMeta.Namespace+"/"+p.ObjectMeta.Name] = &n
	out := n
	return &out, nil
}

func (m *memPods) Remove(_ context.Context, p *workload.Pod) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := p.ObjectMeta.Namespace + "/" + p.ObjectMeta.Name
	if cur, ok := m.pods[k]; ok && cur.ObjectMeta.UID == p.ObjectMeta.UID {
		delete(m.pods, k)
	}
	return nil
}

func (m *memPods) Event(_ context.Context, _ *workload.Pod, _, reason, msg string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, reason+": "+msg)
}

// memPods also serves config maps, from cms (by namespace/name).
func (m *memPods) ConfigMap(_ context.Context, ns, name string) (*workload.ConfigMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cm, ok := m.cms[ns+"/"+name]
	if !ok {
		return nil, fmt.Errorf("configmap %s/%s: %w", ns, name, errdefs.ErrNotFound)
	}
	c := *cm
	return &c, nil
}

func (m *memPods) Secret(_ context.Context, ns, name string) (*workload.Secret, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sec, ok := m.secrets[ns+"/"+name]
	if !ok {
		return nil, fmt.Errorf("secret %s/%s: %w", ns, name, errdefs.ErrNotFound)
	}
	c := *sec
	return &c, nil
}

func (m *memPods) Claim(_ context.Context, ns, name string) (*workload.PersistentVolumeClaim, error) {
	return nil, fmt.Errorf("claim %s/%s: %w", ns, name, errdefs.ErrNotFound)
}

func (m *memPods) Volume(_ context.Context, name string) (*workload.PersistentVolume, error) {
	return nil, fmt.Errorf("volume %s: %w", name, errdefs.ErrNotFound)
}

func (m *memPods) putConfigMap(name string, data map[string]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cms == nil {
		m.cms = map[string]*workload.ConfigMap{}
	}
	m.cms["default/"+name] = &workload.ConfigMap{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: name}, Data: data}
}

func (m *memPods) eventsOf(reason string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, e := range m.events {
		if strings.HasPrefix(e, reason+":") {
			out = append(out, e)
		}
	}
	return out
}

func (m *memPods) sawEvent(reason string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.events {
		if strings.HasPrefix(e, reason+":") {
			return true
		}
	}
	return false
}

type harness struct {
	t     *testing.T
	rt    *fake.Runtime
	pods  *memPods
	clock *clock
	agent *Agent
	// unrouter and unrouteLimit go into the agent's Config.
	unrouter     Unrouter
	unrouteLimit time.Duration
	volumes      *volumes.Mounter
	allocatable  workload.ResourceList // the agent's Config.Allocatable
	stop         context.CancelFunc
	done         chan struct{}
}

func newHarness(t *testing.T, fc fake.Config, before func(h *harness)) *harness {
	t.Helper()
	h := &harness{t: t, pods: newMemPods(), clock: &clock{now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}}
	fc.Now = h.clock.Now
	rt, err := fake.New(fc)
	if err != nil {
		t.Fatal(err)
	}
	h.rt = rt
	if _, err := rt.PullImage(context.Background(), "shoal.local/webapp:v1", runtime.PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(h)
	}
	h.start()
	return h
}

func (h *harness) start() {
	a, err := New(Config{Node: "n1", HostIP: "192.0.2.1", Runtime: h.rt, Pods: h.pods, Events: h.pods, Now: h.clock.Now, SyncPeriod: 5 * time.Millisecond,
		Unrouter: h.unrouter, UnrouteLimit: h.unrouteLimit, Volumes: h.volumes, Config: h.pods, Secrets: h.pods, VolumeSources: h.pods, Allocatable: h.allocatable})
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.agent, h.stop, h.done = a, cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		_ = a.Run(ctx)
	}()
	h.t.Cleanup(h.halt)
}

func (h *harness) halt() {
	h.stop()
	<-h.done
}

// await polls until cond holds, or fails the test after a deadline.
func (h *harness) await(what string, cond func() bool) {
	h.t.Helper()
	if !poll.Until(10*time.Second, 2*time.Millisecond, cond) {
		h.t.Fatalf("timed out waiting for %s; events: %q", what, h.pods.events)
	}
}

func (h *harness) status(name string) workload.PodStatus {
	p, _ := h.pods.get(name)
	return p.Status
}

func pod(name string, mut func(*workload.Pod)) workload.Pod {
	p := workload.Pod{
		TypeMeta:   workload.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: workload.ObjectMeta{Name: name, Namespace: "default", UID: workload.UID("uid-" + name)},
		Spec: workload.PodSpec{NodeName: "n1", RestartPolicy: workload.RestartPolicyAlways,
			Containers: []workload.Container{{Name: "web", Image: "shoal.local/webapp:v1", ImagePullPolicy: workload.PullIfNotPresent}}},
	}
	if mut != nil {
		mut(&p)
	}
	return p
}

func running(st workload.PodStatus) bool {
	return st.Phase == workload.PodRunning && len(st.ContainerStatuses) > 0 && st.ContainerStatuses[0].State.Running != nil
}

func TestBoundPodRunsAndReportsRunningAndReady(t *testing.T) {
	h := newHarness(t, fake.Config{PodCIDR: "10.32.7.0/24"}, nil)
	h.pods.put(pod("web", nil))
	h.pods.put(pod("elsewhere", func(p *workload.Pod) { p.Spec.NodeName = "n2" }))
	h.agent.Notify()
	h.await("web to run", func() bool { return running(h.status("web")) })
	st := h.status("web")
	if !strings.HasPrefix(st.PodIP, "10.32.7.") || st.HostIP != "192.0.2.1" {
		t.Errorf("podIP %q hostIP %q", st.PodIP, st.HostIP)
	}
	h.await("web to be ready", func() bool { return cond(h.status("web"), workload.PodReady).Status == workload.ConditionTrue })
	if other := h.status("elsewhere"); other.Phase != "" {
		t.Errorf("a pod bound to another node was touched: %+v", other)
	}
	for _, r := range []string{"Created", "Started"} {
		if !h.pods.sawEvent(r) {
			t.Errorf("no %s event: %q", r, h.pods.events)
		}
	}
	sbs, _ := h.rt.ListSandboxes(context.Background())
	if len(sbs) != 1 || sbs[0].Hostname != "web" {
		t.Errorf("sandboxes %+v, want one with hostname web", sbs)
	}
}

// A list that arrives late, after the worker wrote the pod's status, holds
// an older version of the pod: the worker keeps what it wrote and does not
// write the status again (with new start and transition times).
func TestStaleListDoesNotRewriteStatus(t *testing.T) {
	h := newHarness(t, fake.Config{}, nil)
	h.pods.put(pod("web", nil))
	stale, _ := h.pods.get("web")
	h.agent.Notify()
	h.await("web to be ready", func() bool { return cond(h.status("web"), workload.PodReady).Status == workload.ConditionTrue })
	h.agent.mu.Lock()
	w := h.agent.workers["uid-web"]
	h.agent.mu.Unlock()
	// Each hand-over waits until the worker took it; the worker syncs
	// after taking the stale pod and before taking the next one.
	handOver := func(p workload.Pod) {
		h.agent.dispatch(context.Background(), []workload.Pod{p}, nil)
		h.await("the worker to take the pod", func() bool { return len(w.updates) == 0 })
	}
	cur, _ := h.pods.get("web")
	handOver(cur)
	h.pods.mu.Lock()
	before := h.pods.statusWrites
	h.pods.mu.Unlock()
	handOver(stale)
	handOver(cur)
	h.pods.mu.Lock()
	after := h.pods.statusWrites
	h.pods.mu.Unlock()
	if after != before {
		t.Errorf("the stale pod made %d status writes, want none", after-before)
	}
	if got := h.status("web"); !running(got) || got.StartTime == nil {
		t.Errorf("status after the stale list: %+v", got)
	}
}

func TestNewerPodVersion(t *testing.T) {
	at := func(rv string, deleting bool) *workload.Pod {
		p := pod("web", nil)
		p.ObjectMeta.ResourceVersion = rv
		if deleting {
			t := workload.NewTime(time.Unix(1, 0))
			p.ObjectMeta.DeletionTimestamp = &t
		}
		return &p
	}
	for _, c := range []struct {
		p, cur *workload.Pod
		want   bool
	}{
		{at("10", false), at("9", false), true},
		{at("9", false), at("10", false), false},
		{at("10", false), at("10", false), false},
		{at("9", true), at("10", false), true}, // its deletion is never missed
		{at("9", true), at("10", true), false},
		{at("b", false), at("a", false), true}, // not a shard index: any change
		{at("a", false), at("a", false), false},
	} {
		if got := newer(c.p, c.cur); got != c.want {
			t.Errorf("newer(rv %s deleting %v, rv %s deleting %v) = %v, want %v", c.p.ObjectMeta.ResourceVersion, c.p.ObjectMeta.DeletionTimestamp != nil,
				c.cur.ObjectMeta.ResourceVersion, c.cur.ObjectMeta.DeletionTimestamp != nil, got, c.want)
		}
	}
}

func TestExitedContainerRestartsWithBackOff(t *testing.T) {
	h := newHarness(t, fake.Config{}, nil)
	h.pods.put(pod("crash", nil))
	h.await("crash to run", func() bool { return running(h.status("crash")) })
	id := containerID(t, h, "crash")

	// The first exit restarts at once.
	if err := h.rt.Exit(id, 2); err != nil {
		t.Fatal(err)
	}
	h.await("the first restart", func() bool {
		cs := h.status("crash").ContainerStatuses
		return len(cs) == 1 && cs[0].RestartCount == 1 && cs[0].State.Running != nil
	})
	if last := h.status("crash").ContainerStatuses[0].LastTerminationState.Terminated; last == nil || last.ExitCode != 2 {
		t.Fatalf("lastState %+v, want terminated with 2", last)
	}
	// The second waits 10 s of the fake clock: CrashLoopBackOff meanwhile.
	if err := h.rt.Exit(id, 2); err != nil {
		t.Fatal(err)
	}
	h.await("CrashLoopBackOff", func() bool {
		cs := h.status("crash").ContainerStatuses
		return len(cs) == 1 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == workload.ReasonCrashLoopBackOff
	})
	if !h.pods.sawEvent("BackOff") {
		t.Errorf("no BackOff event: %q", h.pods.events)
	}
	h.clock.Advance(9 * time.Second)
	if cs := h.status("crash").ContainerStatuses[0]; cs.RestartCount != 1 {
		t.Fatalf("restarted before the back-off ended: %+v", cs)
	}
	h.clock.Advance(2 * time.Second)
	h.await("the second restart", func() bool {
		cs := h.status("crash").ContainerStatuses
		return cs[0].RestartCount == 2 && cs[0].State.Running != nil
	})
}

func containerID(t *testing.T, h *harness, podName string) string {
	t.Helper()
	cid := h.status(podName).ContainerStatuses[0].ContainerID
	return strings.TrimPrefix(cid, "containerd://")
}

func TestRestartPolicyNeverEndsFailed(t *testing.T) {
	h := newHarness(t, fake.Config{Behave: func(runtime.Sandbox, runtime.ContainerConfig) fake.Behaviour {
		return fake.Behaviour{ExitOnStart: true, ExitCode: 3}
	}}, nil)
	h.pods.put(pod("job", func(p *workload.Pod) { p.Spec.RestartPolicy = workload.RestartPolicyNever }))
	h.await("the pod to fail", func() bool { return h.status("job").Phase == workload.PodFailed })
	cs := h.status("job").ContainerStatuses[0]
	if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 3 || cs.RestartCount != 0 {
		t.Fatalf("container status %+v", cs)
	}
}

func TestMissingImageIsErrImagePullThenImagePullBackOff(t *testing.T) {
	h := newHarness(t, fake.Config{Pull: func(ref string, _ runtime.PullOptions) error {
		if strings.Contains(ref, "nope") {
			return fmt.Errorf("%s: manifest unknown: %w", ref, errdefs.ErrNotFound)
		}
		return nil
	}}, nil)
	h.pods.put(pod("bad", func(p *workload.Pod) { p.Spec.Containers[0].Image = "registry.invalid/nope:v1" }))
	waiting := func(reason string) func() bool {
		return func() bool {
			cs := h.status("bad").ContainerStatuses
			return len(cs) == 1 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == reason
		}
	}
	h.await("ErrImagePull", waiting(workload.ReasonErrImagePull))
	h.clock.Advance(11 * time.Second)
	h.await("ImagePullBackOff", waiting(workload.ReasonImagePullBackOff))
	if h.status("bad").Phase != workload.PodPending {
		t.Errorf("phase %s, want Pending", h.status("bad").Phase)
	}
	if !h.pods.sawEvent("Failed") || !h.pods.sawEvent("Pulling") {
		t.Errorf("events %q, want Pulling and Failed", h.pods.events)
	}
}

func TestDeletedPodStopsGracefullyAndIsRemoved(t *testing.T) {
	var mu sync.Mutex
	var preStopRan bool
	h := newHarness(t, fake.Config{Behave: func(runtime.Sandbox, runtime.ContainerConfig) fake.Behaviour {
		return fake.Behaviour{TermOutput: "bye\n", Exec: func(cmd []string, _ io.Reader, _, _ io.Writer) int {
			if len(cmd) > 0 && cmd[0] == "prestop" {
				mu.Lock()
				preStopRan = true
				mu.Unlock()
			}
			return 0
		}}
	}}, nil)
	h.pods.put(pod("gone", func(p *workload.Pod) {
		p.Spec.Containers[0].Lifecycle = &workload.Lifecycle{PreStop: &workload.LifecycleHandler{Exec: &workload.ExecAction{Command: []string{"prestop"}}}}
	}))
	h.await("gone to run", func() bool { return running(h.status("gone")) })
	id := containerID(t, h, "gone")
	p, _ := h.pods.get("gone")
	now := h.clock.Now()
	p.ObjectMeta.DeletionTimestamp = &workload.Time{Time: now}
	h.pods.put(p)
	h.await("the pod object to be removed", func() bool { _, ok := h.pods.get("gone"); return !ok })
	mu.Lock()
	ran := preStopRan
	mu.Unlock()
	if !ran {
		t.Error("preStop did not run")
	}
	if _, err := h.rt.ContainerStatus(context.Background(), id); err == nil {
		t.Error("the container outlived its pod")
	}
	if sbs, _ := h.rt.ListSandboxes(context.Background()); len(sbs) != 0 {
		t.Errorf("sandboxes left: %+v", sbs)
	}
	if !h.pods.sawEvent("Killing") {
		t.Errorf("no Killing event: %q", h.pods.events)
	}
}

type unrouteFunc func(ctx context.Context, pod *workload.Pod) error

func (f unrouteFunc) Unroute(ctx context.Context, pod *workload.Pod) error { return f(ctx, pod) }

// A deleted pod leaves service traffic (the Unrouter returns) before its
// preStop hook runs and its containers get SIGTERM; an Unrouter that never
// returns delays the stop by UnrouteLimit only.
func TestDeletedPodLeavesServiceTrafficBeforeSIGTERM(t *testing.T) {
	var mu sync.Mutex
	var steps []string
	step := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		steps = append(steps, s)
	}
	release := make(chan struct{})
	h := newHarness(t, fake.Config{Behave: func(_ runtime.Sandbox, c runtime.ContainerConfig) fake.Behaviour {
		return fake.Behaviour{OnTerm: func() { step("SIGTERM " + c.Name) }, Exec: func(cmd []string, _ io.Reader, _, _ io.Writer) int {
			step("preStop")
			return 0
		}}
	}}, func(h *harness) {
		h.unrouteLimit = 100 * time.Millisecond
		h.unrouter = unrouteFunc(func(ctx context.Context, p *workload.Pod) error {
			if p.ObjectMeta.Name == "stuck" { // a proxy that never lets go
				<-ctx.Done()
				step("gave up on " + p.ObjectMeta.Name)
				return ctx.Err()
			}
			step("unrouting " + p.ObjectMeta.Name + " " + p.Status.PodIP)
			<-release
			step("unrouted")
			return nil
		})
	})
	for _, name := range []string{"web", "stuck"} {
		h.pods.put(pod(name, func(p *workload.Pod) {
			p.Spec.Containers[0].Lifecycle = &workload.Lifecycle{PreStop: &workload.LifecycleHandler{Exec: &workload.ExecAction{Command: []string{"prestop"}}}}
		}))
	}
	h.await("both pods to run", func() bool { return running(h.status("web")) && running(h.status("stuck")) })
	deleteNow := func(name string) {
		p, _ := h.pods.get(name)
		now := h.clock.Now()
		p.ObjectMeta.DeletionTimestamp = &workload.Time{Time: now}
		h.pods.put(p)
	}
	deleteNow("web")
	h.await("the agent to wait for web to leave service traffic", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(steps) > 0
	})
	mu.Lock()
	if ip := h.status("web").PodIP; len(steps) != 1 || steps[0] != "unrouting web "+ip {
		t.Errorf("first steps %q, want only [unrouting web %s]", steps, ip)
	}
	mu.Unlock()
	close(release)
	h.await("web's object to be removed", func() bool { _, ok := h.pods.get("web"); return !ok })
	mu.Lock()
	got := strings.Join(steps[1:], ", ")
	steps = nil
	mu.Unlock()
	if want := "unrouted, preStop, SIGTERM web"; got != want {
		t.Errorf("after unrouting began: %s, want %s", got, want)
	}
	deleteNow("stuck")
	h.await("stuck's object to be removed", func() bool { _, ok := h.pods.get("stuck"); return !ok })
	mu.Lock()
	defer mu.Unlock()
	if got, want := strings.Join(steps, ", "), "gave up on stuck, preStop, SIGTERM web"; got != want {
		t.Errorf("a stuck unrouter: %s, want %s", got, want)
	}
}

func TestStartRemovesOrphansAndAdoptsWantedPods(t *testing.T) {
	var keptSandbox string
	h := newHarness(t, fake.Config{}, func(h *harness) {
		ctx := context.Background()
		orphan, err := h.rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "uid-replaced", Namespace: "default", Name: "replaced"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.rt.CreateContainer(ctx, orphan.ID, runtime.ContainerConfig{Name: "web", Image: "shoal.local/webapp:v1"}); err != nil {
			t.Fatal(err)
		}
		kept, err := h.rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "uid-kept", Namespace: "default", Name: "kept"})
		if err != nil {
			t.Fatal(err)
		}
		keptSandbox = kept.ID
		h.pods.put(pod("kept", nil))
	})
	h.await("kept to run", func() bool { return running(h.status("kept")) })
	sbs, _ := h.rt.ListSandboxes(context.Background())
	if len(sbs) != 1 || sbs[0].ID != keptSandbox {
		t.Fatalf("sandboxes %+v, want only the kept pod's %s", sbs, keptSandbox)
	}
	cs, _ := h.rt.ListContainers(context.Background(), runtime.ContainerFilter{})
	for _, c := range cs {
		if c.SandboxID != keptSandbox {
			t.Errorf("orphan container left: %+v", c)
		}
	}
}

func TestProbes(t *testing.T) {
	var mu sync.Mutex
	healthy, ready := true, false
	h := newHarness(t, fake.Config{Behave: func(runtime.Sandbox, runtime.ContainerConfig) fake.Behaviour {
		return fake.Behaviour{Exec: func(cmd []string, _ io.Reader, _, _ io.Writer) int {
			mu.Lock()
			defer mu.Unlock()
			ok := map[string]bool{"live": healthy, "ready": ready}[cmd[0]]
			if ok {
				return 0
			}
			return 1
		}}
	}}, nil)
	probe := func(cmd string) *workload.Probe {
		return &workload.Probe{ProbeHandler: workload.ProbeHandler{Exec: &workload.ExecAction{Command: []string{cmd}}},
			PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 2}
	}
	h.pods.put(pod("probed", func(p *workload.Pod) {
		p.Spec.Containers[0].LivenessProbe = probe("live")
		p.Spec.Containers[0].ReadinessProbe = probe("ready")
	}))
	h.await("probed to run", func() bool { return running(h.status("probed")) })
	isReady := func() bool { return cond(h.status("probed"), workload.PodReady).Status == workload.ConditionTrue }
	if isReady() {
		t.Fatal("ready before the readiness probe passed")
	}
	mu.Lock()
	ready = true
	mu.Unlock()
	h.clock.Advance(time.Second)
	h.await("Ready after the probe passes", isReady)

	mu.Lock()
	ready = false
	mu.Unlock()
	// failureThreshold 2: the clock moves a period at a time until the
	// probe has failed often enough.
	h.await("Ready cleared", func() bool { h.clock.Advance(time.Second); return !isReady() })

	mu.Lock()
	healthy = false
	mu.Unlock()
	h.await("a restart after liveness failures", func() bool {
		h.clock.Advance(time.Second)
		return h.status("probed").ContainerStatuses[0].RestartCount >= 1
	})
	if !h.pods.sawEvent("Unhealthy") || !h.pods.sawEvent("Killing") {
		t.Errorf("events %q, want Unhealthy and Killing", h.pods.events)
	}
}

// A pod's volumes: while its config map is missing it stays
// ContainerCreating, with a FailedMount event naming the config map; once
// the config map exists the container runs with its mounts (the emptyDir
// writable, the config map read-only, a subPath resolved to its file); an
// update of the config map reaches the file; deleting the pod removes its
// volumes.
func TestPodVolumesAreSetUpMountedRefreshedAndTornDown(t *testing.T) {
	var mu sync.Mutex
	var mounts []runtime.Mount
	h := newHarness(t, fake.Config{Behave: func(_ runtime.Sandbox, c runtime.ContainerConfig) fake.Behaviour {
		mu.Lock()
		defer mu.Unlock()
		mounts = c.Mounts
		return fake.Behaviour{}
	}}, func(h *harness) {
		h.volumes = &volumes.Mounter{Root: filepath.Join(t.TempDir(), "pods"), Now: h.clock.Now}
	})
	h.pods.put(pod("web", func(p *workload.Pod) {
		p.Spec.Volumes = []workload.Volume{
			{Name: "scratch", VolumeSource: workload.VolumeSource{EmptyDir: &workload.EmptyDirVolumeSource{}}},
			{Name: "config", VolumeSource: workload.VolumeSource{ConfigMap: &workload.ConfigMapVolumeSource{LocalObjectReference: workload.LocalObjectReference{Name: "web-config"}}}},
		}
		p.Spec.Containers[0].VolumeMounts = []workload.VolumeMount{
			{Name: "scratch", MountPath: "/scratch"},
			{Name: "config", MountPath: "/etc/web"},
			{Name: "config", MountPath: "/etc/web.conf", SubPath: "web.conf"},
		}
	}))
	h.await("a FailedMount event naming the config map", func() bool {
		ev := h.pods.eventsOf("FailedMount")
		return len(ev) > 0 && strings.Contains(ev[0], `volume "config": configmap "web-config" not found`)
	})
	h.await("web's status to say ContainerCreating", func() bool {
		st := h.status("web")
		return len(st.ContainerStatuses) == 1 && st.ContainerStatuses[0].State.Waiting != nil &&
			st.ContainerStatuses[0].State.Waiting.Reason == workload.ReasonContainerCreating
	})
	mu.Lock()
	if mounts != nil {
		t.Error("a container was created before its volumes were set up")
	}
	mu.Unlock()
	h.pods.putConfigMap("web-config", map[string]string{"web.conf": "port=9000", "greeting": "hello"})
	h.await("web to run once its config map exists", func() bool { return running(h.status("web")) })
	vols := filepath.Join(h.volumes.Root, "uid-web", "volumes")
	mu.Lock()
	got := fmt.Sprint(mounts)
	mu.Unlock()
	conf, _ := filepath.EvalSymlinks(filepath.Join(vols, "config", "web.conf"))
	want := fmt.Sprint([]runtime.Mount{
		{HostPath: filepath.Join(vols, "scratch"), ContainerPath: "/scratch"},
		{HostPath: filepath.Join(vols, "config"), ContainerPath: "/etc/web", ReadOnly: true},
		{HostPath: conf, ContainerPath: "/etc/web.conf", ReadOnly: true},
	})
	if got != want {
		t.Fatalf("mounts %s\nwant %s", got, want)
	}
	if n := len(h.pods.eventsOf("FailedMount")); n != 1 {
		t.Errorf("%d FailedMount events for one reason, want 1", n)
	}
	h.pods.putConfigMap("web-config", map[string]string{"web.conf": "port=9000", "greeting": "bonjour"})
	h.await("the update in the pod's files", func() bool {
		h.clock.Advance(time.Second)
		b, _ := os.ReadFile(filepath.Join(vols, "config", "greeting"))
		return string(b) == "bonjour"
	})
	p, _ := h.pods.get("web")
	now := h.clock.Now()
	p.ObjectMeta.DeletionTimestamp = &workload.Time{Time: now}
	h.pods.put(p)
	h.await("web's object to be removed", func() bool { _, ok := h.pods.get("web"); return !ok })
	if _, err := os.Stat(filepath.Join(h.volumes.Root, "uid-web")); !os.IsNotExist(err) {
		t.Errorf("the pod's volumes outlived it: %v", err)
	}
}

// Env from a Secret: without it the container is not created, with a
// Failed event naming the secret and never a value; once it exists the
// container gets secretKeyRef and envFrom variables.
func TestSecretsAsEnv(t *testing.T) {
	var mu sync.Mutex
	var env []string
	h := newHarness(t, fake.Config{Behave: func(_ runtime.Sandbox, c runtime.ContainerConfig) fake.Behaviour {
		mu.Lock()
		defer mu.Unlock()
		env = c.Env
		return fake.Behaviour{}
	}}, nil)
	h.pods.put(pod("web", func(p *workload.Pod) {
		c := &p.Spec.Containers[0]
		c.Env = []workload.EnvVar{{Name: "DB_PASSWORD", ValueFrom: &workload.EnvVarSource{SecretKeyRef: &workload.SecretKeySelector{LocalObjectReference: workload.LocalObjectReference{Name: "db"}, Key: "password"}}}}
		c.EnvFrom = []workload.EnvFromSource{{Prefix: "DB_", SecretRef: &workload.SecretEnvSource{LocalObjectReference: workload.LocalObjectReference{Name: "db"}}}}
	}))
	h.await("a Failed event naming the secret", func() bool {
		for _, e := range h.pods.eventsOf("Failed") {
			if strings.Contains(e, `secret "db" not found`) {
				return true
			}
		}
		return false
	})
	h.pods.mu.Lock()
	h.pods.secrets = map[string]*workload.Secret{"default/db": {Data: map[string][]byte{"password": []byte("s3cr3t"), "user": []byte("app")}}}
	h.pods.mu.Unlock()
	h.await("web to run once its secret exists", func() bool {
		h.clock.Advance(time.Second) // past the back-off of the failed create
		return running(h.status("web"))
	})
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"DB_PASSWORD=s3cr3t", "DB_password=s3cr3t", "DB_user=app"} {
		if !slices.Contains(env, want) {
			t.Errorf("env %q lacks %s", env, want)
		}
	}
	for _, e := range h.pods.eventsOf("Failed") {
		if strings.Contains(e, "s3cr3t") {
			t.Errorf("an event shows the secret's value: %s", e)
		}
	}
}
