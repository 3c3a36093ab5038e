package scheduler

import (
	"slices"
	"strings"

	"github.com/shoalproject/shoal/workload"
)

// podState is a pod compiled for one decision: what it requests, and its
// affinity terms and spread constraints bound to the snapshot's counters
// and summed per topology domain.
type podState struct {
	pod    *workload.Pod
	ns     string
	labels map[string]string
	req    workload.ComputeResources
	// scalar is req.Scalar sorted by name, each with the reason a node
	// short of it fails for.
	scalar []scalarRequest
	hash   uint64

	nodeSelector map[string]string
	tolerations  []workload.Toleration
	softTaints   bool // the TaintToleration score applies: some node prefers no pods
	required     *workload.NodeSelector
	preferred    []workload.PreferredSchedulingTerm

	affinity     []domainCount // required pod affinity terms
	anti         []domainCount // required pod anti-affinity terms
	existingAnti []domainCount // placed pods' required anti-affinity terms that select this pod
	// firstOfGroup is Kubernetes' exception: no pod matches any required
	// affinity term and the pod matches them all itself, so the terms hold
	// on any node that has their topology keys.
	firstOfGroup bool

	hardSpread []spread
	softSpread []spread

	volumes *VolumeConstraint // nil: none

	hostPorts []hostPort // the pod's host ports (NodePorts); nil: none

	preferredPods []domainCount // weighted: the pod's preferred terms and placed pods' terms that select it

	// owner counts the pods of the same owner, for SelectorSpread; nil
	// when the pod has spread constraints of its own.
	owner *counter
	zones *topology
	// zoneCount is owner's count per zone (owner.zone: read only).
	zoneCount []int64
}

// scalarRequest is the pod's request of one scalar resource (an
// extended resource, huge pages).
type scalarRequest struct {
	name   workload.ResourceName
	amount int64
	reason string // "Insufficient NAME"
}

// domainCount is a count of pods per domain of a topology, with a weight
// for scoring.
type domainCount struct {
	topo   *topology
	count  []int64
	weight int64
}

// at returns the count in node n's domain, and whether n has the label.
func (d *domainCount) at(n int) (int64, bool) {
	dom := d.topo.dom[n]
	if dom < 0 {
		return 0, false
	}
	return d.count[dom], true
}

// spread is one topology spread constraint of the pod.
type spread struct {
	domainCount
	maxSkew int64
	self    int64 // 1 when the pod matches its own selector
	min     int64 // fewest matching pods in an eligible domain
}

// compile prepares pod for a decision against s.
func (s *Snapshot) compile(pod *workload.Pod) *podState {
	p := &podState{
		pod:          pod,
		ns:           pod.ObjectMeta.Namespace,
		labels:       pod.ObjectMeta.Labels,
		req:          workload.PodRequests(pod),
		hash:         hashString(podKey(pod)),
		nodeSelector: pod.Spec.NodeSelector,
		tolerations:  pod.Spec.Tolerations,
		softTaints:   s.softTainted,
	}
	for name, v := range p.req.Scalar {
		p.scalar = append(p.scalar, scalarRequest{name: name, amount: v, reason: insufficient(name)})
	}
	if len(p.scalar) > 1 {
		slices.SortFunc(p.scalar, func(a, b scalarRequest) int { return strings.Compare(string(a.name), string(b.name)) })
	}
	if a := pod.Spec.Affinity; a != nil {
		if na := a.NodeAffinity; na != nil {
			p.required = na.RequiredDuringSchedulingIgnoredDuringExecution
			p.preferred = na.PreferredDuringSchedulingIgnoredDuringExecution
		}
		s.compilePodAffinity(p, a)
	}
	s.compileExisting(p)
	s.compileSpread(p)
	p.hostPorts = hostPortsOf(pod)
	if s.volumes != nil && len(pod.Spec.Volumes) > 0 {
		if v := s.volumes(pod); v.Unschedulable != "" || v.Node != "" || len(v.Nodes) > 0 {
			p.volumes = &v
		}
	}
	return p
}

