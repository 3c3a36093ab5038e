package peer

import (
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
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
