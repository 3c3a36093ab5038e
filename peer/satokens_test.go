package peer

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/shoalproject/shoal/workload"
)

// Service account tokens: `kubectl create token` (TokenRequest) issues one
// that the API takes as system:serviceaccount:NS:NAME, which may read and
// may not write, nor use Shoal's own API; a token for another audience,
// or of an account deleted since, is refused; a pod's projected
// serviceAccountToken volume holds a token that works the same way.
func TestServiceAccountTokens(t *testing.T) {
	c := newTestCluster(t)
	c.withRuntime = true
	c.startPeers(1)
	c.waitReplicas(1)
	c.waitNodesReady(1)
	ctx := context.Background()
	admin := c.restConfig("p1")
	cs := kubernetes.NewForConfigOrDie(admin)
	waitFor(t, 20*time.Second, "the default service account", func() bool {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	})
	as := func(token string) *kubernetes.Clientset {
		cfg := rest.CopyConfig(admin)
		cfg.TLSClientConfig.CertData, cfg.TLSClientConfig.KeyData = nil, nil
		cfg.BearerToken = token
		return kubernetes.NewForConfigOrDie(cfg)
	}
	tr, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, "default", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status.Token == "" || tr.Status.ExpirationTimestamp.Time.Before(time.Now().Add(50*time.Minute)) {
		t.Fatalf("token request answered %+v", tr.Status)
	}
	sa := as(tr.Status.Token)
	if _, err := sa.CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("a service account may list pods: %v", err)
	}
	_, err = sa.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	want := `configmaps is forbidden: User "system:serviceaccount:default:default" cannot create resource "configmaps" in API group "" in the namespace "default"`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("a service account's create: %v\nwant %s", err, want)
	}
	req, _ := http.NewRequest(http.MethodGet, admin.Host+"/v1/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+tr.Status.Token)
	hc, err := rest.HTTPClientFor(&rest.Config{TLSClientConfig: rest.TLSClientConfig{CAData: admin.CAData}})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := hc.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("Shoal's own API with a service account token: %v %v, want 403", resp, err)
	} else {
		resp.Body.Close()
	}

	other, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, "default", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: []string{"vault"}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as(other.Status.Token).CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("a token for another audience: %v, want 401", err)
	}

	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "app", Image: "shoal.local/webapp:v1", VolumeMounts: []corev1.VolumeMount{{Name: "token", MountPath: "/var/run/secrets/tokens"}}}},
		Volumes: []corev1.Volume{{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{
			ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}}}}}
	got, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the pod running", func() bool {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "app", metav1.GetOptions{})
		return err == nil && p.Status.Phase == workload.PodRunning
	})
	file, err := os.ReadFile(filepath.Join(c.dirs["p1"], dirPodVolumes, string(got.UID), "volumes", "token", "token"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as(strings.TrimSpace(string(file))).CoreV1().Pods("default").Get(ctx, "app", metav1.GetOptions{}); err != nil {
		t.Errorf("the projected token does not work: %v", err)
	}

	// The token volume is a tmpfs: the pod's deletion unmounts it.
	if err := cs.CoreV1().Pods("default").Delete(ctx, "app", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the pod gone", func() bool {
		_, err := cs.CoreV1().Pods("default").Get(ctx, "app", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if err := cs.CoreV1().ServiceAccounts("default").Delete(ctx, "default", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := sa.CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("the token of a deleted account: %v, want 401", err)
	}
}
