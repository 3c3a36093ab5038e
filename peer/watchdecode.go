package peer

import (
	"sync"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/workload"
)

// watchDecodes shares the decoding of a stored object among the watches
// that deliver it. Every client-go informer on a kind holds a watch, and
// each watch used to decode every event's JSON for itself: with 100
// informers on pods, 100 decodes of each pod change. Here the first watch
// to need an object at a version decodes it; the others get a deep copy
// (a tenth of the cost), so each caller still owns what it is given.
//
// It keeps the last watchDecodeLimit versions seen, oldest out first: a
// watch that lags further behind decodes for itself. Secrets are never
// kept (they are opened after decoding, and the clear text stays with
// the request that asked for it).
type watchDecodes struct {
	mu      sync.Mutex
	entries map[watchDecodeKey]*watchDecode
	order   []watchDecodeKey // a ring, oldest at next
	next    int
}

const watchDecodeLimit = 1024

type watchDecodeKey struct {
	shard uint64
	key   consensus.Key
	rv    uint64
}

type watchDecode struct {
	once sync.Once
	obj  workload.Object
	err  error
}

func newWatchDecodes() *watchDecodes {
	return &watchDecodes{entries: map[watchDecodeKey]*watchDecode{}}
}

// decode returns a copy of so decoded by fn, which runs once per version
// while the version is kept.
func (c *watchDecodes) decode(shard uint64, so consensus.Object, fn func() (workload.Object, error)) (workload.Object, error) {
	k := watchDecodeKey{shard: shard, key: consensus.Key{Kind: so.Kind, Namespace: so.Namespace, Name: so.Name}, rv: so.ResourceVersion}
	c.mu.Lock()
	e, shared := c.entries[k]
	if !shared {
		e = &watchDecode{}
		c.remember(k, e)
	}
	c.mu.Unlock()
	e.once.Do(func() { e.obj, e.err = fn() })
	if e.err != nil {
		return nil, e.err
	}
	// The kept object is never handed out, not even to the watch that
	// decoded it: each caller may change what it is given.
	return e.obj.DeepCopyObject().(workload.Object), nil
}

// remember keeps e under k, dropping the oldest entry when full. c.mu is held.
func (c *watchDecodes) remember(k watchDecodeKey, e *watchDecode) {
	if len(c.order) < watchDecodeLimit {
		c.order = append(c.order, k)
	} else {
		delete(c.entries, c.order[c.next])
		c.order[c.next] = k
		c.next = (c.next + 1) % watchDecodeLimit
	}
	c.entries[k] = e
}
