package consensus

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Version is a resourceVersion across shards: each shard's index. Clients
// see it only as the opaque string String returns; a single object's
// version stays its shard's index.
type Version map[uint64]uint64

// String encodes the version opaquely: base64url of "shard.index,..." in
// shard order.
func (v Version) String() string {
	ids := make([]uint64, 0, len(v))
	for id := range v {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(id, 10))
		b.WriteByte('.')
		b.WriteString(strconv.FormatUint(v[id], 10))
	}
	return base64.RawURLEncoding.EncodeToString([]byte(b.String()))
}

// ParseVersion reads a version String wrote; "" and "0" mean "from now" to
// a watch and "any" to a list.
func ParseVersion(s string) (Version, error) {
	v := Version{}
	if s == "" || s == "0" {
		return v, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("resourceVersion %q: not one this cluster issued: %w", s, errdefs.ErrInvalid)
	}
	for _, part := range strings.Split(string(raw), ",") {
		sid, idx, ok := strings.Cut(part, ".")
		shard, err1 := strconv.ParseUint(sid, 10, 64)
		index, err2 := strconv.ParseUint(idx, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("resourceVersion %q: not one this cluster issued: %w", s, errdefs.ErrInvalid)
		}
		v[shard] = index
	}
	return v, nil
}

// ListShards lists what a filter selects across shards, in (namespace,
// name) order, with the composite version it was read at.
func ListShards(ctx context.Context, st Store, shards []uint64, f Filter, linearizable bool) ([]Object, Version, error) {
	type part struct {
		l   ListResult
		err error
	}
	parts := make([]part, len(shards))
	var wg sync.WaitGroup
	for i, s := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i].l, parts[i].err = st.List(ctx, s, f, linearizable)
		}()
	}
	wg.Wait()
	var out []Object
	v := Version{}
	for i, p := range parts {
		if p.err != nil {
			return nil, nil, p.err
		}
		out = append(out, p.l.Objects...)
		v[shards[i]] = p.l.Index
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Kind < out[j].Kind
	})
	return out, v, nil
}

// ShardEvent is a change from one of several watched shards, with the
// composite version to resume from after it.
type ShardEvent struct {
	Shard   uint64
	Event   Event
	Version Version
}

// WatchShards watches several shards from a composite version (a shard it
// lacks is watched from now) and merges their changes: each shard's changes
// arrive in order and once; shards interleave. The channel closes when ctx
// ends or any shard's watch ends; the consumer resumes from the last
// event's Version (and relists on ErrGone).
func WatchShards(ctx context.Context, st Store, shards []uint64, from Version, f Filter) (<-chan ShardEvent, error) {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx) // ends every shard's watch
	start := Version{}
	for _, s := range shards {
		rv, ok := from[s]
		if !ok {
			l, err := st.List(ctx, s, Filter{Kind: "\x00"}, true) // the index alone
			if err != nil {
				cancel()
				return nil, err
			}
			rv = l.Index
		}
		start[s] = rv
	}
	// A shard's forwarder passes on whole entries (see Event.More), and
	// the merger delivers an entry it started even when another shard's
	// watch ended meanwhile: the consumer's version is then always at an
	// entry's end, so resuming from it skips nothing.
	type entry struct {
		shard  uint64
		events []Event
	}
	merged := make(chan entry)
	var wg sync.WaitGroup
	for _, s := range shards {
		ch, err := st.Watch(ctx, s, start[s], f)
		if err != nil {
			cancel()
			wg.Wait()
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel() // one shard's watch ended: end them all
			var events []Event
			for e := range ch {
				events = append(events, e)
				if e.More {
					continue
				}
				select {
				case merged <- entry{s, events}:
				case <-ctx.Done():
					return
				}
				events = nil
			} // an entry cut short by the end is dropped: it comes again on resuming
		}()
	}
	go func() {
		wg.Wait()
		cancel()
		close(merged)
	}()
	out := make(chan ShardEvent, 64)
	go func() {
		defer close(out)
		cur := Version{}
		for k, v := range start {
			cur[k] = v
		}
		for en := range merged {
			prev := cur[en.shard]
			for i, e := range en.events {
				// Within an entry, the version to resume from is the one
				// before it: resuming there repeats the entry rather than
				// skipping its rest.
				cur[en.shard] = prev
				if i == len(en.events)-1 {
					cur[en.shard] = e.Object.ResourceVersion
				}
				next := make(Version, len(cur))
				for k, v := range cur {
					next[k] = v
				}
				select {
				case out <- ShardEvent{Shard: en.shard, Event: e, Version: next}:
				case <-parent.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
