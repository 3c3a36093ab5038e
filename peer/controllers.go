package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/controller"
)

// The Deployment and ReplicaSet controllers run, like the scheduler, in
// the leader of each object shard, for the Deployments of that shard; a
// Deployment's ReplicaSets and Pods live in the same shard (they carry
// workload.AnnotationDeployment). Each pass lists the shard, asks
// workload/controller for a plan per object, and carries it out with
// compare-and-swap writes; a conflict just means the next pass decides
// again.

const (
	controlPeriod = 500 * time.Millisecond
	// DefaultPodFailover is how long a peer must be failed (per gossip)
	// before the pods it ran are replaced elsewhere. Gossip's LAN profile
	// takes about 1 s to declare a killed peer failed, after suspecting it
	// for at least 0.6 s while it may refute; a live peer declared failed
	// refutes within a few gossip rounds (0.1 s each). 750 ms covers that
	// and keeps kill-to-replaced under 2 s (BenchmarkPodFailover), with no
	// false failover in 10 busy minutes (BenchmarkNoFalseFailover).
	DefaultPodFailover = 750 * time.Millisecond
)

func (p *Peer) runControllers(ctx context.Context) {
	p.asLeader(ctx, "controller", controlPeriod, p.controlWake, p.router.Shards()[1:], p.controlPass)
}

func (p *Peer) wakeControllers() {
	select {
	case p.controlWake <- struct{}{}:
	default:
	}
}

// wakeOnMembership wakes the controllers and the scheduler when gossip sees
// a member change, and the controllers again the moment a failed member's
// pod failover grace has passed: failover waits for the grace, not for the
// grace and then the next controller period.
func (p *Peer) wakeOnMembership(ctx context.Context) {
	events, unsubscribe := p.gossip.Subscribe(64)
	defer unsubscribe()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			p.wakeScheduler()
			p.wakeControllers()
			if e.Kind == gossip.EventFailed || e.Kind == gossip.EventLeft {
				// lostSince compares the grace with the member's Since,
				// which is e.At; a millisecond more lands past it. A wake
				// after the peer stopped is a no-op.
				wait := p.cfg.PodFailover + time.Millisecond - p.cfg.Now().Sub(e.At)
				time.AfterFunc(max(wait, 0), func() { p.wakeControllers(); p.wakeNodeLifecycle() })
			}
		}
	}
}

// lostNodes says which nodes' peers gossip has seen failed (or gone) for
// longer than the pod failover grace.
func (p *Peer) lostNodes() func(string) bool {
	lost := p.lostSince()
	return func(n string) bool { _, ok := lost[n]; return ok }
}

