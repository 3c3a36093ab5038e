package peer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/volumes"
	"github.com/shoalproject/shoal/workload"
)

// PersistentVolumes live in the meta shard, claims in the object shard
// their namespace/name hashes to. Binding is decided by the leader of the
// claim's shard (volumes.Bind) and recorded in two compare-and-swap
// writes: first the volume's claimRef (in meta, so two leaders binding
// two claims to one volume cannot both win), then the claim's volumeName
// and status. A claim whose volume already names it is simply finished,
// so a leader that failed between the two writes loses nothing.
//
// Volumes' phases (Available, Bound, Released, Failed) and the reclaim
// policy are kept by the leader of the first object shard, which reads
// every volume and then every claim: in that order, a claim bound after
// the volumes were read is still seen, and its volume is never wrongly
// Released.

// claimsPass binds the pending claims of one object shard and keeps its
// claims' status.
func (p *Peer) claimsPass(ctx context.Context, shard uint64, claims []*workload.PersistentVolumeClaim) error {
	pvs, err := p.persistentVolumes(ctx)
	if err != nil {
		return err
	}
	byName := map[string]*workload.PersistentVolume{}
	for _, pv := range pvs {
		byName[pv.ObjectMeta.Name] = pv
	}
	var errs []error
	for _, c := range claims {
		if c.ObjectMeta.DeletionTimestamp != nil {
			continue
		}
		pv := byName[c.Spec.VolumeName]
		switch volumes.ClaimPhase(c, pv) {
		case workload.ClaimBound:
			errs = append(errs, p.claimStatus(ctx, shard, c, workload.PersistentVolumeClaimStatus{
				Phase: workload.ClaimBound, AccessModes: pv.Spec.AccessModes, Capacity: pv.Spec.Capacity}))
			continue
		case workload.ClaimLost:
			errs = append(errs, p.claimStatus(ctx, shard, c, workload.PersistentVolumeClaimStatus{Phase: workload.ClaimLost}))
			continue
		}
		pv, why := volumes.Bind(c, pvs)
		if pv == nil {
			if c.Status.Phase != workload.ClaimPending { // said once, as the claim turns Pending
				ev := workload.NewEvent(c, workload.EventWarning, "FailedBinding", why, p.cfg.Now().UTC(),
					workload.EventSource{Component: "persistentvolume-controller", Host: p.cfg.Name})
				p.recordEvent(ev)
			}
			errs = append(errs, p.claimStatus(ctx, shard, c, workload.PersistentVolumeClaimStatus{Phase: workload.ClaimPending}))
			continue
		}
		if r := pv.Spec.ClaimRef; r == nil || r.UID != c.ObjectMeta.UID {
			next := *pv
			next.Spec.ClaimRef = &workload.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: c.ObjectMeta.Namespace, Name: c.ObjectMeta.Name, UID: c.ObjectMeta.UID}
			next.Status = workload.PersistentVolumeStatus{Phase: workload.VolumeBound}
			if err := p.updateIn(ctx, consensus.MetaShard, &next); err != nil {
				errs = append(errs, err) // another leader took it, or it changed: the next pass decides again
				continue
			}
			*pv = next
			pv.ObjectMeta.ResourceVersion = "" // stale now: not to be written again this pass
		}
		c.Spec.VolumeName = pv.ObjectMeta.Name
		c.Status = workload.PersistentVolumeClaimStatus{Phase: workload.ClaimBound, AccessModes: pv.Spec.AccessModes, Capacity: pv.Spec.Capacity}
		errs = append(errs, p.updateIn(ctx, shard, c))
	}
	return errors.Join(errs...)
}

// claimStatus writes a claim's status when it changed.
func (p *Peer) claimStatus(ctx context.Context, shard uint64, c *workload.PersistentVolumeClaim, st workload.PersistentVolumeClaimStatus) error {
	if statusEqual(c.Status, st) {
		return nil
	}
	c.Status = st
	return p.updateIn(ctx, shard, c)
}

