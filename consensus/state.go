package consensus

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// DefaultHistoryLimit is how many recent events a State keeps for watches
// when NewState is given no limit.
const DefaultHistoryLimit = 10000

// State is the deterministic core of one shard's replicated object store:
// the objects by key, the index of the last applied raft entry, and a
// bounded history of recent events for watches. Every replica of a shard
// applies the same entries to its State and so holds the same State.
//
// State does no I/O and keeps no time. It is not safe for concurrent use:
// reads (Index, Get, List, Since, Count, WriteSnapshot) may run concurrently
// with each other, but not with Apply or ReadSnapshot.
//
// Everything State returns is the caller's own copy: mutating a returned
// object, its Labels or its Data never changes the State.
type State struct {
	index uint64
	// objects indexes objects by kind, then namespace, then name. A stored
	// *Object is immutable: a change stores a new one, so the history can
	// share it.
	objects map[string]map[string]map[string]*Object
	count   int

	history eventRing
	// dropped is the ResourceVersion of the newest event that the history
	// no longer holds; 0 while it has dropped none.
	dropped uint64

	// Scratch space for Apply, reused between batches.
	undo   []undoEntry
	staged []Event
}

// NewState returns an empty state that keeps the last historyLimit events
// for watches (DefaultHistoryLimit when historyLimit <= 0).
func NewState(historyLimit int) *State {
	if historyLimit <= 0 {
		historyLimit = DefaultHistoryLimit
	}
	return &State{
		objects: map[string]map[string]map[string]*Object{},
		history: eventRing{limit: historyLimit},
	}
}

// Index is the raft index of the last applied batch, failed or not.
func (s *State) Index() uint64 { return s.index }

// Count is how many objects the state holds.
func (s *State) Count() int { return s.count }

// Get returns a copy of the object with key k.
func (s *State) Get(k Key) (Object, bool) {
	o := s.lookup(k)
	if o == nil {
		return Object{}, false
	}
	return o.clone(), true
}

// List returns copies of the objects of a kind in a namespace that sel
// selects, sorted by namespace then name. Namespace "" lists every
// namespace; kind "" lists every kind (sorted by kind first); a nil sel
// selects everything.
func (s *State) List(kind, namespace string, sel Selector) []Object {
	all := matchesAll(sel)
	var found []*Object
	collect := func(names map[string]*Object) {
		for _, o := range names {
			if all || sel.Matches(o.Labels) {
				found = append(found, o)
			}
		}
	}
	collectKind := func(namespaces map[string]map[string]*Object) {
		if namespace != "" {
			collect(namespaces[namespace])
			return
		}
		for _, names := range namespaces {
			collect(names)
		}
	}
	if kind != "" {
		collectKind(s.objects[kind])
	} else {
		for _, namespaces := range s.objects {
			collectKind(namespaces)
		}
	}
	slices.SortFunc(found, compareObjects)
	out := make([]Object, len(found))
	for i, o := range found {
		out[i] = o.clone()
	}
	return out
}

