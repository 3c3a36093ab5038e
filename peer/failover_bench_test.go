package peer

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchmarkPodFailover measures, with Shoal's defaults (pod failover grace,
// LAN gossip profile), the time from a peer's death to its pods running on
// the others: each round starts 3 in-process peers with the fake runtime,
// runs a 3-replica Deployment (one pod a peer), kills a peer that holds one
// (Kill: no leave, no goodbye, its sockets closed as a crashed process's
// are) and polls until 3 pods run again, none on it. Reports the median and
// the worst round (p99 when there are 100 rounds or more).
//
//	go test -run '^$' -bench PodFailover -benchtime 10x ./peer/
func BenchmarkPodFailover(b *testing.B) {
	var took []time.Duration
	ctx := context.Background()
	for range b.N {
		c := newRuntimeCluster(b)
		if err := c.client("p1").Do(ctx, http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", deploymentBody(3, "web"), nil); err != nil {
			b.Fatal(err)
		}
		var pods map[string]string
		waitFor(b, 30*time.Second, "3 running pods", func() bool { pods = runningPods(ctx, c, "p1"); return len(pods) == 3 })
		victim := ""
		for _, n := range pods {
			if n != "p1" {
				victim = n
				break
			}
		}
		c.peers[victim].Kill()
		start := time.Now()
		waitFor(b, 30*time.Second, "the victim's pod replaced", func() bool { return replacedOff(runningPods(ctx, c, "p1"), 3, victim) })
		took = append(took, time.Since(start))
		for _, p := range c.peers {
			p.Kill()
		}
	}
	slices.Sort(took)
	b.ReportMetric(took[len(took)/2].Seconds(), "median-s")
	b.ReportMetric(took[min(len(took)-1, len(took)*99/100)].Seconds(), "p99-s")
	b.ReportMetric(took[len(took)-1].Seconds(), "max-s")
}
