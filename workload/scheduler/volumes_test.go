package scheduler

import (
	"testing"

	"github.com/shoalproject/shoal/workload"
)

func TestFilterVolumes(t *testing.T) {
	nodes := alive(
		node("a", "z1", "1", "1Gi", nodeLabels("disk", "ssd")),
		node("b", "z1", "1", "1Gi"),
		node("c", "z2", "1", "1Gi", nodeLabels("disk", "ssd")),
	)
	s := NewSnapshot(nodes, nil)
	inZone := func(zone string) *workload.NodeSelector {
		return &workload.NodeSelector{NodeSelectorTerms: []workload.NodeSelectorTerm{{MatchExpressions: []workload.NodeSelectorRequirement{
			{Key: LabelZone, Operator: workload.NodeSelectorOpIn, Values: []string{zone}}}}}}
	}
	ssd := &workload.NodeSelector{NodeSelectorTerms: []workload.NodeSelectorTerm{{MatchExpressions: []workload.NodeSelectorRequirement{
		{Key: "disk", Operator: workload.NodeSelectorOpIn, Values: []string{"ssd"}}}}}}
	constraints := map[string]VolumeConstraint{
		"local":    {Nodes: []*workload.NodeSelector{ssd}},
		"two":      {Nodes: []*workload.NodeSelector{ssd, inZone("z1")}},
		"pinned":   {Node: "b"},
		"unbound":  {Unschedulable: "pod has unbound immediate PersistentVolumeClaims"},
		"anywhere": {},
	}
	s.SetVolumeConstraints(func(p *workload.Pod) VolumeConstraint { return constraints[p.ObjectMeta.Name] })
	withVolume := func(p *workload.Pod) {
		p.Spec.Volumes = []workload.Volume{{Name: "data", VolumeSource: workload.VolumeSource{
			PersistentVolumeClaim: &workload.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
	}
	runFilterCases(t, s, "Volumes", []filterCase{
		{"a local volume's node affinity", pod("local", "", "", withVolume),
			map[string]string{"a": "", "b": ReasonVolumeNodeAffinity, "c": ""}},
		{"two volumes: both affinities hold", pod("two", "", "", withVolume),
			map[string]string{"a": "", "b": ReasonVolumeNodeAffinity, "c": ReasonVolumeNodeAffinity}},
		{"a ReadWriteOnce volume in use on b", pod("pinned", "", "", withVolume),
			map[string]string{"a": ReasonVolumeInUse, "b": "", "c": ReasonVolumeInUse}},
		{"an unbound claim", pod("unbound", "", "", withVolume), map[string]string{
			"a": "pod has unbound immediate PersistentVolumeClaims", "b": "pod has unbound immediate PersistentVolumeClaims",
			"c": "pod has unbound immediate PersistentVolumeClaims"}},
		{"no constraint", pod("anywhere", "", "", withVolume), map[string]string{"a": "", "b": "", "c": ""}},
	})
	if _, err := s.Place(pod("unbound", "", "", withVolume)); err == nil || err.Error() != "0/3 nodes are available: 3 pod has unbound immediate PersistentVolumeClaims." {
		t.Errorf("placing a pod with an unbound claim: %v", err)
	}
}
