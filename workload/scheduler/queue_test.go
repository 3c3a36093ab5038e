package scheduler

import (
	"slices"
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
)

func TestQueueOrderIsPriorityThenAge(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	mk := func(name string, prio *int32, age time.Duration) *workload.Pod {
		return &workload.Pod{ObjectMeta: workload.ObjectMeta{Name: name, CreationTimestamp: workload.NewTime(t0.Add(-age))}, Spec: workload.PodSpec{Priority: prio}}
	}
	high, low := int32(1000), int32(-5)
	pods := []*workload.Pod{mk("new", nil, 0), mk("low", &low, time.Hour), mk("old", nil, time.Minute), mk("high", &high, 0)}
	slices.SortStableFunc(pods, QueueOrder)
	var got []string
	for _, p := range pods {
		got = append(got, p.Name)
	}
	if want := []string{"high", "old", "new", "low"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}
