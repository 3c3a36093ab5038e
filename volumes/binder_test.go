package volumes

import (
	corev1 "k8s.io/api/core/v1"
	"strings"
	"testing"

	"github.com/shoalproject/shoal/workload"
)

type pvOpt func(*workload.PersistentVolume)

func pv(name, size string, opts ...pvOpt) *workload.PersistentVolume {
	v := &workload.PersistentVolume{ObjectMeta: workload.ObjectMeta{Name: name}}
	v.Spec.Capacity = workload.ResourceList{workload.ResourceStorage: workload.MustParseQuantity(size)}
	v.Spec.AccessModes = []workload.PersistentVolumeAccessMode{workload.ReadWriteOnce, workload.ReadOnlyMany}
	v.Spec.HostPath = &workload.HostPathVolumeSource{Path: "/srv/" + name}
	v.Status.Phase = workload.VolumeAvailable
	for _, o := range opts {
		o(v)
	}
	return v
}

func modes(m ...workload.PersistentVolumeAccessMode) pvOpt {
	return func(v *workload.PersistentVolume) { v.Spec.AccessModes = m }
}
func class(c string) pvOpt { return func(v *workload.PersistentVolume) { v.Spec.StorageClassName = c } }
func labels(k, val string) pvOpt {
	return func(v *workload.PersistentVolume) { v.ObjectMeta.Labels = map[string]string{k: val} }
}
func phase(p workload.PersistentVolumePhase) pvOpt {
	return func(v *workload.PersistentVolume) { v.Status.Phase = p }
}
func claimedBy(ns, name, uid string) pvOpt {
	return func(v *workload.PersistentVolume) {
		v.Spec.ClaimRef = &workload.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: ns, Name: name, UID: workload.UID(uid)}
		if uid != "" {
			v.Status.Phase = workload.VolumeBound
		}
	}
}

type claimOpt func(*workload.PersistentVolumeClaim)

func claim(size string, opts ...claimOpt) *workload.PersistentVolumeClaim {
	c := &workload.PersistentVolumeClaim{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "data", UID: "c-1"}}
	c.Spec.Resources.Requests = workload.ResourceList{workload.ResourceStorage: workload.MustParseQuantity(size)}
	c.Spec.AccessModes = []workload.PersistentVolumeAccessMode{workload.ReadWriteOnce}
	for _, o := range opts {
		o(c)
	}
	return c
}

func wants(m ...workload.PersistentVolumeAccessMode) claimOpt {
	return func(c *workload.PersistentVolumeClaim) { c.Spec.AccessModes = m }
}
func inClass(s string) claimOpt {
	return func(c *workload.PersistentVolumeClaim) { c.Spec.StorageClassName = &s }
}
func selecting(k, v string) claimOpt {
	return func(c *workload.PersistentVolumeClaim) {
		c.Spec.Selector = &workload.LabelSelector{MatchLabels: map[string]string{k: v}}
	}
}
func named(v string) claimOpt {
	return func(c *workload.PersistentVolumeClaim) { c.Spec.VolumeName = v }
}

