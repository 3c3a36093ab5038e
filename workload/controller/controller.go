// Package controller holds the decisions of Shoal's workload controllers:
// what a ReplicaSet or a Deployment must create, delete or scale to match
// its spec, given what exists. Each is a pure function of (object, owned
// objects, node liveness, now) that returns a plan; the caller (package
// peer, in the leader of the shard that holds the Deployment, its
// ReplicaSets and its Pods) carries the plan out with compare-and-swap
// writes and runs the function again on the next change.
//
// This package must not import peer, consensus, gossip or cmd.
package controller

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/shoalproject/shoal/workload"
)

// LabelTemplateHash is the label a Deployment's ReplicaSets and their pods
// carry: the hash of the pod template they run, as in Kubernetes.
const LabelTemplateHash = "pod-template-hash"

// ReplicaSetPlan is what a ReplicaSet's controller does in one pass.
type ReplicaSetPlan struct {
	Create []*workload.Pod // new pods, named, with owner and labels
	Delete []*workload.Pod // extra or failed pods, or terminating pods on lost nodes
	Status workload.ReplicaSetStatus
}

// controlledBy says whether o's controller reference is the object with uid.
func controlledBy(meta *workload.ObjectMeta, uid string) bool {
	for _, r := range meta.OwnerReferences {
		if r.Controller != nil && *r.Controller && string(r.UID) == uid {
			return true
		}
	}
	return false
}

// active says whether a pod counts toward its ReplicaSet: not finished,
// not being deleted.
func active(p *workload.Pod) bool {
	return p.ObjectMeta.DeletionTimestamp == nil && p.Status.Phase != workload.PodSucceeded && p.Status.Phase != workload.PodFailed
}

// PlanReplicaSet decides, for one ReplicaSet, the pods to create and
// delete. pods may hold any pods of the namespace; only those the
// ReplicaSet controls count. lost says whether a node is gone (its peer
// failed for longer than the pod failover grace): a terminating pod there
// is deleted, since no node agent will finish it. A running pod on a lost
// node still counts: the NoExecute taint eviction (PlanTaintEviction)
// removes it when its tolerations say so, and it is replaced then.
// newName gives a fresh pod name for the ReplicaSet.
func PlanReplicaSet(rs *workload.ReplicaSet, pods []*workload.Pod, lost func(node string) bool, newName func() string, now time.Time) ReplicaSetPlan {
	var plan ReplicaSetPlan
	var mine []*workload.Pod
	for _, p := range pods {
		if !controlledBy(&p.ObjectMeta, string(rs.ObjectMeta.UID)) {
			continue
		}
		switch {
		case p.ObjectMeta.DeletionTimestamp != nil && p.Spec.NodeName != "" && lost(p.Spec.NodeName):
			// Terminating on a dead peer: no node agent will finish it.
			plan.Delete = append(plan.Delete, p)
		case p.Status.Phase == workload.PodFailed:
			plan.Delete = append(plan.Delete, p) // failed for good: replace it
		case active(p):
			mine = append(mine, p)
		case p.ObjectMeta.DeletionTimestamp != nil && p.Status.Phase != workload.PodSucceeded:
			workload.AddTerminatingReplicas(&plan.Status, 1)
		}
	}
	want := 1
	if rs.Spec.Replicas != nil {
		want = int(*rs.Spec.Replicas)
	}
	switch {
	case len(mine) < want:
		for range want - len(mine) {
			plan.Create = append(plan.Create, newPod(rs, newName(), now))
		}
	case len(mine) > want:
		// Delete the least advanced first: unscheduled, then pending, then
		// not ready, then the newest, as Kubernetes does.
		sort.SliceStable(mine, func(i, j int) bool { return deletionRank(mine[i]) < deletionRank(mine[j]) })
		plan.Delete = append(plan.Delete, mine[:len(mine)-want]...)
		workload.AddTerminatingReplicas(&plan.Status, int32(len(mine)-want)) // they terminate from now on
		mine = mine[len(mine)-want:]
	}
	for _, p := range mine {
		plan.Status.Replicas++
		plan.Status.FullyLabeledReplicas++
		if workload.IsPodReady(p) {
			plan.Status.ReadyReplicas++
			if available(p, rs.Spec.MinReadySeconds, now) {
				plan.Status.AvailableReplicas++
			}
		}
	}
	plan.Status.Replicas += int32(len(plan.Create))
	plan.Status.ObservedGeneration = rs.ObjectMeta.Generation
	return plan
}

func deletionRank(p *workload.Pod) int {
	switch {
	case p.Spec.NodeName == "":
		return 0
	case p.Status.Phase == workload.PodPending:
		return 1
	case !workload.IsPodReady(p):
		return 2
	}
	return 3
}

