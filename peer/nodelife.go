package peer

import (
	"context"
	"errors"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// nodeLifecyclePeriod is how often the meta shard's leader looks for the
// Nodes of lost peers when nothing woke it sooner.
const nodeLifecyclePeriod = 2 * time.Second

// claimSweepEvery: every this many node lifecycle passes (about 30 s), the
// pass also sweeps the address claims of services that are gone.
const claimSweepEvery = 15

// runNodeLifecycle does, in the meta shard's leader, what Kubernetes' node
// lifecycle controller does when a kubelet stops posting status: the Node
// of a peer that gossip has seen failed for longer than the pod failover
// grace gets Ready=Unknown, so `shoal get nodes` says NotReady. The peer's
// own heartbeat makes it Ready again when it comes back.
func (p *Peer) runNodeLifecycle(ctx context.Context) {
	var passes int
	p.asLeader(ctx, "node lifecycle", nodeLifecyclePeriod, p.nodeLifeWake, []uint64{consensus.MetaShard},
		func(ctx context.Context, _ uint64) error {
			passes++
			var sweep error
			if passes%claimSweepEvery == 0 {
				sweep = p.sweepClaims(ctx)
			}
			return errors.Join(p.nodeLifecyclePass(ctx), p.serviceAccountsPass(ctx), sweep)
		})
}

func (p *Peer) wakeNodeLifecycle() {
	select {
	case p.nodeLifeWake <- struct{}{}:
	default:
	}
}

func (p *Peer) nodeLifecyclePass(ctx context.Context) error {
	lr, err := p.store.List(ctx, consensus.MetaShard, consensus.Filter{Kind: "Node"}, true)
	if err != nil {
		return err
	}
	lost := p.lostNodes()
	now := p.cfg.Now().UTC().Truncate(time.Second)
	var errs []error
	for _, so := range lr.Objects {
		var n workload.Node
		if decodeInto(so, &n) != nil || !lost(n.ObjectMeta.Name) || !markNodeUnknown(&n, now) {
			continue
		}
		nso, err := stored(&n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		_, err = p.store.Propose(ctx, consensus.MetaShard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpUpdate, Object: nso, Precondition: so.ResourceVersion}}})
		if err != nil && !errors.Is(err, errdefs.ErrConflict) && !errors.Is(err, errdefs.ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		if err == nil {
			p.log.Info("node of a failed peer marked Ready=Unknown", "node", n.ObjectMeta.Name)
		}
	}
	return errors.Join(errs...)
}

// markNodeUnknown sets a lost node's Ready condition to Unknown, keeping its
// last heartbeat, and says whether that changed the node.
func markNodeUnknown(n *workload.Node, now time.Time) bool {
	old := workload.GetNodeCondition(&n.Status, workload.NodeReady)
	if old != nil && old.Status == workload.ConditionUnknown {
		return false
	}
	heartbeat := now
	if old != nil {
		heartbeat = old.LastHeartbeatTime.Time
	}
	return workload.SetNodeCondition(&n.Status, workload.NodeCondition{Type: workload.NodeReady, Status: workload.ConditionUnknown,
		Reason: "NodeStatusUnknown", Message: "Peer failed (per gossip): it stopped posting node status.",
		LastHeartbeatTime: workload.NewTime(heartbeat), LastTransitionTime: workload.NewTime(now)})
}
