package consensus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

func TestApplyGroupBatchesFailAlone(t *testing.T) {
	s := seeded(t)
	results, events := s.ApplyGroup(7, []Batch{
		{Commands: []Command{create(obj("ConfigMap", "default", "a", nil, "1"))}},
		{Commands: []Command{create(obj("ConfigMap", "default", "app", nil, "dup"))}}, // exists
		{Commands: []Command{update(obj("ConfigMap", "default", "app", nil, "2"), 5)}},
		{Commands: []Command{create(obj("ConfigMap", "default", "b", nil, "1")), del("Node", "", "missing", 0)}},
	})
	if len(results) != 4 {
		t.Fatalf("%d results, want 4", len(results))
	}
	if err := results[0].Error(); err != nil {
		t.Errorf("batch 0: %v", err)
	}
	if err := results[1].Error(); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("batch 1: %v, want already exists", err)
	}
	if err := results[2].Error(); err != nil {
		t.Errorf("batch 2: %v", err)
	}
	if err := results[3].Error(); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("batch 3: %v, want not found", err)
	}
	if _, ok := s.Get(Key{Kind: "ConfigMap", Namespace: "default", Name: "b"}); ok {
		t.Errorf("batch 3 was not atomic: b exists")
	}
	for i, r := range results {
		if r.Index != 7 {
			t.Errorf("batch %d: index %d, want 7", i, r.Index)
		}
	}
	if len(events) != 2 || events[0].Object.Name != "a" || events[1].Object.Name != "app" {
		t.Errorf("events %v, want a then app", events)
	}
	if s.Index() != 7 {
		t.Errorf("index %d, want 7", s.Index())
	}
	again, _ := s.ApplyGroup(7, []Batch{{}, {}})
	for i, r := range again {
		if !errors.Is(r.Error(), errdefs.ErrInvalid) {
			t.Errorf("old index, batch %d: %v, want invalid", i, r.Error())
		}
	}
}

func TestGroupCodecRoundTrip(t *testing.T) {
	parts := [][]byte{[]byte("one"), {}, []byte("three")}
	got, err := decodeGroup(encodeGroup(parts))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(parts) {
		t.Fatalf("got %q, want %q", got, parts)
	}
	for _, bad := range [][]byte{nil, {formatGroupV3}, {formatGroupV3, 2, 1, 'x'}, {formatBinaryV2, 0}, append(encodeGroup(parts), 0)} {
		if _, err := decodeGroup(bad); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("decodeGroup(%q): %v, want invalid", bad, err)
		}
	}
}

func TestPickGroupKeepsOneChangePerKey(t *testing.T) {
	k := func(name string) Key { return Key{Kind: "ConfigMap", Namespace: "d", Name: name} }
	pr := func(id string, keys ...Key) *proposal { return &proposal{cmd: []byte(id), keys: keys} }
	queue := []*proposal{pr("1", k("a")), pr("2", k("b")), pr("3", k("a")), pr("4", k("c"), k("b")), pr("5", k("d"))}
	group, rest := pickGroup(queue)
	if ids(group) != "1 2 5" || ids(rest) != "3 4" {
		t.Fatalf("group %q rest %q, want \"1 2 5\" and \"3 4\"", ids(group), ids(rest))
	}
	group, rest = pickGroup(rest)
	if ids(group) != "3 4" || len(rest) != 0 {
		t.Fatalf("second group %q rest %q", ids(group), ids(rest))
	}

	big := make([]byte, groupMaxBytes)
	group, rest = pickGroup([]*proposal{{cmd: big}, pr("x", k("x"))})
	if len(group) != 1 || len(rest) != 1 {
		t.Fatalf("an oversized batch goes alone: group %d, rest %d", len(group), len(rest))
	}
	var many []*proposal
	for i := range groupMaxBatches + 3 {
		many = append(many, pr(fmt.Sprint(i), k(fmt.Sprint(i))))
	}
	group, rest = pickGroup(many)
	if len(group) != groupMaxBatches || len(rest) != 3 {
		t.Fatalf("group %d rest %d, want %d and 3", len(group), len(rest), groupMaxBatches)
	}
}

func ids(ps []*proposal) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += " "
		}
		s += string(p.cmd)
	}
	return s
}

