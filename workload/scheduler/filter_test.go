package scheduler

import (
	"testing"

	"github.com/shoalproject/shoal/workload"
)

// filterCase is one pod against a snapshot: each node's expected reason
// ("" when it passes).
type filterCase struct {
	name string
	pod  *workload.Pod
	want map[string]string
}

func runFilterCases(t *testing.T, s *Snapshot, filter string, cases []filterCase) {
	t.Helper()
	for _, tc := range cases {
		got := runFilter(t, s, filter, tc.pod)
		for n, want := range tc.want {
			if got[n] != want {
				t.Errorf("%s: %s on %s = %q; want %q", tc.name, filter, n, got[n], want)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: %s ran on %v; the case names %v", tc.name, filter, fmtMap(got), fmtMap(tc.want))
		}
	}
}

func TestFilterNodeReadyAlive(t *testing.T) {
	nodes := alive(
		node("ok", "", "1", "1Gi"),
		node("not-ready", "", "1", "1Gi", func(n *workload.Node) { n.Status.Conditions[0].Status = workload.ConditionFalse }),
		node("unknown", "", "1", "1Gi", func(n *workload.Node) { n.Status.Conditions[0].Status = workload.ConditionUnknown }),
		node("no-condition", "", "1", "1Gi", func(n *workload.Node) { n.Status.Conditions = nil }),
		node("cordoned", "", "1", "1Gi", func(n *workload.Node) { n.Spec.Unschedulable = true }),
		node("dead", "", "1", "1Gi"),
		// Dead and cordoned: being dead is what matters.
		node("dead-cordoned", "", "1", "1Gi", func(n *workload.Node) { n.Spec.Unschedulable = true }),
	)
	nodes[5].Alive, nodes[6].Alive = false, false
	runFilterCases(t, NewSnapshot(nodes, nil), "NodeReadyAlive", []filterCase{{
		name: "any pod",
		pod:  pod("p", "", ""),
		want: map[string]string{
			"ok": "", "not-ready": ReasonNodeNotReady, "unknown": ReasonNodeNotReady, "no-condition": ReasonNodeNotReady,
			"cordoned": ReasonNodeUnschedulable, "dead": ReasonNodeNotAlive, "dead-cordoned": ReasonNodeNotAlive,
		},
	}})
}

func nodeLabels(kv ...string) func(*workload.Node) {
	return func(n *workload.Node) {
		for i := 0; i+1 < len(kv); i += 2 {
			n.ObjectMeta.Labels[kv[i]] = kv[i+1]
		}
	}
}

func TestFilterNodeSelector(t *testing.T) {
	s := NewSnapshot(alive(
		node("ssd", "a", "1", "1Gi", nodeLabels("disk", "ssd")),
		node("hdd", "a", "1", "1Gi", nodeLabels("disk", "hdd")),
		node("bare", "b", "1", "1Gi"),
	), nil)
	withSelector := func(kv ...string) func(*workload.Pod) {
		return func(p *workload.Pod) {
			p.Spec.NodeSelector = map[string]string{}
			for i := 0; i+1 < len(kv); i += 2 {
				p.Spec.NodeSelector[kv[i]] = kv[i+1]
			}
		}
	}
	runFilterCases(t, s, "NodeSelector", []filterCase{
		{"no selector passes every node", pod("p", "", ""), map[string]string{"ssd": "", "hdd": "", "bare": ""}},
		{"empty selector passes every node", pod("p", "", "", withSelector()), map[string]string{"ssd": "", "hdd": "", "bare": ""}},
		{"one label", pod("p", "", "", withSelector("disk", "ssd")),
			map[string]string{"ssd": "", "hdd": ReasonNodeAffinity, "bare": ReasonNodeAffinity}},
		{"every label must match", pod("p", "", "", withSelector("disk", "ssd", LabelZone, "b")),
			map[string]string{"ssd": ReasonNodeAffinity, "hdd": ReasonNodeAffinity, "bare": ReasonNodeAffinity}},
		{"an empty value is not a missing label", pod("p", "", "", withSelector("disk", "")),
			map[string]string{"ssd": ReasonNodeAffinity, "hdd": ReasonNodeAffinity, "bare": ReasonNodeAffinity}},
	})
}

func requiredNodeAffinity(terms ...workload.NodeSelectorTerm) func(*workload.Pod) {
	return func(p *workload.Pod) {
		nodeAffinityOf(p).RequiredDuringSchedulingIgnoredDuringExecution = &workload.NodeSelector{NodeSelectorTerms: terms}
	}
}

// nodeAffinityOf returns p's node affinity, making it if need be.
func nodeAffinityOf(p *workload.Pod) *workload.NodeAffinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &workload.Affinity{}
	}
	if p.Spec.Affinity.NodeAffinity == nil {
		p.Spec.Affinity.NodeAffinity = &workload.NodeAffinity{}
	}
	return p.Spec.Affinity.NodeAffinity
}

