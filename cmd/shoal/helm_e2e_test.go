package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/shoalproject/shoal/internal/poll"
)

// Helm v4 (bin/helm, built by scripts/build-helm.sh from tools/helm), run
// as a user runs it, against clusters of three agent processes, each step
// through another peer, with Helm's defaults (server-side apply, its
// release state in Secrets): the chart in examples/charts/web is
// installed, upgraded to another image and replica count, rolled back to
// its first revision and uninstalled; upgraded twice, the second upgrade
// changing again what the first changed; and installed with --wait, ready
// without a pod running. After each step the objects are read through yet
// another peer with client-go: the Deployment's pod template and replicas,
// its pods (Pending: the agents run no runtime), its ReplicaSets per
// revision, Helm's release Secrets, the fields Helm's apply owns, and at
// the end that all are gone.

const (
	helmRelease   = "shop"
	helmObject    = "shop-web" // the chart's fullname for the release
	helmNamespace = "default"
	webImageV1    = "shoal.local/webapp:v1"
	webImageV2    = "shoal.local/webapp:v2"
	webImageV3    = "shoal.local/webapp:v3" // no such image: no pod runs here
)

func TestHelmReleaseLifecycleAcrossPeers(t *testing.T) {
	hc := newHelmCluster(t)
	h, common := hc.helm, hc.chartArgs
	p1, p2, p3 := hc.peers[0], hc.peers[1], hc.peers[2]
	// The objects are read through another peer than the one helm used.
	k1, k2, k3 := hc.kube[0], hc.kube[1], hc.kube[2]
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow() // each step starts from the one before
		}
	}
	// applied checks managed fields after a step; the steps after it do
	// not depend on them.
	applied := func(after string, k kubernetes.Interface) {
		t.Run("helm's apply owns the fields after "+after, func(t *testing.T) { checkAppliedByHelm(t, k) })
	}
	step("install through p1", func(t *testing.T) {
		out := h.run(t, p1, append([]string{"install", helmRelease}, common...)...)
		checkHelmRelease(t, out, helmRelease, 1, "deployed")
		checkWorkload(t, k2, webState{
			image: webImageV1, replicas: 2,
			replicaSets: map[string]string{"1": webImageV1 + " x2"},
			releases:    map[int]string{1: "deployed"},
		})
		for _, get := range []func(context.Context) (metav1.Object, error){
			func(ctx context.Context) (metav1.Object, error) {
				return k2.CoreV1().Services(helmNamespace).Get(ctx, helmObject, metav1.GetOptions{})
			},
			func(ctx context.Context) (metav1.Object, error) {
				return k2.CoreV1().ConfigMaps(helmNamespace).Get(ctx, helmObject, metav1.GetOptions{})
			},
		} {
			o, err := get(context.Background())
			if err != nil {
				t.Fatalf("the chart's Service and ConfigMap through p2: %v", err)
			}
			if got := o.GetLabels()["app.kubernetes.io/managed-by"]; got != "Helm" {
				t.Errorf("%s: managed-by label %q, want Helm", o.GetName(), got)
			}
			if got := o.GetAnnotations()["meta.helm.sh/release-name"]; got != helmRelease {
				t.Errorf("%s: release-name annotation %q, want %s", o.GetName(), got, helmRelease)
			}
		}
	})
	applied("install", k2)
	step("upgrade through p2 to v2 and 3 replicas", func(t *testing.T) {
		out := h.run(t, p2, append([]string{"upgrade", helmRelease}, append(common, "--set", "image.tag=v2", "--set", "replicas=3")...)...)
		checkHelmRelease(t, out, helmRelease, 2, "deployed")
		checkWorkload(t, k3, webState{
			image: webImageV2, replicas: 3,
			replicaSets: map[string]string{"1": webImageV1 + " x0", "2": webImageV2 + " x3"},
			releases:    map[int]string{1: "superseded", 2: "deployed"},
		})
	})
	applied("upgrade", k3)
	step("rollback through p3 to revision 1", func(t *testing.T) {
		out := h.run(t, p3, "rollback", helmRelease, "1", "--namespace", helmNamespace, "--wait=hookOnly")
		if !strings.Contains(out, "Rollback was a success") {
			t.Fatalf("helm rollback said:\n%s", out)
		}
		// The first template is back: its ReplicaSet takes the next
		// revision, as kubectl rollout undo's would.
		checkWorkload(t, k1, webState{
			image: webImageV1, replicas: 2,
			replicaSets: map[string]string{"3": webImageV1 + " x2", "2": webImageV2 + " x0"},
			releases:    map[int]string{1: "superseded", 2: "superseded", 3: "deployed"},
		})
	})
	applied("rollback", k1)
	step("history through p1", func(t *testing.T) {
		var history []struct {
			Revision    int    `json:"revision"`
			Status      string `json:"status"`
			Chart       string `json:"chart"`
			Description string `json:"description"`
		}
		h.runJSON(t, p1, &history, "history", helmRelease, "--namespace", helmNamespace, "-o", "json")
		want := []string{"1 superseded Install complete", "2 superseded Upgrade complete", "3 deployed Rollback to 1"}
		var got []string
		for _, r := range history {
			got = append(got, fmt.Sprintf("%d %s %s", r.Revision, r.Status, r.Description))
			if r.Chart != "web-0.1.0" {
				t.Errorf("revision %d: chart %q, want web-0.1.0", r.Revision, r.Chart)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("helm history:\n got %q\nwant %q", got, want)
		}
	})
	step("list through p2", func(t *testing.T) {
		var list []struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
			Revision  string `json:"revision"` // a string in helm list's JSON
			Status    string `json:"status"`
			Chart     string `json:"chart"`
		}
		h.runJSON(t, p2, &list, "list", "--all-namespaces", "-o", "json")
		if len(list) != 1 {
			t.Fatalf("helm list: %d releases, want 1: %+v", len(list), list)
		}
		if r := list[0]; r.Name != helmRelease || r.Namespace != helmNamespace || r.Revision != "3" || r.Status != "deployed" || r.Chart != "web-0.1.0" {
			t.Errorf("helm list: %+v, want %s in %s at revision 3, deployed, chart web-0.1.0", r, helmRelease, helmNamespace)
		}
	})
	step("uninstall through p3", func(t *testing.T) {
		out := h.run(t, p3, "uninstall", helmRelease, "--namespace", helmNamespace, "--wait=hookOnly")
		if !strings.Contains(out, "release \""+helmRelease+"\" uninstalled") {
			t.Fatalf("helm uninstall said:\n%s", out)
		}
		checkWorkload(t, k1, webState{})
		var svcErr, cmErr error
		if !poll.Until(30*time.Second, 200*time.Millisecond, func() bool {
			ctx := context.Background()
			_, svcErr = k2.CoreV1().Services(helmNamespace).Get(ctx, helmObject, metav1.GetOptions{})
			_, cmErr = k2.CoreV1().ConfigMaps(helmNamespace).Get(ctx, helmObject, metav1.GetOptions{})
			return apierrors.IsNotFound(svcErr) && apierrors.IsNotFound(cmErr)
		}) {
			t.Errorf("after uninstall, Service %s: %v; ConfigMap %s: %v (want both not found)", helmObject, svcErr, helmObject, cmErr)
		}
		var list []json.RawMessage
		h.runJSON(t, p1, &list, "list", "--all-namespaces", "-o", "json")
		if len(list) != 0 {
			t.Errorf("helm list after uninstall: %d releases, want none", len(list))
		}
	})
}

