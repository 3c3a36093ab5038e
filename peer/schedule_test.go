package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// Pods created at once land in every object shard, so the leaders of four
// shards, on different peers, schedule them concurrently against the same
// three nodes: the capacity claims keep every node within its allocatable,
// and what does not fit waits, Pending, with the reason.
func TestConcurrentLeadersNeverOvercommitANode(t *testing.T) {
	c := newRuntimeCluster(t)
	ctx := context.Background()
	cl := c.client("p1")
	var nodes struct{ Items []workload.Node }
	waitFor(t, 30*time.Second, "three Ready nodes", func() bool {
		if cl.Do(ctx, http.MethodGet, "/api/v1/nodes", nil, &nodes) != nil || len(nodes.Items) != 3 {
			return false
		}
		for _, n := range nodes.Items {
			if !workload.IsNodeReady(&n) {
				return false
			}
		}
		return true
	})
	alloc := nodes.Items[0].Status.Allocatable[workload.ResourceCPU]
	per := alloc.MilliValue() / 4 // four pods fill a node
	const total = 20
	var wg sync.WaitGroup
	for i := range total {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": fmt.Sprintf("fill-%02d", i)},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "shoal.local/webapp:v1",
					"resources": map[string]any{"requests": map[string]any{"cpu": fmt.Sprintf("%dm", per)}}}}}}
			if err := c.client(fmt.Sprintf("p%d", 1+i%3)).Do(ctx, http.MethodPost, "/api/v1/namespaces/default/pods", pod, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var pods struct{ Items []workload.Pod }
	waitFor(t, 30*time.Second, "12 pods bound and 8 unschedulable", func() bool {
		if cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods", nil, &pods) != nil {
			return false
		}
		bound, refused := 0, 0
		for _, p := range pods.Items {
			if p.Spec.NodeName != "" {
				bound++
			} else if cnd := workload.GetPodCondition(&p.Status, workload.PodScheduled); cnd != nil && cnd.Status == workload.ConditionFalse {
				refused++
			}
		}
		return bound == 12 && refused == 8
	})
	used := map[string]int64{}
	for _, p := range pods.Items {
		if p.Spec.NodeName != "" {
			used[p.Spec.NodeName] += workload.PodRequests(&p).MilliCPU
		}
		if p.Spec.NodeName == "" {
			cnd := workload.GetPodCondition(&p.Status, workload.PodScheduled)
			if !strings.Contains(cnd.Message, "Insufficient cpu") {
				t.Errorf("%s: PodScheduled message %q, want Insufficient cpu", p.ObjectMeta.Name, cnd.Message)
			}
		}
	}
	for node, m := range used {
		if m > alloc.MilliValue() {
			t.Errorf("node %s holds %dm of %dm: over-committed", node, m, alloc.MilliValue())
		}
	}
	// Events are written in the background: wait for them.
	scheduled, failed := 0, 0
	waitFor(t, 30*time.Second, "12 Scheduled and at least 8 FailedScheduling events", func() bool {
		var events struct{ Items []workload.Event }
		if cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/events", nil, &events) != nil {
			return false
		}
		scheduled, failed = 0, 0
		for _, e := range events.Items {
			switch e.Reason {
			case "Scheduled":
				scheduled++
			case "FailedScheduling":
				failed++
			}
		}
		return scheduled >= 12 && failed >= 8
	})
	if scheduled != 12 {
		t.Errorf("%d Scheduled events, want 12", scheduled)
	}
}

// newRuntimeCluster is three peers with in-memory runtimes and the store's
// replicas settled.
func newRuntimeCluster(t testing.TB) *testCluster {
	c := newTestCluster(t)
	c.withRuntime = true
	c.startPeers(3)
	c.waitReplicas(3)
	c.waitNodesReady(3)
	return c
}

// waitNodesReady waits until n nodes are Ready, as p1 sees them: pods
// created before would be placed on the nodes that happen to be up.
func (c *testCluster) waitNodesReady(n int) {
	c.t.Helper()
	waitFor(c.t, 30*time.Second, fmt.Sprintf("%d nodes Ready", n), func() bool {
		var nodes struct{ Items []workload.Node }
		if c.client("p1").Do(context.Background(), http.MethodGet, "/api/v1/nodes", nil, &nodes) != nil {
			return false
		}
		ready := 0
		for i := range nodes.Items {
			if workload.IsNodeReady(&nodes.Items[i]) {
				ready++
			}
		}
		return ready == n
	})
}