// compareObjects orders objects by kind, namespace, name.
func compareObjects(a, b *Object) int {
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// Since returns copies of the events after resourceVersion rv, oldest first,
// of objects of a kind ("" for all) in a namespace ("" for all) that sel
// selects (nil for all). rv >= Index() has none. If the bounded history has
// dropped any event after rv, whatever its object, the answer is an error
// wrapping errdefs.ErrGone: the caller must relist and watch from the list's
// version. rv 0 means from the beginning, which is gone once any event was
// dropped.
func (s *State) Since(rv uint64, kind, namespace string, sel Selector) ([]Event, error) {
	if rv >= s.index {
		return nil, nil
	}
	if s.dropped > rv {
		return nil, fmt.Errorf("watch from resourceVersion %d: history holds only events after %d: 410 Gone: relist: %w",
			rv, s.dropped, errdefs.ErrGone)
	}
	all := matchesAll(sel)
	n := s.history.len()
	first := sort.Search(n, func(i int) bool { return s.history.at(i).Object.ResourceVersion > rv })
	var out []Event
	for i := first; i < n; i++ {
		e := s.history.at(i)
		o := &e.Object
		if (kind == "" || o.Kind == kind) && (namespace == "" || o.Namespace == namespace) && (all || sel.Matches(o.Labels)) {
			out = append(out, Event{Type: e.Type, Object: o.clone()})
		}
	}
	return out, nil
}

// Apply applies the batch committed at raft index index, which must be
// greater than Index(). The batch is atomic: on success every command took
// effect, each seeing the effects of the commands before it, and Apply
// returns one object per command and the events, which it also appends to
// the history; on failure nothing changed but Index(), which becomes index
// all the same (the batch consumed it), and the Result names the failed
// command and its error.
//
//   - create fails with errdefs.ErrAlreadyExists if the key exists; it sets
//     CreateVersion and ResourceVersion to index.
//   - update fails with errdefs.ErrNotFound if the key does not exist, and
//     with errdefs.ErrConflict if Precondition is non-zero and differs from
//     the object's ResourceVersion; it keeps CreateVersion and sets
//     ResourceVersion to index, even when nothing else changed.
//   - delete fails like update; its event holds the object's last state
//     with ResourceVersion set to index.
//   - a command without Kind or Name, or with an unknown Op, fails with
//     errdefs.ErrInvalid.
//
// An index not greater than Index() is refused with errdefs.ErrInvalid and
// changes nothing at all. Apply copies what it keeps: the caller may reuse b.
func (s *State) Apply(index uint64, b Batch) (Result, []Event) {
	if err := s.advance(index); err != nil {
		return Result{Index: index, Err: err.Error(), Code: codeOf(err)}, nil
	}
	return s.applyAt(index, b)
}

// ApplyGroup applies several independent batches committed together in one
// raft entry at index (group commit). Each batch is atomic on its own, sees
// the effects of the batches before it, and may fail alone; all of them
// share index as their version, so the proposer never puts two batches that
// touch one key into a group (each change to a key must get its own
// version). An index not greater than Index() refuses every batch.
func (s *State) ApplyGroup(index uint64, batches []Batch) ([]Result, []Event) {
	results := make([]Result, len(batches))
	if err := s.advance(index); err != nil {
		for i := range results {
			results[i] = Result{Index: index, Err: err.Error(), Code: codeOf(err)}
		}
		return results, nil
	}
	var events []Event
	for i, b := range batches {
		var evs []Event
		results[i], evs = s.applyAt(index, b)
		events = append(events, evs...)
	}
	return results, events
}

// advance moves the state to index, which must be past Index().
func (s *State) advance(index uint64) error {
	if index <= s.index {
		return fmt.Errorf("apply at index %d: state is already at index %d: %w", index, s.index, errdefs.ErrInvalid)
	}
	s.index = index
	return nil
}

func (s *State) applyAt(index uint64, b Batch) (Result, []Event) {
	defer s.resetScratch()
	for i := range b.Commands {
		if err := s.applyCommand(index, &b.Commands[i]); err != nil {
			s.rollback()
			return Result{Index: index, Err: err.Error(), Code: codeOf(err), Failed: i}, nil
		}
	}
	if len(s.staged) == 0 {
		return Result{Index: index}, nil
	}
	res := Result{Index: index, Objects: make([]Object, len(s.staged))}
	events := make([]Event, len(s.staged))
	for i, e := range s.staged {
		s.record(e)
		res.Objects[i] = e.Object.clone()
		events[i] = Event{Type: e.Type, Object: e.Object.clone()}
	}
	return res, events
}

// undoEntry restores one key to what it was before a batch: prev, or absent
// when prev is nil.
type undoEntry struct {
	key  Key
	prev *Object
}

func (s *State) applyCommand(index uint64, c *Command) error {
	k := c.Object.Key()
	if k.Kind == "" || k.Name == "" {
		return fmt.Errorf("%s %s: kind and name are required: %w", c.Op, k, errdefs.ErrInvalid)
	}
	cur := s.lookup(k)
	switch c.Op {
	case OpCreate:
		if cur != nil {
			return fmt.Errorf("create %s: %w", k, errdefs.ErrAlreadyExists)
		}
		o := c.Object.clone()
		o.CreateVersion, o.ResourceVersion = index, index
		s.put(k, &o)
		s.staged = append(s.staged, Event{Type: Added, Object: o})
	case OpUpdate:
		if err := checkCurrent(c, k, cur); err != nil {
			return err
		}
		o := c.Object.clone()
		o.CreateVersion, o.ResourceVersion = cur.CreateVersion, index
		s.put(k, &o)
		s.staged = append(s.staged, Event{Type: Modified, Object: o})
	case OpDelete:
		if err := checkCurrent(c, k, cur); err != nil {
			return err
		}
		s.put(k, nil)
		last := *cur
		last.ResourceVersion = index
		s.staged = append(s.staged, Event{Type: Deleted, Object: last})
	default:
		return fmt.Errorf("%s: unknown op %q: %w", k, c.Op, errdefs.ErrInvalid)
	}
	return nil
}

// checkCurrent checks that an update or delete has an object to change and
// that its precondition holds.
func checkCurrent(c *Command, k Key, cur *Object) error {
	if cur == nil {
		return fmt.Errorf("%s %s: %w", c.Op, k, errdefs.ErrNotFound)
	}
	if c.Precondition != 0 && c.Precondition != cur.ResourceVersion {
		return fmt.Errorf("%s %s: resourceVersion is %d, not %d: %w",
			c.Op, k, cur.ResourceVersion, c.Precondition, errdefs.ErrConflict)
	}
	return nil
}

func (s *State) lookup(k Key) *Object {
	return s.objects[k.Kind][k.Namespace][k.Name]
}

// put stores o under k (removes k when o is nil) and remembers how to undo it.
func (s *State) put(k Key, o *Object) {
	s.undo = append(s.undo, undoEntry{key: k, prev: s.set(k, o)})
}

// rollback undoes the puts of the current batch, newest first.
func (s *State) rollback() {
	for i := len(s.undo) - 1; i >= 0; i-- {
		s.set(s.undo[i].key, s.undo[i].prev)
	}
}

func (s *State) resetScratch() {
	clear(s.undo) // drop references to replaced objects
	clear(s.staged)
	s.undo, s.staged = s.undo[:0], s.staged[:0]
}

// set stores o under k, or removes k when o is nil, and returns what k held.
// Empty inner maps are removed so that churn does not leak them.
func (s *State) set(k Key, o *Object) (prev *Object) {
	namespaces := s.objects[k.Kind]
	names := namespaces[k.Namespace]
	prev = names[k.Name]
	if o == nil {
		if prev == nil {
			return nil
		}
		delete(names, k.Name)
		s.count--
		if len(names) == 0 {
			delete(namespaces, k.Namespace)
			if len(namespaces) == 0 {
				delete(s.objects, k.Kind)
			}
		}
		return prev
	}
	if namespaces == nil {
		namespaces = map[string]map[string]*Object{}
		s.objects[k.Kind] = namespaces
	}
	if names == nil {
		names = map[string]*Object{}
		namespaces[k.Namespace] = names
	}
	if prev == nil {
		s.count++
	}
	names[k.Name] = o
	return prev
}

// record appends an event to the history, noting the version of any event
// it drops.
func (s *State) record(e Event) {
	if old, ok := s.history.push(e); ok {
		s.dropped = old.Object.ResourceVersion
	}
}

// eventRing holds the newest limit events, oldest first. It grows up to
// limit and then overwrites its oldest.
type eventRing struct {
	buf   []Event
	start int // position in buf of the oldest event, once buf is full
	limit int
}

func (r *eventRing) len() int { return len(r.buf) }

// at returns the i-th oldest event.
func (r *eventRing) at(i int) *Event {
	i += r.start
	if i >= len(r.buf) {
		i -= len(r.buf)
	}
	return &r.buf[i]
}

// push appends e and returns the event it dropped, if any.
func (r *eventRing) push(e Event) (Event, bool) {
	if len(r.buf) < r.limit {
		r.buf = append(r.buf, e)
		return Event{}, false
	}
	old := r.buf[r.start]
	r.buf[r.start] = e
	r.start++
	if r.start == len(r.buf) {
		r.start = 0
	}
	return old, true
}

// The snapshot format: a format byte, then a stream of JSON values, one a
// line: a snapshotHeader, header.Objects objects sorted by kind, namespace
// and name, and header.Events events oldest first. Equal states write equal
// bytes.
const snapshotFormatJSONv1 byte = 1

type snapshotHeader struct {
	Index   uint64 `json:"index"`
	Dropped uint64 `json:"dropped"`
	Objects int    `json:"objects"`
	Events  int    `json:"events"`
}

// WriteSnapshot writes the whole state: index, objects, history and the
// version of the newest dropped event. Equal states write equal bytes.
func (s *State) WriteSnapshot(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if err := bw.WriteByte(snapshotFormatJSONv1); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	enc := json.NewEncoder(bw)
	objects := s.sortedObjects()
	h := snapshotHeader{Index: s.index, Dropped: s.dropped, Objects: len(objects), Events: s.history.len()}
	if err := enc.Encode(h); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	for _, o := range objects {
		if err := enc.Encode(o); err != nil {
			return fmt.Errorf("write snapshot: object %s: %w", o.Key(), err)
		}
	}
	for i := range s.history.len() {
		if err := enc.Encode(s.history.at(i)); err != nil {
			return fmt.Errorf("write snapshot: event: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

func (s *State) sortedObjects() []*Object {
	out := make([]*Object, 0, s.count)
	for _, namespaces := range s.objects {
		for _, names := range namespaces {
			for _, o := range names {
				out = append(out, o)
			}
		}
	}
	slices.SortFunc(out, compareObjects)
	return out
}

// ReadSnapshot replaces the state with one that WriteSnapshot wrote. The
// history limit stays this State's own: a longer history is cut to it,
// oldest first. On error the state is unchanged; a malformed snapshot is
// errdefs.ErrInvalid.
func (s *State) ReadSnapshot(r io.Reader) error {
	n, err := readSnapshot(r, s.history.limit)
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	*s = *n
	return nil
}

func readSnapshot(r io.Reader, historyLimit int) (*State, error) {
	br := bufio.NewReader(r)
	format, err := br.ReadByte()
	if err != nil {
		return nil, invalidSnapshot(err)
	}
	if format != snapshotFormatJSONv1 {
		return nil, fmt.Errorf("unknown format %d: %w", format, errdefs.ErrInvalid)
	}
	dec := json.NewDecoder(br)
	var h snapshotHeader
	if err := dec.Decode(&h); err != nil {
		return nil, invalidSnapshot(err)
	}
	if h.Objects < 0 || h.Events < 0 || h.Dropped > h.Index {
		return nil, fmt.Errorf("bad header %+v: %w", h, errdefs.ErrInvalid)
	}
	n := NewState(historyLimit)
	n.index, n.dropped = h.Index, h.Dropped
	for range h.Objects {
		o := new(Object)
		if err := dec.Decode(o); err != nil {
			return nil, invalidSnapshot(err)
		}
		k := o.Key()
		if k.Kind == "" || k.Name == "" || o.ResourceVersion > h.Index || n.lookup(k) != nil {
			return nil, fmt.Errorf("bad object %s at resourceVersion %d: %w", k, o.ResourceVersion, errdefs.ErrInvalid)
		}
		*o = o.clone() // normalize empty labels and data
		n.set(k, o)
	}
	last := h.Dropped
	for range h.Events {
		var e Event
		if err := dec.Decode(&e); err != nil {
			return nil, invalidSnapshot(err)
		}
		if rv := e.Object.ResourceVersion; rv < last || rv > h.Index {
			return nil, fmt.Errorf("event at resourceVersion %d out of order: %w", rv, errdefs.ErrInvalid)
		}
		last = e.Object.ResourceVersion
		e.Object = e.Object.clone()
		n.record(e)
	}
	return n, nil
}

func invalidSnapshot(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%v: %w", err, errdefs.ErrInvalid)
}