// An upgrade after an upgrade, as a release's life goes on: the second
// changes again what the first changed (the image, the replicas, the
// config checksum) and drops a setting the first added, which leaves the
// ConfigMap, as server-side apply removes what its manager no longer
// applies.
func TestHelmUpgradeAfterUpgrade(t *testing.T) {
	hc := newHelmCluster(t)
	h, common := hc.helm, hc.chartArgs
	p1, p2, p3 := hc.peers[0], hc.peers[1], hc.peers[2]
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	step("install through p1", func(t *testing.T) {
		checkHelmRelease(t, h.run(t, p1, append([]string{"install", helmRelease}, common...)...), helmRelease, 1, "deployed")
	})
	step("upgrade through p2 to v2, 3 replicas and a setting more", func(t *testing.T) {
		out := h.run(t, p2, append([]string{"upgrade", helmRelease}, append(common,
			"--set", "image.tag=v2", "--set", "replicas=3", "--set", "config.EXTRA=more")...)...)
		checkHelmRelease(t, out, helmRelease, 2, "deployed")
		checkWorkload(t, hc.kube[2], webState{
			image: webImageV2, replicas: 3,
			replicaSets: map[string]string{"1": webImageV1 + " x0", "2": webImageV2 + " x3"},
			releases:    map[int]string{1: "superseded", 2: "deployed"},
		})
		checkConfigData(t, hc.kube[0], map[string]string{"GREETING": "hello from a Helm chart", "EXTRA": "more"})
	})
	step("upgrade through p3 to v3, 1 replica and the setting gone", func(t *testing.T) {
		out := h.run(t, p3, append([]string{"upgrade", helmRelease}, append(common,
			"--set", "image.tag=v3", "--set", "replicas=1")...)...)
		checkHelmRelease(t, out, helmRelease, 3, "deployed")
		checkWorkload(t, hc.kube[0], webState{
			image: webImageV3, replicas: 1,
			replicaSets: map[string]string{"1": webImageV1 + " x0", "2": webImageV2 + " x0", "3": webImageV3 + " x1"},
			releases:    map[int]string{1: "superseded", 2: "superseded", 3: "deployed"},
		})
		checkConfigData(t, hc.kube[1], map[string]string{"GREETING": "hello from a Helm chart"})
	})
}

