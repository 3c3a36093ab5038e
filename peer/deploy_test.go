package peer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
)

func deploymentBody(replicas int, selector string) map[string]any {
	return map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "web"},
		"spec": map[string]any{"replicas": replicas, "selector": map[string]any{"matchLabels": map[string]any{"app": selector}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "web"}},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": "shoal.local/webapp:v1"}}}}}}
}

// A Deployment through the object API: its pods spread over the three
// nodes, follow scaling up and down, a deleted pod is replaced, and the
// pods of a killed peer are replaced on the others.
// runningPods maps the default namespace's running pods that are not being
// deleted to their nodes, as peer via sees them; nil when it cannot answer.
func runningPods(ctx context.Context, c *testCluster, via string) map[string]string {
	var pods struct{ Items []workload.Pod }
	out := map[string]string{}
	if c.client(via).Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods", nil, &pods) != nil {
		return nil
	}
	for _, p := range pods.Items {
		if p.Status.Phase == workload.PodRunning && p.ObjectMeta.DeletionTimestamp == nil {
			out[p.ObjectMeta.Name] = p.Spec.NodeName
		}
	}
	return out
}

// nodeOtherThan is a node that runs one of pods (pod -> node) and is not
// not; "" when there is none.
func nodeOtherThan(pods map[string]string, not string) string {
	for _, n := range pods {
		if n != not {
			return n
		}
	}
	return ""
}

// replacedOff says whether n pods run and none of them on node.
func replacedOff(pods map[string]string, n int, node string) bool {
	if len(pods) != n {
		return false
	}
	for _, on := range pods {
		if on == node {
			return false
		}
	}
	return true
}

func TestDeploymentKeepsItsReplicasAcrossScalingAndAPeerKill(t *testing.T) {
	c := newRuntimeCluster(t)
	ctx := context.Background()
	cl := c.client("p1")

	if err := cl.Do(ctx, http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", deploymentBody(3, "other"), nil); !errors.Is(err, errdefs.ErrInvalid) ||
		!strings.Contains(err.Error(), "spec.template.metadata.labels") {
		t.Fatalf("a selector that misses the template: %v", err)
	}
	if err := cl.Do(ctx, http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", deploymentBody(3, "web"), nil); err != nil {
		t.Fatal(err)
	}
	running := func(via string) map[string]string { return runningPods(ctx, c, via) }
	waitRunning := func(via string, n int) map[string]string {
		t.Helper()
		var got map[string]string
		waitFor(t, 30*time.Second, "running pods", func() bool { got = running(via); return len(got) == n })
		return got
	}
	pods := waitRunning("p1", 3)
	nodes := map[string]bool{}
	for _, n := range pods {
		nodes[n] = true
	}
	if len(nodes) != 3 {
		t.Fatalf("3 replicas on %d nodes, want one per node: %v", len(nodes), pods)
	}
	var d workload.Deployment
	waitFor(t, 10*time.Second, "the deployment's status", func() bool {
		return cl.Do(ctx, http.MethodGet, "/apis/apps/v1/namespaces/default/deployments/web", nil, &d) == nil && d.Status.ReadyReplicas == 3
	})

	scale := func(n int) {
		t.Helper()
		for {
			var cur map[string]any
			if err := cl.Do(ctx, http.MethodGet, "/apis/apps/v1/namespaces/default/deployments/web", nil, &cur); err != nil {
				t.Fatal(err)
			}
			cur["spec"].(map[string]any)["replicas"] = n
			err := cl.Do(ctx, http.MethodPut, "/apis/apps/v1/namespaces/default/deployments/web", cur, nil)
			if errors.Is(err, errdefs.ErrConflict) || errors.Is(err, errdefs.ErrUnavailable) {
				continue // as shoal scale does: read again and set it again
			}
			if err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	scale(5)
	waitRunning("p2", 5)
	scale(1)
	pods = waitRunning("p3", 1)
	scale(3)
	pods = waitRunning("p1", 3)

	// A deleted pod is replaced.
	for name := range pods {
		if err := cl.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/pods/"+name+"?gracePeriodSeconds=0", nil, nil); err != nil {
			t.Fatal(err)
		}
		break
	}
	waitFor(t, 30*time.Second, "a replacement", func() bool {
		now := running("p1")
		if len(now) != 3 {
			return false
		}
		for name := range now {
			if _, old := pods[name]; !old {
				return true
			}
		}
		return false
	})

	// A killed peer's pods come back on the others.
	pods = running("p1")
	victim := nodeOtherThan(pods, "p1")
	c.peers[victim].Kill()
	start := time.Now()
	via := "p1"
	waitFor(t, 30*time.Second, "the victim's pods replaced", func() bool { return replacedOff(running(via), 3, victim) })
	t.Logf("pods of a killed peer running elsewhere after %s", time.Since(start).Round(10*time.Millisecond))

	// Its Node says so, as Kubernetes' does when a kubelet stops posting.
	waitFor(t, 30*time.Second, "the killed peer's node Ready=Unknown", func() bool {
		var n workload.Node
		if cl.Do(ctx, http.MethodGet, "/api/v1/nodes/"+victim, nil, &n) != nil {
			return false
		}
		c := workload.GetNodeCondition(&n.Status, workload.NodeReady)
		return c != nil && c.Status == workload.ConditionUnknown && c.Reason == "NodeStatusUnknown"
	})
}

// A peer that leaves evicts the pods controllers will place elsewhere
// first, and its node takes no new ones.
func TestLeaveDrainsThePeersPodsFirst(t *testing.T) {
	c := newRuntimeCluster(t)
	ctx := context.Background()
	cl := c.client("p1")
	if err := cl.Do(ctx, http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", deploymentBody(3, "web"), nil); err != nil {
		t.Fatal(err)
	}
	onNodes := func() map[string]int {
		var pods struct{ Items []workload.Pod }
		out := map[string]int{}
		if cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods", nil, &pods) != nil {
			return nil
		}
		for _, p := range pods.Items {
			if p.Status.Phase == workload.PodRunning && p.ObjectMeta.DeletionTimestamp == nil {
				out[p.Spec.NodeName]++
			}
		}
		return out
	}
	waitFor(t, 30*time.Second, "one pod per node", func() bool { n := onNodes(); return n["p1"] == 1 && n["p2"] == 1 && n["p3"] == 1 })
	rep, err := c.client("p3").Leave(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Drained) != 1 {
		t.Fatalf("leave report %+v, want one pod drained", rep)
	}
	waitFor(t, 30*time.Second, "three pods on p1 and p2", func() bool { n := onNodes(); return n["p1"]+n["p2"] == 3 && n["p3"] == 0 })
}

// A cordoned node takes no new pods; uncordoned, it does again.
func TestCordonKeepsNewPodsOff(t *testing.T) {
	c := newRuntimeCluster(t)
	ctx := context.Background()
	cl := c.client("p2")
	if err := cl.Do(ctx, http.MethodPatch, "/api/v1/nodes/p3", api.Raw{ContentType: "application/merge-patch+json", Data: []byte(`{"spec":{"unschedulable":true}}`)}, nil); err != nil {
		t.Fatal(err)
	}
	var n workload.Node
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/nodes/p3", nil, &n); err != nil || !n.Spec.Unschedulable {
		t.Fatalf("p3 after cordon: %+v, %v", n.Spec, err)
	}
	if err := cl.Do(ctx, http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", deploymentBody(4, "web"), nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range waitBound(t, cl, 4) {
		if p.Spec.NodeName == "p3" {
			t.Fatalf("%s was placed on the cordoned p3", p.ObjectMeta.Name)
		}
	}
	// The heartbeat keeps the cordon.
	waitFor(t, 15*time.Second, "a heartbeat after the cordon", func() bool {
		var now workload.Node
		if cl.Do(ctx, http.MethodGet, "/api/v1/nodes/p3", nil, &now) != nil {
			return false
		}
		return now.ObjectMeta.ResourceVersion != n.ObjectMeta.ResourceVersion && now.Spec.Unschedulable
	})
	if err := cl.Do(ctx, http.MethodPatch, "/api/v1/nodes/p3", api.Raw{ContentType: "application/merge-patch+json", Data: []byte(`{"spec":{"unschedulable":false}}`)}, nil); err != nil {
		t.Fatal(err)
	}
	var after workload.Node
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/nodes/p3", nil, &after); err != nil || after.Spec.Unschedulable {
		t.Fatalf("p3 after uncordon: %+v, %v", after.Spec, err)
	}
}

