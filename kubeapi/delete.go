package kubeapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// Deletes, as kube-apiserver and its garbage collector make them:
//
//   - A pod bound to a node is deleted gracefully: it gets a
//     deletionTimestamp (now plus its grace period) and the node agent
//     stops it and then removes it; gracePeriodSeconds=0 removes it now.
//   - An object with finalizers gets a deletionTimestamp and stays until
//     the last finalizer is taken off (an update).
//   - propagationPolicy says what becomes of the objects it owns
//     (metadata.ownerReferences naming its uid): Background (the default)
//     deletes them after it, Foreground before it (it waits, with the
//     foregroundDeletion finalizer, until they are gone), Orphan keeps them
//     and takes the reference off.
//   - A namespace takes everything in it with it.

// dependentsWait bounds how long a foreground delete waits for the
// objects it owns to go before it goes anyway.
const dependentsWait = 2 * time.Minute

// deleteObject deletes one object as opts say. It returns the object (its
// last state, or its state now that it is terminating) and whether it is
// gone.
func (s *Server) deleteObject(q *request, name string, do metav1.DeleteOptions, wq writeQuery) (workload.Object, bool, error) {
	// Another write between the read and the delete (a controller's status)
	// makes the delete's compare-and-swap fail: read again, unless the
	// client's own precondition is what failed.
	for attempt := 0; ; attempt++ {
		out, deleted, err := s.deleteOnce(q, name, do, wq)
		if err == nil || !errors.Is(err, errdefs.ErrConflict) || do.Preconditions != nil || attempt == patchAttempts {
			return out, deleted, err
		}
	}
}

func (s *Server) deleteOnce(q *request, name string, do metav1.DeleteOptions, wq writeQuery) (workload.Object, bool, error) {
	ctx := q.ctx()
	cur, err := s.cfg.Store.Get(ctx, q.res, q.namespace, name, ReadOptions{Consistent: true})
	if err != nil {
		return nil, false, err
	}
	if p := do.Preconditions; p != nil {
		if p.UID != nil && *p.UID != cur.GetUID() {
			return nil, false, apierrors.NewConflict(q.gr(), name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, cur.GetUID()))
		}
		if p.ResourceVersion != nil && *p.ResourceVersion != cur.GetResourceVersion() {
			return nil, false, apierrors.NewConflict(q.gr(), name, fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, cur.GetResourceVersion()))
		}
	}
	policy := metav1.DeletePropagationBackground
	if do.PropagationPolicy != nil {
		policy = *do.PropagationPolicy
	}
	if pod, ok := cur.(*corev1.Pod); ok {
		if out, done, err := s.deletePodGracefully(q, pod, do, wq); done {
			return out, false, err
		}
	}
	finalizers := cur.GetFinalizers()
	switch policy {
	case metav1.DeletePropagationForeground:
		finalizers = appendMissing(finalizers, metav1.FinalizerDeleteDependents)
	case metav1.DeletePropagationOrphan:
		finalizers = appendMissing(finalizers, metav1.FinalizerOrphanDependents)
	}
	if len(finalizers) > 0 {
		if cur, err = s.markDeleting(q, cur, policy, wq); err != nil {
			return nil, false, err
		}
		if !wq.dryRun {
			switch policy {
			case metav1.DeletePropagationOrphan:
				return s.finishOrphan(q, cur)
			case metav1.DeletePropagationForeground:
				go s.finishForeground(context.WithoutCancel(ctx), q.res, cur)
			}
		}
		return cur, false, nil
	}
	if q.res.GroupVersionKind.Kind == "Namespace" && !wq.dryRun {
		if err := s.deleteNamespaceContents(ctx, name); err != nil {
			return nil, false, err
		}
	}
	out, err := s.cfg.Store.Delete(ctx, q.res, q.namespace, name, DeleteOptions{WriteOptions: WriteOptions{DryRun: wq.dryRun}, ResourceVersion: cur.GetResourceVersion()})
	if err != nil {
		return nil, false, err
	}
	if !wq.dryRun && canOwn(q.res) {
		go s.collectDependents(context.WithoutCancel(ctx), out)
	}
	return out, true, nil
}

// markDeleting sets an object's deletionTimestamp and the finalizer its
// propagation policy needs, reading it again when another write came
// between (a controller's status update).
func (s *Server) markDeleting(q *request, cur workload.Object, policy metav1.DeletionPropagation, wq writeQuery) (workload.Object, error) {
	for attempt := 0; ; attempt++ {
		finalizers := cur.GetFinalizers()
		switch policy {
		case metav1.DeletePropagationForeground:
			finalizers = appendMissing(finalizers, metav1.FinalizerDeleteDependents)
		case metav1.DeletePropagationOrphan:
			finalizers = appendMissing(finalizers, metav1.FinalizerOrphanDependents)
		}
		if cur.GetDeletionTimestamp() != nil && len(finalizers) == len(cur.GetFinalizers()) {
			return cur, nil
		}
		if cur.GetDeletionTimestamp() == nil {
			now, zero := s.now(), int64(0)
			cur.SetDeletionTimestamp(&now)
			cur.SetDeletionGracePeriodSeconds(&zero)
		}
		cur.SetFinalizers(finalizers)
		out, err := s.cfg.Store.Update(q.ctx(), q.res, cur, WriteOptions{DryRun: wq.dryRun})
		if err == nil || !errors.Is(err, errdefs.ErrConflict) || attempt == patchAttempts {
			return out, err
		}
		if cur, err = s.cfg.Store.Get(q.ctx(), q.res, q.namespace, q.name, ReadOptions{Consistent: true}); err != nil {
			return nil, err
		}
	}
}

