package peer

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
)

// Every namespace has a "default" ServiceAccount, the system ones from the
// start and a new one within a node lifecycle pass, made again when
// deleted; pods that name no account run as it; the cluster has the two
// system PriorityClasses.
func TestEveryNamespaceHasADefaultServiceAccount(t *testing.T) {
	c := newTestCluster(t)
	c.startPeers(1)
	c.waitReplicas(1)
	ctx := context.Background()
	cl := c.client("p1")
	hasDefault := func(ns string) func() bool {
		return func() bool {
			var sa workload.ServiceAccount
			return cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/"+ns+"/serviceaccounts/default", nil, &sa) == nil && sa.Name == "default"
		}
	}
	for _, ns := range systemNamespaces {
		waitFor(t, 20*time.Second, "serviceaccount default in "+ns, hasDefault(ns))
	}
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "team-a"}}
	if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces", ns, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "serviceaccount default in team-a", hasDefault("team-a"))
	if err := cl.Do(ctx, http.MethodDelete, "/api/v1/namespaces/team-a/serviceaccounts/default", nil, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "serviceaccount default in team-a made again", hasDefault("team-a"))

	pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p", "namespace": "team-a"},
		"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "busybox"}}}}
	var got workload.Pod
	if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/team-a/pods", pod, &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.ServiceAccountName != "default" || got.Spec.DeprecatedServiceAccount != "default" {
		t.Errorf("pod runs as %q (serviceAccount %q), want default", got.Spec.ServiceAccountName, got.Spec.DeprecatedServiceAccount)
	}
	for _, pc := range workload.SystemPriorityClasses() {
		var have workload.PriorityClass
		if err := cl.Do(ctx, http.MethodGet, "/apis/scheduling.k8s.io/v1/priorityclasses/"+pc.Name, nil, &have); err != nil || have.Value != pc.Value {
			t.Errorf("priorityclass %s: value %d, err %v; want %d", pc.Name, have.Value, err, pc.Value)
		}
	}
}
