package peer

import (
	"context"
	"errors"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/controller"
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
// grace gets Ready=Unknown, so `shoal get nodes` says NotReady, and the
// taints node.kubernetes.io/unreachable:NoExecute and :NoSchedule. The
// peer's own heartbeat makes it Ready again when it comes back (keeping
// the taints, as it keeps every taint), and the next pass removes them.
//
// Kubernetes also taints a Node whose Ready is False with
// node.kubernetes.io/not-ready. Shoal's Ready is False only on a peer that
// runs no container runtime (none configured, or it failed to start), where
// the scheduler binds no pod: that taint is not set.
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
		if decodeInto(so, &n) != nil {
			continue
		}
		unknown := lost(n.ObjectMeta.Name) && markNodeUnknown(&n, now)
		if !syncUnreachableTaints(&n, now) && !unknown {
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
		if err == nil && unknown {
			p.log.Info("node of a failed peer marked Ready=Unknown and tainted unreachable", "node", n.ObjectMeta.Name)
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

// syncUnreachableTaints puts the node.kubernetes.io/unreachable taints
// (NoSchedule and NoExecute, added now) on a node whose Ready condition is
// Unknown, and takes them off one whose Ready is not, as Kubernetes' node
// lifecycle controller does; it says whether that changed the node. The
// node's other taints are left as they are.
func syncUnreachableTaints(n *workload.Node, now time.Time) bool {
	c := workload.GetNodeCondition(&n.Status, workload.NodeReady)
	want := c != nil && c.Status == workload.ConditionUnknown
	changed := false
	kept := n.Spec.Taints[:0:0]
	has := map[workload.TaintEffect]bool{}
	for _, t := range n.Spec.Taints {
		if t.Key == controller.TaintNodeUnreachable && (t.Effect == workload.TaintEffectNoExecute || t.Effect == workload.TaintEffectNoSchedule) {
			if !want {
				changed = true
				continue
			}
			has[t.Effect] = true
		}
		kept = append(kept, t)
	}
	if want {
		for _, e := range []workload.TaintEffect{workload.TaintEffectNoSchedule, workload.TaintEffectNoExecute} {
			if !has[e] {
				added := workload.NewTime(now)
				kept = append(kept, workload.Taint{Key: controller.TaintNodeUnreachable, Effect: e, TimeAdded: &added})
				changed = true
			}
		}
	}
	if changed {
		n.Spec.Taints = kept
		if len(kept) == 0 {
			n.Spec.Taints = nil
		}
	}
	return changed
}
