package controller

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
)

var t0 = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func rs(replicas int32) *workload.ReplicaSet {
	return &workload.ReplicaSet{
		ObjectMeta: workload.ObjectMeta{Name: "web-abc", Namespace: "default", UID: "rs-uid", Annotations: map[string]string{workload.AnnotationDeployment: "web"}},
		Spec: workload.ReplicaSetSpec{Replicas: &replicas, Selector: &workload.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: workload.PodTemplateSpec{ObjectMeta: workload.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: workload.PodSpec{Containers: []workload.Container{{Name: "web", Image: "img"}}}}},
	}
}

func owned(name, node string, mut func(*workload.Pod)) *workload.Pod {
	yes := true
	p := &workload.Pod{ObjectMeta: workload.ObjectMeta{Name: name, Namespace: "default",
		OwnerReferences: []workload.OwnerReference{{Kind: "ReplicaSet", UID: "rs-uid", Controller: &yes}}},
		Spec: workload.PodSpec{NodeName: node}, Status: workload.PodStatus{Phase: workload.PodRunning,
			Conditions: []workload.PodCondition{{Type: workload.PodReady, Status: workload.ConditionTrue}}}}
	if mut != nil {
		mut(p)
	}
	return p
}

func names() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("web-abc-%d", n) }
}

func never(string) bool { return false }

func TestReplicaSetCreatesMissingPods(t *testing.T) {
	plan := PlanReplicaSet(rs(3), []*workload.Pod{owned("a", "n1", nil), owned("stranger", "n1", func(p *workload.Pod) { p.ObjectMeta.OwnerReferences = nil })}, never, names(), t0)
	if len(plan.Create) != 2 || len(plan.Delete) != 0 {
		t.Fatalf("create %d delete %d, want 2 and 0", len(plan.Create), len(plan.Delete))
	}
	p := plan.Create[0]
	if p.ObjectMeta.Name != "web-abc-1" || p.ObjectMeta.Labels["app"] != "web" || p.ObjectMeta.Annotations[workload.AnnotationDeployment] != "web" ||
		!controlledBy(&p.ObjectMeta, "rs-uid") || p.Spec.NodeName != "" {
		t.Fatalf("new pod %+v", p.ObjectMeta)
	}
	if plan.Status.Replicas != 3 || plan.Status.ReadyReplicas != 1 {
		t.Fatalf("status %+v", plan.Status)
	}
}

func TestReplicaSetDeletesExtraPodsLeastAdvancedFirst(t *testing.T) {
	pods := []*workload.Pod{
		owned("ready", "n1", nil),
		owned("unscheduled", "", func(p *workload.Pod) { p.Status = workload.PodStatus{Phase: workload.PodPending} }),
		owned("notready", "n2", func(p *workload.Pod) { p.Status.Conditions = nil }),
	}
	plan := PlanReplicaSet(rs(1), pods, never, names(), t0)
	if len(plan.Delete) != 2 || plan.Delete[0].ObjectMeta.Name != "unscheduled" || plan.Delete[1].ObjectMeta.Name != "notready" {
		t.Fatalf("delete %v", podNames(plan.Delete))
	}
}

// A running pod on a lost node still counts (the taint eviction removes it
// when its tolerations say so); a terminating one there is deleted, since
// no node agent will finish it; a failed one is replaced.
func TestReplicaSetReplacesFailedPodsAndRemovesTerminatingPodsOnLostNodes(t *testing.T) {
	pods := []*workload.Pod{
		owned("alive", "n1", nil),
		owned("on-lost", "n2", nil),
		owned("failed", "n1", func(p *workload.Pod) { p.Status.Phase = workload.PodFailed }),
		owned("leaving", "n1", func(p *workload.Pod) { now := t0; p.ObjectMeta.DeletionTimestamp = &workload.Time{Time: now} }),
		owned("stuck", "n2", func(p *workload.Pod) { now := t0; p.ObjectMeta.DeletionTimestamp = &workload.Time{Time: now} }),
	}
	plan := PlanReplicaSet(rs(3), pods, func(n string) bool { return n == "n2" }, names(), t0)
	if got := podNames(plan.Delete); len(plan.Create) != 1 || !reflect.DeepEqual(got, []string{"failed", "stuck"}) {
		t.Fatalf("delete %v create %d; want the failed pod and the terminating pod on the lost node deleted, and 1 created", got, len(plan.Create))
	}
	if plan.Status.Replicas != 3 {
		t.Fatalf("status replicas %d, want 3 (alive, on-lost and the new one)", plan.Status.Replicas)
	}
}

func podNames(ps []*workload.Pod) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ObjectMeta.Name)
	}
	return out
}

func deployment(replicas int32, image string) *workload.Deployment {
	return &workload.Deployment{
		ObjectMeta: workload.ObjectMeta{Name: "web", Namespace: "default", UID: "d-uid"},
		Spec: workload.DeploymentSpec{Replicas: &replicas, Selector: &workload.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: workload.PodTemplateSpec{ObjectMeta: workload.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: workload.PodSpec{Containers: []workload.Container{{Name: "web", Image: image}}}}},
	}
}

