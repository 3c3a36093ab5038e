package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/peer"
	"github.com/shoalproject/shoal/peer/api"
)

// hollowBench starts three peers in this process (raft on loopback, gossip
// in memory, no container runtime), joins --nodes hollow nodes to them,
// applies a Deployment of --pods replicas, and times the pods to bound
// (every binding committed) and to Running on the hollow nodes.
func hollowBench(args []string) error {
	fs := flag.NewFlagSet("hollow", flag.ExitOnError)
	nodes := fs.Int("nodes", 1000, "hollow nodes")
	pods := fs.Int("pods", 10000, "the Deployment's replicas")
	shards := fs.Int("object-shards", 4, "object shards")
	zones := fs.Int("zones", 3, "zones the hollow nodes spread over")
	failover := fs.Duration("pod-failover", 30*time.Second, "the peers' pod failover grace: long, so that a hollow member that a saturated process answers late is not failed over")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	verbose := fs.Bool("v", false, "log the peers' warnings")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the apply-to-Running phase here")
	boundProfile := fs.String("cpuprofile-bound", "", "write a CPU profile of the apply-to-bound phase here (instead of --cpuprofile)")
	listBench := fs.Bool("list", false, "once every pod runs, start a fourth peer that holds no replica and time listing the pods through it: stock kubectl get pods -A, and shoal get pods -A")
	kubectlBin := fs.String("kubectl", "kubectl", "the kubectl binary for --list")
	shoalCLI := fs.String("shoal", "bin/shoal", "the shoal binary for --list")
	_ = fs.Parse(args)

	dir, err := os.MkdirTemp("", "shoal-hollow")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	level := slog.LevelError
	if *verbose {
		level = slog.LevelWarn
	}
	hollowLog := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if os.Getenv("SHOAL_BENCH_DEBUG") != "" { // the three peers' debug log; the hollow nodes' would drown it
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	start := time.Now()

	stats, err := startGossipStats()
	if err != nil {
		return err
	}
	network := gossip.NewMemNetwork()
	var peers []*peer.Peer
	defer func() {
		for _, p := range peers {
			p.Kill()
		}
	}()
	for i := 1; i <= 3; i++ {
		cfg := peer.Config{Name: fmt.Sprintf("p%d", i), DataDir: filepath.Join(dir, fmt.Sprintf("p%d", i)), BindAddr: "127.0.0.1",
			ObjectShards: *shards, GossipNetwork: network, PodFailover: *failover, Logger: log}
		if i > 1 {
			tok, err := os.ReadFile(filepath.Join(dir, "p1", peer.FileJoinToken))
			if err != nil {
				return err
			}
			cfg.Join, cfg.Token = peers[0].APIAddr(), strings.TrimSpace(string(tok))
		}
		p, err := peer.Start(ctx, cfg)
		if err != nil {
			return fmt.Errorf("start %s: %w", cfg.Name, err)
		}
		peers = append(peers, p)
	}
	acfg, err := peers[0].AdminConfig()
	if err != nil {
		return err
	}
	cl, err := api.NewClient(acfg, "")
	if err != nil {
		return err
	}
	if err := poll(ctx, "3 voters per shard", func() bool { return threeVoters(ctx, cl) }); err != nil {
		return err
	}
	fmt.Printf("3 peers up, %d object shards with 3 voters each, in %s\n", *shards, time.Since(start).Round(time.Millisecond))

	t := time.Now()
	fleet, err := peer.StartHollowFleet(ctx, peer.HollowConfig{Via: peers, Nodes: *nodes, Zones: *zones, Logger: hollowLog})
	if err != nil {
		return err
	}
	defer fleet.Stop()
	fmt.Printf("%d hollow nodes registered and joined in %s\n", *nodes, time.Since(t).Round(time.Millisecond))
	t = time.Now()
	if err := poll(ctx, "every peer to see every hollow node alive", func() bool {
		for _, p := range peers {
			alive := 0
			for _, m := range p.Gossip().Members() {
				if m.Status == gossip.StatusAlive {
					alive++
				}
			}
			if alive < *nodes+3 {
				return false
			}
		}
		return true
	}); err != nil {
		return err
	}
	fmt.Printf("every peer sees %d members alive after %s more\n", *nodes+3, time.Since(t).Round(time.Millisecond))

	// Watch every pod change from now, then apply.
	p1 := peers[0]
	_, from, err := consensus.ListShards(ctx, p1.Store(), p1.Router().Shards()[1:], consensus.Filter{Kind: "Pod"}, true)
	if err != nil {
		return err
	}
	events, err := consensus.WatchShards(ctx, p1.Store(), p1.Router().Shards()[1:], from, consensus.Filter{Kind: "Pod"})
	if err != nil {
		return err
	}
	cpu0 := processCPU()
	if *boundProfile != "" {
		*cpuProfile = *boundProfile
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	applied := time.Now()
	if err := cl.Do(ctx, http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", benchDeployment(*pods), nil); err != nil {
		return err
	}
	created, bound, running := map[consensus.Key]bool{}, map[consensus.Key]bool{}, map[consensus.Key]bool{}
	var firstCreated, allCreated time.Duration
	count := func(so consensus.Object) {
		// No decoding: the benchmark shares the cores with what it
		// measures. A bound pod's stored form has a nodeName (empty ones
		// are left out), a running one the phase.
		key := so.Key()
		created[key] = true
		if bytes.Contains(so.Data, []byte(`"nodeName":"`)) {
			bound[key] = true
		}
		if bytes.Contains(so.Data, []byte(`"phase":"Running"`)) {
			running[key] = true
		}
	}
	var allBound, allRunning time.Duration
	var cpuBound float64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for allRunning == 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %s: %d of %d pods bound, %d running: %w", time.Since(applied).Round(time.Millisecond), len(bound), *pods, len(running), errdefs.ErrUnavailable)
		case <-tick.C:
			fmt.Printf("  %5.1fs: %d created, %d bound, %d running; scheduler attempts %s; %s\n", time.Since(applied).Seconds(), len(created), len(bound), len(running), scheduleAttempts(peers), stats.lastSecond())
		case e, ok := <-events:
			if !ok { // a leader moved: resume from the last change seen, or relist
				if events, err = consensus.WatchShards(ctx, p1.Store(), p1.Router().Shards()[1:], from, consensus.Filter{Kind: "Pod"}); err != nil {
					var objs []consensus.Object
					if objs, from, err = consensus.ListShards(ctx, p1.Store(), p1.Router().Shards()[1:], consensus.Filter{Kind: "Pod"}, true); err != nil {
						return fmt.Errorf("the pod watch ended and cannot resume: %w", err)
					}
					for _, so := range objs {
						count(so)
					}
					if events, err = consensus.WatchShards(ctx, p1.Store(), p1.Router().Shards()[1:], from, consensus.Filter{Kind: "Pod"}); err != nil {
						return fmt.Errorf("the pod watch ended and cannot resume: %w", err)
					}
				}
				continue
			}
			from = e.Version
			if e.Event.Type != consensus.Deleted {
				count(e.Event.Object)
			}
		}
		if firstCreated == 0 && len(created) > 0 {
			firstCreated = time.Since(applied)
		}
		if allCreated == 0 && len(created) >= *pods {
			allCreated = time.Since(applied)
		}
		if allBound == 0 && len(bound) >= *pods {
			allBound = time.Since(applied)
			cpuBound = processCPU()
			if *boundProfile != "" {
				pprof.StopCPUProfile()
			}
		}
		if len(running) >= *pods {
			allRunning = time.Since(applied)
		}
	}
	cpu1 := processCPU()
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("created: the first pod %s after the apply, all %d after %s\n", firstCreated.Round(time.Millisecond), *pods, allCreated.Round(time.Millisecond))
	if os.Getenv("SHOAL_BENCH_DEBUG") != "" {
		fmt.Printf("applied at %s, all bound seen at %s\n", applied.UTC().Format("15:04:05.000"), applied.Add(allBound).UTC().Format("15:04:05.000"))
	}
	fmt.Printf("scheduling: %d pods on %d hollow nodes bound %s after the apply: %.0f pods/s (CPU used by this process meanwhile: %.1f s)\n",
		*pods, *nodes, allBound.Round(time.Millisecond), float64(*pods)/allBound.Seconds(), cpuBound-cpu0)
	fmt.Printf("running: all %d Running %s after the apply: %.0f pods/s (CPU used by this process meanwhile: %.1f s; peak RSS %d MB)\n",
		*pods, allRunning.Round(time.Millisecond), float64(*pods)/allRunning.Seconds(), cpu1-cpu0, ru.Maxrss/1024)
	if *listBench {
		return listThroughNonReplica(ctx, dir, peers, network, *shards, log, *pods, *kubectlBin, *shoalCLI)
	}
	return nil
}

