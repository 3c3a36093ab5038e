package scheduler

import (
	"testing"

	"github.com/shoalproject/shoal/workload"
)

func TestUnschedulableConditionAndEvent(t *testing.T) {
	p := pod("web-1", "1", "")
	err := &Unschedulable{Nodes: 2, Reasons: map[string]int{ReasonInsufficientCPU: 2}}
	c := UnschedulableCondition(err, t0)
	if c.Type != workload.PodScheduled || c.Status != workload.ConditionFalse || c.Reason != "Unschedulable" ||
		c.Message != "0/2 nodes are available: 2 Insufficient cpu." || !c.LastTransitionTime.Time.Equal(t0) {
		t.Errorf("condition = %+v", c)
	}
	e := FailedSchedulingEvent(p, err, t0, "peer-1")
	if e.Reason != "FailedScheduling" || e.Type != workload.EventWarning || e.Message != c.Message ||
		e.InvolvedObject.Kind != "Pod" || e.InvolvedObject.Name != "web-1" || e.InvolvedObject.UID != "uid-web-1" ||
		e.Source != (workload.EventSource{Component: "default-scheduler", Host: "peer-1"}) || e.ObjectMeta.Namespace != "default" {
		t.Errorf("event = %+v", e)
	}
	if c := ScheduledCondition(t0); c.Type != workload.PodScheduled || c.Status != workload.ConditionTrue {
		t.Errorf("scheduled condition = %+v", c)
	}
	if e := ScheduledEvent(p, "peer-2", t0, "peer-1"); e.Reason != "Scheduled" || e.Type != workload.EventNormal ||
		e.Message != "Successfully assigned default/web-1 to peer-2" {
		t.Errorf("scheduled event = %+v", e)
	}
}
