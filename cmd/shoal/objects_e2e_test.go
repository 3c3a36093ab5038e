package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestApplyGetDeleteThroughDifferentPeers(t *testing.T) {
	c := newProcCluster(t)
	c.start(1, 0)
	p2 := c.start(2, 1)
	p3 := c.start(3, 1)
	dir := t.TempDir()
	manifest := filepath.Join(dir, "app.yaml")
	write := func(path, s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(manifest, `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app
  namespace: shop
  labels: {app: web}
data:
  greeting: hello
`)
	run := c.mustCLI
	c.waitFor(30*time.Second, "the store to answer", func() bool { _, err := c.cli("get", "ns"); return err == nil })
	if out := run("apply", "-f", manifest); out != "namespace/shop created\nconfigmap/app created\n" {
		t.Fatalf("first apply: %q", out)
	}
	if out := run("apply", "-f", manifest, "--server", "https://"+p2.api()); !strings.Contains(out, "configmap/app unchanged") {
		t.Fatalf("second apply: %q", out)
	}
	if out := run("get", "cm", "app", "-n", "shop", "-o", "yaml", "--server", "https://"+p3.api()); !strings.Contains(out, "greeting: hello") {
		t.Fatalf("get through p3: %q", out)
	}
	if out := run("get", "cm", "-A", "-l", "app=web", "-o", "name", "--server", "https://"+p2.api()); out != "configmap/app\n" {
		t.Fatalf("get -l: %q", out)
	}

	// A Service gets a cluster IP and is shown as kubectl does (the proxy
	// that carries its traffic is issue 7's next slice).
	svc := filepath.Join(dir, "svc.yaml")
	write(svc, "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 9000}]\n")
	if out := run("apply", "-f", svc); out != "service/web created\n" {
		t.Fatalf("apply service: %q", out)
	}
	out := run("get", "svc", "-n", "shop", "--server", "https://"+p3.api())
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "NAME TYPE CLUSTER-IP PORT(S) AGE" ||
		len(strings.Fields(lines[1])) != 5 || strings.Fields(lines[1])[1] != "ClusterIP" || !strings.HasPrefix(strings.Fields(lines[1])[2], "10.") || strings.Fields(lines[1])[3] != "80/TCP" {
		t.Fatalf("get svc:\n%s", out)
	}
	if out := strings.Join(strings.Fields(run("describe", "svc", "web", "-n", "shop")), " "); !strings.Contains(out, "Selector: app=web Type: ClusterIP IP: 10.") ||
		!strings.Contains(out, "TargetPort: 9000/TCP") || !strings.Contains(out, "Endpoints: <none>") {
		t.Fatalf("describe svc: %s", out)
	}
	// Several kinds: a table each, names as KIND/NAME.
	if out := run("get", "svc,cm", "-n", "shop"); !strings.Contains(out, "service/web") || !strings.Contains(out, "configmap/app") || !strings.Contains(out, "\n\nNAME ") {
		t.Fatalf("get svc,cm:\n%s", out)
	}

	// A bad second document: nothing from the apply is stored.
	bad := filepath.Join(dir, "bad.yaml")
	write(bad, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  nmae: x\n")
	if _, err := c.cli("apply", "-f", bad); err == nil || !strings.Contains(err.Error(), "bad.yaml: document 2: metadata.nmae: unknown field") {
		t.Fatalf("bad apply: %v", err)
	}
	if _, err := c.cli("get", "cm", "first"); err == nil || !strings.Contains(err.Error(), `Error from server (NotFound): configmaps "first" not found`) {
		t.Fatalf("the valid first document was stored: %v", err)
	}

	if out := run("describe", "cm", "app", "-n", "shop", "--server", "https://"+p2.api()); !strings.Contains(out, "Labels:       app=web") || !strings.Contains(out, "greeting:\n----\nhello") {
		t.Fatalf("describe: %q", out)
	}

	// -w through p3 sees a change made through p2.
	watch := exec.Command(shoalBin, "get", "cm", "-n", "shop", "-w", "--config", c.config, "--server", "https://"+p3.api())
	var wout syncBuffer
	watch.Stdout, watch.Stderr = &wout, &wout
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = watch.Process.Kill(); _ = watch.Wait() }()
	c.waitFor(10*time.Second, "the watch to list", func() bool { return strings.Contains(wout.String(), "app") })
	write(filepath.Join(dir, "w.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: seen-by-watch\n  namespace: shop\n")
	run("apply", "-f", filepath.Join(dir, "w.yaml"), "--server", "https://"+p2.api())
	c.waitFor(10*time.Second, "the watch to see the change", func() bool { return strings.Contains(wout.String(), "seen-by-watch") })

	if out := run("delete", "cm", "app", "-n", "shop", "--server", "https://"+p2.api()); !strings.Contains(out, `configmap "app" deleted`) {
		t.Fatalf("delete: %q", out)
	}
	if _, err := c.cli("get", "cm", "app", "-n", "shop"); err == nil {
		t.Fatal("deleted configmap still readable")
	}

	// A namespaced object needs its namespace; "default" exists from the start.
	write(filepath.Join(dir, "nons.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: nope\n")
	if _, err := c.cli("apply", "-f", filepath.Join(dir, "nons.yaml")); err == nil || !strings.Contains(err.Error(), `namespaces "nope" not found`) {
		t.Fatalf("configmap in a missing namespace: %v", err)
	}
	if out := run("get", "ns", "default", "-o", "name"); out != "namespace/default\n" {
		t.Fatalf("default namespace: %q", out)
	}

	// The Namespace round trip, through yet another peer; deleting it
	// deletes what is in it.
	if out := run("get", "ns", "shop", "--server", "https://"+p3.api()); !strings.Contains(out, "shop   Active") {
		t.Fatalf("get ns: %q", out)
	}
	if out := run("describe", "ns", "shop"); !strings.Contains(out, "Status:       Active") {
		t.Fatalf("describe ns: %q", out)
	}
	if out := run("delete", "-f", manifest, "--ignore-not-found", "--server", "https://"+p3.api()); !strings.Contains(out, `namespace "shop" deleted`) {
		t.Fatalf("delete -f: %q", out)
	}
	if out, _ := c.cli("get", "ns", "-o", "name"); strings.Contains(out, "shop") {
		t.Fatalf("deleted namespace still listed: %q", out)
	}
	if out, _ := c.cli("get", "cm", "-A", "-o", "name"); strings.Contains(out, "seen-by-watch") {
		t.Fatalf("a configmap of the deleted namespace survived: %q", out)
	}

	// A bulk apply: the namespace first, then its objects many at a time,
	// printed in document order; one object refused does not stop the rest.
	var bulk, want strings.Builder
	bulk.WriteString("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bulk\n")
	want.WriteString("namespace/bulk created\n")
	for i := range 40 {
		fmt.Fprintf(&bulk, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%02d\n  namespace: bulk\ndata:\n  i: \"%d\"\n", i, i)
		fmt.Fprintf(&want, "configmap/cm-%02d created\n", i)
	}
	bulk.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n  namespace: nope\n")
	write(filepath.Join(dir, "bulk.yaml"), bulk.String())
	out, err := c.cli("apply", "-f", filepath.Join(dir, "bulk.yaml"))
	if err == nil || !strings.Contains(err.Error(), `Error from server (NotFound): namespaces "nope" not found`) {
		t.Fatalf("bulk apply with a stray object: %v", err)
	}
	if out != want.String() {
		t.Fatalf("bulk apply printed\n%s\nwant\n%s", out, want.String())
	}
	if out := run("get", "cm", "-n", "bulk", "-o", "name"); strings.Count(out, "configmap/") != 40 {
		t.Fatalf("bulk apply stored %d config maps, want 40:\n%s", strings.Count(out, "configmap/"), out)
	}
}
