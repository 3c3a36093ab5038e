package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
)

// Kubernetes' rounding: maxSurge up, maxUnavailable down, and 1
// unavailable when both come to 0.
func TestFencepostsRoundLikeKubernetes(t *testing.T) {
	pct := func(s string) *workload.IntOrString { v := workload.IntOrStringFromString(s); return &v }
	num := func(n int32) *workload.IntOrString { v := workload.IntOrStringFromInt32(n); return &v }
	type fp struct{ surge, unavailable int32 }
	for _, tc := range []struct {
		name                 string
		maxSurge, maxUnavail *workload.IntOrString
		want                 [10]fp // replicas 1..10
	}{
		{"25% and 25% (the defaults)", pct("25%"), pct("25%"),
			[10]fp{{1, 0}, {1, 0}, {1, 0}, {1, 1}, {2, 1}, {2, 1}, {2, 1}, {2, 2}, {3, 2}, {3, 2}}},
		{"unset: 25% and 25%", nil, nil,
			[10]fp{{1, 0}, {1, 0}, {1, 0}, {1, 1}, {2, 1}, {2, 1}, {2, 1}, {2, 2}, {3, 2}, {3, 2}}},
		{"0% and 0%: 1 unavailable", pct("0%"), pct("0%"),
			[10]fp{{0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}}},
		{"50% and 10%", pct("50%"), pct("10%"),
			[10]fp{{1, 0}, {1, 0}, {2, 0}, {2, 0}, {3, 0}, {3, 0}, {4, 0}, {4, 0}, {5, 0}, {5, 1}}},
		{"33% and 33%", pct("33%"), pct("33%"),
			[10]fp{{1, 0}, {1, 0}, {1, 0}, {2, 1}, {2, 1}, {2, 1}, {3, 2}, {3, 2}, {3, 2}, {4, 3}}},
		{"100% and 0", pct("100%"), num(0),
			[10]fp{{1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}, {6, 0}, {7, 0}, {8, 0}, {9, 0}, {10, 0}}},
		{"counts: 2 and 1", num(2), num(1),
			[10]fp{{2, 1}, {2, 1}, {2, 1}, {2, 1}, {2, 1}, {2, 1}, {2, 1}, {2, 1}, {2, 1}, {2, 1}}},
		{"0 and 0: 1 unavailable", num(0), num(0),
			[10]fp{{0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}}},
	} {
		for i, want := range tc.want {
			s, u, err := Fenceposts(tc.maxSurge, tc.maxUnavail, int32(i+1))
			if err != nil || s != want.surge || u != want.unavailable {
				t.Errorf("%s, %d replicas: surge %d, unavailable %d (%v); want %d, %d", tc.name, i+1, s, u, err, want.surge, want.unavailable)
			}
		}
	}
	if _, _, err := Fenceposts(pct("x%"), nil, 3); err == nil {
		t.Error(`maxSurge "x%" was accepted`)
	}
}

// world runs a Deployment's plans against ReplicaSets whose pods start at
// once and become available a pass after they start (or never, with a bad
// template), and checks every state the rollout goes through.
type world struct {
	t      *testing.T
	d      *workload.Deployment
	rss    []*workload.ReplicaSet
	broken map[string]bool // template hashes whose pods never become available
	now    time.Time
}

func (w *world) step() DeploymentPlan {
	plan := PlanDeployment(w.d, w.rss, w.now)
	if plan.Create != nil {
		rs := *plan.Create
		rs.ObjectMeta.UID = workload.UID("rs-" + rs.ObjectMeta.Name)
		w.rss = append(w.rss, &rs)
	}
	for _, u := range plan.Update {
		for i, rs := range w.rss {
			if rs.ObjectMeta.Name == u.ObjectMeta.Name {
				c := *u
				w.rss[i] = &c
			}
		}
	}
	// Pods: made at once and available a pass after they exist; removed
	// ones terminate for a pass (they still run, and count toward
	// maxSurge).
	for _, rs := range w.rss {
		n := replicasOf(rs)
		prev := rs.Status.Replicas
		rs.Status.Replicas = n
		t := max(prev-n, 0)
		rs.Status.TerminatingReplicas = &t
		if w.broken[rs.ObjectMeta.Labels[LabelTemplateHash]] {
			rs.Status.AvailableReplicas, rs.Status.ReadyReplicas = 0, 0
			continue
		}
		rs.Status.AvailableReplicas = min(prev, n)
		rs.Status.ReadyReplicas = rs.Status.AvailableReplicas
	}
	w.d.Status = plan.Status
	w.now = w.now.Add(10 * time.Second)
	return plan
}

