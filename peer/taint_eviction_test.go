package peer

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/controller"
)

// tolerating is a toleration of key's NoExecute taint, for seconds (nil:
// for ever), as a manifest spells it.
func tolerating(key string, seconds *int) []any {
	t := map[string]any{"key": key, "operator": "Exists", "effect": "NoExecute"}
	if seconds != nil {
		t["tolerationSeconds"] = *seconds
	}
	return []any{t}
}

// namedDeployment is deploymentBody under another name and app label, its
// pods with tolerations.
func namedDeployment(name string, replicas int, tolerations []any) map[string]any {
	d := deploymentBody(replicas, name)
	d["metadata"] = map[string]any{"name": name}
	tmpl := d["spec"].(map[string]any)["template"].(map[string]any)
	tmpl["metadata"] = map[string]any{"labels": map[string]any{"app": name}}
	if tolerations != nil {
		tmpl["spec"].(map[string]any)["tolerations"] = tolerations
	}
	return d
}

// boundPod is a pod bound to node by its manifest, with tolerations.
func boundPod(name, node string, tolerations []any) map[string]any {
	spec := map[string]any{"nodeName": node, "containers": []any{map[string]any{"name": "web", "image": "shoal.local/webapp:v1"}}}
	if tolerations != nil {
		spec["tolerations"] = tolerations
	}
	return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": name, "labels": map[string]any{"app": name}}, "spec": spec}
}

// podsByApp lists the default namespace's pods with label app=app; nil
// when the peer cannot answer.
func podsByApp(ctx context.Context, cl *api.Client, app string) []workload.Pod {
	var pods struct{ Items []workload.Pod }
	if cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods?labelSelector=app%3D"+app, nil, &pods) != nil {
		return nil
	}
	if pods.Items == nil {
		return []workload.Pod{}
	}
	return pods.Items
}

// runningOn says whether pods holds n running pods, not terminating, and
// how many of them are on node.
func runningOn(pods []workload.Pod, node string) (running, on int) {
	for _, p := range pods {
		if p.Status.Phase == workload.PodRunning && p.ObjectMeta.DeletionTimestamp == nil {
			running++
			if p.Spec.NodeName == node {
				on++
			}
		}
	}
	return running, on
}

// hasPod says whether pods holds name, bound to node and not terminating.
func hasPod(pods []workload.Pod, name, node string) bool {
	for _, p := range pods {
		if p.ObjectMeta.Name == name {
			return p.Spec.NodeName == node && p.ObjectMeta.DeletionTimestamp == nil
		}
	}
	return false
}

func unreachableTaints(n *workload.Node) (noSchedule, noExecute bool) {
	for _, t := range n.Spec.Taints {
		if t.Key == controller.TaintNodeUnreachable && t.TimeAdded != nil {
			noSchedule = noSchedule || t.Effect == workload.TaintEffectNoSchedule
			noExecute = noExecute || t.Effect == workload.TaintEffectNoExecute
		}
	}
	return noSchedule, noExecute
}

// A killed peer's Node gets Kubernetes' unreachable taints, and failover
// goes through them: a pod that does not tolerate them is replaced as
// before, one that tolerates them for 3 s is deleted (and replaced) no
// sooner than 3 s after the kill, one that tolerates them for ever stays
// bound to the dead peer. When the peer restarts, the taints go.
func TestFailoverGoesThroughTheUnreachableTaint(t *testing.T) {
	c := newRuntimeCluster(t)
	ctx := context.Background()
	three := 3
	for _, d := range []map[string]any{namedDeployment("web", 3, nil), namedDeployment("patient", 1, tolerating(controller.TaintNodeUnreachable, &three))} {
		if err := c.client("p1").Do(ctx, http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", d, nil); err != nil {
			t.Fatal(err)
		}
	}
	var patient workload.Pod
	waitFor(t, 30*time.Second, "the patient pod running", func() bool {
		ps := podsByApp(ctx, c.client("p1"), "patient")
		if n, _ := runningOn(ps, ""); n != 1 {
			return false
		}
		patient = ps[0]
		return true
	})
	victim := patient.Spec.NodeName
	via := "p1"
	if victim == via {
		via = "p2"
	}
	cl := c.client(via)
	if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/pods", boundPod("stay", victim, tolerating(controller.TaintNodeUnreachable, nil)), nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "3 web pods, one on "+victim+", and the stay pod running", func() bool {
		web, onVictim := runningOn(podsByApp(ctx, cl, "web"), victim)
		stay, _ := runningOn(podsByApp(ctx, cl, "stay"), victim)
		return web == 3 && onVictim == 1 && stay == 1
	})

	c.peers[victim].Kill()
	killed := time.Now()
	waitFor(t, 30*time.Second, "the web pod on "+victim+" replaced", func() bool {
		web, onVictim := runningOn(podsByApp(ctx, cl, "web"), victim)
		return web == 3 && onVictim == 0
	})
	replaced := time.Since(killed)
	if !hasPod(podsByApp(ctx, cl, "patient"), patient.ObjectMeta.Name, victim) {
		t.Fatalf("the pod tolerating unreachable for 3 s was deleted with the others, %s after the kill", replaced)
	}
	waitFor(t, 30*time.Second, "the patient pod deleted", func() bool {
		ps := podsByApp(ctx, cl, "patient")
		return ps != nil && !hasPod(ps, patient.ObjectMeta.Name, victim)
	})
	patientGone := time.Since(killed)
	t.Logf("after the kill: web replaced in %s, the pod tolerating unreachable for 3 s deleted in %s", replaced.Round(10*time.Millisecond), patientGone.Round(10*time.Millisecond))
	if patientGone < 3*time.Second {
		t.Fatalf("the pod tolerating unreachable for 3 s was deleted %s after the kill", patientGone)
	}
	waitFor(t, 30*time.Second, "the patient pod replaced elsewhere", func() bool {
		n, on := runningOn(podsByApp(ctx, cl, "patient"), victim)
		return n == 1 && on == 0
	})
	if !hasPod(podsByApp(ctx, cl, "stay"), "stay", victim) {
		t.Fatal("the pod tolerating unreachable for ever was deleted")
	}
	var node workload.Node
	waitFor(t, 30*time.Second, victim+"'s Node tainted unreachable:NoSchedule and :NoExecute", func() bool {
		node = workload.Node{} // decoding into the last one would keep its taints
		if cl.Do(ctx, http.MethodGet, "/api/v1/nodes/"+victim, nil, &node) != nil {
			return false
		}
		s, e := unreachableTaints(&node)
		return s && e
	})

	c.start(victim, via)
	waitFor(t, 30*time.Second, victim+"'s Node Ready and untainted", func() bool {
		node = workload.Node{} // decoding into the last one would keep its taints
		if cl.Do(ctx, http.MethodGet, "/api/v1/nodes/"+victim, nil, &node) != nil {
			return false
		}
		s, e := unreachableTaints(&node)
		return workload.IsNodeReady(&node) && !s && !e
	})
	if !hasPod(podsByApp(ctx, cl, "stay"), "stay", victim) {
		t.Fatal("the pod tolerating unreachable for ever was deleted once its peer came back")
	}
}