func term(exprs ...workload.NodeSelectorRequirement) workload.NodeSelectorTerm {
	return workload.NodeSelectorTerm{MatchExpressions: exprs}
}

func expr(key string, op workload.NodeSelectorOperator, values ...string) workload.NodeSelectorRequirement {
	return workload.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

func TestFilterNodeAffinity(t *testing.T) {
	s := NewSnapshot(alive(
		node("a-8", "a", "1", "1Gi", nodeLabels("cores", "8")),
		node("b-16", "b", "1", "1Gi", nodeLabels("cores", "16")),
		node("c-x", "c", "1", "1Gi", nodeLabels("cores", "many")),
		node("none", "", "1", "1Gi"),
	), nil)
	const no = ReasonNodeAffinity
	runFilterCases(t, s, "NodeAffinity", []filterCase{
		{"no affinity", pod("p", "", ""), map[string]string{"a-8": "", "b-16": "", "c-x": "", "none": ""}},
		{"In", pod("p", "", "", requiredNodeAffinity(term(expr(LabelZone, workload.NodeSelectorOpIn, "a", "b")))),
			map[string]string{"a-8": "", "b-16": "", "c-x": no, "none": no}},
		{"NotIn passes a node without the label", pod("p", "", "", requiredNodeAffinity(term(expr(LabelZone, workload.NodeSelectorOpNotIn, "a")))),
			map[string]string{"a-8": no, "b-16": "", "c-x": "", "none": ""}},
		{"Exists", pod("p", "", "", requiredNodeAffinity(term(expr(LabelZone, workload.NodeSelectorOpExists)))),
			map[string]string{"a-8": "", "b-16": "", "c-x": "", "none": no}},
		{"DoesNotExist", pod("p", "", "", requiredNodeAffinity(term(expr("cores", workload.NodeSelectorOpDoesNotExist)))),
			map[string]string{"a-8": no, "b-16": no, "c-x": no, "none": ""}},
		{"Gt compares integers, and fails a label that is none", pod("p", "", "", requiredNodeAffinity(term(expr("cores", workload.NodeSelectorOpGt, "9")))),
			map[string]string{"a-8": no, "b-16": "", "c-x": no, "none": no}},
		{"Lt", pod("p", "", "", requiredNodeAffinity(term(expr("cores", workload.NodeSelectorOpLt, "9")))),
			map[string]string{"a-8": "", "b-16": no, "c-x": no, "none": no}},
		{"Gt with a value that is no integer matches nothing", pod("p", "", "", requiredNodeAffinity(term(expr("cores", workload.NodeSelectorOpGt, "x")))),
			map[string]string{"a-8": no, "b-16": no, "c-x": no, "none": no}},
		{"expressions of a term are ANDed", pod("p", "", "", requiredNodeAffinity(term(
			expr(LabelZone, workload.NodeSelectorOpIn, "a", "b"), expr("cores", workload.NodeSelectorOpGt, "9")))),
			map[string]string{"a-8": no, "b-16": "", "c-x": no, "none": no}},
		{"terms are ORed", pod("p", "", "", requiredNodeAffinity(
			term(expr(LabelZone, workload.NodeSelectorOpIn, "c")), term(expr("cores", workload.NodeSelectorOpLt, "9")))),
			map[string]string{"a-8": "", "b-16": no, "c-x": "", "none": no}},
		{"an empty term matches nothing", pod("p", "", "", requiredNodeAffinity(term())),
			map[string]string{"a-8": no, "b-16": no, "c-x": no, "none": no}},
		{"no terms match nothing", pod("p", "", "", requiredNodeAffinity()),
			map[string]string{"a-8": no, "b-16": no, "c-x": no, "none": no}},
		{"an unknown operator matches nothing", pod("p", "", "", requiredNodeAffinity(term(expr(LabelZone, "Near", "a")))),
			map[string]string{"a-8": no, "b-16": no, "c-x": no, "none": no}},
	})
}

func TestFilterResources(t *testing.T) {
	deleting := func(p *workload.Pod) { p.ObjectMeta.DeletionTimestamp = &workload.Time{Time: t0} }
	phase := func(ph workload.PodPhase) func(*workload.Pod) { return func(p *workload.Pod) { p.Status.Phase = ph } }
	maxPods := func(n string) func(*workload.Node) {
		return func(nd *workload.Node) { nd.Status.Allocatable[workload.ResourcePods] = q(n) }
	}
	s := NewSnapshot(alive(
		node("empty", "", "1", "1Gi", maxPods("2")),
		node("half", "", "1", "1Gi", maxPods("2")),
		node("one-slot", "", "4", "4Gi", maxPods("2")),
		node("no-pod-limit", "", "1", "1Gi", func(n *workload.Node) { delete(n.Status.Allocatable, workload.ResourcePods) }),
		node("terminal", "", "1", "1Gi", maxPods("2")),
		node("deleting", "", "1", "1Gi", maxPods("2")),
	), []*workload.Pod{
		pod("h", "500m", "512Mi", on("half")),
		pod("o", "100m", "100Mi", on("one-slot")),
		pod("o2", "100m", "100Mi", on("one-slot")),
		pod("n1", "", "", on("no-pod-limit")),
		pod("n2", "", "", on("no-pod-limit")),
		pod("n3", "", "", on("no-pod-limit")),
		pod("t1", "1", "1Gi", on("terminal"), phase(workload.PodSucceeded)),
		pod("t2", "1", "1Gi", on("terminal"), phase(workload.PodFailed)),
		pod("t3", "1", "1Gi", on("terminal"), phase(workload.PodFailed)),
		pod("d", "1", "1Gi", on("deleting"), deleting),
	})
	runFilterCases(t, s, "Resources", []filterCase{
		{"exactly what is left fits", pod("p", "500m", "512Mi"), map[string]string{
			"empty": "", "half": "", "one-slot": ReasonTooManyPods, "no-pod-limit": "", "terminal": "", "deleting": ReasonInsufficientCPU}},
		{"a millicore too many", pod("p", "501m", "512Mi"), map[string]string{
			"empty": "", "half": ReasonInsufficientCPU, "one-slot": ReasonTooManyPods, "no-pod-limit": "", "terminal": "", "deleting": ReasonInsufficientCPU}},
		{"a byte too many", pod("p", "500m", "536870913"), map[string]string{
			"empty": "", "half": ReasonInsufficientMemory, "one-slot": ReasonTooManyPods, "no-pod-limit": "", "terminal": "", "deleting": ReasonInsufficientCPU}},
		{"cpu is reported before memory", pod("p", "2", "2Gi"), map[string]string{
			"empty": ReasonInsufficientCPU, "half": ReasonInsufficientCPU, "one-slot": ReasonTooManyPods, "no-pod-limit": ReasonInsufficientCPU,
			"terminal": ReasonInsufficientCPU, "deleting": ReasonInsufficientCPU}},
		{"requesting nothing still takes a pod slot", pod("p", "", ""), map[string]string{
			"empty": "", "half": "", "one-slot": ReasonTooManyPods, "no-pod-limit": "", "terminal": "", "deleting": ""}},
		{"init containers count", pod("p", "100m", "", func(p *workload.Pod) {
			p.Spec.InitContainers = []workload.Container{{Name: "i", Resources: workload.ResourceRequirements{
				Requests: workload.ResourceList{workload.ResourceCPU: q("600m")}}}}
		}), map[string]string{
			"empty": "", "half": ReasonInsufficientCPU, "one-slot": ReasonTooManyPods, "no-pod-limit": "", "terminal": "", "deleting": ReasonInsufficientCPU}},
	})
}

// The extended resources, ephemeral storage and huge pages a node
// advertises are fitted like cpu: what its pods request plus this pod's
// must be within its allocatable; a node that does not advertise one has
// none of it.
func TestFilterExtendedResourcesAndEphemeralStorage(t *testing.T) {
	const gpu, dongle, huge = workload.ResourceName("nvidia.com/gpu"), workload.ResourceName("example.com/dongle"), workload.ResourceName("hugepages-2Mi")
	eph := workload.ResourceName("ephemeral-storage")
	offers := func(kv ...string) func(*workload.Node) {
		return func(n *workload.Node) {
			for i := 0; i+1 < len(kv); i += 2 {
				n.Status.Allocatable[workload.ResourceName(kv[i])] = q(kv[i+1])
			}
		}
	}
	// wants adds requests (or, with limit, only limits) to the pod's container.
	wants := func(limit bool, kv ...string) func(*workload.Pod) {
		return func(p *workload.Pod) {
			r := &p.Spec.Containers[0].Resources
			for i := 0; i+1 < len(kv); i += 2 {
				if limit {
					if r.Limits == nil {
						r.Limits = workload.ResourceList{}
					}
					r.Limits[workload.ResourceName(kv[i])] = q(kv[i+1])
				} else {
					r.Requests[workload.ResourceName(kv[i])] = q(kv[i+1])
				}
			}
		}
	}
	s := NewSnapshot(alive(
		node("plain", "", "4", "8Gi"),
		node("gpu-2", "", "4", "8Gi", offers("nvidia.com/gpu", "2", "ephemeral-storage", "10Gi")),
		node("gpu-1-used", "", "4", "8Gi", offers("nvidia.com/gpu", "2", "ephemeral-storage", "10Gi", "hugepages-2Mi", "8Mi")),
		node("dongle", "", "4", "8Gi", offers("example.com/dongle", "1", "ephemeral-storage", "1Gi", "hugepages-2Mi", "4Mi")),
	), []*workload.Pod{
		pod("used", "", "", on("gpu-1-used"), wants(false, "nvidia.com/gpu", "1", "ephemeral-storage", "9Gi", "hugepages-2Mi", "4Mi")),
		pod("done", "", "", on("dongle"), wants(false, "example.com/dongle", "1"), func(p *workload.Pod) { p.Status.Phase = workload.PodSucceeded }),
	})
	reason := map[workload.ResourceName]string{gpu: "Insufficient nvidia.com/gpu", dongle: "Insufficient example.com/dongle",
		huge: "Insufficient hugepages-2Mi", eph: ReasonInsufficientEphemeral}
	runFilterCases(t, s, "Resources", []filterCase{
		{"one gpu", pod("p", "", "", wants(false, "nvidia.com/gpu", "1")), map[string]string{
			"plain": reason[gpu], "gpu-2": "", "gpu-1-used": "", "dongle": reason[gpu]}},
		{"two gpus", pod("p", "", "", wants(false, "nvidia.com/gpu", "2")), map[string]string{
			"plain": reason[gpu], "gpu-2": "", "gpu-1-used": reason[gpu], "dongle": reason[gpu]}},
		{"a limit alone is the request", pod("p", "", "", wants(true, "nvidia.com/gpu", "2")), map[string]string{
			"plain": reason[gpu], "gpu-2": "", "gpu-1-used": reason[gpu], "dongle": reason[gpu]}},
		{"a finished pod holds no dongle", pod("p", "", "", wants(false, "example.com/dongle", "1")), map[string]string{
			"plain": reason[dongle], "gpu-2": reason[dongle], "gpu-1-used": reason[dongle], "dongle": ""}},
		{"ephemeral storage", pod("p", "", "", wants(false, "ephemeral-storage", "2Gi")), map[string]string{
			"plain": reason[eph], "gpu-2": "", "gpu-1-used": reason[eph], "dongle": reason[eph]}},
		{"exactly the ephemeral storage left", pod("p", "", "", wants(false, "ephemeral-storage", "1Gi")), map[string]string{
			"plain": reason[eph], "gpu-2": "", "gpu-1-used": "", "dongle": ""}},
		{"huge pages", pod("p", "", "", wants(false, "hugepages-2Mi", "4Mi", "memory", "4Mi")), map[string]string{
			"plain": reason[huge], "gpu-2": reason[huge], "gpu-1-used": "", "dongle": ""}},
		{"cpu is reported before the rest", pod("p", "5", "", wants(false, "nvidia.com/gpu", "1", "ephemeral-storage", "1Gi")), map[string]string{
			"plain": ReasonInsufficientCPU, "gpu-2": ReasonInsufficientCPU, "gpu-1-used": ReasonInsufficientCPU, "dongle": ReasonInsufficientCPU}},
		{"ephemeral storage before extended resources", pod("p", "", "", wants(false, "nvidia.com/gpu", "1", "ephemeral-storage", "5Gi")), map[string]string{
			"plain": reason[eph], "gpu-2": "", "gpu-1-used": reason[eph], "dongle": reason[eph]}},
		{"extended resources by name", pod("p", "", "", wants(false, "nvidia.com/gpu", "1", "example.com/dongle", "1")), map[string]string{
			"plain": reason[dongle], "gpu-2": reason[dongle], "gpu-1-used": reason[dongle], "dongle": reason[gpu]}},
		{"a pod asking for none fits anywhere", pod("p", "1", "1Gi"), map[string]string{
			"plain": "", "gpu-2": "", "gpu-1-used": "", "dongle": ""}},
	})
}

// affinityTerm is a required or preferred pod (anti-)affinity term.
func affinityTerm(s *workload.LabelSelector, key string) workload.PodAffinityTerm {
	return workload.PodAffinityTerm{LabelSelector: s, TopologyKey: key}
}

func podAffinity(terms ...workload.PodAffinityTerm) func(*workload.Pod) {
	return func(p *workload.Pod) {
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &workload.Affinity{}
		}
		p.Spec.Affinity.PodAffinity = &workload.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: terms}
	}
}

