package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
)

// TestCLIBehavesAsKubectl checks, against one agent process, what the
// shoal CLI does as kubectl does it: flags before the verb, label, annotate
// and taint (kept by the node's own heartbeat), several names per get and
// delete, --show-labels, and kubectl's errors for an empty manifest, a
// namespace that contradicts -n, an unknown verb and a missing --replicas.
func TestCLIBehavesAsKubectl(t *testing.T) {
	c := newProcCluster(t)
	p1 := c.start(1, 0)
	c.waitFor(30*time.Second, "the store to answer", func() bool { _, err := c.cli("get", "ns"); return err == nil })
	dir := t.TempDir()
	file := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// raw runs the CLI with exactly these arguments (c.cli adds --config
	// last); stdout, stderr and the exit code.
	raw := func(args ...string) (string, string, int) {
		cmd := exec.Command(shoalBin, args...)
		cmd.Env = append(os.Environ(), "SHOAL_CONFIG=", "SHOAL_SERVER=")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	failsSaying := func(want string, args ...string) {
		t.Helper()
		out, err := c.cli(args...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("shoal %s: %q, %v; want it refused saying %q", strings.Join(args, " "), out, err, want)
		}
	}

	t.Run("flags-before-the-verb", func(t *testing.T) {
		out, stderr, code := raw("--config", c.config, "--server", "https://"+p1.api(), "get", "ns", "default")
		if code != 0 || !strings.Contains(out, "default") {
			t.Errorf("shoal --config F --server URL get ns default: %q %q exit %d", out, stderr, code)
		}
		out, stderr, code = raw("--config", c.config, "-n", "kube-system", "get", "configmaps")
		if code != 0 || out != "" || stderr != "No resources found in kube-system namespace.\n" {
			t.Errorf("shoal --config F -n kube-system get configmaps: %q %q exit %d", out, stderr, code)
		}
	})

	t.Run("label-annotate-and-taint-a-node", func(t *testing.T) {
		if out := c.mustCLI("label", "node", "p1", "disk=ssd", "team=core"); out != "node/p1 labeled\n" {
			t.Errorf("label: %q", out)
		}
		failsSaying("'disk' already has a value (ssd), and --overwrite is false", "label", "node/p1", "disk=hdd")
		c.mustCLI("label", "node/p1", "disk=hdd", "team-", "--overwrite")
		if out := c.mustCLI("annotate", "node", "p1", "owner=ops"); out != "node/p1 annotated\n" {
			t.Errorf("annotate: %q", out)
		}
		if out := c.mustCLI("taint", "node", "p1", "dedicated=gpu:NoSchedule", "maint:NoExecute"); out != "node/p1 tainted\n" {
			t.Errorf("taint: %q", out)
		}
		failsSaying("already has dedicated taint(s) with same effect(s) and --overwrite is false", "taint", "node", "p1", "dedicated=tpu:NoSchedule")
		failsSaying("invalid taint effect: Sometimes", "taint", "node", "p1", "x=y:Sometimes")
		if out := c.mustCLI("taint", "node", "p1", "maint-"); out != "node/p1 untainted\n" {
			t.Errorf("taint maint-: %q", out)
		}
		failsSaying(`taint "maint" not found`, "taint", "node", "p1", "maint-")
		if out := c.mustCLI("get", "nodes", "--show-labels"); !strings.Contains(out, "LABELS") || !strings.Contains(out, "disk=hdd,kubernetes.io/arch=") || strings.Contains(out, "team=") {
			t.Errorf("get nodes --show-labels:\n%s", out)
		}
		// The peer's heartbeat rewrites its Node; what an operator set stays.
		get := func() workload.Node {
			var n workload.Node
			if err := json.Unmarshal([]byte(c.mustCLI("get", "node", "p1", "-o", "json")), &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := get().ObjectMeta.ResourceVersion
		var n workload.Node
		c.waitFor(60*time.Second, "a heartbeat of p1's Node", func() bool { n = get(); return n.ObjectMeta.ResourceVersion != before })
		if n.ObjectMeta.Labels["disk"] != "hdd" || n.ObjectMeta.Annotations["owner"] != "ops" ||
			len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != "dedicated" || n.Spec.Taints[0].Value != "gpu" || n.Spec.Taints[0].Effect != workload.TaintEffectNoSchedule {
			t.Errorf("after a heartbeat: labels %v, annotations %v, taints %+v", n.ObjectMeta.Labels, n.ObjectMeta.Annotations, n.Spec.Taints)
		}
	})

	t.Run("several-names", func(t *testing.T) {
		c.mustCLI("apply", "-f", file("cms.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {tier: x}}\n---\n"+
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"))
		out, err := c.cli("get", "configmaps", "a", "nope", "b", "-o", "name")
		if out != "configmap/a\nconfigmap/b\n" || err == nil || !strings.Contains(err.Error(), `configmaps "nope" not found`) {
			t.Errorf("get configmaps a nope b: %q, %v", out, err)
		}
		if out := c.mustCLI("get", "configmap", "a", "--show-labels"); !strings.Contains(out, "tier=x") {
			t.Errorf("get --show-labels: %q", out)
		}
		if out := c.mustCLI("delete", "configmap", "a", "b"); out != "configmap \"a\" deleted\nconfigmap \"b\" deleted\n" {
			t.Errorf("delete configmap a b: %q", out)
		}
		if out := c.mustCLI("delete", "configmap/c"); out != "configmap \"c\" deleted\n" {
			t.Errorf("delete configmap/c: %q", out)
		}
	})

	t.Run("apply-is-idempotent", func(t *testing.T) {
		app := `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app, namespace: shop}
data: {greeting: hello, extra: x}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: shoal.local/webapp:v1}]
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: shop}
stringData: {password: hunter2}
`
		f := file("app.yaml", app)
		c.mustCLI("apply", "-f", f)
		all := "namespace/shop unchanged\nconfigmap/app unchanged\nservice/web unchanged\ndeployment/web unchanged\nsecret/s unchanged\n"
		if out := c.mustCLI("apply", "-f", f); out != all {
			t.Errorf("re-apply of an unchanged file:\n%s", out)
		}
		// What others set and the manifest does not (a restart's
		// annotation) survives a re-apply, which stays unchanged.
		c.mustCLI("rollout", "restart", "deployment/web", "-n", "shop")
		if out := c.mustCLI("apply", "-f", f); out != all {
			t.Errorf("re-apply after a rollout restart:\n%s", out)
		}
		if out := c.mustCLI("get", "deployment", "web", "-n", "shop", "-o", "yaml"); !strings.Contains(out, "kubectl.kubernetes.io/restartedAt") {
			t.Errorf("the re-apply undid the restart:\n%s", out)
		}
		// A changed value is configured; a key taken out of the manifest
		// goes from the object.
		f = file("app.yaml", strings.Replace(app, "data: {greeting: hello, extra: x}", "data: {greeting: bonjour}", 1))
		if out := c.mustCLI("apply", "-f", f); !strings.Contains(out, "configmap/app configured\n") || strings.Count(out, "unchanged") != 4 {
			t.Errorf("apply of a changed config map:\n%s", out)
		}
		var cm workload.ConfigMap
		if err := json.Unmarshal([]byte(c.mustCLI("get", "cm", "app", "-n", "shop", "-o", "json")), &cm); err != nil {
			t.Fatal(err)
		}
		if len(cm.Data) != 1 || cm.Data["greeting"] != "bonjour" {
			t.Errorf("config map after the apply: %v", cm.Data)
		}
	})

	t.Run("kubectls-errors", func(t *testing.T) {
		empty := file("empty.yaml", "# nothing here\n---\n")
		failsSaying("no objects passed to apply", "apply", "-f", empty)
		failsSaying("no objects passed to delete", "delete", "-f", empty)
		other := file("other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: other}\n")
		failsSaying(`the namespace from the provided object "other" does not match the namespace "default". You must pass '--namespace=other' to perform this operation.`,
			"apply", "-n", "default", "-f", other)
		_, stderr, code := raw("--config", c.config, "run", "web", "--image=x")
		if code != 2 || stderr != "error: unknown command \"run\"; see 'shoal --help'\n" {
			t.Errorf("shoal run web --image=x: %q exit %d", stderr, code)
		}
		_, stderr, code = raw("--config", c.config, "scale", "deployment/web")
		if code != 2 || stderr != "error: required flag(s) \"replicas\" not set\n" {
			t.Errorf("shoal scale deployment/web: %q exit %d", stderr, code)
		}
		failsSaying(`deployments.apps "nope" not found`, "rollout", "undo", "deployment/nope")
	})
}
