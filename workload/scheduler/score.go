package scheduler

// MaxScore is the best score a scorer gives a node; 0 is the worst.
const MaxScore int64 = 100

// The scorers, indexes into scorers.
const (
	scoreLeastAllocated = iota
	scoreNodeAffinity
	scoreInterPodAffinity
	scoreTopologySpread
	scoreSelectorSpread
	scoreTaintToleration
	numScores
)

// A scorer rates the feasible nodes for a pod. raw gives one node's raw
// score; normalize, when set, turns the raw scores of all feasible nodes
// (in place) into 0..MaxScore. applies says whether the scorer has anything
// to say about the pod: one that does not gives every node 0.
type scorer struct {
	name      string
	weight    int64
	applies   func(p *podState) bool
	raw       func(s *Snapshot, p *podState, n int) int64
	normalize func(s *Snapshot, p *podState, feasible []int32, scores []int64)
}

// scorers are the scoring plugins with their weights in the final sum.
var scorers = [numScores]scorer{
	scoreLeastAllocated:   {"LeastAllocated", 1, func(*podState) bool { return true }, rawLeastAllocated, nil},
	scoreNodeAffinity:     {"NodeAffinity", 2, func(p *podState) bool { return len(p.preferred) > 0 }, rawNodeAffinity, normalizeMax},
	scoreInterPodAffinity: {"InterPodAffinity", 2, func(p *podState) bool { return len(p.preferredPods) > 0 }, rawInterPodAffinity, normalizeMinMax},
	scoreTopologySpread:   {"TopologySpread", 2, func(p *podState) bool { return len(p.softSpread) > 0 }, rawTopologySpread, normalizeFewest},
	scoreSelectorSpread:   {"SelectorSpread", 2, func(p *podState) bool { return p.owner != nil }, rawSelectorSpread, normalizeSelectorSpread},
	scoreTaintToleration:  {"TaintToleration", 3, func(p *podState) bool { return p.softTaints }, rawTaintToleration, normalizeReverse},
}

// rawTaintToleration counts the node's PreferNoSchedule taints that the
// pod does not tolerate.
func rawTaintToleration(s *Snapshot, p *podState, n int) int64 {
	count := int64(0)
	for i := range s.nodes[n].softTaints {
		if !tolerated(p.tolerations, &s.nodes[n].softTaints[i]) {
			count++
		}
	}
	return count
}

// normalizeReverse is Kubernetes' DefaultNormalizeScore reversed: the
// highest raw score maps to 0, none to MaxScore.
func normalizeReverse(s *Snapshot, p *podState, feasible []int32, scores []int64) {
	normalizeMax(s, p, feasible, scores)
	for i, v := range scores {
		scores[i] = MaxScore - v
	}
}

// rawLeastAllocated is the mean of the fractions of allocatable cpu and
// memory left free once the pod is placed, times MaxScore, rounded down. A
// resource the node has none of scores 0.
func rawLeastAllocated(s *Snapshot, p *podState, n int) int64 {
	nd := &s.nodes[n]
	for2 := [2]int64{p.req.MilliCPU, p.req.Memory}
	if nd.leastValid && nd.leastFor == for2 {
		return nd.least
	}
	nd.least = (free(nd.alloc.MilliCPU, nd.used.MilliCPU+p.req.MilliCPU, nd.cpuScale) +
		free(nd.alloc.Memory, nd.used.Memory+p.req.Memory, nd.memScale)) / 2
	nd.leastFor, nd.leastValid = for2, true
	return nd.least
}

// free is (alloc-used)*MaxScore/alloc, given scale = MaxScore/alloc: one
// multiplication, which the decision loop can afford on every node where a
// division it could not. The product is converted on its own, so that no
// platform fuses it with another operation and rounds differently.
func free(alloc, used int64, scale float64) int64 {
	if used >= alloc {
		return 0
	}
	f := float64(alloc-used) * scale
	return min(int64(f), MaxScore)
}

// rawNodeAffinity is the sum of the weights of the preferred node affinity
// terms the node matches.
func rawNodeAffinity(s *Snapshot, p *podState, n int) int64 {
	sum := int64(0)
	for i := range p.preferred {
		if termMatches(&p.preferred[i].Preference, s.nodes[n].labels) {
			sum += int64(p.preferred[i].Weight)
		}
	}
	return sum
}

// rawInterPodAffinity is, over the pod's preferred affinity (+weight) and
// anti-affinity (-weight) terms and the terms of placed pods that select it
// (their preferred ones by weight, their required affinity by 1), the
// weight times the number of matching pods in the node's domain.
func rawInterPodAffinity(_ *Snapshot, p *podState, n int) int64 {
	sum := int64(0)
	for i := range p.preferredPods {
		if c, ok := p.preferredPods[i].at(n); ok {
			sum += c * p.preferredPods[i].weight
		}
	}
	return sum
}

