package scheduler

import "github.com/shoalproject/shoal/workload"

// The reasons the volume filter gives.
const (
	ReasonVolumeNodeAffinity = "node(s) had volume node affinity conflict"
	ReasonVolumeInUse        = "node(s) did not hold the pods already using a ReadWriteOnce volume"
)

// VolumeConstraint is where a pod's volumes can be reached, as the caller
// (package volumes, from claims and volumes) works it out.
type VolumeConstraint struct {
	// Nodes must all hold: each is a volume's node affinity.
	Nodes []*workload.NodeSelector
	// Node, when set, is the only node the pod may go to: a ReadWriteOnce
	// volume is in use there.
	Node string
	// Unschedulable, when set, is why no node can take the pod yet (a
	// claim not bound, a ReadWriteOncePod volume in use).
	Unschedulable string
}

// SetVolumeConstraints gives the snapshot the volume constraint of each
// pod it places; nil (the default) means pods have none.
func (s *Snapshot) SetVolumeConstraints(f func(*workload.Pod) VolumeConstraint) {
	s.volumes = f
}

// filterVolumes passes a node from which the pod's volumes can be reached.
func filterVolumes(s *Snapshot, p *podState, n int) (bool, string) {
	v := p.volumes
	if v == nil {
		return true, ""
	}
	switch {
	case v.Unschedulable != "":
		return false, v.Unschedulable
	case v.Node != "" && s.nodes[n].name != v.Node:
		return false, ReasonVolumeInUse
	}
	labels := s.nodes[n].labels
	for _, sel := range v.Nodes {
		if !selectorMatches(sel, labels) {
			return false, ReasonVolumeNodeAffinity
		}
	}
	return true, ""
}

// selectorMatches says whether labels satisfy any term of sel.
func selectorMatches(sel *workload.NodeSelector, labels map[string]string) bool {
	for i := range sel.NodeSelectorTerms {
		if termMatches(&sel.NodeSelectorTerms[i], labels) {
			return true
		}
	}
	return false
}
