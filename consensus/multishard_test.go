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
