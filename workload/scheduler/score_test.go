package scheduler

import (
	"testing"

	"github.com/shoalproject/shoal/workload"
)

// scoreCase is one pod against a snapshot: each feasible node's expected
// normalized score from one scorer; a nil want says the scorer does not
// apply to the pod.
type scoreCase struct {
	name string
	pod  *workload.Pod
	want map[string]int64
}

func runScoreCases(t *testing.T, s *Snapshot, scorer string, cases []scoreCase) {
	t.Helper()
	for _, tc := range cases {
		got := runScore(t, s, scorer, tc.pod)
		if (got == nil) != (tc.want == nil) {
			t.Errorf("%s: %s = %v; want %v", tc.name, scorer, fmtMap(got), fmtMap(tc.want))
			continue
		}
		for n, want := range tc.want {
			if v, ok := got[n]; !ok || v != want {
				t.Errorf("%s: %s on %s = %d (scored: %v); want %d", tc.name, scorer, n, v, ok, want)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: %s scored %v; the case names %v", tc.name, scorer, fmtMap(got), fmtMap(tc.want))
		}
	}
}

func TestScoreLeastAllocated(t *testing.T) {
	s := NewSnapshot(alive(
		node("empty", "", "4", "8Gi"),
		node("half", "", "4", "8Gi"),
		node("cpu-heavy", "", "4", "8Gi"),
		node("small", "", "2", "4Gi"),
	), []*workload.Pod{
		pod("h", "2", "4Gi", on("half")),
		pod("c", "3", "0", on("cpu-heavy")),
	})
	runScoreCases(t, s, "LeastAllocated", []scoreCase{
		// Free after placing: empty 3/4 and 6/8, half 1/4 and 2/8,
		// cpu-heavy 0/4 and 6/8, small 1/2 and 2/4.
		{"1 cpu, 2Gi", pod("p", "1", "2Gi"), map[string]int64{"empty": 75, "half": 25, "cpu-heavy": 37, "small": 50}},
		{"nothing requested", pod("p", "", ""), map[string]int64{"empty": 100, "half": 50, "cpu-heavy": 62, "small": 100}},
	})
	// The score is cached per node; Assume must invalidate it.
	mustAssume(t, s, pod("q", "2", "4Gi"), "empty")
	runScoreCases(t, s, "LeastAllocated", []scoreCase{
		{"after Assume", pod("p", "1", "2Gi"), map[string]int64{"empty": 25, "half": 25, "cpu-heavy": 37, "small": 50}},
	})
}

func preferNodes(terms ...workload.PreferredSchedulingTerm) func(*workload.Pod) {
	return func(p *workload.Pod) { nodeAffinityOf(p).PreferredDuringSchedulingIgnoredDuringExecution = terms }
}

func TestScoreNodeAffinity(t *testing.T) {
	s := NewSnapshot(alive(
		node("a-ssd", "a", "1", "1Gi", nodeLabels("disk", "ssd")),
		node("a-hdd", "a", "1", "1Gi", nodeLabels("disk", "hdd")),
		node("b-ssd", "b", "1", "1Gi", nodeLabels("disk", "ssd")),
		node("b-hdd", "b", "1", "1Gi", nodeLabels("disk", "hdd")),
	), nil)
	ssd := workload.PreferredSchedulingTerm{Weight: 10, Preference: term(expr("disk", workload.NodeSelectorOpIn, "ssd"))}
	zoneA := workload.PreferredSchedulingTerm{Weight: 30, Preference: term(expr(LabelZone, workload.NodeSelectorOpIn, "a"))}
	runScoreCases(t, s, "NodeAffinity", []scoreCase{
		{"no preference does not apply", pod("p", "", ""), nil},
		{"weights add up, the best scores 100", pod("p", "", "", preferNodes(ssd, zoneA)),
			map[string]int64{"a-ssd": 100, "a-hdd": 75, "b-ssd": 25, "b-hdd": 0}},
		{"one term", pod("p", "", "", preferNodes(ssd)), map[string]int64{"a-ssd": 100, "a-hdd": 0, "b-ssd": 100, "b-hdd": 0}},
		{"no node matches", pod("p", "", "", preferNodes(workload.PreferredSchedulingTerm{Weight: 5, Preference: term(expr("gpu", workload.NodeSelectorOpExists))})),
			map[string]int64{"a-ssd": 0, "a-hdd": 0, "b-ssd": 0, "b-hdd": 0}},
		{"only feasible nodes are scored", pod("p", "", "", preferNodes(ssd, zoneA), requiredNodeAffinity(term(expr(LabelZone, workload.NodeSelectorOpIn, "b")))),
			map[string]int64{"b-ssd": 100, "b-hdd": 0}},
	})
}

func preferPods(affinity, anti []workload.WeightedPodAffinityTerm) func(*workload.Pod) {
	return func(p *workload.Pod) {
		p.Spec.Affinity = &workload.Affinity{}
		if affinity != nil {
			p.Spec.Affinity.PodAffinity = &workload.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: affinity}
		}
		if anti != nil {
			p.Spec.Affinity.PodAntiAffinity = &workload.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: anti}
		}
	}
}