// helm install --wait, for a release that is ready without a pod running
// (no replicas): Helm's status watcher (--wait alone, or --wait=watcher)
// watches the release's kinds with client-go's streaming list
// (sendInitialEvents), and its legacy wait (--wait=legacy) polls them;
// either returns once the Deployment says it is available.
func TestHelmInstallWaitsForReadyObjects(t *testing.T) {
	hc := newHelmCluster(t)
	for i, strategy := range []string{"watcher", "legacy"} {
		t.Run(strategy, func(t *testing.T) {
			release := "ready-" + strategy
			out := hc.helm.run(t, hc.peers[i], "install", release, hc.chart, "--namespace", helmNamespace, "-f", hc.values,
				"--set", "replicas=0", "--wait="+strategy, "--timeout", "30s", "-o", "json")
			checkHelmRelease(t, out, release, 1, "deployed")
		})
	}
}

// helmCluster is three agent processes, helm, and client-go through each
// peer.
type helmCluster struct {
	*procCluster
	peers []*agent
	kube  []kubernetes.Interface // kube[i] talks to peers[i]
	helm  *helmCLI
	// chart is examples/charts/web, values a values file for it that every
	// install and upgrade takes.
	chart, values string
	// chartArgs are the chart and the flags of an install or upgrade that
	// waits for nothing.
	chartArgs []string
}