// Many concurrent writers through one host share raft entries, and still
// every change to one object gets its own version, so compare-and-swap
// against any acknowledged version is exact.
func TestGroupCommitGivesEveryChangeItsOwnVersion(t *testing.T) {
	th := newTestHosts(t, 3, []uint64{2}, 0)
	ctx := context.Background()
	h := th.hosts[th.leader(2)]
	if _, err := h.Propose(ctx, 2, createBatch(cm("shared", "0"))); err != nil {
		t.Fatal(err)
	}
	const writers, rounds = 16, 20
	var mu sync.Mutex
	seen := map[uint64]string{}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				val := fmt.Sprint(w, "-", r)
				res, err := h.Propose(ctx, 2, Batch{Commands: []Command{
					{Op: OpUpdate, Object: cm("shared", val)},
					// and a key of its own, so groups mix shared and private keys
				}})
				if err == nil {
					_, err = h.Propose(ctx, 2, createBatch(cm(fmt.Sprint("own-", w, "-", r), val)))
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if prev, dup := seen[res.Objects[0].ResourceVersion]; dup {
					errs <- fmt.Errorf("version %d given to %s and %s", res.Objects[0].ResourceVersion, prev, val)
				}
				seen[res.Objects[0].ResourceVersion] = val
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	entries, batches := h.ProposeStats()
	t.Logf("%d batches in %d entries", batches, entries)
	if entries >= batches {
		t.Errorf("no entry carried more than one batch (%d entries for %d batches)", entries, batches)
	}
}

// Writers whose shard loses its leader mid-stream all succeed: a proposal
// whose attempt went unanswered is proposed again under its client session,
// and a create that had in fact been applied is answered with its first
// result, not "already exists" (it is applied once).
func TestWritesSurviveTheLeaderDyingUnderThem(t *testing.T) {
	th := newTestHosts(t, 3, []uint64{2}, 0)
	leader := th.leader(2)
	var writers []int
	for i := range th.hosts {
		if i != leader {
			writers = append(writers, i)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	var written atomic.Int64
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := th.hosts[writers[w%len(writers)]]
			for n := range 40 {
				if n == 10 && w == 0 {
					th.kill(leader)
				}
				wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
				_, err := h.Propose(wctx, 2, createBatch(cm(fmt.Sprintf("w%d-%d", w, n), "x")))
				wcancel()
				if err != nil {
					errs <- fmt.Errorf("writer %d write %d: %w", w, n, err)
					return
				}
				written.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if th.hosts[leader] != nil {
		t.Fatal("the leader was never killed")
	}
	l, err := th.hosts[writers[0]].List(ctx, 2, Filter{Kind: "ConfigMap"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(l.Objects)) != written.Load() || written.Load() != 8*40 {
		t.Fatalf("%d objects stored, %d writes acknowledged, want %d of each", len(l.Objects), written.Load(), 8*40)
	}
}

// Asynchronous proposals share one ctx: each is answered exactly once,
// through its callback; one whose ctx ended before its turn is answered
// with that error and never applied.
func TestProposeAsyncAnswersEachOnce(t *testing.T) {
	th := newTestHosts(t, 3, []uint64{2}, 0)
	h := th.hosts[th.leader(2)]
	ctx := context.Background()
	const n = 200
	var mu sync.Mutex
	answers := map[int]int{}
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		h.ProposeAsync(ctx, 2, createBatch(cm(fmt.Sprint("async-", i), "v")), nil, 5*time.Second, func(res Result, err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("proposal %d: %v", i, err)
			} else if len(res.Objects) != 1 || res.Objects[0].Name != fmt.Sprint("async-", i) {
				t.Errorf("proposal %d answered with %+v", i, res.Objects)
			}
			mu.Lock()
			answers[i]++
			mu.Unlock()
		})
	}
	wg.Wait()
	for i := range n {
		if answers[i] != 1 {
			t.Errorf("proposal %d answered %d times", i, answers[i])
		}
	}

	gone, cancel := context.WithCancel(ctx)
	cancel()
	errc := make(chan error, 1)
	h.ProposeAsync(gone, 2, createBatch(cm("never", "v")), nil, 0, func(_ Result, err error) { errc <- err })
	if err := <-errc; !errors.Is(err, errdefs.ErrUnavailable) && !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled proposal answered %v", err)
	}
	if _, err := h.Get(ctx, 2, Key{Kind: "ConfigMap", Namespace: "default", Name: "never"}, true); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("a cancelled proposal was applied: get says %v", err)
	}
}