func weighted(w int32, t workload.PodAffinityTerm) []workload.WeightedPodAffinityTerm {
	return []workload.WeightedPodAffinityTerm{{Weight: w, PodAffinityTerm: t}}
}

func TestScoreInterPodAffinity(t *testing.T) {
	nodes := alive(
		node("a1", "a", "1", "1Gi"),
		node("a2", "a", "1", "1Gi"),
		node("b1", "b", "1", "1Gi"),
		node("c1", "c", "1", "1Gi"),
	)
	s := NewSnapshot(nodes, []*workload.Pod{
		pod("db1", "", "", labels("app", "db"), on("a1")),
		pod("db2", "", "", labels("app", "db"), on("a1")),
		pod("db3", "", "", labels("app", "db"), on("b1")),
		pod("web", "", "", labels("app", "web"), on("a2")),
		// A placed pod that would rather not share its zone with app=batch.
		pod("shy", "", "", labels("app", "shy"), on("c1"),
			preferPods(nil, weighted(40, affinityTerm(sel("app", "batch"), LabelZone)))),
		// One that must be near app=api: it draws api pods, weight 1.
		pod("needy", "", "", labels("app", "needy"), on("b1"), podAffinity(affinityTerm(sel("app", "api"), LabelHostname))),
	})
	runScoreCases(t, s, "InterPodAffinity", []scoreCase{
		{"no terms does not apply", pod("p", "", ""), nil},
		// Raw: a1 2*10, b1 1*10, others 0.
		{"affinity by host, by number of pods", pod("p", "", "", preferPods(weighted(10, affinityTerm(sel("app", "db"), LabelHostname)), nil)),
			map[string]int64{"a1": 100, "a2": 0, "b1": 50, "c1": 0}},
		// By zone, db a 2, b 1; web a 1. Raw: a 2*10-1*20 = 0, b 10, c 0.
		{"affinity and anti-affinity by zone", pod("p", "", "", preferPods(
			weighted(10, affinityTerm(sel("app", "db"), LabelZone)),
			weighted(20, affinityTerm(sel("app", "web"), LabelZone)))),
			map[string]int64{"a1": 0, "a2": 0, "b1": 100, "c1": 0}},
		// Raw: a -1*50, others 0: min-max maps a to 0, the rest to 100.
		{"anti-affinity alone", pod("p", "", "", preferPods(nil, weighted(50, affinityTerm(sel("app", "web"), LabelZone)))),
			map[string]int64{"a1": 0, "a2": 0, "b1": 100, "c1": 100}},
		{"a placed pod's preferred anti-affinity repels the pod from its zone", pod("p", "", "", labels("app", "batch")),
			map[string]int64{"a1": 100, "a2": 100, "b1": 100, "c1": 0}},
		{"a placed pod's required affinity draws the pod to its host", pod("p", "", "", labels("app", "api")),
			map[string]int64{"a1": 0, "a2": 0, "b1": 100, "c1": 0}},
		{"all equal scores 0", pod("p", "", "", preferPods(weighted(10, affinityTerm(sel("app", "none"), LabelZone)), nil)),
			map[string]int64{"a1": 0, "a2": 0, "b1": 0, "c1": 0}},
	})
}