// A node with a NoSchedule taint takes only the pods that tolerate it; the
// heartbeat keeps the taint.
func TestTaintedNodeTakesOnlyTolerantPods(t *testing.T) {
	c := newRuntimeCluster(t)
	ctx := context.Background()
	cl := c.client("p2")
	taint := `{"spec":{"taints":[{"key":"dedicated","value":"gpu","effect":"NoSchedule"}]}}`
	if err := cl.Do(ctx, http.MethodPatch, "/api/v1/nodes/p3", api.Raw{ContentType: "application/merge-patch+json", Data: []byte(taint)}, nil); err != nil {
		t.Fatal(err)
	}
	plain := deploymentBody(4, "web")
	tolerant := deploymentBody(3, "gpu")
	tolerant["metadata"] = map[string]any{"name": "gpu"}
	tspec := tolerant["spec"].(map[string]any)["template"].(map[string]any)
	tspec["metadata"] = map[string]any{"labels": map[string]any{"app": "gpu"}}
	tspec["spec"].(map[string]any)["tolerations"] = []any{map[string]any{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}}
	for _, d := range []map[string]any{plain, tolerant} {
		if err := cl.Do(ctx, http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", d, nil); err != nil {
			t.Fatal(err)
		}
	}
	onP3 := 0
	for _, p := range waitBound(t, cl, 7) {
		if p.Spec.NodeName != "p3" {
			continue
		}
		if p.ObjectMeta.Labels["app"] != "gpu" {
			t.Errorf("%s, which does not tolerate dedicated=gpu:NoSchedule, was placed on p3", p.ObjectMeta.Name)
		}
		onP3++
	}
	if onP3 == 0 {
		t.Errorf("no tolerating pod on p3: the taint keeps them off too, or they were not spread")
	}
}

// waitBound waits until the default namespace has n pods bound to nodes,
// and returns its pods.
func waitBound(t *testing.T, cl *api.Client, n int) []workload.Pod {
	t.Helper()
	var pods struct{ Items []workload.Pod }
	waitFor(t, 30*time.Second, fmt.Sprintf("%d pods bound", n), func() bool {
		if cl.Do(context.Background(), http.MethodGet, "/api/v1/namespaces/default/pods", nil, &pods) != nil {
			return false
		}
		bound := 0
		for _, p := range pods.Items {
			if p.Spec.NodeName != "" {
				bound++
			}
		}
		return bound == n
	})
	return pods.Items
}
