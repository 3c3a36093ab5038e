package volumes

import (
	"fmt"
	"slices"

	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/scheduler"
)

// ClaimUser is a pod bound to a node that uses a claim.
type ClaimUser struct {
	PodUID string
	Node   string
}

// ClaimUsers maps each claim ("namespace/name") to the bound pods that use
// it, not finished ones.
func ClaimUsers(pods []*workload.Pod) map[string][]ClaimUser {
	out := map[string][]ClaimUser{}
	for _, p := range pods {
		if p.Spec.NodeName == "" || p.Status.Phase == workload.PodSucceeded || p.Status.Phase == workload.PodFailed {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if c := v.PersistentVolumeClaim; c != nil {
				k := p.Metadata.Namespace + "/" + c.ClaimName
				out[k] = append(out[k], ClaimUser{PodUID: p.Metadata.UID, Node: p.Spec.NodeName})
			}
		}
	}
	return out
}

// Placement is where pod's claims can be reached from, for the scheduler:
// each bound volume's node affinity (a local volume's names its node; a
// hostPath one's, when it has one, the nodes that hold its directory); the
// node of the pods already using a ReadWriteOnce claim; no node at all for
// a claim that is missing or not bound yet, or a ReadWriteOncePod claim
// another pod uses. claims are by "namespace/name", volumes by name.
func Placement(pod *workload.Pod, claims map[string]*workload.PersistentVolumeClaim, pvs map[string]*workload.PersistentVolume, users map[string][]ClaimUser) scheduler.VolumeConstraint {
	var c scheduler.VolumeConstraint
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		name := v.PersistentVolumeClaim.ClaimName
		key := pod.Metadata.Namespace + "/" + name
		claim := claims[key]
		switch {
		case claim == nil:
			return scheduler.VolumeConstraint{Unschedulable: fmt.Sprintf("persistentvolumeclaim %q not found", name)}
		case claim.Status.Phase != workload.ClaimBound || claim.Spec.VolumeName == "":
			return scheduler.VolumeConstraint{Unschedulable: "pod has unbound immediate PersistentVolumeClaims"}
		}
		pv := pvs[claim.Spec.VolumeName]
		if pv == nil {
			return scheduler.VolumeConstraint{Unschedulable: fmt.Sprintf("persistentvolume %q not found", claim.Spec.VolumeName)}
		}
		if a := pv.Spec.NodeAffinity; a != nil && a.Required != nil {
			c.Nodes = append(c.Nodes, a.Required)
		}
		var others []ClaimUser
		for _, u := range users[key] {
			if u.PodUID != pod.Metadata.UID {
				others = append(others, u)
			}
		}
		modes := claim.Spec.AccessModes
		switch {
		case slices.Contains(modes, workload.ReadWriteOncePod) && len(others) > 0:
			return scheduler.VolumeConstraint{Unschedulable: fmt.Sprintf("node has pod using PersistentVolumeClaim %q with the same name and ReadWriteOncePod access mode", name)}
		case slices.Contains(modes, workload.ReadWriteOnce) && !slices.Contains(modes, workload.ReadWriteMany) &&
			!slices.Contains(modes, workload.ReadOnlyMany) && len(others) > 0:
			if c.Node != "" && c.Node != others[0].Node {
				return scheduler.VolumeConstraint{Unschedulable: "ReadWriteOnce volumes in use on different nodes"}
			}
			c.Node = others[0].Node
		}
	}
	return c
}
