package scheduler

import (
	"slices"
	"strconv"

	"github.com/go-logr/logr"
	"github.com/shoalproject/shoal/workload"
)

// The reasons a filter gives for failing a node, kube-scheduler's words.
// Unschedulable counts nodes by them.
const (
	ReasonNodeNotAlive            = "node(s) were not alive"
	ReasonNodeNotReady            = "node(s) were not ready"
	ReasonNodeUnschedulable       = "node(s) were unschedulable"
	ReasonNodeAffinity            = "node(s) didn't match Pod's node affinity/selector"
	ReasonInsufficientCPU         = "Insufficient cpu"
	ReasonInsufficientMemory      = "Insufficient memory"
	ReasonInsufficientEphemeral   = "Insufficient ephemeral-storage"
	ReasonTooManyPods             = "Too many pods"
	ReasonPodAffinity             = "node(s) didn't match pod affinity rules"
	ReasonPodAntiAffinity         = "node(s) didn't match pod anti-affinity rules"
	ReasonExistingPodAntiAffinity = "node(s) didn't satisfy existing pods anti-affinity rules"
	ReasonTopologySpread          = "node(s) didn't match pod topology spread constraints"
	ReasonTopologySpreadLabel     = "node(s) didn't match pod topology spread constraints (missing required label)"
)

// A filter says whether node n of s may take the pod p, and if not why.
type filter func(s *Snapshot, p *podState, n int) (ok bool, reason string)

// filters are run in this order; the first to fail a node names its reason.
var filters = []struct {
	name string
	f    filter
}{
	{"NodeReadyAlive", filterNodeReadyAlive},
	{"NodeSelector", filterNodeSelector},
	{"NodeAffinity", filterNodeAffinity},
	{"TaintToleration", filterTaintToleration},
	{"NodePorts", filterNodePorts},
	{"Resources", filterResources},
	{"InterPodAffinity", filterInterPodAffinity},
	{"TopologySpread", filterTopologySpread},
	{"Volumes", filterVolumes},
}

// filterNode runs every filter; it is the loop over filters written out, so
// that the common ones cost a comparison when they do not apply.
func filterNode(s *Snapshot, p *podState, n int) (bool, string) {
	if ok, r := filterNodeReadyAlive(s, p, n); !ok {
		return false, r
	}
	if p.nodeSelector != nil {
		if ok, r := filterNodeSelector(s, p, n); !ok {
			return false, r
		}
	}
	if p.required != nil {
		if ok, r := filterNodeAffinity(s, p, n); !ok {
			return false, r
		}
	}
	if len(s.nodes[n].hardTaints) > 0 {
		if ok, r := filterTaintToleration(s, p, n); !ok {
			return false, r
		}
	}
	if p.hostPorts != nil {
		if ok, r := filterNodePorts(s, p, n); !ok {
			return false, r
		}
	}
	if ok, r := filterResources(s, p, n); !ok {
		return false, r
	}
	if p.affinity != nil || p.anti != nil || p.existingAnti != nil {
		if ok, r := filterInterPodAffinity(s, p, n); !ok {
			return false, r
		}
	}
	if p.hardSpread != nil {
		if ok, r := filterTopologySpread(s, p, n); !ok {
			return false, r
		}
	}
	if p.volumes != nil {
		if ok, r := filterVolumes(s, p, n); !ok {
			return false, r
		}
	}
	return true, ""
}

// filterNodeReadyAlive passes a node whose peer is alive, whose Ready
// condition is True and that is not cordoned.
func filterNodeReadyAlive(s *Snapshot, _ *podState, n int) (bool, string) {
	r := s.nodes[n].unavailable
	return r == "", r
}

// filterTaintToleration passes a node whose every NoSchedule and NoExecute
// taint the pod tolerates; the first it does not is kube-scheduler's
// reason, "node(s) had untolerated taint {KEY: VALUE}".
func filterTaintToleration(s *Snapshot, p *podState, n int) (bool, string) {
	for i := range s.nodes[n].hardTaints {
		if t := &s.nodes[n].hardTaints[i]; !tolerated(p.tolerations, t) {
			return false, "node(s) had untolerated taint {" + t.Key + ": " + t.Value + "}"
		}
	}
	return true, ""
}

// tolerated says whether a toleration of the pod tolerates t (Kubernetes'
// Toleration.ToleratesTaint: key or Exists with no key, value, effect;
// the Gt and Lt operators, alpha and off by default in Kubernetes, match
// nothing).
func tolerated(tols []workload.Toleration, t *workload.Taint) bool {
	for i := range tols {
		if tols[i].ToleratesTaint(logr.Discard(), t, false) {
			return true
		}
	}
	return false
}

// filterNodeSelector passes a node that has every label of the pod's
// spec.nodeSelector.
func filterNodeSelector(s *Snapshot, p *podState, n int) (bool, string) {
	labels := s.nodes[n].labels
	for k, v := range p.nodeSelector {
		if got, ok := labels[k]; !ok || got != v {
			return false, ReasonNodeAffinity
		}
	}
	return true, ""
}