func podAntiAffinity(terms ...workload.PodAffinityTerm) func(*workload.Pod) {
	return func(p *workload.Pod) {
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &workload.Affinity{}
		}
		p.Spec.Affinity.PodAntiAffinity = &workload.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: terms}
	}
}

func inNamespace(ns string) func(*workload.Pod) {
	return func(p *workload.Pod) { p.ObjectMeta.Namespace = ns }
}

func TestFilterInterPodAffinity(t *testing.T) {
	nodes := alive(
		node("a1", "a", "1", "1Gi"),
		node("a2", "a", "1", "1Gi"),
		node("b1", "b", "1", "1Gi"),
		node("x1", "", "1", "1Gi"), // no zone
	)
	placed := []*workload.Pod{
		pod("db", "", "", labels("app", "db"), on("a1")),
		pod("cache", "", "", labels("app", "cache"), on("b1"), inNamespace("other")),
		// Keeps app=web pods out of zone b.
		pod("guard", "", "", labels("app", "guard"), on("b1"), podAntiAffinity(affinityTerm(sel("app", "web"), LabelZone))),
	}
	s := NewSnapshot(nodes, placed)
	const aff, anti, existing = ReasonPodAffinity, ReasonPodAntiAffinity, ReasonExistingPodAntiAffinity
	runFilterCases(t, s, "InterPodAffinity", []filterCase{
		{"no affinity", pod("p", "", ""), map[string]string{"a1": "", "a2": "", "b1": "", "x1": ""}},
		{"affinity by host", pod("p", "", "", podAffinity(affinityTerm(sel("app", "db"), LabelHostname))),
			map[string]string{"a1": "", "a2": aff, "b1": aff, "x1": aff}},
		{"affinity by zone; a node without a zone fails", pod("p", "", "", podAffinity(affinityTerm(sel("app", "db"), LabelZone))),
			map[string]string{"a1": "", "a2": "", "b1": aff, "x1": aff}},
		{"affinity to a pod of another namespace", pod("p", "", "", podAffinity(affinityTerm(sel("app", "cache"), LabelZone))),
			map[string]string{"a1": aff, "a2": aff, "b1": aff, "x1": aff}},
		{"affinity to nothing", pod("p", "", "", podAffinity(affinityTerm(sel("app", "none"), LabelZone))),
			map[string]string{"a1": aff, "a2": aff, "b1": aff, "x1": aff}},
		{"a nil selector selects nothing", pod("p", "", "", podAffinity(affinityTerm(nil, LabelZone))),
			map[string]string{"a1": aff, "a2": aff, "b1": aff, "x1": aff}},
		{"an empty selector selects every pod of the namespace", pod("p", "", "", podAffinity(affinityTerm(&workload.LabelSelector{}, LabelHostname))),
			map[string]string{"a1": "", "a2": aff, "b1": "", "x1": aff}},
		{"every term must hold", pod("p", "", "", podAffinity(affinityTerm(sel("app", "db"), LabelZone), affinityTerm(sel("app", "guard"), LabelZone))),
			map[string]string{"a1": aff, "a2": aff, "b1": aff, "x1": aff}},
		{"the first of a group with affinity to itself goes where its key is",
			pod("p", "", "", labels("app", "batch"), podAffinity(affinityTerm(sel("app", "batch"), LabelZone))),
			map[string]string{"a1": "", "a2": "", "b1": "", "x1": aff}},
		{"the exception needs the pod to match every term",
			pod("p", "", "", labels("app", "batch"), podAffinity(affinityTerm(sel("app", "batch"), LabelZone), affinityTerm(sel("app", "x"), LabelZone))),
			map[string]string{"a1": aff, "a2": aff, "b1": aff, "x1": aff}},
		{"anti-affinity by host", pod("p", "", "", podAntiAffinity(affinityTerm(sel("app", "db"), LabelHostname))),
			map[string]string{"a1": anti, "a2": "", "b1": "", "x1": ""}},
		{"anti-affinity by zone; a node without a zone passes", pod("p", "", "", podAntiAffinity(affinityTerm(sel("app", "db"), LabelZone))),
			map[string]string{"a1": anti, "a2": anti, "b1": "", "x1": ""}},
		{"anti-affinity to a pod of another namespace", pod("p", "", "", podAntiAffinity(affinityTerm(sel("app", "cache"), LabelZone))),
			map[string]string{"a1": "", "a2": "", "b1": "", "x1": ""}},
		{"a placed pod's anti-affinity keeps the pod out of its zone", pod("p", "", "", labels("app", "web")),
			map[string]string{"a1": "", "a2": "", "b1": existing, "x1": ""}},
		{"only for pods of its namespace", pod("p", "", "", labels("app", "web"), inNamespace("other")),
			map[string]string{"a1": "", "a2": "", "b1": "", "x1": ""}},
	})
}

