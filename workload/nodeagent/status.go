package nodeagent

import (
	"time"

	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
)

// Kubernetes' container restart back-off: 10 s, doubling, at most 5 min;
// a container that ran for backoffReset starts over at 10 s.
const (
	backoffInitial = 10 * time.Second
	backoffMax     = 5 * time.Minute
	backoffReset   = 10 * time.Minute
)

// backoff is how long to wait before the next restart of a container that
// has been restarted restarts times already.
func backoff(restarts int32) time.Duration {
	d := backoffInitial
	for i := int32(0); i < restarts && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}

// restarts says whether a container that exited with code restarts under
// policy.
func restarts(policy workload.RestartPolicy, code int) bool {
	switch policy {
	case workload.RestartPolicyNever:
		return false
	case workload.RestartPolicyOnFailure:
		return code != 0
	default:
		return true
	}
}

// containerView is what a worker knows of one container: its spec, the
// runtime's view of it (nil before it is created), and the agent's own
// bookkeeping.
type containerView struct {
	spec     workload.Container
	rt       *runtime.ContainerStatus
	imageID  string
	restarts int32
	// last is how the previous run ended, for lastState.
	last *workload.ContainerStateTerminated
	// waiting, when set, is why the container is not running (image pull
	// errors, back-off), overriding what rt says.
	waiting *workload.ContainerStateWaiting
	ready   bool // readiness probe passes (or there is none)
	started bool // startup probe passed (or there is none)
	// postStart: its postStart hook runs; until it returns the container
	// is not Running, as in Kubernetes.
	postStart bool
}

// sidecar says whether an init container is a sidecar (restartPolicy
// Always): started in its turn among the init containers, then kept
// running beside the containers.
func sidecar(s workload.Container) bool {
	return s.RestartPolicy != nil && string(*s.RestartPolicy) == string(workload.RestartPolicyAlways)
}

// terminated turns a runtime exit into the Kubernetes shape.
func terminated(rt *runtime.ContainerStatus) *workload.ContainerStateTerminated {
	t := &workload.ContainerStateTerminated{
		ExitCode:   int32(rt.ExitCode),
		Reason:     rt.Reason,
		StartedAt:  workload.NewTime(rt.StartedAt.UTC().Truncate(time.Second)),
		FinishedAt: workload.NewTime(rt.FinishedAt.UTC().Truncate(time.Second)),
	}
	if rt.ExitCode > 128 && rt.ExitCode < 160 {
		t.Signal = int32(rt.ExitCode - 128)
	}
	return t
}

// containerStatus is one entry of status.containerStatuses.
func containerStatus(v containerView) workload.ContainerStatus {
	cs := workload.ContainerStatus{Name: v.spec.Name, Image: v.spec.Image, ImageID: v.imageID, RestartCount: v.restarts}
	if v.rt != nil {
		cs.ContainerID = "containerd://" + v.rt.ID
	}
	started := false
	switch {
	case v.waiting != nil:
		w := *v.waiting
		cs.State.Waiting = &w
	case v.rt == nil || v.rt.State == runtime.ContainerCreated || v.postStart && v.rt.State == runtime.ContainerRunning:
		cs.State.Waiting = &workload.ContainerStateWaiting{Reason: workload.ReasonContainerCreating}
	case v.rt.State == runtime.ContainerRunning:
		cs.State.Running = &workload.ContainerStateRunning{StartedAt: workload.NewTime(v.rt.StartedAt.UTC().Truncate(time.Second))}
		cs.Ready = v.ready && v.started
		started = v.started
	default:
		cs.State.Terminated = terminated(v.rt)
	}
	cs.Started = &started
	if v.last != nil {
		l := *v.last
		cs.LastTerminationState.Terminated = &l
	}
	return cs
}

// podPhase follows Kubernetes: Pending until every container has started
// once; Running while one runs or will be restarted; Succeeded when all
// ended with 0 and none will restart; Failed when all ended, one with an
// error, and none will restart. views are the containers, not the init
// containers: a sidecar keeps no pod from ending.
func podPhase(policy workload.RestartPolicy, initFailed bool, views []containerView) workload.PodPhase {
	if initFailed {
		return workload.PodFailed
	}
	running, ended, failed, neverStarted := 0, 0, 0, 0
	for _, v := range views {
		switch {
		case v.rt == nil || v.rt.State == runtime.ContainerCreated || v.postStart && v.rt.State == runtime.ContainerRunning:
			if v.last != nil { // waiting to be restarted
				running++
			} else {
				neverStarted++
			}
		case v.rt.State == runtime.ContainerRunning:
			running++
		case restarts(policy, v.rt.ExitCode):
			running++ // backing off, will restart
		default:
			ended++
			if v.rt.ExitCode != 0 {
				failed++
			}
		}
	}
	switch {
	case neverStarted > 0:
		return workload.PodPending
	case running > 0:
		return workload.PodRunning
	case failed > 0:
		return workload.PodFailed
	case ended > 0:
		return workload.PodSucceeded
	}
	return workload.PodPending
}

// podStatus computes a pod's status from what its worker observed. prev is
// the stored status: a condition keeps its lastTransitionTime while its
// status does not change.
func podStatus(prev workload.PodStatus, sandbox *runtime.Sandbox, hostIP string, policy workload.RestartPolicy,
	inits []containerView, initDone, initFailed bool, views []containerView, now time.Time) workload.PodStatus {
	st := workload.PodStatus{HostIP: hostIP, StartTime: prev.StartTime}
	if st.StartTime == nil {
		t := now.UTC().Truncate(time.Second)
		st.StartTime = &workload.Time{Time: t}
	}
	if ip := podIP(sandbox, hostIP); ip != "" {
		st.PodIP = ip
		st.PodIPs = []workload.PodIP{{IP: ip}}
	}
	// A sidecar's readiness counts towards the pod's, as a container's.
	allReady := initDone
	for _, v := range inits {
		cs := containerStatus(v)
		if sidecar(v.spec) {
			allReady = allReady && cs.Ready
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
	}
	for _, v := range views {
		cs := containerStatus(v)
		if !initDone && cs.State.Waiting != nil && cs.State.Waiting.Reason == workload.ReasonContainerCreating {
			cs.State.Waiting.Reason = workload.ReasonPodInitializing
		}
		allReady = allReady && cs.Ready
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	st.Phase = podPhase(policy, initFailed, views)
	if !initDone {
		st.Phase = workload.PodPending
		if initFailed {
			st.Phase = workload.PodFailed
		}
	}
	cond := func(t workload.PodConditionType, ok bool, reason string) {
		c := workload.PodCondition{Type: t, Status: workload.ConditionFalse, LastTransitionTime: workload.NewTime(now.UTC().Truncate(time.Second))}
		if ok {
			c.Status = workload.ConditionTrue
		} else {
			c.Reason = reason
		}
		for _, p := range prev.Conditions {
			if p.Type == t && p.Status == c.Status && !p.LastTransitionTime.IsZero() {
				c.LastTransitionTime = p.LastTransitionTime
			}
		}
		st.Conditions = append(st.Conditions, c)
	}
	cond(workload.PodInitialized, initDone, "ContainersNotInitialized")
	cond(workload.ContainersReady, allReady, "ContainersNotReady")
	cond(workload.PodReady, allReady, "ContainersNotReady")
	cond(workload.PodScheduled, true, "")
	return st
}
