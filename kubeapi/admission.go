package kubeapi

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// quotaRetries bounds how often a create re-reads a quota that another
// create charged at the same time.
const quotaRetries = 5

// admit runs kube-apiserver's admission on a new object, after defaults
// and validation: for a pod, LimitRanger (defaults, then bounds) and
// Priority, and the pod is validated again with what they set; for any
// namespaced object, ResourceQuota, which charges the namespace's quotas
// with compare-and-swap (not for a dry run). A refusal is 403 Forbidden
// naming the object, in Kubernetes' words.
func (s *Server) admit(q *request, obj workload.Object, dryRun bool) error {
	info, err := workload.LookupKind(q.res.GroupVersionKind.Kind)
	if err != nil {
		return err
	}
	forbidden := func(err error) error {
		var ae *workload.AdmissionError
		if errors.As(err, &ae) {
			return apierrors.NewForbidden(q.gr(), obj.GetName(), err)
		}
		return err
	}
	if pod, ok := obj.(*workload.Pod); ok {
		ranges, err := listAs[*workload.LimitRange](s, q, "v1/limitranges", pod.Namespace)
		if err != nil {
			return err
		}
		classes, err := listAs[*workload.PriorityClass](s, q, "scheduling.k8s.io/v1/priorityclasses", "")
		if err != nil {
			return err
		}
		if err := workload.ApplyLimitRanges(pod, ranges); err != nil {
			return forbidden(err)
		}
		if err := workload.ResolvePriority(pod, classes); err != nil {
			return forbidden(err)
		}
		if errs := workload.ValidateFields(pod, info); len(errs) > 0 {
			return &invalidError{kind: q.res.GroupVersionKind.GroupKind(), name: pod.Name, errs: errs}
		}
	}
	if !info.Namespaced || info.Kind == "Event" || info.Kind == "Namespace" {
		return nil
	}
	usage := workload.QuotaUsage(obj, info)
	for range quotaRetries {
		quotas, err := listAs[*workload.ResourceQuota](s, q, "v1/resourcequotas", q.namespace)
		if err != nil {
			return err
		}
		var charged []*workload.ResourceQuota
		for _, rq := range quotas {
			if !workload.QuotaMatches(rq, obj) {
				continue
			}
			changed, err := workload.ChargeQuota(rq, usage)
			if err != nil {
				return forbidden(err)
			}
			if changed {
				charged = append(charged, rq)
			}
		}
		if dryRun || len(charged) == 0 {
			return nil
		}
		conflict := false
		for _, rq := range charged {
			_, err := s.cfg.Store.Update(q.ctx(), s.byPath["v1/resourcequotas"], rq, WriteOptions{})
			if errors.Is(err, errdefs.ErrConflict) {
				conflict = true
				break
			}
			if err != nil {
				return err
			}
		}
		if !conflict {
			return nil
		}
	}
	return apierrors.NewConflict(q.gr(), obj.GetName(), fmt.Errorf("the namespace's resource quotas kept changing; try again"))
}

// listAs lists a served resource ("v1/limitranges") in a namespace from
// any replica, typed.
func listAs[T workload.Object](s *Server, q *request, path, ns string) ([]T, error) {
	r, ok := s.byPath[path]
	if !ok {
		return nil, nil
	}
	res, err := s.cfg.Store.List(q.ctx(), r, ns, ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(res.Items))
	for _, o := range res.Items {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out, nil
}
