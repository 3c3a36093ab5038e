package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/nodeagent"
	"github.com/shoalproject/shoal/workload/runtime/fake"
)

// Hollow nodes, as Kubernetes' kubemark has: for scale tests and
// benchmarks, many nodes in one process, each a gossip member (on the
// cluster's in-memory gossip network) with a Node object and a node agent
// that runs its pods in the fake runtime. A hollow node has no raft
// transport (placement never gives it a replica) and no API: it reads and
// writes the cluster through a real peer of the same process, as a kubelet
// goes through the API server. Its pods come from one pod cache that the
// fleet keeps for all of its nodes (a kubelet's watch with a field
// selector, in effect), so a thousand nodes cost one watch, not a thousand.

// HollowConfig configures a fleet of hollow nodes.
type HollowConfig struct {
	// Via are running peers of this process; node i goes through
	// Via[i%len(Via)]. Their gossip must be on an in-memory network.
	Via []*Peer
	// Nodes is how many hollow nodes to start.
	Nodes int
	// Prefix names them: Prefix0, Prefix1, ...; default "hollow-".
	Prefix string
	// MilliCPU, Memory (bytes) and Pods are each node's capacity;
	// defaults 4000, 16 GiB and 110.
	MilliCPU, Memory, Pods int64
	// Capacity is what else each node offers (extended resources,
	// ephemeral-storage, huge pages); default nothing.
	Capacity workload.ResourceList
	// Zones spreads the nodes over this many zones (zone-0, ...); default 1.
	Zones int
	// SyncPeriod is each node agent's resync; default 5 s.
	SyncPeriod time.Duration
	Logger     *slog.Logger
}

// HollowFleet is a running set of hollow nodes.
type HollowFleet struct {
	cfg    HollowConfig
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup

	nodes  []*hollowNode
	byName map[string]*hollowNode

	mu    sync.Mutex
	bound map[string]map[consensus.Key]*workload.Pod // node -> pod -> pod, decoded once, never modified
	where map[consensus.Key]string                   // pod -> node it is bound to
}

type hollowNode struct {
	name    string
	zone    string
	via     *Peer
	cidr    string
	runtime *fake.Runtime
	agent   *nodeagent.Agent
	gossip  *gossip.Membership
}