// filterNodeAffinity passes a node that satisfies the pod's required node
// affinity: any one of its terms.
func filterNodeAffinity(s *Snapshot, p *podState, n int) (bool, string) {
	if p.required == nil {
		return true, ""
	}
	labels := s.nodes[n].labels
	for i := range p.required.NodeSelectorTerms {
		if termMatches(&p.required.NodeSelectorTerms[i], labels) {
			return true, ""
		}
	}
	return false, ReasonNodeAffinity
}

// termMatches says whether labels satisfy every expression of t. A term
// without expressions matches nothing, as in Kubernetes.
func termMatches(t *workload.NodeSelectorTerm, labels map[string]string) bool {
	if len(t.MatchExpressions) == 0 {
		return false
	}
	for _, e := range t.MatchExpressions {
		if !requirementMatches(e, labels) {
			return false
		}
	}
	return true
}

// requirementMatches tests one node label. Gt and Lt compare the label and
// the one value as integers; either not being one fails the test.
func requirementMatches(e workload.NodeSelectorRequirement, labels map[string]string) bool {
	v, ok := labels[e.Key]
	switch e.Operator {
	case workload.NodeSelectorOpIn:
		return ok && slices.Contains(e.Values, v)
	case workload.NodeSelectorOpNotIn:
		return !ok || !slices.Contains(e.Values, v)
	case workload.NodeSelectorOpExists:
		return ok
	case workload.NodeSelectorOpDoesNotExist:
		return !ok
	case workload.NodeSelectorOpGt, workload.NodeSelectorOpLt:
		if !ok || len(e.Values) != 1 {
			return false
		}
		have, err1 := strconv.ParseInt(v, 10, 64)
		want, err2 := strconv.ParseInt(e.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if e.Operator == workload.NodeSelectorOpGt {
			return have > want
		}
		return have < want
	}
	return false
}

// filterResources passes a node whose allocatable holds the requests of
// its pods and this one's, of every resource the pod requests (cpu,
// memory, ephemeral-storage, extended resources, huge pages; a resource
// the node does not report it has none of), and whose allocatable pods
// (when it reports any) hold one more pod. Of several shortfalls the first
// of cpu, memory, ephemeral-storage, the scalar resources by name, pods is
// the reason: "Insufficient nvidia.com/gpu", as kube-scheduler words it.
func filterResources(s *Snapshot, p *podState, n int) (bool, string) {
	nd := &s.nodes[n]
	switch {
	case p.req.MilliCPU > 0 && nd.used.MilliCPU+p.req.MilliCPU > nd.alloc.MilliCPU:
		return false, ReasonInsufficientCPU
	case p.req.Memory > 0 && nd.used.Memory+p.req.Memory > nd.alloc.Memory:
		return false, ReasonInsufficientMemory
	case p.req.EphemeralStorage > 0 && nd.used.EphemeralStorage+p.req.EphemeralStorage > nd.alloc.EphemeralStorage:
		return false, ReasonInsufficientEphemeral
	}
	for i := range p.scalar {
		r := &p.scalar[i]
		if nd.used.Scalar[r.name]+r.amount > nd.alloc.Scalar[r.name] {
			return false, r.reason
		}
	}
	if nd.maxPods > 0 && nd.pods+1 > nd.maxPods {
		return false, ReasonTooManyPods
	}
	return true, ""
}

// insufficient is kube-scheduler's reason for a node short of name.
func insufficient(name workload.ResourceName) string {
	switch name {
	case workload.ResourceCPU:
		return ReasonInsufficientCPU
	case workload.ResourceMemory:
		return ReasonInsufficientMemory
	}
	return "Insufficient " + string(name)
}

// filterInterPodAffinity passes a node where no placed pod's required
// anti-affinity term selects the pod, the pod's required anti-affinity terms
// select no pod in the node's domain, and each of its required affinity
// terms selects some pod in the node's domain. A node without a term's
// topology key fails an affinity term and passes an anti-affinity term.
func filterInterPodAffinity(_ *Snapshot, p *podState, n int) (bool, string) {
	for i := range p.existingAnti {
		if c, ok := p.existingAnti[i].at(n); ok && c > 0 {
			return false, ReasonExistingPodAntiAffinity
		}
	}
	for i := range p.anti {
		if c, ok := p.anti[i].at(n); ok && c > 0 {
			return false, ReasonPodAntiAffinity
		}
	}
	found := true
	for i := range p.affinity {
		c, ok := p.affinity[i].at(n)
		if !ok {
			return false, ReasonPodAffinity
		}
		found = found && c > 0
	}
	if !found && !p.firstOfGroup {
		return false, ReasonPodAffinity
	}
	return true, ""
}

// filterTopologySpread passes a node where, for each DoNotSchedule
// constraint, placing the pod leaves its domain at most maxSkew above the
// least populated eligible domain.
func filterTopologySpread(_ *Snapshot, p *podState, n int) (bool, string) {
	for i := range p.hardSpread {
		sp := &p.hardSpread[i]
		c, ok := sp.at(n)
		if !ok {
			return false, ReasonTopologySpreadLabel
		}
		if c+sp.self-sp.min > sp.maxSkew {
			return false, ReasonTopologySpread
		}
	}
	return true, ""
}
