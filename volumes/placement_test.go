package volumes

import (
	"strings"
	"testing"

	"github.com/shoalproject/shoal/workload"
)

func TestPlacement(t *testing.T) {
	onNode := &workload.NodeSelector{NodeSelectorTerms: []workload.NodeSelectorTerm{{MatchExpressions: []workload.NodeSelectorRequirement{
		{Key: "kubernetes.io/hostname", Operator: workload.NodeSelectorOpIn, Values: []string{"p2"}}}}}}
	local := pv("local", "10Gi")
	local.Spec.HostPath, local.Spec.Local = nil, &workload.LocalVolumeSource{Path: "/mnt/disk"}
	local.Spec.NodeAffinity = &workload.VolumeNodeAffinity{Required: onNode}
	pvs := map[string]*workload.PersistentVolume{"local": local, "shared": pv("shared", "10Gi"), "rwo": pv("rwo", "10Gi"), "rwop": pv("rwop", "10Gi")}
	bound := func(name, volume string, modes ...workload.PersistentVolumeAccessMode) *workload.PersistentVolumeClaim {
		c := claim("1Gi", wants(modes...))
		c.Metadata.Name, c.Spec.VolumeName, c.Status.Phase = name, volume, workload.ClaimBound
		return c
	}
	pending := claim("1Gi")
	pending.Metadata.Name, pending.Status.Phase = "pending", workload.ClaimPending
	claims := map[string]*workload.PersistentVolumeClaim{
		"default/local":   bound("local", "local", workload.ReadWriteOnce),
		"default/shared":  bound("shared", "shared", workload.ReadOnlyMany),
		"default/rwo":     bound("rwo", "rwo", workload.ReadWriteOnce),
		"default/rwop":    bound("rwop", "rwop", workload.ReadWriteOncePod),
		"default/pending": pending,
	}
	using := func(name, uid string, claimNames ...string) *workload.Pod {
		p := &workload.Pod{Metadata: workload.ObjectMeta{Namespace: "default", Name: name, UID: uid}}
		for _, c := range claimNames {
			p.Spec.Volumes = append(p.Spec.Volumes, workload.Volume{Name: c, VolumeSource: workload.VolumeSource{
				PersistentVolumeClaim: &workload.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
		}
		return p
	}
	running := func(p *workload.Pod, node string) *workload.Pod { p.Spec.NodeName = node; return p }
	users := ClaimUsers([]*workload.Pod{
		running(using("a", "u-a", "shared", "rwo", "rwop"), "p1"),
		using("unbound-pod", "u-x", "rwo"), // not bound to a node: not a user yet
	})
	for _, tc := range []struct {
		name string
		pod  *workload.Pod
		want string // the constraint, printed
	}{
		{"a local volume: its node", using("b", "u-b", "local"), "nodes [kubernetes.io/hostname In [p2]]"},
		{"ReadOnlyMany in use elsewhere: anywhere", using("b", "u-b", "shared"), "anywhere"},
		{"ReadWriteOnce in use on p1: p1", using("b", "u-b", "rwo"), "node p1"},
		{"the pod that uses it may be placed anew: anywhere", using("a", "u-a", "rwo"), "anywhere"},
		{"ReadWriteOncePod in use: nowhere", using("b", "u-b", "rwop"), `nowhere: node has pod using PersistentVolumeClaim "rwop" with the same name and ReadWriteOncePod access mode`},
		{"a claim not bound yet: nowhere", using("b", "u-b", "pending"), "nowhere: pod has unbound immediate PersistentVolumeClaims"},
		{"a missing claim: nowhere", using("b", "u-b", "gone"), `nowhere: persistentvolumeclaim "gone" not found`},
		{"local and ReadWriteOnce: both", using("b", "u-b", "local", "rwo"), "node p1 nodes [kubernetes.io/hostname In [p2]]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Placement(tc.pod, claims, pvs, users)
			var got []string
			switch {
			case c.Unschedulable != "":
				got = append(got, "nowhere: "+c.Unschedulable)
			case c.Node == "" && len(c.Nodes) == 0:
				got = append(got, "anywhere")
			}
			if c.Node != "" {
				got = append(got, "node "+c.Node)
			}
			if len(c.Nodes) > 0 {
				var sels []string
				for _, n := range c.Nodes {
					e := n.NodeSelectorTerms[0].MatchExpressions[0]
					sels = append(sels, e.Key+" "+string(e.Operator)+" ["+strings.Join(e.Values, ",")+"]")
				}
				got = append(got, "nodes ["+strings.Join(sels, "; ")+"]")
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Fatalf("%s, want %s", g, tc.want)
			}
		})
	}
}
