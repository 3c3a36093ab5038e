package peer

import (
	"context"
	"errors"
	"fmt"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// admitPods runs the admission the API runs on a new pod (LimitRange
// defaults and bounds, PriorityClass, ResourceQuota; workload's
// ApplyLimitRanges, ResolvePriority and ChargeQuota) on the pods a
// ReplicaSet is about to create, as kube-apiserver does for the
// ReplicaSet controller's creates. It returns the pods admitted and the
// first refusal, in kube's words ("pods \"web-x\" is forbidden: ..."); a
// quota is charged with compare-and-swap, as the API charges it.
func (p *Peer) admitPods(ctx context.Context, pods []*workload.Pod) ([]*workload.Pod, error) {
	if len(pods) == 0 {
		return nil, nil
	}
	ns := pods[0].ObjectMeta.Namespace
	ranges, err := listKind[workload.LimitRange](ctx, p, "LimitRange", ns)
	if err != nil {
		return nil, err
	}
	classes, err := listKind[workload.PriorityClass](ctx, p, "PriorityClass", "")
	if err != nil {
		return nil, err
	}
	quotas, err := listKind[workload.ResourceQuota](ctx, p, "ResourceQuota", ns)
	if err != nil {
		return nil, err
	}
	podInfo, _ := workload.LookupKind("Pod")
	var out []*workload.Pod
	var refused error
	charged := map[string]bool{}
	for _, pod := range pods {
		err := workload.ApplyLimitRanges(pod, ranges)
		if err == nil {
			err = workload.ResolvePriority(pod, classes)
		}
		if err == nil {
			err = chargeAll(quotas, pod, podInfo, charged)
		}
		if err != nil {
			if refused == nil {
				refused = fmt.Errorf("pods %q is forbidden: %w", pod.ObjectMeta.Name, err)
			}
			continue
		}
		out = append(out, pod)
	}
	for _, q := range quotas {
		if charged[q.Name] {
			if err := p.updateIn(ctx, p.shardOfObject("ResourceQuota", &q.ObjectMeta), q); err != nil {
				// Another writer charged it first: create nothing this
				// pass; the next one charges the quota as it is then.
				return nil, fmt.Errorf("resourcequota %s: %w", q.Name, err)
			}
		}
	}
	return out, refused
}

// chargeAll charges every quota whose scopes take in o, all or none.
func chargeAll(quotas []*workload.ResourceQuota, o workload.Object, info workload.KindInfo, charged map[string]bool) error {
	usage := workload.QuotaUsage(o, info)
	next := make([]workload.ResourceQuota, len(quotas))
	for i, q := range quotas {
		next[i] = *q.DeepCopy()
		if !workload.QuotaMatches(q, o) {
			continue
		}
		changed, err := workload.ChargeQuota(&next[i], usage)
		if err != nil {
			return err
		}
		charged[q.Name] = charged[q.Name] || changed
	}
	for i := range quotas {
		*quotas[i] = next[i]
	}
	return nil
}

// listKind reads the objects of a kind in a namespace ("" for all, or a
// cluster-scoped kind) from every shard that may hold them, from this
// peer's replicas.
func listKind[T any, PT interface {
	*T
	workload.Object
}](ctx context.Context, p *Peer, kind, ns string) ([]PT, error) {
	info, err := workload.LookupKind(kind)
	if err != nil {
		return nil, err
	}
	objs, _, err := consensus.ListShards(ctx, p.store, p.shardsFor(info), consensus.Filter{Kind: kind, Namespace: ns}, false)
	if err != nil {
		return nil, err
	}
	out := make([]PT, 0, len(objs))
	for _, so := range objs {
		o := PT(new(T))
		if decodeInto(so, o) == nil {
			out = append(out, o)
		}
	}
	return out, nil
}

// quotaPass keeps the status of a shard's ResourceQuotas: hard from the
// spec, used counted from the objects of the namespace (Kubernetes'
// resource quota controller), so that what admission charged for an
// object never created, or one since deleted, is given back.
func (p *Peer) quotaPass(ctx context.Context, shard uint64, quotas []*workload.ResourceQuota) error {
	type counted struct {
		objs  []workload.Object
		infos []workload.KindInfo
	}
	byNS := map[string]*counted{}
	var errs []error
	for _, q := range quotas {
		ns := q.ObjectMeta.Namespace
		c, ok := byNS[ns]
		if !ok {
			c = &counted{}
			for _, info := range workload.Kinds() {
				if !info.Namespaced || !quotaCounts(quotas, info) {
					continue
				}
				objs, _, err := consensus.ListShards(ctx, p.store, p.shardsFor(info), consensus.Filter{Kind: info.Kind, Namespace: ns}, false)
				if err != nil {
					return err
				}
				for _, so := range objs {
					o := info.New()
					if decodeInto(so, o) == nil {
						c.objs, c.infos = append(c.objs, o), append(c.infos, info)
					}
				}
			}
			byNS[ns] = c
		}
		st := workload.QuotaStatus(q, c.objs, c.infos)
		if statusEqual(st, q.Status) {
			continue
		}
		q.Status = st
		if err := p.updateIn(ctx, shard, q); err != nil && !errors.Is(err, errdefs.ErrConflict) && !errors.Is(err, errdefs.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// quotaCounts says whether any of quotas tracks objects of a kind, so that
// the pass reads only those.
func quotaCounts(quotas []*workload.ResourceQuota, info workload.KindInfo) bool {
	probe := workload.QuotaUsage(info.New(), info)
	for _, q := range quotas {
		for name := range q.Spec.Hard {
			if _, ok := probe[name]; ok {
				return true
			}
			if info.Kind == "Pod" || info.Kind == "PersistentVolumeClaim" {
				return true // requests and limits of any resource
			}
		}
	}
	return false
}
