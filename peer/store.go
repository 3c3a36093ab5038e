package peer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/peer/api"
)

// routedStore is the consensus.Store every layer of a peer uses: a shard
// this peer holds a replica of is served by its own raft host; any other is
// forwarded to a peer that holds one (known from the shard map, or, for the
// meta shard before the map is known, found by asking every live peer).
// Forwarded calls are always served locally by the receiver, so they never
// loop.
type routedStore struct {
	p *Peer

	mu     sync.Mutex
	shards map[uint64]consensus.ShardRecord // from the last shard map read
	apis   map[string]string                // live peer name -> API address, from gossip at apisAt
	apisAt time.Time
}

// apisTTL is how long routing trusts its copy of gossip's live peers:
// listing the members costs a thousand-member cluster more than the write
// it routes. A peer that died meanwhile fails the call, which then goes on
// to the next target.
const apisTTL = 250 * time.Millisecond

// liveAPIs maps the live peers other than this one (that serve an API) to
// their API addresses. The caller must not modify it.
func (s *routedStore) liveAPIs() map[string]string {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apis != nil && now.Sub(s.apisAt) < apisTTL {
		return s.apis
	}
	apis := map[string]string{}
	for _, m := range s.p.gossip.Members() {
		if m.Name != s.p.cfg.Name && m.Status == gossip.StatusAlive && m.Tags.API != "" {
			apis[m.Name] = m.Tags.API
		}
	}
	s.apis, s.apisAt = apis, now
	return apis
}

var _ consensus.Store = (*routedStore)(nil)

func newRoutedStore(p *Peer) *routedStore {
	return &routedStore{p: p, shards: map[uint64]consensus.ShardRecord{}}
}

// learn records where shards live, from a shard map the controller read.
func (s *routedStore) learn(records []consensus.ShardRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range records {
		r.Replicas = maps.Clone(r.Replicas) // the controller may go on changing its copy
		s.shards[r.ID] = r
	}
}

// targets lists the API addresses to forward a shard's calls to; see
// forwardOrder. Only reads forward from a peer that holds the shard (its
// writes go through leaderAPI), and only once its own replica could not
// answer: most often because the leader it knows is gone, which is why
// that leader's peer comes after the other holders.
func (s *routedStore) targets(shard uint64) []string {
	var leader uint64
	if s.p.host.Has(shard) {
		leader, _, _ = s.p.host.Leader(shard)
	}
	s.mu.Lock()
	rec := s.shards[shard]
	s.mu.Unlock()
	return forwardOrder(rec, leader, s.liveAPIs())
}

// forwardOrder orders the live peers' API addresses (live: name to
// address) for a call on the shard rec describes: its voting holders
// first, the one holding replica leader (a leader that may have just died
// with its peer: a call to a peer whose link is cut waits out its whole
// dial timeout) after the other holders, then every other live peer.
func forwardOrder(rec consensus.ShardRecord, leader uint64, live map[string]string) []string {
	var holders, last, rest []string
	for id, rr := range rec.Replicas {
		a, ok := live[rr.Peer]
		switch {
		case !ok || rr.NonVoting:
		case id == leader:
			last = append(last, a)
		default:
			holders = append(holders, a)
		}
	}
	for _, a := range live {
		if !slices.Contains(holders, a) && !slices.Contains(last, a) {
			rest = append(rest, a)
		}
	}
	slices.Sort(holders)
	slices.Sort(rest)
	return slices.Concat(holders, last, rest)
}

// hedgeAfter is how long a forwarded read waits for a target's answer
// before it asks the next target too.
const hedgeAfter = 250 * time.Millisecond

// forwardRead sends a read to the shard's targets, hedged (see hedged).
// Reads are safe to send twice; waiting on one target at a time is not,
// when a target's peer has just died with its link: a call to it waits out
// the whole dial timeout (5 s) before the next is tried, and gossip takes
// about a second to say that peer is gone.
func forwardRead[T any](ctx context.Context, s *routedStore, shard uint64, op string, in any) (T, error) {
	return hedged(ctx, s.targets(shard), hedgeAfter, func(ctx context.Context, addr string) (T, error) {
		var v T
		err := s.p.peers.get(addr).Do(ctx, http.MethodPost, shardPath(shard, op), in, &v)
		return v, err
	})
}