func (p *Peer) controlPass(ctx context.Context, shard uint64) error {
	lr, err := p.store.List(ctx, shard, consensus.Filter{Kinds: []string{"Deployment", "PersistentVolumeClaim", "Pod", "ReplicaSet", "ResourceQuota", "Service"}}, true)
	if err != nil {
		return err
	}
	var errs []error
	var services []*workload.Service
	var claims []*workload.PersistentVolumeClaim
	var quotas []*workload.ResourceQuota
	for _, so := range lr.Objects {
		switch so.Kind {
		case "ResourceQuota":
			var q workload.ResourceQuota
			if decodeInto(so, &q) == nil {
				quotas = append(quotas, &q)
			}
		case "Service":
			var s workload.Service
			if decodeInto(so, &s) == nil {
				services = append(services, &s)
			}
		case "PersistentVolumeClaim":
			var c workload.PersistentVolumeClaim
			if decodeInto(so, &c) == nil {
				claims = append(claims, &c)
			}
		}
	}
	if len(services) > 0 {
		errs = append(errs, p.endpointsPass(ctx, services), p.loadBalancerPass(ctx, shard, services))
	}
	if len(claims) > 0 {
		errs = append(errs, p.claimsPass(ctx, shard, claims))
	}
	if len(quotas) > 0 {
		errs = append(errs, p.quotaPass(ctx, shard, quotas))
	}
	if shard == p.router.Shards()[1] { // the first object shard's leader keeps the volumes
		errs = append(errs, p.volumesPass(ctx))
	}
	var deps []*workload.Deployment
	var rss []*workload.ReplicaSet
	var podObjs []consensus.Object
	for _, so := range lr.Objects {
		switch so.Kind {
		case "Deployment":
			var d workload.Deployment
			if decodeInto(so, &d) == nil {
				deps = append(deps, &d)
			}
		case "ReplicaSet":
			var r workload.ReplicaSet
			if decodeInto(so, &r) == nil {
				rss = append(rss, &r)
			}
		case "Pod":
			podObjs = append(podObjs, so)
		}
	}
	pods := p.pods.decode(podObjs) // shared: not to be modified
	if !p.host.IsLeader(shard) {
		return errors.Join(errs...) // leadership moved while this pass listed: the new leader decides
	}
	// NoExecute taints first, a lost peer's unreachable one among them, so
	// that the ReplicaSets below replace the pods they evict in this pass.
	lostAt := p.lostSince()
	pods, err = p.evictTainted(ctx, shard, pods, lostAt)
	errs = append(errs, err)
	if len(deps) == 0 && len(rss) == 0 && !ownedPods(pods) {
		return errors.Join(errs...)
	}
	now := p.cfg.Now()
	// Garbage collection: what a deleted owner controlled goes with it.
	owners := map[string]bool{}
	for _, d := range deps {
		owners[string(d.ObjectMeta.UID)] = true
	}
	for _, r := range rss {
		owners[string(r.ObjectMeta.UID)] = true
	}
	for _, r := range rss {
		if uid, ok := controllerUID(&r.ObjectMeta); ok && !owners[uid] {
			errs = append(errs, p.deleteIn(ctx, shard, "ReplicaSet", &r.ObjectMeta))
		}
	}
	lost := func(n string) bool { _, ok := lostAt[n]; return ok }
	for _, pod := range pods {
		if uid, ok := controllerUID(&pod.ObjectMeta); ok && !owners[uid] {
			_, err := p.removePod(ctx, shard, pod, lost, nil)
			errs = append(errs, err)
		}
	}
	for _, d := range deps {
		if d.DeletionTimestamp != nil {
			continue // being deleted: its ReplicaSets go with it, none is made
		}
		mine := sameNamespace(rss, d.ObjectMeta.Namespace)
		health := controller.HealthOf(controller.CurrentReplicaSet(d, mine), pods)
		if tmpl, rev, why := controller.AutoRollback(d, mine, health); tmpl != nil {
			errs = append(errs, p.autoRollback(ctx, shard, d, controller.CurrentReplicaSet(d, mine), tmpl, rev, why))
			continue
		}
		plan := controller.PlanDeployment(d, mine, now)
		if plan.Create != nil {
			plan.Create.ObjectMeta.UID = newUID()
			err := p.createIn(ctx, shard, plan.Create)
			if err == nil {
				p.scalingEvent(d, plan.Create.Name, 0, replicasOf(plan.Create), now)
			}
			errs = append(errs, err)
		}
		for _, rs := range plan.Update {
			was := int32(-1)
			for _, o := range mine {
				if o.UID == rs.UID {
					was = replicasOf(o)
				}
			}
			err := p.updateIn(ctx, shard, rs)
			if err == nil && was >= 0 && was != replicasOf(rs) {
				p.scalingEvent(d, rs.Name, was, replicasOf(rs), now)
			}
			errs = append(errs, err)
		}
		for _, rs := range plan.Delete {
			errs = append(errs, p.deleteIn(ctx, shard, "ReplicaSet", &rs.ObjectMeta))
		}
		if !statusEqual(d.Status, plan.Status) || d.ObjectMeta.Annotations[workload.AnnotationRevision] != plan.Revision {
			d.Status = plan.Status
			if d.ObjectMeta.Annotations == nil {
				d.ObjectMeta.Annotations = map[string]string{}
			}
			d.ObjectMeta.Annotations[workload.AnnotationRevision] = plan.Revision
			errs = append(errs, p.updateIn(ctx, shard, d))
		}
	}
	// New pod names must not collide: five random characters give 10,000
	// pods of one ReplicaSet a few collisions, and one fails a whole batch.
	taken := map[string]bool{}
	for _, pod := range pods {
		taken[pod.ObjectMeta.Name] = true
	}
	for _, rs := range rss {
		newName := func() string {
			for {
				if n := rs.ObjectMeta.Name + "-" + randomSuffix(); !taken[n] {
					taken[n] = true
					return n
				}
			}
		}
		if rs.DeletionTimestamp != nil {
			continue // being deleted: its pods go with it, none is made
		}
		plan := controller.PlanReplicaSet(rs, pods, lost, newName, now)
		for i, pod := range plan.Delete {
			_, err := p.removePod(ctx, shard, pod, lost, nil)
			if err == nil && i < eventBurst {
				p.recordEvent(workload.NewEvent(rs, workload.EventNormal, "SuccessfulDelete", "Deleted pod: "+pod.Name, now.UTC(), replicaSetSource))
			}
			errs = append(errs, err)
		}
		create, refused := p.admitPods(ctx, plan.Create)
		if refused != nil {
			var ae *workload.AdmissionError
			if errors.As(refused, &ae) {
				p.recordEvent(workload.NewEvent(rs, workload.EventWarning, "FailedCreate", "Error creating: "+refused.Error(), now.UTC(), replicaSetSource))
			} else {
				errs = append(errs, refused)
			}
		}
		err := p.createPods(ctx, shard, create)
		if err == nil {
			for i, pod := range create {
				if i == eventBurst {
					break
				}
				p.recordEvent(workload.NewEvent(rs, workload.EventNormal, "SuccessfulCreate", "Created pod: "+pod.Name, now.UTC(), replicaSetSource))
			}
		}
		errs = append(errs, err)
		if !statusEqual(rs.Status, plan.Status) {
			rs.Status = plan.Status
			errs = append(errs, p.updateIn(ctx, shard, rs))
		}
	}
	return errors.Join(errs...)
}

