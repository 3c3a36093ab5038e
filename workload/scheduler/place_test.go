package scheduler

import (
	"errors"
	"fmt"
	"testing"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

func mustPlace(t *testing.T, s *Snapshot, p *workload.Pod) string {
	t.Helper()
	n, err := s.Place(p)
	if err != nil {
		t.Fatalf("Place(%s): %v", p.ObjectMeta.Name, err)
	}
	return n
}

// placeAll places and assumes each pod in turn, returning the nodes.
func placeAll(t *testing.T, s *Snapshot, pods ...*workload.Pod) []string {
	t.Helper()
	var out []string
	for _, p := range pods {
		n := mustPlace(t, s, p)
		mustAssume(t, s, p, n)
		out = append(out, n)
	}
	return out
}

func TestPlaceUnschedulableSaysWhy(t *testing.T) {
	s := NewSnapshot(alive(
		node("small", "", "500m", "1Gi", nodeLabels("disk", "ssd")),
		node("hdd-1", "", "4", "8Gi", nodeLabels("disk", "hdd")),
		node("hdd-2", "", "4", "8Gi", nodeLabels("disk", "hdd")),
	), nil)
	p := pod("p", "1", "1Gi", func(p *workload.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "ssd"} })
	_, err := s.Place(p)
	var u *Unschedulable
	if !errors.As(err, &u) {
		t.Fatalf("Place = %v; want an *Unschedulable", err)
	}
	const want = "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."
	if err.Error() != want {
		t.Errorf("error = %q; want %q", err, want)
	}
	if u.Nodes != 3 || u.Reasons[ReasonInsufficientCPU] != 1 || u.Reasons[ReasonNodeAffinity] != 2 {
		t.Errorf("Unschedulable = %+v", u)
	}

	_, err = NewSnapshot(nil, nil).Place(p)
	if !errors.As(err, &u) || err.Error() != "0/0 nodes are available: no nodes in the cluster." {
		t.Errorf("Place on no nodes = %v", err)
	}
}

// An extended resource no node has enough of reads as kube-scheduler's
// message; assumed pods hold it, and a forgotten one gives it back.
func TestPlaceCountsExtendedResources(t *testing.T) {
	dongle := func(p *workload.Pod) {
		p.Spec.Containers[0].Resources.Limits = workload.ResourceList{"example.com/dongle": q("1")}
	}
	s := NewSnapshot(alive(
		node("a", "", "4", "8Gi"),
		node("b", "", "4", "8Gi"),
		node("c", "", "4", "8Gi", func(n *workload.Node) { n.Status.Allocatable["example.com/dongle"] = q("1") }),
	), nil)
	first, second := pod("first", "100m", "", dongle), pod("second", "100m", "", dongle)
	if n := mustPlace(t, s, first); n != "c" {
		t.Fatalf("Place = %s; want c, the node with the dongle", n)
	}
	placeAll(t, s, first)
	_, err := s.Place(second)
	var u *Unschedulable
	if !errors.As(err, &u) || err.Error() != "0/3 nodes are available: 3 Insufficient example.com/dongle." {
		t.Fatalf("Place = %v; want 0/3 nodes are available: 3 Insufficient example.com/dongle.", err)
	}
	s.Forget(first)
	if n := mustPlace(t, s, second); n != "c" {
		t.Errorf("Place after Forget = %s; want c", n)
	}
}

func TestPlacePicksTheBestFeasibleNode(t *testing.T) {
	s := NewSnapshot(alive(
		node("busy", "a", "4", "8Gi"),
		node("idle", "a", "4", "8Gi"),
		node("idle-dead", "b", "8", "16Gi"),
	), []*workload.Pod{pod("x", "3", "6Gi", on("busy"))})
	s.nodes[s.index["idle-dead"]].unavailable = ReasonNodeNotAlive
	if n := mustPlace(t, s, pod("p", "500m", "1Gi")); n != "idle" {
		t.Errorf("Place = %s; want the least allocated live node, idle", n)
	}
	// Preferred node affinity (weight 2) outweighs least allocated (1).
	p := pod("p", "500m", "1Gi", preferNodes(workload.PreferredSchedulingTerm{Weight: 1,
		Preference: term(expr(LabelHostname, workload.NodeSelectorOpIn, "busy"))}))
	if n := mustPlace(t, s, p); n != "busy" {
		t.Errorf("Place = %s; want the preferred node, busy", n)
	}
}