// rawTopologySpread is the number of pods matching the pod's ScheduleAnyway
// constraints in the node's domains, summed; -1 for a node missing a
// constraint's key, which scores 0.
func rawTopologySpread(_ *Snapshot, p *podState, n int) int64 {
	sum := int64(0)
	for i := range p.softSpread {
		c, ok := p.softSpread[i].at(n)
		if !ok {
			return -1
		}
		sum += c
	}
	return sum
}

// rawSelectorSpread is the number of pods of the same owner on the node.
func rawSelectorSpread(_ *Snapshot, p *podState, n int) int64 {
	return int64(p.owner.node[n])
}

// normalizeMax scales scores so the highest is MaxScore.
func normalizeMax(_ *Snapshot, _ *podState, _ []int32, scores []int64) {
	top := int64(0)
	for _, v := range scores {
		top = max(top, v)
	}
	for i, v := range scores {
		if top > 0 {
			scores[i] = v * MaxScore / top
		} else {
			scores[i] = 0
		}
	}
}

// normalizeMinMax maps the lowest score to 0 and the highest to MaxScore;
// all 0 when they are equal.
func normalizeMinMax(_ *Snapshot, _ *podState, _ []int32, scores []int64) {
	if len(scores) == 0 {
		return
	}
	lo, hi := scores[0], scores[0]
	for _, v := range scores {
		lo, hi = min(lo, v), max(hi, v)
	}
	for i, v := range scores {
		if hi > lo {
			scores[i] = (v - lo) * MaxScore / (hi - lo)
		} else {
			scores[i] = 0
		}
	}
}

// normalizeFewest maps the fewest pods to MaxScore and the most to 0, all
// MaxScore when they are equal; a node marked -1 scores 0.
func normalizeFewest(_ *Snapshot, _ *podState, _ []int32, scores []int64) {
	lo, hi := int64(-1), int64(-1)
	for _, v := range scores {
		if v < 0 {
			continue
		}
		if lo < 0 || v < lo {
			lo = v
		}
		hi = max(hi, v)
	}
	for i, v := range scores {
		switch {
		case v < 0:
			scores[i] = 0
		case hi > lo:
			scores[i] = (hi - v) * MaxScore / (hi - lo)
		default:
			scores[i] = MaxScore
		}
	}
}

// normalizeSelectorSpread is Kubernetes' SelectorSpread: a node scores
// MaxScore*(most-here)/most, where most is the most pods of the owner on a
// feasible node (MaxScore when there are none); a node in a zone then
// scores a third of that plus two thirds of the same measure over zones,
// counting the owner's pods on every node of each zone.
func normalizeSelectorSpread(s *Snapshot, p *podState, feasible []int32, scores []int64) {
	most := int64(0)
	for _, v := range scores {
		most = max(most, v)
	}
	mostZone := int64(0)
	for _, v := range p.zoneCount {
		mostZone = max(mostZone, v)
	}
	// One division per zone and per distinct count, not two per node.
	zone := make([]int64, len(p.zoneCount))
	for i, c := range p.zoneCount {
		zone[i] = MaxScore
		if mostZone > 0 {
			zone[i] = MaxScore * (mostZone - c) / mostZone
		}
	}
	var table [64]int64
	if most < int64(len(table)) {
		for v := int64(0); v <= most; v++ {
			table[v] = MaxScore
			if most > 0 {
				table[v] = MaxScore * (most - v) / most
			}
		}
	}
	doms := p.zones.dom
	for i, v := range scores {
		var score int64
		if most < int64(len(table)) {
			score = table[v]
		} else {
			score = MaxScore * (most - v) / most
		}
		if dom := doms[feasible[i]]; dom >= 0 {
			score = (score + 2*zone[dom]) / 3
		}
		scores[i] = score
	}
}

// score fills s.buf.raw[k] for each scorer k that applies with the
// normalized scores of the feasible nodes, and s.buf.total with their
// weighted sums; a scorer that does not apply leaves its slice empty. The
// raw scores of LeastAllocated and SelectorSpread are already there:
// filter computes them in its pass over the nodes.
func (s *Snapshot) score(p *podState, feasible []int32) {
	total := grow(&s.buf.total, len(feasible))
	// LeastAllocated always applies: its scores start the sum.
	copy(total, s.buf.raw[scoreLeastAllocated])
	for k := scoreLeastAllocated + 1; k < numScores; k++ {
		sc := &scorers[k]
		if !sc.applies(p) {
			s.buf.raw[k] = s.buf.raw[k][:0]
			continue
		}
		scores := s.buf.raw[k]
		if k != scoreSelectorSpread {
			scores = grow(&s.buf.raw[k], len(feasible))
			for i, n := range feasible {
				scores[i] = sc.raw(s, p, int(n))
			}
		}
		if sc.normalize != nil {
			sc.normalize(s, p, feasible, scores)
		}
		for i, v := range scores {
			total[i] += sc.weight * v
		}
	}
}

func grow(b *[]int64, n int) []int64 {
	if cap(*b) < n {
		*b = make([]int64, n)
	}
	*b = (*b)[:n]
	return *b
}
