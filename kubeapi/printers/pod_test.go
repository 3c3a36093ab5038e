package printers

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podRow is a pod's cells with the wide columns of a pod that has no IP,
// no node, no nominated node and no readiness gates.
func podRow(name, ready, status, restarts, age string) []any {
	return []any{name, ready, status, restarts, age, "<none>", "<none>", "<none>", "<none>"}
}

var (
	running      = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	waitingBlank = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{}}
	sidecarSpec  = func(name string) corev1.Container {
		return corev1.Container{Name: name, RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways)}
	}
)

func waiting(reason string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
}

func terminated(reason string, exitCode int32) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: exitCode}}
}

// finished is a last termination state d ago: what RESTARTS' "(d ago)"
// measures.
func finished(d time.Duration) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: ago(d)}}
}

// TestPodStatus follows kube's TestPrintPod (printers_test.go), case for
// case, and adds the deletion and exit-code paths it leaves out.
func TestPodStatus(t *testing.T) {
	deleted := agoPtr(10 * time.Second)
	tests := []struct {
		name string
		pod  corev1.Pod
		want []any
	}{
		{
			name: "ready count, restarts summed, phase shown",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test1"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{Phase: "podPhase", ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{RestartCount: 3},
				}},
			},
			want: podRow("test1", "1/2", "podPhase", "6", "<unknown>"),
		},
		{
			name: "container waiting reason overrides phase",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test2"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{Phase: "podPhase", ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{State: waiting("ContainerWaitingReason"), RestartCount: 3},
				}},
			},
			want: podRow("test2", "1/2", "ContainerWaitingReason", "6", "<unknown>"),
		},
		{
			name: "first container's reason wins",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test3"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{Phase: "podPhase", ContainerStatuses: []corev1.ContainerStatus{
					{State: waiting("ContainerWaitingReason"), RestartCount: 3},
					{State: terminated("ContainerTerminatedReason", 0), RestartCount: 3},
				}},
			},
			want: podRow("test3", "0/2", "ContainerWaitingReason", "6", "<unknown>"),
		},
		{
			name: "ready without running is not ready",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test4"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{Phase: "podPhase", ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{Ready: true, RestartCount: 3},
				}},
			},
			want: podRow("test4", "1/2", "podPhase", "6", "<unknown>"),
		},
		{
			name: "pod reason overrides phase",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test5"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{Reason: "podReason", Phase: "podPhase", ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{Ready: true, RestartCount: 3},
				}},
			},
			want: podRow("test5", "1/2", "podReason", "6", "<unknown>"),
		},
		{
			name: "one completed one running without Ready condition: NotReady",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test6"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: terminated("Completed", 0)},
					{Ready: true, RestartCount: 3, State: running},
				}},
			},
			want: podRow("test6", "1/2", "NotReady", "6", "<unknown>"),
		},
		{
			name: "one completed one running with Ready condition: Running",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test6"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{
					Phase: corev1.PodRunning,
					ContainerStatuses: []corev1.ContainerStatus{
						{Ready: true, RestartCount: 3, State: terminated("Completed", 0)},
						{Ready: true, RestartCount: 3, State: running},
					},
					Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
				},
			},
			want: podRow("test6", "1/2", "Running", "6", "<unknown>"),
		},
		{
			name: "init container restarting",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test7"},
				Spec:       corev1.PodSpec{InitContainers: make([]corev1.Container, 1), Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{
					Phase:                 "podPhase",
					InitContainerStatuses: []corev1.ContainerStatus{{RestartCount: 3, State: running, LastTerminationState: finished(10 * time.Second)}},
					ContainerStatuses:     []corev1.ContainerStatus{{State: waitingBlank}},
				},
			},
			want: podRow("test7", "0/1", "Init:0/1", "3 (10s ago)", "<unknown>"),
		},
		{
			name: "first of two init containers restarting",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test8"},
				Spec:       corev1.PodSpec{InitContainers: make([]corev1.Container, 2), Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{
					Phase: "podPhase",
					InitContainerStatuses: []corev1.ContainerStatus{
						{RestartCount: 3, State: running, LastTerminationState: finished(10 * time.Second)},
						{State: waitingBlank},
					},
					ContainerStatuses: []corev1.ContainerStatus{{State: waitingBlank}},
				},
			},
			want: podRow("test8", "0/1", "Init:0/2", "3 (10s ago)", "<unknown>"),
		},
		{
			name: "second init container restarting after the first completed",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test9"},
				Spec:       corev1.PodSpec{InitContainers: make([]corev1.Container, 2), Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{
					Phase: "podPhase",
					InitContainerStatuses: []corev1.ContainerStatus{
						{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}},
						{RestartCount: 3, State: running, LastTerminationState: finished(10 * time.Second)},
					},
					ContainerStatuses: []corev1.ContainerStatus{{State: waitingBlank}},
				},
			},
			want: podRow("test9", "0/1", "Init:1/2", "3 (10s ago)", "<unknown>"),
		},
		{
			name: "completed init container's restarts count while initializing",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test10"},
				Spec:       corev1.PodSpec{InitContainers: make([]corev1.Container, 2), Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{
					Phase: "podPhase",
					InitContainerStatuses: []corev1.ContainerStatus{
						{RestartCount: 2, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}, LastTerminationState: finished(2 * time.Minute)},
						{RestartCount: 3, State: running, LastTerminationState: finished(10 * time.Second)},
					},
					ContainerStatuses: []corev1.ContainerStatus{{State: waitingBlank}},
				},
			},
			want: podRow("test10", "0/1", "Init:1/2", "5 (10s ago)", "<unknown>"),
		},
		{
			name: "init restarts drop out once initialized",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test11"},
				Spec:       corev1.PodSpec{InitContainers: make([]corev1.Container, 1), Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{
					Phase: corev1.PodRunning,
					InitContainerStatuses: []corev1.ContainerStatus{
						{RestartCount: 2, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}, LastTerminationState: finished(2 * time.Minute)},
					},
					ContainerStatuses: []corev1.ContainerStatus{
						{RestartCount: 4, State: running, LastTerminationState: finished(20 * time.Second)},
					},
				},
			},
			want: podRow("test11", "0/1", "Running", "4 (20s ago)", "<unknown>"),
		},
		{
			name: "legacy PodInitializing reads as ContainerCreating",
			pod:  initWaitingPod("testInitPodInitializing", "PodInitializing"),
			want: podRow("testInitPodInitializing", "0/1", "Init:ContainerCreating", "0", "<unknown>"),
		},
		{
			name: "init ContainerCreating",
			pod:  initWaitingPod("testInitContainerCreating", "ContainerCreating"),
			want: podRow("testInitContainerCreating", "0/1", "Init:ContainerCreating", "0", "<unknown>"),
		},
		{
			name: "init ErrImagePull",
			pod:  initWaitingPod("testInitErrImagePull", "ErrImagePull"),
			want: podRow("testInitErrImagePull", "0/1", "Init:ErrImagePull", "0", "<unknown>"),
		},
		{
			name: "init ImagePullBackOff",
			pod:  initWaitingPod("testInitImagePullBackOff", "ImagePullBackOff"),
			want: podRow("testInitImagePullBackOff", "0/1", "Init:ImagePullBackOff", "0", "<unknown>"),
		},
		{
			name: "init CrashLoopBackOff",
			pod:  initWaitingPod("testInitCrashLoopBackOff", "CrashLoopBackOff"),
			want: podRow("testInitCrashLoopBackOff", "0/1", "Init:CrashLoopBackOff", "0", "<unknown>"),
		},
		{
			name: "init container running",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "testInitRunning"},
				Spec:       corev1.PodSpec{InitContainers: make([]corev1.Container, 1), Containers: make([]corev1.Container, 1)},
				Status:     corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{State: running}}},
			},
			want: podRow("testInitRunning", "0/1", "Init:0/1", "0", "<unknown>"),
		},
		{
			name: "the first unfinished init container names the status",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "testInitMultiple"},
				Spec:       corev1.PodSpec{InitContainers: make([]corev1.Container, 3), Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{
					{State: terminated("", 0)},
					{State: waiting("ContainerCreating")},
					{State: waiting("PodInitializing")},
				}},
			},
			want: podRow("testInitMultiple", "0/1", "Init:ContainerCreating", "0", "<unknown>"),
		},
		{
			name: "failed init container without a reason shows its exit code",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "init-exit"},
				Spec:       corev1.PodSpec{InitContainers: make([]corev1.Container, 1), Containers: make([]corev1.Container, 1)},
				Status:     corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{State: terminated("", 1)}}},
			},
			want: podRow("init-exit", "0/1", "Init:ExitCode:1", "0", "<unknown>"),
		},
		{
			name: "init container killed by a signal",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "init-signal"},
				Spec:       corev1.PodSpec{InitContainers: make([]corev1.Container, 1), Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{
					{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Signal: 9}}},
				}},
			},
			want: podRow("init-signal", "0/1", "Init:Signal:9", "0", "<unknown>"),
		},
		{
			name: "failed init container's reason",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "init-error"},
				Spec:       corev1.PodSpec{InitContainers: make([]corev1.Container, 1), Containers: make([]corev1.Container, 1)},
				Status:     corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{State: terminated("Error", 1)}}},
			},
			want: podRow("init-error", "0/1", "Init:Error", "0", "<unknown>"),
		},
		{
			name: "restarted 5d ago",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test12"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running, LastTerminationState: finished(5 * day)},
				}},
			},
			want: podRow("test12", "1/1", "Running", "3 (5d ago)", "<unknown>"),
		},
		{
			name: "one container never restarted, the other 10d ago",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test13"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, State: running},
					{Ready: true, RestartCount: 3, State: running, LastTerminationState: finished(10 * day)},
				}},
			},
			want: podRow("test13", "2/2", "Running", "3 (10d ago)", "<unknown>"),
		},
		{
			name: "the latest restart is shown",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test14"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 6, State: running, LastTerminationState: finished(5 * day)},
					{Ready: true, RestartCount: 3, State: running, LastTerminationState: finished(20 * day)},
				}},
			},
			want: podRow("test14", "2/2", "Running", "9 (5d ago)", "<unknown>"),
		},
		{
			name: "restarts without a last termination have no age",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "no-last"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 2, State: running},
				}},
			},
			want: podRow("no-last", "1/1", "Running", "2", "<unknown>"),
		},
		{
			name: "scheduling gated",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test15"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{Phase: "podPhase", Conditions: []corev1.PodCondition{
					{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated},
				}},
			},
			want: podRow("test15", "0/2", "SchedulingGated", "0", "<unknown>"),
		},
		{
			name: "succeeded",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test16"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{
					{State: terminated("Completed", 0)},
				}},
			},
			want: podRow("test16", "0/1", "Completed", "0", "<unknown>"),
		},
		{
			name: "failed",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test17"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{
					{State: terminated("Error", 1)},
				}},
			},
			want: podRow("test17", "0/1", "Error", "0", "<unknown>"),
		},
		{
			name: "succeeded pod being deleted keeps its status",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test18", DeletionTimestamp: deleted},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{
					{State: terminated("Completed", 0)},
				}},
			},
			want: podRow("test18", "0/1", "Completed", "0", "<unknown>"),
		},
		{
			name: "running pod being deleted",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test19", DeletionTimestamp: deleted},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1)},
				Status:     corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{State: running}}},
			},
			want: podRow("test19", "0/1", "Terminating", "0", "<unknown>"),
		},
		{
			name: "pending pod being deleted",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test20", DeletionTimestamp: deleted},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1)},
				Status:     corev1.PodStatus{Phase: corev1.PodPending},
			},
			want: podRow("test20", "0/1", "Terminating", "0", "<unknown>"),
		},
		{
			name: "pod on a lost node being deleted",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "lost", DeletionTimestamp: deleted},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1)},
				Status:     corev1.PodStatus{Phase: corev1.PodRunning, Reason: "NodeLost", ContainerStatuses: []corev1.ContainerStatus{{Ready: true, State: running}}},
			},
			want: podRow("lost", "1/1", "Unknown", "0", "<unknown>"),
		},
		{
			name: "pod on a lost node not yet deleted",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "lost2"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1)},
				Status:     corev1.PodStatus{Phase: corev1.PodRunning, Reason: "NodeLost"},
			},
			want: podRow("lost2", "0/1", "NodeLost", "0", "<unknown>"),
		},
		{
			name: "error then running: the error shows (kubernetes#107713)",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test21"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{
					{State: terminated("podCrash", 1)},
					{Ready: true, State: running},
				}},
			},
			want: podRow("test21", "1/2", "podCrash", "0", "<unknown>"),
		},
		{
			name: "running then error",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test22"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, State: running},
					{State: terminated("podCrash", 1)},
				}},
			},
			want: podRow("test22", "1/2", "podCrash", "0", "<unknown>"),
		},
		{
			name: "running, error, completed",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test23"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 3)},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, State: running},
					{Ready: true, State: terminated("podCrash", 1)},
					{Ready: true, State: terminated("", 0)},
				}},
			},
			want: podRow("test23", "1/3", "podCrash", "0", "<unknown>"),
		},
		{
			name: "not ready: running, error, completed",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test24"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 3)},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{
					{State: running},
					{State: terminated("podCrash", 1)},
					{State: terminated("", 0)},
				}},
			},
			want: podRow("test24", "0/3", "podCrash", "0", "<unknown>"),
		},
		{
			name: "completed beside a failed container shows the failure",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "completed-error"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{
					{State: terminated("Completed", 0)},
					{State: terminated("OOMKilled", 137)},
				}},
			},
			want: podRow("completed-error", "0/2", "OOMKilled", "0", "<unknown>"),
		},
		{
			name: "container killed by a signal without a reason",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "signal"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{
					{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 143, Signal: 15}}},
				}},
			},
			want: podRow("signal", "0/1", "Signal:15", "0", "<unknown>"),
		},
		{
			name: "container exited without a reason",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "exit"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{
					{State: terminated("", 2)},
				}},
			},
			want: podRow("exit", "0/1", "ExitCode:2", "0", "<unknown>"),
		},
		{
			name: "CrashLoopBackOff with restarts",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "crash", CreationTimestamp: ago(2 * time.Hour)},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1)},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
					{State: waiting("CrashLoopBackOff"), RestartCount: 3, LastTerminationState: finished(5 * time.Minute)},
				}},
			},
			want: podRow("crash", "0/1", "CrashLoopBackOff", "3 (5m ago)", "120m"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.pod, tt.want) })
	}
}

