package controller

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/shoalproject/shoal/workload"
)

// DeploymentPlan is what a Deployment's controller does in one pass.
type DeploymentPlan struct {
	// Create is the ReplicaSet of the current template, when missing, with
	// the replicas the strategy allows it now.
	Create *workload.ReplicaSet
	// Update are ReplicaSets to write (set already): a new spec.replicas,
	// or a new revision for an old template brought back.
	Update []*workload.ReplicaSet
	Delete []*workload.ReplicaSet // old ReplicaSets beyond revisionHistoryLimit, scaled to zero and empty
	// Revision is the Deployment's deployment.kubernetes.io/revision now.
	Revision string
	Status   workload.DeploymentStatus
}

// Fenceposts are a rolling update's bounds for a Deployment of replicas
// pods, as Kubernetes resolves them: maxSurge as a count or a percentage
// rounded up, maxUnavailable rounded down, and when both come to zero,
// maxUnavailable is 1.
func Fenceposts(maxSurge, maxUnavailable *workload.IntOrString, replicas int32) (surge, unavailable int32, err error) {
	if surge, err = scaled(maxSurge, replicas, true); err != nil {
		return 0, 0, fmt.Errorf("maxSurge: %w", err)
	}
	if unavailable, err = scaled(maxUnavailable, replicas, false); err != nil {
		return 0, 0, fmt.Errorf("maxUnavailable: %w", err)
	}
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, unavailable, nil
}

// scaled is v as a count of total: a number as is, "N%" of total rounded
// up or down; nil is 25%.
func scaled(v *workload.IntOrString, total int32, roundUp bool) (int32, error) {
	if v == nil {
		q := workload.IntOrStringFromString("25%")
		v = &q
	}
	return workload.Scaled(*v, total, roundUp)
}

func replicasOf(rs *workload.ReplicaSet) int32 {
	if rs == nil || rs.Spec.Replicas == nil {
		return 0
	}
	return *rs.Spec.Replicas
}

// revisionOf is a ReplicaSet's revision, 0 when it has none.
func revisionOf(rs *workload.ReplicaSet) int64 {
	n, _ := strconv.ParseInt(rs.ObjectMeta.Annotations[workload.AnnotationRevision], 10, 64)
	return n
}