// hedged calls the first target, then the next one as well each time
// after passes without an answer or a target answers "unavailable". The
// first answer other than "unavailable" wins, and the calls still running
// are cancelled. With no target, or only "unavailable" answers, it is
// unavailable.
func hedged[T any](ctx context.Context, targets []string, after time.Duration, call func(context.Context, string) (T, error)) (T, error) {
	type answer struct {
		v   T
		err error
	}
	var zero T
	last := fmt.Errorf("no live peer holds the shard: %w", errdefs.ErrUnavailable)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answers := make(chan answer, len(targets))
	next, pending := 0, 0
	timer := time.NewTimer(after)
	defer timer.Stop()
	ask := func() {
		addr := targets[next]
		next++
		pending++
		timer.Reset(after)
		go func() {
			v, err := call(ctx, addr)
			answers <- answer{v, err}
		}()
	}
	if len(targets) > 0 {
		ask()
	}
	for pending > 0 {
		select {
		case a := <-answers:
			pending--
			if a.err == nil || !errors.Is(a.err, errdefs.ErrUnavailable) {
				return a.v, a.err
			}
			last = a.err
			if next < len(targets) {
				ask() // at once, even while another call is still out
			}
		case <-timer.C:
			if next < len(targets) {
				ask()
			}
		case <-ctx.Done():
			return zero, ctx.Err()
		}
	}
	return zero, last
}

// forwardTo calls each target's client, one at a time, until one answers
// with something other than "unavailable": for writes, which must not be
// sent twice.
func (s *routedStore) forwardTo(ctx context.Context, shard uint64, call func(*api.Client) error) error {
	var last error = fmt.Errorf("shard %d: no live peer holds it: %w", shard, errdefs.ErrUnavailable)
	for _, addr := range s.targets(shard) {
		err := call(s.p.peers.get(addr))
		if err == nil || !errors.Is(err, errdefs.ErrUnavailable) {
			return err
		}
		last = err
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return last
}

func shardPath(shard uint64, op string) string {
	return "/v1/internal/shards/" + strconv.FormatUint(shard, 10) + "/" + op
}

// Propose writes through the shard's leader. A peer with a replica sends
// the batch to the leader's peer on the proposal pipeline when another
// peer leads (and proposes to its own replica when it cannot); a peer
// without one sends it to a holder, which does the same. Proposing on a
// follower would work too (raft forwards it), but each follower then
// packs its own smaller group entries and answers only once it has
// applied them: writes through any peer ran at 7,000/s that way against
// 9,000/s through the leaders (scripts/bench-store.sh 1).
func (s *routedStore) Propose(ctx context.Context, shard uint64, b consensus.Batch) (consensus.Result, error) {
	if s.p.host.Has(shard) {
		return s.proposeHeld(ctx, shard, b, nil)
	}
	body, err := consensus.EncodeBatch(b)
	if err != nil {
		return consensus.Result{}, err
	}
	var raw []byte
	err = s.forwardTo(ctx, shard, func(cl *api.Client) (err error) {
		raw, err = cl.Propose(ctx, shard, body, false)
		return err
	})
	if err != nil {
		return consensus.Result{}, err
	}
	return decodeProposed(raw)
}

func decodeProposed(raw []byte) (consensus.Result, error) {
	res, err := consensus.DecodeResult(raw)
	if err != nil {
		return consensus.Result{}, err
	}
	return res, res.Error()
}

// proposeHeld proposes to a shard this peer holds a replica of: through
// the leader's peer when another peer leads, else (or when that peer
// cannot take it) to the local replica. body is b encoded, or nil.
func (s *routedStore) proposeHeld(ctx context.Context, shard uint64, b consensus.Batch, body []byte) (consensus.Result, error) {
	if addr, ok := s.leaderAPI(shard); ok {
		if body == nil {
			var err error
			if body, err = consensus.EncodeBatch(b); err != nil {
				return consensus.Result{}, err
			}
		}
		raw, err := s.p.peers.get(addr).Propose(ctx, shard, body, true)
		if err == nil {
			return decodeProposed(raw)
		}
		if !errors.Is(err, errdefs.ErrUnavailable) || ctx.Err() != nil {
			return consensus.Result{}, err
		}
		// The leader moved or is out of reach: raft forwards from here.
	}
	return s.p.host.Propose(ctx, shard, b)
}

// leaderAPI is the API address of the peer leading a shard this peer
// holds, when that is another live peer.
func (s *routedStore) leaderAPI(shard uint64) (string, bool) {
	leader, _, ok := s.p.host.Leader(shard)
	if !ok {
		return "", false
	}
	if mine, _ := s.p.host.ReplicaID(shard); mine == leader {
		return "", false
	}
	s.mu.Lock()
	rr, ok := s.shards[shard].Replicas[leader]
	s.mu.Unlock()
	if !ok {
		return "", false
	}
	addr, ok := s.liveAPIs()[rr.Peer]
	return addr, ok
}

// read serves a read from this peer's replica when it has one, and from
// another holder when that replica cannot answer: a replica the shard has
// removed (it no longer hears from the group, so its linearizable reads
// time out) must still let this peer read the shard map that says so. The
// local attempt gets at most half the time left, and a second; reads are
// safe to repeat elsewhere, writes are not, so Propose does not do this.
func (s *routedStore) read(ctx context.Context, shard uint64, local, remote func(context.Context) error) error {
	if !s.p.host.Has(shard) {
		return remote(ctx)
	}
	budget := time.Second
	if dl, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(dl)/2)
	}
	lctx, cancel := context.WithTimeout(ctx, budget)
	err := local(lctx)
	cancel()
	if err == nil || !errors.Is(err, errdefs.ErrUnavailable) || ctx.Err() != nil {
		return err
	}
	if rerr := remote(ctx); rerr == nil || !errors.Is(rerr, errdefs.ErrUnavailable) {
		return rerr
	}
	return err
}

