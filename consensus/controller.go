package consensus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Store is access to any shard: a Host serves the shards it holds; the peer
// wraps it in one that forwards the rest to a peer that holds them.
type Store interface {
	Propose(ctx context.Context, shardID uint64, b Batch) (Result, error)
	Get(ctx context.Context, shardID uint64, k Key, linearizable bool) (Object, error)
	List(ctx context.Context, shardID uint64, f Filter, linearizable bool) (ListResult, error)
	Watch(ctx context.Context, shardID uint64, fromRV uint64, f Filter) (<-chan Event, error)
}

var _ Store = (*Host)(nil)

// ControllerConfig wires a Controller.
type ControllerConfig struct {
	Self   string // this peer's name
	Host   *Host
	Store  Store // routed: reaches the meta shard from any peer
	Router Router
	// Peers is gossip's view, as placement needs it. Must not block.
	Peers     func() []PeerInfo
	Placement PlacementConfig
	// Observe, when set, is told every shard map a round reads (the peer's
	// routing learns where shards live from it). Must not block.
	Observe func([]ShardRecord)
	// Interval between reconcile rounds; default 500 ms.
	Interval time.Duration
	Now      func() time.Time
	Logger   *slog.Logger
}

// Controller keeps one peer's replicas in line with the shard map. Every
// round it: starts and stops this peer's replicas to match the map; as the
// leader of a shard, makes the shard's raft membership match its record
// (adding non-voting replicas, promoting caught-up ones, removing dropped
// ones); reports its own non-voting replicas once caught up; and, as the
// meta leader, plans the next placement step.
type Controller struct {
	cfg ControllerConfig
	log *slog.Logger
	// changes counts shard-map writes and membership changes this
	// controller made; Run goes round again at once while they happen.
	changes int
	// unreadable counts the rounds in a row that could not read the map.
	unreadable int
}