func spreadConstraint(maxSkew int32, key string, when workload.UnsatisfiableConstraintAction, s *workload.LabelSelector) func(*workload.Pod) {
	return func(p *workload.Pod) {
		p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints,
			workload.TopologySpreadConstraint{MaxSkew: maxSkew, TopologyKey: key, WhenUnsatisfiable: when, LabelSelector: s})
	}
}

func TestFilterTopologySpread(t *testing.T) {
	s := NewSnapshot(alive(
		node("a1", "a", "1", "1Gi"),
		node("a2", "a", "1", "1Gi"),
		node("b1", "b", "1", "1Gi"),
		node("c1", "c", "1", "1Gi", nodeLabels("pool", "spare")),
		node("x1", "", "1", "1Gi"),
	), []*workload.Pod{
		pod("w1", "", "", labels("app", "web"), on("a1")),
		pod("w2", "", "", labels("app", "web"), on("a2")),
		pod("w3", "", "", labels("app", "web"), on("b1")),
		pod("w4", "", "", labels("app", "web"), on("x1")), // in no zone: counts nowhere
		pod("gone", "", "", labels("app", "web"), on("c1"), func(p *workload.Pod) { p.ObjectMeta.DeletionTimestamp = &workload.Time{Time: t0} }),
		pod("elsewhere", "", "", labels("app", "web"), on("c1"), inNamespace("other")),
	})
	web := sel("app", "web")
	const skew, label = ReasonTopologySpread, ReasonTopologySpreadLabel
	notSpare := requiredNodeAffinity(term(expr("pool", workload.NodeSelectorOpDoesNotExist)))
	runFilterCases(t, s, "TopologySpread", []filterCase{
		// Zones hold a=2, b=1, c=0 (the deleting pod and the other
		// namespace's do not count): the fewest is 0.
		{"maxSkew 1 only fits the empty zone", pod("p", "", "", labels("app", "web"), spreadConstraint(1, LabelZone, workload.DoNotSchedule, web)),
			map[string]string{"a1": skew, "a2": skew, "b1": skew, "c1": "", "x1": label}},
		{"maxSkew 2", pod("p", "", "", labels("app", "web"), spreadConstraint(2, LabelZone, workload.DoNotSchedule, web)),
			map[string]string{"a1": skew, "a2": skew, "b1": "", "c1": "", "x1": label}},
		{"a pod its selector does not select adds nothing", pod("p", "", "", labels("app", "api"), spreadConstraint(2, LabelZone, workload.DoNotSchedule, web)),
			map[string]string{"a1": "", "a2": "", "b1": "", "c1": "", "x1": label}},
		{"only domains of nodes that pass node affinity are eligible: the fewest is b's 1",
			pod("p", "", "", labels("app", "web"), notSpare, spreadConstraint(1, LabelZone, workload.DoNotSchedule, web)),
			map[string]string{"a1": skew, "a2": skew, "b1": "", "c1": "", "x1": label}},
		{"by host", pod("p", "", "", labels("app", "web"), spreadConstraint(1, LabelHostname, workload.DoNotSchedule, web)),
			map[string]string{"a1": skew, "a2": skew, "b1": skew, "c1": "", "x1": skew}},
		{"ScheduleAnyway filters nothing", pod("p", "", "", labels("app", "web"), spreadConstraint(1, LabelZone, workload.ScheduleAnyway, web)),
			map[string]string{"a1": "", "a2": "", "b1": "", "c1": "", "x1": ""}},
		{"every constraint must hold", pod("p", "", "", labels("app", "web"),
			spreadConstraint(2, LabelZone, workload.DoNotSchedule, web), spreadConstraint(1, LabelHostname, workload.DoNotSchedule, web)),
			map[string]string{"a1": skew, "a2": skew, "b1": skew, "c1": "", "x1": label}},
	})
}

