package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/volumes"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/scheduler"
)

// Scheduling runs in each object shard's leader, for the pods of that
// shard: there is no scheduler anywhere else. A pass lists the shard's
// unbound pods, decides with workload/scheduler (filters: alive and Ready
// and not cordoned, nodeSelector, node affinity, pod affinity and
// anti-affinity, topology spread, resources; then scores) over a snapshot of nodes,
// bound pods and capacity claims, writes the claims (capacity.go), then
// binds each pod (a compare-and-swap on the pod). A pod that fits nowhere
// gets PodScheduled=False with the reason, and a FailedScheduling event.

const schedulePeriod = 250 * time.Millisecond

func (p *Peer) runScheduler(ctx context.Context) {
	p.asLeader(ctx, "schedule", schedulePeriod, p.scheduleWake, p.router.Shards()[1:], p.schedulePass)
}

// asLeader runs pass for each of shards this peer leads, every period
// and whenever wake fires, until ctx ends. A conflict is not an error: the
// next pass decides again.
func (p *Peer) asLeader(ctx context.Context, what string, period time.Duration, wake <-chan struct{}, shards []uint64, pass func(context.Context, uint64) error) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		for _, shard := range shards {
			if !p.host.IsLeader(shard) {
				continue
			}
			if err := pass(ctx, shard); err != nil && ctx.Err() == nil && !errors.Is(err, errdefs.ErrConflict) {
				p.log.Debug(what+" pass", "shard", shard, "err", err)
			}
		}
	}
}

// wakeScheduler asks for a pass soon; it never blocks.
func (p *Peer) wakeScheduler() {
	select {
	case p.scheduleWake <- struct{}{}:
	default:
	}
}

func decodePods(objs []consensus.Object) []*workload.Pod {
	out := make([]*workload.Pod, 0, len(objs))
	for _, so := range objs {
		if pod, err := decodePod(so); err == nil {
			out = append(out, &pod)
		}
	}
	return out
}

// creationWait bounds how long a scheduling pass waits for this peer's
// ReplicaSet controller to finish creating pods. The controller runs
// where the scheduler does (in the shard's leader), and creates a burst
// 256 pods to an entry: 10,000 take about half a second. A pass that
// started in the middle decided and bound the first part, and the next one
// decided the rest while the first part's pods started on their nodes, on
// the same cores (shoal-bench hollow: 1.9-2.7 s to bind 10,000 in two
// passes, 3.4-3.9 s in three).
const creationWait = time.Second

// creations counts this peer's pod creations in flight, by shard, so that
// a scheduling pass can wait for those in its shard to end. The zero value
// is ready to use.
type creations struct {
	mu     sync.Mutex
	shards map[uint64]*inFlight // only shards with creations in flight
}

type inFlight struct {
	n    int
	done chan struct{} // closed when n falls to 0
}

func (c *creations) begin(shard uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.shards[shard]
	if f == nil {
		if c.shards == nil {
			c.shards = map[uint64]*inFlight{}
		}
		f = &inFlight{done: make(chan struct{})}
		c.shards[shard] = f
	}
	f.n++
}

func (c *creations) end(shard uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.shards[shard]
	if f.n--; f.n == 0 {
		close(f.done)
		delete(c.shards, shard)
	}
}

// wait returns once no creation in shard is in flight, or after limit.
func (c *creations) wait(ctx context.Context, shard uint64, limit time.Duration) {
	c.mu.Lock()
	f := c.shards[shard]
	c.mu.Unlock()
	if f == nil {
		return
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-f.done:
	case <-t.C:
	case <-ctx.Done():
	}
}

// unbound says whether a pod waits for the scheduler.
func unbound(pod *workload.Pod) bool {
	return pod.Spec.NodeName == "" && pod.ObjectMeta.DeletionTimestamp == nil &&
		pod.Status.Phase != workload.PodSucceeded && pod.Status.Phase != workload.PodFailed &&
		ours(pod)
}

// ours says whether this scheduler is the pod's: a pod naming another
// scheduler (spec.schedulerName) stays Pending for that one, and a pod with
// scheduling gates waits until they are all removed, as in Kubernetes.
func ours(pod *workload.Pod) bool {
	return (pod.Spec.SchedulerName == "" || pod.Spec.SchedulerName == workload.DefaultSchedulerName) &&
		len(pod.Spec.SchedulingGates) == 0
}