// NewController builds a controller; Run drives it.
func NewController(cfg ControllerConfig) *Controller {
	if cfg.Interval == 0 {
		cfg.Interval = 500 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Controller{cfg: cfg, log: cfg.Logger.With("component", "consensus", "peer", cfg.Self)}
}

// Bootstrap starts a new cluster's shards with this peer as their only
// replica and writes their records to the meta shard.
func (c *Controller) Bootstrap(ctx context.Context) error {
	h := c.cfg.Host
	initial := map[uint64]string{1: h.RaftAddress()}
	for _, s := range c.cfg.Router.Shards() {
		if err := h.StartReplica(s, 1, initial, false, false); err != nil {
			return err
		}
	}
	for _, s := range c.cfg.Router.Shards() {
		rec := ShardRecord{ID: s, Replicas: map[uint64]ReplicaRecord{1: {Peer: c.cfg.Self, Addr: h.RaftAddress()}}, NextReplicaID: 2}
		_, err := h.Propose(ctx, MetaShard, Batch{Commands: []Command{{Op: OpCreate, Object: rec.Object()}}})
		if err != nil && !errors.Is(err, errdefs.ErrAlreadyExists) {
			return fmt.Errorf("bootstrap shard %d record: %w", s, err)
		}
	}
	return nil
}

// Restart starts again every replica whose data this host keeps.
func (c *Controller) Restart() error {
	for shard, replica := range c.cfg.Host.OnDisk() {
		if err := c.cfg.Host.StartReplica(shard, replica, nil, false, false); err != nil {
			return err
		}
		c.log.Info("replica resumed", "shard", shard, "replica", replica)
	}
	return nil
}

// Run reconciles every Interval until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		// A change (a promotion, a record update) usually enables the next
		// step at once: go round again without waiting, a few times, so the
		// window between adding a replacement and removing a dead replica
		// stays a few raft round trips long, not several ticks.
		for range 4 {
			before := c.changes
			c.Step(ctx)
			if c.changes == before || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Records reads the shard map.
func (c *Controller) Records(ctx context.Context) ([]ShardRecord, error) {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	l, err := c.cfg.Store.List(cctx, MetaShard, Filter{Kind: KindShard}, true)
	if err != nil {
		return nil, err
	}
	out := make([]ShardRecord, 0, len(l.Objects))
	for _, o := range l.Objects {
		r, err := DecodeShardRecord(o)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Step runs one reconcile round.
func (c *Controller) Step(ctx context.Context) {
	records, err := c.Records(ctx)
	if err != nil {
		c.unreadable++
		// A round or two without the map is a leader moving; more is a
		// peer cut off from the meta shard, which the operator should see.
		if c.unreadable == 4 || c.unreadable%20 == 0 {
			c.log.Warn("shard map unreadable", "rounds", c.unreadable, "err", err)
		} else {
			c.log.Debug("shard map unreadable this round", "err", err)
		}
		return
	}
	c.unreadable = 0
	if c.cfg.Observe != nil {
		c.cfg.Observe(records)
	}
	for _, rec := range records {
		c.reconcileLocal(ctx, rec)
	}
	for _, rec := range records {
		if c.cfg.Host.IsLeader(rec.ID) {
			c.reconcileMembership(ctx, rec)
		}
		c.reportCaughtUp(ctx, rec)
	}
	c.balanceLeaders(records)
	if c.cfg.Host.IsLeader(MetaShard) {
		for _, next := range Plan(records, c.cfg.Peers(), c.cfg.Now(), c.cfg.Placement) {
			c.log.Info("placement", "shard", next.ID, "replicas", describe(next))
			c.update(ctx, next)
		}
	}
}

func describe(r ShardRecord) string {
	s := ""
	for _, id := range sortedIDs(r) {
		rr := r.Replicas[id]
		if s != "" {
			s += ","
		}
		s += strconv.FormatUint(id, 10) + "@" + rr.Peer
		if rr.NonVoting {
			s += "(non-voting)"
		}
	}
	return s
}

// update writes a record with compare-and-swap on the version it was read at.
func (c *Controller) update(ctx context.Context, r ShardRecord) {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err := c.cfg.Store.Propose(cctx, MetaShard, Batch{Commands: []Command{{Op: OpUpdate, Object: r.Object(), Precondition: r.Version}}})
	if err != nil && !errors.Is(err, errdefs.ErrConflict) {
		c.log.Warn("shard record update failed", "shard", r.ID, "err", err)
	}
	if err == nil {
		c.changes++
	}
}

// reconcileLocal starts this peer's replica of a shard when the map names
// it, and stops it (deleting its data) when the map no longer does or names
// a new replica ID.
func (c *Controller) reconcileLocal(ctx context.Context, rec ShardRecord) {
	h := c.cfg.Host
	want, named := rec.On(c.cfg.Self)
	have, running := h.ReplicaID(rec.ID)
	if running && (!named || have != want) {
		if rec.ID == MetaShard && len(rec.Replicas) == 0 {
			return
		}
		c.log.Info("replica dropped from the shard map; removing its data", "shard", rec.ID, "replica", have)
		if err := h.RemoveReplicaData(ctx, rec.ID, have); err != nil {
			c.log.Warn("remove replica", "shard", rec.ID, "err", err)
			return
		}
		running = false
	}
	if named && !running {
		join := !h.HasData(rec.ID, want)
		if err := h.StartReplica(rec.ID, want, nil, join, rec.Replicas[want].NonVoting && join); err != nil {
			c.log.Warn("start replica", "shard", rec.ID, "replica", want, "err", err)
			return
		}
		c.log.Info("replica started", "shard", rec.ID, "replica", want, "join", join)
	}
}

// reconcileMembership makes a shard's raft membership match its record;
// this host leads the shard. It makes at most one membership change a
// round: each change moves the shard's ConfigChangeID on.
func (c *Controller) reconcileMembership(ctx context.Context, rec ShardRecord) {
	h := c.cfg.Host
	m, err := h.Membership(ctx, rec.ID)
	if err != nil {
		return
	}
	for _, id := range sortedIDs(rec) {
		rr := rec.Replicas[id]
		_, voting := m.Voting[id]
		_, nonVoting := m.NonVoting[id]
		switch {
		case m.Removed[id]:
			// An ID never comes back: the record must stop naming it, and
			// placement then gives that peer (or another) a new one.
			// Without this the shard waits forever for a replica that
			// cannot join. The update is a compare-and-swap on the record,
			// so a stale record changes nothing.
			next := rec.Clone()
			delete(next.Replicas, id)
			c.log.Info("the shard map names a removed replica; dropping it", "shard", rec.ID, "replica", id, "peer", rr.Peer)
			c.update(ctx, next)
			return
		case !voting && !nonVoting && rr.NonVoting:
			c.logChange(h.AddNonVoting(ctx, rec.ID, id, rr.Addr, m.ConfigChangeID), "added non-voting replica", rec.ID, id, rr.Peer)
			return
		case !voting && !nonVoting:
			c.logChange(h.AddVoting(ctx, rec.ID, id, rr.Addr, m.ConfigChangeID), "added voting replica", rec.ID, id, rr.Peer)
			return
		case nonVoting && (!rr.NonVoting || rr.CaughtUp):
			err := h.AddVoting(ctx, rec.ID, id, rr.Addr, m.ConfigChangeID)
			c.logChange(err, "promoted replica", rec.ID, id, rr.Peer)
			if err != nil || !rr.NonVoting {
				return
			}
			fallthrough
		case voting && rr.NonVoting:
			next := rec.Clone()
			next.Replicas[id] = ReplicaRecord{Peer: rr.Peer, Addr: rr.Addr}
			c.update(ctx, next)
			return // the record moved on; next round sees it
		}
	}
	id, ok := dropped(rec, m)
	if !ok {
		return
	}
	if mine, _ := h.ReplicaID(rec.ID); id == mine {
		c.handOver(rec, m)
		return
	}
	c.logChange(h.RemoveReplica(ctx, rec.ID, id, m.ConfigChangeID), "removed replica", rec.ID, id, "")
}

// dropped picks a member of the shard's raft group that its record no
// longer names, to remove. A member whose ID the record has not yet handed
// out was named by a newer version of the record than this round read (a
// leader that has just taken over can act on a map read before the change
// that added it): while the group has such a member, nothing is removed,
// for a removed ID never comes back, and the shard would wait forever for a
// replica that cannot join.
func dropped(rec ShardRecord, m Membership) (uint64, bool) {
	next := max(rec.NextReplicaID, maxReplicaID(rec)+1)
	var out []uint64
	for _, set := range []map[uint64]string{m.Voting, m.NonVoting} {
		for id := range set {
			if id >= next {
				return 0, false
			}
			if _, keep := rec.Replicas[id]; !keep {
				out = append(out, id)
			}
		}
	}
	if len(out) == 0 {
		return 0, false
	}
	return slices.Min(out), true
}

// handOver moves leadership of a shard away from this host's replica, which
// the shard map has dropped, so that the next leader removes it.
func (c *Controller) handOver(rec ShardRecord, m Membership) {
	for _, id := range sortedIDs(rec) {
		if _, ok := m.Voting[id]; ok {
			if err := c.cfg.Host.TransferLeader(rec.ID, id); err == nil {
				c.log.Info("leadership handed over", "shard", rec.ID, "to", id)
			}
			return
		}
	}
}

func (c *Controller) logChange(err error, what string, shard, replica uint64, peer string) {
	if err != nil {
		c.log.Warn("membership change failed", "shard", shard, "replica", replica, "peer", peer, "err", err)
		return
	}
	c.changes++
	c.log.Info(what, "shard", shard, "replica", replica, "peer", peer)
}

// reportCaughtUp marks this peer's non-voting replica caught up once a
// linearizable read succeeds on it: it has applied everything the leader
// had committed when the read began.
func (c *Controller) reportCaughtUp(ctx context.Context, rec ShardRecord) {
	id, ok := rec.On(c.cfg.Self)
	if !ok || !rec.Replicas[id].NonVoting || rec.Replicas[id].CaughtUp {
		return
	}
	if have, running := c.cfg.Host.ReplicaID(rec.ID); !running || have != id {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := c.cfg.Host.read(cctx, rec.ID, indexQuery{}, true); err != nil {
		return
	}
	next := rec.Clone()
	rr := next.Replicas[id]
	rr.CaughtUp = true
	next.Replicas[id] = rr
	c.log.Info("replica caught up", "shard", rec.ID, "replica", id)
	c.update(ctx, next)
}

// balanceLeaders spreads shard leadership over the peers that hold voting
// replicas, so that no one peer does every shard's leader work (and no one
// failure stalls every shard at once). A host that leads more than its fair
// share hands one shard a round to a voting replica on the peer that leads
// the fewest it knows of. Only live peers that are not leaving count: a
// transfer to a dead replica would stall the shard's proposals until it
// timed out.
func (c *Controller) balanceLeaders(records []ShardRecord) {
	h := c.cfg.Host
	usable := map[string]bool{}
	for _, p := range c.cfg.Peers() {
		usable[p.Name] = p.Alive && !p.Leaving && !p.Gone
	}
	leads := map[string]int{}
	peers := map[string]bool{}
	var mine []ShardRecord
	for _, r := range records {
		for _, rr := range r.Replicas {
			if !rr.NonVoting && usable[rr.Peer] {
				peers[rr.Peer] = true
			}
		}
		if !h.Has(r.ID) {
			continue
		}
		id, _, ok := h.Leader(r.ID)
		if !ok {
			continue
		}
		leader := r.Replicas[id].Peer
		leads[leader]++
		if leader == c.cfg.Self {
			mine = append(mine, r)
		}
	}
	if len(peers) < 2 || len(mine) == 0 {
		return
	}
	fair := (len(records) + len(peers) - 1) / len(peers)
	if len(mine) <= fair {
		return
	}
	for _, r := range mine {
		var best uint64
		bestLeads := fair
		for _, id := range sortedIDs(r) {
			rr := r.Replicas[id]
			if rr.NonVoting || rr.Peer == c.cfg.Self || !usable[rr.Peer] {
				continue // never hand leadership to a peer that is down or leaving
			}
			if leads[rr.Peer] < bestLeads {
				best, bestLeads = id, leads[rr.Peer]
			}
		}
		if best != 0 {
			if err := h.TransferLeader(r.ID, best); err == nil {
				c.log.Info("leadership moved to balance load", "shard", r.ID, "to", r.Replicas[best].Peer)
			}
			return
		}
	}
}