func taints(ts ...workload.Taint) func(*workload.Node) {
	return func(n *workload.Node) { n.Spec.Taints = append(n.Spec.Taints, ts...) }
}

func tolerations(ts ...workload.Toleration) func(*workload.Pod) {
	return func(p *workload.Pod) { p.Spec.Tolerations = append(p.Spec.Tolerations, ts...) }
}

func TestFilterTaintToleration(t *testing.T) {
	gpu := workload.Taint{Key: "dedicated", Value: "gpu", Effect: workload.TaintEffectNoSchedule}
	gone := workload.Taint{Key: "node.kubernetes.io/unreachable", Effect: workload.TaintEffectNoExecute}
	soft := workload.Taint{Key: "spot", Value: "true", Effect: workload.TaintEffectPreferNoSchedule}
	s := NewSnapshot(alive(
		node("gpu", "a", "1", "1Gi", taints(gpu)),
		node("gone", "a", "1", "1Gi", taints(gone)),
		node("spot", "a", "1", "1Gi", taints(soft)),
		node("plain", "a", "1", "1Gi"),
	), nil)
	untoleratedGPU, untoleratedGone := "node(s) had untolerated taint {dedicated: gpu}", "node(s) had untolerated taint {node.kubernetes.io/unreachable: }"
	runFilterCases(t, s, "TaintToleration", []filterCase{
		{"no tolerations: only untainted and PreferNoSchedule nodes", pod("p", "", ""),
			map[string]string{"gpu": untoleratedGPU, "gone": untoleratedGone, "spot": "", "plain": ""}},
		{"Equal with the value", pod("p", "", "", tolerations(workload.Toleration{Key: "dedicated", Operator: workload.TolerationOpEqual, Value: "gpu", Effect: workload.TaintEffectNoSchedule})),
			map[string]string{"gpu": "", "gone": untoleratedGone, "spot": "", "plain": ""}},
		{"Equal with another value", pod("p", "", "", tolerations(workload.Toleration{Key: "dedicated", Value: "tpu"})),
			map[string]string{"gpu": untoleratedGPU, "gone": untoleratedGone, "spot": "", "plain": ""}},
		{"Exists, any effect", pod("p", "", "", tolerations(workload.Toleration{Key: "dedicated", Operator: workload.TolerationOpExists})),
			map[string]string{"gpu": "", "gone": untoleratedGone, "spot": "", "plain": ""}},
		{"another effect does not tolerate", pod("p", "", "", tolerations(workload.Toleration{Key: "dedicated", Operator: workload.TolerationOpExists, Effect: workload.TaintEffectNoExecute})),
			map[string]string{"gpu": untoleratedGPU, "gone": untoleratedGone, "spot": "", "plain": ""}},
		{"Exists with no key tolerates everything", pod("p", "", "", tolerations(workload.Toleration{Operator: workload.TolerationOpExists})),
			map[string]string{"gpu": "", "gone": "", "spot": "", "plain": ""}},
		{"NoExecute with tolerationSeconds still schedules", pod("p", "", "", tolerations(workload.Toleration{Key: gone.Key, Operator: workload.TolerationOpExists, Effect: workload.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))})),
			map[string]string{"gpu": untoleratedGPU, "gone": "", "spot": "", "plain": ""}},
	})
}

