package peer

import (
	"context"
	"errors"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/controller"
)

// The NoExecute taint eviction runs in each object shard's controller
// pass, over the shard's pods, as Kubernetes' taint eviction controller
// does over a cluster's: a pod on a node with a NoExecute taint it does not
// tolerate is deleted at once; one tolerating it for tolerationSeconds is
// deleted that long after the taint was added; one tolerating it without
// tolerationSeconds stays (controller.PlanTaintEviction decides).
//
// Failover goes through the same path. The controllers see a lost peer's
// node (gossip has seen the peer failed for the pod failover grace) as
// tainted node.kubernetes.io/unreachable:NoExecute from the moment it was
// lost, without waiting for the meta shard's leader to write that taint on
// the Node (it does, for users and the scheduler, moments later), and they
// ignore the Node's copy of that taint while gossip says the peer is
// alive: gossip decides which peers are failed. So a pod's toleration of
// the unreachable taint says how long it stays bound to a failed peer.
//
// Unlike Kubernetes, Shoal does not give pods default tolerations of the
// unreachable and not-ready taints for 300 s (the DefaultTolerationSeconds
// admission plugin): a pod that does not tolerate unreachable is replaced
// as soon as its peer is lost, the pod failover grace after gossip declared
// it failed, to keep failover within 2 s.

// taintEvictionSource is the events' source, as Kubernetes names the
// controller.
var taintEvictionSource = workload.EventSource{Component: "taint-eviction-controller"}

// taintEviction is the eviction's state on this peer: when it first saw
// the NoExecute taints that carry no timeAdded (kube-apiserver does not set
// it; `shoal taint` and kubectl taint do), and the pending wake for the
// next pod due.
type taintEviction struct {
	mu     sync.Mutex
	seen   map[seenTaint]time.Time
	wakeAt time.Time
	timer  *time.Timer
}

type seenTaint struct{ node, key, value string }

// lostSince maps the nodes whose peers gossip has seen failed (or gone) for
// longer than the pod failover grace to when they became lost: when gossip
// declared them failed, plus the grace.
func (p *Peer) lostSince() map[string]time.Time {
	now := p.cfg.Now()
	lost := map[string]time.Time{}
	for _, m := range p.gossip.Members() {
		if m.Status == gossip.StatusFailed || m.Status == gossip.StatusLeft {
			if at := m.Since.Add(p.cfg.PodFailover); !now.Before(at) {
				lost[m.Name] = at
			}
		}
	}
	return lost
}

// evictTainted evicts the shard's pods that their nodes' NoExecute taints
// no longer let stay, records the event Kubernetes does on each, and
// arranges a controller pass for when the next one is due. It returns pods
// without those it deleted at once and with those it marked terminating
// as terminating, for the ReplicaSets to replace in the same pass. pods are
// shared: they are not modified.
func (p *Peer) evictTainted(ctx context.Context, shard uint64, pods []*workload.Pod, lost map[string]time.Time) ([]*workload.Pod, error) {
	bound := false
	for _, pod := range pods {
		if pod.Spec.NodeName != "" {
			bound = true
			break
		}
	}
	if !bound {
		return pods, nil
	}
	// Without the Nodes (the meta shard unavailable), failover still goes
	// by gossip's unreachable taints.
	var nodes []*workload.Node
	lr, listErr := p.store.List(ctx, consensus.MetaShard, consensus.Filter{Kind: "Node"}, false)
	if listErr == nil {
		nodes = p.nodes.decode(lr.Objects)
	}
	now := p.cfg.Now()
	taints := p.evictor.noExecuteTaints(nodes, lost, now)
	if len(taints) == 0 {
		return pods, listErr
	}
	plan := controller.PlanTaintEviction(taints, pods, now)
	p.evictor.wakeFor(plan.Next, now, p.wakeControllers)
	if len(plan.Evict) == 0 {
		return pods, listErr
	}
	isLost := func(n string) bool { _, ok := lost[n]; return ok }
	gone := map[*workload.Pod]*workload.Pod{} // evicted -> what is left of it (nil: deleted)
	errs := []error{listErr}
	for _, pod := range plan.Evict {
		if pod.ObjectMeta.DeletionTimestamp == nil || isLost(pod.Spec.NodeName) {
			p.log.Info("evicting pod for a NoExecute taint", "pod", pod.ObjectMeta.Namespace+"/"+pod.ObjectMeta.Name, "node", pod.Spec.NodeName)
			p.recordEvent(workload.NewEvent(pod, workload.EventNormal, controller.EventReasonTaintEviction,
				"Marking for deletion Pod "+pod.ObjectMeta.Namespace+"/"+pod.ObjectMeta.Name, now.UTC(), taintEvictionSource))
		}
		left, err := p.removePod(ctx, shard, pod, isLost, &workload.PodCondition{Type: corev1.DisruptionTarget, Status: workload.ConditionTrue,
			Reason: "DeletionByTaintManager", Message: "Taint manager: deleting due to NoExecute taint"})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		gone[pod] = left
	}
	out := make([]*workload.Pod, 0, len(pods))
	for _, pod := range pods {
		left, evicted := gone[pod]
		switch {
		case !evicted:
			out = append(out, pod)
		case left != nil:
			out = append(out, left)
		}
	}
	return out, errors.Join(errs...)
}

// noExecuteTaints is PlanTaintEviction's view of the nodes: each node's
// NoExecute taints with the time they took effect (timeAdded, or when this
// peer first saw one without), its node.kubernetes.io/unreachable taint
// replaced by gossip's: there, since the node was lost, while it is lost.
func (e *taintEviction) noExecuteTaints(nodes []*workload.Node, lost map[string]time.Time, now time.Time) map[string][]workload.Taint {
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[seenTaint]time.Time{}
	out := map[string][]workload.Taint{}
	for _, n := range nodes {
		for _, t := range n.Spec.Taints {
			if t.Effect != workload.TaintEffectNoExecute || t.Key == controller.TaintNodeUnreachable {
				continue
			}
			if t.TimeAdded == nil {
				k := seenTaint{n.ObjectMeta.Name, t.Key, t.Value}
				at, ok := e.seen[k]
				if !ok {
					at = now
				}
				seen[k] = at
				added := workload.NewTime(at)
				t.TimeAdded = &added
			}
			out[n.ObjectMeta.Name] = append(out[n.ObjectMeta.Name], t)
		}
	}
	e.seen = seen // taints that went are forgotten
	for name, at := range lost {
		added := workload.NewTime(at)
		out[name] = append(out[name], workload.Taint{Key: controller.TaintNodeUnreachable, Effect: workload.TaintEffectNoExecute, TimeAdded: &added})
	}
	return out
}

// wakeFor makes sure wake is called once at (or just after) due, unless a
// wake no later than that is already pending. A zero due asks for nothing.
func (e *taintEviction) wakeFor(due, now time.Time, wake func()) {
	if due.IsZero() {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.wakeAt.IsZero() && !e.wakeAt.After(due) && e.wakeAt.After(now) {
		return
	}
	if e.timer != nil {
		e.timer.Stop()
	}
	e.wakeAt = due
	// A millisecond more lands past due, where PlanTaintEviction evicts.
	e.timer = time.AfterFunc(due.Sub(now)+time.Millisecond, wake)
}