// listThroughNonReplica starts a fourth peer, checks that it holds no
// replica, and times kubectl's and shoal's listing of every pod through it
// (three runs each, every run checked to print every pod).
func listThroughNonReplica(ctx context.Context, dir string, peers []*peer.Peer, network *gossip.MemNetwork, shards int, log *slog.Logger, pods int, kubectl, shoal string) error {
	tok, err := os.ReadFile(filepath.Join(dir, "p1", peer.FileJoinToken))
	if err != nil {
		return err
	}
	p4, err := peer.Start(ctx, peer.Config{Name: "p4", DataDir: filepath.Join(dir, "p4"), BindAddr: "127.0.0.1", ObjectShards: shards,
		GossipNetwork: network, Logger: log, Join: peers[0].APIAddr(), Token: strings.TrimSpace(string(tok))})
	if err != nil {
		return fmt.Errorf("start p4: %w", err)
	}
	defer p4.Kill()
	acfg, err := peers[0].AdminConfig()
	if err != nil {
		return err
	}
	acfg.Servers = []string{"https://" + p4.APIAddr()}
	conf := filepath.Join(dir, "p4.conf")
	if err := acfg.Save(conf); err != nil {
		return err
	}
	cl, err := api.NewClient(acfg, "")
	if err != nil {
		return err
	}
	infos, err := cl.Shards(ctx)
	if err != nil {
		return err
	}
	for _, in := range infos {
		for _, r := range in.Replicas {
			if r.Peer == "p4" {
				return fmt.Errorf("p4 holds a replica of shard %d: the list would not go through the network", in.ID)
			}
		}
	}
	for _, tool := range []struct {
		name string
		args []string
	}{
		{"kubectl get pods -A", []string{kubectl, "--kubeconfig", conf, "get", "pods", "-A", "--no-headers"}},
		{"shoal get pods -A", []string{shoal, "get", "pods", "-A", "--config", conf}},
	} {
		for run := 1; run <= 3; run++ {
			t := time.Now()
			cmd := exec.CommandContext(ctx, tool.args[0], tool.args[1:]...)
			out, err := cmd.Output()
			took := time.Since(t)
			if err != nil {
				return fmt.Errorf("%s: %v", tool.name, err)
			}
			lines := bytes.Count(out, []byte("\n"))
			if tool.name != "kubectl get pods -A" {
				lines-- // the header
			}
			if lines < pods {
				return fmt.Errorf("%s printed %d pods, want %d", tool.name, lines, pods)
			}
			fmt.Printf("list: %s through a peer with no replica: %d pods in %s\n", tool.name, lines, took.Round(time.Millisecond))
		}
	}
	return nil
}

