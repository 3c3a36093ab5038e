package scheduler

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// The well-known topology labels.
const (
	// LabelHostname names a node: its value is a domain of one node. A node
	// without the label is its own domain, named after the node.
	LabelHostname = "kubernetes.io/hostname"
	// LabelZone names a node's zone, the domain SelectorSpread spreads over
	// besides nodes.
	LabelZone = "topology.kubernetes.io/zone"
)

// Node is one node as the scheduler sees it.
type Node struct {
	// Node is the node record: labels, allocatable, spec.unschedulable
	// (cordon) and the Ready condition. It is read, never changed.
	Node *workload.Node
	// Alive says gossip sees the node's peer alive.
	Alive bool
}

// Snapshot is the cluster state a batch of decisions is made against: the
// nodes, and the pods bound to them with what they request. Place reads it;
// Assume and Forget change it. It is not safe for concurrent use.
type Snapshot struct {
	nodes []nodeState // sorted by name
	index map[string]int

	pods map[string]*podInfo   // by podKey
	byNS map[string][]*podInfo // including forgotten ones (gone)

	topologies map[string]*topology
	counters   map[string]*counter   // by counterKey
	countersNS map[string][]*counter // by namespace, selector counters only
	owners     map[owner]*counter    // by ownerOf
	groups     map[groupKey]*termGroup
	groupsNS   map[string][]*termGroup

	// percentage is the share of nodes to find feasible before scoring
	// (0: adaptive); next is where the next decision starts looking.
	percentage int
	next       int

	volumes func(*workload.Pod) VolumeConstraint // SetVolumeConstraints

	softTainted bool // some node has a PreferNoSchedule taint

	buf scratch
}

// nodeState is one node and what is placed on it.
type nodeState struct {
	name   string
	labels map[string]string
	// unavailable is why NodeReadyAlive fails the node, "" when it passes.
	unavailable string
	// hardTaints are the node's NoSchedule and NoExecute taints, which a
	// pod must tolerate; softTaints its PreferNoSchedule ones.
	hardTaints, softTaints []workload.Taint
	alloc                  workload.ComputeResources
	maxPods                int64 // 0: no limit
	// cpuScale and memScale are MaxScore/allocatable (0 when there is
	// none), so LeastAllocated multiplies rather than divides.
	cpuScale, memScale float64
	// least caches LeastAllocated's score for a pod requesting leastFor
	// (cpu and memory, all the score reads); Assume and Forget invalidate
	// it. Consecutive pods of one Deployment request the same, so most
	// nodes' scores are reused.
	least      int64
	leastFor   [2]int64
	leastValid bool
	// used is what the node's pods request, of every resource; its Scalar
	// map is made when the first pod that requests a scalar resource comes.
	used workload.ComputeResources
	pods int64
	hash uint64 // of name, for tie breaks

	// ports are the host ports its pods take (NodePorts).
	ports portUse
}

// podInfo is a pod as it counts in the snapshot.
type podInfo struct {
	pod      *workload.Pod
	key      string // podKey
	ns       string
	labels   map[string]string
	node     int
	req      workload.ComputeResources
	deleting bool
	owner    owner // ownerOf; zero when deleting (deleting pods do not spread)
	groups   []*termGroup
	gone     bool // forgotten
}

// topology is the domains of one node label: dom[i] is node i's domain
// index into names, or -1 when the node lacks the label.
type topology struct {
	key   string
	dom   []int32
	names []string
}

// counter counts, per node, the pods of one namespace that match.
type counter struct {
	ns       string
	sel      *workload.LabelSelector // nil for an owner counter
	owner    owner                   // the owner of an owner counter
	deleting bool                    // whether pods being deleted count
	node     []int32
	// zone is an owner counter's count per domain of LabelZone, kept up
	// to date by account like node.
	zone []int64
}

func (c *counter) matches(pi *podInfo) bool {
	if pi.ns != c.ns {
		return false
	}
	if c.owner != (owner{}) {
		return pi.owner == c.owner
	}
	return (c.deleting || !pi.deleting) && workload.SelectorMatches(c.sel, pi.labels)
}

// groupKind is the kind of an existing pod's affinity term, seen from a pod
// being placed.
type groupKind uint8

const (
	groupRequiredAnti      groupKind = iota // filters: keeps matching pods out
	groupRequiredAffinity                   // scores +1 per pod, as Kubernetes' hardPodAffinityWeight
	groupPreferredAffinity                  // scores +weight per pod
	groupPreferredAnti                      // scores -weight per pod
)