func TestAssumeUsesCapacity(t *testing.T) {
	s := NewSnapshot(alive(node("n1", "", "1", "1Gi")), nil)
	first, second := pod("first", "600m", "100Mi"), pod("second", "600m", "100Mi")
	placeAll(t, s, first)
	if _, err := s.Place(second); err == nil || err.Error() != "0/1 nodes are available: 1 Insufficient cpu." {
		t.Fatalf("Place after Assume = %v; want Insufficient cpu", err)
	}
	if !s.Forget(first) {
		t.Fatal("Forget found nothing")
	}
	if s.Forget(first) {
		t.Error("Forget found the pod twice")
	}
	placeAll(t, s, second)

	if err := s.Assume(second, "n1"); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("Assume twice = %v; want ErrAlreadyExists", err)
	}
	if err := s.Assume(pod("third", "", ""), "n9"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Assume on an unknown node = %v; want ErrNotFound", err)
	}
}

func TestAssumeIsSeenByAffinityAndSpread(t *testing.T) {
	s := NewSnapshot(alive(node("n1", "a", "4", "8Gi"), node("n2", "b", "4", "8Gi"), node("n3", "c", "4", "8Gi")), nil)
	one := func(i int) *workload.Pod {
		return pod(fmt.Sprint("web-", i), "100m", "64Mi", labels("app", "web"), ownedBy("rs"),
			podAntiAffinity(affinityTerm(sel("app", "web"), LabelHostname)))
	}
	// Ask once before any assume, so the counters exist before Assume
	// must keep them up to date.
	mustPlace(t, s, one(0))
	got := placeAll(t, s, one(1), one(2), one(3))
	if got[0] == got[1] || got[1] == got[2] || got[0] == got[2] {
		t.Errorf("placements = %v; want one per node", got)
	}
	_, err := s.Place(one(4))
	if err == nil || err.Error() != "0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules." {
		t.Errorf("fourth replica: %v", err)
	}
	// Forgetting one frees its node.
	s.Forget(one(2))
	if n := mustPlace(t, s, one(4)); n != got[1] {
		t.Errorf("after Forget, Place = %s; want %s", n, got[1])
	}
}

func TestPlaceSpreadsReplicasOverZonesAndNodes(t *testing.T) {
	var nodes []*workload.Node
	for i := range 6 {
		nodes = append(nodes, node(fmt.Sprint("n", i), fmt.Sprint("zone-", i%3), "8", "16Gi"))
	}
	// Zone-0 nodes are bigger: least allocated alone would fill them.
	nodes[0].Status.Allocatable[workload.ResourceCPU] = q("64")
	nodes[3].Status.Allocatable[workload.ResourceCPU] = q("64")
	s := NewSnapshot(alive(nodes...), nil)
	var pods []*workload.Pod
	for i := range 6 {
		pods = append(pods, pod(fmt.Sprint("web-", i), "1", "1Gi", labels("app", "web"), ownedBy("rs-web")))
	}
	perNode, perZone := map[string]int{}, map[string]int{}
	for _, n := range placeAll(t, s, pods...) {
		perNode[n]++
		perZone[nodes[s.index[n]].ObjectMeta.Labels[LabelZone]]++
	}
	if len(perNode) != 6 {
		t.Errorf("per node: %v; want one replica on each", perNode)
	}
	for z, c := range perZone {
		if c != 2 {
			t.Errorf("zone %s has %d replicas; want 2 (per zone: %v)", z, c, perZone)
		}
	}
}

