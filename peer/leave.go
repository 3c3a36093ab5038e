package peer

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
)

// handOver moves this peer's raft replicas to other peers before it leaves:
// it tells gossip it is leaving, so the meta leader's placement adds
// replacements and then drops this peer's replicas, and waits until the
// shard map names it no more (or ctx ends). With no spare peer placement
// drops its replicas anyway; the report says which shards now run short.
func (p *Peer) handOver(ctx context.Context) api.LeaveReport {
	start := time.Now()
	drained := p.drainSelf(ctx)
	tags := p.tags()
	tags.State = gossip.StateLeaving
	if err := p.gossip.SetTags(tags); err != nil {
		p.log.Warn("could not announce the leave", "err", err)
	}
	report := api.LeaveReport{Drained: drained}
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

// drainSelf cordons this peer's node and evicts the pods on it that a
// controller will place elsewhere (gracefully: the node agent stops them),
// waiting until they are gone or ctx ends. Pods no controller manages are
// left as they are. It returns the evicted pods.
func (p *Peer) drainSelf(ctx context.Context) []string {
	if err := p.cordonSelf(ctx); err != nil {
		p.log.Warn("leave: could not cordon this node", "err", err)
	}
	info, err := workload.LookupKind("Pod")
	if err != nil {
		return nil
	}
	all, _, err := consensus.ListShards(ctx, p.store, p.shardsFor(info), consensus.Filter{Kind: "Pod"}, true)
	if err != nil {
		p.log.Warn("leave: could not list this node's pods", "err", err)
		return nil
	}
	var evicted []string
	for _, pod := range decodePods(all) {
		if pod.Spec.NodeName != p.cfg.Name || len(pod.ObjectMeta.OwnerReferences) == 0 {
			continue
		}
		t := target{info: info, ns: pod.ObjectMeta.Namespace, name: pod.ObjectMeta.Name}
		if _, err := p.deletePodGracefully(ctx, t); err == nil {
			evicted = append(evicted, pod.ObjectMeta.Namespace+"/"+pod.ObjectMeta.Name)
		}
	}
	for len(evicted) > 0 {
		left := 0
		for _, name := range evicted {
			ns, n, _ := strings.Cut(name, "/")
			if _, _, err := p.locate(ctx, target{info: info, ns: ns, name: n}, true); err == nil {
				left++
			}
		}
		if left == 0 {
			break
		}
		select {
		case <-ctx.Done():
			p.log.Warn("leave: pods still stopping", "pods", left)
			return evicted
		case <-time.After(200 * time.Millisecond):
		}
	}
	if len(evicted) > 0 {
		p.log.Info("leave: drained this node", "pods", len(evicted))
	}
	return evicted
}

// requestFor is a request carrying the node name, for handlers called
// from inside the peer.
func requestFor(ctx context.Context, node string) *http.Request {
	r, _ := http.NewRequestWithContext(ctx, http.MethodPost, "/", nil)
	r.SetPathValue("name", node)
	return r
}