type getRequest struct {
	Key          consensus.Key `json:"key"`
	Linearizable bool          `json:"linearizable"`
}

func (s *routedStore) Get(ctx context.Context, shard uint64, k consensus.Key, lin bool) (consensus.Object, error) {
	var o consensus.Object
	var err error
	err = s.read(ctx, shard,
		func(ctx context.Context) (err error) { o, err = s.p.host.Get(ctx, shard, k, lin); return err },
		func(ctx context.Context) error {
			o, err = forwardRead[consensus.Object](ctx, s, shard, "get", getRequest{Key: k, Linearizable: lin})
			return err
		})
	return o, err
}

type listRequest struct {
	Filter       consensus.Filter `json:"filter"`
	Linearizable bool             `json:"linearizable"`
}

func (s *routedStore) List(ctx context.Context, shard uint64, f consensus.Filter, lin bool) (consensus.ListResult, error) {
	var l consensus.ListResult
	var err error
	err = s.read(ctx, shard,
		func(ctx context.Context) (err error) { l, err = s.p.host.List(ctx, shard, f, lin); return err },
		func(ctx context.Context) error {
			l, err = forwardRead[consensus.ListResult](ctx, s, shard, "list", listRequest{Filter: f, Linearizable: lin})
			return err
		})
	return l, err
}

type watchRequest struct {
	From   uint64           `json:"from"`
	Filter consensus.Filter `json:"filter"`
}

// Watch streams a shard's changes; from a peer without a replica it is a
// long-lived forwarded request whose body is one JSON event a line.
func (s *routedStore) Watch(ctx context.Context, shard uint64, from uint64, f consensus.Filter) (<-chan consensus.Event, error) {
	if s.p.host.Has(shard) {
		return s.p.host.Watch(ctx, shard, from, f)
	}
	body, _ := json.Marshal(watchRequest{From: from, Filter: f})
	var last error = fmt.Errorf("shard %d: no live peer holds it: %w", shard, errdefs.ErrUnavailable)
	for _, addr := range s.targets(shard) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+addr+shardPath(shard, "watch"), bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		resp, err := s.p.streamClient.Do(req)
		if err != nil {
			last = fmt.Errorf("%s: %v: %w", addr, err, errdefs.ErrUnavailable)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			var st api.Status
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			last = &api.RemoteError{Message: st.Error, Code: resp.StatusCode}
			if sentinel := errdefs.FromHTTPStatus(resp.StatusCode); sentinel != nil {
				last = fmt.Errorf("%s: %w", st.Error, sentinel)
			}
			if errors.Is(last, errdefs.ErrUnavailable) {
				continue
			}
			return nil, last
		}
		out := make(chan consensus.Event, 64)
		go func() {
			defer close(out)
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64<<10), 4<<20)
			// Whole entries only (see consensus.Event.More): a stream
			// that breaks inside one must not leave the consumer's
			// version inside it.
			var entry []consensus.Event
			for sc.Scan() {
				var e consensus.Event
				if json.Unmarshal(sc.Bytes(), &e) != nil {
					return
				}
				if entry = append(entry, e); e.More {
					continue
				}
				for _, e := range entry {
					select {
					case out <- e:
					case <-ctx.Done():
						return
					}
				}
				entry = entry[:0]
			}
		}()
		return out, nil
	}
	return nil, last
}

// Internal routes: a peer serves a forwarded shard call from its own replica
// only.