// available says whether a ready pod has been ready for minReady seconds.
func available(p *workload.Pod, minReady int32, now time.Time) bool {
	if minReady <= 0 {
		return true
	}
	c := workload.GetPodCondition(&p.Status, workload.PodReady)
	return c != nil && !c.LastTransitionTime.IsZero() && now.Sub(c.LastTransitionTime.Time) >= time.Duration(minReady)*time.Second
}

func newPod(rs *workload.ReplicaSet, name string, now time.Time) *workload.Pod {
	t := rs.Spec.Template
	labels := map[string]string{}
	for k, v := range t.ObjectMeta.Labels {
		labels[k] = v
	}
	annotations := map[string]string{}
	for k, v := range t.ObjectMeta.Annotations {
		annotations[k] = v
	}
	if d := rs.ObjectMeta.Annotations[workload.AnnotationDeployment]; d != "" {
		annotations[workload.AnnotationDeployment] = d
	}
	yes := true
	created := now.UTC().Truncate(time.Second)
	spec := *t.Spec.DeepCopy() // the plan's pods share nothing with rs
	return &workload.Pod{
		TypeMeta: workload.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: workload.ObjectMeta{
			Name: name, Namespace: rs.ObjectMeta.Namespace, Labels: labels, Annotations: annotations,
			GenerateName:      rs.ObjectMeta.Name + "-",
			CreationTimestamp: workload.NewTime(created),
			OwnerReferences: []workload.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.ObjectMeta.Name,
				UID: rs.ObjectMeta.UID, Controller: &yes, BlockOwnerDeletion: &yes}},
		},
		Spec:   spec,
		Status: workload.PodStatus{Phase: workload.PodPending},
	}
}

// TemplateHash is a short, stable hash of a pod template: a Deployment's
// ReplicaSet for that template is named DEPLOYMENT-HASH and its pods carry
// it in the pod-template-hash label. As Kubernetes does, it is the decimal
// FNV-32a of the template put in its safe alphabet (rand.SafeEncodeString:
// no vowels, no 0, 1 or 3), so names look like Kubernetes' ("7d9c8f5b6").
// Which ReplicaSet is a template's is decided by comparing templates
// (IsTemplateOf), not by this name.
func TemplateHash(t workload.PodTemplateSpec) string {
	b, _ := json.Marshal(t)
	h := fnv.New32a()
	_, _ = h.Write(b)
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// IsTemplateOf reports whether rs runs template t: their templates are
// equal but for the pod-template-hash label (Kubernetes' EqualIgnoreHash).
func IsTemplateOf(rs *workload.ReplicaSet, t *workload.PodTemplateSpec) bool {
	a, b := rs.Spec.Template.DeepCopy(), t.DeepCopy()
	delete(a.ObjectMeta.Labels, LabelTemplateHash)
	delete(b.ObjectMeta.Labels, LabelTemplateHash)
	return apiequality.Semantic.DeepEqual(a, b)
}

func newReplicaSet(d *workload.Deployment, hash string, replicas int32, now time.Time) *workload.ReplicaSet {
	yes := true
	created := now.UTC().Truncate(time.Second)
	t := *d.Spec.Template.DeepCopy()
	if t.ObjectMeta.Labels == nil {
		t.ObjectMeta.Labels = map[string]string{}
	}
	t.ObjectMeta.Labels[LabelTemplateHash] = hash
	labels := map[string]string{}
	for k, v := range t.ObjectMeta.Labels {
		labels[k] = v
	}
	sel := workload.LabelSelector{MatchLabels: map[string]string{LabelTemplateHash: hash}}
	if d.Spec.Selector != nil {
		for k, v := range d.Spec.Selector.MatchLabels {
			sel.MatchLabels[k] = v
		}
		sel.MatchExpressions = d.Spec.Selector.MatchExpressions
	}
	return &workload.ReplicaSet{
		TypeMeta: workload.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: workload.ObjectMeta{
			Name: fmt.Sprintf("%s-%s", d.ObjectMeta.Name, hash), Namespace: d.ObjectMeta.Namespace, Labels: labels,
			Annotations:       map[string]string{workload.AnnotationDeployment: d.ObjectMeta.Name},
			CreationTimestamp: workload.NewTime(created),
			OwnerReferences: []workload.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.ObjectMeta.Name,
				UID: d.ObjectMeta.UID, Controller: &yes, BlockOwnerDeletion: &yes}},
		},
		Spec: workload.ReplicaSetSpec{Replicas: &replicas, Selector: &sel, Template: t, MinReadySeconds: d.Spec.MinReadySeconds},
	}
}
