package nodeagent

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
	"github.com/shoalproject/shoal/workload/runtime/fake"
)

// withSidecar gives a pod a first init container "proxy" with
// restartPolicy Always, and then the init containers named after it.
func withSidecar(p *workload.Pod, inits ...string) {
	always := corev1.ContainerRestartPolicyAlways
	p.Spec.InitContainers = []workload.Container{{Name: "proxy", Image: "shoal.local/webapp:v1", RestartPolicy: &always}}
	for _, name := range inits {
		p.Spec.InitContainers = append(p.Spec.InitContainers, workload.Container{Name: name, Image: "shoal.local/webapp:v1"})
	}
}

// synced returns once the pod's worker has run a whole sync that began
// after the call: the worker takes the pod handed to it only between two
// syncs, so the second of two hand-overs is taken after a whole one. For
// tests with one pod only (the hand-over says every other pod is gone).
func synced(h *harness, name string) {
	h.t.Helper()
	h.agent.mu.Lock()
	w := h.agent.workers["uid-"+name]
	h.agent.mu.Unlock()
	for range 2 {
		p, _ := h.pods.get(name)
		h.agent.dispatch(context.Background(), []workload.Pod{p}, nil)
		h.await("the worker to take the pod", func() bool { return len(w.updates) == 0 })
	}
}

func initStatus(st workload.PodStatus, name string) workload.ContainerStatus {
	for _, cs := range st.InitContainerStatuses {
		if cs.Name == name {
			return cs
		}
	}
	return workload.ContainerStatus{}
}

// startedEvents are the names of the containers in the order they were
// started, once per start.
func startedEvents(h *harness) []string {
	var out []string
	for _, e := range h.pods.eventsOf("Started") {
		out = append(out, strings.TrimPrefix(e, "Started: Started container "))
	}
	return out
}

// A sidecar starts in its turn among the init containers; the next one is
// created only once the sidecar has started (here: its startup probe
// passed), the containers after that; the sidecar then keeps running
// beside them, started, and its readiness holds the pod's back.
func TestSidecarStartsBeforeTheNextInitContainerAndRunsBesideTheContainers(t *testing.T) {
	var mu sync.Mutex
	started, ready, startupRuns := false, false, 0
	h := newHarness(t, fake.Config{Behave: func(_ runtime.Sandbox, c runtime.ContainerConfig) fake.Behaviour {
		if c.Name == "migrate" {
			return fake.Behaviour{ExitOnStart: true}
		}
		return fake.Behaviour{Exec: func(cmd []string, _ io.Reader, _, _ io.Writer) int {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case cmd[0] == "started":
				startupRuns++
				if started {
					return 0
				}
			case cmd[0] == "ready" && ready:
				return 0
			}
			return 1
		}}
	}}, nil)
	probe := func(cmd string) *workload.Probe {
		return &workload.Probe{ProbeHandler: workload.ProbeHandler{Exec: &workload.ExecAction{Command: []string{cmd}}},
			PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1000}
	}
	h.pods.put(pod("web", func(p *workload.Pod) {
		withSidecar(p, "migrate")
		p.Spec.InitContainers[0].StartupProbe = probe("started")
		p.Spec.InitContainers[0].ReadinessProbe = probe("ready")
	}))
	h.await("the startup probe to fail three times", func() bool {
		h.clock.Advance(time.Second)
		mu.Lock()
		defer mu.Unlock()
		return startupRuns >= 3
	})
	synced(h, "web")
	st := h.status("web")
	if got := startedEvents(h); !slices.Equal(got, []string{"proxy"}) {
		t.Fatalf("started %q while the sidecar had not started, want only proxy", got)
	}
	if cs := initStatus(st, "proxy"); cs.State.Running == nil || cs.Started == nil || *cs.Started || cs.Ready {
		t.Errorf("the sidecar before its startup probe passed: %+v", cs)
	}
	if st.Phase != workload.PodPending || cond(st, workload.PodInitialized).Status != workload.ConditionFalse {
		t.Errorf("phase %s, Initialized %s; want Pending and False", st.Phase, cond(st, workload.PodInitialized).Status)
	}

	mu.Lock()
	started = true
	mu.Unlock()
	h.await("web to run", func() bool { h.clock.Advance(time.Second); return running(h.status("web")) })
	if got := startedEvents(h); !slices.Equal(got, []string{"proxy", "migrate", "web"}) {
		t.Errorf("started %q, want proxy, migrate, web", got)
	}
	st = h.status("web")
	if cs := initStatus(st, "proxy"); cs.State.Running == nil || cs.Started == nil || !*cs.Started || cs.RestartCount != 0 {
		t.Errorf("the sidecar beside the containers: %+v", cs)
	}
	if cs := initStatus(st, "migrate"); cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 {
		t.Errorf("the init container after the sidecar: %+v", cs)
	}
	synced(h, "web")
	if c := cond(h.status("web"), workload.PodReady); c.Status != workload.ConditionFalse {
		t.Errorf("Ready %s while the sidecar's readiness probe fails, want False", c.Status)
	}
	mu.Lock()
	ready = true
	mu.Unlock()
	h.await("Ready once the sidecar is", func() bool {
		h.clock.Advance(time.Second)
		st := h.status("web")
		return cond(st, workload.PodReady).Status == workload.ConditionTrue && initStatus(st, "proxy").Ready
	})
}

