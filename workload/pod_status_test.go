package workload

import (
	"errors"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestPodConditions(t *testing.T) {
	p := pod(nil)
	if IsPodReady(p) {
		t.Fatal("a pod without conditions is ready")
	}
	if !SetPodCondition(&p.Status, PodCondition{Type: PodReady, Status: ConditionFalse, LastTransitionTime: NewTime(t0)}) {
		t.Error("adding a condition is not a change")
	}
	if SetPodCondition(&p.Status, PodCondition{Type: PodReady, Status: ConditionFalse, LastTransitionTime: NewTime(t0.Add(time.Minute))}) {
		t.Error("the same status at a later time is a change")
	}
	if c := GetPodCondition(&p.Status, PodReady); !c.LastTransitionTime.Time.Equal(t0) {
		t.Errorf("transition time = %v; want the first %v", c.LastTransitionTime, t0)
	}
	if !SetPodCondition(&p.Status, PodCondition{Type: PodReady, Status: ConditionFalse, Reason: "ContainersNotReady", LastTransitionTime: NewTime(t0.Add(time.Minute))}) {
		t.Error("a new reason is not a change")
	}
	if c := GetPodCondition(&p.Status, PodReady); !c.LastTransitionTime.Time.Equal(t0) || c.Reason != "ContainersNotReady" {
		t.Errorf("condition = %+v; want the reason updated and the time kept", c)
	}
	if !SetPodCondition(&p.Status, PodCondition{Type: PodReady, Status: ConditionTrue, LastTransitionTime: NewTime(t0.Add(2 * time.Minute))}) || !IsPodReady(p) {
		t.Error("the pod did not become ready")
	}
	if c := GetPodCondition(&p.Status, PodReady); !c.LastTransitionTime.Time.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("transition time = %v; want the change's", c.LastTransitionTime)
	}
	SetPodCondition(&p.Status, PodCondition{Type: PodScheduled, Status: ConditionTrue})
	if len(p.Status.Conditions) != 2 || GetPodCondition(&p.Status, ContainersReady) != nil {
		t.Errorf("conditions = %+v", p.Status.Conditions)
	}
}