func initWaitingPod(name, reason string) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.PodSpec{InitContainers: make([]corev1.Container, 1), Containers: make([]corev1.Container, 1)},
		Status:     corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{State: waiting(reason)}}},
	}
}

// TestPodSidecars follows kube's TestPrintPodWithRestartableInitContainer:
// restartable init containers count in READY and, once the pod is
// initialized, in RESTARTS.
func TestPodSidecars(t *testing.T) {
	twoSidecars := corev1.PodSpec{
		InitContainers: []corev1.Container{sidecarSpec("restartable-init-1"), sidecarSpec("restartable-init-2")},
		Containers:     make([]corev1.Container, 1),
	}
	tests := []struct {
		name string
		pod  corev1.Pod
		want []any
	}{
		{
			name: "first sidecar running but not started",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test1"},
				Spec:       twoSidecars,
				Status: corev1.PodStatus{
					Phase: corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{
						{Name: "restartable-init-1", RestartCount: 3, State: running, Started: ptr(false), LastTerminationState: finished(10 * time.Second)},
						{Name: "restartable-init-2", State: waitingBlank, Started: ptr(false)},
					},
					ContainerStatuses: []corev1.ContainerStatus{{State: waitingBlank}},
					Conditions:        []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionFalse}},
				},
			},
			want: podRow("test1", "0/3", "Init:0/2", "3 (10s ago)", "<unknown>"),
		},
		{
			name: "first sidecar started, second not yet",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test1"},
				Spec:       twoSidecars,
				Status: corev1.PodStatus{
					Phase: corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{
						{Name: "restartable-init-1", RestartCount: 3, State: running, Started: ptr(true), LastTerminationState: finished(10 * time.Second)},
						{Name: "restartable-init-2", State: running, Started: ptr(false)},
					},
					ContainerStatuses: []corev1.ContainerStatus{{State: waitingBlank}},
					Conditions:        []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionFalse}},
				},
			},
			want: podRow("test1", "0/3", "Init:1/2", "3 (10s ago)", "<unknown>"),
		},
		{
			name: "both sidecars started, app running",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test2"},
				Spec:       twoSidecars,
				Status: corev1.PodStatus{
					Phase: corev1.PodRunning,
					InitContainerStatuses: []corev1.ContainerStatus{
						{Name: "restartable-init-1", RestartCount: 3, State: running, Started: ptr(true), LastTerminationState: finished(10 * time.Second)},
						{Name: "restartable-init-2", State: running, Started: ptr(true)},
					},
					ContainerStatuses: []corev1.ContainerStatus{
						{Ready: true, RestartCount: 4, State: running, LastTerminationState: finished(20 * time.Second)},
					},
					Conditions: []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}},
				},
			},
			want: podRow("test2", "1/3", "Running", "7 (10s ago)", "<unknown>"),
		},
		{
			name: "ready sidecars count as ready",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "ready-sidecar"},
				Spec:       twoSidecars,
				Status: corev1.PodStatus{
					Phase: corev1.PodRunning,
					InitContainerStatuses: []corev1.ContainerStatus{
						{Name: "restartable-init-1", Ready: true, State: running, Started: ptr(true)},
						{Name: "restartable-init-2", Ready: true, State: running, Started: ptr(true)},
					},
					ContainerStatuses: []corev1.ContainerStatus{{Ready: true, State: running}},
					Conditions:        []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}},
				},
			},
			want: podRow("ready-sidecar", "3/3", "Running", "0", "<unknown>"),
		},
		{
			name: "sidecars terminated, app completed",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test3"},
				Spec:       twoSidecars,
				Status: corev1.PodStatus{
					Phase: corev1.PodSucceeded,
					InitContainerStatuses: []corev1.ContainerStatus{
						{Name: "restartable-init-1", RestartCount: 3, State: terminated("Error", 137), Started: ptr(false), LastTerminationState: finished(10 * time.Second)},
						{Name: "restartable-init-2", State: terminated("Error", 137), Started: ptr(false)},
					},
					ContainerStatuses: []corev1.ContainerStatus{
						{RestartCount: 4, State: terminated("Completed", 0), LastTerminationState: finished(20 * time.Second)},
					},
					Conditions: []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}},
				},
			},
			want: podRow("test3", "0/3", "Completed", "7 (10s ago)", "<unknown>"),
		},
		{
			name: "statuses for containers the spec does not have",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test4"},
				Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{{Name: "init1", Image: "initimage"}, {Name: "sidecar1", Image: "sidecarimage", RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways)}},
					Containers:     []corev1.Container{{Name: "container1", Image: "containerimage"}},
				},
				Status: corev1.PodStatus{
					Phase:                 corev1.PodRunning,
					InitContainerStatuses: []corev1.ContainerStatus{{Name: "initinvalid"}, {Name: "init1"}, {Name: "sidecar1"}},
					ContainerStatuses:     []corev1.ContainerStatus{{Name: "containerinvalid"}, {Name: "container1"}},
				},
			},
			want: podRow("test4", "0/2", "Init:0/2", "0", "<unknown>"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.pod, tt.want) })
	}
}