func TestDeploymentCreatesAReplicaSetPerTemplate(t *testing.T) {
	d := deployment(3, "img:v1")
	plan := PlanDeployment(d, nil, t0)
	created := plan.Create
	if created == nil || *created.Spec.Replicas != 3 || created.ObjectMeta.Name != "web-"+TemplateHash(d.Spec.Template) ||
		created.ObjectMeta.Labels[LabelTemplateHash] == "" || !workload.SelectorMatches(created.Spec.Selector, created.Spec.Template.ObjectMeta.Labels) ||
		created.ObjectMeta.Annotations[workload.AnnotationDeployment] != "web" || !controlledBy(&created.ObjectMeta, "d-uid") {
		t.Fatalf("created %+v", created)
	}
	if created.ObjectMeta.Annotations[workload.AnnotationRevision] != "1" || plan.Revision != "1" {
		t.Fatalf("the first ReplicaSet's revision %q, the Deployment's %q; want 1", created.ObjectMeta.Annotations[workload.AnnotationRevision], plan.Revision)
	}
	// Scaled: the same ReplicaSet gets the new count.
	d5 := deployment(5, "img:v1")
	plan = PlanDeployment(d5, []*workload.ReplicaSet{created}, t0)
	if plan.Create != nil || len(plan.Update) != 1 || *plan.Update[0].Spec.Replicas != 5 {
		t.Fatalf("scale: %+v", plan)
	}
	// A new template: a new ReplicaSet with revision 2, as many pods as
	// maxSurge allows (25% of 3, rounded up: 1), and the old one kept
	// while none of the new is available.
	d2 := deployment(3, "img:v2")
	created.Status = workload.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}
	plan = PlanDeployment(d2, []*workload.ReplicaSet{created}, t0)
	if plan.Create == nil || plan.Create.ObjectMeta.Name == created.ObjectMeta.Name || *plan.Create.Spec.Replicas != 1 || len(plan.Update) != 0 ||
		plan.Create.ObjectMeta.Annotations[workload.AnnotationRevision] != "2" || plan.Revision != "2" {
		t.Fatalf("new template: %+v", plan)
	}
	if TemplateHash(d.Spec.Template) != TemplateHash(deployment(9, "img:v1").Spec.Template) {
		t.Fatal("the hash depends on more than the template")
	}
}

// The template hash is Kubernetes' encoding: the decimal FNV-32a in the
// safe alphabet, so the names vary in every place (they all ended in "bbb"
// once, the high digits of a base-27 number that never reach them).
func TestTemplateHashLooksLikeKubernetes(t *testing.T) {
	const safe = "bcdfghjklmnpqrstvwxz2456789"
	ends := map[string]bool{}
	for i := range 20 {
		h := TemplateHash(deployment(1, fmt.Sprint("img:v", i)).Spec.Template)
		if len(h) < 1 || len(h) > 10 || strings.Trim(h, safe) != "" {
			t.Errorf("hash %q: want 1-10 characters of %q", h, safe)
		}
		ends[h[len(h)-3:]] = true
	}
	if len(ends) < 15 {
		t.Errorf("20 templates' hashes share their endings: %v", ends)
	}
}

// A ReplicaSet is the Deployment's current one because its template is
// the Deployment's (but for the hash label), whatever its name says: one
// made by an earlier build, with another hash, is kept, not replaced.
func TestTheCurrentReplicaSetIsFoundByItsTemplate(t *testing.T) {
	d := deployment(3, "img:v1")
	made := PlanDeployment(d, nil, t0).Create
	made.ObjectMeta.Name = "web-w96vl7gbbb"
	made.ObjectMeta.Labels[LabelTemplateHash] = "w96vl7gbbb"
	made.Spec.Template.ObjectMeta.Labels[LabelTemplateHash] = "w96vl7gbbb"
	made.Spec.Selector.MatchLabels[LabelTemplateHash] = "w96vl7gbbb"
	made.Status = workload.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}
	plan := PlanDeployment(d, []*workload.ReplicaSet{made}, t0)
	if plan.Create != nil || len(plan.Update) != 0 {
		t.Fatalf("a ReplicaSet of the template under another hash was not taken as current: %+v", plan)
	}
	if cur := CurrentReplicaSet(d, []*workload.ReplicaSet{made}); cur != made {
		t.Fatalf("CurrentReplicaSet = %v", cur)
	}
	// Two of one template (a race of two leaders): the older is current,
	// the other is old and shrinks.
	twin := made.DeepCopy()
	twin.ObjectMeta.Name, twin.ObjectMeta.UID = "web-"+TemplateHash(d.Spec.Template), "twin"
	twin.ObjectMeta.CreationTimestamp = workload.NewTime(t0.Add(time.Minute))
	if cur := CurrentReplicaSet(d, []*workload.ReplicaSet{twin, made}); cur != made {
		t.Fatalf("CurrentReplicaSet of twins = %v, want the older", cur.ObjectMeta.Name)
	}
}