type groupKey struct {
	kind   groupKind
	ns     string
	sel    string
	topo   string
	weight int32
}

// termGroup is one affinity term that pods already placed carry, with how
// many pods on each node carry it.
type termGroup struct {
	groupKey
	selector *workload.LabelSelector
	node     []int32
	total    int
}

// scratch holds per-node buffers reused from one decision to the next.
type scratch struct {
	reason   []string
	feasible []int32
	raw      [numScores][]int64
	total    []int64
	eligible []bool
}

// NewSnapshot indexes nodes and the pods bound to them. pods may hold pods
// of any namespace; a pod counts on the node its spec.nodeName names, unless
// it is Succeeded or Failed or that node is not in nodes. Nodes are
// identified by name; of two nodes with one name the first is kept. Neither
// nodes nor pods are changed or copied: the caller must not change them
// while the Snapshot is in use.
func NewSnapshot(nodes []Node, pods []*workload.Pod) *Snapshot {
	s := &Snapshot{
		index:      make(map[string]int, len(nodes)),
		pods:       make(map[string]*podInfo, len(pods)),
		byNS:       map[string][]*podInfo{},
		topologies: map[string]*topology{},
		counters:   map[string]*counter{},
		countersNS: map[string][]*counter{},
		owners:     map[owner]*counter{},
		groups:     map[groupKey]*termGroup{},
		groupsNS:   map[string][]*termGroup{},
	}
	sorted := slices.Clone(nodes)
	slices.SortStableFunc(sorted, func(a, b Node) int { return cmp.Compare(a.Node.ObjectMeta.Name, b.Node.ObjectMeta.Name) })
	for _, n := range sorted {
		name := n.Node.ObjectMeta.Name
		if _, dup := s.index[name]; dup {
			continue
		}
		s.index[name] = len(s.nodes)
		s.nodes = append(s.nodes, newNodeState(n))
		s.softTainted = s.softTainted || len(s.nodes[len(s.nodes)-1].softTaints) > 0
	}
	for _, p := range pods {
		if terminal(p) {
			continue
		}
		if n, ok := s.index[p.Spec.NodeName]; ok {
			if _, dup := s.pods[podKey(p)]; !dup {
				s.add(p, n)
			}
		}
	}
	return s
}

func newNodeState(n Node) nodeState {
	alloc := n.Node.Status.Allocatable
	pods := alloc[workload.ResourcePods]
	ns := nodeState{
		name:    n.Node.ObjectMeta.Name,
		labels:  n.Node.ObjectMeta.Labels,
		alloc:   workload.ResourcesOf(alloc),
		maxPods: max(0, pods.Value()),
		hash:    hashString(n.Node.ObjectMeta.Name),
	}
	for _, t := range n.Node.Spec.Taints {
		switch t.Effect {
		case workload.TaintEffectNoSchedule, workload.TaintEffectNoExecute:
			ns.hardTaints = append(ns.hardTaints, t)
		case workload.TaintEffectPreferNoSchedule:
			ns.softTaints = append(ns.softTaints, t)
		}
	}
	if ns.alloc.MilliCPU > 0 {
		ns.cpuScale = float64(MaxScore) / float64(ns.alloc.MilliCPU)
	}
	if ns.alloc.Memory > 0 {
		ns.memScale = float64(MaxScore) / float64(ns.alloc.Memory)
	}
	switch {
	case !n.Alive:
		ns.unavailable = ReasonNodeNotAlive
	case !workload.IsNodeReady(n.Node):
		ns.unavailable = ReasonNodeNotReady
	case n.Node.Spec.Unschedulable:
		ns.unavailable = ReasonNodeUnschedulable
	}
	return ns
}

// SetPercentageOfNodesToScore is kube-scheduler's knob of the same name:
// a decision stops filtering once it has found this percentage of the
// nodes feasible (at least 100 nodes, and every node of a cluster smaller
// than that), and scores only those. The next decision starts looking where
// this one stopped, so that every node gets its turn. 0, the default, is
// Kubernetes' adaptive value: 50% less 1% per 125 nodes, at least 5%
// (42% of 1,000 nodes, 10% of 5,000). 100 scores every feasible node.
// Answers stay deterministic: the same snapshot and the same sequence of
// calls give the same placements.
func (s *Snapshot) SetPercentageOfNodesToScore(percent int) {
	s.percentage = min(max(percent, 0), 100)
}