// TestPodWideColumns follows kube's TestPrintPodwide, and checks that the
// IP is status.podIP before status.podIPs as kube's conversion makes it.
func TestPodWideColumns(t *testing.T) {
	gates := []corev1.PodReadinessGate{{ConditionType: "condition1"}, {ConditionType: "condition2"}, {ConditionType: "condition3"}}
	gateConditions := []corev1.PodCondition{
		{Type: "condition1", Status: corev1.ConditionFalse},
		{Type: "condition2", Status: corev1.ConditionTrue},
	}
	twoContainers := []corev1.ContainerStatus{{Ready: true, RestartCount: 3, State: running}, {RestartCount: 3}}
	tests := []struct {
		name string
		pod  corev1.Pod
		want []any
	}{
		{
			name: "ip, node, nominated node, one of three gates",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test1"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2), NodeName: "test1", ReadinessGates: gates},
				Status: corev1.PodStatus{
					Conditions: gateConditions, Phase: "podPhase", PodIPs: []corev1.PodIP{{IP: "1.1.1.1"}},
					ContainerStatuses: twoContainers, NominatedNodeName: "node1",
				},
			},
			want: []any{"test1", "1/2", "podPhase", "6", "<unknown>", "1.1.1.1", "test1", "node1", "1/3"},
		},
		{
			name: "dual stack shows the first IP",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test1"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2), NodeName: "test1", ReadinessGates: gates},
				Status: corev1.PodStatus{
					Conditions: gateConditions, Phase: "podPhase", PodIPs: []corev1.PodIP{{IP: "1.1.1.1"}, {IP: "2001:db8::"}},
					ContainerStatuses: twoContainers, NominatedNodeName: "node1",
				},
			},
			want: []any{"test1", "1/2", "podPhase", "6", "<unknown>", "1.1.1.1", "test1", "node1", "1/3"},
		},
		{
			name: "nothing assigned yet",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "test2"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{Phase: "podPhase", ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{State: waiting("ContainerWaitingReason"), RestartCount: 3},
				}},
			},
			want: []any{"test2", "1/2", "ContainerWaitingReason", "6", "<unknown>", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "podIP alone",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "ip"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1), NodeName: "n1"},
				Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.7"},
			},
			want: []any{"ip", "0/1", "Running", "0", "<unknown>", "10.0.0.7", "n1", "<none>", "<none>"},
		},
		{
			name: "podIP wins over a different podIPs[0]",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "ip"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1)},
				Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.7", PodIPs: []corev1.PodIP{{IP: "10.0.0.8"}}},
			},
			want: []any{"ip", "0/1", "Running", "0", "<unknown>", "10.0.0.7", "<none>", "<none>", "<none>"},
		},
		{
			name: "gates all met",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "gated"},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 1), ReadinessGates: gates[:1]},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
					{Type: "condition1", Status: corev1.ConditionTrue},
				}},
			},
			want: []any{"gated", "0/1", "Running", "0", "<unknown>", "<none>", "<none>", "<none>", "1/1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.pod, tt.want) })
	}
}