func newHelmCluster(t *testing.T) *helmCluster {
	helmBin := helmBinary(t)
	c := newProcCluster(t)
	hc := &helmCluster{procCluster: c, peers: []*agent{c.start(1, 0), c.start(2, 1), c.start(3, 1)}}
	c.waitFor(60*time.Second, "3 replicas of every shard", func() bool { return c.shardsSettled(3, "") })
	for _, p := range hc.peers {
		hc.kube = append(hc.kube, kubeClient(t, c, p))
	}
	hc.helm = &helmCLI{bin: helmBin, kubeconfig: c.config, home: t.TempDir()}
	chart, err := filepath.Abs("../../examples/charts/web")
	if err != nil {
		t.Fatal(err)
	}
	// Without a runtime no pod becomes ready, so a rolling update would
	// stop at maxSurge (as Kubernetes' would): Recreate lets each step's
	// pods be told apart from the last's.
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte("strategy: {type: Recreate}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hc.chart, hc.values = chart, values
	// Helm's default wait strategy (hookOnly, what --wait=false meant):
	// it does not wait for pods that cannot run here.
	hc.chartArgs = []string{chart, "--namespace", helmNamespace, "-f", values, "--wait=hookOnly", "-o", "json"}
	return hc
}

// checkConfigData waits until the chart's ConfigMap holds want.
func checkConfigData(t *testing.T, k kubernetes.Interface, want map[string]string) {
	t.Helper()
	var got map[string]string
	var err error
	if !poll.Until(30*time.Second, 200*time.Millisecond, func() bool {
		var cm *corev1.ConfigMap
		if cm, err = k.CoreV1().ConfigMaps(helmNamespace).Get(context.Background(), helmObject, metav1.GetOptions{}); err == nil {
			got = cm.Data
		}
		return err == nil && reflect.DeepEqual(got, want)
	}) {
		t.Errorf("ConfigMap %s: data %v (%v), want %v", helmObject, got, err, want)
	}
}

// helmBinary is $HELM_BIN, or bin/helm as scripts/build-helm.sh builds it
// (at once when it is up to date; the first build takes minutes). Without
// one the test fails under CI and is skipped elsewhere.
func helmBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("HELM_BIN"); bin != "" {
		return bin
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		t.Skip("runs Helm against agent processes; skipped with -short")
	}
	out, err := exec.Command(filepath.Join(root, "scripts", "build-helm.sh")).CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("helm is missing: scripts/build-helm.sh (make helm) could not build bin/helm: %v\n%s", err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return filepath.Join(root, "bin", "helm")
}

// helmCLI runs helm with the cluster's kubeconfig and a home of its own
// (no user's repositories, plugins or cache).
type helmCLI struct {
	bin, kubeconfig, home string
}

// run runs helm against peer via (--kube-apiserver) and returns its
// standard output; it fails the test, showing helm's --debug log, when
// helm fails.
func (h *helmCLI) run(t *testing.T, via *agent, args ...string) string {
	t.Helper()
	args = append(args, "--kube-apiserver", "https://"+via.api(), "--debug")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+h.kubeconfig,
		"HELM_CONFIG_HOME="+filepath.Join(h.home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(h.home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(h.home, "data"),
		"HELM_DRIVER=secret", // Helm's default: releases in Secrets
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n--- stdout:\n%s\n--- stderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// runJSON runs helm (with -o json among args) and decodes its output.
func (h *helmCLI) runJSON(t *testing.T, via *agent, v any, args ...string) {
	t.Helper()
	out := h.run(t, via, args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("helm %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// checkHelmRelease checks the release helm install or upgrade -o json
// printed.
func checkHelmRelease(t *testing.T, out, name string, version int, status string) {
	t.Helper()
	var rel struct {
		Name    string `json:"name"`
		Version int    `json:"version"`
		Info    struct {
			Status string `json:"status"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(out), &rel); err != nil {
		t.Fatalf("helm's release as JSON: %v\n%s", err, out)
	}
	if rel.Name != name || rel.Version != version || rel.Info.Status != status {
		t.Fatalf("helm's release: %s revision %d %s, want %s revision %d %s", rel.Name, rel.Version, rel.Info.Status, name, version, status)
	}
}

// kubeClient is client-go through peer a, with the admin kubeconfig.
func kubeClient(t *testing.T, c *procCluster, a *agent) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("https://"+a.api(), c.config)
	if err != nil {
		t.Fatalf("admin.conf as a kubeconfig: %v", err)
	}
	k, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// webState is what the release's workload should come to; the zero value
// is nothing at all (after uninstall).
type webState struct {
	image    string // the Deployment's pod template's, and its pods'
	replicas int    // the Deployment's, and its pods' count
	// replicaSets maps each ReplicaSet's revision to "IMAGE xREPLICAS".
	replicaSets map[string]string
	// releases maps each revision Helm keeps a Secret of to its status.
	releases map[int]string
}

// observed is the release's workload as the API shows it.
type observed struct {
	Deployment  string         // "IMAGE xREPLICAS", "" when there is none
	Pods        map[string]int // per image
	ReplicaSets map[string]string
	Releases    map[int]string
}

func (w webState) observed() observed {
	o := observed{Pods: map[string]int{}, ReplicaSets: map[string]string{}, Releases: map[int]string{}}
	if w.image != "" {
		o.Deployment = fmt.Sprintf("%s x%d", w.image, w.replicas)
		if w.replicas > 0 {
			o.Pods[w.image] = w.replicas
		}
	}
	for k, v := range w.replicaSets {
		o.ReplicaSets[k] = v
	}
	for k, v := range w.releases {
		o.Releases[k] = v
	}
	return o
}

// checkWorkload waits until the API shows want, and fails the test with
// what it showed last when it does not within a deadline.
func checkWorkload(t *testing.T, k kubernetes.Interface, want webState) {
	t.Helper()
	wantObs := want.observed()
	var got observed
	var readErr error
	ok := poll.Until(60*time.Second, 200*time.Millisecond, func() bool {
		got, readErr = observe(k)
		return readErr == nil && reflect.DeepEqual(got, wantObs)
	})
	if !ok {
		t.Fatalf("the release's objects:\n got %+v (%v)\nwant %+v", got, readErr, wantObs)
	}
}

func observe(k kubernetes.Interface) (observed, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o := observed{Pods: map[string]int{}, ReplicaSets: map[string]string{}, Releases: map[int]string{}}
	selector := labels.Set{"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": helmRelease}.String()
	d, err := k.AppsV1().Deployments(helmNamespace).Get(ctx, helmObject, metav1.GetOptions{})
	switch {
	case err == nil:
		o.Deployment = fmt.Sprintf("%s x%d", podImage(d.Spec.Template.Spec.Containers), replicasOf(d.Spec.Replicas))
	case !apierrors.IsNotFound(err):
		return o, err
	}
	pods, err := k.CoreV1().Pods(helmNamespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return o, err
	}
	for _, p := range pods.Items {
		o.Pods[podImage(p.Spec.Containers)]++
	}
	rss, err := k.AppsV1().ReplicaSets(helmNamespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return o, err
	}
	for _, rs := range rss.Items {
		rev := rs.Annotations["deployment.kubernetes.io/revision"]
		o.ReplicaSets[rev] = fmt.Sprintf("%s x%d", podImage(rs.Spec.Template.Spec.Containers), replicasOf(rs.Spec.Replicas))
	}
	secrets, err := k.CoreV1().Secrets(helmNamespace).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=" + helmRelease})
	if err != nil {
		return o, err
	}
	for _, s := range secrets.Items {
		n, err := strconv.Atoi(s.Labels["version"])
		if err != nil || s.Name != fmt.Sprintf("sh.helm.release.v1.%s.v%d", helmRelease, n) || s.Type != "helm.sh/release.v1" {
			return o, fmt.Errorf("secret %s (type %s, labels %v) is not a Helm release's", s.Name, s.Type, s.Labels)
		}
		o.Releases[n] = s.Labels["status"]
	}
	return o, nil
}

// checkAppliedByHelm checks that Helm wrote the Deployment with
// server-side apply, as Helm v4 does by default: Helm's one managed-fields
// entry is an Apply entry, and it owns the fields the chart sets, among
// them those a step changed (a field that left it would stay behind when a
// later revision of the chart dropped it).
func checkAppliedByHelm(t *testing.T, k kubernetes.Interface) {
	t.Helper()
	d, err := k.AppsV1().Deployments(helmNamespace).Get(context.Background(), helmObject, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	var applied *metav1.ManagedFieldsEntry
	for i, m := range d.ManagedFields {
		if m.Manager != "helm" {
			continue
		}
		entries = append(entries, fmt.Sprintf("%s %s", m.Operation, fieldsOf(m.FieldsV1)))
		if m.Operation == metav1.ManagedFieldsOperationApply && m.Subresource == "" {
			applied = &d.ManagedFields[i]
		}
	}
	if applied == nil || len(entries) != 1 {
		t.Fatalf("Deployment %s: helm's managed fields are %q, want one Apply entry", helmObject, entries)
	}
	for _, path := range [][]string{
		{"f:spec", "f:replicas"},
		{"f:spec", "f:strategy", "f:type"},
		{"f:spec", "f:template", "f:spec", "f:containers", `k:{"name":"web"}`, "f:image"},
		{"f:metadata", "f:labels", "f:app.kubernetes.io/version"},
	} {
		if !ownsField(applied.FieldsV1, path) {
			t.Errorf("Deployment %s: helm's Apply entry does not own %s: %s", helmObject, strings.Join(path, "."), fieldsOf(applied.FieldsV1))
		}
	}
}

// ownsField says whether a managed-fields set holds path.
func ownsField(f *metav1.FieldsV1, path []string) bool {
	if f == nil {
		return false
	}
	var set map[string]any
	if json.Unmarshal(f.Raw, &set) != nil {
		return false
	}
	for _, p := range path {
		next, ok := set[p].(map[string]any)
		if !ok {
			return false
		}
		set = next
	}
	return true
}

func fieldsOf(f *metav1.FieldsV1) string {
	if f == nil {
		return "{}"
	}
	return string(f.Raw)
}

func podImage(cs []corev1.Container) string {
	if len(cs) == 0 {
		return ""
	}
	return cs[0].Image
}
