package peer

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
)

// A ReplicaSet's pods go through the admission the API runs: with a quota
// of 2 pods, a Deployment of 3 gets 2 and a FailedCreate event saying why;
// the LimitRange's defaults are in the pods; the quota's status counts
// them, and gives one back when a pod is deleted, so the third is made.
func TestReplicaSetPodsAreAdmittedLikeAPICreates(t *testing.T) {
	c := newTestCluster(t)
	c.startPeers(1)
	c.waitReplicas(1)
	ctx := context.Background()
	cl := c.client("p1")
	post := func(path string, body map[string]any) {
		t.Helper()
		if err := cl.Do(ctx, http.MethodPost, path, body, nil); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
	}
	post("/api/v1/namespaces/default/resourcequotas", map[string]any{"apiVersion": "v1", "kind": "ResourceQuota", "metadata": map[string]any{"name": "two"},
		"spec": map[string]any{"hard": map[string]any{"pods": "2"}}})
	post("/api/v1/namespaces/default/limitranges", map[string]any{"apiVersion": "v1", "kind": "LimitRange", "metadata": map[string]any{"name": "limits"},
		"spec": map[string]any{"limits": []any{map[string]any{"type": "Container", "default": map[string]any{"memory": "128Mi"}}}}})
	post("/apis/apps/v1/namespaces/default/deployments", deploymentBody(3, "web"))

	var pods struct{ Items []workload.Pod }
	listPods := func() int {
		if cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods", nil, &pods) != nil {
			return -1
		}
		return len(pods.Items)
	}
	waitFor(t, 30*time.Second, "2 pods", func() bool { return listPods() == 2 })
	var events struct{ Items []workload.Event }
	waitFor(t, 30*time.Second, "a FailedCreate event naming the quota", func() bool {
		if cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/events", nil, &events) != nil {
			return false
		}
		for _, e := range events.Items {
			if e.Reason == "FailedCreate" && strings.Contains(e.Message, "is forbidden: exceeded quota: two, requested: pods=1, used: pods=2, limited: pods=2") {
				return true
			}
		}
		return false
	})
	for _, p := range pods.Items {
		if l := p.Spec.Containers[0].Resources.Limits[workload.ResourceMemory]; l.String() != "128Mi" {
			t.Errorf("pod %s: memory limit %q, want the LimitRange's 128Mi", p.Name, l.String())
		}
	}
	var q workload.ResourceQuota
	waitFor(t, 30*time.Second, "the quota's status counting 2 pods", func() bool {
		u := q.Status.Used["pods"]
		return cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/resourcequotas/two", nil, &q) == nil && u.String() == "2"
	})
	if listPods() != 2 {
		t.Fatalf("%d pods", len(pods.Items))
	}
	gone := pods.Items[0].Name
	if err := cl.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/pods/"+gone, nil, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a replacement within the quota", func() bool {
		n := 0
		if listPods() < 0 {
			return false
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && p.Name != gone {
				n++
			}
		}
		return n == 2
	})
}