// A sidecar is restarted when it exits even under restartPolicy Never; the
// containers are not touched.
func TestSidecarRestartsOnExitUnderRestartPolicyNever(t *testing.T) {
	h := newHarness(t, fake.Config{}, nil)
	h.pods.put(pod("web", func(p *workload.Pod) {
		p.Spec.RestartPolicy = workload.RestartPolicyNever
		withSidecar(p)
	}))
	h.await("web to run", func() bool { return running(h.status("web")) })
	id := strings.TrimPrefix(initStatus(h.status("web"), "proxy").ContainerID, "containerd://")
	if err := h.rt.Exit(id, 1); err != nil {
		t.Fatal(err)
	}
	h.await("the sidecar's restart", func() bool {
		cs := initStatus(h.status("web"), "proxy")
		return cs.RestartCount == 1 && cs.State.Running != nil
	})
	st := h.status("web")
	if last := initStatus(st, "proxy").LastTerminationState.Terminated; last == nil || last.ExitCode != 1 {
		t.Errorf("the sidecar's lastState %+v, want terminated with 1", last)
	}
	if !running(st) || st.ContainerStatuses[0].RestartCount != 0 {
		t.Errorf("status %+v, want Running with web never restarted", st)
	}
}

// A pod with restartPolicy Never Succeeds once its container exited 0,
// though its sidecar still ran: the agent then stops the sidecar, and does
// not restart it.
func TestPodWithSidecarSucceedsWhenItsContainerExits0(t *testing.T) {
	h := newHarness(t, fake.Config{}, nil)
	h.pods.put(pod("job", func(p *workload.Pod) {
		p.Spec.RestartPolicy = workload.RestartPolicyNever
		withSidecar(p)
	}))
	h.await("job to run", func() bool { return running(h.status("job")) })
	if err := h.rt.Exit(containerID(t, h, "job"), 0); err != nil {
		t.Fatal(err)
	}
	h.await("job to succeed", func() bool { return h.status("job").Phase == workload.PodSucceeded })
	synced(h, "job")
	cs := initStatus(h.status("job"), "proxy")
	if cs.State.Terminated == nil || cs.RestartCount != 0 {
		t.Errorf("the sidecar of a pod that succeeded: %+v, want terminated and never restarted", cs)
	}
	if got := startedEvents(h); !slices.Equal(got, []string{"proxy", "web"}) {
		t.Errorf("started %q, want each container once", got)
	}
	if !slices.Contains(h.pods.eventsOf("Killing"), "Killing: Stopping container proxy") {
		t.Errorf("events %q, want the sidecar stopped", h.pods.events)
	}
}

// A deleted pod's containers stop before its sidecars, and the sidecars
// last one first.
func TestDeletedPodStopsSidecarsAfterItsContainers(t *testing.T) {
	var mu sync.Mutex
	var terms []string
	h := newHarness(t, fake.Config{Behave: func(_ runtime.Sandbox, c runtime.ContainerConfig) fake.Behaviour {
		return fake.Behaviour{OnTerm: func() {
			mu.Lock()
			defer mu.Unlock()
			terms = append(terms, c.Name)
		}}
	}}, nil)
	h.pods.put(pod("web", func(p *workload.Pod) {
		withSidecar(p)
		always := corev1.ContainerRestartPolicyAlways
		p.Spec.InitContainers = append(p.Spec.InitContainers, workload.Container{Name: "logs", Image: "shoal.local/webapp:v1", RestartPolicy: &always})
	}))
	h.await("web to run", func() bool { return running(h.status("web")) })
	p, _ := h.pods.get("web")
	now := h.clock.Now()
	p.ObjectMeta.DeletionTimestamp = &workload.Time{Time: now}
	h.pods.put(p)
	h.await("web's object to be removed", func() bool { _, ok := h.pods.get("web"); return !ok })
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"web", "logs", "proxy"}; !slices.Equal(terms, want) {
		t.Errorf("SIGTERM went to %q, want %q", terms, want)
	}
}
