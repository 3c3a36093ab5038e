package kubeapi_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"

	"github.com/shoalproject/shoal/kubeapi"
	"github.com/shoalproject/shoal/kubeapi/memstore"
)

// newAPI starts a Kubernetes API over an in-memory store with the default
// namespace, and returns a client-go clientset for it (protobuf bodies for
// the built-in kinds, as client-go sends them).
func newAPI(t *testing.T) (*kubernetes.Clientset, *memstore.Store) {
	t.Helper()
	st := memstore.New()
	srv := kubeapi.New(kubeapi.Config{
		Store:   st,
		Version: kubeapi.NewVersionInfo("v0.0.0-test", "p1", "test"),
		NewUID:  func() types.UID { return uuid.NewUUID() },
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cfg := &rest.Config{Host: hs.URL, ContentConfig: rest.ContentConfig{ContentType: "application/vnd.kubernetes.protobuf"}}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create the default namespace: %v", err)
	}
	return cs, st
}

func TestClientGoDiscoveryListsTheServedResources(t *testing.T) {
	cs, _ := newAPI(t)
	v, err := cs.Discovery().ServerVersion()
	if err != nil || v.Major != "1" || !strings.HasPrefix(v.GitVersion, "v1.37") {
		t.Fatalf("ServerVersion = %+v, %v", v, err)
	}
	groups, resources, err := cs.Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, g := range groups {
		names[g.Name] = true
	}
	if !names[""] || !names["apps"] || !names["coordination.k8s.io"] {
		t.Errorf("groups %v", names)
	}
	found := map[string]bool{}
	for _, l := range resources {
		for _, r := range l.APIResources {
			found[l.GroupVersion+"/"+r.Name] = true
		}
	}
	for _, want := range []string{"v1/pods", "v1/pods/log", "v1/pods/exec", "v1/pods/eviction", "apps/v1/deployments/scale", "coordination.k8s.io/v1/leases"} {
		if !found[want] {
			t.Errorf("discovery lacks %s", want)
		}
	}
}

func TestClientGoCRUDAndConflicts(t *testing.T) {
	cs, _ := newAPI(t)
	ctx := context.Background()
	cms := cs.CoreV1().ConfigMaps("default")
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app"}, Data: map[string]string{"k": "v"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.UID == "" || cm.ResourceVersion == "" || cm.CreationTimestamp.IsZero() {
		t.Errorf("created %+v", cm.ObjectMeta)
	}
	if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) && !apierrors.IsBadRequest(err) {
		t.Errorf("second create: %v", err)
	}
	stale := cm.DeepCopy()
	cm.Data["k"] = "v2"
	if cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	stale.Data["k"] = "v3"
	if _, err := cms.Update(ctx, stale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("stale update: %v, want a Conflict", err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := cms.Get(ctx, "app", metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Data["k"] = "v4"
		_, err = cms.Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := cms.Get(ctx, "app", metav1.GetOptions{}); got.Data["k"] != "v4" {
		t.Errorf("after retry: %v", got.Data)
	}
	if _, err := cms.Get(ctx, "nope", metav1.GetOptions{}); !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), `configmaps "nope" not found`) {
		t.Errorf("get missing: %v", err)
	}
	if err := cms.Delete(ctx, "app", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps("missing").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("create in a missing namespace: %v", err)
	}
}

func TestClientGoDryRunStoresNothing(t *testing.T) {
	cs, _ := newAPI(t)
	ctx := context.Background()
	cms := cs.CoreV1().ConfigMaps("default")
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "dry"}}, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a dry-run create was stored: %v", err)
	}
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "real"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "real", metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "real", metav1.GetOptions{}); err != nil {
		t.Fatalf("a dry-run delete deleted: %v", err)
	}
}

func TestClientGoPatchTypes(t *testing.T) {
	cs, _ := newAPI(t)
	ctx := context.Background()
	deps := cs.AppsV1().Deployments("default")
	replicas := int32(2)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: "web", Image: "web:v1"}, {Name: "side", Image: "side:v1"},
				}},
			},
		},
	}
	if _, err := deps.Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Strategic merge: containers merge by name, so side stays.
	got, err := deps.Patch(ctx, "web", types.StrategicMergePatchType, []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"web:v2"}]}}}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Spec.Template.Spec.Containers; len(c) != 2 || c[0].Image != "web:v2" || c[1].Image != "side:v1" {
		t.Errorf("after a strategic merge patch: %+v", c)
	}
	if got.Generation != 2 {
		t.Errorf("generation %d after a spec change, want 2", got.Generation)
	}
	// Merge patch: a list is replaced whole.
	got, err = deps.Patch(ctx, "web", types.MergePatchType, []byte(`{"metadata":{"labels":{"tier":"front"}},"spec":{"replicas":3}}`), metav1.PatchOptions{})
	if err != nil || *got.Spec.Replicas != 3 || got.Labels["tier"] != "front" {
		t.Fatalf("merge patch: %v %+v", err, got)
	}
	// JSON patch.
	got, err = deps.Patch(ctx, "web", types.JSONPatchType, []byte(`[{"op":"replace","path":"/spec/replicas","value":5}]`), metav1.PatchOptions{})
	if err != nil || *got.Spec.Replicas != 5 {
		t.Fatalf("json patch: %v", err)
	}
	// Scale subresource.
	sc, err := deps.GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil || sc.Spec.Replicas != 5 {
		t.Fatalf("get scale: %v %+v", err, sc)
	}
	sc.Spec.Replicas = 1
	if _, err := deps.UpdateScale(ctx, "web", sc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := deps.Get(ctx, "web", metav1.GetOptions{}); *got.Spec.Replicas != 1 {
		t.Errorf("after update scale: %d", *got.Spec.Replicas)
	}
	// A status update keeps the spec; a spec update keeps the status.
	got, _ = deps.Get(ctx, "web", metav1.GetOptions{})
	got.Status.Replicas = 7
	*got.Spec.Replicas = 9
	if got, err = deps.UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil || got.Status.Replicas != 7 || *got.Spec.Replicas != 1 {
		t.Fatalf("update status: %v, status %d spec %d", err, got.Status.Replicas, *got.Spec.Replicas)
	}
	got.Status.Replicas = 0
	*got.Spec.Replicas = 4
	if got, err = deps.Update(ctx, got, metav1.UpdateOptions{}); err != nil || got.Status.Replicas != 7 || *got.Spec.Replicas != 4 {
		t.Fatalf("update: %v, status %d spec %d", err, got.Status.Replicas, *got.Spec.Replicas)
	}
	// Bad input names the field.
	_, err = deps.Patch(ctx, "web", types.MergePatchType, []byte(`{"spec":{"replicas":-1}}`), metav1.PatchOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.replicas") {
		t.Errorf("negative replicas: %v", err)
	}
}

func TestClientGoInformerListsAndWatches(t *testing.T) {
	cs, _ := newAPI(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pods := cs.CoreV1().Pods("default")
	mk := func(name string) {
		_, err := pods.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img:v1"}}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	mk("before")
	f := informers.NewSharedInformerFactory(cs, 0)
	inf := f.Core().V1().Pods().Informer()
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("the informer never synced")
	}
	mk("after")
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, a, _ := inf.GetStore().GetByKey("default/after")
		_, b, _ := inf.GetStore().GetByKey("default/before")
		if a && b {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("informer cache: %v", inf.GetStore().ListKeys())
		}
		time.Sleep(20 * time.Millisecond) // polling the informer's cache, within the deadline
	}
	if err := pods.Delete(ctx, "before", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		if _, ok, _ := inf.GetStore().GetByKey("default/before"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deleted pod stayed in the cache")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