// rollOut changes the template to image and steps until the rollout is
// done or has run steps passes, checking the bounds after every pass.
func (w *world) rollOut(image string, steps int) (done bool) {
	w.d.Spec.Template.Spec.Containers[0].Image = image
	want := *w.d.Spec.Replicas
	ru := w.d.Spec.Strategy.RollingUpdate
	surge, unavailable, _ := Fenceposts(ru.MaxSurge, ru.MaxUnavailable, want)
	for i := 0; i < steps; i++ {
		w.step()
		var total, avail int32
		for _, rs := range w.rss {
			total += rs.Status.Replicas + workload.TerminatingReplicas(&rs.Status)
			avail += rs.Status.AvailableReplicas
		}
		if total > want+surge {
			w.t.Fatalf("%s, pass %d: %d pods, more than %d+%d", image, i, total, want, surge)
		}
		if avail < want-unavailable {
			w.t.Fatalf("%s, pass %d: %d available, fewer than %d-%d", image, i, avail, want, unavailable)
		}
		if cond(w.d.Status, "Progressing").Reason == "NewReplicaSetAvailable" {
			return true
		}
	}
	return false
}

func cond(st workload.DeploymentStatus, t string) workload.DeploymentCondition {
	for _, c := range st.Conditions {
		if string(c.Type) == t {
			return c
		}
	}
	return workload.DeploymentCondition{}
}

func newWorld(t *testing.T, replicas int32, surge, unavailable string) *world {
	d := deployment(replicas, "img:v1")
	parse := func(v string) workload.IntOrString {
		var n int32
		if _, err := fmt.Sscanf(v, "%d", &n); err == nil && fmt.Sprint(n) == v {
			return workload.IntOrStringFromInt32(n)
		}
		return workload.IntOrStringFromString(v)
	}
	s, u := parse(surge), parse(unavailable)
	d.Spec.Strategy = workload.DeploymentStrategy{Type: workload.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &workload.RollingUpdateDeployment{MaxSurge: &s, MaxUnavailable: &u}}
	deadline := int32(60)
	d.Spec.ProgressDeadlineSeconds = &deadline
	w := &world{t: t, d: d, broken: map[string]bool{}, now: t0}
	for i := 0; i < 5; i++ {
		w.step()
	}
	return w
}

// A rolling update never has more than replicas+maxSurge pods (terminating
// ones included), nor fewer
// than replicas-maxUnavailable available, and ends with every pod on the
// new template; for replicas 1 to 10 and several bounds.
func TestRollingUpdateStaysWithinItsBounds(t *testing.T) {
	for _, b := range [][2]string{{"25%", "25%"}, {"1", "0"}, {"0", "1"}, {"50%", "50%"}, {"100%", "0"}, {"0%", "0%"}} {
		for replicas := int32(1); replicas <= 10; replicas++ {
			t.Run(fmt.Sprintf("%d replicas, surge %s, unavailable %s", replicas, b[0], b[1]), func(t *testing.T) {
				w := newWorld(t, replicas, b[0], b[1])
				if !w.rollOut("img:v2", 80) {
					t.Fatalf("not done after 80 passes: %+v", w.d.Status)
				}
				hash := TemplateHash(w.d.Spec.Template)
				for _, rs := range w.rss {
					if rs.ObjectMeta.Labels[LabelTemplateHash] != hash && rs.Status.Replicas != 0 {
						t.Errorf("old %s still has %d pods", rs.ObjectMeta.Name, rs.Status.Replicas)
					}
				}
			})
		}
	}
}

