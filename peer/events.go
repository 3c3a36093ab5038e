package peer

import (
	"context"
	"sync"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/workload"
)

// Events are recorded in the background and written in batches, as
// Kubernetes' event broadcaster does for kubelets and controllers: an
// event is best effort, and its writer (a node agent starting a pod, the
// scheduler binding thousands) must not wait for its commit. A node agent
// reports four events per pod it starts; at 10,000 pods, one proposal per
// event was 40,000 proposals competing with the bindings and statuses
// that matter (shoal-bench hollow). The recorder writes whatever has
// queued since its last write, eventBatch events to a proposal in each
// event's shard, so a burst costs a few hundred proposals.

const (
	// eventQueue bounds the events waiting to be written; past it, new
	// events are dropped and counted (shoal_events_dropped_total), as
	// client-go's broadcaster drops past its queue of 1,000.
	eventQueue = 16384
	// eventBatch is how many events share a proposal.
	eventBatch = 128
)

type eventRecorder struct {
	mu     sync.Mutex
	queue  []*workload.Event
	wake   chan struct{}
	onDrop func() // counts a dropped event
}

func newEventRecorder(onDrop func()) *eventRecorder {
	return &eventRecorder{wake: make(chan struct{}, 1), onDrop: onDrop}
}

// record queues ev; it never blocks.
func (r *eventRecorder) record(ev *workload.Event) {
	r.mu.Lock()
	full := len(r.queue) >= eventQueue
	if !full {
		r.queue = append(r.queue, ev)
	}
	r.mu.Unlock()
	if full {
		r.onDrop()
		return
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// take empties the queue.
func (r *eventRecorder) take() []*workload.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.queue
	r.queue = nil
	return out
}

// run writes queued events with write until ctx ends.
func (r *eventRecorder) run(ctx context.Context, write func(context.Context, []*workload.Event)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		}
		if evs := r.take(); len(evs) > 0 {
			write(ctx, evs)
		}
	}
}

// recordEvent queues an event for the background writer.
func (p *Peer) recordEvent(ev *workload.Event) { p.events.record(ev) }

// writeEvents creates events, eventBatch to a proposal in each event's
// shard. A batch that fails is logged and lost: events are best effort.
func (p *Peer) writeEvents(ctx context.Context, events []*workload.Event) {
	byShard := map[uint64][]consensus.Command{}
	var shards []uint64
	for _, ev := range events {
		ev.ObjectMeta.UID = newUID()
		so, err := stored(ev)
		if err != nil {
			continue
		}
		shard := p.shardOf(so.Key())
		if _, ok := byShard[shard]; !ok {
			shards = append(shards, shard)
		}
		byShard[shard] = append(byShard[shard], consensus.Command{Op: consensus.OpCreate, Object: so})
	}
	var wg sync.WaitGroup
	for _, shard := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// An event whose name is taken (two in one nanosecond) is
			// dropped alone, not with its batch.
			for _, r := range p.proposeAllDropping(ctx, shard, byShard[shard], eventBatch) {
				if r.err != nil && ctx.Err() == nil {
					p.log.Debug("record event", "shard", shard, "err", r.err)
				}
			}
		}()
	}
	wg.Wait()
}
