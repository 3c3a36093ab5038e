package peer

import (
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/controller"
)

func TestMarkNodeUnknownKeepsTheLastHeartbeatAndHappensOnce(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	n := &workload.Node{}
	workload.SetNodeCondition(&n.Status, workload.NodeCondition{Type: workload.NodeReady, Status: workload.ConditionTrue,
		Reason: "ShoalReady", LastHeartbeatTime: workload.NewTime(t0), LastTransitionTime: workload.NewTime(t0)})
	later := t0.Add(15 * time.Second)
	if !markNodeUnknown(n, later) {
		t.Fatal("a Ready node of a lost peer was not changed")
	}
	c := workload.GetNodeCondition(&n.Status, workload.NodeReady)
	if c.Status != workload.ConditionUnknown || c.Reason != "NodeStatusUnknown" || !c.LastHeartbeatTime.Time.Equal(t0) || !c.LastTransitionTime.Time.Equal(later) {
		t.Fatalf("condition %+v: want Unknown, NodeStatusUnknown, heartbeat %v kept, transition %v", c, t0, later)
	}
	if workload.IsNodeReady(n) {
		t.Fatal("an Unknown node counts as Ready")
	}
	if markNodeUnknown(n, later.Add(time.Minute)) {
		t.Fatal("an Unknown node was changed again (a write every pass)")
	}
}

func TestUnreachableTaintsFollowTheReadyCondition(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	user := workload.Taint{Key: "dedicated", Value: "gpu", Effect: workload.TaintEffectNoSchedule}
	n := &workload.Node{Spec: workload.NodeSpec{Taints: []workload.Taint{user}}}
	workload.SetNodeCondition(&n.Status, workload.NodeCondition{Type: workload.NodeReady, Status: workload.ConditionTrue})
	if syncUnreachableTaints(n, t0) || len(n.Spec.Taints) != 1 {
		t.Fatalf("a Ready node's taints changed: %+v", n.Spec.Taints)
	}
	later := t0.Add(time.Minute)
	markNodeUnknown(n, later)
	if !syncUnreachableTaints(n, later) {
		t.Fatal("an Unknown node was not tainted")
	}
	want := map[workload.TaintEffect]bool{workload.TaintEffectNoSchedule: true, workload.TaintEffectNoExecute: true}
	for _, tn := range n.Spec.Taints[1:] {
		if tn.Key != controller.TaintNodeUnreachable || !want[tn.Effect] || tn.TimeAdded == nil || !tn.TimeAdded.Time.Equal(later) {
			t.Errorf("taint %+v: want unreachable, NoSchedule and NoExecute once each, added %v", tn, later)
		}
		delete(want, tn.Effect)
	}
	if len(n.Spec.Taints) != 3 || n.Spec.Taints[0] != user || len(want) != 0 {
		t.Fatalf("taints %+v: want the user's and both unreachable ones", n.Spec.Taints)
	}
	if syncUnreachableTaints(n, later.Add(time.Minute)) {
		t.Fatal("a tainted Unknown node was changed again (a write every pass)")
	}
	// The peer's heartbeat makes it Ready again, keeping the taints; the
	// next pass takes the unreachable ones off, not the user's.
	workload.SetNodeCondition(&n.Status, workload.NodeCondition{Type: workload.NodeReady, Status: workload.ConditionTrue})
	if !syncUnreachableTaints(n, later) || len(n.Spec.Taints) != 1 || n.Spec.Taints[0] != user {
		t.Fatalf("a Ready node keeps %+v: want only the user's taint", n.Spec.Taints)
	}
}
