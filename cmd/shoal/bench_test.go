package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/poll"
	"github.com/shoalproject/shoal/peer/api"
)

// BenchmarkKill9Detection measures, on 5 agent processes, the time from
// kill -9 of a peer to every other peer's API reporting it failed, over 20
// kills (each followed by a restart). It polls every 20 ms, so figures carry
// that much resolution. Run: go test -run '^$' -bench Kill9 -benchtime 1x ./cmd/shoal/
func BenchmarkKill9Detection(b *testing.B) {
	for i := 0; i < b.N; i++ {
		c := newProcCluster(b)
		c.start(1, 0)
		for n := 2; n <= 5; n++ {
			c.start(n, n-1)
		}
		clients := map[string]*api.Client{}
		for _, a := range c.running() {
			clients[a.name] = c.apiClient(a)
		}
		var samples []time.Duration
		for k := 0; k < 20; k++ {
			victim := c.agent(2 + k%4)
			var others []string
			for _, a := range c.running() {
				if a != victim {
					others = append(others, a.name)
				}
			}
			for _, o := range others {
				c.waitStatus(victim.name, "alive", c.agents[o])
			}
			start := time.Now()
			victim.kill()
			if !poll.Until(30*time.Second, 20*time.Millisecond, func() bool {
				for _, o := range others {
					ml, err := clients[o].Members(context.Background())
					if err != nil || statusOf(ml, victim.name) != "failed" {
						return false
					}
				}
				return true
			}) {
				b.Fatalf("kill %d: %s not declared failed by everyone within 30 s", k, victim.name)
			}
			samples = append(samples, time.Since(start))
			n, _ := strconv.Atoi(strings.TrimPrefix(victim.name, "p"))
			c.start(n, 0)
		}
		sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
		b.ReportMetric(float64(samples[len(samples)/2].Milliseconds()), "median-ms")
		b.ReportMetric(float64(samples[len(samples)*99/100].Milliseconds()), "p99-ms")
		b.ReportMetric(float64(samples[len(samples)-1].Milliseconds()), "max-ms")
	}
}

// BenchmarkIdlePeer reports the resident memory of each of 3 idle agent
// processes after SHOAL_IDLE (default 30 s) and the size of the binary.
// VmRSS is split as the kernel counts it: anonymous pages (heap, stacks,
// pebble's memtables) and file pages (the binary's own text and data,
// shared by every process running it; kernels with large folios map them
// 2 MB at a time, so nearly the whole binary shows).
// Run: go test -run '^$' -bench IdlePeer -benchtime 1x ./cmd/shoal/
func BenchmarkIdlePeer(b *testing.B) {
	idle := 30 * time.Second
	if s := os.Getenv("SHOAL_IDLE"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatal(err)
		}
		idle = d
	}
	for i := 0; i < b.N; i++ {
		c := newProcCluster(b)
		c.start(1, 0)
		c.start(2, 1)
		c.start(3, 2)
		time.Sleep(idle) // measuring idle memory: the wait is the point
		var maxKB, maxAnon, maxFile int
		for _, a := range c.running() {
			pid := a.cmd.Process.Pid
			kb, anon, file := statusKB(b, pid, "VmRSS"), statusKB(b, pid, "RssAnon"), statusKB(b, pid, "RssFile")
			b.Logf("%s: VmRSS %d kB (anonymous %d kB, file %d kB)", a.name, kb, anon, file)
			maxKB, maxAnon, maxFile = max(maxKB, kb), max(maxAnon, anon), max(maxFile, file)
		}
		b.ReportMetric(float64(maxKB)/1024, "max-rss-MB")
		b.ReportMetric(float64(maxAnon)/1024, "max-anon-MB")
		b.ReportMetric(float64(maxFile)/1024, "max-file-MB")
	}
	fi, err := os.Stat(shoalBin)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "binary-MB")
}

// statusKB reads one kB field of /proc/PID/status.
func statusKB(b *testing.B, pid int, field string) int {
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(s), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			kb, _ := strconv.Atoi(f[1])
			return kb
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

func statusOf(ml *api.MemberList, name string) string {
	for _, m := range ml.Members {
		if m.Name == name {
			return m.Status
		}
	}
	return ""
}
