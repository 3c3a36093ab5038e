package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
)

func TestDescribeNodeShowsEveryResourceAndWhatItsPodsHold(t *testing.T) {
	q := workload.MustParseQuantity
	list := workload.ResourceList{"cpu": q("2"), "memory": q("4Gi"), "pods": q("110"), "ephemeral-storage": q("50Gi"),
		"hugepages-2Mi": q("8Mi"), "example.com/dongle": q("1"), "nvidia.com/gpu": q("2")}
	n := &workload.Node{ObjectMeta: workload.ObjectMeta{Name: "p2"}, Status: workload.NodeStatus{Capacity: list, Allocatable: list}}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	pod := func(name string, r workload.ResourceRequirements) workload.Pod {
		return workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: name, CreationTimestamp: workload.NewTime(now.Add(-5 * time.Minute))},
			Spec: workload.PodSpec{Containers: []workload.Container{{Name: "c", Resources: r}}}}
	}
	pods := []workload.Pod{
		pod("web", workload.ResourceRequirements{
			Requests: workload.ResourceList{"cpu": q("500m"), "memory": q("1Gi"), "ephemeral-storage": q("5Gi")},
			Limits:   workload.ResourceList{"cpu": q("1"), "memory": q("2Gi")},
		}),
		pod("gpu", workload.ResourceRequirements{Limits: workload.ResourceList{"nvidia.com/gpu": q("1"), "example.com/dongle": q("1")}}),
	}
	var b bytes.Buffer
	describeNode(&b, func(k string, v any) {}, n)
	describeNodePods(&b, n, pods, now)
	got := b.String()
	for _, want := range []string{
		"Capacity:\n  cpu:                 2\n  ephemeral-storage:   50Gi\n  example.com/dongle:  1\n  hugepages-2Mi:       8Mi\n  memory:              4Gi\n  nvidia.com/gpu:      2\n  pods:                110\n",
		"Allocatable:\n  cpu:                 2\n",
		"Non-terminated Pods:          (2 in total)\n",
		"  default    web   500m (25%)    1 (50%)     1Gi (25%)        2Gi (50%)      5m\n",
		"  default    gpu   0 (0%)        0 (0%)      0 (0%)           0 (0%)         5m\n",
		"Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n",
		"  Resource            Requests    Limits\n  --------            --------    ------\n",
		"  cpu                 500m (25%)  1 (50%)\n",
		"  memory              1Gi (25%)   2Gi (50%)\n",
		"  ephemeral-storage   5Gi (10%)   0 (0%)\n",
		"  hugepages-2Mi       0 (0%)      0 (0%)\n",
		"  example.com/dongle  1           1\n  nvidia.com/gpu      1           1\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("describe node lacks\n%s\nin\n%s", want, got)
		}
	}
}
