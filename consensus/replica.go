package consensus

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"

	sm "github.com/lni/dragonboat/v4/statemachine"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// replicaSM adapts the pure State to dragonboat's IStateMachine: Update
// decodes and applies, Lookup answers queries, snapshots write the State.
// It also fans committed events out to this replica's watchers; watchers
// are registered under the same lock that Update holds, so a watch sees
// every event after its starting version exactly once.
type replicaSM struct {
	shardID uint64

	mu       sync.RWMutex
	state    *State
	watchers map[*watcher]struct{}
}

var _ sm.IStateMachine = (*replicaSM)(nil)

func newReplicaSM(shardID uint64, historyLimit int) *replicaSM {
	return &replicaSM{shardID: shardID, state: NewState(historyLimit), watchers: map[*watcher]struct{}{}}
}

// Update applies one committed entry: a batch, or a group of independent
// batches from concurrent proposers (see proposer.go).
func (r *replicaSM) Update(e sm.Entry) (sm.Result, error) {
	if isGroup(e.Cmd) {
		return sm.Result{Value: e.Index, Data: r.applyGroup(e)}, nil
	}
	b, err := DecodeBatch(e.Cmd)
	var res Result
	r.mu.Lock()
	if err != nil {
		// A command this build cannot decode still consumes its index on every
		// replica alike; the proposer gets the error.
		res, _ = r.state.Apply(e.Index, Batch{})
		res.Err, res.Code = err.Error(), "Invalid"
	} else {
		var events []Event
		res, events = r.state.Apply(e.Index, b)
		r.offer(events)
	}
	r.mu.Unlock()
	return sm.Result{Value: e.Index, Data: encodeResultLean(res, b)}, nil
}

// applyGroup applies a group entry and encodes one result per batch. A
// batch that does not decode fails alone, the same way on every replica.
func (r *replicaSM) applyGroup(e sm.Entry) []byte {
	parts, err := decodeGroup(e.Cmd)
	if err != nil {
		r.mu.Lock()
		res, _ := r.state.Apply(e.Index, Batch{})
		r.mu.Unlock()
		res.Err, res.Code = err.Error(), "Invalid"
		return encodeResultLean(res, Batch{})
	}
	batches := make([]Batch, len(parts))
	bad := make([]error, len(parts))
	for i, p := range parts {
		batches[i], bad[i] = DecodeBatch(p)
	}
	r.mu.Lock()
	results, events := r.state.ApplyGroup(e.Index, batches)
	r.offer(events)
	r.mu.Unlock()
	out := make([][]byte, len(results))
	for i, res := range results {
		if bad[i] != nil {
			res = Result{Index: e.Index, Err: bad[i].Error(), Code: "Invalid"}
		}
		out[i] = encodeResultLean(res, batches[i])
	}
	return encodeGroup(out)
}

// offer hands committed events to every watcher, dropping those that fell
// behind. The caller holds r.mu.
func (r *replicaSM) offer(events []Event) {
	if len(events) == 0 {
		return
	}
	for w := range r.watchers {
		if !w.offer(events) {
			delete(r.watchers, w)
		}
	}
}

// Queries that Lookup answers.
type (
	getQuery   struct{ key Key }
	listQuery  struct{ filter Filter }
	indexQuery struct{}
	countQuery struct{}
)

// ListResult is a list and the shard index it was read at.
type ListResult struct {
	Objects []Object
	Index   uint64
	// More says the list stopped at Filter.Limit with objects left.
	More bool `json:",omitempty"`
}

// Lookup answers a query against the current state.
func (r *replicaSM) Lookup(q any) (any, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	switch q := q.(type) {
	case getQuery:
		o, ok := r.state.Get(q.key)
		if !ok {
			return nil, fmt.Errorf("%s: %w", q.key, errdefs.ErrNotFound)
		}
		return o, nil
	case listQuery:
		f := q.filter
		if len(f.Kinds) == 0 {
			objs, more := page(r.state.List(f.Kind, f.Namespace, f.selector()), f.After, f.Limit)
			return ListResult{Objects: objs, Index: r.state.Index(), More: more}, nil
		}
		kinds := slices.Clone(f.Kinds)
		slices.Sort(kinds)
		var objs []Object
		for _, k := range slices.Compact(kinds) {
			objs = append(objs, r.state.List(k, f.Namespace, f.selector())...)
		}
		return ListResult{Objects: objs, Index: r.state.Index()}, nil
	case indexQuery:
		return r.state.Index(), nil
	case countQuery:
		return r.state.Count(), nil
	default:
		return nil, fmt.Errorf("lookup: unknown query %T: %w", q, errdefs.ErrInvalid)
	}
}

// watch registers a watcher and returns the backlog after fromRV, atomically
// with respect to Update.
func (r *replicaSM) watch(fromRV uint64, f Filter, buffer int) (*watcher, []Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	backlog, err := r.state.Since(fromRV, f.Kind, f.Namespace, f.selector())
	if err != nil {
		return nil, nil, err
	}
	if len(f.Kinds) > 0 { // Since knows one kind or all
		backlog = slices.DeleteFunc(backlog, func(e Event) bool { return !slices.Contains(f.Kinds, e.Object.Kind) })
	}
	w := newWatcher(f, buffer)
	r.watchers[w] = struct{}{}
	return w, backlog, nil
}