// A pod whose capacity claim committed but whose binding did not (the bind
// timed out under load, say) is bound on the node its claim reserves. The
// claim used to count, in the snapshot, as a pod already placed under the
// pod's own UID, so every later pass skipped the pod and it stayed Pending
// for good: 1,000-node benchmark runs stalled that way.
func TestAPodWithAClaimButNoBindingIsBoundWhereItsClaimIs(t *testing.T) {
	c := newRuntimeCluster(t)
	ctx := context.Background()
	p1 := c.peers["p1"]
	pod := &workload.Pod{
		TypeMeta:   workload.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "held", UID: "held-uid"},
		Spec:       workload.PodSpec{Containers: []workload.Container{{Name: "c", Image: "shoal.local/webapp:v1"}}},
	}
	// The claim first, on p3, as a pass that lost its binding leaves it.
	b, err := json.Marshal(ledger{Node: "p3", Claims: map[string]claim{"held-uid": {Pod: "default/held", MilliCPU: 100, At: time.Now().UTC()}}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the claim stored", func() bool {
		cur, err := p1.store.Get(ctx, consensus.MetaShard, consensus.Key{Kind: "ClusterSetting", Name: ledgerName("p3")}, true)
		cmd := consensus.Command{Op: consensus.OpCreate, Object: consensus.Object{Kind: "ClusterSetting", Name: ledgerName("p3"), Data: b}}
		if err == nil {
			cmd.Op, cmd.Precondition = consensus.OpUpdate, cur.ResourceVersion
		}
		_, err = p1.store.Propose(ctx, consensus.MetaShard, consensus.Batch{Commands: []consensus.Command{cmd}})
		return err == nil
	})
	so, err := stored(pod)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p1.store.Propose(ctx, p1.podShard(pod), consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpCreate, Object: so}}}); err != nil {
		t.Fatal(err)
	}
	var got workload.Pod
	waitFor(t, 30*time.Second, "the pod bound", func() bool {
		return c.client("p1").Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods/held", nil, &got) == nil && got.Spec.NodeName != ""
	})
	if got.Spec.NodeName != "p3" {
		t.Fatalf("bound to %s, want p3, where its claim is", got.Spec.NodeName)
	}
}

func TestHeldClaimsPreferAUsableClaim(t *testing.T) {
	now := time.Unix(10000, 0)
	fresh, old := claim{At: now.Add(-time.Second)}, claim{At: now.Add(-claimGrace - time.Second)}
	ls := map[string]*ledger{
		"dead":  {Node: "dead", Claims: map[string]claim{"a": fresh, "b": fresh}},
		"alive": {Node: "alive", Claims: map[string]claim{"a": fresh, "c": fresh, "d": old}},
	}
	held := heldClaims(ls, map[string]bool{"alive": true}, now)
	want := map[string]heldClaim{
		"a": {node: "alive", usable: true},
		"b": {node: "dead"}, // its node is gone: place it anew
		"c": {node: "alive", usable: true},
		"d": {node: "alive"}, // past its grace: its node prunes it
	}
	for uid, h := range want {
		if held[uid] != h {
			t.Errorf("claim %s held as %+v, want %+v", uid, held[uid], h)
		}
	}
	if len(held) != len(want) {
		t.Errorf("held %v, want %v", held, want)
	}
}

// A batch of bindings in which some pods changed or went since they were
// read binds the rest: each failed compare-and-swap drops only its pod.
func TestProposeDroppingLeavesOutOnlyTheCommandsThatFail(t *testing.T) {
	c := newRuntimeCluster(t)
	ctx := context.Background()
	p1 := c.peers["p1"]
	var pods []*workload.Pod
	for _, name := range []string{"kept", "changed", "gone", "also-kept"} {
		pod := &workload.Pod{
			TypeMeta: workload.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			// One Deployment's, so all four share a shard.
			ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: name, UID: workload.UID(name + "-uid"), Annotations: map[string]string{workload.AnnotationDeployment: "web"}},
			// Fits nowhere, so the scheduler leaves it to this test.
			Spec: workload.PodSpec{NodeSelector: map[string]string{"no": "such"}, Containers: []workload.Container{{Name: "c", Image: "shoal.local/webapp:v1"}}},
		}
		so, err := stored(pod)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p1.store.Propose(ctx, p1.podShard(pod), consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpCreate, Object: so}}}); err != nil {
			t.Fatal(err)
		}
		pods = append(pods, pod)
	}
	shard := p1.podShard(pods[0])
	// The scheduler marks each unschedulable once; then nothing else
	// writes them.
	waitFor(t, 30*time.Second, "the pods marked unschedulable", func() bool {
		for i, pod := range pods {
			so, err := p1.store.Get(ctx, shard, consensus.Key{Kind: "Pod", Namespace: "default", Name: pod.ObjectMeta.Name}, true)
			if err != nil {
				return false
			}
			got, err := decodePod(so)
			if err != nil {
				return false
			}
			if cnd := workload.GetPodCondition(&got.Status, workload.PodScheduled); cnd == nil || cnd.Status != workload.ConditionFalse {
				return false
			}
			pods[i] = &got
		}
		return true
	})
	changed := *pods[1]
	changed.ObjectMeta.Labels = map[string]string{"touched": "yes"}
	if err := p1.updateIn(ctx, shard, &changed); err != nil {
		t.Fatal(err)
	}
	if err := p1.deleteIn(ctx, shard, "Pod", &pods[2].ObjectMeta); err != nil {
		t.Fatal(err)
	}
	var cmds []consensus.Command
	for _, pod := range pods {
		b := *pod
		b.Spec.NodeName = "p2"
		cmd, err := updateCommand(&b)
		if err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	out := p1.proposeDropping(ctx, shard, cmds)
	for i, want := range []error{nil, errdefs.ErrConflict, errdefs.ErrNotFound, nil} {
		if r := out[i]; (want == nil) != (r.err == nil) || (want != nil && !errors.Is(r.err, want)) || (want == nil && r.rv == 0) {
			t.Errorf("%s: %+v, want error %v", pods[i].ObjectMeta.Name, r, want)
		}
	}
	if out[0].rv != out[3].rv {
		t.Errorf("the bindings committed at %d and %d, want one batch", out[0].rv, out[3].rv)
	}
	for name, node := range map[string]string{"kept": "p2", "changed": "", "also-kept": "p2"} {
		var got workload.Pod
		if err := c.client("p1").Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods/"+name, nil, &got); err != nil {
			t.Fatal(err)
		}
		if got.Spec.NodeName != node {
			t.Errorf("%s is on %q, want %q", name, got.Spec.NodeName, node)
		}
	}
}

