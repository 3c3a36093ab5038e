package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func q(s string) workload.Quantity { return workload.MustParseQuantity(s) }

// node returns a Ready node named name in zone (none when ""), with cpu and
// memory allocatable and room for 110 pods, changed by mut.
func node(name, zone, cpu, mem string, mut ...func(*workload.Node)) *workload.Node {
	n := &workload.Node{
		ObjectMeta: workload.ObjectMeta{Name: name, Labels: map[string]string{LabelHostname: name}},
		Status: workload.NodeStatus{
			Allocatable: workload.ResourceList{workload.ResourceCPU: q(cpu), workload.ResourceMemory: q(mem), workload.ResourcePods: q("110")},
			Conditions:  []workload.NodeCondition{{Type: workload.NodeReady, Status: workload.ConditionTrue}},
		},
	}
	if zone != "" {
		n.ObjectMeta.Labels[LabelZone] = zone
	}
	for _, m := range mut {
		m(n)
	}
	return n
}

// alive wraps nodes as alive scheduler nodes.
func alive(nodes ...*workload.Node) []Node {
	out := make([]Node, len(nodes))
	for i, n := range nodes {
		out[i] = Node{Node: n, Alive: true}
	}
	return out
}

// pod returns a pod of namespace "default" with the labels (k=v pairs) and
// one container requesting cpu and memory, changed by mut.
func pod(name, cpu, mem string, mut ...func(*workload.Pod)) *workload.Pod {
	p := &workload.Pod{
		ObjectMeta: workload.ObjectMeta{Name: name, Namespace: "default", UID: workload.UID("uid-" + name)},
		Spec: workload.PodSpec{Containers: []workload.Container{{Name: "c", Image: "img",
			Resources: workload.ResourceRequirements{Requests: workload.ResourceList{}}}}},
	}
	if cpu != "" {
		p.Spec.Containers[0].Resources.Requests[workload.ResourceCPU] = q(cpu)
	}
	if mem != "" {
		p.Spec.Containers[0].Resources.Requests[workload.ResourceMemory] = q(mem)
	}
	for _, m := range mut {
		m(p)
	}
	return p
}

func labels(kv ...string) func(*workload.Pod) {
	return func(p *workload.Pod) {
		if p.ObjectMeta.Labels == nil {
			p.ObjectMeta.Labels = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p.ObjectMeta.Labels[kv[i]] = kv[i+1]
		}
	}
}

func on(node string) func(*workload.Pod) { return func(p *workload.Pod) { p.Spec.NodeName = node } }

func ownedBy(uid string) func(*workload.Pod) {
	yes := true
	return func(p *workload.Pod) {
		p.ObjectMeta.OwnerReferences = []workload.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs-" + uid, UID: workload.UID(uid), Controller: &yes}}
	}
}

func sel(kv ...string) *workload.LabelSelector {
	s := &workload.LabelSelector{MatchLabels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.MatchLabels[kv[i]] = kv[i+1]
	}
	return s
}

// mustAssume assumes pod on node or fails the test.
func mustAssume(t testing.TB, s *Snapshot, p *workload.Pod, node string) {
	t.Helper()
	if err := s.Assume(p, node); err != nil {
		t.Fatal(err)
	}
}

// runFilter runs the named filter for pod on each node of s, and returns
// each node's reason ("" when it passes).
func runFilter(t *testing.T, s *Snapshot, name string, p *workload.Pod) map[string]string {
	t.Helper()
	ps := s.compile(p)
	for _, f := range filters {
		if f.name != name {
			continue
		}
		out := map[string]string{}
		for i, n := range s.nodes {
			ok, reason := f.f(s, ps, i)
			if ok != (reason == "") {
				t.Fatalf("%s on %s: ok = %v with reason %q", name, n.name, ok, reason)
			}
			out[n.name] = reason
		}
		return out
	}
	t.Fatalf("no filter %s", name)
	return nil
}

// runScore returns the normalized scores of the named scorer for pod on
// the feasible nodes of s (nil when the scorer does not apply).
func runScore(t *testing.T, s *Snapshot, name string, p *workload.Pod) map[string]int64 {
	t.Helper()
	ps := s.compile(p)
	feasible := s.filter(ps)
	s.score(ps, feasible)
	for k, sc := range scorers {
		if sc.name != name {
			continue
		}
		if !sc.applies(ps) {
			return nil
		}
		out := map[string]int64{}
		for i, n := range feasible {
			v := s.buf.raw[k][i]
			if v < 0 || v > MaxScore {
				t.Fatalf("%s on %s = %d, out of 0..%d", name, s.nodes[n].name, v, MaxScore)
			}
			out[s.nodes[n].name] = v
		}
		return out
	}
	t.Fatalf("no scorer %s", name)
	return nil
}

func fmtMap[V any](m map[string]V) string { return fmt.Sprint(m) }
