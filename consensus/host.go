package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lni/dragonboat/v4"
	"github.com/lni/dragonboat/v4/config"
	dlog "github.com/lni/dragonboat/v4/logger"
	"github.com/lni/dragonboat/v4/raftio"
	sm "github.com/lni/dragonboat/v4/statemachine"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// HostConfig configures the one raft host of a peer.
type HostConfig struct {
	// Dir holds the raft log (LogDB) and snapshots.
	Dir string
	// RaftAddress is the fixed host:port other hosts reach this one at; it
	// never changes for a peer (dragonboat's node registry stays off).
	RaftAddress string
	// ListenAddress is the host:port to listen on; default RaftAddress.
	ListenAddress string
	// CAFile, CertFile and KeyFile turn on mutual TLS between hosts, with
	// the cluster CA and the peer's certificate. All three or none.
	CAFile, CertFile, KeyFile string
	// RTT is the round trip time between hosts that raft plans around;
	// elections take ElectionRTT of them. Default 20 ms.
	RTT time.Duration
	// ElectionRTT and HeartbeatRTT are in RTTs; defaults 10 and 1.
	ElectionRTT, HeartbeatRTT uint64
	// SnapshotEntries: a replica snapshots every this many entries (and
	// compacts its log); default 10000.
	SnapshotEntries uint64
	// HistoryLimit is how many recent changes a replica keeps for watches;
	// older starting points get ErrGone. Default 10000.
	HistoryLimit int
	Logger       *slog.Logger
}

// Host runs this peer's replicas of any number of shards on one dragonboat
// NodeHost. Safe for concurrent use.
type Host struct {
	cfg HostConfig
	nh  *dragonboat.NodeHost
	log *slog.Logger

	mu         sync.Mutex
	replicas   map[uint64]*replicaSM // by shard
	replicaIDs map[uint64]uint64     // this host's replica ID, by shard
	proposers  map[uint64]*proposer  // group commit, by shard; kept until Close
	stop       chan struct{}         // closed by Close
}

