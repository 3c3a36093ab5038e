package nodeagent

import (
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
	"github.com/shoalproject/shoal/workload/runtime/fake"
)

func withPostStart(c *workload.Container, cmd ...string) {
	c.Lifecycle = &workload.Lifecycle{PostStart: &workload.LifecycleHandler{Exec: &workload.ExecAction{Command: cmd}}}
}

// While a container's postStart hook runs the container is not Running
// (nor started, nor ready) and the container after it is not started;
// once the hook returns, both run and the pod is Ready.
func TestPostStartRunsBeforeTheContainerIsReady(t *testing.T) {
	hooked, release := make(chan struct{}), make(chan struct{})
	h := newHarness(t, fake.Config{Behave: func(runtime.Sandbox, runtime.ContainerConfig) fake.Behaviour {
		return fake.Behaviour{Exec: func(cmd []string, _ io.Reader, _, _ io.Writer) int {
			if cmd[0] == "poststart" {
				close(hooked)
				<-release
			}
			return 0
		}}
	}}, nil)
	h.pods.put(pod("web", func(p *workload.Pod) {
		withPostStart(&p.Spec.Containers[0], "poststart")
		p.Spec.Containers = append(p.Spec.Containers, workload.Container{Name: "after", Image: "shoal.local/webapp:v1"})
	}))
	<-hooked
	synced(h, "web")
	st := h.status("web")
	if cs := st.ContainerStatuses[0]; cs.State.Waiting == nil || cs.Ready || cs.Started == nil || *cs.Started {
		t.Errorf("web while its postStart hook runs: %+v, want waiting, not started, not ready", cs)
	}
	if st.Phase != workload.PodPending || cond(st, workload.PodReady).Status != workload.ConditionFalse {
		t.Errorf("phase %s Ready %s while a postStart hook runs, want Pending and False", st.Phase, cond(st, workload.PodReady).Status)
	}
	if got := startedEvents(h); !slices.Equal(got, []string{"web"}) {
		t.Errorf("started %q before web's postStart returned, want only web", got)
	}
	close(release)
	h.await("the pod to be Ready", func() bool { return cond(h.status("web"), workload.PodReady).Status == workload.ConditionTrue })
	if got := startedEvents(h); !slices.Equal(got, []string{"web", "after"}) {
		t.Errorf("started %q, want web, then after", got)
	}
}

// A failing postStart hook kills the container, with a FailedPostStartHook
// event in the kubelet's words, and the container is restarted.
func TestFailingPostStartRestartsTheContainer(t *testing.T) {
	var mu sync.Mutex
	hooks := 0
	h := newHarness(t, fake.Config{Behave: func(runtime.Sandbox, runtime.ContainerConfig) fake.Behaviour {
		return fake.Behaviour{Exec: func(cmd []string, _ io.Reader, stdout, _ io.Writer) int {
			mu.Lock()
			defer mu.Unlock()
			if hooks++; hooks == 1 {
				io.WriteString(stdout, "no config")
				return 1
			}
			return 0
		}}
	}}, nil)
	h.pods.put(pod("web", func(p *workload.Pod) { withPostStart(&p.Spec.Containers[0], "poststart", "--check") }))
	h.await("web to run after a restart", func() bool {
		cs := h.status("web").ContainerStatuses
		return len(cs) == 1 && cs[0].RestartCount == 1 && cs[0].Ready
	})
	want := `FailedPostStartHook: PostStartHookError: Exec lifecycle hook ([poststart --check]) for Container "web" in Pod "web_default(uid-web)" failed - error: command 'poststart --check' exited with 1: no config, message: "no config"`
	if got := h.pods.eventsOf("FailedPostStartHook"); !slices.Equal(got, []string{want}) {
		t.Errorf("events %q\nwant %q", got, want)
	}
	if last := h.status("web").ContainerStatuses[0].LastTerminationState.Terminated; last == nil {
		t.Error("no lastState for the killed run")
	}
	if !slices.ContainsFunc(h.pods.eventsOf("Killing"), func(e string) bool { return strings.Contains(e, "FailedPostStartHook") }) {
		t.Errorf("no Killing event for the hook: %q", h.pods.events)
	}
}
