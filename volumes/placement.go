package volumes

import (
	"fmt"
	"slices"
	"strings"
	"time"

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
				k := p.ObjectMeta.Namespace + "/" + c.ClaimName
				out[k] = append(out[k], ClaimUser{PodUID: string(p.ObjectMeta.UID), Node: p.Spec.NodeName})
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
func Placement(pod *workload.Pod, claims map[string]*workload.PersistentVolumeClaim, pvs map[string]*workload.PersistentVolume, users map[string][]ClaimUser, now time.Time) scheduler.VolumeConstraint {
	var c scheduler.VolumeConstraint
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		name := v.PersistentVolumeClaim.ClaimName
		key := pod.ObjectMeta.Namespace + "/" + name
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
			if u.PodUID != string(pod.ObjectMeta.UID) {
				others = append(others, u)
			}
		}
		modes := claim.Spec.AccessModes
		switch {
		case slices.Contains(modes, workload.ReadWriteOncePod) && len(others) > 0:
			return scheduler.VolumeConstraint{Unschedulable: fmt.Sprintf("node has pod using PersistentVolumeClaim %q with the same name and ReadWriteOncePod access mode", name)}
		case readWriteOnce(modes):
			node := pinOf(claim, now)
			if len(others) > 0 {
				node = others[0].Node
			}
			if node == "" {
				continue
			}
			if c.Node != "" && c.Node != node {
				return scheduler.VolumeConstraint{Unschedulable: "ReadWriteOnce volumes in use on different nodes"}
			}
			c.Node = node
		}
	}
	return c
}

func readWriteOnce(modes []workload.PersistentVolumeAccessMode) bool {
	return slices.Contains(modes, workload.ReadWriteOnce) && !slices.Contains(modes, workload.ReadWriteMany) &&
		!slices.Contains(modes, workload.ReadOnlyMany)
}

// A ReadWriteOnce claim's pods share one node. The pods already bound say
// which; for the first pod, the scheduling leader pins the claim to its
// node (AnnotationPinnedNode, "NODE TIME", a compare-and-swap on the claim)
// before it binds, so that a leader of another shard placing another pod
// of the claim at the same moment follows it. A pin holds for PinGrace
// after it was written, enough for the pod to bind; then the bound pods
// speak for it, and a claim nobody uses is free again.
const (
	AnnotationPinnedNode = "shoal.dev/pinned-node"
	PinGrace             = 30 * time.Second
)

// pinOf is the node a claim is pinned to, while the pin is fresh.
func pinOf(c *workload.PersistentVolumeClaim, now time.Time) string {
	node, at, ok := strings.Cut(c.ObjectMeta.Annotations[AnnotationPinnedNode], " ")
	if !ok {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil || now.Sub(t) >= PinGrace || t.After(now.Add(PinGrace)) {
		return ""
	}
	return node
}

// PinValue is the annotation that pins a claim to node at now.
func PinValue(node string, now time.Time) string {
	return node + " " + now.UTC().Format(time.RFC3339Nano)
}

// NeedsPin lists the claims ("namespace/name") that placing pod on node
// must pin first: its ReadWriteOnce claims that no other bound pod uses
// and that carry no fresh pin to that node.
func NeedsPin(pod *workload.Pod, node string, claims map[string]*workload.PersistentVolumeClaim, users map[string][]ClaimUser, now time.Time) []string {
	var out []string
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		key := pod.ObjectMeta.Namespace + "/" + v.PersistentVolumeClaim.ClaimName
		c := claims[key]
		if c == nil || !readWriteOnce(c.Spec.AccessModes) || pinOf(c, now) == node {
			continue
		}
		if slices.ContainsFunc(users[key], func(u ClaimUser) bool { return u.PodUID != string(pod.ObjectMeta.UID) }) {
			continue
		}
		out = append(out, key)
	}
	return out
}
