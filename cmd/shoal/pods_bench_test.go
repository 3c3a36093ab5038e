package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/poll"
	"github.com/shoalproject/shoal/internal/testimage"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime/containerd/containerdtest"
)

// BenchmarkPodApplyToRunning measures, on one agent process with real
// containerd and the image already present, the time from a pod's create
// call to its status reading Running (20 pods, one after another), and the
// agent's resident memory with SHOAL_BENCH_PODS (default 50) pods running.
//
//	SHOAL_BIN=bin/shoal go test -run '^$' -bench PodApplyToRunning -benchtime 1x ./cmd/shoal/
func BenchmarkPodApplyToRunning(b *testing.B) {
	containerdtest.Require(b)
	many := 50
	if s := os.Getenv("SHOAL_BENCH_PODS"); s != "" {
		many, _ = strconv.Atoi(s)
	}
	for i := 0; i < b.N; i++ {
		d := containerdtest.Start(b)
		image := filepath.Join(b.TempDir(), "webapp.tar")
		if err := os.WriteFile(image, testimage.Cached(b, testimage.Webapp("v1")), 0o600); err != nil {
			b.Fatal(err)
		}
		c := newProcCluster(b)
		a := c.start(1, 0, containerdFlags(b, c, d, 1)...)
		c.mustCLI("image", "import", image)
		cl := c.apiClient(a)
		ctx := context.Background()
		create := func(name string) time.Duration {
			pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": name},
				"spec": map[string]any{"nodeName": "p1", "containers": []any{map[string]any{"name": "web", "image": "shoal.local/webapp:v1"}}}}
			start := time.Now()
			if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/pods", pod, nil); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		}
		running := func(name string) bool {
			var p workload.Pod
			return cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods/"+name, nil, &p) == nil && p.Status.Phase == workload.PodRunning
		}
		var lat []time.Duration
		for k := range 20 {
			name := fmt.Sprintf("lat-%d", k)
			start := time.Now()
			create(name)
			if !poll.Until(60*time.Second, 5*time.Millisecond, func() bool { return running(name) }) {
				b.Fatalf("%s not Running after 60 s", name)
			}
			lat = append(lat, time.Since(start))
			if err := cl.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/pods/"+name+"?gracePeriodSeconds=0", nil, nil); err != nil {
				b.Fatal(err)
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")

		// Peer to peer: p2 lacks the image and fetches it from p1 (one
		// sample per image version, each imported into p1 only).
		p2 := c.start(2, 1, containerdFlags(b, c, d, 2)...)
		cl2 := c.apiClient(p2)
		var p2p []time.Duration
		var size int
		for _, v := range []string{"v2", "v3", "v4"} {
			spec := testimage.Webapp(v)
			spec.PadBytes = 2500 << 10 // a 5 MB image
			tar := testimage.Cached(b, spec)
			size = len(tar)
			f := filepath.Join(b.TempDir(), v+".tar")
			if err := os.WriteFile(f, tar, 0o600); err != nil {
				b.Fatal(err)
			}
			c.mustCLI("image", "import", f, "--server", "https://"+a.api())
			name := "p2p-" + v
			pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": name},
				"spec": map[string]any{"nodeName": "p2", "containers": []any{map[string]any{"name": "web", "image": "shoal.local/webapp:" + v}}}}
			start := time.Now()
			if err := cl2.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/pods", pod, nil); err != nil {
				b.Fatal(err)
			}
			c.waitFor(60*time.Second, name+" Running", func() bool { return running(name) })
			p2p = append(p2p, time.Since(start))
		}
		sort.Slice(p2p, func(i, j int) bool { return p2p[i] < p2p[j] })
		b.ReportMetric(float64(p2p[len(p2p)/2].Milliseconds()), "p2p-fetch-to-running-ms")
		b.ReportMetric(float64(size)/1e6, "image-MB")

		for k := range many {
			create(fmt.Sprintf("many-%d", k))
		}
		c.waitFor(5*time.Minute, fmt.Sprintf("%d pods Running", many), func() bool {
			for k := range many {
				if !running(fmt.Sprintf("many-%d", k)) {
					return false
				}
			}
			return true
		})
		b.ReportMetric(float64(statusKB(b, a.cmd.Process.Pid, "VmRSS"))/1024, "agent-MB-with-pods")
		for k := range many {
			err := cl.Do(ctx, http.MethodDelete, fmt.Sprintf("/api/v1/namespaces/default/pods/many-%d?gracePeriodSeconds=0", k), nil, nil)
			if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
				b.Fatal(err)
			}
		}
		c.waitFor(2*time.Minute, "every many- pod gone", func() bool {
			out, err := c.cli("get", "pods", "-o", "name")
			return err == nil && !strings.Contains(out, "many-")
		})
	}
}