func appendMissing(list []string, f string) []string {
	if contains(list, f) {
		return list
	}
	return append(append([]string(nil), list...), f)
}

// deletePodGracefully marks a pod bound to a node as terminating. done is
// false when the pod should go at once (bound nowhere, or a zero grace
// period), and the caller deletes it.
func (s *Server) deletePodGracefully(q *request, pod *corev1.Pod, do metav1.DeleteOptions, wq writeQuery) (workload.Object, bool, error) {
	grace := int64(workload.DefaultTerminationGracePeriodSeconds)
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	if do.GracePeriodSeconds != nil {
		grace = *do.GracePeriodSeconds
	}
	if pod.Spec.NodeName == "" || grace == 0 || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil, false, nil
	}
	if cur := pod.DeletionGracePeriodSeconds; pod.DeletionTimestamp != nil && cur != nil && *cur <= grace {
		return pod, true, nil // already terminating, as soon or sooner
	}
	at := metav1.NewTime(s.cfg.Now().UTC().Truncate(time.Second).Add(time.Duration(grace) * time.Second))
	pod.DeletionTimestamp, pod.DeletionGracePeriodSeconds = &at, &grace
	out, err := s.cfg.Store.Update(q.ctx(), q.res, pod, WriteOptions{DryRun: wq.dryRun})
	return out, true, err
}

// finishOrphan takes the owner reference to obj off every object it owns,
// then its orphan finalizer; obj goes once it has no other.
func (s *Server) finishOrphan(q *request, obj workload.Object) (workload.Object, bool, error) {
	ctx := q.ctx()
	for _, d := range s.dependents(ctx, obj) {
		refs := d.obj.GetOwnerReferences()
		kept := refs[:0:0]
		for _, r := range refs {
			if r.UID != obj.GetUID() {
				kept = append(kept, r)
			}
		}
		d.obj.SetOwnerReferences(kept)
		if _, err := s.cfg.Store.Update(ctx, d.res, d.obj, WriteOptions{}); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			return nil, false, fmt.Errorf("orphan %s %s/%s: %w", d.res.Plural, d.obj.GetNamespace(), d.obj.GetName(), err)
		}
	}
	return s.dropFinalizer(ctx, q.res, obj, metav1.FinalizerOrphanDependents)
}

// finishForeground deletes what obj owns, waits for it to be gone (at most
// dependentsWait), then takes obj's foregroundDeletion finalizer off. It
// runs on the peer that took the delete.
func (s *Server) finishForeground(ctx context.Context, res *Resource, obj workload.Object) {
	wait, cancel := context.WithTimeout(ctx, dependentsWait)
	defer cancel()
	for {
		deps, err := s.dependentsOf(wait, obj)
		if err == nil && len(deps) == 0 {
			break
		}
		for _, d := range deps {
			if d.obj.GetDeletionTimestamp() == nil {
				s.deleteDependent(wait, d, metav1.DeletePropagationForeground)
			}
		}
		select {
		case <-wait.Done():
			s.log.Warn("foreground delete: dependents still there after the wait, deleting the owner anyway",
				"resource", res.Plural, "namespace", obj.GetNamespace(), "name", obj.GetName(), "err", err)
		case <-time.After(200 * time.Millisecond): // polling the store, bounded by dependentsWait
			continue
		}
		break
	}
	done, cancel2 := context.WithTimeout(ctx, 30*time.Second)
	defer cancel2()
	for attempt := 0; attempt <= patchAttempts; attempt++ {
		cur, err := s.cfg.Store.Get(done, res, obj.GetNamespace(), obj.GetName(), ReadOptions{Consistent: true})
		if errors.Is(err, errdefs.ErrNotFound) || (err == nil && cur.GetUID() != obj.GetUID()) {
			return // gone already
		}
		if err == nil {
			_, _, err = s.dropFinalizer(done, res, cur, metav1.FinalizerDeleteDependents)
		}
		if err == nil || errors.Is(err, errdefs.ErrNotFound) {
			return
		}
		if !errors.Is(err, errdefs.ErrConflict) {
			s.log.Warn("foreground delete: finalizer not removed", "resource", res.Plural, "name", obj.GetName(), "err", err)
			return
		}
	}
}

