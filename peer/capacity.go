package peer

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// Capacity claims: no node is over-committed, even while several shard
// leaders schedule at once. Each node has a ledger in the meta shard (a
// ClusterSetting named "capacity.NODE") listing the pods that hold its
// capacity. A leader binds pods only after it has written their claims into
// the ledgers it read, every ledger a compare-and-swap on its
// resourceVersion, all of one pass in one meta batch: if another leader
// claimed on one of those nodes meanwhile, the batch fails as a whole and
// the leader decides again from fresh ledgers. A claim whose pod is gone,
// finished, or bound elsewhere is dropped by the node's own agent
// (pruneLedger), so capacity comes back.

const (
	ledgerPrefix = "capacity."
	// claimGrace keeps a claim whose pod is not bound yet (the binding is
	// in flight) from being pruned.
	claimGrace = 30 * time.Second
)

// validateCapacity checks Config.Capacity, naming the first bad resource
// by name.
func validateCapacity(extra workload.ResourceList) error {
	names := make([]string, 0, len(extra))
	for n := range extra {
		names = append(names, string(n))
	}
	sort.Strings(names)
	for _, n := range names {
		if err := workload.ValidateExtraCapacity(workload.ResourceName(n), extra[workload.ResourceName(n)]); err != nil {
			return fmt.Errorf("capacity[%s]: %w", n, err)
		}
	}
	return nil
}

// claim is one pod's hold on a node's capacity: what the scheduler
// counts of it (workload.PodRequests), every resource.
type claim struct {
	Pod              string `json:"pod"` // namespace/name, for people reading it
	MilliCPU         int64  `json:"milliCPU"`
	Memory           int64  `json:"memory"`
	EphemeralStorage int64  `json:"ephemeralStorage,omitempty"` // bytes
	// Scalar is the extended resources (units) and huge pages (bytes).
	Scalar map[workload.ResourceName]int64 `json:"scalar,omitempty"`
	At     time.Time                       `json:"at"`
}

// newClaim is pod's claim of req, made at now.
func newClaim(pod string, req workload.ComputeResources, now time.Time) claim {
	return claim{Pod: pod, MilliCPU: req.MilliCPU, Memory: req.Memory, EphemeralStorage: req.EphemeralStorage, Scalar: req.Scalar, At: now.UTC()}
}

// resources is what c holds.
func (c claim) resources() workload.ComputeResources {
	return workload.ComputeResources{MilliCPU: c.MilliCPU, Memory: c.Memory, EphemeralStorage: c.EphemeralStorage, Scalar: c.Scalar}
}

// ledger is a node's claims by pod UID, with the resourceVersion it was
// read at (0: it does not exist yet).
type ledger struct {
	Node   string           `json:"node"`
	Claims map[string]claim `json:"claims"`
	rv     uint64
}

func ledgerName(node string) string { return ledgerPrefix + node }

func decodeLedger(so consensus.Object) (*ledger, error) {
	l := &ledger{}
	if err := json.Unmarshal(so.Data, l); err != nil {
		return nil, fmt.Errorf("ledger %s: %v: %w", so.Name, err, errdefs.ErrInvalid)
	}
	if l.Claims == nil {
		l.Claims = map[string]claim{}
	}
	l.rv = so.ResourceVersion
	return l, nil
}

// sum is what a ledger's claims hold.
func (l *ledger) sum() workload.ComputeResources {
	var r workload.ComputeResources
	for _, c := range l.Claims {
		r.Add(c.resources())
	}
	return r
}

// placement is a decision to bind a pod to a node.
type placement struct {
	pod  *workload.Pod
	node string
}

// claimCommands turns placements into one compare-and-swap per touched
// ledger (a create for a node without one), adding each pod's claim. It is
// pure: ls is not changed.
func claimCommands(ls map[string]*ledger, ps []placement, now time.Time) ([]consensus.Command, error) {
	touched := map[string]*ledger{}
	for _, p := range ps {
		l, ok := touched[p.node]
		if !ok {
			l = &ledger{Node: p.node, Claims: map[string]claim{}}
			if cur, found := ls[p.node]; found {
				for k, v := range cur.Claims {
					l.Claims[k] = v
				}
				l.rv = cur.rv
			}
			touched[p.node] = l
		}
		l.Claims[string(p.pod.ObjectMeta.UID)] = newClaim(p.pod.ObjectMeta.Namespace+"/"+p.pod.ObjectMeta.Name, workload.PodRequests(p.pod), now)
	}
	nodes := make([]string, 0, len(touched))
	for n := range touched {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	var cmds []consensus.Command
	for _, n := range nodes {
		l := touched[n]
		b, err := json.Marshal(l)
		if err != nil {
			return nil, err
		}
		obj := consensus.Object{Kind: "ClusterSetting", Name: ledgerName(n), Data: b}
		if l.rv == 0 {
			cmds = append(cmds, consensus.Command{Op: consensus.OpCreate, Object: obj})
		} else {
			cmds = append(cmds, consensus.Command{Op: consensus.OpUpdate, Object: obj, Precondition: l.rv})
		}
	}
	return cmds, nil
}

// pruneLedger drops the claims whose pods no longer need the node: gone,
// finished, or bound to another node; or never bound within claimGrace. It
// is pure, and says whether anything changed.
func pruneLedger(l *ledger, pods map[string]*workload.Pod, now time.Time) bool {
	changed := false
	for uid, c := range l.Claims {
		p, ok := pods[uid]
		keep := ok && p.Status.Phase != workload.PodSucceeded && p.Status.Phase != workload.PodFailed
		if keep && p.Spec.NodeName != l.Node {
			keep = p.Spec.NodeName == "" && now.Sub(c.At) < claimGrace
		}
		if !keep {
			delete(l.Claims, uid)
			changed = true
		}
	}
	return changed
}