func benchDeployment(replicas int) map[string]any {
	return map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "bench"},
		"spec": map[string]any{"replicas": replicas, "selector": map[string]any{"matchLabels": map[string]any{"app": "bench"}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "bench"}},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "app", "image": "shoal.local/bench:v1",
					"resources": map[string]any{"requests": map[string]any{"cpu": "10m", "memory": "16Mi"}}}}}}}}
}

// threeVoters says whether every shard has a leader and three voters.
func threeVoters(ctx context.Context, cl *api.Client) bool {
	infos, err := cl.Shards(ctx)
	if err != nil || len(infos) == 0 {
		return false
	}
	for _, in := range infos {
		voters := 0
		for _, r := range in.Replicas {
			if !r.NonVoting {
				voters++
			}
		}
		if in.Leader == "" || voters != 3 {
			return false
		}
	}
	return true
}

// poll checks cond every 200 ms until it holds or ctx ends.
func poll(ctx context.Context, what string, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// scheduleAttempts sums the peers' shoal_scheduler_schedule_attempts_total
// by result, as "result=N ...".
func scheduleAttempts(peers []*peer.Peer) string {
	sums := map[string]float64{}
	for _, p := range peers {
		mfs, err := p.Metrics().Gather()
		if err != nil {
			continue
		}
		for _, mf := range mfs {
			if mf.GetName() != "shoal_scheduler_schedule_attempts_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					sums[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	var parts []string
	for _, r := range []string{"scheduled", "unschedulable", "conflict", "error"} {
		parts = append(parts, fmt.Sprintf("%s=%.0f", r, sums[r]))
	}
	return strings.Join(parts, " ")
}
