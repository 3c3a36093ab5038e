package consensus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lni/dragonboat/v4"
	"github.com/lni/dragonboat/v4/client"
)

// Group commit. Every raft entry costs dragonboat the same bookkeeping
// whatever its size (queueing, the pending-proposal table, one apply call,
// one notification), and on a 2-core machine that per-entry cost, not the
// disk, limits writes. So a shard's proposer packs the batches that wait
// while earlier entries are in flight into one group entry (formatGroupV3):
// under load many proposals share an entry; alone, a proposal goes out at
// once in an entry of its own, so nothing waits for company.
//
// Two batches that touch one key never share a group: each change to a key
// must get its own version (a group's batches share the entry's index), or
// a compare-and-swap against the first change could pass over the second.
//
// Retries. Each group entry is proposed through a dragonboat client session
// (one per in-flight slot), so it can be proposed again when an attempt
// gets no answer (its message went to a leader that died or moved): the
// shard applies a session's proposal at most once and answers a repeat with
// the first one's result. Attempts are bounded by a few election timeouts,
// so a lost proposal costs that, not the caller's whole deadline.
const (
	// groupInFlight is how many entries of one shard may await their commit
	// at once; further proposals wait and are grouped.
	groupInFlight = 4
	// groupMaxBatches and groupMaxBytes bound one group entry. A single
	// batch larger than groupMaxBytes still goes out, alone.
	groupMaxBatches = 256
	groupMaxBytes   = 2 << 20
	// retryPause is how long a group waits before it is proposed again,
	// after raft refused it for a passing reason (no leader yet, queue full)
	// or an attempt went unanswered.
	retryPause = 20 * time.Millisecond
	// defaultProposeTimeout bounds a proposal whose context has no deadline.
	defaultProposeTimeout = 10 * time.Second
)

// proposal is one caller's batch waiting for its outcome.
type proposal struct {
	ctx context.Context
	// deadline, when set, bounds the proposal besides ctx: an asynchronous
	// caller shares one long-lived ctx among many proposals, and a context
	// per proposal would cost a timer each.
	deadline time.Time
	cmd      []byte // the encoded batch
	batch    Batch  // cmd before encoding, to decode the result with
	keys     []Key
	done     func(Result, error) // called once; never blocks the proposer
}

// err is why the caller no longer waits, or nil.
func (pr *proposal) err(now time.Time) error {
	if err := pr.ctx.Err(); err != nil {
		return err
	}
	if !pr.deadline.IsZero() && !now.Before(pr.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// until is the proposal's deadline: the earlier of its own and ctx's, or
// defaultProposeTimeout from now when it has neither.
func (pr *proposal) until(now time.Time) time.Time {
	d := pr.deadline
	if cd, ok := pr.ctx.Deadline(); ok && (d.IsZero() || cd.Before(d)) {
		d = cd
	}
	if d.IsZero() {
		d = now.Add(defaultProposeTimeout)
	}
	return d
}

type outcome struct {
	res Result
	err error
}

// proposer groups one shard's proposals. Safe for concurrent use; its
// goroutine runs from the first proposal until the host closes.
type proposer struct {
	nh      *dragonboat.NodeHost
	shard   uint64
	stop    <-chan struct{}
	attempt time.Duration // how long one attempt waits for its answer

	// sessions holds the idle client sessions, at most groupInFlight;
	// made lazily, as a slot first needs one.
	sessions chan *client.Session

	mu       sync.Mutex
	queue    []*proposal
	closed   bool // the host closed: later proposals fail at once
	inFlight int
	wake     chan struct{} // capacity 1: "the queue or inFlight changed"

	entries, batches atomic.Uint64 // proposed, for ProposeStats
}

func newProposer(nh *dragonboat.NodeHost, shard uint64, stop <-chan struct{}, attempt time.Duration) *proposer {
	p := &proposer{nh: nh, shard: shard, stop: stop, attempt: attempt, wake: make(chan struct{}, 1),
		sessions: make(chan *client.Session, groupInFlight)}
	go p.run()
	return p
}

// propose queues a batch and waits for its outcome. A proposal whose ctx
// ends while it still waits in the queue is withdrawn (it was never
// proposed); one that ends after it was proposed returns ErrTimeout
// wrapped as unavailable: it may still commit.
func (p *proposer) propose(ctx context.Context, b Batch, cmd []byte) (Result, error) {
	ch := make(chan outcome, 1)
	pr := &proposal{ctx: ctx, cmd: cmd, batch: b, keys: b.keys(), done: func(r Result, err error) { ch <- outcome{res: r, err: err} }}
	p.enqueue(pr)
	select {
	case o := <-ch:
		return o.res, o.err
	case <-ctx.Done():
		if p.withdraw(pr) {
			return Result{}, fmt.Errorf("shard %d: propose: %w", p.shard, raftError(ctx.Err()))
		}
		select {
		case o := <-ch:
			return o.res, o.err
		default:
			return Result{}, fmt.Errorf("shard %d: propose: outcome unknown: %w", p.shard, raftError(dragonboat.ErrTimeout))
		}
	}
}

// proposeAsync queues a batch and returns; done gets its outcome. A
// proposal whose ctx ends, or whose deadline passes, while it is still
// queued is answered with that error when its turn comes, not at once.
func (p *proposer) proposeAsync(ctx context.Context, b Batch, cmd []byte, deadline time.Time, done func(Result, error)) {
	p.enqueue(&proposal{ctx: ctx, deadline: deadline, cmd: cmd, batch: b, keys: b.keys(), done: done})
}

func (p *proposer) enqueue(pr *proposal) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		pr.done(Result{}, fmt.Errorf("shard %d: propose: %w", p.shard, raftError(dragonboat.ErrClosed)))
		return
	}
	p.queue = append(p.queue, pr)
	p.mu.Unlock()
	p.signal()
}

