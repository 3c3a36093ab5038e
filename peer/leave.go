package peer

import (
	"context"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/peer/api"
)

// handOver moves this peer's raft replicas to other peers before it leaves:
// it tells gossip it is leaving, so the meta leader's placement adds
// replacements and then drops this peer's replicas, and waits until the
// shard map names it no more (or ctx ends). With no spare peer placement
// drops its replicas anyway; the report says which shards now run short.
func (p *Peer) handOver(ctx context.Context) api.LeaveReport {
	start := time.Now()
	tags := p.tags()
	tags.State = gossip.StateLeaving
	if err := p.gossip.SetTags(tags); err != nil {
		p.log.Warn("could not announce the leave", "err", err)
	}
	var report api.LeaveReport
	others := 0
	for _, m := range p.gossip.Members() {
		if m.Name != p.cfg.Name && m.Status == gossip.StatusAlive {
			others++
		}
	}
	for {
		recs, err := p.ctl.Records(ctx)
		if err == nil {
			report.Held = report.Held[:0]
			for _, r := range recs {
				if _, ok := r.On(p.cfg.Name); ok {
					report.Held = append(report.Held, r.ID)
				}
			}
			if len(report.Held) == 0 || others == 0 {
				report.Short = shortShards(recs, p.cfg.Name, others)
				break
			}
		}
		select {
		case <-ctx.Done():
			report.TimedOut = true
			report.Short = shortShards(recs, p.cfg.Name, others)
			p.log.Warn("leaving before every replica was handed over", "still_held", report.Held)
			return report
		case <-time.After(200 * time.Millisecond):
		}
	}
	report.Took = time.Since(start).Round(time.Millisecond).String()
	if len(report.Short) > 0 {
		p.log.Warn("left with shards running short of replicas: no spare peer took them", "shards", report.Short)
	} else {
		p.log.Info("replicas handed over", "took", report.Took)
	}
	return report
}

// shortShards lists the shards with fewer voting replicas, not counting the
// leaving peer's, than their target for the peers that remain.
func shortShards(recs []consensus.ShardRecord, leaving string, remaining int) []uint64 {
	var out []uint64
	for _, r := range recs {
		voting := 0
		for _, rr := range r.Replicas {
			if rr.Peer != leaving && !rr.NonVoting {
				voting++
			}
		}
		if voting < consensus.TargetReplicas(r.ID, remaining) || voting == 0 {
			out = append(out, r.ID)
		}
	}
	return out
}