func TestPodDisplayStatus(t *testing.T) {
	running := ContainerStatus{Name: "web", Ready: true, State: ContainerState{Running: &ContainerStateRunning{StartedAt: NewTime(t0)}}}
	notReady := ContainerStatus{Name: "side", State: ContainerState{Running: &ContainerStateRunning{StartedAt: NewTime(t0)}}}
	waiting := func(reason string) ContainerStatus {
		return ContainerStatus{Name: "web", State: ContainerState{Waiting: &ContainerStateWaiting{Reason: reason}}}
	}
	terminated := func(code, signal int32, reason string) ContainerStatus {
		return ContainerStatus{Name: "web", State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: code, Signal: signal, Reason: reason}}}
	}
	crashing := waiting(ReasonCrashLoopBackOff)
	crashing.RestartCount = 5
	crashing.LastTerminationState = ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 1, Reason: ReasonError, FinishedAt: NewTime(t0)}}
	two := func(p *Pod) {
		p.Spec.Containers = append(p.Spec.Containers, Container{Name: "side", Image: "side"})
	}
	init2 := func(p *Pod) {
		p.Spec.InitContainers = []Container{{Name: "i1", Image: "i"}, {Name: "i2", Image: "i"}}
	}
	for _, tc := range []struct {
		name                   string
		pod                    *Pod
		status, ready, restart string
	}{
		{"unscheduled", pod(func(p *Pod) { p.Status.Phase = PodPending }), "Pending", "0/1", "0"},
		{"no status yet", pod(nil), "Pending", "0/1", "0"},
		{"creating", pod(func(p *Pod) {
			p.Status.Phase = PodPending
			p.Status.ContainerStatuses = []ContainerStatus{waiting(ReasonContainerCreating)}
		}), "ContainerCreating", "0/1", "0"},
		{"running", pod(func(p *Pod) {
			p.Status.Phase = PodRunning
			p.Status.ContainerStatuses = []ContainerStatus{running}
		}), "Running", "1/1", "0"},
		{"one of two ready", pod(func(p *Pod) {
			two(p)
			p.Status.Phase = PodRunning
			p.Status.ContainerStatuses = []ContainerStatus{running, notReady}
		}), "Running", "1/2", "0"},
		{"crash loop", pod(func(p *Pod) {
			p.Status.Phase = PodRunning
			p.Status.ContainerStatuses = []ContainerStatus{crashing}
		}), "CrashLoopBackOff", "0/1", "5 (2m ago)"},
		{"pull error", pod(func(p *Pod) {
			p.Status.Phase = PodPending
			p.Status.ContainerStatuses = []ContainerStatus{waiting(ReasonErrImagePull)}
		}), "ErrImagePull", "0/1", "0"},
		{"pull back-off", pod(func(p *Pod) {
			p.Status.Phase = PodPending
			p.Status.ContainerStatuses = []ContainerStatus{waiting(ReasonImagePullBackOff)}
		}), "ImagePullBackOff", "0/1", "0"},
		{"completed", pod(func(p *Pod) {
			p.Status.Phase = PodSucceeded
			p.Status.ContainerStatuses = []ContainerStatus{terminated(0, 0, ReasonCompleted)}
		}), "Completed", "0/1", "0"},
		{"error", pod(func(p *Pod) {
			p.Status.Phase = PodFailed
			p.Status.ContainerStatuses = []ContainerStatus{terminated(1, 0, ReasonError)}
		}), "Error", "0/1", "0"},
		{"oom", pod(func(p *Pod) {
			p.Status.Phase = PodFailed
			p.Status.ContainerStatuses = []ContainerStatus{terminated(137, 0, ReasonOOMKilled)}
		}), "OOMKilled", "0/1", "0"},
		{"exit code without reason", pod(func(p *Pod) {
			p.Status.Phase = PodFailed
			p.Status.ContainerStatuses = []ContainerStatus{terminated(2, 0, "")}
		}), "ExitCode:2", "0/1", "0"},
		{"signal without reason", pod(func(p *Pod) {
			p.Status.Phase = PodFailed
			p.Status.ContainerStatuses = []ContainerStatus{terminated(0, 9, "")}
		}), "Signal:9", "0/1", "0"},
		{"completed beside a running ready container", pod(func(p *Pod) {
			two(p)
			p.Status.Phase = PodRunning
			p.Status.Conditions = []PodCondition{{Type: PodReady, Status: ConditionTrue}}
			p.Status.ContainerStatuses = []ContainerStatus{terminated(0, 0, ReasonCompleted), running}
		}), "Running", "1/2", "0"},
		{"completed beside a running container, pod not ready", pod(func(p *Pod) {
			two(p)
			p.Status.Phase = PodRunning
			p.Status.ContainerStatuses = []ContainerStatus{terminated(0, 0, ReasonCompleted), running}
		}), "NotReady", "1/2", "0"},
		{"evicted", pod(func(p *Pod) {
			p.Status.Phase = PodFailed
			p.Status.Reason = "Evicted"
		}), "Evicted", "0/1", "0"},
		{"terminating", pod(func(p *Pod) {
			p.ObjectMeta.DeletionTimestamp = &Time{Time: t0}
			p.Status.Phase = PodRunning
			p.Status.ContainerStatuses = []ContainerStatus{running}
		}), "Terminating", "1/1", "0"},
		{"deleted after it completed", pod(func(p *Pod) {
			p.ObjectMeta.DeletionTimestamp = &Time{Time: t0}
			p.Status.Phase = PodSucceeded
			p.Status.ContainerStatuses = []ContainerStatus{terminated(0, 0, ReasonCompleted)}
		}), "Completed", "0/1", "0"},
		{"node lost", pod(func(p *Pod) {
			p.ObjectMeta.DeletionTimestamp = &Time{Time: t0}
			p.Status.Phase = PodRunning
			p.Status.Reason = PodReasonNodeLost
		}), "Unknown", "0/1", "0"},
		{"first init container running", pod(func(p *Pod) {
			init2(p)
			p.Status.Phase = PodPending
			p.Status.InitContainerStatuses = []ContainerStatus{{Name: "i1", State: ContainerState{Running: &ContainerStateRunning{}}}, waiting(ReasonPodInitializing)}
			p.Status.ContainerStatuses = []ContainerStatus{waiting(ReasonPodInitializing)}
		}), "Init:0/2", "0/1", "0"},
		{"second init container pulling", pod(func(p *Pod) {
			init2(p)
			p.Status.Phase = PodPending
			p.Status.InitContainerStatuses = []ContainerStatus{terminated(0, 0, ReasonCompleted), waiting(ReasonErrImagePull)}
			p.Status.ContainerStatuses = []ContainerStatus{waiting(ReasonPodInitializing)}
		}), "Init:ErrImagePull", "0/1", "0"},
		{"init container failed", pod(func(p *Pod) {
			init2(p)
			p.Status.Phase = PodPending
			failed := terminated(1, 0, ReasonError)
			failed.RestartCount = 3
			p.Status.InitContainerStatuses = []ContainerStatus{failed, waiting("")}
		}), "Init:Error", "0/1", "3"},
		{"init containers done", pod(func(p *Pod) {
			init2(p)
			p.Status.Phase = PodRunning
			p.Status.Conditions = []PodCondition{{Type: PodInitialized, Status: ConditionTrue}}
			p.Status.InitContainerStatuses = []ContainerStatus{terminated(0, 0, ReasonCompleted), terminated(0, 0, ReasonCompleted)}
			p.Status.ContainerStatuses = []ContainerStatus{running}
		}), "Running", "1/1", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := PodDisplayStatus(tc.pod)
			if d.Status != tc.status || d.Ready() != tc.ready || d.RestartsColumn(t0.Add(2*time.Minute)) != tc.restart {
				t.Errorf("STATUS %q READY %q RESTARTS %q; want %q %q %q",
					d.Status, d.Ready(), d.RestartsColumn(t0.Add(2*time.Minute)), tc.status, tc.ready, tc.restart)
			}
		})
	}
}

