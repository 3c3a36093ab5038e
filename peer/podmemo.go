package peer

import (
	"sync"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/workload"
)

// podMemo keeps decoded pods by key and resourceVersion, so that the
// scheduler, the controllers and the endpoints pass, which list thousands
// of pods on each pass, decode only the pods that changed since. JSON
// decoding was over a quarter of a busy peer's CPU with 5,000 pods
// (shoal-bench hollow).
//
// The pods it returns are shared between passes: callers must not modify
// one; they copy it (and any slice they change in it) first.
type podMemo struct {
	mu    sync.Mutex
	gen   uint64
	most  int // the longest list decoded, to bound what is kept
	byKey map[consensus.Key]memoPod
}

type memoPod struct {
	rv   uint64
	pod  *workload.Pod
	used uint64 // gen of the last decode that returned it
}

// decode returns objs' pods, decoding only those it has not seen at their
// resourceVersion; objects that do not decode are left out.
func (m *podMemo) decode(objs []consensus.Object) []*workload.Pod {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byKey == nil {
		m.byKey = map[consensus.Key]memoPod{}
	}
	m.gen++
	m.most = max(m.most, len(objs))
	out := make([]*workload.Pod, 0, len(objs))
	for _, so := range objs {
		k := so.Key()
		e, ok := m.byKey[k]
		if !ok || e.rv != so.ResourceVersion {
			pod, err := decodePod(so)
			if err != nil {
				continue
			}
			e = memoPod{rv: so.ResourceVersion, pod: &pod}
		}
		e.used = m.gen
		m.byKey[k] = e
		out = append(out, e.pod)
	}
	// Forget pods no recent list returned (deleted ones), once the memo
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