// A PreferNoSchedule taint the pod does not tolerate makes the node the
// last choice, not a forbidden one.
func TestPreferNoScheduleIsAvoidedNotForbidden(t *testing.T) {
	soft := workload.Taint{Key: "spot", Value: "true", Effect: workload.TaintEffectPreferNoSchedule}
	s := NewSnapshot(alive(
		node("a-spot", "a", "4", "4Gi", taints(soft)),
		node("b-plain", "a", "1", "1Gi"),
	), nil)
	if got, err := s.Place(pod("p", "100m", "64Mi")); err != nil || got != "b-plain" {
		t.Errorf("Place = %q, %v; want b-plain, the untainted node, though a-spot has more room", got, err)
	}
	tolerant := pod("q", "100m", "64Mi", tolerations(workload.Toleration{Key: "spot", Operator: workload.TolerationOpExists}))
	if got, err := s.Place(tolerant); err != nil || got != "a-spot" {
		t.Errorf("Place of a tolerating pod = %q, %v; want a-spot, the emptier node", got, err)
	}
	only := NewSnapshot(alive(node("a-spot", "a", "4", "4Gi", taints(soft))), nil)
	if got, err := only.Place(pod("p", "100m", "64Mi")); err != nil || got != "a-spot" {
		t.Errorf("Place with only a PreferNoSchedule node = %q, %v; want a-spot", got, err)
	}
}
func ptr[T any](v T) *T { return &v }