// autoRollback puts a Deployment's previous template back (a
// compare-and-swap), with an event saying why; the next pass rolls it out.
func (p *Peer) autoRollback(ctx context.Context, shard uint64, d *workload.Deployment, bad *workload.ReplicaSet, tmpl *workload.PodTemplateSpec, rev, why string) error {
	failed := d.ObjectMeta.Annotations[workload.AnnotationRevision]
	// Mark the failed revision first, so that no later rollback returns to it.
	mark := *bad
	mark.ObjectMeta.Annotations = maps.Clone(bad.ObjectMeta.Annotations)
	if mark.ObjectMeta.Annotations == nil {
		mark.ObjectMeta.Annotations = map[string]string{}
	}
	mark.ObjectMeta.Annotations[controller.AnnotationRolledBackFrom] = why
	if err := p.updateIn(ctx, shard, &mark); err != nil {
		return err
	}
	d.Spec.Template = *tmpl
	d.ObjectMeta.Generation++ // a new spec, as the API would count it
	// The failed revision's verdict is not the new one's: Progressing
	// starts over, or the next pass would roll back again.
	now := p.cfg.Now().UTC().Truncate(time.Second)
	for i, c := range d.Status.Conditions {
		if c.Type == "Progressing" {
			d.Status.Conditions[i] = workload.DeploymentCondition{Type: "Progressing", Status: workload.ConditionTrue, Reason: "DeploymentRollback",
				Message: "Rolled back to revision " + rev, LastUpdateTime: workload.NewTime(now), LastTransitionTime: workload.NewTime(now)}
		}
	}
	if err := p.updateIn(ctx, shard, d); err != nil {
		return err
	}
	msg := fmt.Sprintf("Rolled back deployment %q to revision %s: revision %s %s", d.ObjectMeta.Name, rev, failed, why)
	p.log.Info("auto-rollback", "deployment", d.ObjectMeta.Namespace+"/"+d.ObjectMeta.Name, "to", rev, "why", why)
	ev := workload.NewEvent(d, workload.EventWarning, "DeploymentRollback", msg, p.cfg.Now().UTC(),
		workload.EventSource{Component: "deployment-controller", Host: p.cfg.Name})
	p.recordEvent(ev)
	return nil
}

// controllerUID is the UID of the object's controller, if it has one.
func controllerUID(meta *workload.ObjectMeta) (string, bool) {
	for _, r := range meta.OwnerReferences {
		if r.Controller != nil && *r.Controller {
			return string(r.UID), true
		}
	}
	return "", false
}

func sameNamespace(rss []*workload.ReplicaSet, ns string) []*workload.ReplicaSet {
	var out []*workload.ReplicaSet
	for _, r := range rss {
		if r.ObjectMeta.Namespace == ns {
			out = append(out, r)
		}
	}
	return out
}

func statusEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func decodeInto(so consensus.Object, o workload.Object) error {
	if err := json.Unmarshal(so.Data, o); err != nil {
		return err
	}
	workload.MetaOf(o).ResourceVersion = stringRV(so.ResourceVersion)
	return nil
}

func (p *Peer) createIn(ctx context.Context, shard uint64, o workload.Object) error {
	so, err := stored(o)
	if err != nil {
		return err
	}
	_, err = p.store.Propose(ctx, shard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpCreate, Object: so}}})
	return err
}

// createPodsBatch is how many new pods share one proposal: a ReplicaSet
// scaled to thousands would otherwise wait out one commit per pod.
const createPodsBatch = 256

// createPods creates a ReplicaSet's new pods, createPodsBatch to a
// proposal and up to 4 proposals at once. A batch is atomic: one failed
// create (a name taken meanwhile) fails its batch, and the next pass
// plans those pods again.
func (p *Peer) createPods(ctx context.Context, shard uint64, pods []*workload.Pod) error {
	if len(pods) == 0 {
		return nil
	}
	p.creating.begin(shard)
	defer p.creating.end(shard)
	var batches []consensus.Batch
	for i, pod := range pods {
		pod.ObjectMeta.UID = newUID()
		so, err := stored(pod)
		if err != nil {
			return err
		}
		if i%createPodsBatch == 0 {
			batches = append(batches, consensus.Batch{})
		}
		b := &batches[len(batches)-1]
		b.Commands = append(b.Commands, consensus.Command{Op: consensus.OpCreate, Object: so})
	}
	return errors.Join(p.proposeEach(ctx, shard, batches, 4)...)
}

