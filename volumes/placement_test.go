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
		c.ObjectMeta.Name, c.Spec.VolumeName, c.Status.Phase = name, volume, workload.ClaimBound
		return c
	}
	pending := claim("1Gi")
	pending.ObjectMeta.Name, pending.Status.Phase = "pending", workload.ClaimPending
	claims := map[string]*workload.PersistentVolumeClaim{
		"default/local":   bound("local", "local", workload.ReadWriteOnce),
		"default/shared":  bound("shared", "shared", workload.ReadOnlyMany),
		"default/rwo":     bound("rwo", "rwo", workload.ReadWriteOnce),
		"default/rwop":    bound("rwop", "rwop", workload.ReadWriteOncePod),
		"default/pending": pending,
	}
	using := func(name, uid string, claimNames ...string) *workload.Pod {
		p := &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: name, UID: workload.UID(uid)}}
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
			c := Placement(tc.pod, claims, pvs, users, t0)
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

// A ReadWriteOnce claim nobody uses yet follows a fresh pin; a stale pin,
// or one behind the claim's bound pods, does not hold.
func TestPinnedClaims(t *testing.T) {
	c := claim("1Gi", wants(workload.ReadWriteOnce))
	c.ObjectMeta.Name, c.Spec.VolumeName, c.Status.Phase = "rwo", "rwo", workload.ClaimBound
	claims := map[string]*workload.PersistentVolumeClaim{"default/rwo": c}
	pvs := map[string]*workload.PersistentVolume{"rwo": pv("rwo", "1Gi")}
	p := &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "b", UID: "u-b"}}
	p.Spec.Volumes = []workload.Volume{{Name: "d", VolumeSource: workload.VolumeSource{PersistentVolumeClaim: &workload.PersistentVolumeClaimVolumeSource{ClaimName: "rwo"}}}}
	if got := NeedsPin(p, "p2", claims, nil, t0); len(got) != 1 || got[0] != "default/rwo" {
		t.Fatalf("an unused, unpinned claim: NeedsPin = %v", got)
	}
	c.ObjectMeta.Annotations = map[string]string{AnnotationPinnedNode: PinValue("p2", t0)}
	if got := Placement(p, claims, pvs, nil, t0.Add(PinGrace/2)); got.Node != "p2" {
		t.Errorf("a fresh pin: %+v, want node p2", got)
	}
	if got := NeedsPin(p, "p2", claims, nil, t0.Add(PinGrace/2)); len(got) != 0 {
		t.Errorf("pinned to p2 already: NeedsPin = %v", got)
	}
	if got := Placement(p, claims, pvs, nil, t0.Add(PinGrace)); got.Node != "" {
		t.Errorf("a stale pin: %+v, want no constraint", got)
	}
	users := map[string][]ClaimUser{"default/rwo": {{PodUID: "u-a", Node: "p3"}}}
	if got := Placement(p, claims, pvs, users, t0); got.Node != "p3" {
		t.Errorf("a pin behind a bound pod: %+v, want the pod's node p3", got)
	}
	if got := NeedsPin(p, "p3", claims, users, t0); len(got) != 0 {
		t.Errorf("a claim in use: NeedsPin = %v", got)
	}
}