func (p *Peer) shardID(r *http.Request) (uint64, error) {
	id, err := strconv.ParseUint(r.PathValue("shard"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("shard %q: %w", r.PathValue("shard"), errdefs.ErrInvalid)
	}
	return id, nil
}

func decodeBody(r *http.Request, v any) error {
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 8<<20)).Decode(v); err != nil {
		return fmt.Errorf("request body: %v: %w", err, errdefs.ErrInvalid)
	}
	return nil
}

// shardPropose commits a forwarded batch, in the binary encoding both
// ways: it is the store's write path from peers without a replica.
func (p *Peer) shardPropose(w http.ResponseWriter, r *http.Request) {
	if !p.allowPeer(w, r) {
		return
	}
	shard, err := p.shardID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 8<<20))
	if err != nil {
		writeError(w, fmt.Errorf("request body: %v: %w", err, errdefs.ErrTooLarge))
		return
	}
	b, err := consensus.DecodeBatch(body)
	if err != nil {
		writeError(w, err)
		return
	}
	out, err := proposeOutcome(p.host.Propose(r.Context(), shard, b))
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", api.ContentTypeBinary)
	_, _ = w.Write(out)
}

// pipelineInFlight bounds the proposals one pipeline has awaiting their
// commit; past it the stream stops reading, so a flood waits in TCP.
const pipelineInFlight = 1024

// forwardTimeout bounds a pipelined proposal forwarded to the leader's
// peer when the proposal itself came without a timeout.
const forwardTimeout = 10 * time.Second

// proposeStream serves api.PipelinePath: proposals arrive as frames on the
// request body, each is proposed to this peer's replica at once, and the
// answers go back on the response body as they commit, many to a write.
func (p *Peer) proposeStream(w http.ResponseWriter, r *http.Request) {
	if !p.allowPeer(w, r) {
		return
	}
	_ = http.NewResponseController(w).EnableFullDuplex() // HTTP/1 needs it; HTTP/2 always is
	w.Header().Set("Content-Type", api.ContentTypeBinary)
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	// The stream ends when the client ends it or this server shuts down;
	// closing the body unblocks the frame reader either way.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(p.srvStopping, cancel)()
	defer context.AfterFunc(ctx, func() { r.Body.Close() })()
	answers := api.NewFrameQueue()
	answer := func(id uint64, result []byte, err error) {
		answers.Add(func(p []byte) []byte { return api.AppendAnswer(p, id, result, err) })
	}
	slots := make(chan struct{}, pipelineInFlight)
	readDone := make(chan struct{})
	var writer sync.WaitGroup
	writer.Add(1)
	go func() { // answers go out as they commit, many to a write
		defer writer.Done()
		answers.Drain(readDone, func(b []byte) error {
			if _, err := w.Write(b); err != nil {
				return err
			}
			if flusher != nil {
				flusher.Flush()
			}
			return nil
		})
	}()
	br := bufio.NewReaderSize(r.Body, 64<<10)
	var buf []byte
	var inFlight sync.WaitGroup
	for {
		frame, err := api.ReadFrame(br, buf)
		if err != nil {
			break
		}
		buf = frame
		prop, err := api.ParseProposal(frame)
		if err != nil {
			break
		}
		b, err := consensus.DecodeBatch(prop.Batch)
		if err != nil {
			answer(prop.ID, nil, err)
			continue
		}
		encoded := bytes.Clone(prop.Batch) // the frame buffer is reused
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		inFlight.Add(1)
		// No goroutine or context per proposal: the answer goes out from
		// the proposer's callback here, or from the pipeline's to the
		// leader's peer.
		finish := func(out []byte, err error) {
			answer(prop.ID, out, err)
			<-slots
			inFlight.Done()
		}
		local := func(timeout time.Duration) {
			p.host.ProposeAsync(ctx, prop.Shard, b, encoded, timeout, func(res consensus.Result, err error) {
				finish(proposeOutcome(res, err))
			})
		}
		addr, elsewhere := p.store.leaderAPI(prop.Shard)
		if prop.Final || !elsewhere {
			local(prop.Timeout)
			continue
		}
		// A forward is bounded even when its proposal is not: a leader's
		// peer that stops answering must not hold the stream's slots.
		timeout := prop.Timeout
		if timeout <= 0 {
			timeout = forwardTimeout
		}
		deadline := time.Now().Add(timeout)
		// Queued from a goroutine of its own: opening the pipeline to that
		// peer may take seconds, and this loop serves every other proposal.
		go p.peers.get(addr).ProposeAsync(prop.Shard, encoded, true, timeout, func(raw []byte, err error) {
			// raw is the leader's encoded outcome, passed on as it is.
			left := time.Until(deadline)
			if err == nil || !errors.Is(err, errdefs.ErrUnavailable) || ctx.Err() != nil || left <= 0 {
				finish(raw, err)
				return
			}
			// The leader moved or is out of reach: raft forwards from here.
			local(left)
		})
	}
	// The client stopped sending (it closed the pipeline or broke): answer
	// what is in flight while the stream can still carry it.
	inFlight.Wait()
	close(readDone)
	writer.Wait()
}