// nodesToFind is how many feasible nodes a decision looks for.
func (s *Snapshot) nodesToFind() int {
	const minNodes, base = 100, 50
	all := len(s.nodes)
	if all < minNodes || s.percentage >= 100 {
		return all
	}
	pct := s.percentage
	if pct == 0 {
		pct = max(base-all/125, 5)
	}
	return max(all*pct/100, minNodes)
}

// Nodes returns the number of nodes in the snapshot.
func (s *Snapshot) Nodes() int { return len(s.nodes) }

// Assume accounts pod on node, as if it were bound there: later decisions
// see its requests, its labels and its affinity terms. Place does not
// assume. Assuming a pod already in the snapshot (by UID, or by namespace
// and name when it has no UID) is an error wrapping errdefs.ErrAlreadyExists,
// an unknown node one wrapping errdefs.ErrNotFound; either way nothing
// changes. A Succeeded or Failed pod is accepted and counts for nothing.
func (s *Snapshot) Assume(pod *workload.Pod, node string) error {
	n, ok := s.index[node]
	if !ok {
		return fmt.Errorf("node %q: %w", node, errdefs.ErrNotFound)
	}
	if _, dup := s.pods[podKey(pod)]; dup {
		return fmt.Errorf("pod %s/%s: already assumed or bound: %w", pod.ObjectMeta.Namespace, pod.ObjectMeta.Name, errdefs.ErrAlreadyExists)
	}
	if !terminal(pod) {
		s.add(pod, n)
	}
	return nil
}

// Forget takes back what NewSnapshot or Assume counted for pod (found by
// UID, or namespace and name), for a placement that did not happen. It
// reports whether the pod was counted.
func (s *Snapshot) Forget(pod *workload.Pod) bool {
	pi, ok := s.pods[podKey(pod)]
	if !ok {
		return false
	}
	delete(s.pods, pi.key)
	pi.gone = true
	s.account(pi, -1)
	return true
}

// add counts a new pod on node n.
func (s *Snapshot) add(p *workload.Pod, n int) {
	pi := &podInfo{
		pod:      p,
		key:      podKey(p),
		ns:       p.ObjectMeta.Namespace,
		labels:   p.ObjectMeta.Labels,
		node:     n,
		req:      workload.PodRequests(p),
		deleting: p.ObjectMeta.DeletionTimestamp != nil,
	}
	if !pi.deleting {
		pi.owner = ownerOf(p)
	}
	pi.groups = s.termGroups(p)
	s.pods[pi.key] = pi
	s.byNS[pi.ns] = append(s.byNS[pi.ns], pi)
	s.account(pi, +1)
}

// account adds (delta 1) or removes (delta -1) pi everywhere it counts.
func (s *Snapshot) account(pi *podInfo, delta int32) {
	n := &s.nodes[pi.node]
	n.used.MilliCPU += int64(delta) * pi.req.MilliCPU
	n.used.Memory += int64(delta) * pi.req.Memory
	n.used.EphemeralStorage += int64(delta) * pi.req.EphemeralStorage
	for name, v := range pi.req.Scalar {
		if n.used.Scalar == nil {
			n.used.Scalar = map[workload.ResourceName]int64{}
		}
		n.used.Scalar[name] += int64(delta) * v
	}
	n.pods += int64(delta)
	n.ports.account(pi.pod, delta)
	n.leastValid = false
	if pi.owner != (owner{}) {
		if c := s.owners[pi.owner]; c != nil {
			c.node[pi.node] += delta
			if z := s.topologies[LabelZone].dom[pi.node]; z >= 0 {
				c.zone[z] += int64(delta)
			}
		}
	}
	for _, c := range s.countersNS[pi.ns] {
		if c.matches(pi) {
			c.node[pi.node] += delta
		}
	}
	for _, g := range pi.groups {
		g.node[pi.node] += delta
		g.total += int(delta)
	}
}