// volumesPass keeps every volume's phase, and applies the reclaim policy
// of volumes whose claims are gone: Retain leaves them Released, Delete
// removes them.
func (p *Peer) volumesPass(ctx context.Context) error {
	// Most clusters have no volumes: a local read says so without a round
	// to the meta leader every pass.
	if lr, err := p.store.List(ctx, consensus.MetaShard, consensus.Filter{Kind: "PersistentVolume"}, false); err != nil || len(lr.Objects) == 0 {
		return err
	}
	pvs, err := p.persistentVolumes(ctx) // before the claims: see above
	if err != nil || len(pvs) == 0 {
		return err
	}
	info, _ := workload.LookupKind("PersistentVolumeClaim")
	objs, _, err := consensus.ListShards(ctx, p.store, p.shardsFor(info), consensus.Filter{Kind: "PersistentVolumeClaim"}, true)
	if err != nil {
		return err
	}
	claims := map[string]bool{} // namespace/name/uid
	for _, so := range objs {
		var c workload.PersistentVolumeClaim
		if decodeInto(so, &c) == nil {
			claims[c.ObjectMeta.Namespace+"/"+c.ObjectMeta.Name+"/"+string(c.ObjectMeta.UID)] = true
		}
	}
	var errs []error
	var users map[string][]volumes.ClaimUser // read once, when a claim has gone
	for _, pv := range pvs {
		exists := false
		if r := pv.Spec.ClaimRef; r != nil {
			exists = claims[r.Namespace+"/"+r.Name+"/"+string(r.UID)]
			if !exists && r.UID != "" && pv.Status.Phase == workload.VolumeBound {
				// A claim deleted while pods still use it: the volume stays
				// Bound (and nothing is reclaimed) until they are gone, as
				// Kubernetes' pvc-protection makes it.
				if users == nil {
					if users, err = p.claimUsers(ctx); err != nil {
						return err
					}
				}
				exists = len(users[r.Namespace+"/"+r.Name]) > 0
			}
		}
		phase, msg := volumes.VolumePhase(pv, exists, p.nfsClient)
		if phase == workload.VolumeReleased && pv.Spec.PersistentVolumeReclaimPolicy == workload.ReclaimDelete && len(createdOn(pv)) == 0 {
			// Every directory Shoal made for it is emptied: the volume goes.
			errs = append(errs, p.deleteIn(ctx, consensus.MetaShard, "PersistentVolume", &pv.ObjectMeta))
			continue
		}
		st := workload.PersistentVolumeStatus{Phase: phase, Message: msg}
		if !statusEqual(pv.Status, st) {
			pv.Status = st
			errs = append(errs, p.updateIn(ctx, consensus.MetaShard, pv))
		}
	}
	return errors.Join(errs...)
}

// claimUsers maps each claim to the bound pods that use it, reading every
// pod linearizably.
func (p *Peer) claimUsers(ctx context.Context) (map[string][]volumes.ClaimUser, error) {
	info, _ := workload.LookupKind("Pod")
	objs, _, err := consensus.ListShards(ctx, p.store, p.shardsFor(info), consensus.Filter{Kind: "Pod"}, true)
	if err != nil {
		return nil, err
	}
	return volumes.ClaimUsers(p.pods.decode(objs)), nil
}

// persistentVolumes lists every PersistentVolume, linearizably.
func (p *Peer) persistentVolumes(ctx context.Context) ([]*workload.PersistentVolume, error) {
	lr, err := p.store.List(ctx, consensus.MetaShard, consensus.Filter{Kind: "PersistentVolume"}, true)
	if err != nil {
		return nil, err
	}
	out := make([]*workload.PersistentVolume, 0, len(lr.Objects))
	for _, so := range lr.Objects {
		var pv workload.PersistentVolume
		if decodeInto(so, &pv) == nil {
			out = append(out, &pv)
		}
	}
	return out, nil
}

// kernelHasNFS says whether this host's kernel has an NFS client, built in
// or as a module it can load.
func kernelHasNFS() bool {
	if b, err := os.ReadFile("/proc/filesystems"); err == nil && strings.Contains(string(b), "\tnfs\n") {
		return true
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		_, err := os.Stat("/lib/modules/" + strings.TrimSpace(string(b)) + "/kernel/fs/nfs")
		return err == nil
	}
	return false
}

// A hostPath volume's directory that a node agent created
// (DirectoryOrCreate) is recorded on the volume before it is made, in the
// annotation annotationCreatedOn+NODE (its path). When the volume is
// Released under the Delete policy, that node removes the directory and
// its annotation (reclaimVolumes); the volume object goes once no node's
// remains. A directory Shoal did not make is never touched.
const annotationCreatedOn = "shoal.dev/created-on."

