package volumes

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/shoalproject/shoal/workload"
)

// Bind picks the volume a pending claim binds to, as Kubernetes' binder
// does, or returns nil and why none fits:
//
//   - a volume already reserved for the claim (its claimRef names the
//     claim, with the claim's UID or none) is taken when it fits;
//   - with spec.volumeName set, only that volume is considered;
//   - otherwise the smallest Available volume whose capacity is at least
//     the request, whose access modes include every requested one, whose
//     storage class is the claim's ("" matches ""), and whose labels the
//     claim's selector matches; ties go to the first name.
//
// A volume reserved for, or bound to, another claim is never taken. Bind
// is pure: the caller records the binding (a compare-and-swap on the
// volume's claimRef, then the claim).
func Bind(claim *workload.PersistentVolumeClaim, pvs []*workload.PersistentVolume) (*workload.PersistentVolume, string) {
	var fits []*workload.PersistentVolume
	for _, pv := range pvs {
		switch {
		case reservedFor(pv, claim):
			if fit(pv, claim) == "" {
				return pv, ""
			}
		case pv.Spec.ClaimRef != nil:
			// another claim's
		case claim.Spec.VolumeName != "" && pv.ObjectMeta.Name != claim.Spec.VolumeName:
		case pv.Status.Phase != workload.VolumeAvailable:
		case claim.Spec.VolumeName == "" && claim.Spec.Selector != nil && !workload.SelectorMatches(claim.Spec.Selector, pv.ObjectMeta.Labels):
		case fit(pv, claim) != "":
		default:
			fits = append(fits, pv)
		}
	}
	if len(fits) == 0 {
		if name := claim.Spec.VolumeName; name != "" {
			i := slices.IndexFunc(pvs, func(pv *workload.PersistentVolume) bool { return pv.ObjectMeta.Name == name })
			switch {
			case i < 0:
				return nil, fmt.Sprintf("volume %q not found", name)
			case pvs[i].Spec.ClaimRef != nil && !reservedFor(pvs[i], claim):
				return nil, fmt.Sprintf("volume %q is bound to another claim", name)
			case fit(pvs[i], claim) != "":
				return nil, fmt.Sprintf("volume %q %s", name, fit(pvs[i], claim))
			default:
				return nil, fmt.Sprintf("volume %q is %s", name, pvs[i].Status.Phase)
			}
		}
		return nil, "no persistent volumes available for this claim"
	}
	slices.SortFunc(fits, func(a, b *workload.PersistentVolume) int {
		qa := a.Spec.Capacity[workload.ResourceStorage]
		if c := qa.Cmp(b.Spec.Capacity[workload.ResourceStorage]); c != 0 {
			return c
		}
		return cmp.Compare(a.ObjectMeta.Name, b.ObjectMeta.Name)
	})
	return fits[0], ""
}

// reservedFor says whether pv's claimRef names claim (by UID once it has
// one).
func reservedFor(pv *workload.PersistentVolume, claim *workload.PersistentVolumeClaim) bool {
	r := pv.Spec.ClaimRef
	return r != nil && r.Namespace == claim.ObjectMeta.Namespace && r.Name == claim.ObjectMeta.Name &&
		(r.UID == "" || r.UID == claim.ObjectMeta.UID)
}

// fit says why pv cannot serve claim, or "" when it can.
func fit(pv *workload.PersistentVolume, claim *workload.PersistentVolumeClaim) string {
	want := claim.Spec.Resources.Requests[workload.ResourceStorage]
	have := pv.Spec.Capacity[workload.ResourceStorage]
	if have.Cmp(want) < 0 {
		return fmt.Sprintf("is too small (%s, the claim asks for %s)", have.String(), want.String())
	}
	for _, m := range claim.Spec.AccessModes {
		if !slices.Contains(pv.Spec.AccessModes, m) {
			return fmt.Sprintf("does not offer access mode %s", m)
		}
	}
	if pv.Spec.StorageClassName != workload.ClaimStorageClass(claim) {
		return fmt.Sprintf("has storage class %q, the claim asks for %q", pv.Spec.StorageClassName, workload.ClaimStorageClass(claim))
	}
	return ""
}

// VolumePhase is a volume's phase and message, given whether the claim its
// claimRef names exists (with that UID) and whether this cluster can serve
// its source (nfsClient: the peers' kernels have an NFS client):
// Failed for a source it cannot serve; Available while unbound or only
// reserved; Bound while its claim exists; Released once its claim is gone.
func VolumePhase(pv *workload.PersistentVolume, claimExists bool, nfsClient bool) (workload.PersistentVolumePhase, string) {
	if msg := workload.UnsupportedSource(&pv.Spec.PersistentVolumeSource); msg != "" {
		return workload.VolumeFailed, msg
	}
	if pv.Spec.NFS != nil && !nfsClient {
		return workload.VolumeFailed, "the nfs volume source needs the kernel's NFS client, and this cluster's kernel has none"
	}
	r := pv.Spec.ClaimRef
	switch {
	case r == nil || r.UID == "":
		return workload.VolumeAvailable, ""
	case claimExists:
		return workload.VolumeBound, ""
	}
	return workload.VolumeReleased, fmt.Sprintf("claim %s/%s was deleted", r.Namespace, r.Name)
}

// ClaimPhase is a claim's phase given its volume (nil when the claim names
// none, or the volume is gone): Bound while the volume's claimRef names it,
// Lost once a volume it was bound to is gone or bound elsewhere, Pending
// before.
func ClaimPhase(claim *workload.PersistentVolumeClaim, pv *workload.PersistentVolume) workload.PersistentVolumeClaimPhase {
	switch {
	case pv != nil && pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.UID == claim.ObjectMeta.UID && reservedFor(pv, claim):
		return workload.ClaimBound
	case claim.Status.Phase == workload.ClaimBound || claim.Status.Phase == workload.ClaimLost:
		return workload.ClaimLost
	}
	return workload.ClaimPending
}