func (p *proposer) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// withdraw removes a proposal that is still queued and says whether it was.
func (p *proposer) withdraw(pr *proposal) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, q := range p.queue {
		if q == pr {
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
			return true
		}
	}
	return false
}

func (p *proposer) run() {
	for {
		select {
		case <-p.wake:
		case <-p.stop:
			p.failQueued()
			return
		}
		for {
			group := p.take()
			if group == nil {
				break
			}
			go p.commit(group)
		}
	}
}

// take removes the next group from the queue and counts it in flight, or
// returns nil when the queue is empty or enough entries are in flight.
func (p *proposer) take() []*proposal {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inFlight >= groupInFlight || len(p.queue) == 0 {
		return nil
	}
	group, rest := pickGroup(p.queue)
	p.queue = rest
	if len(group) == 0 {
		return nil
	}
	p.inFlight++
	return group
}

// pickGroup takes, in queue order, the proposals that fit one group: within
// the count and size bounds, and none touching a key an earlier one in the
// group touches. The rest keep their order. It is pure, for tests.
func pickGroup(queue []*proposal) (group, rest []*proposal) {
	taken := map[Key]bool{}
	size := 0
	for _, pr := range queue {
		fits := len(group) < groupMaxBatches && (len(group) == 0 || size+len(pr.cmd) <= groupMaxBytes)
		if fits {
			for _, k := range pr.keys {
				if taken[k] {
					fits = false
					break
				}
			}
		}
		if !fits {
			rest = append(rest, pr)
			continue
		}
		for _, k := range pr.keys {
			taken[k] = true
		}
		size += len(pr.cmd)
		group = append(group, pr)
	}
	return group, rest
}

// commit proposes one group and delivers each proposal's outcome, proposing
// the same entry again, under the same session, while attempts go
// unanswered and a caller still waits.
func (p *proposer) commit(group []*proposal) {
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
		p.signal()
	}()
	group = live(group)
	if len(group) == 0 {
		return
	}
	cmd := group[0].cmd
	if len(group) > 1 {
		parts := make([][]byte, len(group))
		for i, pr := range group {
			parts[i] = pr.cmd
		}
		cmd = encodeGroup(parts)
	}
	p.entries.Add(1)
	p.batches.Add(uint64(len(group)))
	deadline := deadlineOf(group)
	sess := p.session(deadline)
	keep := true
	defer func() { p.release(sess, keep) }()
	for {
		data, err := p.attemptOnce(sess, cmd, min(p.attempt, time.Until(deadline)))
		if err == nil {
			p.deliver(group, data)
			return
		}
		// A session the shard refuses (evicted from its table of sessions,
		// say) is not used again.
		keep = keep && !errors.Is(err, dragonboat.ErrRejected)
		again := retryable(err) || (!sess.IsNoOPSession() && errors.Is(err, dragonboat.ErrTimeout))
		if !again || time.Until(deadline) < retryPause || !p.sleep(retryPause) {
			if errors.Is(err, dragonboat.ErrTimeout) {
				err = fmt.Errorf("outcome unknown: %w", err)
			}
			p.fail(group, fmt.Errorf("shard %d: propose: %w", p.shard, raftError(err)))
			return
		}
	}
}