// A template whose pods never become available stalls at maxUnavailable:
// the old pods that stay are replicas-maxUnavailable, and once the
// progress deadline passes, Progressing is False with
// ProgressDeadlineExceeded.
func TestAStalledRolloutMissesItsDeadline(t *testing.T) {
	w := newWorld(t, 4, "25%", "25%")
	w.d.Spec.Template.Spec.Containers[0].Image = "img:missing"
	w.broken[TemplateHash(w.d.Spec.Template)] = true
	if w.rollOut("img:missing", 20) {
		t.Fatal("a rollout of pods that never become available finished")
	}
	c := cond(w.d.Status, "Progressing")
	if c.Status != workload.ConditionFalse || c.Reason != "ProgressDeadlineExceeded" {
		t.Fatalf("Progressing %+v, want False ProgressDeadlineExceeded", c)
	}
	var oldAvail int32
	for _, rs := range w.rss {
		oldAvail += rs.Status.AvailableReplicas
	}
	if oldAvail != 3 { // 4 - 1
		t.Errorf("%d pods available while stalled, want 3", oldAvail)
	}
	if w.d.Status.Replicas > 5 {
		t.Errorf("%d pods while stalled, more than 4+1", w.d.Status.Replicas)
	}
}

// Recreate: no new pod while an old one is left; then the new ReplicaSet
// at full size.
func TestRecreateStopsEveryOldPodFirst(t *testing.T) {
	w := newWorld(t, 3, "25%", "25%")
	w.d.Spec.Strategy = workload.DeploymentStrategy{Type: workload.RecreateDeploymentStrategyType}
	w.d.Spec.Template.Spec.Containers[0].Image = "img:v2"
	hash := TemplateHash(w.d.Spec.Template)
	for i := 0; i < 6; i++ {
		var oldPods, newPods int32
		for _, rs := range w.rss {
			if rs.ObjectMeta.Labels[LabelTemplateHash] == hash {
				newPods += rs.Status.Replicas
			} else {
				oldPods += rs.Status.Replicas
			}
		}
		if oldPods > 0 && newPods > 0 {
			t.Fatalf("pass %d: %d old pods and %d new at once", i, oldPods, newPods)
		}
		w.step()
	}
	if cond(w.d.Status, "Progressing").Reason != "NewReplicaSetAvailable" || w.d.Status.AvailableReplicas != 3 {
		t.Fatalf("not done: %+v", w.d.Status)
	}
}

// Going back to an old template reuses its ReplicaSet with the next
// revision; the change cause is recorded; a paused Deployment does not
// start a rollout.
func TestRevisionsRollbackAndPause(t *testing.T) {
	w := newWorld(t, 2, "25%", "25%")
	w.d.ObjectMeta.Annotations = map[string]string{workload.AnnotationChangeCause: "to v2"}
	if !w.rollOut("img:v2", 20) {
		t.Fatal("v2 not done")
	}
	v1 := TemplateHash(deployment(2, "img:v1").Spec.Template)
	for _, rs := range w.rss {
		if rs.ObjectMeta.Labels[LabelTemplateHash] != v1 && rs.ObjectMeta.Annotations[workload.AnnotationChangeCause] != "to v2" {
			t.Errorf("v2's ReplicaSet has change cause %q", rs.ObjectMeta.Annotations[workload.AnnotationChangeCause])
		}
	}
	if !w.rollOut("img:v1", 20) {
		t.Fatal("back to v1 not done")
	}
	if len(w.rss) != 2 {
		t.Fatalf("%d ReplicaSets after going back to v1, want v1's reused", len(w.rss))
	}
	for _, rs := range w.rss {
		if rs.ObjectMeta.Labels[LabelTemplateHash] == v1 && rs.ObjectMeta.Annotations[workload.AnnotationRevision] != "3" {
			t.Errorf("v1's ReplicaSet brought back has revision %q, want 3", rs.ObjectMeta.Annotations[workload.AnnotationRevision])
		}
	}
	if plan := PlanDeployment(w.d, w.rss, w.now); plan.Revision != "3" {
		t.Errorf("the Deployment's revision %q, want 3", plan.Revision)
	}
	w.d.Spec.Paused = true
	w.d.ObjectMeta.Annotations[workload.AnnotationRevision] = "3"
	w.d.Spec.Template.Spec.Containers[0].Image = "img:v2" // a template with a ReplicaSet already
	plan := PlanDeployment(w.d, w.rss, w.now)
	if plan.Create != nil || len(plan.Update) != 0 || cond(plan.Status, "Progressing").Reason != "DeploymentPaused" || plan.Revision != "3" {
		t.Fatalf("paused: %+v", plan)
	}
}

