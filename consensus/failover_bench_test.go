package consensus

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"
)

// BenchmarkFailover kills the host that leads an object shard in a 4-peer
// cluster (3 replicas a shard, repair grace 2 s) and reports the time until
// the shard commits writes again, and until its replica is rebuilt on the
// spare peer (grace included). In-process hosts with mutual TLS, 20 ms RTT.
// Run: go test -run '^$' -bench Failover -benchtime 5x ./consensus/
func BenchmarkFailover(b *testing.B) {
	grace := 2 * time.Second
	var writes, rebuilds []time.Duration
	for i := 0; i < b.N; i++ {
		c := newCtlCluster(b, grace)
		c.start("p1", "z1", true)
		c.start("p2", "z2", false)
		c.start("p3", "z3", false)
		c.waitSettled(3)
		c.start("p4", "z1", false)
		shard := uint64(2)
		h, err := c.group.pick(shard)
		if err != nil {
			b.Fatal(err)
		}
		leaderID, _, _ := h.Leader(shard)
		victim := ""
		for _, r := range c.records() {
			if r.ID == shard {
				victim = r.Replicas[leaderID].Peer
			}
		}
		start := time.Now()
		c.kill(victim)
		for n := 0; ; n++ {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			_, err := c.group.Propose(ctx, shard, createBatch(Object{Kind: "ConfigMap", Namespace: "x", Name: fmt.Sprintf("w%d-%d", i, n)}))
			cancel()
			if err == nil {
				break
			}
			if time.Since(start) > 30*time.Second {
				b.Fatalf("no write within 30 s: %v", err)
			}
		}
		writes = append(writes, time.Since(start))
		c.waitSettled(3, victim)
		rebuilds = append(rebuilds, time.Since(start))
	}
	med := func(d []time.Duration) float64 {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return float64(d[len(d)/2].Milliseconds())
	}
	b.ReportMetric(med(writes), "writes-again-ms")
	b.ReportMetric(med(rebuilds), "rebuilt-ms")
	b.ReportMetric(float64(grace.Milliseconds()), "grace-ms")
}