// attemptOnce proposes cmd and waits up to timeout for its result.
func (p *proposer) attemptOnce(sess *client.Session, cmd []byte, timeout time.Duration) ([]byte, error) {
	rs, err := p.nh.Propose(sess, cmd, max(timeout, time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer rs.Release()
	select {
	case r := <-rs.AppliedC():
		if r.Completed() {
			return r.GetResult().Data, nil
		}
		return nil, requestError(r)
	case <-p.stop:
		return nil, dragonboat.ErrClosed
	}
}

// session takes an idle client session, or registers a new one, trying
// again (each try bounded by an attempt) while the group's deadline leaves
// time for it: registering fails while this replica knows no leader (a
// shard that has just elected one, a leader that just died), and a group
// that went out without a session is never proposed again after a
// timeout, so the first writes through a follower failed "outcome unknown"
// within a second of the cluster forming
// (TestWritesSurviveTheLeaderDyingUnderThem, under a busy CI machine).
// Only when the deadline is near does the group go out without one.
func (p *proposer) session(deadline time.Time) *client.Session {
	select {
	case s := <-p.sessions:
		return s
	default:
	}
	for {
		until := time.Now().Add(p.attempt)
		if deadline.Before(until) {
			until = deadline
		}
		ctx, cancel := context.WithDeadline(context.Background(), until)
		s, err := p.nh.SyncGetSession(ctx, p.shard)
		cancel()
		if err == nil {
			return s
		}
		if time.Until(deadline) < p.attempt || !p.sleep(retryPause) {
			return p.nh.GetNoOPSession(p.shard)
		}
	}
}

// release moves a session on to its next proposal and, when keep, keeps it
// for the next group. A proposal abandoned after its last attempt counts as
// done too: the shard then ignores it if it still arrives.
func (p *proposer) release(s *client.Session, keep bool) {
	if s.IsNoOPSession() || !keep {
		return
	}
	s.ProposalCompleted()
	select {
	case p.sessions <- s:
	default: // more sessions than slots: let this one lapse
	}
}

// sleep waits d, or returns false when the host closes first.
func (p *proposer) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.stop:
		return false
	}
}

// live drops (and answers) proposals whose callers gave up while queued.
func live(group []*proposal) []*proposal {
	now := time.Now()
	out := group[:0]
	for _, pr := range group {
		if err := pr.err(now); err != nil {
			pr.done(Result{}, raftError(err))
			continue
		}
		out = append(out, pr)
	}
	return out
}

// deadlineOf is the latest deadline among a group's callers.
func deadlineOf(group []*proposal) time.Time {
	now := time.Now()
	var latest time.Time
	for _, pr := range group {
		if d := pr.until(now); d.After(latest) {
			latest = d
		}
	}
	return latest
}

// requestError turns a finished request that did not complete into the
// error SyncPropose would have returned.
func requestError(r dragonboat.RequestResult) error {
	switch {
	case r.Rejected():
		return dragonboat.ErrRejected
	case r.Timeout():
		return dragonboat.ErrTimeout
	case r.Terminated():
		return dragonboat.ErrShardClosed
	case r.Dropped():
		return dragonboat.ErrShardNotReady
	case r.Aborted():
		return dragonboat.ErrAborted
	default:
		return dragonboat.ErrTimeout
	}
}

func (p *proposer) deliver(group []*proposal, data []byte) {
	if len(group) == 1 {
		res, err := decodeResultOf(data, group[0].batch)
		if err == nil {
			err = res.Error()
		}
		group[0].done(res, err)
		return
	}
	parts, err := decodeGroup(data)
	if err == nil && len(parts) != len(group) {
		err = fmt.Errorf("group result: %d results for %d batches", len(parts), len(group))
	}
	if err != nil {
		// The whole entry failed the same way on every replica (it did not
		// decode there either): one result for all.
		if res, derr := decodeResultOf(data, Batch{}); derr == nil && res.Error() != nil {
			err = res.Error()
		}
		p.fail(group, fmt.Errorf("shard %d: propose: %w", p.shard, err))
		return
	}
	for i, pr := range group {
		res, err := decodeResultOf(parts[i], pr.batch)
		if err == nil {
			err = res.Error()
		}
		pr.done(res, err)
	}
}

func (p *proposer) fail(group []*proposal, err error) {
	for _, pr := range group {
		pr.done(Result{}, err)
	}
}

func (p *proposer) failQueued() {
	p.mu.Lock()
	q := p.queue
	p.queue, p.closed = nil, true
	p.mu.Unlock()
	p.fail(q, fmt.Errorf("shard %d: propose: %w", p.shard, raftError(dragonboat.ErrClosed)))
}