func TestScoreTopologySpread(t *testing.T) {
	s := NewSnapshot(alive(
		node("a1", "a", "1", "1Gi"),
		node("a2", "a", "1", "1Gi"),
		node("b1", "b", "1", "1Gi"),
		node("c1", "c", "1", "1Gi"),
		node("x1", "", "1", "1Gi"),
	), []*workload.Pod{
		pod("w1", "", "", labels("app", "web"), on("a1")),
		pod("w2", "", "", labels("app", "web"), on("a2")),
		pod("w3", "", "", labels("app", "web"), on("b1")),
		pod("w4", "", "", labels("app", "web"), on("b1")),
		pod("w5", "", "", labels("app", "web"), on("b1")),
	})
	web := sel("app", "web")
	runScoreCases(t, s, "TopologySpread", []scoreCase{
		{"no constraints does not apply", pod("p", "", ""), nil},
		{"DoNotSchedule alone does not score", pod("p", "", "", labels("app", "web"), spreadConstraint(5, LabelZone, workload.DoNotSchedule, web)), nil},
		// Zones: a 2, b 3, c 0; a node without a zone scores 0.
		{"by zone, fewest scores 100", pod("p", "", "", labels("app", "web"), spreadConstraint(1, LabelZone, workload.ScheduleAnyway, web)),
			map[string]int64{"a1": 33, "a2": 33, "b1": 0, "c1": 100, "x1": 0}},
		// Hosts: a1 1, a2 1, b1 3, c1 0, x1 0.
		{"by host", pod("p", "", "", labels("app", "web"), spreadConstraint(1, LabelHostname, workload.ScheduleAnyway, web)),
			map[string]int64{"a1": 66, "a2": 66, "b1": 0, "c1": 100, "x1": 100}},
		// Sums: a1 3, a2 3, b1 6, c1 0.
		{"constraints add up", pod("p", "", "", labels("app", "web"),
			spreadConstraint(1, LabelZone, workload.ScheduleAnyway, web), spreadConstraint(1, LabelHostname, workload.ScheduleAnyway, web)),
			map[string]int64{"a1": 50, "a2": 50, "b1": 0, "c1": 100, "x1": 0}},
		{"nothing matches: all equal", pod("p", "", "", spreadConstraint(1, LabelZone, workload.ScheduleAnyway, sel("app", "none"))),
			map[string]int64{"a1": 100, "a2": 100, "b1": 100, "c1": 100, "x1": 0}},
	})
}

func TestScoreSelectorSpread(t *testing.T) {
	s := NewSnapshot(alive(
		node("a1", "a", "1", "1Gi"),
		node("a2", "a", "1", "1Gi"),
		node("b1", "b", "1", "1Gi"),
		node("c1", "c", "1", "1Gi"),
		node("x1", "", "1", "1Gi"),
	), []*workload.Pod{
		pod("r1", "", "", labels("app", "web"), ownedBy("rs-web"), on("a1")),
		pod("r2", "", "", labels("app", "web"), ownedBy("rs-web"), on("a1")),
		pod("r3", "", "", labels("app", "web"), ownedBy("rs-web"), on("b1")),
		pod("o1", "", "", labels("app", "web"), ownedBy("rs-other"), on("c1")),
		pod("l1", "", "", labels("app", "solo", "tier", "x"), on("c1")),
		pod("l2", "", "", labels("app", "solo"), on("a2")), // other labels: another group
		pod("gone", "", "", labels("app", "web"), ownedBy("rs-web"), on("c1"), func(p *workload.Pod) { p.ObjectMeta.DeletionTimestamp = &workload.Time{Time: t0} }),
	})
	runScoreCases(t, s, "SelectorSpread", []scoreCase{
		// Hosts a1 2, b1 1 of 2 at most: a1 0, a2 100, b1 50, c1 100, x1
		// 100. Zones a 2, b 1, c 0: a 0, b 50, c 100. A node in a zone
		// scores a third of its host's score and two of its zone's.
		{"by owner, over nodes and zones", pod("p", "", "", labels("app", "web"), ownedBy("rs-web")),
			map[string]int64{"a1": 0, "a2": 33, "b1": 50, "c1": 100, "x1": 100}},
		{"a pod without an owner spreads with the pods of the same labels", pod("p", "", "", labels("tier", "x", "app", "solo")),
			map[string]int64{"a1": 100, "a2": 100, "b1": 100, "c1": 0, "x1": 100}},
		{"the first of its owner: all equal", pod("p", "", "", ownedBy("rs-new")),
			map[string]int64{"a1": 100, "a2": 100, "b1": 100, "c1": 100, "x1": 100}},
		{"a pod with spread constraints does not use it", pod("p", "", "", labels("app", "web"), ownedBy("rs-web"),
			spreadConstraint(1, LabelZone, workload.ScheduleAnyway, sel("app", "web"))), nil},
	})
}
