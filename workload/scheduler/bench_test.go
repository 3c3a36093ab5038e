package scheduler

import (
	"fmt"
	"testing"

	"github.com/shoalproject/shoal/workload"
)

// BenchmarkPlace10kPodsOn1kNodes places 10,000 pods of 100 owners (100m
// cpu, 128Mi each) onto 1,000 nodes in 3 zones (4 cpu, 8Gi each) with
// Place and Assume, and reports pods placed per second: with the default
// (adaptive) share of nodes scored, and with every node scored. It checks
// the placements are spread: every node within one pod of 10, every
// owner's 100 pods within 2 of even over the zones.
func BenchmarkPlace10kPodsOn1kNodes(b *testing.B) {
	const nodes, pods, owners = 1000, 10000, 100
	ns := make([]*workload.Node, nodes)
	for i := range ns {
		ns[i] = node(fmt.Sprintf("node-%04d", i), fmt.Sprintf("zone-%d", i%3), "4", "8Gi")
	}
	ps := make([]*workload.Pod, pods)
	for i := range ps {
		owner := fmt.Sprintf("rs-%02d", i%owners)
		ps[i] = pod(fmt.Sprintf("%s-%d", owner, i), "100m", "128Mi", labels("app", owner), ownedBy(owner))
	}
	for _, bc := range []struct {
		name    string
		percent int
	}{{"adaptive", 0}, {"all", 100}} {
		b.Run(bc.name, func(b *testing.B) {
			placed := 0
			for b.Loop() {
				s := NewSnapshot(alive(ns...), nil)
				s.SetPercentageOfNodesToScore(bc.percent)
				perNode := map[string]int{}
				perZone := map[string]int{} // owner/zone
				for _, p := range ps {
					n, err := s.Place(p)
					if err != nil {
						b.Fatal(err)
					}
					if err := s.Assume(p, n); err != nil {
						b.Fatal(err)
					}
					perNode[n]++
					perZone[p.ObjectMeta.Labels["app"]+"/"+ns[s.index[n]].ObjectMeta.Labels[LabelZone]]++
					placed++
				}
				for n, c := range perNode {
					if c < pods/nodes-1 || c > pods/nodes+1 {
						b.Fatalf("node %s got %d pods; want %d±1", n, c, pods/nodes)
					}
				}
				for z, c := range perZone {
					if even := pods / owners / 3; c < even-2 || c > even+3 {
						b.Fatalf("%s got %d pods; want %d to %d", z, c, even-2, even+3)
					}
				}
			}
			b.ReportMetric(float64(placed)/b.Elapsed().Seconds(), "pods/s")
		})
	}
}