// TestPodPhases follows kube's TestPrintNonTerminatedPod and
// TestPrintPodConditions: every phase prints, and a finished pod's row is
// marked Completed.
func TestPodPhases(t *testing.T) {
	succeeded := []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: "Succeeded", Message: "The pod has completed successfully."}}
	failed := []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: "Failed", Message: "The pod failed."}}
	tests := []struct {
		phase      corev1.PodPhase
		want       []any
		conditions []metav1.TableRowCondition
	}{
		{corev1.PodRunning, podRow("p", "1/2", "Running", "6", "<unknown>"), nil},
		{corev1.PodPending, podRow("p", "1/2", "Pending", "6", "<unknown>"), nil},
		{corev1.PodUnknown, podRow("p", "1/2", "Unknown", "6", "<unknown>"), nil},
		{corev1.PodSucceeded, podRow("p", "1/2", "Succeeded", "6", "<unknown>"), succeeded},
		{corev1.PodFailed, podRow("p", "1/2", "Failed", "6", "<unknown>"), failed},
	}
	for _, tt := range tests {
		t.Run(string(tt.phase), func(t *testing.T) {
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"a": "1"}},
				Spec:       corev1.PodSpec{Containers: make([]corev1.Container, 2)},
				Status: corev1.PodStatus{Phase: tt.phase, ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{RestartCount: 3},
				}},
			}
			row, err := Row(pod, now)
			if err != nil {
				t.Fatal(err)
			}
			want := metav1.TableRow{Cells: tt.want, Conditions: tt.conditions}
			if !reflect.DeepEqual(row, want) {
				t.Errorf("row:\n got %#v\nwant %#v", row, want)
			}
		})
	}
}

func TestPodAge(t *testing.T) {
	tests := []struct {
		created metav1.Time
		want    string
	}{
		{metav1.Time{}, "<unknown>"},
		{ago(-1900 * time.Millisecond), "0s"}, // a clock a little ahead
		{ago(-3 * time.Second), "<invalid>"},
		{ago(0), "0s"},
		{ago(30 * time.Second), "30s"},
		{ago(90 * time.Second), "90s"},
		{ago(5 * time.Minute), "5m"},
		{ago(5*time.Minute + 30*time.Second), "5m30s"},
		{ago(100 * time.Minute), "100m"},
		{ago(5*time.Hour + 10*time.Minute), "5h10m"},
		{ago(2 * day), "2d"},
		{ago(3*day + 4*time.Hour), "3d4h"},
		{ago(90 * day), "90d"},
		{ago(10 * 365 * day), "10y"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", CreationTimestamp: tt.created}}
			cells, err := Cells(pod, now)
			if err != nil {
				t.Fatal(err)
			}
			if cells[4] != tt.want {
				t.Errorf("AGE = %q, want %q", cells[4], tt.want)
			}
		})
	}
}
