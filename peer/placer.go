package peer

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/shoalproject/shoal/workload"
)

// placer is the scheduler's decision over a snapshot, until the full one
// (workload/scheduler: affinity, spread, scoring plugins) is wired in:
// nodes alive, Ready and not cordoned, nodeSelector, requests within
// allocatable; among those, the least allocated, ties spread by a hash.
type placer struct {
	nodes []placerNode
	used  map[string]workload.ComputeResources
	count map[string]int
}

type placerNode struct {
	Node  *workload.Node
	Alive bool
}

// unschedulable says why a pod fits nowhere, as kube-scheduler does.
type unschedulable struct {
	nodes   int
	reasons map[string]int
}

func (u *unschedulable) Error() string {
	keys := make([]string, 0, len(u.reasons))
	for k := range u.reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", u.reasons[k], k)
	}
	return fmt.Sprintf("0/%d nodes are available: %s.", u.nodes, strings.Join(parts, ", "))
}

func newPlacer(nodes []placerNode, pods []*workload.Pod) *placer {
	pl := &placer{nodes: nodes, used: map[string]workload.ComputeResources{}, count: map[string]int{}}
	for _, p := range pods {
		if p.Status.Phase == workload.PodSucceeded || p.Status.Phase == workload.PodFailed {
			continue
		}
		pl.Assume(p, p.Spec.NodeName)
	}
	return pl
}

// Assume accounts a pod on a node.
func (pl *placer) Assume(p *workload.Pod, node string) {
	r := workload.PodRequests(p)
	u := pl.used[node]
	u.MilliCPU += r.MilliCPU
	u.Memory += r.Memory
	pl.used[node] = u
	pl.count[node]++
}

// Place picks a node for p, or says why none fits.
func (pl *placer) Place(p *workload.Pod) (string, error) {
	req := workload.PodRequests(p)
	u := &unschedulable{nodes: len(pl.nodes), reasons: map[string]int{}}
	best, bestScore := "", int64(-1)
	var bestTie uint32
	for _, n := range pl.nodes {
		name := n.Node.Metadata.Name
		switch {
		case !n.Alive || !workload.IsNodeReady(n.Node):
			u.reasons["node(s) were not ready"]++
			continue
		case n.Node.Spec.Unschedulable:
			u.reasons["node(s) were unschedulable"]++
			continue
		case !selectorMatches(p.Spec.NodeSelector, n.Node.Metadata.Labels):
			u.reasons["node(s) didn't match Pod's node affinity/selector"]++
			continue
		}
		alloc := n.Node.Status.Allocatable
		cpu, mem, pods := alloc[workload.ResourceCPU], alloc[workload.ResourceMemory], alloc[workload.ResourcePods]
		used := pl.used[name]
		fits := true
		if used.MilliCPU+req.MilliCPU > cpu.MilliValue() {
			u.reasons["Insufficient cpu"]++
			fits = false
		}
		if used.Memory+req.Memory > mem.Value() {
			u.reasons["Insufficient memory"]++
			fits = false
		}
		if !pods.IsZero() && int64(pl.count[name]+1) > pods.Value() {
			u.reasons["Too many pods"]++
			fits = false
		}
		if !fits {
			continue
		}
		// Least allocated, in thousandths, after placing p.
		score := int64(0)
		if c := cpu.MilliValue(); c > 0 {
			score += 1000 * (c - used.MilliCPU - req.MilliCPU) / c
		}
		if m := mem.Value(); m > 0 {
			score += 1000 * (m - used.Memory - req.Memory) / m
		}
		score -= int64(pl.count[name]) // spread pods even when they request nothing
		h := fnv.New32a()
		_, _ = h.Write([]byte(p.Metadata.UID + "/" + name))
		tie := h.Sum32()
		if score > bestScore || (score == bestScore && tie < bestTie) {
			best, bestScore, bestTie = name, score, tie
		}
	}
	if best == "" {
		return "", u
	}
	return best, nil
}

func selectorMatches(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}