// proposeOutcome is what a peer answers for a proposal it served: the
// encoded result once committed (the state may still have refused it), or
// the error when it did not commit, so the caller tries elsewhere or fails.
func proposeOutcome(res consensus.Result, err error) ([]byte, error) {
	if err != nil && res.Index == 0 {
		return nil, err
	}
	return consensus.EncodeResult(res), nil
}

func (p *Peer) shardGet(r *http.Request, _ principal) (any, error) {
	shard, err := p.shardID(r)
	if err != nil {
		return nil, err
	}
	var q getRequest
	if err := decodeBody(r, &q); err != nil {
		return nil, err
	}
	return p.host.Get(r.Context(), shard, q.Key, q.Linearizable)
}

func (p *Peer) shardList(r *http.Request, _ principal) (any, error) {
	shard, err := p.shardID(r)
	if err != nil {
		return nil, err
	}
	var q listRequest
	if err := decodeBody(r, &q); err != nil {
		return nil, err
	}
	return p.host.List(r.Context(), shard, q.Filter, q.Linearizable)
}

// shardWatch streams events as JSON lines until the client goes away or the
// replica's watch ends.
func (p *Peer) shardWatch(w http.ResponseWriter, r *http.Request) {
	if !p.allowPeer(w, r) {
		return
	}
	shard, err := p.shardID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var q watchRequest
	if err := decodeBody(r, &q); err != nil {
		writeError(w, err)
		return
	}
	events, err := p.host.Watch(r.Context(), shard, q.From, q.Filter)
	if err != nil {
		writeError(w, err)
		return
	}
	streamLines(w, "application/x-ndjson", events, func(e consensus.Event) (any, bool) { return e, true })
}

// streamLines answers 200 and writes each value from ch as a JSON line,
// flushed at once, until ch closes, convert says stop, or the client goes.
func streamLines[T any](w http.ResponseWriter, contentType string, ch <-chan T, convert func(T) (any, bool)) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	for x := range ch {
		v, ok := convert(x)
		if !ok || enc.Encode(v) != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// allowPeer answers 401 or 403 unless a peer made the request, for the
// streaming and binary routes that do not go through handle.
func (p *Peer) allowPeer(w http.ResponseWriter, r *http.Request) bool {
	who, err := p.identify(r)
	if err == nil {
		err = peersOnly(who)
	}
	if err != nil {
		writeError(w, err)
		return false
	}
	return true
}

// streamHTTPClient is for long-lived forwarded watches: no overall timeout.
func streamHTTPClient(p *Peer) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: p.peerTLS, ForceAttemptHTTP2: true, IdleConnTimeout: 90 * time.Second}}
}

// ShardStatus is what a replica knows of its shard.
type shardStatus struct {
	Shard   uint64 `json:"shard"`
	Leader  uint64 `json:"leader"` // replica ID; 0 when unknown
	Term    uint64 `json:"term"`
	Applied uint64 `json:"applied"`
}

func (p *Peer) shardStatusLocal(shard uint64) (shardStatus, error) {
	if !p.host.Has(shard) {
		return shardStatus{}, fmt.Errorf("shard %d: no replica on this peer: %w", shard, errdefs.ErrUnavailable)
	}
	st := shardStatus{Shard: shard}
	if id, term, ok := p.host.Leader(shard); ok {
		st.Leader, st.Term = id, term
	}
	if applied, err := p.host.Applied(shard); err == nil {
		st.Applied = applied
	}
	return st, nil
}

func (p *Peer) shardStatus(r *http.Request, _ principal) (any, error) {
	shard, err := p.shardID(r)
	if err != nil {
		return nil, err
	}
	return p.shardStatusLocal(shard)
}

// status asks the shard's replicas (this peer's own first) for its status.
func (s *routedStore) status(ctx context.Context, shard uint64) (shardStatus, error) {
	if st, err := s.p.shardStatusLocal(shard); err == nil {
		return st, nil
	}
	return forwardRead[shardStatus](ctx, s, shard, "status", struct{}{})
}