// createdOn lists the nodes that created a directory for pv.
func createdOn(pv *workload.PersistentVolume) []string {
	var out []string
	for k := range pv.ObjectMeta.Annotations {
		if node, ok := strings.CutPrefix(k, annotationCreatedOn); ok {
			out = append(out, node)
		}
	}
	return out
}

// markCreated records that node is about to create pv's directory
// (volumes.Mounter.Creating).
// The node also keeps its own record, in its data directory: only a
// directory recorded there is ever removed, so an annotation a user wrote
// cannot make a node delete anything.
func (p *Peer) markCreated(ctx context.Context, pv *workload.PersistentVolume, node string) error {
	path := pv.Spec.HostPath.Path
	if err := os.MkdirAll(p.dir.path(dirCreatedVolumes), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(p.createdRecord(string(pv.ObjectMeta.UID), path), []byte(path), 0o600); err != nil {
		return err
	}
	return p.annotateVolume(ctx, pv.ObjectMeta.Name, func(a map[string]string) { a[annotationCreatedOn+node] = path })
}

// createdRecord is the file that records that this node created path for
// the volume with that UID (a volume made again under the same name, or a
// second volume on the same path, has another).
func (p *Peer) createdRecord(uid, path string) string {
	sum := sha256.Sum256([]byte(uid + "\x00" + path))
	return filepath.Join(p.dir.path(dirCreatedVolumes), hex.EncodeToString(sum[:16]))
}

// annotateVolume changes a volume's annotations with a compare-and-swap,
// reading it again on a conflict (3 tries).
func (p *Peer) annotateVolume(ctx context.Context, name string, change func(map[string]string)) error {
	k := consensus.Key{Kind: "PersistentVolume", Name: name}
	var err error
	for range 3 {
		var so consensus.Object
		if so, err = p.store.Get(ctx, consensus.MetaShard, k, true); err != nil {
			return err
		}
		var pv workload.PersistentVolume
		if err = decodeInto(so, &pv); err != nil {
			return err
		}
		if pv.ObjectMeta.Annotations == nil {
			pv.ObjectMeta.Annotations = map[string]string{}
		}
		change(pv.ObjectMeta.Annotations)
		if err = p.updateIn(ctx, consensus.MetaShard, &pv); !errors.Is(err, errdefs.ErrConflict) {
			return err
		}
	}
	return err
}

// reclaimPeriod is how often a node looks for directories of its to empty.
const reclaimPeriod = 2 * time.Second

// reclaimVolumes removes, on this node, the directories it created for
// volumes now Released under the Delete policy, and then its annotation.
func (p *Peer) reclaimVolumes(ctx context.Context) {
	mine := annotationCreatedOn + p.cfg.Name
	t := time.NewTicker(reclaimPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		lr, err := p.store.List(ctx, consensus.MetaShard, consensus.Filter{Kind: "PersistentVolume"}, false)
		if err != nil {
			continue
		}
		for _, so := range lr.Objects {
			var pv workload.PersistentVolume
			if decodeInto(so, &pv) != nil || pv.Status.Phase != workload.VolumeReleased || pv.Spec.PersistentVolumeReclaimPolicy != workload.ReclaimDelete {
				continue
			}
			path, ok := pv.ObjectMeta.Annotations[mine]
			if !ok || path == "" {
				continue
			}
			if rec, err := os.ReadFile(p.createdRecord(string(pv.ObjectMeta.UID), path)); err != nil || string(rec) != path || pv.Spec.HostPath == nil || pv.Spec.HostPath.Path != path {
				// Not a directory this node made for this volume: leave it, and drop the claim to it.
				p.log.Warn("reclaim volume: not removing a directory this node has no record of creating", "volume", pv.ObjectMeta.Name, "path", path)
				_ = p.annotateVolume(ctx, pv.ObjectMeta.Name, func(a map[string]string) { delete(a, mine) })
				continue
			}
			if err := os.RemoveAll(path); err != nil {
				p.log.Warn("reclaim volume", "volume", pv.ObjectMeta.Name, "path", path, "err", err)
				continue
			}
			p.log.Info("reclaimed volume: removed the directory this node created", "volume", pv.ObjectMeta.Name, "path", path)
			_ = os.Remove(p.createdRecord(string(pv.ObjectMeta.UID), path))
			if err := p.annotateVolume(ctx, pv.ObjectMeta.Name, func(a map[string]string) { delete(a, mine) }); err != nil {
				p.log.Warn("reclaim volume", "volume", pv.ObjectMeta.Name, "err", err)
			}
		}
	}
}