// PlanDeployment decides, for one Deployment, its ReplicaSets, as
// Kubernetes' deployment controller does:
//
//   - the ReplicaSet of the current template (its template equal to the
//     Deployment's but for pod-template-hash; the oldest such) is the
//     new one; it is created when missing, with the next revision, and an
//     old template brought back (a rollback) takes the next revision too;
//   - RollingUpdate: the new ReplicaSet grows while the pods of all of
//     them stay within replicas+maxSurge, and old ones shrink while the
//     available pods stay at least replicas-maxUnavailable (unavailable
//     old pods go first);
//   - Recreate: old ReplicaSets go to zero, and the new one is created or
//     grown only once no old pod is left;
//   - paused: nothing moves but the counts of a Deployment whose template
//     did not change;
//   - Progressing is True while the rollout moves (its LastUpdateTime is
//     the last move), False with ProgressDeadlineExceeded once it has not
//     moved for progressDeadlineSeconds, and True NewReplicaSetAvailable
//     once it is done; Available says whether replicas-maxUnavailable pods
//     are available.
//
// rss may hold any ReplicaSets of the namespace; now is the clock.
func PlanDeployment(d *workload.Deployment, rss []*workload.ReplicaSet, now time.Time) DeploymentPlan {
	var plan DeploymentPlan
	hash := TemplateHash(d.Spec.Template)
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	var current *workload.ReplicaSet
	var old []*workload.ReplicaSet
	maxRev := int64(0)
	for _, rs := range rss {
		if !controlledBy(&rs.ObjectMeta, string(d.ObjectMeta.UID)) {
			continue
		}
		if IsTemplateOf(rs, &d.Spec.Template) && (current == nil || olderReplicaSet(rs, current)) {
			if current != nil {
				old = append(old, current)
				maxRev = max(maxRev, revisionOf(current))
			}
			current = rs
			continue
		}
		old = append(old, rs)
		maxRev = max(maxRev, revisionOf(rs))
	}
	sort.Slice(old, func(i, j int) bool { // newest first
		a, b := old[i].ObjectMeta.CreationTimestamp, old[j].ObjectMeta.CreationTimestamp
		return b.Before(&a)
	})
	changed := map[*workload.ReplicaSet]*workload.ReplicaSet{} // original -> the copy to write
	edit := func(rs *workload.ReplicaSet) *workload.ReplicaSet {
		if c, ok := changed[rs]; ok {
			return c
		}
		c := *rs
		c.ObjectMeta.Annotations = cloneMap(rs.ObjectMeta.Annotations)
		changed[rs] = &c
		plan.Update = append(plan.Update, &c)
		return &c
	}
	setReplicas := func(rs *workload.ReplicaSet, n int32) {
		if replicasOf(rs) != n {
			edit(rs).Spec.Replicas = &n
		}
	}
	strategy := d.Spec.Strategy
	surge, unavailable := int32(0), int32(0) // Recreate: all or nothing
	if strategy.Type != workload.RecreateDeploymentStrategyType {
		var ru workload.RollingUpdateDeployment
		if strategy.RollingUpdate != nil {
			ru = *strategy.RollingUpdate
		}
		var err error
		if surge, unavailable, err = Fenceposts(ru.MaxSurge, ru.MaxUnavailable, want); err != nil {
			surge, unavailable = 0, 1 // validation refuses such a Deployment; be careful with one stored before
		}
	}
	moved := false
	switch {
	case d.Spec.Paused:
		if current != nil && len(activeRS(old)) == 0 {
			setReplicas(current, want) // scaling a paused Deployment that is not mid-rollout
		}
	case current == nil:
		n := want
		if strategy.Type == workload.RecreateDeploymentStrategyType {
			if oldPods(old) > 0 {
				n = -1 // not yet
			}
		} else {
			n = min(max(want+surge-podsOf(old), 0), want)
		}
		for _, rs := range old {
			if strategy.Type == workload.RecreateDeploymentStrategyType {
				setReplicas(rs, 0)
			}
		}
		if n >= 0 {
			plan.Create = newReplicaSet(d, hash, n, now)
			plan.Create.ObjectMeta.Annotations[workload.AnnotationRevision] = strconv.FormatInt(maxRev+1, 10)
			if cause := d.ObjectMeta.Annotations[workload.AnnotationChangeCause]; cause != "" {
				plan.Create.ObjectMeta.Annotations[workload.AnnotationChangeCause] = cause
			}
			moved = true
		}
	default:
		if revisionOf(current) <= maxRev { // an old template brought back
			c := edit(current)
			c.ObjectMeta.Annotations[workload.AnnotationRevision] = strconv.FormatInt(maxRev+1, 10)
			if cause := d.ObjectMeta.Annotations[workload.AnnotationChangeCause]; cause != "" {
				c.ObjectMeta.Annotations[workload.AnnotationChangeCause] = cause
			}
		}
		if strategy.Type == workload.RecreateDeploymentStrategyType {
			for _, rs := range old {
				setReplicas(rs, 0)
			}
			if oldPods(old) == 0 {
				setReplicas(current, want)
			}
		} else {
			rollingUpdate(current, old, want, surge, unavailable, setReplicas)
		}
		moved = len(plan.Update) > 0
	}
	plan.Revision = strconv.FormatInt(maxRev+1, 10)
	if current != nil && revisionOf(current) > maxRev {
		plan.Revision = strconv.FormatInt(revisionOf(current), 10)
	}
	if rev := d.ObjectMeta.Annotations[workload.AnnotationRevision]; d.Spec.Paused && rev != "" {
		plan.Revision = rev // a paused Deployment takes no new revision until it resumes
	}
	// History: old ReplicaSets at zero with no pods, beyond the limit,
	// the lowest revisions first to go.
	keep := 10
	if d.Spec.RevisionHistoryLimit != nil {
		keep = int(*d.Spec.RevisionHistoryLimit)
	}
	byRevision := append([]*workload.ReplicaSet(nil), old...)
	sort.SliceStable(byRevision, func(i, j int) bool { return revisionOf(byRevision[i]) > revisionOf(byRevision[j]) })
	idle := 0
	for _, rs := range byRevision {
		if replicasOf(rs) == 0 && rs.Status.Replicas == 0 && changed[rs] == nil {
			if idle >= keep {
				plan.Delete = append(plan.Delete, rs)
			}
			idle++
		}
	}
	plan.Status = deploymentStatus(d, current, old, want, unavailable, moved, now)
	return plan
}

