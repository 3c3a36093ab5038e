package consensus

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

func TestVersionRoundTripAndGarbage(t *testing.T) {
	v := Version{2: 10, 3: 7, 1: 99}
	back, err := ParseVersion(v.String())
	if err != nil || len(back) != 3 || back[1] != 99 || back[2] != 10 || back[3] != 7 {
		t.Fatalf("%v %v", back, err)
	}
	if empty, err := ParseVersion(""); err != nil || len(empty) != 0 {
		t.Fatalf("empty: %v %v", empty, err)
	}
	for _, bad := range []string{"!!", "MTIz", "eC55"} { // not base64; "123"; "x.y"
		if _, err := ParseVersion(bad); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("ParseVersion(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestListAndWatchAcrossShards(t *testing.T) {
	router := Router{ObjectShards: 3}
	shards := router.Shards()[1:]
	th := newTestHosts(t, 1, shards, 0)
	h := th.hosts[0]
	for _, s := range shards {
		th.leader(s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	put := func(name string) {
		o := cm(name, "x")
		if _, err := h.Propose(ctx, router.ShardFor(o.Key(), ""), createBatch(o)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 12 {
		put(fmt.Sprintf("a%02d", i))
	}
	objs, v, err := ListShards(ctx, h, shards, Filter{Kind: "ConfigMap"}, true)
	if err != nil || len(objs) != 12 || len(v) != 3 {
		t.Fatalf("list: %d objects, version %v, %v", len(objs), v, err)
	}
	if objs[0].Name != "a00" || objs[11].Name != "a11" {
		t.Fatalf("not in name order: %s..%s", objs[0].Name, objs[11].Name)
	}
	events, err := WatchShards(ctx, h, shards, v, Filter{Kind: "ConfigMap"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 9 {
		put(fmt.Sprintf("b%02d", i))
	}
	seen := map[string]bool{}
	var last Version
	for len(seen) < 9 {
		select {
		case e := <-events:
			if seen[e.Event.Object.Name] || e.Event.Object.Name[0] != 'b' {
				t.Fatalf("unexpected or repeated event %s", e.Event.Object.Name)
			}
			seen[e.Event.Object.Name] = true
			last = e.Version
		case <-ctx.Done():
			t.Fatalf("saw %d of 9 changes", len(seen))
		}
	}
	// Resuming from the last event's version replays nothing.
	wctx, wcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer wcancel()
	again, err := WatchShards(wctx, h, shards, last, Filter{Kind: "ConfigMap"})
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := <-again; ok {
		t.Fatalf("resumed watch replayed %s", e.Event.Object.Name)
	}
}

// scriptedWatches is a Store whose watches replay given channels.
type scriptedWatches struct {
	Store
	chans map[uint64]chan Event
}

// Watch passes on the shard's scripted events until the script closes or
// ctx ends, as a real watch does.
func (s scriptedWatches) Watch(ctx context.Context, shard uint64, _ uint64, _ Filter) (<-chan Event, error) {
	out := make(chan Event)
	go func() {
		defer close(out)
		for {
			select {
			case e, ok := <-s.chans[shard]:
				if !ok {
					return
				}
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// An entry's events reach the consumer whole: the consumer's version is
// never inside an entry, so resuming from it skips nothing. The version
// after an entry's first event is the one before the entry; an entry cut
// short by its shard's watch ending is not delivered at all (it comes again
// on resuming).
func TestWatchShardsDeliversWholeEntries(t *testing.T) {
	ev := func(name string, rv uint64, more bool) Event {
		return Event{Type: Added, Object: Object{Kind: "ConfigMap", Name: name, ResourceVersion: rv}, More: more}
	}
	st := scriptedWatches{chans: map[uint64]chan Event{2: make(chan Event, 8), 3: make(chan Event, 8)}}
	st.chans[2] <- ev("a", 7, true)
	st.chans[2] <- ev("b", 7, false)
	st.chans[3] <- ev("c", 9, true) // the start of an entry; its watch ends before the rest
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events, err := WatchShards(ctx, st, []uint64{2, 3}, Version{2: 5, 3: 8}, Filter{Kind: "ConfigMap"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for e := range events {
		got = append(got, fmt.Sprintf("%s@%d/%d", e.Event.Object.Name, e.Version[2], e.Version[3]))
		if len(got) == 2 {
			close(st.chans[3])
		}
	}
	if want := []string{"a@5/8", "b@7/8"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// A watcher takes whole entries while fewer than its limit of events
// wait, however large they are; one that overflows takes none of the entry
// that overflowed it.
func TestWatcherOverflowKeepsWholeEntries(t *testing.T) {
	w := newWatcher(Filter{Kind: "ConfigMap"}, 3)
	entry := func(rv uint64, n int) []Event {
		var out []Event
		for i := range n {
			out = append(out, Event{Type: Added, Object: Object{Kind: "ConfigMap", Name: fmt.Sprint(rv, "-", i), ResourceVersion: rv}})
		}
		return out
	}
	if !w.offer(entry(3, 5)) {
		t.Fatal("an entry of 5 overflowed an empty watcher of 3")
	}
	if events, closed := w.take(); closed || len(events) != 5 {
		t.Fatalf("took %d events (closed %v), want entry 3's 5", len(events), closed)
	}
	if !w.offer(entry(4, 2)) || !w.offer(entry(5, 2)) {
		t.Fatal("entries overflowed a watcher of 3 that held 0 and then 2 events")
	}
	if !w.offer(nil) {
		t.Fatal("an entry with no events for the watcher overflowed it")
	}
	if w.offer(entry(6, 1)) {
		t.Fatal("an entry fit a watcher of 3 that held 4 events")
	}
	events, closed := w.take()
	if !closed || len(events) != 4 || events[3].Object.ResourceVersion != 5 {
		t.Fatalf("took %d events (closed %v), want entries 4 and 5 and closed", len(events), closed)
	}
}