// With shoal.dev/auto-rollback, a revision that misses its deadline, or
// whose pods crash-loop, goes back to the previous one; without the
// annotation, or once the rollout is done, nothing happens.
func TestAutoRollback(t *testing.T) {
	w := newWorld(t, 3, "25%", "25%")
	if !w.rollOut("img:v2", 40) {
		t.Fatal("v2 not done")
	}
	w.d.Spec.Template.Spec.Containers[0].Image = "img:broken"
	w.broken[TemplateHash(w.d.Spec.Template)] = true
	w.step()
	w.d.ObjectMeta.Annotations = map[string]string{AnnotationAutoRollback: "true"}
	if tmpl, _, _ := AutoRollback(w.d, w.rss, PodHealth{}); tmpl != nil {
		t.Fatal("rolled back a revision that is merely in progress")
	}
	tmpl, rev, why := AutoRollback(w.d, w.rss, PodHealth{Restarts: 3})
	if tmpl == nil || tmpl.Spec.Containers[0].Image != "img:v2" || rev != "2" || why != "its pods restarted 3 times" {
		t.Fatalf("3 restarts: %v, %q, %q", tmpl, rev, why)
	}
	if _, ok := tmpl.ObjectMeta.Labels[LabelTemplateHash]; ok {
		t.Error("the template brought back keeps its pod-template-hash label")
	}
	if tmpl, _, why := AutoRollback(w.d, w.rss, PodHealth{BackOff: true}); tmpl == nil || why != "its pods crash-loop (BackOff)" {
		t.Errorf("BackOff: %v, %q", tmpl, why)
	}
	for i := 0; i < 10; i++ { // past the 60 s deadline
		w.step()
	}
	if tmpl, _, why := AutoRollback(w.d, w.rss, PodHealth{}); tmpl == nil || why != "it missed its progress deadline" {
		t.Errorf("the deadline: %v, %q (Progressing %+v)", tmpl, why, cond(w.d.Status, "Progressing"))
	}
	w.d.ObjectMeta.Generation = 7 // a new spec the controller has not seen
	if tmpl, _, _ := AutoRollback(w.d, w.rss, PodHealth{Restarts: 9}); tmpl != nil {
		t.Error("rolled back on a status older than the template")
	}
	w.d.ObjectMeta.Generation = 0
	for _, rs := range w.rss { // v2 was rolled back from once: never again
		if rs.Spec.Template.Spec.Containers[0].Image == "img:v2" {
			rs.ObjectMeta.Annotations[AnnotationRolledBackFrom] = "crash-looped"
		}
	}
	if tmpl, _, _ := AutoRollback(w.d, w.rss, PodHealth{Restarts: 9}); tmpl == nil || tmpl.Spec.Containers[0].Image != "img:v1" {
		t.Errorf("with v2 marked, rolled back to %v, want v1", tmpl)
	}
	delete(w.d.ObjectMeta.Annotations, AnnotationAutoRollback)
	if tmpl, _, _ := AutoRollback(w.d, w.rss, PodHealth{Restarts: 9}); tmpl != nil {
		t.Error("rolled back without the annotation")
	}
}
