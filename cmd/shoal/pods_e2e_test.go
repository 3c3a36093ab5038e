package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/testimage"
	"github.com/shoalproject/shoal/workload/runtime/containerd/containerdtest"
)

// Pods on real containerd, through agent processes: an image imported into
// one peer runs on all three (the others fetch it from that peer), each pod
// gets an address from its node's pod CIDR and answers HTTP there; logs
// come through any peer; a deleted pod is stopped and removed.
func TestPodsRunOnContainerdAcrossPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts containerd and agent processes; skipped with -short")
	}
	containerdtest.Require(t)
	d := containerdtest.Start(t)
	image := filepath.Join(t.TempDir(), "webapp.tar")
	if err := os.WriteFile(image, testimage.Cached(t, testimage.Webapp("v1")), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newProcCluster(t)
	runtimeFlags := func(n int) []string { return containerdFlags(t, c, d, n) }
	c.start(1, 0, runtimeFlags(1)...)
	p2 := c.start(2, 1, runtimeFlags(2)...)
	c.start(3, 1, runtimeFlags(3)...)
	run := c.mustCLI
	if out := run("image", "import", image); !strings.Contains(out, "imported shoal.local/webapp:v1") || !strings.Contains(out, "into p1") {
		t.Fatalf("image import: %q", out)
	}
	var manifest strings.Builder
	for n := 1; n <= 3; n++ {
		fmt.Fprintf(&manifest, `---
apiVersion: v1
kind: Pod
metadata:
  name: web-%d
spec:
  nodeName: p%d
  terminationGracePeriodSeconds: 5
  containers:
  - name: web
    image: shoal.local/webapp:v1
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    readinessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
`, n, n)
	}
	mf := filepath.Join(t.TempDir(), "pods.yaml")
	if err := os.WriteFile(mf, []byte(manifest.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	run("apply", "-f", mf)
	c.waitFor(90*time.Second, "three pods Running and ready", func() bool {
		out, err := c.cli("get", "pods", "-o", "wide")
		return err == nil && strings.Count(out, "1/1     Running") == 3
	})
	out := run("get", "pods", "-o", "wide")
	ips := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(line)
		name, ip, node := f[0], f[len(f)-2], f[len(f)-1]
		if node != "p"+strings.TrimPrefix(name, "web-") {
			t.Fatalf("%s runs on %s:\n%s", name, node, out)
		}
		ips[ip] = true
		// The pod answers HTTP at its address, from the machine its peer runs on.
		client := &http.Client{Timeout: 5 * time.Second}
		resp, err := client.Get("http://" + ip + ":8080/")
		if err != nil {
			t.Fatalf("%s at %s: %v", name, ip, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "hello from "+name) {
			t.Fatalf("%s answered %q", name, body)
		}
	}
	if len(ips) != 3 {
		t.Fatalf("pod IPs are not distinct:\n%s", out)
	}
	if out := run("image", "ls"); !strings.Contains(out, "p1,p2,p3") {
		t.Fatalf("image ls after the peers fetched it:\n%s", out)
	}
	// Logs of a pod on p3, through p2.
	c.waitFor(10*time.Second, "a request in web-3's log", func() bool {
		out, err := c.cli("logs", "web-3", "--server", "https://"+p2.api())
		return err == nil && strings.Contains(out, "GET /")
	})
	if out := run("describe", "pod", "web-2"); !strings.Contains(out, "Started") || !strings.Contains(out, "Node:         p2") {
		t.Fatalf("describe pod:\n%s", out)
	}

	run("delete", "pod", "web-2")
	if _, err := c.cli("get", "pod", "web-2"); err == nil {
		t.Fatal("web-2 is still there after delete --wait")
	}
}

// containerdFlags are agent n's flags to run pods on d: a bridge, a
// containerd namespace and a cluster CIDR of this test's own, named after
// this process (so containerdtest sweeps them if it dies) and removed at the
// end with the network namespaces the agent leaves behind.
func containerdFlags(t testing.TB, c *procCluster, d *containerdtest.Daemon, n int) []string {
	bridge := fmt.Sprintf("shb%d-%d%d", os.Getpid(), c.subnet%100, n)
	ns := fmt.Sprintf("t%d-%d-p%d", os.Getpid(), c.subnet, n)
	t.Cleanup(func() {
		containerdtest.DeleteLink(t, bridge)
		containerdtest.RemoveNetNS(t, "shoal-"+ns+"-")
	})
	return []string{"--runtime", "containerd", "--containerd-address", d.Address, "--containerd-namespace", ns,
		"--bridge", bridge, "--cluster-cidr", fmt.Sprintf("10.%d.0.0/16", 100+c.subnet%100)}
}
