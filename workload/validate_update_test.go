package workload

import (
	"strings"
	"testing"
)

func TestValidateUpdate(t *testing.T) {
	yes, no := true, false
	oldPod := pod(func(p *Pod) {
		p.Spec.SchedulingGates = []PodSchedulingGate{{Name: "a"}, {Name: "b"}}
		p.Spec.Tolerations = []Toleration{{Key: "k", Operator: TolerationOpExists}}
	})
	cm := func(immutable *bool, v string) *ConfigMap {
		return &ConfigMap{ObjectMeta: ObjectMeta{Name: "c"}, Immutable: immutable, Data: map[string]string{"k": v}}
	}
	claim := func(mut func(*PersistentVolumeClaim)) *PersistentVolumeClaim {
		c := &PersistentVolumeClaim{ObjectMeta: ObjectMeta{Name: "data"}, Spec: PersistentVolumeClaimSpec{
			AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce},
			Resources:   VolumeResourceRequirements{Requests: ResourceList{ResourceStorage: q("1Gi")}}}}
		if mut != nil {
			mut(c)
		}
		return c
	}
	deploy := func(app string) *Deployment {
		return &Deployment{Spec: DeploymentSpec{Selector: &LabelSelector{MatchLabels: map[string]string{"app": app}}}}
	}
	for _, c := range []struct {
		name     string
		obj, old Object
		want     string // "" when allowed
	}{
		{"pod: a new image", pod(func(p *Pod) {
			p.Spec.SchedulingGates, p.Spec.Tolerations = oldPod.Spec.SchedulingGates, oldPod.Spec.Tolerations
			p.Spec.Containers[0].Image = "registry.local/web:2.0"
		}), oldPod, ""},
		{"pod: a gate removed, a toleration added", pod(func(p *Pod) {
			p.Spec.SchedulingGates = []PodSchedulingGate{{Name: "b"}}
			p.Spec.Tolerations = append(oldPod.Spec.Tolerations, Toleration{Key: "other", Operator: TolerationOpExists})
		}), oldPod, ""},
		{"pod: a gate added", pod(func(p *Pod) {
			p.Spec.SchedulingGates, p.Spec.Tolerations = append(oldPod.Spec.SchedulingGates, PodSchedulingGate{Name: "c"}), oldPod.Spec.Tolerations
		}), oldPod, "spec.schedulingGates: Forbidden: only deletion is allowed, but found new scheduling gate 'c'"},
		{"pod: a toleration removed", pod(func(p *Pod) { p.Spec.SchedulingGates = oldPod.Spec.SchedulingGates }), oldPod,
			"spec.tolerations: Forbidden: existing toleration can not be modified"},
		{"pod: a new port", pod(func(p *Pod) {
			p.Spec.SchedulingGates, p.Spec.Tolerations = oldPod.Spec.SchedulingGates, oldPod.Spec.Tolerations
			p.Spec.Containers[0].Ports[0].ContainerPort = 9090
		}), oldPod, "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"},
		{"deployment: same selector", deploy("web"), deploy("web"), ""},
		{"deployment: another selector", deploy("api"), deploy("web"), "spec.selector: Invalid value: "},
		{"configmap: mutable", cm(nil, "2"), cm(nil, "1"), ""},
		{"configmap: made immutable", cm(&yes, "1"), cm(nil, "1"), ""},
		{"configmap: immutable, data changed", cm(&yes, "2"), cm(&yes, "1"), "data: Forbidden: field is immutable when `immutable` is set"},
		{"configmap: back to mutable", cm(&no, "1"), cm(&yes, "1"), "immutable: Forbidden: field is immutable when `immutable` is set"},
		{"claim: grown", claim(func(c *PersistentVolumeClaim) { c.Spec.Resources.Requests[ResourceStorage] = q("2Gi") }), claim(nil), ""},
		{"claim: bound", claim(func(c *PersistentVolumeClaim) { c.Spec.VolumeName = "pv-1" }), claim(nil), ""},
		{"claim: another access mode", claim(func(c *PersistentVolumeClaim) { c.Spec.AccessModes = []PersistentVolumeAccessMode{ReadWriteMany} }), claim(nil),
			"spec: Forbidden: spec is immutable after creation"},
	} {
		errs := ValidateUpdate(c.obj, c.old)
		switch {
		case c.want == "" && len(errs) > 0:
			t.Errorf("%s: refused: %v", c.name, errs)
		case c.want != "" && (len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), c.want)):
			t.Errorf("%s: %v, want an error saying %q", c.name, errs, c.want)
		}
	}
}