// termGroups returns the groups of p's affinity terms, creating them as
// needed. The groups' counts are left to account.
func (s *Snapshot) termGroups(p *workload.Pod) []*termGroup {
	a := p.Spec.Affinity
	if a == nil || (a.PodAffinity == nil && a.PodAntiAffinity == nil) {
		return nil
	}
	var out []*termGroup
	add := func(kind groupKind, t workload.PodAffinityTerm, weight int32) {
		if t.LabelSelector == nil {
			return // selects nothing
		}
		k := groupKey{kind: kind, ns: p.ObjectMeta.Namespace, sel: selectorKey(t.LabelSelector), topo: t.TopologyKey, weight: weight}
		g := s.groups[k]
		if g == nil {
			g = &termGroup{groupKey: k, selector: t.LabelSelector, node: make([]int32, len(s.nodes))}
			s.groups[k] = g
			s.groupsNS[k.ns] = append(s.groupsNS[k.ns], g)
		}
		out = append(out, g)
	}
	if pa := a.PodAffinity; pa != nil {
		for _, t := range pa.RequiredDuringSchedulingIgnoredDuringExecution {
			add(groupRequiredAffinity, t, 1)
		}
		for _, t := range pa.PreferredDuringSchedulingIgnoredDuringExecution {
			add(groupPreferredAffinity, t.PodAffinityTerm, t.Weight)
		}
	}
	if pa := a.PodAntiAffinity; pa != nil {
		for _, t := range pa.RequiredDuringSchedulingIgnoredDuringExecution {
			add(groupRequiredAnti, t, 0)
		}
		for _, t := range pa.PreferredDuringSchedulingIgnoredDuringExecution {
			add(groupPreferredAnti, t.PodAffinityTerm, t.Weight)
		}
	}
	return out
}

// topology returns the domains of key, indexing them on first use.
func (s *Snapshot) topology(key string) *topology {
	if t := s.topologies[key]; t != nil {
		return t
	}
	t := &topology{key: key, dom: make([]int32, len(s.nodes))}
	ids := map[string]int32{}
	for i := range s.nodes {
		v, ok := s.nodes[i].labels[key]
		if !ok && key == LabelHostname {
			v, ok = s.nodes[i].name, true
		}
		if !ok {
			t.dom[i] = -1
			continue
		}
		id, seen := ids[v]
		if !seen {
			id = int32(len(t.names))
			ids[v] = id
			t.names = append(t.names, v)
		}
		t.dom[i] = id
	}
	s.topologies[key] = t
	return t
}

// counter returns the per-node count of pods of ns that sel selects
// (deleting pods too when deleting is set), counting them on first use.
func (s *Snapshot) counter(ns string, sel *workload.LabelSelector, deleting bool) *counter {
	key := fmt.Sprintf("%s\x00%t\x00%s", ns, deleting, selectorKey(sel))
	if c := s.counters[key]; c != nil {
		return c
	}
	c := &counter{ns: ns, sel: sel, deleting: deleting}
	s.fill(c)
	s.counters[key] = c
	s.countersNS[ns] = append(s.countersNS[ns], c)
	return c
}

// ownerCounter returns the per-node and per-zone count of the live pods
// of o.
func (s *Snapshot) ownerCounter(o owner) *counter {
	if c := s.owners[o]; c != nil {
		return c
	}
	c := &counter{ns: o.ns, owner: o}
	s.fill(c)
	c.zone = sumDomains(s.topology(LabelZone), c.node, nil)
	s.owners[o] = c
	return c
}

func (s *Snapshot) fill(c *counter) {
	c.node = make([]int32, len(s.nodes))
	for _, pi := range s.byNS[c.ns] {
		if !pi.gone && c.matches(pi) {
			c.node[pi.node]++
		}
	}
}

// terminal says whether a pod has finished for good: it holds nothing.
func terminal(p *workload.Pod) bool {
	return p.Status.Phase == workload.PodSucceeded || p.Status.Phase == workload.PodFailed
}

// podKey identifies a pod: its UID, or its namespace and name without one.
func podKey(p *workload.Pod) string {
	if p.ObjectMeta.UID != "" {
		return string(p.ObjectMeta.UID)
	}
	return p.ObjectMeta.Namespace + "/" + p.ObjectMeta.Name
}

// owner is what SelectorSpread groups pods by: their namespace and
// controller's UID, or, for a pod without a controller, their namespace and
// labels.
type owner struct {
	ns, uid, labels string
}

func ownerOf(p *workload.Pod) owner {
	for _, r := range p.ObjectMeta.OwnerReferences {
		if r.Controller != nil && *r.Controller {
			return owner{ns: p.ObjectMeta.Namespace, uid: string(r.UID)}
		}
	}
	keys := make([]string, 0, len(p.ObjectMeta.Labels))
	for k := range p.ObjectMeta.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("\x00")
	for _, k := range keys {
		b.WriteString(k + "=" + p.ObjectMeta.Labels[k] + "\x00")
	}
	return owner{ns: p.ObjectMeta.Namespace, labels: b.String()}
}

// selectorKey is a canonical form of a selector, for indexing.
func selectorKey(sel *workload.LabelSelector) string {
	if sel == nil {
		return "\x00nil"
	}
	return sel.String()
}

// hashString is FNV-1a, 64 bits.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix is splitmix64's finalizer: it spreads a combination of two hashes.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