func (s *Snapshot) compilePodAffinity(p *podState, a *workload.Affinity) {
	if pa := a.PodAffinity; pa != nil {
		total := int64(0)
		self := true
		for _, t := range pa.RequiredDuringSchedulingIgnoredDuringExecution {
			d := s.domainCount(p.ns, t.LabelSelector, t.TopologyKey, true, nil)
			for _, c := range d.count {
				total += c
			}
			self = self && workload.SelectorMatches(t.LabelSelector, p.labels)
			p.affinity = append(p.affinity, d)
		}
		p.firstOfGroup = total == 0 && self
		for _, t := range pa.PreferredDuringSchedulingIgnoredDuringExecution {
			d := s.domainCount(p.ns, t.PodAffinityTerm.LabelSelector, t.PodAffinityTerm.TopologyKey, true, nil)
			d.weight = int64(t.Weight)
			p.preferredPods = append(p.preferredPods, d)
		}
	}
	if pa := a.PodAntiAffinity; pa != nil {
		for _, t := range pa.RequiredDuringSchedulingIgnoredDuringExecution {
			p.anti = append(p.anti, s.domainCount(p.ns, t.LabelSelector, t.TopologyKey, true, nil))
		}
		for _, t := range pa.PreferredDuringSchedulingIgnoredDuringExecution {
			d := s.domainCount(p.ns, t.PodAffinityTerm.LabelSelector, t.PodAffinityTerm.TopologyKey, true, nil)
			d.weight = -int64(t.Weight)
			p.preferredPods = append(p.preferredPods, d)
		}
	}
}

// compileExisting finds the terms of placed pods that select p.
func (s *Snapshot) compileExisting(p *podState) {
	for _, g := range s.groupsNS[p.ns] {
		if g.total == 0 || !workload.SelectorMatches(g.selector, p.labels) {
			continue
		}
		d := domainCount{topo: s.topology(g.topo)}
		d.count = sumDomains(d.topo, g.node, nil)
		switch g.kind {
		case groupRequiredAnti:
			p.existingAnti = append(p.existingAnti, d)
		case groupRequiredAffinity, groupPreferredAffinity:
			d.weight = int64(g.weight)
			p.preferredPods = append(p.preferredPods, d)
		case groupPreferredAnti:
			d.weight = -int64(g.weight)
			p.preferredPods = append(p.preferredPods, d)
		}
	}
}

func (s *Snapshot) compileSpread(p *podState) {
	cs := p.pod.Spec.TopologySpreadConstraints
	if len(cs) == 0 {
		p.owner = s.ownerCounter(ownerOf(p.pod))
		p.zones = s.topology(LabelZone)
		p.zoneCount = p.owner.zone
		return
	}
	var hard []workload.TopologySpreadConstraint
	for _, c := range cs {
		if c.WhenUnsatisfiable == workload.ScheduleAnyway {
			p.softSpread = append(p.softSpread, spread{domainCount: s.domainCount(p.ns, c.LabelSelector, c.TopologyKey, false, nil)})
		} else {
			hard = append(hard, c)
		}
	}
	if len(hard) == 0 {
		return
	}
	// Eligible nodes pass the pod's node selector and affinity and carry
	// every hard constraint's key; only their pods and domains count.
	eligible := s.buf.eligibleFor(len(s.nodes))
	for i := range s.nodes {
		ok, _ := filterNodeSelector(s, p, i)
		if ok {
			ok, _ = filterNodeAffinity(s, p, i)
		}
		for _, c := range hard {
			ok = ok && s.topology(c.TopologyKey).dom[i] >= 0
		}
		eligible[i] = ok
	}
	for _, c := range hard {
		sp := spread{
			domainCount: s.domainCount(p.ns, c.LabelSelector, c.TopologyKey, false, eligible),
			maxSkew:     int64(c.MaxSkew),
		}
		if workload.SelectorMatches(c.LabelSelector, p.labels) {
			sp.self = 1
		}
		sp.min = -1
		for i, ok := range eligible {
			if !ok {
				continue
			}
			if n := sp.count[sp.topo.dom[i]]; sp.min < 0 || n < sp.min {
				sp.min = n
			}
		}
		sp.min = max(sp.min, 0)
		p.hardSpread = append(p.hardSpread, sp)
	}
}

// domainCount counts the pods of ns that sel selects in each domain of
// key, on the nodes eligible holds (every node when eligible is nil).
func (s *Snapshot) domainCount(ns string, sel *workload.LabelSelector, key string, deleting bool, eligible []bool) domainCount {
	t := s.topology(key)
	return domainCount{topo: t, count: sumDomains(t, s.counter(ns, sel, deleting).node, eligible)}
}

// sumDomains adds per-node counts up per domain of t.
func sumDomains(t *topology, perNode []int32, eligible []bool) []int64 {
	out := make([]int64, len(t.names))
	for i, c := range perNode {
		if c == 0 || t.dom[i] < 0 || (eligible != nil && !eligible[i]) {
			continue
		}
		out[t.dom[i]] += int64(c)
	}
	return out
}

func (b *scratch) eligibleFor(n int) []bool {
	if cap(b.eligible) < n {
		b.eligible = make([]bool, n)
	}
	b.eligible = b.eligible[:n]
	return b.eligible
}