// dropFinalizer takes one finalizer off obj; an object being deleted with
// none left goes.
func (s *Server) dropFinalizer(ctx context.Context, res *Resource, obj workload.Object, f string) (workload.Object, bool, error) {
	var kept []string
	for _, x := range obj.GetFinalizers() {
		if x != f {
			kept = append(kept, x)
		}
	}
	if len(kept) == 0 && obj.GetDeletionTimestamp() != nil {
		out, err := s.cfg.Store.Delete(ctx, res, obj.GetNamespace(), obj.GetName(), DeleteOptions{ResourceVersion: obj.GetResourceVersion()})
		if err == nil && canOwn(res) {
			go s.collectDependents(context.WithoutCancel(ctx), out)
		}
		return out, err == nil, err
	}
	obj.SetFinalizers(kept)
	out, err := s.cfg.Store.Update(ctx, res, obj, WriteOptions{})
	return out, false, err
}

// dependent is an object that names another as its owner.
type dependent struct {
	res *Resource
	obj workload.Object
}

// canOwn says whether objects of a resource are looked for dependents
// when they go: every kind but the many small ones nothing owns through.
func canOwn(r *Resource) bool {
	switch r.GroupVersionKind.Kind {
	case "Pod", "Event", "Endpoints", "Lease":
		return false
	}
	return true
}

// dependents lists the objects whose ownerReferences name obj's uid: in
// its namespace for a namespaced owner, anywhere for a cluster-scoped one.
func (s *Server) dependents(ctx context.Context, obj workload.Object) []dependent {
	out, _ := s.dependentsOf(ctx, obj)
	return out
}

// dependentsOf is dependents, and the first error a list met.
func (s *Server) dependentsOf(ctx context.Context, obj workload.Object) ([]dependent, error) {
	var out []dependent
	var firstErr error
	for i := range s.resources {
		r := &s.resources[i]
		if !r.Namespaced && obj.GetNamespace() != "" {
			continue // a namespaced owner owns nothing cluster-scoped
		}
		res, err := s.cfg.Store.List(ctx, r, obj.GetNamespace(), ListOptions{ReadOptions: ReadOptions{Consistent: true}})
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, o := range res.Items {
			if ownedBy(o, obj.GetUID()) {
				out = append(out, dependent{res: r, obj: o})
			}
		}
	}
	return out, firstErr
}

func ownedBy(o workload.Object, uid types.UID) bool {
	for _, r := range o.GetOwnerReferences() {
		if r.UID == uid {
			return true
		}
	}
	return false
}

// collectDependents deletes, in the background, the objects a deleted
// object owned whose owners are now all gone, as Kubernetes' garbage
// collector does after a Background delete.
func (s *Server) collectDependents(ctx context.Context, owner workload.Object) {
	ctx, cancel := context.WithTimeout(ctx, dependentsWait)
	defer cancel()
	for _, d := range s.dependents(ctx, owner) {
		if s.hasLiveOwner(ctx, d.obj, owner.GetUID()) {
			continue
		}
		s.deleteDependent(ctx, d, metav1.DeletePropagationBackground)
	}
}

// hasLiveOwner reports whether an object names an owner besides gone.
func (s *Server) hasLiveOwner(ctx context.Context, o workload.Object, gone types.UID) bool {
	for _, ref := range o.GetOwnerReferences() {
		if ref.UID == gone {
			continue
		}
		for i := range s.resources {
			r := &s.resources[i]
			if r.GroupVersionKind.Kind != ref.Kind || r.GroupVersionKind.GroupVersion().String() != ref.APIVersion {
				continue
			}
			ns := ""
			if r.Namespaced {
				ns = o.GetNamespace()
			}
			if cur, err := s.cfg.Store.Get(ctx, r, ns, ref.Name, ReadOptions{Consistent: true}); err == nil && cur.GetUID() == ref.UID {
				return true
			}
		}
	}
	return false
}

func (s *Server) deleteDependent(ctx context.Context, d dependent, policy metav1.DeletionPropagation) {
	r, _ := http.NewRequestWithContext(ctx, http.MethodDelete, "/", nil)
	q := &request{r: r, res: d.res, verb: "delete", namespace: d.obj.GetNamespace(), name: d.obj.GetName()}
	if d.res.SystemOwned {
		return
	}
	if _, _, err := s.deleteObject(q, d.obj.GetName(), metav1.DeleteOptions{PropagationPolicy: &policy}, writeQuery{}); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		s.log.Warn("garbage collection: dependent not deleted", "resource", d.res.Plural, "namespace", d.obj.GetNamespace(), "name", d.obj.GetName(), "err", err)
	}
}

// deleteNamespaceContents deletes every object in a namespace, before the
// namespace itself goes (Kubernetes' namespace controller does this after
// the namespace turns Terminating; Shoal does it within the delete).
func (s *Server) deleteNamespaceContents(ctx context.Context, ns string) error {
	for i := range s.resources {
		r := &s.resources[i]
		if !r.Namespaced {
			continue
		}
		res, err := s.cfg.Store.List(ctx, r, ns, ListOptions{ReadOptions: ReadOptions{Consistent: true}})
		if err != nil {
			return err
		}
		for _, o := range res.Items {
			_, err := s.cfg.Store.Delete(ctx, r, ns, o.GetName(), DeleteOptions{})
			if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
				return fmt.Errorf("namespace %q: delete %s %s: %w", ns, r.Plural, o.GetName(), err)
			}
		}
	}
	return nil
}