// rollingUpdate grows the new ReplicaSet and shrinks the old ones within
// the fenceposts, as Kubernetes' reconcileNewReplicaSet and
// reconcileOldReplicaSets do. old is newest first.
func rollingUpdate(current *workload.ReplicaSet, old []*workload.ReplicaSet, want, surge, unavailable int32, set func(*workload.ReplicaSet, int32)) {
	newReplicas := replicasOf(current)
	// Toward maxSurge count every pod that exists or is about to: a
	// ReplicaSet just scaled down may not have deleted its extra pods yet,
	// and terminating pods still run.
	total := max(newReplicas, current.Status.Replicas) + workload.TerminatingReplicas(&current.Status) + podsOf(old)
	switch {
	case newReplicas > want:
		newReplicas = want
	case total < want+surge:
		newReplicas += min(want+surge-total, want-newReplicas)
	}
	set(current, newReplicas)
	reps := map[*workload.ReplicaSet]int32{}
	oldTotal := int32(0)
	for _, rs := range old {
		reps[rs] = replicasOf(rs)
		oldTotal += reps[rs]
	}
	if oldTotal == 0 {
		return
	}
	minAvailable := want - unavailable
	newUnavailable := max(newReplicas-current.Status.AvailableReplicas, 0)
	budget := oldTotal + newReplicas - minAvailable - newUnavailable
	if budget <= 0 {
		return
	}
	// Unavailable old pods first, oldest ReplicaSet first: they serve
	// nothing.
	for i := len(old) - 1; i >= 0 && budget > 0; i-- {
		rs := old[i]
		cut := min(max(reps[rs]-rs.Status.AvailableReplicas, 0), budget)
		reps[rs] -= cut
		budget -= cut
	}
	// Then available ones, while replicas-maxUnavailable stay available.
	avail := current.Status.AvailableReplicas
	for _, rs := range old {
		avail += min(rs.Status.AvailableReplicas, reps[rs])
	}
	for i, cut := len(old)-1, avail-minAvailable; i >= 0 && cut > 0; i-- {
		rs := old[i]
		c := min(reps[rs], cut)
		reps[rs] -= c
		cut -= c
	}
	for _, rs := range old {
		set(rs, reps[rs])
	}
}