func TestPlaceIsDeterministicAndSpreadsTies(t *testing.T) {
	var nodes []*workload.Node
	for i := range 8 {
		nodes = append(nodes, node(fmt.Sprint("n", i), "", "4", "8Gi"))
	}
	// Pods with nothing to tell equal nodes apart: no requests, each its
	// own owner.
	var pods []*workload.Pod
	for i := range 40 {
		pods = append(pods, pod(fmt.Sprint("p", i), "", "", ownedBy(fmt.Sprint("rs-", i))))
	}
	run := func(order []*workload.Node) []string {
		s := NewSnapshot(alive(order...), nil)
		var out []string
		for _, p := range pods {
			out = append(out, mustPlace(t, s, p))
		}
		return out
	}
	first := run(nodes)
	reversed := make([]*workload.Node, len(nodes))
	for i, n := range nodes {
		reversed[len(nodes)-1-i] = n
	}
	if second := run(reversed); fmt.Sprint(first) != fmt.Sprint(second) {
		t.Errorf("placements differ with the order of the nodes:\n%v\n%v", first, second)
	}
	used := map[string]bool{}
	for _, n := range first {
		used[n] = true
	}
	if len(used) < 6 {
		t.Errorf("40 pods tied on 8 equal nodes went to only %d of them: %v", len(used), first)
	}
}

func TestNewSnapshotCountsOnlyWhatHolds(t *testing.T) {
	s := NewSnapshot(alive(node("n1", "", "1", "1Gi"), node("n1", "", "64", "64Gi")), []*workload.Pod{
		pod("done", "1", "1Gi", on("n1"), func(p *workload.Pod) { p.Status.Phase = workload.PodSucceeded }),
		pod("elsewhere", "1", "1Gi", on("n9")),
		pod("unbound", "1", "1Gi"),
		pod("half", "500m", "", on("n1")),
		pod("half", "500m", "", on("n1")), // the same pod twice counts once
	})
	if s.Nodes() != 1 {
		t.Errorf("Nodes = %d; want the duplicate name dropped", s.Nodes())
	}
	if n := mustPlace(t, s, pod("p", "500m", "512Mi")); n != "n1" {
		t.Errorf("Place = %s", n)
	}
	if _, err := s.Place(pod("p", "501m", "")); err == nil {
		t.Error("a pod bigger than what is left fits")
	}
	if err := s.Assume(pod("done2", "1", "1Gi", func(p *workload.Pod) { p.Status.Phase = workload.PodFailed }), "n1"); err != nil {
		t.Fatal(err)
	}
	mustPlace(t, s, pod("p", "500m", "512Mi"))
}

func TestPercentageOfNodesToScore(t *testing.T) {
	nodesOf := func(count int) []Node {
		var out []*workload.Node
		for i := range count {
			out = append(out, node(fmt.Sprintf("n%04d", i), "", "4", "8Gi"))
		}
		return alive(out...)
	}
	for _, tc := range []struct {
		nodes, percent, want int
	}{
		{50, 0, 50}, {100, 0, 100}, {200, 0, 100}, {1000, 0, 420}, {5000, 0, 500}, {10000, 0, 500},
		{1000, 100, 1000}, {1000, 10, 100}, {1000, 30, 300}, {1000, 250, 1000}, {50, 10, 50},
	} {
		s := NewSnapshot(nodesOf(tc.nodes), nil)
		s.SetPercentageOfNodesToScore(tc.percent)
		if got := s.nodesToFind(); got != tc.want {
			t.Errorf("%d nodes at %d%%: %d to find; want %d", tc.nodes, tc.percent, got, tc.want)
		}
	}

	// Decisions take turns over the nodes, and an unschedulable pod is
	// still checked against every node.
	s := NewSnapshot(nodesOf(300), nil)
	p := pod("p", "1", "1Gi")
	seen := map[string]bool{}
	for range 3 {
		ps := s.compile(p)
		for _, n := range s.filter(ps) {
			seen[s.nodes[n].name] = true
		}
	}
	if len(seen) != 300 {
		t.Errorf("3 decisions of 100 nodes saw %d of 300", len(seen))
	}
	_, err := s.Place(pod("big", "5", ""))
	var u *Unschedulable
	if !errors.As(err, &u) || u.Reasons[ReasonInsufficientCPU] != 300 {
		t.Errorf("Place = %v; want 300 Insufficient cpu", err)
	}
}
