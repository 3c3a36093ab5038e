package consensus

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkProposeClosedLoop measures the store's write path without HTTP:
// 3 in-process hosts with mutual TLS, 4 object shards, 128 closed-loop
// writers of 256-byte objects (SHOAL_BENCH_SHARDS changes the shard count) through Host.Propose (JSON batches, the pure
// state, events) for 5 s. Compare with shoal-bench store (adds HTTPS
// forwarding and separate processes) and shoal-bench bare (no state).
// Run: go test -run '^$' -bench ProposeClosedLoop -benchtime 1x ./consensus/
func BenchmarkProposeClosedLoop(b *testing.B) {
	shards := 4
	if v := os.Getenv("SHOAL_BENCH_SHARDS"); v != "" {
		shards, _ = strconv.Atoi(v)
	}
	router := Router{ObjectShards: shards}
	for i := 0; i < b.N; i++ {
		th := newTestHosts(b, 3, router.Shards()[1:], 0)
		leaders := map[uint64]int{}
		for _, s := range router.Shards()[1:] {
			leaders[s] = th.leader(s)
		}
		toLeader := os.Getenv("SHOAL_BENCH_TO_LEADER") != ""
		data := make([]byte, 256)
		for j := range data {
			data[j] = 'x'
		}
		var mu sync.Mutex
		var lat []time.Duration
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		start := time.Now()
		var wg sync.WaitGroup
		for c := range 128 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ctx.Err() == nil; n++ {
					o := Object{Kind: "ConfigMap", Namespace: "b", Name: fmt.Sprintf("c%d-%d", c, n), Data: data}
					t0 := time.Now()
					shard, h := router.ShardFor(o.Key(), ""), c%3
					if toLeader {
						h = leaders[shard]
					}
					if _, err := th.hosts[h].Propose(context.Background(), shard, createBatch(o)); err == nil {
						mu.Lock()
						lat = append(lat, time.Since(t0))
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		cancel()
		el := time.Since(start)
		sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
		var entries, batches uint64
		for _, h := range th.hosts {
			e, n := h.ProposeStats()
			entries, batches = entries+e, batches+n
		}
		b.ReportMetric(float64(batches)/float64(max(entries, 1)), "batches/entry")
		b.ReportMetric(float64(len(lat))/el.Seconds(), "writes/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}
