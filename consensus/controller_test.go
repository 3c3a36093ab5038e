package consensus

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/pki"
	"github.com/shoalproject/shoal/internal/poll"
)

// hostGroup is an in-process Store over several hosts: each call goes to
// the first live host that holds the shard (what the peer's forwarding does
// over the network).
type hostGroup struct {
	mu    sync.Mutex
	hosts map[string]*Host
}

func (g *hostGroup) pick(shard uint64) (*Host, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, name := range sortedNames(g.hosts) {
		if h := g.hosts[name]; h != nil && h.Has(shard) {
			return h, nil
		}
	}
	return nil, fmt.Errorf("shard %d: %w", shard, errdefs.ErrUnavailable)
}

func sortedNames(m map[string]*Host) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func (g *hostGroup) Propose(ctx context.Context, s uint64, b Batch) (Result, error) {
	h, err := g.pick(s)
	if err != nil {
		return Result{}, err
	}
	return h.Propose(ctx, s, b)
}

func (g *hostGroup) Get(ctx context.Context, s uint64, k Key, lin bool) (Object, error) {
	h, err := g.pick(s)
	if err != nil {
		return Object{}, err
	}
	return h.Get(ctx, s, k, lin)
}

func (g *hostGroup) List(ctx context.Context, s uint64, f Filter, lin bool) (ListResult, error) {
	h, err := g.pick(s)
	if err != nil {
		return ListResult{}, err
	}
	return h.List(ctx, s, f, lin)
}

func (g *hostGroup) Watch(ctx context.Context, s uint64, rv uint64, f Filter) (<-chan Event, error) {
	h, err := g.pick(s)
	if err != nil {
		return nil, err
	}
	return h.Watch(ctx, s, rv, f)
}

// ctlCluster runs peers made of a Host and a Controller, with a gossip view
// the test controls.
type ctlCluster struct {
	t      testing.TB
	ca     *pki.CA
	base   string
	group  *hostGroup
	router Router
	mu     sync.Mutex
	peers  map[string]*PeerInfo
	stops  map[string]context.CancelFunc
	grace  time.Duration
}

func newCtlCluster(t testing.TB, grace time.Duration) *ctlCluster {
	ca, err := pki.NewCA("test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c := &ctlCluster{t: t, ca: ca, base: t.TempDir(), group: &hostGroup{hosts: map[string]*Host{}},
		router: Router{ObjectShards: 2}, peers: map[string]*PeerInfo{}, stops: map[string]context.CancelFunc{}, grace: grace}
	t.Cleanup(func() {
		for name := range c.stops {
			c.kill(name)
		}
	})
	return c
}

func (c *ctlCluster) view() []PeerInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []PeerInfo
	for _, p := range c.peers {
		out = append(out, *p)
	}
	return out
}

