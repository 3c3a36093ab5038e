package consensus

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
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

// Get returns the object with key k. It shares Labels and Data with the
// state: read-only (see Object).
func (s *State) Get(k Key) (Object, bool) {
	o := s.lookup(k)
	if o == nil {
		return Object{}, false
	}
	return *o, true
}

// List returns the objects (sharing Labels and Data with the state:
// read-only, see Object) of a kind in a namespace that sel
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
		out[i] = *o
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

// Since returns the events (read-only, see Object) after resourceVersion rv, oldest first,
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
			out = append(out, Event{Type: e.Type, Object: *o})
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
		res.Objects[i] = e.Object
		events[i] = e
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

// The snapshot formats: a format byte, then a header (index, version of
// the newest dropped event, object count, event count), header.Objects
// objects sorted by kind, namespace and name, and header.Events events
// oldest first. Equal states write equal bytes.
//
// snapshotFormatBinaryV2 (written): the header as four uvarints, then each
// object and event as a uvarint length and its binary encoding (an event is
// its type's string, then the object). JSON with base64 data cost a busy
// replica a tenth of its CPU each time it snapshot a large shard.
// snapshotFormatJSONv1 (read, for data dirs written before): one JSON value
// a line.
const (
	snapshotFormatJSONv1   byte = 1
	snapshotFormatBinaryV2 byte = 2
)

type snapshotHeader struct {
	Index   uint64 `json:"index"`
	Dropped uint64 `json:"dropped"`
	Objects int    `json:"objects"`
	Events  int    `json:"events"`
}

// WriteSnapshot writes the whole state: index, objects, history and the
// version of the newest dropped event. Equal states write equal bytes.
func (s *State) WriteSnapshot(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	objects := s.sortedObjects()
	rec := make(wbuf, 0, 1024)
	rec = append(rec, snapshotFormatBinaryV2)
	rec.uvarint(s.index)
	rec.uvarint(s.dropped)
	rec.uvarint(uint64(len(objects)))
	rec.uvarint(uint64(s.history.len()))
	if _, err := bw.Write(rec); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	var body wbuf
	write := func() error {
		rec = binary.AppendUvarint(rec[:0], uint64(len(body)))
		if _, err := bw.Write(rec); err != nil {
			return err
		}
		_, err := bw.Write(body)
		return err
	}
	for _, o := range objects {
		body = body[:0]
		body.object(o)
		if err := write(); err != nil {
			return fmt.Errorf("write snapshot: %w", err)
		}
	}
	for i := range s.history.len() {
		e := s.history.at(i)
		body = body[:0]
		body.str(string(e.Type))
		body.object(&e.Object)
		if err := write(); err != nil {
			return fmt.Errorf("write snapshot: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

func (s *State) sortedObjects() []*Object {
	// Level by level: sorting each map's keys costs a fraction of sorting
	// all objects by a three-part comparison.
	out := make([]*Object, 0, s.count)
	for _, kind := range slices.Sorted(maps.Keys(s.objects)) {
		namespaces := s.objects[kind]
		for _, ns := range slices.Sorted(maps.Keys(namespaces)) {
			names := namespaces[ns]
			for _, name := range slices.Sorted(maps.Keys(names)) {
				out = append(out, names[name])
			}
		}
	}
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

// snapshotReader reads one format's header, objects and events.
type snapshotReader interface {
	header() (snapshotHeader, error)
	object() (Object, error)
	event() (Event, error)
}

func readSnapshot(r io.Reader, historyLimit int) (*State, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	format, err := br.ReadByte()
	if err != nil {
		return nil, invalidSnapshot(err)
	}
	var sr snapshotReader
	switch format {
	case snapshotFormatJSONv1:
		sr = jsonSnapshot{json.NewDecoder(br)}
	case snapshotFormatBinaryV2:
		sr = &binarySnapshot{r: br}
	default:
		return nil, fmt.Errorf("unknown format %d: %w", format, errdefs.ErrInvalid)
	}
	h, err := sr.header()
	if err != nil {
		return nil, invalidSnapshot(err)
	}
	if h.Objects < 0 || h.Events < 0 || h.Dropped > h.Index {
		return nil, fmt.Errorf("bad header %+v: %w", h, errdefs.ErrInvalid)
	}
	n := NewState(historyLimit)
	n.index, n.dropped = h.Index, h.Dropped
	for range h.Objects {
		o, err := sr.object()
		if err != nil {
			return nil, invalidSnapshot(err)
		}
		k := o.Key()
		if k.Kind == "" || k.Name == "" || o.ResourceVersion > h.Index || n.lookup(k) != nil {
			return nil, fmt.Errorf("bad object %s at resourceVersion %d: %w", k, o.ResourceVersion, errdefs.ErrInvalid)
		}
		o = o.clone() // normalize empty labels and data
		n.set(k, &o)
	}
	last := h.Dropped
	for range h.Events {
		e, err := sr.event()
		if err != nil {
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

type jsonSnapshot struct{ dec *json.Decoder }

func (j jsonSnapshot) header() (h snapshotHeader, err error) { return h, j.dec.Decode(&h) }
func (j jsonSnapshot) object() (o Object, err error)         { return o, j.dec.Decode(&o) }
func (j jsonSnapshot) event() (e Event, err error)           { return e, j.dec.Decode(&e) }

// binarySnapshot reads snapshotFormatBinaryV2, one length-prefixed record
// at a time into a reused buffer (decoding copies what it keeps).
type binarySnapshot struct {
	r   *bufio.Reader
	buf []byte
}

// maxSnapshotRecord bounds one record, so a corrupt length cannot make the
// reader allocate without bound.
const maxSnapshotRecord = 64 << 20

func (b *binarySnapshot) header() (snapshotHeader, error) {
	var v [4]uint64
	for i := range v {
		x, err := binary.ReadUvarint(b.r)
		if err != nil {
			return snapshotHeader{}, err
		}
		v[i] = x
	}
	if v[2] > math.MaxInt32 || v[3] > math.MaxInt32 {
		return snapshotHeader{}, fmt.Errorf("header counts %d objects, %d events: %w", v[2], v[3], errdefs.ErrInvalid)
	}
	return snapshotHeader{Index: v[0], Dropped: v[1], Objects: int(v[2]), Events: int(v[3])}, nil
}

func (b *binarySnapshot) record() (*rbuf, error) {
	n, err := binary.ReadUvarint(b.r)
	if err != nil {
		return nil, err
	}
	if n > maxSnapshotRecord {
		return nil, fmt.Errorf("record of %d bytes: %w", n, errdefs.ErrInvalid)
	}
	if uint64(cap(b.buf)) < n {
		b.buf = make([]byte, n)
	}
	b.buf = b.buf[:n]
	if _, err := io.ReadFull(b.r, b.buf); err != nil {
		return nil, err
	}
	return &rbuf{p: b.buf}, nil
}

func (b *binarySnapshot) object() (Object, error) {
	r, err := b.record()
	if err != nil {
		return Object{}, err
	}
	o := r.object()
	return o, r.done()
}

func (b *binarySnapshot) event() (Event, error) {
	r, err := b.record()
	if err != nil {
		return Event{}, err
	}
	e := Event{Type: EventType(r.str())}
	e.Object = r.object()
	if err := r.done(); err != nil {
		return Event{}, err
	}
	switch e.Type {
	case Added, Modified, Deleted:
		return e, nil
	}
	return Event{}, fmt.Errorf("event type %q: %w", e.Type, errdefs.ErrInvalid)
}

func invalidSnapshot(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%v: %w", err, errdefs.ErrInvalid)
}
