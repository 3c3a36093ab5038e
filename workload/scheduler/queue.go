package scheduler

import (
	"cmp"

	"github.com/shoalproject/shoal/workload"
)

// QueueOrder is the order pending pods are placed in, as kube-scheduler's
// PrioritySort: higher spec.priority first (a pod without one is 0), then
// the older pod first. For slices.SortStableFunc.
func QueueOrder(a, b *workload.Pod) int {
	if c := cmp.Compare(priority(b), priority(a)); c != 0 {
		return c
	}
	return a.ObjectMeta.CreationTimestamp.Compare(b.ObjectMeta.CreationTimestamp.Time)
}

func priority(p *workload.Pod) int32 {
	if p.Spec.Priority == nil {
		return 0
	}
	return *p.Spec.Priority
}