func (r *replicaSM) unwatch(w *watcher) {
	r.mu.Lock()
	if _, ok := r.watchers[w]; ok {
		delete(r.watchers, w)
		w.close()
	}
	r.mu.Unlock()
}

// SaveSnapshot writes the state.
func (r *replicaSM) SaveSnapshot(w io.Writer, _ sm.ISnapshotFileCollection, _ <-chan struct{}) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.state.WriteSnapshot(w)
}

// RecoverFromSnapshot replaces the state. Watchers of the old state are
// closed: they re-watch and learn whether they must relist.
func (r *replicaSM) RecoverFromSnapshot(rd io.Reader, _ []sm.SnapshotFile, _ <-chan struct{}) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for w := range r.watchers {
		w.close()
		delete(r.watchers, w)
	}
	return r.state.ReadSnapshot(rd)
}

// Close closes every watcher.
func (r *replicaSM) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for w := range r.watchers {
		w.close()
		delete(r.watchers, w)
	}
	return nil
}

// watcher is one watch's buffer. offer never blocks: a watcher whose buffer
// is full is closed (its consumer re-watches from the last version it saw),
// so a slow client never stalls the state machine. The buffer is a slice
// that grows with the backlog, not a channel of the full limit: an idle
// peer holds dozens of watches, and a 1024-event channel each cost
// megabytes of heap the collector scans.
type watcher struct {
	filter Filter
	sel    Selector
	limit  int
	wake   chan struct{} // 1-buffered: events or a close since the last take

	mu     sync.Mutex
	queue  []Event
	closed bool
}

func newWatcher(f Filter, limit int) *watcher {
	if limit <= 0 {
		limit = 1024
	}
	return &watcher{filter: f, sel: f.selector(), limit: limit, wake: make(chan struct{}, 1)}
}

// offer queues the matching events of one entry; false means the watcher
// overflowed and was closed. The limit applies to what already waits: an
// entry is taken whole while fewer than limit events wait, however many it
// holds (a binding of 1,024 pods is one entry, and with a limit on the
// total every watcher that had not drained the last one was closed and
// relisted). Called with the replica's lock held.
func (w *watcher) offer(events []Event) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	n := len(w.queue)
	for _, e := range events {
		if w.filter.matches(e.Object, w.sel) {
			w.queue = append(w.queue, e)
		}
	}
	if len(w.queue) > n && n >= w.limit {
		// None of the entry's events, rather than some: the consumer
		// resumes from the last version it saw, which must be whole.
		w.queue = w.queue[:n]
		w.closeLocked()
		return false
	}
	if len(w.queue) > n {
		w.signal()
	}
	return true
}

// take returns the events offered since the last take, and whether the
// watcher is closed (after these events, no more come).
func (w *watcher) take() ([]Event, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queue
	w.queue = nil
	return q, w.closed
}

func (w *watcher) close() {
	w.mu.Lock()
	w.closeLocked()
	w.mu.Unlock()
}

func (w *watcher) closeLocked() {
	if !w.closed {
		w.closed = true
		w.signal()
	}
}

func (w *watcher) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Filter selects objects by kind, namespace ("" for all) and label selector.
type Filter struct {
	Kind string
	// Kinds, when set, selects any of these kinds instead of Kind: one
	// consistent read of the few kinds a controller needs, without copying
	// and sorting every other object of the shard.
	Kinds     []string `json:",omitempty"`
	Namespace string
	Selector  string // Kubernetes label selector syntax; "" matches all
	// After, when set, is a "namespace/name" key: a list gives only the
	// objects after it (a page's continuation). Limit, when positive, is
	// the most objects a list gives; ListResult.More says there were more.
	// Watches ignore both. Peers of an earlier release ignore them too, so
	// a caller still checks what it gets.
	After string `json:",omitempty"`
	Limit int    `json:",omitempty"`
}

func (f Filter) selector() Selector {
	s, err := ParseSelector(f.Selector)
	if err != nil {
		return Everything() // validated by callers before it gets here
	}
	return s
}

func (f Filter) matches(o Object, sel Selector) bool {
	kind := f.Kind == "" || o.Kind == f.Kind
	if len(f.Kinds) > 0 {
		kind = slices.Contains(f.Kinds, o.Kind)
	}
	return kind && (f.Namespace == "" || o.Namespace == f.Namespace) && sel.Matches(o.Labels)
}

// page cuts a list sorted by namespace and name to the objects after the
// "namespace/name" key after, at most limit of them (all when limit is 0),
// and says whether it left some out.
func page(objs []Object, after string, limit int) ([]Object, bool) {
	if after != "" {
		i := sort.Search(len(objs), func(i int) bool { return objs[i].Namespace+"/"+objs[i].Name > after })
		objs = objs[i:]
	}
	if limit > 0 && len(objs) > limit {
		return objs[:limit], true
	}
	return objs, false
}