// A NoExecute taint an operator puts on a Node (a merge patch, as kubectl
// sends; no timeAdded) evicts the pods there that do not tolerate it, with
// Kubernetes' event, keeps one that tolerates it for ever, and deletes one
// that tolerates it for 2 s no sooner than 2 s after the taint.
func TestNoExecuteTaintEvictsPodsThatDoNotTolerateIt(t *testing.T) {
	c := newRuntimeCluster(t)
	ctx := context.Background()
	cl := c.client("p1")
	two := 2
	for _, p := range []map[string]any{
		boundPod("plain", "p3", nil),
		boundPod("other", "p3", tolerating("other", nil)),
		boundPod("tolerant", "p3", tolerating("maint", nil)),
		boundPod("patient", "p3", tolerating("maint", &two)),
		boundPod("elsewhere", "p2", nil),
	} {
		if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/pods", p, nil); err != nil {
			t.Fatal(err)
		}
	}
	all := []string{"plain", "other", "tolerant", "patient", "elsewhere"}
	waitFor(t, 30*time.Second, "the pods running", func() bool {
		for _, app := range all {
			if n, _ := runningOn(podsByApp(ctx, cl, app), ""); n != 1 {
				return false
			}
		}
		return true
	})

	taint := `{"spec":{"taints":[{"key":"maint","value":"now","effect":"NoExecute"}]}}`
	if err := cl.Do(ctx, http.MethodPatch, "/api/v1/nodes/p3", api.Raw{ContentType: "application/merge-patch+json", Data: []byte(taint)}, nil); err != nil {
		t.Fatal(err)
	}
	tainted := time.Now()
	node := map[string]string{"plain": "p3", "other": "p3", "tolerant": "p3", "patient": "p3", "elsewhere": "p2"}
	evicted := func(name string) bool { // gone or terminating
		ps := podsByApp(ctx, cl, name)
		return ps != nil && !hasPod(ps, name, node[name])
	}
	waitFor(t, 30*time.Second, "plain and other evicted", func() bool { return evicted("plain") && evicted("other") })
	if evicted("patient") && time.Since(tainted) < 2*time.Second {
		t.Fatalf("the pod tolerating maint for 2 s was evicted %s after the taint", time.Since(tainted))
	}
	waitFor(t, 30*time.Second, "patient evicted", func() bool { return evicted("patient") })
	if gone := time.Since(tainted); gone < 2*time.Second {
		t.Fatalf("the pod tolerating maint for 2 s was evicted %s after the taint", gone)
	}
	for _, name := range []string{"tolerant", "elsewhere"} {
		if evicted(name) {
			t.Errorf("%s was evicted: it tolerates the taint, or is on another node", name)
		}
	}
	var events struct{ Items []workload.Event }
	waitFor(t, 30*time.Second, "TaintManagerEviction events on the evicted pods", func() bool {
		if cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/events", nil, &events) != nil {
			return false
		}
		want := map[string]bool{"plain": true, "other": true, "patient": true}
		for _, e := range events.Items {
			if e.Reason == controller.EventReasonTaintEviction && e.InvolvedObject.Kind == "Pod" && e.Message == "Marking for deletion Pod default/"+e.InvolvedObject.Name {
				delete(want, e.InvolvedObject.Name)
			}
		}
		return len(want) == 0
	})
	for _, e := range events.Items {
		if e.Reason == controller.EventReasonTaintEviction && (e.InvolvedObject.Name == "tolerant" || e.InvolvedObject.Name == "elsewhere") {
			t.Errorf("eviction event on %s: %s", e.InvolvedObject.Name, e.Message)
		}
	}
}