func (c *ctlCluster) start(name, zone string, bootstrap bool) {
	c.t.Helper()
	dir := filepath.Join(c.base, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		c.t.Fatal(err)
	}
	caFile, certFile, keyFile := writePKI(c.t, dir, c.ca)
	c.mu.Lock()
	addr := ""
	if p, ok := c.peers[name]; ok {
		addr = p.RaftAddr
	} else {
		addr = fmt.Sprintf("127.0.0.1:%d", freePort(c.t))
	}
	c.mu.Unlock()
	h, err := NewHost(HostConfig{Dir: dir, RaftAddress: addr, CAFile: caFile, CertFile: certFile, KeyFile: keyFile,
		RTT: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		c.t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	ctl := NewController(ControllerConfig{Self: name, Host: h, Store: c.group, Router: c.router, Peers: c.view,
		Placement: PlacementConfig{RepairGrace: c.grace}, Interval: 100 * time.Millisecond, Logger: logger})
	if bootstrap {
		if err := ctl.Bootstrap(context.Background()); err != nil {
			c.t.Fatal(err)
		}
	} else if err := ctl.Restart(); err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.peers[name] = &PeerInfo{Name: name, RaftAddr: addr, Zone: zone, Alive: true}
	c.mu.Unlock()
	c.group.mu.Lock()
	c.group.hosts[name] = h
	c.group.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ctl.Run(ctx); close(done) }()
	c.stops[name] = func() { cancel(); <-done; h.Close() }
}

// kill stops a peer abruptly and tells placement it failed now.
func (c *ctlCluster) kill(name string) {
	if stop, ok := c.stops[name]; ok {
		c.group.mu.Lock()
		c.group.hosts[name] = nil
		c.group.mu.Unlock()
		stop()
		delete(c.stops, name)
	}
	c.mu.Lock()
	if p := c.peers[name]; p != nil {
		p.Alive, p.DownSince = false, time.Now()
	}
	c.mu.Unlock()
}

func (c *ctlCluster) records() []ShardRecord {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l, err := c.group.List(ctx, MetaShard, Filter{Kind: KindShard}, true)
	if err != nil {
		return nil
	}
	var out []ShardRecord
	for _, o := range l.Objects {
		r, _ := DecodeShardRecord(o)
		out = append(out, r)
	}
	return out
}

// settled: every shard has n voting replicas (meta: metaN when non-zero),
// none on a peer in avoid, and raft membership agrees with the record.
func (c *ctlCluster) settled(n int, avoid ...string) bool { return c.settledMeta(n, 0, avoid...) }

func (c *ctlCluster) settledMeta(n, metaN int, avoid ...string) bool {
	recs := c.records()
	if len(recs) != len(c.router.Shards()) {
		return false
	}
	for _, r := range recs {
		want := n
		if r.ID == MetaShard && metaN != 0 {
			want = metaN
		}
		if len(r.Replicas) != want {
			return false
		}
		for _, rr := range r.Replicas {
			if rr.NonVoting {
				return false
			}
			for _, a := range avoid {
				if rr.Peer == a {
					return false
				}
			}
		}
		h, err := c.group.pick(r.ID)
		if err != nil {
			return false
		}
		m, err := h.Membership(context.Background(), r.ID)
		if err != nil || len(m.Voting) != want || len(m.NonVoting) != 0 {
			return false
		}
	}
	return true
}

func (c *ctlCluster) waitSettled(n int, avoid ...string) {
	c.t.Helper()
	if !poll.Until(60*time.Second, 100*time.Millisecond, func() bool { return c.settled(n, avoid...) }) {
		for _, r := range c.records() {
			c.t.Logf("shard %d: %s", r.ID, describe(r))
		}
		c.t.Fatalf("shards did not settle at %d voting replicas (avoiding %v)", n, avoid)
	}
}

func TestReplicasGrowToThreeAndAreRepairedAfterAPeerDies(t *testing.T) {
	c := newCtlCluster(t, time.Second)
	c.start("p1", "z1", true)
	c.waitSettled(1)
	c.start("p2", "z2", false)
	// Two peers: still one replica each.
	c.start("p3", "z3", false)
	c.waitSettled(3)

	ctx := context.Background()
	var acked []string
	for i := range 20 {
		k := Key{"ConfigMap", "default", fmt.Sprintf("c%d", i)}
		if _, err := c.group.Propose(ctx, c.router.ShardFor(k, ""), createBatch(Object{Kind: k.Kind, Namespace: k.Namespace, Name: k.Name})); err != nil {
			t.Fatal(err)
		}
		acked = append(acked, k.Name)
	}
	c.start("p4", "z1", false)
	c.kill("p2")
	c.waitSettled(3, "p2") // rebuilt on p4, p2 removed
	for _, name := range acked {
		k := Key{"ConfigMap", "default", name}
		if _, err := c.group.Get(ctx, c.router.ShardFor(k, ""), k, true); err != nil {
			t.Fatalf("acknowledged %s lost after repair: %v", name, err)
		}
	}
	// A second former replica peer goes: every acknowledged write survives.
	c.kill("p3")
	c.start("p5", "z2", false)
	c.waitSettled(3, "p2", "p3")
	for _, name := range acked {
		k := Key{"ConfigMap", "default", name}
		if _, err := c.group.Get(ctx, c.router.ShardFor(k, ""), k, true); err != nil {
			t.Fatalf("acknowledged %s lost after the second failure: %v", name, err)
		}
	}
}

func TestPeerBackWithinGraceResumesAndAfterRemovalGetsNewReplicas(t *testing.T) {
	c := newCtlCluster(t, 3*time.Second)
	c.start("p1", "z1", true)
	c.start("p2", "z2", false)
	c.start("p3", "z3", false)
	c.waitSettled(3)
	ctx := context.Background()
	k := Key{"ConfigMap", "default", "kept"}
	shard := c.router.ShardFor(k, "")
	if _, err := c.group.Propose(ctx, shard, createBatch(Object{Kind: k.Kind, Namespace: k.Namespace, Name: k.Name})); err != nil {
		t.Fatal(err)
	}
	idsBefore := map[uint64]uint64{}
	for _, r := range c.records() {
		idsBefore[r.ID], _ = r.On("p3")
	}

	// Back within the grace: same replica IDs.
	c.kill("p3")
	c.start("p3", "z3", false)
	c.waitSettled(3)
	for _, r := range c.records() {
		if id, _ := r.On("p3"); id != idsBefore[r.ID] {
			t.Fatalf("shard %d: p3 came back within the grace as replica %d, was %d", r.ID, id, idsBefore[r.ID])
		}
	}

	// Gone past the grace with a spare peer: its replicas move to p4.
	c.start("p4", "z1", false)
	c.kill("p3")
	c.waitSettled(3, "p3")
	// p3 returns: it drops its old data; when it is needed again (p1 goes),
	// it gets new replica IDs and the data.
	c.start("p3", "z3", false)
	c.kill("p1")
	c.waitSettled(3, "p1")
	for _, r := range c.records() {
		id, ok := r.On("p3")
		if !ok {
			continue
		}
		if id == idsBefore[r.ID] {
			t.Fatalf("shard %d: p3 reused removed replica ID %d", r.ID, id)
		}
	}
	c.group.mu.Lock()
	p3 := c.group.hosts["p3"]
	c.group.mu.Unlock()
	if p3.Has(shard) {
		if _, err := p3.Get(ctx, shard, k, true); err != nil {
			t.Fatalf("p3's new replica lacks the data: %v", err)
		}
	}
}

func TestMetaGrowsToFiveReplicasAtSixPeersSpreadOverZones(t *testing.T) {
	c := newCtlCluster(t, time.Second)
	c.start("p1", "z1", true)
	for i, z := range []string{"z2", "z3", "z1", "z2", "z3"} {
		c.start(fmt.Sprintf("p%d", i+2), z, false)
	}
	if !poll.Until(60*time.Second, 100*time.Millisecond, func() bool { return c.settledMeta(3, 5) }) {
		for _, r := range c.records() {
			t.Logf("shard %d: %s", r.ID, describe(r))
		}
		t.Fatal("meta did not settle at 5 replicas with object shards at 3")
	}
	zoneOf := map[string]string{}
	for _, p := range c.view() {
		zoneOf[p.Name] = p.Zone
	}
	for _, r := range c.records() {
		zones := map[string]int{}
		for _, rr := range r.Replicas {
			zones[zoneOf[rr.Peer]]++
		}
		if r.ID != MetaShard && len(zones) != 3 {
			t.Errorf("shard %d: 3 replicas in %d zones, want one per zone: %s", r.ID, len(zones), describe(r))
		}
		if r.ID == MetaShard && len(zones) != 3 {
			t.Errorf("meta: 5 replicas in %d zones, want all 3: %s", len(zones), describe(r))
		}
	}
}

func TestDroppedRemovesOnlyWhatTheRecordNoLongerNames(t *testing.T) {
	rec := ShardRecord{ID: 2, NextReplicaID: 4, Replicas: map[uint64]ReplicaRecord{1: {Peer: "p1"}, 3: {Peer: "p3"}}}
	members := func(voting []uint64, nonVoting ...uint64) Membership {
		m := Membership{Voting: map[uint64]string{}, NonVoting: map[uint64]string{}}
		for _, id := range voting {
			m.Voting[id] = "addr"
		}
		for _, id := range nonVoting {
			m.NonVoting[id] = "addr"
		}
		return m
	}
	for _, tc := range []struct {
		name string
		m    Membership
		want uint64
		ok   bool
	}{
		{"the group matches the record", members([]uint64{1, 3}), 0, false},
		{"a voter the record dropped", members([]uint64{1, 2, 3}), 2, true},
		{"a non-voter the record dropped", members([]uint64{1, 3}, 2), 2, true},
		// Replica 4 was added by a newer record than this one (its next ID
		// is 4): this record is stale, and nothing may be removed.
		{"a member newer than the record", members([]uint64{1, 2, 3}, 4), 0, false},
		{"a member newer than the record's highest ID", members([]uint64{1, 3, 5}), 0, false},
	} {
		got, ok := dropped(rec, tc.m)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: dropped = %d, %v; want %d, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	two := ShardRecord{ID: 2, NextReplicaID: 6, Replicas: map[uint64]ReplicaRecord{1: {}, 5: {}}}
	if got, ok := dropped(two, members([]uint64{1, 4, 5}, 2)); !ok || got != 2 {
		t.Errorf("two dropped: dropped = %d, %v; want the lower, 2", got, ok)
	}
	// A record without a next ID (older maps) counts from its highest.
	old := ShardRecord{ID: 2, Replicas: map[uint64]ReplicaRecord{1: {}, 3: {}}}
	if got, ok := dropped(old, members([]uint64{1, 2, 3})); !ok || got != 2 {
		t.Errorf("a record without nextReplicaID: dropped = %d, %v; want 2, true", got, ok)
	}
	if _, ok := dropped(old, members([]uint64{1, 3, 4})); ok {
		t.Errorf("a record without nextReplicaID removed a member newer than its highest ID")
	}
}