// deploymentStatus counts the Deployment's pods and sets its conditions.
func deploymentStatus(d *workload.Deployment, current *workload.ReplicaSet, old []*workload.ReplicaSet, want, unavailable int32, moved bool, now time.Time) workload.DeploymentStatus {
	st := workload.DeploymentStatus{ObservedGeneration: d.ObjectMeta.Generation}
	for _, rs := range append(append([]*workload.ReplicaSet(nil), old...), current) {
		if rs == nil {
			continue
		}
		st.Replicas += rs.Status.Replicas
		st.ReadyReplicas += rs.Status.ReadyReplicas
		st.AvailableReplicas += rs.Status.AvailableReplicas
	}
	if current != nil {
		st.UpdatedReplicas = current.Status.Replicas
	}
	st.UnavailableReplicas = max(want-st.AvailableReplicas, 0)
	prev := func(t string) *workload.DeploymentCondition {
		for i := range d.Status.Conditions {
			if string(d.Status.Conditions[i].Type) == t {
				return &d.Status.Conditions[i]
			}
		}
		return nil
	}
	cond := func(t string, status workload.ConditionStatus, reason, msg string, progress bool) workload.DeploymentCondition {
		c := workload.DeploymentCondition{Type: workload.DeploymentConditionType(t), Status: status, Reason: reason, Message: msg, LastUpdateTime: workload.NewTime(now.UTC().Truncate(time.Second))}
		c.LastTransitionTime = c.LastUpdateTime
		if p := prev(t); p != nil {
			if p.Status == status {
				c.LastTransitionTime = p.LastTransitionTime
			}
			if !progress && p.Status == status && p.Reason == reason {
				c.LastUpdateTime = p.LastUpdateTime
			}
		}
		return c
	}
	avail := cond("Available", workload.ConditionFalse, "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", false)
	if st.AvailableReplicas >= want-unavailable {
		avail = cond("Available", workload.ConditionTrue, "MinimumReplicasAvailable", "Deployment has minimum availability.", false)
	}
	name := "ReplicaSet"
	if current != nil {
		name = fmt.Sprintf("ReplicaSet %q", current.ObjectMeta.Name)
	}
	done := current != nil && replicasOf(current) == want && current.Status.Replicas == want &&
		current.Status.AvailableReplicas == want && oldPods(old) == 0 && specTotal(old) == 0
	var prog workload.DeploymentCondition
	deadline := time.Duration(600) * time.Second
	if d.Spec.ProgressDeadlineSeconds != nil {
		deadline = time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
	}
	p := prev("Progressing")
	switch {
	case d.Spec.Paused:
		prog = cond("Progressing", workload.ConditionUnknown, "DeploymentPaused", "Deployment is paused", false)
	case done:
		prog = cond("Progressing", workload.ConditionTrue, "NewReplicaSetAvailable", name+" has successfully progressed.", false)
	case moved || p == nil || p.Reason == "DeploymentPaused" || p.Reason == "NewReplicaSetAvailable" || p.Reason == "DeploymentRollback" ||
		st.UpdatedReplicas > d.Status.UpdatedReplicas || st.ReadyReplicas > d.Status.ReadyReplicas || st.AvailableReplicas > d.Status.AvailableReplicas:
		prog = cond("Progressing", workload.ConditionTrue, "ReplicaSetUpdated", name+" is progressing.", true)
	case p.Reason == "ProgressDeadlineExceeded" || now.Sub(p.LastUpdateTime.Time) > deadline:
		prog = cond("Progressing", workload.ConditionFalse, "ProgressDeadlineExceeded", name+" has timed out progressing.", false)
	default:
		prog = *p // waiting for pods: no move, within the deadline
	}
	st.Conditions = []workload.DeploymentCondition{avail, prog}
	return st
}

// podsOf counts the pods that ReplicaSets have or are about to have:
// their spec, or more while extra pods are not deleted yet, and the
// terminating ones.
func podsOf(rss []*workload.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += max(replicasOf(rs), rs.Status.Replicas) + workload.TerminatingReplicas(&rs.Status)
	}
	return n
}

func specTotal(rss []*workload.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += replicasOf(rs)
	}
	return n
}

// oldPods counts the pods old ReplicaSets still have, terminating ones
// included.
func oldPods(rss []*workload.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += rs.Status.Replicas + workload.TerminatingReplicas(&rs.Status)
	}
	return n
}

