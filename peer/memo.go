package peer

import (
	"encoding/json"
	"sync"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/workload"
)

// memo keeps decoded objects by key and resourceVersion, so that the
// scheduler, the controllers and the endpoints pass, which list thousands
// of pods (and the scheduler a thousand Nodes and ledgers) on each pass,
// decode only what changed since. JSON decoding was over a quarter of a
// busy peer's CPU with 5,000 pods (shoal-bench hollow).
//
// What it returns is shared between passes: callers must not modify an
// object; they copy it (and any slice or map they change in it) first.
type memo[T any] struct {
	decodeFn func(consensus.Object) (*T, error)

	mu    sync.Mutex
	gen   uint64
	most  int // the longest list decoded, to bound what is kept
	byKey map[consensus.Key]memoEntry[T]
}

type memoEntry[T any] struct {
	rv   uint64
	obj  *T
	used uint64 // gen of the last decode that returned it
}

func newMemo[T any](decode func(consensus.Object) (*T, error)) *memo[T] {
	return &memo[T]{decodeFn: decode, byKey: map[consensus.Key]memoEntry[T]{}}
}

// The memos of a peer's passes.
func newPodMemo() *memo[workload.Pod] {
	return newMemo(func(so consensus.Object) (*workload.Pod, error) {
		pod, err := decodePod(so)
		return &pod, err
	})
}

func newNodeMemo() *memo[workload.Node] {
	return newMemo(func(so consensus.Object) (*workload.Node, error) {
		var n workload.Node
		return &n, json.Unmarshal(so.Data, &n)
	})
}

func newLedgerMemo() *memo[ledger] { return newMemo(decodeLedger) }

// decode returns objs decoded, decoding only those it has not seen at their
// resourceVersion; objects that do not decode are left out.
func (m *memo[T]) decode(objs []consensus.Object) []*T {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	m.most = max(m.most, len(objs))
	out := make([]*T, 0, len(objs))
	for _, so := range objs {
		k := so.Key()
		e, ok := m.byKey[k]
		if !ok || e.rv != so.ResourceVersion {
			obj, err := m.decodeFn(so)
			if err != nil {
				continue
			}
			e = memoEntry[T]{rv: so.ResourceVersion, obj: obj}
		}
		e.used = m.gen
		m.byKey[k] = e
		out = append(out, e.obj)
	}
	// Forget objects no recent list returned (deleted ones), once the memo
	// holds well over the longest list.
	if len(m.byKey) > 2*m.most+1024 {
		for k, e := range m.byKey {
			if m.gen-e.used > 16 {
				delete(m.byKey, k)
			}
		}
	}
	return out
}

// remember records obj as what decoding key's object at rv gives: a
// writer that holds what it just stored (the scheduler's bindings) spares
// the next passes decoding it. obj must be exactly that, and is shared
// from then on.
func (m *memo[T]) remember(k consensus.Key, rv uint64, obj *T) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.byKey[k]; ok && e.rv > rv {
		return // a later version is known already
	}
	m.byKey[k] = memoEntry[T]{rv: rv, obj: obj, used: m.gen}
}
