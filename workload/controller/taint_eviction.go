package controller

import (
	"time"

	"github.com/go-logr/logr"

	"github.com/shoalproject/shoal/workload"
)

// Kubernetes' well-known node taints that Shoal's node lifecycle sets
// (k8s.io/api/core/v1 well_known_taints.go).
const (
	// TaintNodeUnreachable is on the Node of a peer gossip has seen failed
	// for longer than the pod failover grace (its Ready condition Unknown).
	TaintNodeUnreachable = "node.kubernetes.io/unreachable"
	// TaintNodeNotReady is Kubernetes' taint for Ready=False. Shoal does not
	// set it: see peer's node lifecycle.
	TaintNodeNotReady = "node.kubernetes.io/not-ready"
)

// EventReasonTaintEviction is the reason of the event on an evicted pod, as
// Kubernetes' taint eviction controller records it ("Marking for deletion
// Pod NS/NAME").
const EventReasonTaintEviction = "TaintManagerEviction"

// TaintEviction is what the NoExecute taint eviction does in one pass.
type TaintEviction struct {
	// Evict are the pods to delete now, in the order of pods.
	Evict []*workload.Pod
	// Next is the earliest time a pod that tolerates its node's taints for
	// a while is due; zero when none is.
	Next time.Time
}

// PlanTaintEviction decides, as Kubernetes' taint eviction controller does,
// which pods the NoExecute taints of their nodes evict. taints maps a node
// to its taints (only NoExecute ones count); each must carry TimeAdded, the
// time it took effect (the caller fills in when it first saw one that has
// none). For each pod bound to a node with NoExecute taints:
//
//   - a taint that no toleration of the pod matches evicts it now;
//   - otherwise, for each taint, the first toleration that matches it says
//     how long the pod may stay: tolerationSeconds after the taint's
//     TimeAdded (0 or less: not at all), or for ever when it has none; the
//     pod is due at the earliest of these, evicted once now reaches it.
//
// Unlike Kubernetes, which starts the tolerationSeconds clock when its
// controller first sees the pod on the tainted node, the clock starts at
// the taint's TimeAdded, so that a new shard leader keeps the count.
func PlanTaintEviction(taints map[string][]workload.Taint, pods []*workload.Pod, now time.Time) TaintEviction {
	var plan TaintEviction
	for _, p := range pods {
		if p.Spec.NodeName == "" {
			continue
		}
		due, ok := evictionDue(taints[p.Spec.NodeName], p.Spec.Tolerations)
		switch {
		case !ok:
		case !due.After(now):
			plan.Evict = append(plan.Evict, p)
		case plan.Next.IsZero() || due.Before(plan.Next):
			plan.Next = due
		}
	}
	return plan
}

// evictionDue is when tolerations stop letting a pod stay on a node with
// taints; ok is false when they let it stay for ever. A taint no
// toleration matches makes it due at the zero time.
func evictionDue(taints []workload.Taint, tolerations []workload.Toleration) (due time.Time, ok bool) {
	for i := range taints {
		t := &taints[i]
		if t.Effect != workload.TaintEffectNoExecute {
			continue
		}
		tol := matchingToleration(tolerations, t)
		if tol == nil {
			return time.Time{}, true
		}
		if tol.TolerationSeconds == nil {
			continue // for ever
		}
		var at time.Time
		if t.TimeAdded != nil {
			at = t.TimeAdded.Time
		}
		if *tol.TolerationSeconds > 0 {
			at = at.Add(time.Duration(*tol.TolerationSeconds) * time.Second)
		}
		if !ok || at.Before(due) {
			due, ok = at, true
		}
	}
	return due, ok
}

// matchingToleration is the first toleration that tolerates t
// (Kubernetes' Toleration.ToleratesTaint), nil when none does.
func matchingToleration(tols []workload.Toleration, t *workload.Taint) *workload.Toleration {
	for i := range tols {
		if tols[i].ToleratesTaint(logr.Discard(), t, false) {
			return &tols[i]
		}
	}
	return nil
}