func activeRS(rss []*workload.ReplicaSet) []*workload.ReplicaSet {
	var out []*workload.ReplicaSet
	for _, rs := range rss {
		if replicasOf(rs) > 0 || rs.Status.Replicas > 0 {
			out = append(out, rs)
		}
	}
	return out
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// AnnotationAutoRollback, set to "true" on a Deployment, makes a revision
// that fails go back to the one before it, as Nomad's auto_revert does.
// It is an annotation, so the manifest stays valid for Kubernetes.
const AnnotationAutoRollback = "shoal.dev/auto-rollback"

// AnnotationRolledBackFrom marks the ReplicaSet of a revision that
// auto-rollback left, with why: it is never gone back to automatically.
const AnnotationRolledBackFrom = "shoal.dev/rolled-back-from"

// PodHealth is how the pods of a Deployment's newest ReplicaSet fare.
type PodHealth struct {
	Restarts int32 // the most restarts of any of their containers
	BackOff  bool  // a container waits in CrashLoopBackOff
}

// HealthOf reads the health of rs's pods.
func HealthOf(rs *workload.ReplicaSet, pods []*workload.Pod) PodHealth {
	var h PodHealth
	if rs == nil {
		return h
	}
	for _, p := range pods {
		if !controlledBy(&p.ObjectMeta, string(rs.ObjectMeta.UID)) {
			continue
		}
		for _, cs := range p.Status.ContainerStatuses {
			h.Restarts = max(h.Restarts, cs.RestartCount)
			if w := cs.State.Waiting; w != nil && w.Reason == workload.ReasonCrashLoopBackOff {
				h.BackOff = true
			}
		}
	}
	return h
}

// AutoRollback decides whether a Deployment annotated for it goes back to
// its previous revision: while its newest revision is rolling out, when
// that revision has missed its progress deadline, or its pods crash-loop
// (3 restarts, or BackOff). It returns the template to go back to, that
// revision, and why; nil when nothing is to be done. current is the
// ReplicaSet of d's template (nil before it exists).
func AutoRollback(d *workload.Deployment, rss []*workload.ReplicaSet, health PodHealth) (*workload.PodTemplateSpec, string, string) {
	if d.ObjectMeta.Annotations[AnnotationAutoRollback] != "true" || d.Spec.Paused ||
		d.Status.ObservedGeneration != d.ObjectMeta.Generation || CurrentReplicaSet(d, rss) == nil {
		return nil, "", "" // the status is not this template's yet
	}
	var why string
	prog := workload.DeploymentCondition{}
	for _, c := range d.Status.Conditions {
		if c.Type == "Progressing" {
			prog = c
		}
	}
	switch {
	case prog.Reason == "NewReplicaSetAvailable":
		return nil, "", "" // the rollout is done: later failures are the ReplicaSet's to handle
	case prog.Reason == "ProgressDeadlineExceeded":
		why = "it missed its progress deadline"
	case health.BackOff:
		why = "its pods crash-loop (BackOff)"
	case health.Restarts >= 3:
		why = fmt.Sprintf("its pods restarted %d times", health.Restarts)
	default:
		return nil, "", ""
	}
	var prev *workload.ReplicaSet
	for _, rs := range rss {
		if !controlledBy(&rs.ObjectMeta, string(d.ObjectMeta.UID)) || IsTemplateOf(rs, &d.Spec.Template) ||
			rs.ObjectMeta.Annotations[AnnotationRolledBackFrom] != "" {
			continue // never back to a revision that was itself rolled back from
		}
		if prev == nil || revisionOf(rs) > revisionOf(prev) {
			prev = rs
		}
	}
	if prev == nil {
		return nil, "", ""
	}
	t := prev.Spec.Template
	labels := map[string]string{}
	for k, v := range t.ObjectMeta.Labels {
		if k != LabelTemplateHash {
			labels[k] = v
		}
	}
	t.ObjectMeta.Labels = labels
	return &t, prev.ObjectMeta.Annotations[workload.AnnotationRevision], why
}

// CurrentReplicaSet is the ReplicaSet of d's template, nil before it
// exists.
func CurrentReplicaSet(d *workload.Deployment, rss []*workload.ReplicaSet) *workload.ReplicaSet {
	var current *workload.ReplicaSet
	for _, rs := range rss {
		if controlledBy(&rs.ObjectMeta, string(d.ObjectMeta.UID)) && IsTemplateOf(rs, &d.Spec.Template) &&
			(current == nil || olderReplicaSet(rs, current)) {
			current = rs
		}
	}
	return current
}

// olderReplicaSet orders ReplicaSets of one template as Kubernetes picks
// the new one among them: the oldest, then by name.
func olderReplicaSet(a, b *workload.ReplicaSet) bool {
	ta, tb := a.ObjectMeta.CreationTimestamp, b.ObjectMeta.CreationTimestamp
	if !ta.Equal(&tb) {
		return ta.Before(&tb)
	}
	return a.ObjectMeta.Name < b.ObjectMeta.Name
}
