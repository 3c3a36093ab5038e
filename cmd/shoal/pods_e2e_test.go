package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/shoalproject/shoal/internal/poll"
	"github.com/shoalproject/shoal/internal/testimage"
	"github.com/shoalproject/shoal/volumes"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime/containerd/containerdtest"
)

// Pods on real containerd, through agent processes: an image imported into
// one peer runs on all three (the others fetch it from that peer), each pod
// gets an address from its node's pod CIDR and answers HTTP there; logs
// come through any peer; a deleted pod is stopped and removed.
func TestPodsRunOnContainerdAcrossPeers(t *testing.T) {
	d, image, c := containerdHosts(t) // each peer in a network namespace of its own, as on machines
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
	var last string
	t.Cleanup(func() {
		if t.Failed() {
			ev, _ := c.cli("get", "events")
			t.Logf("last pods:\n%s\nevents:\n%s", last, ev)
		}
	})
	c.waitFor(90*time.Second, "three pods Running and ready", func() bool {
		out, err := c.cli("get", "pods", "-o", "wide")
		last = out
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
		body, err := c.inHost(node, "curl", "-sS", "--max-time", "5", "http://"+ip+":8080/")
		if err != nil || !strings.Contains(body, "hello from "+name) {
			t.Fatalf("%s at %s, from %s: %v: %q", name, ip, node, err, body)
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
// containerdHosts starts a containerd of the test's, writes the webapp
// image's archive, and makes a cluster whose agents run in network
// namespaces of their own. It skips with -short and without containerd.
func containerdHosts(t *testing.T) (*containerdtest.Daemon, string, *procCluster) {
	t.Helper()
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
	c.useHosts()
	t.Cleanup(func() { unmountUnder(t, c.base) }) // pods' tmpfs volumes, before the directory goes
	return d, image, c
}

// startContainerdPeers starts p1, p2 and p3 on containerd, each in its own
// network namespace, p2 and p3 joining through p1.
func startContainerdPeers(t *testing.T, c *procCluster, d *containerdtest.Daemon) map[string]*agent {
	agents := map[string]*agent{}
	for n := 1; n <= 3; n++ {
		via := 1
		if n == 1 {
			via = 0
		}
		agents[fmt.Sprintf("p%d", n)] = c.start(n, via, containerdFlags(t, c, d, n)...)
	}
	return agents
}

// importImage builds spec's image (once per test process) and imports it
// through the CLI.
func importImage(t *testing.T, c *procCluster, spec testimage.Spec) {
	f := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(f, testimage.Cached(t, spec), 0o600); err != nil {
		t.Fatal(err)
	}
	c.importTar(f)
}

// importTar imports an image archive through the first peer, once its
// container runtime is up (a peer just started may not have it yet).
func (c *procCluster) importTar(path string) {
	c.t.Helper()
	var out string
	var err error
	if !poll.Until(60*time.Second, 200*time.Millisecond, func() bool {
		out, err = c.cli("image", "import", path)
		return err == nil
	}) {
		c.t.Fatalf("shoal image import %s: %v: %s", path, err, out)
	}
}

// unmountUnder detaches every file system mounted below dir.
func unmountUnder(t *testing.T, dir string) {
	if err := volumes.UnmountUnder(dir); err != nil {
		t.Log(err)
	}
}

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

// One agent on real containerd: restarts with back-off, probes, restart
// policy Never, a missing image, preStop before SIGTERM, bad manifests, and
// a kill -9 of the agent that leaves no orphans once it is back.
func TestPodLifecycleOnContainerd(t *testing.T) {
	d, image, c := containerdHosts(t)
	// A registry on the test's bridge, which the peers reach as machines would.
	ref := startRegistry(t, image, fmt.Sprintf("10.199.%d.254", c.subnet%250))
	registry, _, _ := strings.Cut(ref, "/")
	flags := append(containerdFlags(t, c, d, 1), "--insecure-registry", registry)
	a := c.start(1, 0, flags...)
	p2 := c.start(2, 1) // no runtime: they keep the store up while p1 is down
	c.start(3, 1)
	c.mustCLI("image", "import", image, "--server", "https://"+a.api())
	dir := t.TempDir()
	pod := func(name, extra string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  nodeName: p1
  terminationGracePeriodSeconds: 5
%s`, name, extra)
	}
	webapp := func(containerExtra string) string {
		return "  containers:\n  - name: web\n    image: shoal.local/webapp:v1\n" + containerExtra
	}
	c.apply("pods", strings.Join([]string{
		pod("crash", webapp("    env: [{name: EXIT_AFTER, value: 300ms}]\n")),
		pod("job", "  restartPolicy: Never\n"+webapp("    env: [{name: EXIT_AFTER, value: 300ms}]\n")),
		// The startup probe holds the liveness probe back until the server
		// listens: a liveness probe of failureThreshold 1 that ran first
		// killed a webapp still starting on a loaded machine (1 run in 6).
		pod("live", webapp("    startupProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1, failureThreshold: 30}\n"+
			"    livenessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1, failureThreshold: 1}\n")),
		pod("ready", webapp("    readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}\n")),
		pod("badimg", "  containers:\n  - name: web\n    image: 127.0.0.1:1/nope:v1\n"),
		pod("stopper", webapp("    lifecycle: {preStop: {httpGet: {path: /prestop-hook, port: 8080}}}\n")),
	}, "---\n"))
	cl := c.apiClient(a)
	get := func(name string) workload.Pod {
		var p workload.Pod
		_ = cl.Do(context.Background(), http.MethodGet, "/api/v1/namespaces/default/pods/"+name, nil, &p)
		return p
	}
	status := func(name string) string { return workload.PodDisplayStatus(ptr(get(name))).Status }
	post := func(name, path string) { // from the pod's peer, where its network is
		t.Helper()
		if out, err := c.inHost("p1", "curl", "-sS", "--max-time", "5", "-X", "POST", "http://"+get(name).Status.PodIP+":8080"+path); err != nil {
			t.Fatalf("%s %s: %v: %s", name, path, err, out)
		}
	}

	// A container that keeps exiting is restarted, then backs off.
	c.waitFor(60*time.Second, "crash in CrashLoopBackOff", func() bool { return status("crash") == workload.ReasonCrashLoopBackOff })
	if cs := get("crash").Status.ContainerStatuses[0]; cs.RestartCount < 1 || cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 3 {
		t.Fatalf("crash: %+v", cs)
	}
	// restartPolicy Never: the pod fails and stays failed.
	c.waitFor(30*time.Second, "job Failed", func() bool { return get("job").Status.Phase == workload.PodFailed })
	if cs := get("job").Status.ContainerStatuses[0]; cs.RestartCount != 0 || cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 3 {
		t.Fatalf("job: %+v", cs)
	}
	// A failing liveness probe restarts the container.
	c.waitFor(30*time.Second, "live Running", func() bool { return status("live") == "Running" })
	post("live", "/fail")
	c.waitFor(30*time.Second, "live restarted", func() bool {
		cs := get("live").Status.ContainerStatuses
		return len(cs) == 1 && cs[0].RestartCount >= 1
	})
	// A failing readiness probe clears Ready, and nothing restarts.
	c.waitFor(30*time.Second, "ready Ready", func() bool { return workload.IsPodReady(ptr(get("ready"))) })
	post("ready", "/fail")
	c.waitFor(30*time.Second, "ready not Ready", func() bool { return !workload.IsPodReady(ptr(get("ready"))) })
	if cs := get("ready").Status.ContainerStatuses[0]; cs.RestartCount != 0 || cs.State.Running == nil {
		t.Fatalf("readiness failures restarted the container: %+v", cs)
	}
	// An image no registry has: ErrImagePull, then ImagePullBackOff, with
	// events. The first state lasts only until the second attempt (10 s after
	// the first), which may be behind us by now; the node agent's unit test
	// asserts the order.
	c.waitFor(30*time.Second, "badimg ErrImagePull or ImagePullBackOff", func() bool {
		s := status("badimg")
		return s == workload.ReasonErrImagePull || s == workload.ReasonImagePullBackOff
	})
	c.waitFor(40*time.Second, "badimg ImagePullBackOff", func() bool { return status("badimg") == workload.ReasonImagePullBackOff })
	if out := c.mustCLI("describe", "pod", "badimg"); !strings.Contains(out, "Failed to pull image") {
		t.Fatalf("describe badimg has no pull failure event:\n%s", out)
	}

	// Deleting runs preStop, then SIGTERM: the log shows the hook's request
	// before the shutdown.
	var logs syncBuffer
	follow := exec.Command(shoalBin, "logs", "-f", "stopper", "--config", c.config)
	follow.Stdout = &logs
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	c.waitFor(10*time.Second, "the log stream", func() bool { return strings.Contains(logs.String(), "listening") || logs.String() != "" })
	c.mustCLI("delete", "pod", "stopper")
	_ = follow.Wait()
	out := logs.String()
	hook, bye := strings.Index(out, "/prestop-hook"), strings.Index(out, "shutting down")
	if hook < 0 || bye < 0 || hook > bye {
		t.Fatalf("want the preStop request before \"shutting down\" in the log:\n%s", out)
	}

	// An image pulled from a registry (Debian's docker-registry, plain HTTP)
	// runs.
	c.apply("pulled", pod("pulled", "  containers:\n  - name: web\n    image: "+ref+"\n"))
	c.waitFor(60*time.Second, "the pulled image's pod Running", func() bool { return status("pulled") == "Running" })
	if out := c.mustCLI("describe", "pod", "pulled"); !strings.Contains(out, "Successfully pulled image") {
		t.Fatalf("describe pulled has no Pulled event:\n%s", out)
	}

	// Bad manifests are refused with the field named; nothing is stored.
	for _, bad := range []struct{ yaml, want string }{
		{pod("badport", webapp("    ports: [{containerPort: 70000}]\n")), "spec.containers[0].ports[0].containerPort"},
		{pod("tinymem", webapp("    resources: {limits: {memory: 1Mi}}\n")), "must be at least 4Mi"},
		{pod("dupname", webapp("")+"  - name: web\n    image: shoal.local/webapp:v1\n"), "Duplicate value"},
	} {
		f := filepath.Join(dir, "bad.yaml")
		_ = os.WriteFile(f, []byte(bad.yaml), 0o600)
		if _, err := c.cli("apply", "-f", f); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("bad manifest: %v, want an error naming %q", err, bad.want)
		}
	}
	if out := c.mustCLI("get", "pods", "-o", "name"); strings.Contains(out, "badport") || strings.Contains(out, "tinymem") || strings.Contains(out, "dupname") {
		t.Fatalf("a refused pod was stored:\n%s", out)
	}

	// kill -9 the agent; remove a pod while it is down; bring it back: the
	// removed pod's sandbox is gone, the others are adopted, not restarted.
	readyIP := get("ready").Status.PodIP
	netns := func() []string {
		m, _ := filepath.Glob("/var/run/netns/shoal-" + flags[5] + "-*")
		return m
	}
	before := len(netns())
	a.kill()
	// The store re-elects the leaders p1 held first; a delete that timed out
	// meanwhile may still have happened.
	c.waitFor(30*time.Second, "the delete through p2", func() bool {
		_, err := c.cli("delete", "pod", "live", "--grace-period", "0", "--server", "https://"+p2.api())
		return err == nil || strings.Contains(err.Error(), "NotFound")
	})
	a = c.start(1, 0, flags...)
	cl = c.apiClient(a)
	c.waitFor(30*time.Second, "live's sandbox removed", func() bool { return len(netns()) == before-1 })
	if p := get("ready"); p.Status.PodIP != readyIP || p.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Fatalf("ready was not adopted as it was: IP %s (was %s), %+v", p.Status.PodIP, readyIP, p.Status.ContainerStatuses)
	}
}

func ptr[T any](v T) *T { return &v }

// startRegistry serves Debian's docker-registry on a free port of ip (an
// address of the test's), pushes the image archive's image into it as
// webapp:v1, and returns the reference to pull.
func startRegistry(t *testing.T, archive, ip string) string {
	t.Helper()
	if _, err := exec.LookPath("docker-registry"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("docker-registry is not installed (scripts/install-deps.sh installs it)")
		}
		t.Skip("docker-registry is not installed (scripts/install-deps.sh installs it)")
	}
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	conf := fmt.Sprintf("version: 0.1\nlog: {level: warn}\nstorage:\n  filesystem: {rootdirectory: %s}\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := exec.Command("docker-registry", "serve", cfg)
	var out syncBuffer
	reg.Stdout, reg.Stderr = &out, &out
	reg.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := reg.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Process.Kill(); _ = reg.Wait() })

	if !poll.Until(20*time.Second, 50*time.Millisecond, func() bool {
		var resp *http.Response
		if resp, err = http.Get("http://" + addr + "/v2/"); err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}) {
		t.Fatalf("docker-registry did not answer at %s: %v\n%s", addr, err, out.String())
	}
	src, err := name.NewTag(testimage.WebappRepo + ":v1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(archive, &src)
	if err != nil {
		t.Fatal(err)
	}
	ref := addr + "/webapp:v1"
	dst, err := name.NewTag(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(dst, img); err != nil {
		t.Fatalf("push to the test registry: %v", err)
	}
	return ref
}