// proposeEach proposes batches to a shard, at most limit at once, and
// returns each one's error (nil when it committed).
func (p *Peer) proposeEach(ctx context.Context, shard uint64, batches []consensus.Batch, limit int) []error {
	sem := make(chan struct{}, limit)
	errs := make([]error, len(batches))
	var wg sync.WaitGroup
	for i, b := range batches {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, errs[i] = p.store.Propose(ctx, shard, b)
		}()
	}
	wg.Wait()
	return errs
}

func (p *Peer) updateIn(ctx context.Context, shard uint64, o workload.Object) error {
	cmd, err := updateCommand(o)
	if err != nil {
		return err
	}
	_, err = p.store.Propose(ctx, shard, consensus.Batch{Commands: []consensus.Command{cmd}})
	return err
}

// deleteIn removes an object at the version the controller saw.
func (p *Peer) deleteIn(ctx context.Context, shard uint64, kind string, meta *workload.ObjectMeta) error {
	rv, err := parseRV(meta.ResourceVersion)
	if err != nil {
		return err
	}
	_, err = p.store.Propose(ctx, shard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpDelete,
		Object: consensus.Object{Kind: kind, Namespace: meta.Namespace, Name: meta.Name}, Precondition: rv}}})
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	return err
}

// removePod deletes a pod the way a controller should: one still running on
// a live node is marked terminating, so its node stops it within its grace
// period (preStop, SIGTERM, SIGKILL) and then removes it, and it shows as
// Terminating meanwhile, as in Kubernetes; one bound nowhere, finished, or on
// a lost node goes at once. disruption, when set, is a condition to put on
// a pod that is marked terminating (the taint eviction's DisruptionTarget).
// It returns what is left of the pod: nil when it is gone, else the pod
// terminating.
func (p *Peer) removePod(ctx context.Context, shard uint64, pod *workload.Pod, lost func(string) bool, disruption *workload.PodCondition) (*workload.Pod, error) {
	finished := pod.Status.Phase == workload.PodSucceeded || pod.Status.Phase == workload.PodFailed
	if pod.Spec.NodeName == "" || lost(pod.Spec.NodeName) || finished {
		return nil, p.deleteIn(ctx, shard, "Pod", &pod.ObjectMeta)
	}
	if pod.ObjectMeta.DeletionTimestamp != nil {
		return pod, nil // already terminating
	}
	rv, err := parseRV(pod.ObjectMeta.ResourceVersion)
	if err != nil {
		return pod, err
	}
	cp := *pod // pod may be shared with the memo; markTerminating sets fields
	if disruption != nil {
		cp.Status = *pod.Status.DeepCopy()
		c := *disruption
		c.LastTransitionTime = workload.NewTime(p.cfg.Now().UTC().Truncate(time.Second))
		workload.SetPodCondition(&cp.Status, c)
	}
	so, err := p.markTerminating(ctx, shard, &cp, rv)
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return pod, err
	}
	cp.ObjectMeta.ResourceVersion = stringRV(so.ResourceVersion)
	return &cp, nil
}

func randomSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	id := newUID()
	var b strings.Builder
	for i := range 5 {
		b.WriteByte(alphabet[int(id[i])%len(alphabet)])
	}
	return b.String()
}

func ownedPods(pods []*workload.Pod) bool {
	for _, p := range pods {
		if _, ok := controllerUID(&p.ObjectMeta); ok {
			return true
		}
	}
	return false
}

func stringRV(rv uint64) string { return strconv.FormatUint(rv, 10) }

// The controllers' event sources, as Kubernetes' controllers name them.
var (
	deploymentSource = workload.EventSource{Component: "deployment-controller"}
	replicaSetSource = workload.EventSource{Component: "replicaset-controller"}
)

// eventBurst is how many pod events a ReplicaSet's pass records at most,
// as Kubernetes' event recorder lets a burst of 25 through per object.
const eventBurst = 25

func replicasOf(rs *workload.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// scalingEvent records a Deployment's ScalingReplicaSet event, as
// Kubernetes' deployment controller words it.
func (p *Peer) scalingEvent(d *workload.Deployment, rs string, from, to int32, now time.Time) {
	dir := "up"
	if to < from {
		dir = "down"
	}
	msg := fmt.Sprintf("Scaled %s replica set %s from %d to %d", dir, rs, from, to)
	p.recordEvent(workload.NewEvent(d, workload.EventNormal, "ScalingReplicaSet", msg, now.UTC(), deploymentSource))
}