// stillUnbound returns the pods of pending that fresh (a newer list) shows
// unbound still, as fresh has them, in pending's order.
func stillUnbound(pending, fresh []*workload.Pod) []*workload.Pod {
	byKey := make(map[[2]string]*workload.Pod, len(fresh))
	for _, pod := range fresh {
		byKey[[2]string{pod.ObjectMeta.Namespace, pod.ObjectMeta.Name}] = pod
	}
	out := pending[:0]
	for _, pod := range pending {
		now, ok := byKey[[2]string{pod.ObjectMeta.Namespace, pod.ObjectMeta.Name}]
		if ok && now.ObjectMeta.UID == pod.ObjectMeta.UID && unbound(now) {
			out = append(out, now)
		}
	}
	return out
}

// schedulePass places the unbound pods of one shard this peer leads.
func (p *Peer) schedulePass(ctx context.Context, shard uint64) error {
	entered := p.cfg.Now()
	p.creating.wait(ctx, shard, creationWait)
	listing := p.cfg.Now()
	lr, err := p.store.List(ctx, shard, consensus.Filter{Kind: "Pod"}, false)
	if err != nil {
		return err
	}
	var pending []*workload.Pod
	for _, pod := range p.pods.decode(lr.Objects) {
		if unbound(pod) {
			pending = append(pending, pod)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	start := p.cfg.Now()
	defer func() { p.metrics.schedulePass.Observe(p.cfg.Now().Sub(start).Seconds()) }()
	slices.SortStableFunc(pending, scheduler.QueueOrder)
	meta, err := p.store.List(ctx, consensus.MetaShard, consensus.Filter{Kinds: []string{"ClusterSetting", "Node"}}, true)
	if err != nil {
		return err
	}
	info, _ := workload.LookupKind("Pod")
	// Linearizable: a pass that follows another (here, or on the peer that
	// led the shard a moment ago) must see the pods that one bound, or it
	// spreads and packs against an old picture.
	all, _, err := consensus.ListShards(ctx, p.store, p.shardsFor(info), consensus.Filter{Kind: "Pod"}, true)
	if err != nil {
		return err
	}
	alive := p.aliveMembers()
	allPods := p.pods.decode(all)
	// The first list was this replica's, which may lag (a leader that has
	// just taken over is still applying its predecessor's bindings): decide
	// only the pods the linearizable list still shows unbound. Deciding the
	// others again claimed capacity twice and failed thousands of bindings.
	pending = stillUnbound(pending, allPods)
	if len(pending) == 0 {
		return nil
	}
	snap, ls := p.snapshot(meta.Objects, allPods, alive)
	held := heldClaims(ls, alive, p.cfg.Now())
	claims, err := p.volumeConstraints(ctx, snap, pending, allPods)
	if err != nil {
		return err
	}
	var placed, rebind []placement
	var unschedulable []*workload.Pod
	reasons := map[*workload.Pod]string{}
	for _, pod := range pending {
		if h, ok := held[string(pod.ObjectMeta.UID)]; ok {
			if h.usable {
				// An earlier pass claimed this pod's capacity and its
				// binding did not commit (it timed out, say): the claim
				// still reserves the node, so bind it there.
				rebind = append(rebind, placement{pod: pod, node: h.node})
				continue
			}
			// Its node is gone, or the claim is past its grace (its node
			// prunes it, and another leader may take the capacity
			// meanwhile): decide anew.
			snap.Forget(pod)
		}
		node, err := snap.Place(pod)
		if err != nil {
			unschedulable = append(unschedulable, pod)
			reasons[pod] = err.Error()
			continue
		}
		if !p.pinClaims(ctx, claims, pod, node) {
			continue // another leader pinned a claim of its first: decide again next pass
		}
		if err := snap.Assume(pod, node); err != nil {
			p.log.Debug("schedule: assume", "pod", pod.ObjectMeta.Namespace+"/"+pod.ObjectMeta.Name, "node", node, "err", err)
			continue // decide again next pass
		}
		placed = append(placed, placement{pod: pod, node: node})
	}
	// A pass over thousands of pods takes a while, and leadership may move
	// meanwhile: claims from a peer that no longer leads would only
	// conflict with the new leader's (the compare-and-swap keeps them
	// safe, but both passes are then wasted).
	if !p.host.IsLeader(shard) {
		return nil
	}
	decided := p.cfg.Now()
	var claimed []placement
	if len(placed) > 0 {
		if claimed, err = p.claimCapacity(ctx, ls, placed); err != nil && len(rebind) == 0 {
			return err
		}
	}
	claimedAt := p.cfg.Now()
	p.bind(ctx, shard, append(claimed, rebind...))
	p.log.Debug("schedule pass", "shard", shard, "pending", len(pending), "placed", len(placed), "claimed", len(claimed),
		"rebind", len(rebind), "unschedulable", len(unschedulable), "took", p.cfg.Now().Sub(start), "waiting", listing.Sub(entered), "listing", start.Sub(listing),
		"deciding", decided.Sub(start), "claiming", claimedAt.Sub(decided), "binding", p.cfg.Now().Sub(claimedAt))
	for _, pod := range unschedulable {
		p.markUnschedulable(ctx, shard, pod, reasons[pod])
	}
	p.metrics.scheduleAttempts.WithLabelValues("unschedulable").Add(float64(len(unschedulable)))
	return nil
}

// claimState is what a pass knows of claims, for pods that use them.
type claimState struct {
	claims map[string]*workload.PersistentVolumeClaim // by namespace/name
	users  map[string][]volumes.ClaimUser
}

// volumeConstraints gives snap the volume constraints of the pending pods
// when any uses a claim (volumes.Placement), reading every claim and
// volume; nil when no pending pod uses a claim.
func (p *Peer) volumeConstraints(ctx context.Context, snap *scheduler.Snapshot, pending, all []*workload.Pod) (*claimState, error) {
	uses := slices.ContainsFunc(pending, func(pod *workload.Pod) bool {
		return slices.ContainsFunc(pod.Spec.Volumes, func(v workload.Volume) bool { return v.PersistentVolumeClaim != nil })
	})
	if !uses {
		return nil, nil
	}
	info, _ := workload.LookupKind("PersistentVolumeClaim")
	objs, _, err := consensus.ListShards(ctx, p.store, p.shardsFor(info), consensus.Filter{Kind: "PersistentVolumeClaim"}, true)
	if err != nil {
		return nil, err
	}
	cs := &claimState{claims: map[string]*workload.PersistentVolumeClaim{}, users: volumes.ClaimUsers(all)}
	for _, so := range objs {
		var c workload.PersistentVolumeClaim
		if decodeInto(so, &c) == nil {
			cs.claims[c.ObjectMeta.Namespace+"/"+c.ObjectMeta.Name] = &c
		}
	}
	list, err := p.persistentVolumes(ctx)
	if err != nil {
		return nil, err
	}
	pvs := map[string]*workload.PersistentVolume{}
	for _, pv := range list {
		pvs[pv.ObjectMeta.Name] = pv
	}
	now := p.cfg.Now()
	snap.SetVolumeConstraints(func(pod *workload.Pod) scheduler.VolumeConstraint {
		return volumes.Placement(pod, cs.claims, pvs, cs.users, now)
	})
	return cs, nil
}

// pinClaims pins the ReadWriteOnce claims that placing pod on node must
// pin (volumes.NeedsPin), each with a compare-and-swap on the claim, and
// counts pod as their user for the rest of the pass. It reports false when
// a pin failed (another leader pinned first): the pod is decided again.
func (p *Peer) pinClaims(ctx context.Context, cs *claimState, pod *workload.Pod, node string) bool {
	if cs == nil {
		return true
	}
	now := p.cfg.Now()
	for _, key := range volumes.NeedsPin(pod, node, cs.claims, cs.users, now) {
		c := *cs.claims[key]
		c.ObjectMeta.Annotations = maps.Clone(c.ObjectMeta.Annotations)
		if c.ObjectMeta.Annotations == nil {
			c.ObjectMeta.Annotations = map[string]string{}
		}
		c.ObjectMeta.Annotations[volumes.AnnotationPinnedNode] = volumes.PinValue(node, now)
		if err := p.updateIn(ctx, p.shardOfObject("PersistentVolumeClaim", &c.ObjectMeta), &c); err != nil {
			p.log.Debug("schedule: pin claim", "claim", key, "node", node, "err", err)
			return false
		}
	}
	for k, u := range volumes.ClaimUsers([]*workload.Pod{{ObjectMeta: pod.ObjectMeta, Spec: workload.PodSpec{NodeName: node, Volumes: pod.Spec.Volumes}}}) {
		cs.users[k] = append(cs.users[k], u...)
	}
	return true
}

// countAttempts counts n pods whose claim or binding failed with err.
func (p *Peer) countAttempts(err error, n int) {
	result := "error"
	if errors.Is(err, errdefs.ErrConflict) {
		result = "conflict"
	}
	p.metrics.scheduleAttempts.WithLabelValues(result).Add(float64(n))
}

// claimBatch is how many ledgers' compare-and-swaps share one proposal.
const claimBatch = 256

// claimCapacity writes the placements' capacity claims, one
// compare-and-swap per node's ledger, claimBatch ledgers to a proposal. A
// ledger another shard's leader changed first loses only that node's
// placements (they are decided again next pass), not its batch's
// (proposeDropping): concurrent shard leaders place over the same nodes,
// and with one batch for every touched ledger nearly every pass but one
// conflicted. It returns the placements whose claims committed.
func (p *Peer) claimCapacity(ctx context.Context, ls map[string]*ledger, placed []placement) ([]placement, error) {
	cmds, err := claimCommands(ls, placed, p.cfg.Now())
	if err != nil {
		return nil, err
	}
	byLedger := map[string][]placement{}
	for _, pl := range placed {
		byLedger[ledgerName(pl.node)] = append(byLedger[ledgerName(pl.node)], pl)
	}
	var claimed []placement
	var failed error
	for i, r := range p.proposeAllDropping(ctx, consensus.MetaShard, cmds, claimBatch) {
		ps := byLedger[cmds[i].Object.Name]
		if r.err != nil {
			p.countAttempts(r.err, len(ps))
			failed = r.err
			continue
		}
		claimed = append(claimed, ps...)
	}
	if failed != nil {
		// Another leader claimed on some of these nodes first (or the meta
		// shard is busy): decide those pods again from fresh ledgers.
		p.wakeScheduler()
		if len(claimed) == 0 {
			return nil, failed
		}
	}
	return claimed, nil
}

// dropped is one command's outcome in proposeDropping: the version it
// committed at, or the error that kept it out.
type dropped struct {
	rv  uint64
	err error
}

// dropBytes bounds the objects' bytes in one batch of proposeAllDropping,
// as the proposer bounds a group entry (2 MB).
const dropBytes = 2 << 20

// dropRetries bounds how often proposeDropping proposes a batch again.
const dropRetries = 8

// proposeDropping proposes cmds as one batch. A command whose
// precondition fails (its object changed or went since it was read) fails
// the whole batch, as a batch is atomic; it is dropped and the rest
// proposed again, up to dropRetries times. A batch that fails otherwise
// (a timeout) or runs out of retries fails for every command left.
func (p *Peer) proposeDropping(ctx context.Context, shard uint64, cmds []consensus.Command) []dropped {
	out := make([]dropped, len(cmds))
	left := make([]int, len(cmds)) // indices into cmds still proposed
	for i := range left {
		left[i] = i
	}
	for attempt := 0; len(left) > 0; attempt++ {
		batch := make([]consensus.Command, len(left))
		for j, i := range left {
			batch[j] = cmds[i]
		}
		res, err := p.store.Propose(ctx, shard, consensus.Batch{Commands: batch})
		if err == nil {
			for j, i := range left {
				out[i].rv = res.Index
				if j < len(res.Objects) {
					out[i].rv = res.Objects[j].ResourceVersion
				}
			}
			return out
		}
		f := res.Failed
		lost := (errors.Is(err, errdefs.ErrConflict) || errors.Is(err, errdefs.ErrNotFound) || errors.Is(err, errdefs.ErrAlreadyExists)) &&
			f >= 0 && f < len(left)
		if !lost || attempt == dropRetries {
			for _, i := range left {
				out[i].err = err
			}
			return out
		}
		out[left[f]].err = err
		left = slices.Delete(left, f, f+1)
	}
	return out
}

// proposeAllDropping runs proposeDropping over cmds, n to a batch, up to
// four batches at once (a shard has four entries in flight at most), and
// returns each command's outcome.
func (p *Peer) proposeAllDropping(ctx context.Context, shard uint64, cmds []consensus.Command, n int) []dropped {
	out := make([]dropped, len(cmds))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, j := 0, 0; i < len(cmds); i = j {
		j = batchEnd(cmds, i, n)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			copy(out[i:j], p.proposeDropping(ctx, shard, cmds[i:j]))
		}()
	}
	wg.Wait()
	return out
}

// batchEnd is where the batch that starts at cmds[i] ends: after at most n
// commands and about dropBytes of objects (at least one command), so that a
// forwarded proposal's frame and a raft entry stay bounded.
func batchEnd(cmds []consensus.Command, i, n int) int {
	j, size := i+1, len(cmds[i].Object.Data)
	for j < len(cmds) && j-i < n && size+len(cmds[j].Object.Data) <= dropBytes {
		size += len(cmds[j].Object.Data)
		j++
	}
	return j
}

// snapshot builds the scheduler's view: nodes (alive per gossip), bound
// pods, and for claims whose pods are not bound yet, stand-in pods that
// hold their capacity.
func (p *Peer) snapshot(meta []consensus.Object, pods []*workload.Pod, alive map[string]bool) (*scheduler.Snapshot, map[string]*ledger) {
	var nodeObjs, ledgerObjs []consensus.Object
	for _, o := range meta {
		switch {
		case o.Kind == "Node":
			nodeObjs = append(nodeObjs, o)
		case o.Kind == "ClusterSetting" && strings.HasPrefix(o.Name, ledgerPrefix):
			ledgerObjs = append(ledgerObjs, o)
		}
	}
	var nodes []scheduler.Node
	for _, n := range p.nodes.decode(nodeObjs) {
		nodes = append(nodes, scheduler.Node{Node: n, Alive: alive[n.ObjectMeta.Name]})
	}
	ls := map[string]*ledger{}
	for _, l := range p.ledgers.decode(ledgerObjs) {
		ls[l.Node] = l
	}
	var bound []*workload.Pod
	boundUIDs := map[string]bool{}
	for _, pod := range pods {
		if pod.Spec.NodeName != "" {
			bound = append(bound, pod)
			boundUIDs[string(pod.ObjectMeta.UID)] = true
		}
	}
	for node, l := range ls {
		for uid, c := range l.Claims {
			if boundUIDs[uid] {
				continue
			}
			bound = append(bound, standIn(node, uid, c))
		}
	}
	return scheduler.NewSnapshot(nodes, bound), ls
}

// aliveMembers is which members gossip sees alive, by name.
func (p *Peer) aliveMembers() map[string]bool {
	alive := map[string]bool{}
	for _, m := range p.gossip.Members() {
		alive[m.Name] = m.Status == gossip.StatusAlive
	}
	return alive
}

// heldClaim is a node that holds a pod's claim, and whether a binding may
// still use it: its node is alive and the claim within claimGrace.
type heldClaim struct {
	node   string
	usable bool
}

// heldClaims maps each claimed pod's UID to a node that holds its claim,
// a usable one when there is one. It is pure.
func heldClaims(ls map[string]*ledger, alive map[string]bool, now time.Time) map[string]heldClaim {
	held := map[string]heldClaim{}
	for node, l := range ls {
		for uid, c := range l.Claims {
			h := heldClaim{node: node, usable: alive[node] && now.Sub(c.At) < claimGrace}
			if cur, ok := held[uid]; !ok || (!cur.usable && h.usable) {
				held[uid] = h
			}
		}
	}
	return held
}

// standIn is a pod that holds a claim's capacity on a node.
func standIn(node, uid string, c claim) *workload.Pod {
	ns, name, _ := strings.Cut(c.Pod, "/")
	return &workload.Pod{
		ObjectMeta: workload.ObjectMeta{Namespace: ns, Name: name, UID: workload.UID(uid)},
		Spec: workload.PodSpec{NodeName: node, Containers: []workload.Container{{Name: "claim", Resources: workload.ResourceRequirements{
			Requests: c.resources().List(),
		}}}},
	}
}

// bindBatch is how many bindings share one proposal. Per-proposal
// costs, not per-pod ones, bounded binding: at 10,000 pods on 1,000
// hollow nodes, 128 bindings to a proposal bound 8,720 pods in 3.3 s,
// 1,024 in 0.7 s (shoal-bench hollow).
const bindBatch = 1024

// bind sets each placed pod's node, each a compare-and-swap on the pod,
// bindBatch to a proposal; a pod that changed since the pass read it is
// left out (proposeDropping). The bound pods go into the memo as they
// were stored, so the next passes need not decode them, and get their
// Scheduled events.
func (p *Peer) bind(ctx context.Context, shard uint64, placed []placement) {
	now := p.cfg.Now().UTC()
	pods := make([]*workload.Pod, 0, len(placed))
	cmds := make([]consensus.Command, 0, len(placed))
	for _, pl := range placed {
		pod := *pl.pod // shared with the memo: copy what changes
		pod.Status.Conditions = slices.Clone(pod.Status.Conditions)
		pod.Spec.NodeName = pl.node
		workload.SetPodCondition(&pod.Status, scheduler.ScheduledCondition(now.Truncate(time.Second)))
		cmd, err := updateCommand(&pod)
		if err != nil {
			p.countAttempts(err, 1)
			continue
		}
		pods, cmds = append(pods, &pod), append(cmds, cmd)
	}
	var bound []*workload.Pod
	for i, r := range p.proposeAllDropping(ctx, shard, cmds, bindBatch) {
		pod := pods[i]
		if r.err != nil {
			p.countAttempts(r.err, 1)
			p.log.Debug("bind", "pod", pod.ObjectMeta.Namespace+"/"+pod.ObjectMeta.Name, "node", pod.Spec.NodeName, "err", r.err)
			continue // a timeout: the next pass binds it where its claim is
		}
		pod.ObjectMeta.ResourceVersion = stringRV(r.rv)
		p.pods.remember(cmds[i].Object.Key(), r.rv, pod)
		bound = append(bound, pod)
	}
	p.metrics.scheduleAttempts.WithLabelValues("scheduled").Add(float64(len(bound)))
	// Written in the background (events.go): a pass of 5,000 bindings
	// spent longer writing their events than binding.
	for _, pod := range bound {
		p.recordEvent(scheduler.ScheduledEvent(pod, pod.Spec.NodeName, now, p.cfg.Name))
	}
}

// markUnschedulable records why a pod fits nowhere, once per new reason.
func (p *Peer) markUnschedulable(ctx context.Context, shard uint64, pod *workload.Pod, reason string) {
	if c := workload.GetPodCondition(&pod.Status, workload.PodScheduled); c != nil && c.Status == workload.ConditionFalse && c.Message == reason {
		return
	}
	up := *pod // shared with the memo: copy what changes
	up.Status.Conditions = slices.Clone(up.Status.Conditions)
	now := p.cfg.Now().UTC()
	why := errors.New(reason)
	workload.SetPodCondition(&up.Status, scheduler.UnschedulableCondition(why, now.Truncate(time.Second)))
	up.Status.Phase = workload.PodPending
	if err := p.updateIn(ctx, shard, &up); err != nil {
		return
	}
	p.recordEvent(scheduler.FailedSchedulingEvent(&up, why, now, p.cfg.Name))
}

// updateCommand is the compare-and-swap that stores o over the version it
// was read at.
func updateCommand(o workload.Object) (consensus.Command, error) {
	rv, err := parseRV(workload.MetaOf(o).ResourceVersion)
	if err != nil {
		return consensus.Command{}, err
	}
	so, err := stored(o)
	if err != nil {
		return consensus.Command{}, err
	}
	return consensus.Command{Op: consensus.OpUpdate, Object: so, Precondition: rv}, nil
}

// pruneOwnLedger drops this node's claims that no pod needs any more.
func (p *Peer) pruneOwnLedger(ctx context.Context) error {
	so, err := p.store.Get(ctx, consensus.MetaShard, consensus.Key{Kind: "ClusterSetting", Name: ledgerName(p.cfg.Name)}, true)
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	l, err := decodeLedger(so)
	if err != nil {
		return err
	}
	info, _ := workload.LookupKind("Pod")
	all, _, err := consensus.ListShards(ctx, p.store, p.shardsFor(info), consensus.Filter{Kind: "Pod"}, true)
	if err != nil {
		return err
	}
	byUID := map[string]*workload.Pod{}
	for _, pod := range p.pods.decode(all) {
		byUID[string(pod.ObjectMeta.UID)] = pod
	}
	if !pruneLedger(l, byUID, p.cfg.Now()) {
		return nil
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	_, err = p.store.Propose(ctx, consensus.MetaShard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpUpdate,
		Object: consensus.Object{Kind: "ClusterSetting", Name: ledgerName(p.cfg.Name), Data: b}, Precondition: so.ResourceVersion}}})
	return err
}

func parseRV(s string) (uint64, error) {
	rv, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("resourceVersion %q: %w", s, errdefs.ErrInvalid)
	}
	return rv, nil
}
