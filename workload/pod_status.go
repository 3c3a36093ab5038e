package workload

import (
	"fmt"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
)

// IsPodReady reports whether p's Ready condition is True: the pod may take
// service traffic.
func IsPodReady(p *Pod) bool {
	c := GetPodCondition(&p.Status, PodReady)
	return c != nil && c.Status == ConditionTrue
}

// GetPodCondition returns s's condition of type t, or nil.
func GetPodCondition(s *PodStatus, t PodConditionType) *PodCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

// SetPodCondition records c in s, replacing the condition of its type. It
// keeps the old LastTransitionTime when the status has not changed, and
// reports whether s changed.
func SetPodCondition(s *PodStatus, c PodCondition) bool {
	old := GetPodCondition(s, c.Type)
	if old == nil {
		s.Conditions = append(s.Conditions, c)
		return true
	}
	if old.Status == c.Status {
		c.LastTransitionTime = old.LastTransitionTime
	}
	changed := old.Status != c.Status || old.Reason != c.Reason || old.Message != c.Message ||
		!old.LastTransitionTime.Equal(&c.LastTransitionTime)
	*old = c
	return changed
}

// PodDisplay is how kubectl get pods shows a pod: its READY, STATUS and
// RESTARTS columns.
type PodDisplay struct {
	// Status is the STATUS column: the phase, or what holds the pod up
	// ("ContainerCreating", "CrashLoopBackOff", "Init:1/2",
	// "Terminating"...).
	Status          string
	ReadyContainers int
	TotalContainers int
	// Restarts counts the restarts of the containers that decide Status;
	// LastRestart is when the latest of them had stopped (zero if unknown).
	Restarts    int
	LastRestart time.Time
}

// Ready is the READY column: "1/2".
func (d PodDisplay) Ready() string {
	return fmt.Sprintf("%d/%d", d.ReadyContainers, d.TotalContainers)
}

// RestartsColumn is the RESTARTS column at time now: "0", or "3 (2m ago)".
func (d PodDisplay) RestartsColumn(now time.Time) string {
	if d.Restarts == 0 || d.LastRestart.IsZero() {
		return strconv.Itoa(d.Restarts)
	}
	return fmt.Sprintf("%d (%s ago)", d.Restarts, duration.HumanDuration(now.Sub(d.LastRestart)))
}

// PodDisplayStatus computes p's READY, STATUS and RESTARTS columns the way
// kubectl does: the pod's reason or phase, overridden by the first init
// container that has not succeeded ("Init:ErrImagePull", "Init:0/2"), else
// by the containers' waiting or terminated reasons ("ContainerCreating",
// "CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff", "Completed",
// "Error", "OOMKilled"), and by "Terminating" once it is being deleted. The
// node agent sets those reasons (the Reason* constants).
func PodDisplayStatus(p *Pod) PodDisplay {
	d := PodDisplay{TotalContainers: len(p.Spec.Containers)}
	reason := string(p.Status.Phase)
	if p.Status.Reason != "" {
		reason = p.Status.Reason
	}
	if reason == "" {
		reason = string(PodPending)
	}
	noteRestart := func(cs ContainerStatus) {
		d.Restarts += int(cs.RestartCount)
		if t := cs.LastTerminationState.Terminated; t != nil && t.FinishedAt.After(d.LastRestart) {
			d.LastRestart = t.FinishedAt.Time
		}
	}

	initializing := false
	for i, cs := range p.Status.InitContainerStatuses {
		noteRestart(cs)
		switch t, w := cs.State.Terminated, cs.State.Waiting; {
		case t != nil && t.ExitCode == 0:
			continue
		case t != nil:
			switch {
			case t.Reason != "":
				reason = "Init:" + t.Reason
			case t.Signal != 0:
				reason = fmt.Sprintf("Init:Signal:%d", t.Signal)
			default:
				reason = fmt.Sprintf("Init:ExitCode:%d", t.ExitCode)
			}
		case w != nil && w.Reason != "" && w.Reason != ReasonPodInitializing:
			reason = "Init:" + w.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(p.Spec.InitContainers))
		}
		initializing = true
		break
	}

	if c := GetPodCondition(&p.Status, PodInitialized); !initializing || (c != nil && c.Status == ConditionTrue) {
		d.Restarts, d.LastRestart = 0, time.Time{}
		hasRunning := false
		for i := len(p.Status.ContainerStatuses) - 1; i >= 0; i-- {
			cs := p.Status.ContainerStatuses[i]
			noteRestart(cs)
			switch t, w := cs.State.Terminated, cs.State.Waiting; {
			case w != nil && w.Reason != "":
				reason = w.Reason
			case t != nil && t.Reason != "":
				reason = t.Reason
			case t != nil && t.Signal != 0:
				reason = fmt.Sprintf("Signal:%d", t.Signal)
			case t != nil:
				reason = fmt.Sprintf("ExitCode:%d", t.ExitCode)
			case cs.Ready && cs.State.Running != nil:
				hasRunning = true
				d.ReadyContainers++
			}
		}
		// A pod whose last container completed while others still run is
		// running, not completed.
		if reason == ReasonCompleted && hasRunning {
			if IsPodReady(p) {
				reason = string(PodRunning)
			} else {
				reason = "NotReady"
			}
		}
	}

	switch {
	case p.ObjectMeta.DeletionTimestamp != nil && p.Status.Reason == PodReasonNodeLost:
		reason = string(PodUnknown)
	case p.ObjectMeta.DeletionTimestamp != nil && p.Status.Phase != PodSucceeded && p.Status.Phase != PodFailed:
		reason = "Terminating"
	}
	d.Status = reason
	return d
}
