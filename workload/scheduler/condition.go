package scheduler

import (
	"time"

	"github.com/shoalproject/shoal/workload"
)

// The words the scheduler reports with, as kube-scheduler's.
const (
	// ReasonUnschedulable is the reason of the PodScheduled condition of a
	// pod that fits nowhere.
	ReasonUnschedulable = "Unschedulable"
	// EventFailedScheduling is the reason of the event recorded then.
	EventFailedScheduling = "FailedScheduling"
	// EventScheduled is the reason of the event recorded on a binding.
	EventScheduled = "Scheduled"
	// Component is the scheduler's name in events' source, as Kubernetes names its own.
	Component = "default-scheduler"
)

// UnschedulableCondition is the PodScheduled condition of a pod left
// Pending because err (usually an *Unschedulable) says it fits nowhere.
// Set it with workload.SetPodCondition, which keeps the transition time of
// an unchanged status.
func UnschedulableCondition(err error, now time.Time) workload.PodCondition {
	return workload.PodCondition{
		Type:               workload.PodScheduled,
		Status:             workload.ConditionFalse,
		Reason:             ReasonUnschedulable,
		Message:            err.Error(),
		LastTransitionTime: workload.NewTime(now),
	}
}

// ScheduledCondition is the PodScheduled condition of a pod bound to a node.
func ScheduledCondition(now time.Time) workload.PodCondition {
	return workload.PodCondition{Type: workload.PodScheduled, Status: workload.ConditionTrue, LastTransitionTime: workload.NewTime(now)}
}

// FailedSchedulingEvent is the Warning event about pod that err says fits
// nowhere, reported by the scheduler on host (the peer that decided).
func FailedSchedulingEvent(pod *workload.Pod, err error, now time.Time, host string) *workload.Event {
	return workload.NewEvent(pod, workload.EventWarning, EventFailedScheduling, err.Error(), now,
		workload.EventSource{Component: Component, Host: host})
}

// ScheduledEvent is the Normal event about pod bound to node, in
// kube-scheduler's words ("Successfully assigned default/web-1 to peer-2").
func ScheduledEvent(pod *workload.Pod, node string, now time.Time, host string) *workload.Event {
	msg := "Successfully assigned " + pod.ObjectMeta.Namespace + "/" + pod.ObjectMeta.Name + " to " + node
	return workload.NewEvent(pod, workload.EventNormal, EventScheduled, msg, now,
		workload.EventSource{Component: Component, Host: host})
}