// StartHollowFleet registers cfg.Nodes Node objects, starts their gossip
// members and node agents, and returns once every member has joined.
func StartHollowFleet(ctx context.Context, cfg HollowConfig) (*HollowFleet, error) {
	if len(cfg.Via) == 0 || cfg.Nodes <= 0 {
		return nil, fmt.Errorf("hollow fleet: Via and Nodes are required: %w", errdefs.ErrInvalid)
	}
	for _, p := range cfg.Via {
		if p.cfg.GossipNetwork == nil {
			return nil, fmt.Errorf("hollow fleet: peer %s gossips over the network; hollow nodes need an in-memory gossip network: %w", p.cfg.Name, errdefs.ErrInvalid)
		}
	}
	if err := validateCapacity(cfg.Capacity); err != nil {
		return nil, fmt.Errorf("hollow fleet: %w", err)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "hollow-"
	}
	if cfg.MilliCPU == 0 {
		cfg.MilliCPU = 4000
	}
	if cfg.Memory == 0 {
		cfg.Memory = 16 << 30
	}
	if cfg.Pods == 0 {
		cfg.Pods = maxPodsPerNode
	}
	if cfg.Zones <= 0 {
		cfg.Zones = 1
	}
	if cfg.SyncPeriod == 0 {
		cfg.SyncPeriod = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	runCtx, cancel := context.WithCancel(context.Background())
	f := &HollowFleet{cfg: cfg, log: cfg.Logger.With("component", "hollow"), cancel: cancel,
		byName: map[string]*hollowNode{}, bound: map[string]map[consensus.Key]*workload.Pod{}, where: map[consensus.Key]string{}}
	if err := f.register(ctx); err != nil {
		cancel()
		return nil, err
	}
	for _, n := range f.nodes {
		if err := f.startAgent(runCtx, n); err != nil {
			f.Stop()
			return nil, err
		}
	}
	f.wg.Add(1)
	go func() { defer f.wg.Done(); f.watchPods(runCtx) }()
	if err := f.joinGossip(ctx); err != nil {
		f.Stop()
		return nil, err
	}
	return f, nil
}

// register creates the fleet's Node objects and pod CIDR claims in the
// meta shard, 50 nodes to a batch.
func (f *HollowFleet) register(ctx context.Context) error {
	via := f.cfg.Via[0]
	cluster, err := netip.ParsePrefix(via.cfg.ClusterCIDR)
	if err != nil {
		return fmt.Errorf("cluster CIDR %q: %v: %w", via.cfg.ClusterCIDR, err, errdefs.ErrInvalid)
	}
	used, err := via.usedPodCIDRs(ctx)
	if err != nil {
		return err
	}
	const perBatch = 50
	var cmds []consensus.Command
	flush := func() error {
		if len(cmds) == 0 {
			return nil
		}
		_, err := via.store.Propose(ctx, consensus.MetaShard, consensus.Batch{Commands: cmds})
		cmds = nil
		return err
	}
	for i := range f.cfg.Nodes {
		cidr, err := nextPodCIDR(cluster, used)
		if err != nil {
			return err
		}
		used[cidr] = true
		n := &hollowNode{name: f.cfg.Prefix + strconv.Itoa(i), zone: "zone-" + strconv.Itoa(i%f.cfg.Zones), via: f.cfg.Via[i%len(f.cfg.Via)], cidr: cidr}
		node := makeNode(nodeFacts{
			name: n.name, addr: "127.0.0.1", region: "hollow", zone: n.zone,
			labels:   map[string]string{"shoal.dev/hollow": "true"},
			milliCPU: f.cfg.MilliCPU, memory: f.cfg.Memory, pods: f.cfg.Pods, extra: f.cfg.Capacity,
			ready: workload.NodeCondition{Type: workload.NodeReady, Status: workload.ConditionTrue, Reason: "ShoalReady",
				Message: "hollow node (fake runtime)"},
		}, cidr, via.cfg.Now())
		nso, err := stored(node)
		if err != nil {
			return err
		}
		cmds = append(cmds,
			consensus.Command{Op: consensus.OpCreate, Object: consensus.Object{Kind: "ClusterSetting", Name: claimName(cidr), Data: []byte(cidr)}},
			consensus.Command{Op: consensus.OpCreate, Object: nso})
		f.nodes = append(f.nodes, n)
		f.byName[n.name] = n
		if len(cmds) >= 2*perBatch {
			if err := flush(); err != nil {
				return fmt.Errorf("register hollow nodes: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("register hollow nodes: %w", err)
	}
	return nil
}

func (f *HollowFleet) startAgent(ctx context.Context, n *hollowNode) error {
	rt, err := fake.New(fake.Config{PodCIDR: n.cidr, Now: n.via.cfg.Now})
	if err != nil {
		return err
	}
	ps := podStore{p: n.via, node: n.name}
	agent, err := nodeagent.New(nodeagent.Config{
		Node: n.name, HostIP: "127.0.0.1", Runtime: rt,
		Pods: hollowPods{f: f, podStore: ps}, Events: ps, Config: ps, Services: ps,
		Now: n.via.cfg.Now, SyncPeriod: f.cfg.SyncPeriod, Logger: f.log,
	})
	if err != nil {
		return err
	}
	n.runtime, n.agent = rt, agent
	f.wg.Add(1)
	go func() { defer f.wg.Done(); _ = agent.Run(ctx) }()
	return nil
}

// joinGossip starts each node's gossip member and joins it through the
// peers, 8 at a time; each join is tried 5 times (under a join storm a busy
// seed drops connections). Hollow members gossip quietly
// (gossip.ProfileQuiet): the real peers spread the news of their joins.
func (f *HollowFleet) joinGossip(ctx context.Context) error {
	sem := make(chan struct{}, 8)
	errs := make(chan error, len(f.nodes))
	var wg sync.WaitGroup
	for _, n := range f.nodes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			via := n.via
			m, err := gossip.Start(ctx, gossip.Config{
				Name:    n.name,
				Tags:    gossip.Tags{Region: "hollow", Zone: n.zone, Version: Version},
				Keyring: via.st.GossipKeyring,
				// A thousand members in one process at full gossip
				// strength would spend the machine on each other's news.
				Profile: gossip.ProfileQuiet,
				// Only the real peers (those with a raft transport):
				// hollow nodes stand in for machines that would each
				// hold the whole view, and a thousand views in one
				// process kept the fleet busy relaying each other's joins
				// for minutes (7,000 accepted alive messages a second at
				// the apply). The peers still track and probe every node.
				Track:   func(_ string, t gossip.Tags) bool { return t.Raft != "" },
				Network: via.cfg.GossipNetwork,
				Logger:  f.log,
				Now:     via.cfg.Now,
			})
			if err != nil {
				errs <- fmt.Errorf("hollow node %s: gossip: %w", n.name, err)
				return
			}
			f.mu.Lock()
			n.gossip = m
			f.mu.Unlock()
			// Through every peer: each then knows it at once, where news
			// from one peer to another would mostly pass through quiet
			// hollow members.
			var seeds []string
			for _, p := range f.cfg.Via {
				seeds = append(seeds, p.gossip.LocalAddr())
			}
			for attempt := 1; ; attempt++ {
				_, err := m.Join(ctx, seeds)
				if err == nil {
					break
				}
				if attempt == 5 || !sleepCtx(ctx, time.Duration(attempt)*200*time.Millisecond) {
					errs <- fmt.Errorf("hollow node %s: join: %w", n.name, err)
					return
				}
			}

		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

func collect(errs <-chan error) []error {
	var out []error
	for err := range errs {
		out = append(out, err)
	}
	return out
}

// watchPods keeps the fleet's pod cache: every pod bound to one of its
// nodes, from a list and then a watch through the first peer; a change
// wakes the node agent whose pods changed.
func (f *HollowFleet) watchPods(ctx context.Context) {
	via := f.cfg.Via[0]
	info, err := workload.LookupKind("Pod")
	if err != nil {
		return
	}
	shards := via.shardsFor(info)
	listed := false
	var from consensus.Version
	empty := 0 // watches in a row that ended with no event
	for ctx.Err() == nil {
		if !listed {
			objs, v, err := consensus.ListShards(ctx, via.store, shards, consensus.Filter{Kind: "Pod"}, true)
			if err != nil {
				if !sleepCtx(ctx, time.Second) {
					return
				}
				continue
			}
			f.reset(objs)
			listed, from = true, v
		}
		events, err := consensus.WatchShards(ctx, via.store, shards, from, consensus.Filter{Kind: "Pod"})
		if err != nil {
			listed = false // too old (410 Gone), or the store is busy: relist
			if !sleepCtx(ctx, time.Second) {
				return
			}
			continue
		}
		got := false
		for e := range events {
			from, got = e.Version, true
			f.apply(e.Event.Object, e.Event.Type == consensus.Deleted)
		}
		// The watch ended (a peer moved, or it fell behind): resume from
		// the last change seen. One that keeps ending at once with nothing
		// (an event its reader cannot take, say) is not retried at once
		// for ever: wait, and after a few, relist past it.
		if got {
			empty = 0
			continue
		}
		if empty++; empty >= 3 {
			listed, empty = false, 0
		}
		if !sleepCtx(ctx, time.Second) {
			return
		}
	}
}

// reset replaces the cache with a list's pods and wakes every agent.
func (f *HollowFleet) reset(objs []consensus.Object) {
	f.mu.Lock()
	f.bound = map[string]map[consensus.Key]*workload.Pod{}
	f.where = map[consensus.Key]string{}
	f.mu.Unlock()
	for _, so := range objs {
		f.apply(so, false)
	}
	for _, n := range f.nodes {
		n.agent.Notify()
	}
}

// apply records one pod's new state and wakes the agents it concerns. A
// pod that is not bound and was not before (a new one) is passed over
// without decoding: the scheduler's pods are not a kubelet's business, and
// the fleet shares its cores with the peers it loads.
func (f *HollowFleet) apply(so consensus.Object, deleted bool) {
	key := so.Key()
	f.mu.Lock()
	old := f.where[key]
	f.mu.Unlock()
	if old == "" && (deleted || !bytes.Contains(so.Data, []byte(`"nodeName":`))) {
		return
	}
	pod, err := decodePod(so)
	if err != nil {
		return
	}
	f.mu.Lock()
	if old != "" {
		delete(f.bound[old], key)
		delete(f.where, key)
	}
	node := pod.Spec.NodeName
	if _, ours := f.byName[node]; !deleted && ours {
		if f.bound[node] == nil {
			f.bound[node] = map[consensus.Key]*workload.Pod{}
		}
		f.bound[node][key] = &pod
		f.where[key] = node
	} else {
		node = ""
	}
	f.mu.Unlock()
	for _, name := range []string{old, node} {
		if n := f.byName[name]; n != nil {
			n.agent.Notify()
		}
	}
}

// Stop stops every hollow node: gossip shuts down without a leave, as a
// machine that goes away would; pods stay in the store.
func (f *HollowFleet) Stop() {
	f.cancel()
	f.mu.Lock()
	var members []*gossip.Membership
	for _, n := range f.nodes {
		if n.gossip != nil {
			members = append(members, n.gossip)
		}
	}
	f.mu.Unlock()
	for _, m := range members {
		_ = m.Shutdown()
	}
	f.wg.Wait()
}

// Nodes names the fleet's nodes.
func (f *HollowFleet) Nodes() []string {
	out := make([]string, len(f.nodes))
	for i, n := range f.nodes {
		out[i] = n.name
	}
	return out
}

// RunningContainers counts the containers running in every hollow node's
// fake runtime.
func (f *HollowFleet) RunningContainers(ctx context.Context) int {
	total := 0
	for _, n := range f.nodes {
		sbs, err := n.runtime.ListSandboxes(ctx)
		if err != nil {
			continue
		}
		total += len(sbs)
	}
	return total
}

// hollowPods is a hollow node's window on its pods: reads from the fleet's
// cache, writes through its peer.
type hollowPods struct {
	f *HollowFleet
	podStore
}

// Bound hands out copies that share their nested parts with the cache:
// the node agent never modifies a pod it is given (it copies one to write
// its status), and decoding every pod on every wake was a sixth of the
// benchmark's CPU.
func (h hollowPods) Bound(_ context.Context, node string) ([]workload.Pod, error) {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	out := make([]workload.Pod, 0, len(h.f.bound[node]))
	for _, pod := range h.f.bound[node] {
		out = append(out, *pod)
	}
	return out, nil
}
