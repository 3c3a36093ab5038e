package peer

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoalproject/shoal/gossip"
)

// deployedCluster starts 3 in-process peers with the fake runtime and a
// 3-replica Deployment, and returns them once its pods run (pod -> node).
func deployedCluster(ctx context.Context, b *testing.B) (*testCluster, map[string]string) {
	c := newRuntimeCluster(b)
	if err := c.client("p1").Do(ctx, http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", deploymentBody(3, "web"), nil); err != nil {
		b.Fatal(err)
	}
	var pods map[string]string
	waitFor(b, 30*time.Second, "3 running pods", func() bool { pods = runningPods(ctx, c, "p1"); return len(pods) == 3 })
	return c, pods
}

// BenchmarkPodFailover measures, with Shoal's defaults (pod failover grace,
// LAN gossip profile), the time from a peer's death to its pods running on
// the others: each round starts 3 in-process peers with the fake runtime,
// runs a 3-replica Deployment (one pod a peer), kills a peer that holds one
// (Kill: no leave, no goodbye, its sockets closed as a crashed process's
// are) and polls until 3 pods run again, none on it. Reports the median and
// the worst round (p99 when there are 100 rounds or more), and the median
// time until gossip declared the peer failed (the pod failover grace starts
// then).
//
//	go test -run '^$' -bench PodFailover -benchtime 10x ./peer/
func BenchmarkPodFailover(b *testing.B) {
	var took, detected []time.Duration // kill to running elsewhere; kill to p1's gossip declaring it failed
	ctx := context.Background()
	for range b.N {
		c, pods := deployedCluster(ctx, b)
		victim := nodeOtherThan(pods, "p1")
		c.peers[victim].Kill()
		start := time.Now()
		waitFor(b, 30*time.Second, "the victim's pod replaced", func() bool { return replacedOff(runningPods(ctx, c, "p1"), 3, victim) })
		took = append(took, time.Since(start))
		for _, m := range c.peers["p1"].gossip.Members() {
			if m.Name == victim && m.Status == gossip.StatusFailed {
				detected = append(detected, m.Since.Sub(start))
			}
		}
		for _, p := range c.peers {
			p.Kill()
		}
	}
	slices.Sort(took)
	b.ReportMetric(took[len(took)/2].Seconds(), "median-s")
	b.ReportMetric(took[min(len(took)-1, len(took)*99/100)].Seconds(), "p99-s")
	b.ReportMetric(took[len(took)-1].Seconds(), "max-s")
	if len(detected) > 0 {
		slices.Sort(detected)
		b.ReportMetric(detected[len(detected)/2].Seconds(), "detect-median-s")
	}
}

// BenchmarkNoFalseFailover runs 3 in-process peers and a 3-replica
// Deployment while two shell loops keep both cores busy, and counts what
// must not happen to a healthy cluster: gossip declaring a live peer failed,
// and pods replaced. SHOAL_SOAK_DURATION sets how long (default 1m; the
// issue's figure is 10m).
//
//	SHOAL_SOAK_DURATION=10m go test -run '^$' -bench NoFalseFailover -benchtime 1x -timeout 20m ./peer/
func BenchmarkNoFalseFailover(b *testing.B) {
	soak := time.Minute
	if v := os.Getenv("SHOAL_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("SHOAL_SOAK_DURATION: %v", err)
		}
		soak = d
	}
	ctx := context.Background()
	for range b.N {
		c, pods := deployedCluster(ctx, b)
		var failed atomic.Int64
		for _, p := range c.peers {
			events, unsubscribe := p.gossip.Subscribe(64)
			b.Cleanup(unsubscribe)
			go func() {
				for e := range events {
					if e.Kind == gossip.EventFailed {
						failed.Add(1)
						b.Logf("%s: gossip declared %s failed", p.cfg.Name, e.Member.Name)
					}
				}
			}()
		}
		soakCtx, cancel := context.WithTimeout(ctx, soak)
		for range 2 { // both cores busy, bounded by the soak
			burn := exec.CommandContext(soakCtx, "sh", "-c", "while :; do :; done")
			if err := burn.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() { _ = burn.Wait() }()
		}
		replaced := 0
		for soakCtx.Err() == nil {
			now := runningPods(ctx, c, "p1")
			for name := range now {
				if _, ok := pods[name]; !ok {
					replaced++
					b.Logf("pod %s replaced one of %v", name, pods)
				}
			}
			if len(now) == 3 {
				pods = now
			}
			select {
			case <-soakCtx.Done():
			case <-time.After(time.Second):
			}
		}
		cancel()
		b.ReportMetric(float64(failed.Load()), "false-failed")
		b.ReportMetric(float64(replaced), "pods-replaced")
		b.ReportMetric(soak.Minutes(), "minutes")
	}
}
