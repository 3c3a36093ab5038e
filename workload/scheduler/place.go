package scheduler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/shoalproject/shoal/workload"
)

// Place picks the node pod should run on: the feasible node with the best
// weighted score (see the package documentation) among those it looked at
// (SetPercentageOfNodesToScore). It changes nothing but where the next
// decision starts looking: call Assume to account the placement. When no node is feasible the error is
// an *Unschedulable saying why. The pod's spec.nodeName is ignored.
func (s *Snapshot) Place(pod *workload.Pod) (node string, err error) {
	p := s.compile(pod)
	feasible := s.filter(p)
	if len(feasible) == 0 {
		return "", s.unschedulable()
	}
	if len(feasible) == 1 {
		return s.nodes[feasible[0]].name, nil
	}
	s.score(p, feasible)
	best, bestTotal, bestTie := -1, int64(0), uint64(0)
	for i, n := range feasible {
		total := s.buf.total[i]
		if best >= 0 && total < bestTotal {
			continue
		}
		tie := mix(p.hash ^ s.nodes[n].hash)
		if best < 0 || total > bestTotal || tie > bestTie {
			best, bestTotal, bestTie = int(n), total, tie
		}
	}
	return s.nodes[best].name, nil
}

// filter runs the filters on the nodes, from where the previous decision
// stopped, until it has found s.nodesToFind() feasible ones or seen every
// node, and returns the feasible ones. Each node seen and not feasible
// has its reason in s.buf.reason (so when none is feasible, every node
// has). In the same pass it computes the raw scores of LeastAllocated and
// SelectorSpread for the feasible nodes into s.buf.raw, which spares score
// two passes.
func (s *Snapshot) filter(p *podState) []int32 {
	all := len(s.nodes)
	if cap(s.buf.reason) < all {
		s.buf.reason = make([]string, all)
		s.buf.feasible = make([]int32, 0, all)
	}
	s.buf.reason = s.buf.reason[:all]
	want := s.nodesToFind()
	feasible := s.buf.feasible[:0]
	least := s.buf.raw[scoreLeastAllocated][:0]
	spread := s.buf.raw[scoreSelectorSpread][:0]
	i, seen := s.next, 0
	for ; seen < all && len(feasible) < want; seen++ {
		if i == all {
			i = 0
		}
		ok, reason := filterNode(s, p, i)
		s.buf.reason[i] = reason
		if ok {
			feasible = append(feasible, int32(i))
			least = append(least, rawLeastAllocated(s, p, i))
			if p.owner != nil {
				spread = append(spread, rawSelectorSpread(s, p, i))
			}
		}
		i++
	}
	if all > 0 {
		s.next = i % all
	}
	s.buf.feasible = feasible
	s.buf.raw[scoreLeastAllocated] = least
	s.buf.raw[scoreSelectorSpread] = spread
	return feasible
}

// unschedulable counts the reasons filter left.
func (s *Snapshot) unschedulable() *Unschedulable {
	u := &Unschedulable{Nodes: len(s.nodes), Reasons: map[string]int{}}
	for _, r := range s.buf.reason {
		u.Reasons[r]++
	}
	return u
}

// Unschedulable is the error of a pod that fits on no node: how many nodes
// there are and, for each reason, how many nodes failed for it (each node
// for the first filter it failed).
type Unschedulable struct {
	Nodes   int
	Reasons map[string]int
}

// Error reads like kube-scheduler's message, reasons sorted:
// "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match
// Pod's node affinity/selector."
func (u *Unschedulable) Error() string {
	if u.Nodes == 0 {
		return "0/0 nodes are available: no nodes in the cluster."
	}
	parts := make([]string, 0, len(u.Reasons))
	for r, n := range u.Reasons {
		parts = append(parts, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(parts)
	return fmt.Sprintf("0/%d nodes are available: %s.", u.Nodes, strings.Join(parts, ", "))
}