func TestBind(t *testing.T) {
	for _, tc := range []struct {
		name  string
		claim *workload.PersistentVolumeClaim
		pvs   []*workload.PersistentVolume
		want  string // the volume's name, or a part of why none fits
	}{
		{"the smallest that is large enough", claim("10Gi"),
			[]*workload.PersistentVolume{pv("a", "5Gi"), pv("b", "20Gi"), pv("c", "15Gi"), pv("d", "100Gi")}, "c"},
		{"equal sizes: the first name", claim("10Gi"), []*workload.PersistentVolume{pv("z", "10Gi"), pv("m", "10Gi")}, "m"},
		{"nothing large enough", claim("10Gi"), []*workload.PersistentVolume{pv("a", "5Gi")}, "no persistent volumes available"},
		{"modes must include every requested one", claim("1Gi", wants(workload.ReadWriteMany, workload.ReadOnlyMany)),
			[]*workload.PersistentVolume{pv("rwo", "1Gi"), pv("both", "2Gi", modes(workload.ReadOnlyMany, workload.ReadWriteMany))}, "both"},
		{"ReadWriteOncePod only from a volume that offers it", claim("1Gi", wants(workload.ReadWriteOncePod)),
			[]*workload.PersistentVolume{pv("rwo", "1Gi"), pv("rwop", "1Gi", modes(workload.ReadWriteOncePod))}, "rwop"},
		{"a class matches only that class", claim("1Gi", inClass("fast")),
			[]*workload.PersistentVolume{pv("none", "1Gi"), pv("slow", "1Gi", class("slow")), pv("fast", "5Gi", class("fast"))}, "fast"},
		{"no class matches only volumes without one", claim("1Gi"),
			[]*workload.PersistentVolume{pv("fast", "1Gi", class("fast")), pv("none", "5Gi")}, "none"},
		{"the selector picks by label", claim("1Gi", selecting("tier", "gold")),
			[]*workload.PersistentVolume{pv("plain", "1Gi"), pv("silver", "1Gi", labels("tier", "silver")), pv("gold", "9Gi", labels("tier", "gold"))}, "gold"},
		{"a volume bound to another claim is never taken", claim("1Gi"),
			[]*workload.PersistentVolume{pv("taken", "1Gi", claimedBy("default", "other", "c-9")), pv("free", "8Gi")}, "free"},
		{"a volume reserved for another claim is never taken", claim("1Gi"),
			[]*workload.PersistentVolume{pv("reserved", "1Gi", claimedBy("default", "other", "")), pv("free", "8Gi")}, "free"},
		{"a volume reserved for this claim wins over a smaller one", claim("1Gi"),
			[]*workload.PersistentVolume{pv("small", "1Gi"), pv("mine", "50Gi", claimedBy("default", "data", ""))}, "mine"},
		{"a half-made binding (the volume names this claim's UID) is finished", claim("1Gi"),
			[]*workload.PersistentVolume{pv("small", "1Gi"), pv("mine", "50Gi", claimedBy("default", "data", "c-1"))}, "mine"},
		{"a released volume is not bound again", claim("1Gi"),
			[]*workload.PersistentVolume{pv("released", "1Gi", phase(workload.VolumeReleased))}, "no persistent volumes available"},
		{"a failed volume is not bound", claim("1Gi"),
			[]*workload.PersistentVolume{pv("ebs", "1Gi", phase(workload.VolumeFailed))}, "no persistent volumes available"},
		{"volumeName: that volume, though a smaller fits", claim("1Gi", named("big")),
			[]*workload.PersistentVolume{pv("small", "1Gi"), pv("big", "100Gi")}, "big"},
		{"volumeName: missing", claim("1Gi", named("gone")), []*workload.PersistentVolume{pv("small", "1Gi")}, `volume "gone" not found`},
		{"volumeName: bound to another", claim("1Gi", named("taken")),
			[]*workload.PersistentVolume{pv("taken", "1Gi", claimedBy("default", "other", "c-9"))}, `volume "taken" is bound to another claim`},
		{"volumeName: too small", claim("10Gi", named("small")), []*workload.PersistentVolume{pv("small", "1Gi")}, `volume "small" is too small (1Gi, the claim asks for 10Gi)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := Bind(tc.claim, tc.pvs)
			switch {
			case got != nil && got.ObjectMeta.Name != tc.want:
				t.Fatalf("bound to %s, want %s", got.ObjectMeta.Name, tc.want)
			case got == nil && !strings.Contains(why, tc.want):
				t.Fatalf("none: %q, want %q", why, tc.want)
			}
		})
	}
}

func TestVolumeAndClaimPhases(t *testing.T) {
	ebs := pv("ebs", "100Gi")
	ebs.Spec.HostPath = nil
	ebs.Spec.AWSElasticBlockStore = &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "vol-0123"}
	nfs := pv("nfs", "1Gi")
	nfs.Spec.HostPath, nfs.Spec.NFS = nil, &workload.NFSVolumeSource{Server: "nfs.example", Path: "/exports/a"}
	for _, tc := range []struct {
		name        string
		pv          *workload.PersistentVolume
		claimExists bool
		nfs         bool
		want        workload.PersistentVolumePhase
		msg         string
	}{
		{"unbound", pv("a", "1Gi"), false, false, workload.VolumeAvailable, ""},
		{"reserved, not yet bound", pv("a", "1Gi", claimedBy("default", "data", "")), false, false, workload.VolumeAvailable, ""},
		{"bound, its claim there", pv("a", "1Gi", claimedBy("default", "data", "c-1")), true, false, workload.VolumeBound, ""},
		{"its claim deleted", pv("a", "1Gi", claimedBy("default", "data", "c-1")), false, false, workload.VolumeReleased, "claim default/data was deleted"},
		{"EBS", ebs, false, false, workload.VolumeFailed, "the awsElasticBlockStore volume source is not supported by Shoal"},
		{"nfs without a kernel client", nfs, false, false, workload.VolumeFailed, "needs the kernel's NFS client"},
		{"nfs with one", nfs, false, true, workload.VolumeAvailable, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, msg := VolumePhase(tc.pv, tc.claimExists, tc.nfs)
			if got != tc.want || !strings.Contains(msg, tc.msg) || (tc.msg == "" && msg != "") {
				t.Fatalf("%s %q, want %s %q", got, msg, tc.want, tc.msg)
			}
		})
	}
	c := claim("1Gi", named("a"))
	if got := ClaimPhase(c, pv("a", "1Gi", claimedBy("default", "data", "c-1"))); got != workload.ClaimBound {
		t.Errorf("a claim its volume names: %s, want Bound", got)
	}
	if got := ClaimPhase(c, pv("a", "1Gi")); got != workload.ClaimPending {
		t.Errorf("a claim its volume does not name yet: %s, want Pending", got)
	}
	c.Status.Phase = workload.ClaimBound
	if got := ClaimPhase(c, nil); got != workload.ClaimLost {
		t.Errorf("a bound claim whose volume is gone: %s, want Lost", got)
	}
}