// NewHost starts the NodeHost. Its LogDB is sized small (one LogDB shard,
// 1 MiB write buffers): dragonboat's default reserves gigabytes.
func NewHost(cfg HostConfig) (*Host, error) {
	if cfg.Dir == "" || cfg.RaftAddress == "" {
		return nil, fmt.Errorf("raft host: Dir and RaftAddress are required: %w", errdefs.ErrInvalid)
	}
	tls := cfg.CAFile != "" || cfg.CertFile != "" || cfg.KeyFile != ""
	if tls && (cfg.CAFile == "" || cfg.CertFile == "" || cfg.KeyFile == "") {
		return nil, fmt.Errorf("raft host: CAFile, CertFile and KeyFile go together: %w", errdefs.ErrInvalid)
	}
	if cfg.RTT == 0 {
		cfg.RTT = 20 * time.Millisecond
	}
	if cfg.ElectionRTT == 0 {
		cfg.ElectionRTT = 10
	}
	if cfg.HeartbeatRTT == 0 {
		cfg.HeartbeatRTT = 1
	}
	if cfg.SnapshotEntries == 0 {
		cfg.SnapshotEntries = 10000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	quietDragonboat()
	log := cfg.Logger.With("component", "consensus")
	nhc := config.NodeHostConfig{
		RaftEventListener: leaderLog{log},
		NodeHostDir:       filepath.Join(cfg.Dir, "nodehost"),
		WALDir:            filepath.Join(cfg.Dir, "wal"),
		RTTMillisecond:    uint64(cfg.RTT / time.Millisecond),
		RaftAddress:       cfg.RaftAddress,
		ListenAddress:     cfg.ListenAddress,
		MutualTLS:         tls,
		CAFile:            cfg.CAFile,
		CertFile:          cfg.CertFile,
		KeyFile:           cfg.KeyFile,
		Expert: config.ExpertConfig{
			LogDB:  smallLogDB(),
			Engine: smallEngine(),
		},
	}
	nh, err := dragonboat.NewNodeHost(nhc)
	if err != nil {
		return nil, fmt.Errorf("raft host on %s: %v: %w", cfg.RaftAddress, err, errdefs.ErrUnavailable)
	}
	return &Host{cfg: cfg, nh: nh, log: log, replicas: map[uint64]*replicaSM{}, replicaIDs: map[uint64]uint64{},
		proposers: map[uint64]*proposer{}, stop: make(chan struct{})}, nil
}

// leaderLog logs, at debug level, each change of a shard's leader that
// this host sees: elections under load show there, where dragonboat's own
// logs are silenced. Dragonboat calls it from one goroutine of its own,
// through an unbounded queue, so a slow log cannot stall raft.
type leaderLog struct{ log *slog.Logger }

var _ raftio.IRaftEventListener = leaderLog{}

func (l leaderLog) LeaderUpdated(info raftio.LeaderInfo) {
	l.log.Debug("shard leader", "shard", info.ShardID, "leader", info.LeaderID, "term", info.Term, "replica", info.ReplicaID)
}

// smallLogDB is one LogDB shard with small write buffers: a few MB instead
// of dragonboat's default gigabytes. Measured in the package benchmarks.
func smallLogDB() config.LogDBConfig {
	c := config.GetTinyMemLogDBConfig()
	c.Shards = 1
	c.KVWriteBufferSize = 8 << 20
	c.KVMaxWriteBufferNumber = 3
	c.KVMaxBackgroundCompactions = 1
	c.KVMaxBackgroundFlushes = 1
	c.KVKeepLogFileNum = 4
	c.KVTargetFileSizeBase = 4 << 20
	c.KVMaxBytesForLevelBase = 64 << 20
	c.SaveBufferSize = 16 << 10
	c.MaxSaveBufferSize = 4 << 20
	return c
}

// smallEngine runs dragonboat's pipeline on a few goroutines: this machine
// class has 2 cores, and a peer holds a handful of shards.
func smallEngine() config.EngineConfig {
	return config.EngineConfig{ExecShards: 4, CommitShards: 4, ApplyShards: 4, SnapshotShards: 2, CloseShards: 2}
}

var quietOnce sync.Once

// quietDragonboat silences dragonboat's own loggers but for critical
// errors: what matters surfaces as errors from Host's methods.
func quietDragonboat() {
	quietOnce.Do(func() {
		for _, name := range []string{"dragonboat", "raft", "rsm", "transport", "logdb", "raftpb", "config", "settings", "grpc", "tan", "registry"} {
			dlog.GetLogger(name).SetLevel(dlog.CRITICAL)
		}
	})
}

// RaftAddress is this host's fixed raft address.
func (h *Host) RaftAddress() string { return h.cfg.RaftAddress }

// joinedFile remembers, per replica, whether it joined its shard as a
// non-voting replica: raft must restart it in that role and replay its own
// promotion from the log.
const joinedFile = "joined-non-voting.json"

func (h *Host) joinedNonVoting() map[string]bool {
	out := map[string]bool{}
	b, err := os.ReadFile(filepath.Join(h.cfg.Dir, joinedFile))
	if err == nil {
		_ = json.Unmarshal(b, &out)
	}
	return out
}

func replicaKey(shardID, replicaID uint64) string { return fmt.Sprintf("%d/%d", shardID, replicaID) }

func (h *Host) rememberJoined(shardID, replicaID uint64) error {
	m := h.joinedNonVoting()
	m[replicaKey(shardID, replicaID)] = true
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := filepath.Join(h.cfg.Dir, joinedFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(h.cfg.Dir, joinedFile))
}

// StartReplica starts this host's replica of a shard. initial maps replica
// IDs to raft addresses for a new shard; join starts a replica that was
// added to a running shard (initial is then empty); a restarted replica
// passes neither and recovers from its log.
func (h *Host) StartReplica(shardID, replicaID uint64, initial map[uint64]string, join, nonVoting bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.replicas[shardID]; ok {
		return nil
	}
	if join && nonVoting {
		if err := h.rememberJoined(shardID, replicaID); err != nil {
			return err
		}
	}
	if !join && len(initial) == 0 && h.joinedNonVoting()[replicaKey(shardID, replicaID)] {
		nonVoting = true // a restart: raft replays the promotion from the log
	}
	members := map[uint64]dragonboat.Target{}
	for id, addr := range initial {
		members[id] = addr
	}
	rc := config.Config{
		ReplicaID:           replicaID,
		ShardID:             shardID,
		CheckQuorum:         true,
		PreVote:             true,
		ElectionRTT:         h.cfg.ElectionRTT,
		HeartbeatRTT:        h.cfg.HeartbeatRTT,
		SnapshotEntries:     h.cfg.SnapshotEntries,
		CompactionOverhead:  h.cfg.SnapshotEntries / 2,
		OrderedConfigChange: true,
		IsNonVoting:         nonVoting,
		MaxInMemLogSize:     16 << 20,
	}
	var created *replicaSM
	create := func(shardID, replicaID uint64) sm.IStateMachine {
		created = newReplicaSM(shardID, h.cfg.HistoryLimit)
		return created
	}
	if err := h.nh.StartReplica(members, join, create, rc); err != nil {
		return fmt.Errorf("start replica %d of shard %d: %v: %w", replicaID, shardID, err, errdefs.ErrUnavailable)
	}
	h.replicas[shardID] = created
	h.replicaIDs[shardID] = replicaID
	return nil
}

// ReplicaID is this host's replica ID in a shard it runs.
func (h *Host) ReplicaID(shardID uint64) (uint64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id, ok := h.replicaIDs[shardID]
	return id, ok
}

// IsLeader says whether this host's replica leads the shard.
func (h *Host) IsLeader(shardID uint64) bool {
	mine, ok := h.ReplicaID(shardID)
	if !ok {
		return false
	}
	id, _, valid := h.Leader(shardID)
	return valid && id == mine
}

// OnDisk lists the replicas whose raft data this host keeps, by shard:
// what a restarted peer starts again.
func (h *Host) OnDisk() map[uint64]uint64 {
	out := map[uint64]uint64{}
	for _, ni := range h.nh.GetNodeHostInfo(dragonboat.NodeHostInfoOption{SkipLogInfo: false}).LogInfo {
		out[ni.ShardID] = ni.ReplicaID
	}
	return out
}

// HasData says whether this host keeps raft data for a replica.
func (h *Host) HasData(shardID, replicaID uint64) bool { return h.nh.HasNodeInfo(shardID, replicaID) }

// RemoveReplicaData stops a replica and deletes its data: for a replica the
// shard has removed, whose ID will never come back.
func (h *Host) RemoveReplicaData(ctx context.Context, shardID, replicaID uint64) error {
	if err := h.StopReplica(shardID); err != nil {
		return err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if err := h.nh.SyncRemoveData(ctx, shardID, replicaID); err != nil && !errors.Is(err, dragonboat.ErrShardNotStopped) {
		return fmt.Errorf("remove data of replica %d of shard %d: %w", replicaID, shardID, raftError(err))
	}
	return nil
}

// Membership is a shard's raft membership as this host's replica knows it.
type Membership struct {
	// ConfigChangeID orders membership changes: a change names the one it
	// follows, and a stale one is rejected.
	ConfigChangeID uint64
	Voting         map[uint64]string
	NonVoting      map[uint64]string
	Removed        map[uint64]bool
}

// Membership reads a shard's membership (linearizably).
func (h *Host) Membership(ctx context.Context, shardID uint64) (Membership, error) {
	var m *dragonboat.Membership
	err := h.readIndex(ctx, func(ctx context.Context) (err error) {
		m, err = h.nh.SyncGetShardMembership(ctx, shardID)
		return err
	})
	if err != nil {
		return Membership{}, fmt.Errorf("shard %d: membership: %w", shardID, raftError(err))
	}
	out := Membership{ConfigChangeID: m.ConfigChangeID, Voting: m.Nodes, NonVoting: m.NonVotings, Removed: map[uint64]bool{}}
	for id := range m.Removed {
		out.Removed[id] = true
	}
	return out, nil
}

// AddNonVoting, AddVoting (which also promotes a non-voting replica),
// RemoveReplica and TransferLeader change a shard's membership; call them
// on the shard's leader.
// ccid is the Membership's ConfigChangeID the change follows.
func (h *Host) AddNonVoting(ctx context.Context, shardID, replicaID uint64, addr string, ccid uint64) error {
	return h.change(ctx, shardID, "add non-voting", func(ctx context.Context) error {
		return h.nh.SyncRequestAddNonVoting(ctx, shardID, replicaID, addr, ccid)
	})
}

// AddVoting adds a voting replica or promotes a non-voting one.
func (h *Host) AddVoting(ctx context.Context, shardID, replicaID uint64, addr string, ccid uint64) error {
	return h.change(ctx, shardID, "add voting", func(ctx context.Context) error {
		return h.nh.SyncRequestAddReplica(ctx, shardID, replicaID, addr, ccid)
	})
}

// RemoveReplica deletes a replica from a shard's membership for good.
func (h *Host) RemoveReplica(ctx context.Context, shardID, replicaID uint64, ccid uint64) error {
	return h.change(ctx, shardID, "remove", func(ctx context.Context) error {
		return h.nh.SyncRequestDeleteReplica(ctx, shardID, replicaID, ccid)
	})
}

// TransferLeader asks the shard's leader to hand over to another replica.
func (h *Host) TransferLeader(shardID, to uint64) error {
	return raftError(h.nh.RequestLeaderTransfer(shardID, to))
}

func (h *Host) change(ctx context.Context, shardID uint64, what string, fn func(context.Context) error) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if err := fn(ctx); err != nil {
		return fmt.Errorf("shard %d: %s: %w", shardID, what, raftError(err))
	}
	return nil
}

// StopReplica stops this host's replica of a shard; its data stays.
func (h *Host) StopReplica(shardID uint64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.replicas[shardID]; !ok {
		return nil
	}
	delete(h.replicas, shardID)
	delete(h.replicaIDs, shardID)
	if err := h.nh.StopShard(shardID); err != nil && !errors.Is(err, dragonboat.ErrShardNotFound) {
		return err
	}
	return nil
}

// Has says whether this host runs a replica of the shard.
func (h *Host) Has(shardID uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.replicas[shardID]
	return ok
}

func (h *Host) replica(shardID uint64) (*replicaSM, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.replicas[shardID]
	if !ok {
		return nil, fmt.Errorf("shard %d: no replica on this peer: %w", shardID, errdefs.ErrUnavailable)
	}
	return r, nil
}

// Propose commits a batch to a shard and returns what it did. A batch that
// the state refused (conflict, not found, ...) comes back as the error.
// Concurrent proposals to one shard share raft entries (group commit, see
// proposer.go); each batch still succeeds or fails alone. The result's
// objects are rebuilt from b (formatResultV4), so b must not change once
// proposed, not even after ctx ends: the entry may still commit.
func (h *Host) Propose(ctx context.Context, shardID uint64, b Batch) (Result, error) {
	if _, err := h.replica(shardID); err != nil {
		return Result{}, err
	}
	cmd, err := EncodeBatch(b)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	return h.proposer(shardID).propose(ctx, b, cmd)
}

// ProposeAsync is Propose for a caller that already holds the batch
// encoded (cmd, exactly EncodeBatch(b); nil to encode b here) and takes
// its outcome as a callback instead of waiting: done is called once, from
// the proposer's goroutines, and must not block. ctx and, when positive,
// timeout bound the proposal as Propose's ctx does; a stream of proposals
// shares one ctx this way instead of a context and a goroutine each.
func (h *Host) ProposeAsync(ctx context.Context, shardID uint64, b Batch, cmd []byte, timeout time.Duration, done func(Result, error)) {
	if _, err := h.replica(shardID); err != nil {
		done(Result{}, err)
		return
	}
	if cmd == nil {
		var err error
		if cmd, err = EncodeBatch(b); err != nil {
			done(Result{}, err)
			return
		}
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	h.proposer(shardID).proposeAsync(ctx, b, cmd, deadline, done)
}

// ProposeStats counts the raft entries this host proposed and the batches
// they carried, over all shards: their ratio is how well group commit packs.
func (h *Host) ProposeStats() (entries, batches uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.proposers {
		entries += p.entries.Load()
		batches += p.batches.Load()
	}
	return entries, batches
}

// ShardProposeStats is ProposeStats for one shard.
func (h *Host) ShardProposeStats(shardID uint64) (entries, batches uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.proposers[shardID]; ok {
		return p.entries.Load(), p.batches.Load()
	}
	return 0, 0
}

func (h *Host) proposer(shardID uint64) *proposer {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.proposers[shardID]
	if !ok {
		p = newProposer(h.nh, shardID, h.stop, h.readAttempt())
		h.proposers[shardID] = p
	}
	return p
}

// Read answers a query from this host's replica: linearizable (through a
// ReadIndex round with the leader) or local (whatever this replica has
// applied).
func (h *Host) read(ctx context.Context, shardID uint64, q any, linearizable bool) (any, error) {
	if _, err := h.replica(shardID); err != nil {
		return nil, err
	}
	if !linearizable {
		v, err := h.nh.StaleRead(shardID, q)
		if err != nil && !isDomainError(err) {
			return nil, fmt.Errorf("shard %d: read: %w", shardID, raftError(err))
		}
		return v, err
	}
	var v any
	err := h.readIndex(ctx, func(ctx context.Context) (err error) {
		v, err = h.nh.SyncRead(ctx, shardID, q)
		return err
	})
	if err != nil && !isDomainError(err) {
		return nil, fmt.Errorf("shard %d: read: %w", shardID, raftError(err))
	}
	return v, err
}

// readIndex runs a linearizable read until it succeeds, fails for a reason
// of the state machine's, or ctx (by default 10 s) ends.
//
// A ReadIndex whose message to the leader, or whose answer, is lost (a
// leader that just changed, a connection being set up) waits out its whole
// timeout: dragonboat does not send it again. Reads are safe to repeat, so
// each attempt gets a few election timeouts and a lost one is asked again.
func (h *Host) readIndex(ctx context.Context, read func(context.Context) error) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	for {
		actx, acancel := context.WithTimeout(ctx, h.readAttempt())
		err := read(actx)
		acancel()
		if err == nil || isDomainError(err) {
			return err
		}
		again := retryable(err) || errors.Is(err, dragonboat.ErrTimeout) || errors.Is(err, dragonboat.ErrTimeoutTooSmall) ||
			errors.Is(err, dragonboat.ErrCanceled) || errors.Is(err, context.DeadlineExceeded)
		if !again || ctx.Err() != nil || pause(ctx) != nil {
			return err
		}
	}
}

// readAttempt bounds one ReadIndex round: four election timeouts, and at
// least a second, so a busy machine's slow round is not cut short.
func (h *Host) readAttempt() time.Duration {
	return max(time.Second, 4*time.Duration(h.cfg.ElectionRTT)*h.cfg.RTT)
}

// Get reads one object.
func (h *Host) Get(ctx context.Context, shardID uint64, k Key, linearizable bool) (Object, error) {
	v, err := h.read(ctx, shardID, getQuery{key: k}, linearizable)
	if err != nil {
		return Object{}, err
	}
	return v.(Object), nil
}

// List reads the objects a filter selects, and the index they were read at.
func (h *Host) List(ctx context.Context, shardID uint64, f Filter, linearizable bool) (ListResult, error) {
	if _, err := ParseSelector(f.Selector); err != nil {
		return ListResult{}, err
	}
	v, err := h.read(ctx, shardID, listQuery{filter: f}, linearizable)
	if err != nil {
		return ListResult{}, err
	}
	return v.(ListResult), nil
}

// Watch streams every change after fromRV that the filter selects, in
// order, each once. The channel closes when ctx ends, when the consumer fell
// too far behind, or when the replica stops or restores a snapshot; the
// consumer then watches again from the last version it saw (and relists on
// ErrGone).
func (h *Host) Watch(ctx context.Context, shardID uint64, fromRV uint64, f Filter) (<-chan Event, error) {
	r, err := h.replica(shardID)
	if err != nil {
		return nil, err
	}
	if _, err := ParseSelector(f.Selector); err != nil {
		return nil, err
	}
	w, backlog, err := r.watch(fromRV, f, 1024)
	if err != nil {
		return nil, fmt.Errorf("shard %d: watch from %d: %w", shardID, fromRV, err)
	}
	out := make(chan Event, 64)
	markEntries(backlog)
	go func() {
		defer close(out)
		defer r.unwatch(w)
		for _, e := range backlog {
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
		for {
			select {
			case <-w.wake:
			case <-ctx.Done():
				return
			}
			events, closed := w.take() // whole entries: offer queues each at once
			markEntries(events)
			for _, e := range events {
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			}
			if closed {
				return
			}
		}
	}()
	return out, nil
}

// Applied is the index this host's replica of a shard has applied.
func (h *Host) Applied(shardID uint64) (uint64, error) {
	v, err := h.read(context.Background(), shardID, indexQuery{}, false)
	if err != nil {
		return 0, err
	}
	return v.(uint64), nil
}

// Leader reports the shard's leader replica ID as this host knows it.
func (h *Host) Leader(shardID uint64) (leaderID uint64, term uint64, ok bool) {
	id, term, valid, err := h.nh.GetLeaderID(shardID)
	return id, term, err == nil && valid
}

// Close stops every replica and the NodeHost.
func (h *Host) Close() {
	h.mu.Lock()
	h.replicas = map[uint64]*replicaSM{}
	h.replicaIDs = map[uint64]uint64{}
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	h.mu.Unlock()
	h.nh.Close()
}

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, 10*time.Second)
}