func TestPodFieldValue(t *testing.T) {
	p := pod(func(p *Pod) {
		p.ObjectMeta.Namespace, p.ObjectMeta.UID = "team-a", "u-1"
		p.ObjectMeta.Labels = map[string]string{"app": "web"}
		p.ObjectMeta.Annotations = map[string]string{"example.com/owner": "ops"}
		p.Spec.NodeName = "peer-1"
		p.Status.HostIP, p.Status.PodIP = "192.168.1.2", "10.1.0.7"
		p.Status.PodIPs = []PodIP{{IP: "10.1.0.7"}, {IP: "fd00::7"}}
	})
	for path, want := range map[string]string{
		"metadata.name": "web-0", "metadata.namespace": "team-a", "metadata.uid": "u-1",
		"metadata.labels['app']": "web", "metadata.labels['missing']": "",
		"metadata.annotations['example.com/owner']": "ops",
		"spec.nodeName": "peer-1", "status.hostIP": "192.168.1.2", "status.podIP": "10.1.0.7", "status.podIPs": "10.1.0.7,fd00::7",
	} {
		if got, err := PodFieldValue(p, path); err != nil || got != want {
			t.Errorf("PodFieldValue(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := PodFieldValue(p, "spec.containers"); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("unsupported path: error = %v; want ErrInvalid", err)
	}
	// Every path validation accepts, PodFieldValue answers.
	for _, path := range append(append([]string{"metadata.labels['<KEY>']", "metadata.annotations['<KEY>']"}, EnvFieldPaths...), VolumeFieldPaths...) {
		path = replaceKey(path)
		if _, err := PodFieldValue(p, path); err != nil {
			t.Errorf("PodFieldValue(%q): %v", path, err)
		}
	}
}

func replaceKey(path string) string {
	if base, _, ok := splitFieldSubscript(path); ok {
		return base + "['k']"
	}
	return path
}
