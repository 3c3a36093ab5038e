package peer

import (
	"context"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/workload"
)

// Three peers, and only p2 has a dongle (--capacity example.com/dongle=1).
// A pod that needs the dongle lands on p2; a second one stays Pending with
// kube-scheduler's reason and a FailedScheduling event, and is bound to p2
// once the first is deleted and its claim on the dongle is pruned.
func TestAnExtendedResourceIsHeldByOnePodAtATime(t *testing.T) {
	const dongle = workload.ResourceName("example.com/dongle")
	c := newTestCluster(t)
	c.withRuntime = true
	c.capacity = map[string]workload.ResourceList{"p2": {dongle: workload.MustParseQuantity("1")}}
	c.startPeers(3)
	c.waitReplicas(3)
	c.waitNodesReady(3)
	ctx := context.Background()
	cl := c.client("p1")

	var nodes struct{ Items []workload.Node }
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/nodes", nil, &nodes); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		capQ, hasCap := n.Status.Capacity[dongle]
		allocQ, hasAlloc := n.Status.Allocatable[dongle]
		if want := n.Name == "p2"; hasCap != want || hasAlloc != want || want && (capQ.Value() != 1 || allocQ.Value() != 1) {
			t.Errorf("node %s: dongle capacity %v (%v), allocatable %v (%v); want 1 only on p2", n.Name, capQ.String(), hasCap, allocQ.String(), hasAlloc)
		}
		// No --capacity ephemeral-storage: the data dir's file system size.
		if eph := n.Status.Allocatable[corev1.ResourceEphemeralStorage]; eph.Value() != fsSize(c.dirs[n.Name]) || eph.Value() <= 0 {
			t.Errorf("node %s: ephemeral-storage %s; want the data dir's file system, %d bytes", n.Name, eph.String(), fsSize(c.dirs[n.Name]))
		}
	}

	create := func(name string) {
		t.Helper()
		pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": name},
			"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "shoal.local/webapp:v1",
				"resources": map[string]any{"limits": map[string]any{string(dongle): "1"}}}}}}
		if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/pods", pod, nil); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	get := func(name string) workload.Pod {
		var p workload.Pod
		_ = cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods/"+name, nil, &p)
		return p
	}
	create("first")
	waitFor(t, 30*time.Second, "first bound", func() bool { return get("first").Spec.NodeName != "" })
	if n := get("first").Spec.NodeName; n != "p2" {
		t.Fatalf("first bound to %s; want p2, the only node with a dongle", n)
	}

	create("second")
	const why = "0/3 nodes are available: 3 Insufficient example.com/dongle."
	waitFor(t, 30*time.Second, "second unschedulable", func() bool {
		p := get("second")
		cnd := workload.GetPodCondition(&p.Status, workload.PodScheduled)
		return cnd != nil && cnd.Status == workload.ConditionFalse
	})
	second := get("second")
	if cnd := workload.GetPodCondition(&second.Status, workload.PodScheduled); second.Spec.NodeName != "" || cnd.Reason != "Unschedulable" || cnd.Message != why {
		t.Fatalf("second: node %q, PodScheduled %s %q; want Pending, Unschedulable %q", second.Spec.NodeName, cnd.Reason, cnd.Message, why)
	}
	waitFor(t, 30*time.Second, "second's FailedScheduling event", func() bool {
		var events struct{ Items []workload.Event }
		if cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/events", nil, &events) != nil {
			return false
		}
		for _, e := range events.Items {
			if e.InvolvedObject.Name == "second" && e.Reason == "FailedScheduling" && e.Type == workload.EventWarning && e.Message == why {
				return true
			}
		}
		return false
	})

	if err := cl.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/pods/first?gracePeriodSeconds=0", nil, nil); err != nil {
		t.Fatal(err)
	}
	// The claim goes at p2's next heartbeat (nodeHeartbeat) once the pod is gone.
	waitFor(t, 3*nodeHeartbeat+10*time.Second, "second bound", func() bool { return get("second").Spec.NodeName != "" })
	if n := get("second").Spec.NodeName; n != "p2" {
		t.Errorf("second bound to %s; want p2", n)
	}
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods/first", nil, nil); err == nil {
		t.Error("first is still there")
	}
}
