package nodeagent

import (
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
)

func TestBackoffDoublesFromTenSecondsToFiveMinutes(t *testing.T) {
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 300 * time.Second, 300 * time.Second}
	for i, w := range want {
		if got := backoff(int32(i)); got != w {
			t.Errorf("backoff(%d) = %s, want %s", i, got, w)
		}
	}
}

func TestRestartPolicy(t *testing.T) {
	for _, c := range []struct {
		policy workload.RestartPolicy
		code   int
		want   bool
	}{
		{workload.RestartPolicyAlways, 0, true}, {workload.RestartPolicyAlways, 1, true},
		{workload.RestartPolicyOnFailure, 0, false}, {workload.RestartPolicyOnFailure, 2, true},
		{workload.RestartPolicyNever, 0, false}, {workload.RestartPolicyNever, 137, false},
	} {
		if got := restarts(c.policy, c.code); got != c.want {
			t.Errorf("restarts(%s, %d) = %v, want %v", c.policy, c.code, got, c.want)
		}
	}
}

func view(state runtime.ContainerState, code int) containerView {
	return containerView{spec: workload.Container{Name: "c"}, rt: &runtime.ContainerStatus{State: state, ExitCode: code}, ready: true, started: true}
}

func TestPodPhase(t *testing.T) {
	none := containerView{spec: workload.Container{Name: "c"}}
	for _, c := range []struct {
		name   string
		policy workload.RestartPolicy
		views  []containerView
		want   workload.PodPhase
	}{
		{"not created yet", workload.RestartPolicyAlways, []containerView{none}, workload.PodPending},
		{"one running, one not started", workload.RestartPolicyAlways, []containerView{view(runtime.ContainerRunning, 0), none}, workload.PodPending},
		{"running", workload.RestartPolicyAlways, []containerView{view(runtime.ContainerRunning, 0)}, workload.PodRunning},
		{"exited, will restart", workload.RestartPolicyAlways, []containerView{view(runtime.ContainerExited, 1)}, workload.PodRunning},
		{"all done", workload.RestartPolicyNever, []containerView{view(runtime.ContainerExited, 0)}, workload.PodSucceeded},
		{"one failed", workload.RestartPolicyNever, []containerView{view(runtime.ContainerExited, 0), view(runtime.ContainerExited, 3)}, workload.PodFailed},
		{"OnFailure, succeeded", workload.RestartPolicyOnFailure, []containerView{view(runtime.ContainerExited, 0)}, workload.PodSucceeded},
		{"OnFailure, failing", workload.RestartPolicyOnFailure, []containerView{view(runtime.ContainerExited, 1)}, workload.PodRunning},
	} {
		if got := podPhase(c.policy, false, c.views); got != c.want {
			t.Errorf("%s: phase %s, want %s", c.name, got, c.want)
		}
	}
}

func TestPodStatusKeepsTransitionTimesAndReportsReadiness(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	sb := &runtime.Sandbox{IP: "10.32.0.5"}
	notReady := view(runtime.ContainerRunning, 0)
	notReady.ready = false
	st := podStatus(workload.PodStatus{}, sb, "192.0.2.1", workload.RestartPolicyAlways, nil, true, false, []containerView{notReady}, t0)
	if st.Phase != workload.PodRunning || st.PodIP != "10.32.0.5" || st.HostIP != "192.0.2.1" {
		t.Fatalf("status %+v", st)
	}
	if c := cond(st, workload.PodReady); c.Status != workload.ConditionFalse || !c.LastTransitionTime.Time.Equal(t0) {
		t.Fatalf("Ready %+v, want False since t0", c)
	}
	// Later, still not ready: the transition time stays.
	st2 := podStatus(st, sb, "192.0.2.1", workload.RestartPolicyAlways, nil, true, false, []containerView{notReady}, t0.Add(time.Minute))
	if c := cond(st2, workload.PodReady); !c.LastTransitionTime.Time.Equal(t0) {
		t.Fatalf("Ready moved without a change: %+v", c)
	}
	// Ready now: a new transition.
	st3 := podStatus(st2, sb, "192.0.2.1", workload.RestartPolicyAlways, nil, true, false, []containerView{view(runtime.ContainerRunning, 0)}, t0.Add(2*time.Minute))
	if c := cond(st3, workload.PodReady); c.Status != workload.ConditionTrue || !c.LastTransitionTime.Time.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("Ready %+v, want True since t0+2m", c)
	}
	if !st3.ContainerStatuses[0].Ready || st3.ContainerStatuses[0].State.Running == nil {
		t.Fatalf("container status %+v", st3.ContainerStatuses[0])
	}
	// Waiting for init containers: PodInitializing, Pending.
	st4 := podStatus(workload.PodStatus{}, sb, "", workload.RestartPolicyAlways, nil, false, false, []containerView{{spec: workload.Container{Name: "c"}}}, t0)
	if st4.Phase != workload.PodPending || st4.ContainerStatuses[0].State.Waiting.Reason != workload.ReasonPodInitializing {
		t.Fatalf("initializing: %+v", st4)
	}
}

func cond(st workload.PodStatus, t workload.PodConditionType) workload.PodCondition {
	for _, c := range st.Conditions {
		if c.Type == t {
			return c
		}
	}
	return workload.PodCondition{}
}

func TestTerminatedShowsSignal(t *testing.T) {
	got := terminated(&runtime.ContainerStatus{ExitCode: 137, Reason: runtime.ReasonError})
	if got.Signal != 9 || got.ExitCode != 137 {
		t.Fatalf("%+v, want signal 9", got)
	}
}

func TestPlainHTTPRegistry(t *testing.T) {
	for ref, want := range map[string]bool{
		"127.0.0.1:5000/webapp:v1": true, "localhost:5000/x": true, "localhost/x": true,
		"registry.example/x": false, "webapp:v1": false, "docker.io/library/busybox": false,
		"10.1.2.3:5000/webapp:v1": true, "10.1.2.3:5001/webapp:v1": false,
	} {
		if got := plainHTTPRegistry(ref, []string{"10.1.2.3:5000"}); got != want {
			t.Errorf("plainHTTPRegistry(%q) = %v, want %v", ref, got, want)
		}
	}
}