// retryable errors clear up by themselves: no leader yet, a busy queue.
func retryable(err error) bool {
	return errors.Is(err, dragonboat.ErrShardNotReady) || errors.Is(err, dragonboat.ErrSystemBusy) ||
		errors.Is(err, dragonboat.ErrShardNotBootstrapped)
}

func pause(ctx context.Context) error {
	t := time.NewTimer(20 * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// raftError maps dragonboat's errors into the vocabulary.
func raftError(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, dragonboat.ErrTimeout),
		errors.Is(err, dragonboat.ErrShardNotReady), errors.Is(err, dragonboat.ErrShardClosed),
		errors.Is(err, dragonboat.ErrShardNotFound), errors.Is(err, dragonboat.ErrClosed),
		errors.Is(err, dragonboat.ErrSystemBusy), errors.Is(err, dragonboat.ErrAborted),
		errors.Is(err, dragonboat.ErrRejected), errors.Is(err, dragonboat.ErrShardNotBootstrapped),
		// SyncRead retries while the shard has no leader and, once too little
		// of the caller's time is left to try again, says so this way.
		errors.Is(err, dragonboat.ErrTimeoutTooSmall), errors.Is(err, dragonboat.ErrShardNotInitialized),
		errors.Is(err, dragonboat.ErrCanceled):
		return fmt.Errorf("%v: %w", err, errdefs.ErrUnavailable)
	default:
		return err
	}
}

func isDomainError(err error) bool {
	return errors.Is(err, errdefs.ErrNotFound) || errors.Is(err, errdefs.ErrInvalid) || errors.Is(err, errdefs.ErrGone)
}