// A pass decides only the pods that the linearizable list still shows
// unbound: its first list is the local replica's, which may lag behind
// bindings that a previous leader committed.
func TestStillUnboundKeepsOnlyPodsTheFreshListShowsUnbound(t *testing.T) {
	pod := func(name, uid, rv, node string) *workload.Pod {
		return &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: name, UID: workload.UID(uid), ResourceVersion: rv},
			Spec: workload.PodSpec{NodeName: node}}
	}
	deleting := pod("deleting", "u5", "9", "")
	deleting.ObjectMeta.DeletionTimestamp = &workload.Time{Time: time.Time{}}
	pending := []*workload.Pod{pod("bound", "u1", "1", ""), pod("waits", "u2", "2", ""), pod("gone", "u3", "3", ""),
		pod("recreated", "u4", "4", ""), pod("deleting", "u5", "5", "")}
	fresh := []*workload.Pod{pod("bound", "u1", "7", "n1"), pod("waits", "u2", "8", ""), pod("recreated", "u44", "6", ""),
		deleting, pod("other", "u6", "1", "")}
	got := stillUnbound(pending, fresh)
	if len(got) != 1 || got[0].ObjectMeta.Name != "waits" || got[0].ObjectMeta.ResourceVersion != "8" {
		var names []string
		for _, p := range got {
			names = append(names, p.ObjectMeta.Name+"@"+p.ObjectMeta.ResourceVersion)
		}
		t.Fatalf("stillUnbound = %v; want [waits@8]", names)
	}
}

// A scheduling pass waits for this peer's pod creations in its shard to
// end, or for its limit; not at all when none is in flight there.
func TestCreationsWaitForTheShardsCreationsToEnd(t *testing.T) {
	var c creations
	ctx := context.Background()
	wait := func(shard uint64, limit time.Duration) chan struct{} {
		ch := make(chan struct{})
		go func() { c.wait(ctx, shard, limit); close(ch) }()
		return ch
	}
	returns := func(what string, ch chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: wait did not return", what)
		}
	}
	returns("nothing in flight", wait(1, time.Hour))
	c.begin(1)
	c.begin(1)
	returns("creations in another shard only", wait(2, time.Hour))
	w := wait(1, time.Hour)
	c.end(1)
	c.mu.Lock()
	left := c.shards[1].n
	c.mu.Unlock()
	if left != 1 {
		t.Fatalf("after one of two creations ended, %d in flight; want 1", left)
	}
	c.end(1)
	returns("both creations ended", w)
	c.begin(1)
	defer c.end(1)
	returns("the limit passed", wait(1, time.Millisecond))
}

// The scheduler takes the pods that name it (or no scheduler) and have no
// scheduling gates; the others stay Pending, as in Kubernetes.
func TestTheSchedulerTakesOnlyItsUngatedPods(t *testing.T) {
	mk := func(scheduler string, gates ...string) *workload.Pod {
		p := &workload.Pod{Spec: workload.PodSpec{SchedulerName: scheduler}}
		for _, g := range gates {
			p.Spec.SchedulingGates = append(p.Spec.SchedulingGates, workload.PodSchedulingGate{Name: g})
		}
		return p
	}
	for _, c := range []struct {
		pod  *workload.Pod
		want bool
	}{
		{mk(""), true},
		{mk("default-scheduler"), true},
		{mk("my-scheduler"), false},
		{mk("default-scheduler", "example.com/quota"), false},
	} {
		if got := unbound(c.pod); got != c.want {
			t.Errorf("schedulerName %q, gates %v: unbound = %v, want %v", c.pod.Spec.SchedulerName, c.pod.Spec.SchedulingGates, got, c.want)
		}
	}
}
