package peer

import (
	"context"
	"errors"
	"fmt"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// serviceAccountsPass is Kubernetes' service account controller, run by
// the meta shard's leader with node lifecycle: every namespace that is not
// being deleted has a "default" ServiceAccount, made again if deleted.
// Each pass reads the namespaces and accounts from this peer's replicas
// and writes only what is missing.
func (p *Peer) serviceAccountsPass(ctx context.Context) error {
	lr, err := p.store.List(ctx, consensus.MetaShard, consensus.Filter{Kind: "Namespace"}, false)
	if err != nil {
		return err
	}
	var errs []error
	for _, so := range lr.Objects {
		var ns workload.Namespace
		if decodeInto(so, &ns) != nil || ns.DeletionTimestamp != nil || ns.Status.Phase == workload.NamespaceTerminating {
			continue
		}
		k := consensus.Key{Kind: "ServiceAccount", Namespace: ns.Name, Name: workload.DefaultServiceAccountName}
		_, err := p.store.Get(ctx, p.shardOf(k), k, false)
		if err == nil {
			continue
		}
		if !errors.Is(err, errdefs.ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		if err := p.ensureObject(ctx, workload.NewDefaultServiceAccount(ns.Name)); err != nil {
			errs = append(errs, fmt.Errorf("serviceaccount %s/default: %w", ns.Name, err))
		}
	}
	return errors.Join(errs...)
}
