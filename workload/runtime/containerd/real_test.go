package containerd_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	dockerconfig "github.com/containerd/containerd/v2/core/remotes/docker/config"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/shoalproject/shoal/internal/errdefs"
	ipoll "github.com/shoalproject/shoal/internal/poll"
	"github.com/shoalproject/shoal/internal/testimage"
	"github.com/shoalproject/shoal/workload/runtime"
	"github.com/shoalproject/shoal/workload/runtime/containerd"
	"github.com/shoalproject/shoal/workload/runtime/runtimetest"
)

// Behaviour only the real runtime has: a network, cgroups, registries.

// TestRealRuntime shares one containerd among its subtests.
func TestRealRuntime(t *testing.T) {
	h := newHarness(t)
	testee := testimage.Cached(t, runtimetest.TesteeSpec)
	webapp := testimage.Cached(t, testimage.Webapp("v1"))
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, h *harness, testee, webapp []byte)
	}{
		{"WebappAnswersOnPodIPAndPodsReachEachOther", testPodNetwork},
		{"LimitsAreSetAndOOMKillIsReported", testLimitsAndOOM},
		{"PullFromRegistryWithCredentials", testPull},
		{"RemoveSandboxReleasesNetwork", testRemoveReleasesNetwork},
		{"SecurityContextIsEnforced", testSecurity},
		{"HostNetworkPodIsOnTheHostsNetwork", testHostNetwork},
		{"HostPortForwardsToThePod", testHostPort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, h, testee, webapp)
		})
	}
}

func importImage(t *testing.T, rt runtime.Runtime, tar []byte) {
	t.Helper()
	if _, err := rt.ImportImage(ctxFor(t), bytes.NewReader(tar)); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, rt runtime.Runtime, sandboxID string, cfg runtime.ContainerConfig) string {
	t.Helper()
	ctx := ctxFor(t)
	id, err := rt.CreateContainer(ctx, sandboxID, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

// poll calls f until it returns nil or 30 seconds pass.
func poll(t *testing.T, what string, f func() error) {
	t.Helper()
	var err error
	if !ipoll.Until(30*time.Second, 20*time.Millisecond, func() bool { err = f(); return err == nil }) {
		t.Fatalf("%s: %v", what, err)
	}
}

func httpGet(url string) (string, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), err
}

func testPodNetwork(t *testing.T, h *harness, testee, webapp []byte) {
	ctx := ctxFor(t)
	rt := h.New(t, "net-1")
	importImage(t, rt, testee)
	importImage(t, rt, webapp)

	web, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u-web", Namespace: "default", Name: "web-0"})
	if err != nil {
		t.Fatal(err)
	}
	content := t.TempDir()
	if err := os.WriteFile(filepath.Join(content, "index.txt"), []byte("from a host file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	webID := run(t, rt, web.ID, runtime.ContainerConfig{
		Name: "web", Image: testimage.WebappRepo + ":v1",
		Env:    []string{"POD_NAME=web-0", "CONTENT_FILE=/content/index.txt"},
		Mounts: []runtime.Mount{{HostPath: content, ContainerPath: "/content", ReadOnly: true}},
	})

	// The host reaches the pod at its address.
	url := "http://" + web.IP + ":8080/"
	var body string
	poll(t, "GET "+url, func() (err error) { body, err = httpGet(url); return err })
	if body != "hello from web-0 (v1)\nfrom a host file\n" {
		t.Fatalf("GET / = %q", body)
	}

	// Another pod on the bridge reaches it too.
	client, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u-client", Namespace: "default", Name: "client"})
	if err != nil {
		t.Fatal(err)
	}
	clientID := run(t, rt, client.ID, runtime.ContainerConfig{Name: "c", Image: runtimetest.TesteeImage, Args: []string{"get", url + "healthz"}})
	var logs bytes.Buffer
	poll(t, "client pod's GET", func() error {
		st, err := rt.ContainerStatus(ctx, clientID)
		if err != nil || st.State != runtime.ContainerExited {
			return fmt.Errorf("client container %+v, %v", st, err)
		}
		logs.Reset()
		if err := rt.Logs(ctx, clientID, runtime.LogOptions{TailLines: runtime.AllLines}, &logs); err != nil {
			return err
		}
		if st.ExitCode != 0 || logs.String() != "ok\n" {
			return fmt.Errorf("client exited %d with log %q", st.ExitCode, logs.String())
		}
		return nil
	})

	// The webapp's requests show in its log; SIGTERM makes it exit 0.
	logs.Reset()
	if err := rt.Logs(ctx, webID, runtime.LogOptions{TailLines: runtime.AllLines}, &logs); err != nil {
		t.Fatal(err)
	}
	if !contains(logs.String(), "GET / 200", "GET /healthz 200") {
		t.Fatalf("webapp log = %q, want a line per request", logs.String())
	}
	if err := rt.StopContainer(ctx, webID, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	st, err := rt.ContainerStatus(ctx, webID)
	if err != nil || st.ExitCode != 0 {
		t.Fatalf("webapp after SIGTERM: %+v, %v", st, err)
	}
	logs.Reset()
	rt.Logs(ctx, webID, runtime.LogOptions{TailLines: 1}, &logs)
	if logs.String() != "shutting down\n" {
		t.Fatalf("webapp's last log line = %q, want shutting down", logs.String())
	}
}

func testLimitsAndOOM(t *testing.T, h *harness, testee, _ []byte) {
	ctx := ctxFor(t)
	rt := h.New(t, "limits-1")
	importImage(t, rt, testee)
	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u-lim", Namespace: "default", Name: "lim"})
	if err != nil {
		t.Fatal(err)
	}
	limited := run(t, rt, sb.ID, runtime.ContainerConfig{
		Name: "limited", Image: runtimetest.TesteeImage, Args: []string{"wait"},
		CPUMillis: 250, MemoryBytes: 64 << 20,
	})
	c, err := rt.(*containerd.Runtime).Client().LoadContainer(rt.(*containerd.Runtime).Context(ctx), limited)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := c.Spec(rt.(*containerd.Runtime).Context(ctx))
	if err != nil {
		t.Fatal(err)
	}
	res := spec.Linux.Resources
	if *res.CPU.Quota != 25000 || *res.CPU.Period != 100000 || *res.Memory.Limit != 64<<20 {
		t.Fatalf("spec resources: cpu %d/%d, memory %d", *res.CPU.Quota, *res.CPU.Period, *res.Memory.Limit)
	}
	// The kernel enforces them: read the container's cgroups (v1 here).
	for file, want := range map[string]string{
		filepath.Join("/sys/fs/cgroup/cpu", spec.Linux.CgroupsPath, "cpu.cfs_quota_us"):         "25000",
		filepath.Join("/sys/fs/cgroup/memory", spec.Linux.CgroupsPath, "memory.limit_in_bytes"): fmt.Sprint(64 << 20),
	} {
		b, err := os.ReadFile(file)
		if errors.Is(err, os.ErrNotExist) {
			t.Logf("%s: not on this machine (cgroup v2?)", file)
			continue
		}
		if err != nil || strings.TrimSpace(string(b)) != want {
			t.Fatalf("%s = %q, %v; want %s", file, b, err, want)
		}
	}

	hog := run(t, rt, sb.ID, runtime.ContainerConfig{
		Name: "hog", Image: runtimetest.TesteeImage, Args: []string{"alloc", "256", "wait"},
		MemoryBytes: 32 << 20,
	})
	var st runtime.ContainerStatus
	poll(t, "memory hog to be killed", func() error {
		st, err = rt.ContainerStatus(ctx, hog)
		if err != nil || st.State != runtime.ContainerExited {
			return fmt.Errorf("%+v, %v", st, err)
		}
		return nil
	})
	if st.Reason != runtime.ReasonOOMKilled || st.ExitCode != 137 {
		t.Fatalf("memory hog: %+v, want OOMKilled with 137", st)
	}
	// The exit is recorded: it survives the task's deletion.
	if again, err := rt.ContainerStatus(ctx, hog); err != nil || again.Reason != runtime.ReasonOOMKilled || !again.FinishedAt.Equal(st.FinishedAt) {
		t.Fatalf("second status: %+v, %v", again, err)
	}
}

// basicAuth lets only user:pass through to next.
func basicAuth(user, pass string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func testPull(t *testing.T, h *harness, testee, _ []byte) {
	ctx := ctxFor(t)
	// One in-memory registry behind two servers: an open one to push to,
	// one that wants a password to pull from.
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	open := httptest.NewServer(reg)
	t.Cleanup(open.Close)
	locked := httptest.NewServer(basicAuth("alice", "secret", reg))
	t.Cleanup(locked.Close)
	openHost := strings.TrimPrefix(open.URL, "http://")
	ref := strings.TrimPrefix(locked.URL, "http://") + "/shoal/testee:v1"

	// Push with containerd's own pusher from another peer's runtime.
	pusher := h.New(t, "pull-pusher")
	imported, err := pusher.ImportImage(ctx, bytes.NewReader(testee))
	if err != nil {
		t.Fatal(err)
	}
	prt := pusher.(*containerd.Runtime)
	pctx := prt.Context(ctx)
	img, err := prt.Client().GetImage(pctx, runtimetest.TesteeImage)
	if err != nil {
		t.Fatal(err)
	}
	resolver := docker.NewResolver(docker.ResolverOptions{Hosts: dockerconfig.ConfigureHosts(ctx, dockerconfig.HostOptions{DefaultScheme: "http"})})
	if err := prt.Client().Push(pctx, openHost+"/shoal/testee:v1", img.Target(), client.WithResolver(resolver)); err != nil {
		t.Fatalf("push to the test registry: %v", err)
	}

	rt := h.New(t, "pull-1")
	_, err = rt.PullImage(ctx, ref, runtime.PullOptions{PlainHTTP: true})
	if !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Fatalf("pull without credentials: %v, want ErrUnauthenticated", err)
	}
	_, err = rt.PullImage(ctx, strings.TrimPrefix(locked.URL, "http://")+"/shoal/absent:v1", runtime.PullOptions{PlainHTTP: true, Username: "alice", Password: "secret"})
	if !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("pull of an absent image: %v, want ErrNotFound", err)
	}
	pulled, err := rt.PullImage(ctx, ref, runtime.PullOptions{PlainHTTP: true, Username: "alice", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if pulled.Name != ref || pulled.Digest != imported[0].Digest || pulled.Size == 0 {
		t.Fatalf("pulled %+v, want %s at %s", pulled, ref, imported[0].Digest)
	}
	// It runs.
	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u-pull", Namespace: "default", Name: "pulled"})
	if err != nil {
		t.Fatal(err)
	}
	id := run(t, rt, sb.ID, runtime.ContainerConfig{Name: "c", Image: ref, Args: []string{"exit", "7"}})
	poll(t, "pulled image's container to exit 7", func() error {
		st, err := rt.ContainerStatus(ctx, id)
		if err != nil || st.State != runtime.ContainerExited || st.ExitCode != 7 {
			return fmt.Errorf("%+v, %v", st, err)
		}
		return nil
	})

	closed := httptest.NewServer(http.NotFoundHandler())
	closedHost := strings.TrimPrefix(closed.URL, "http://")
	closed.Close()
	_, err = rt.PullImage(ctx, closedHost+"/x/y:z", runtime.PullOptions{PlainHTTP: true})
	if !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("pull from a closed port: %v, want ErrUnavailable", err)
	}
}

func testRemoveReleasesNetwork(t *testing.T, h *harness, _, _ []byte) {
	ctx := ctxFor(t)
	rt := h.New(t, "release-1")
	// host-local keeps a file per address it handed out.
	lease := func(ip string) string {
		return filepath.Join(h.stateDir("release-1"), "ipam", "shoal-release-1", ip)
	}
	exists := func(path string) bool { _, err := os.Stat(path); return err == nil }

	first, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u1", Namespace: "default", Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if !exists(first.NetNSPath) || !exists(lease(first.IP)) {
		t.Fatalf("ready sandbox: netns %s exists %v, lease of %s exists %v", first.NetNSPath, exists(first.NetNSPath), first.IP, exists(lease(first.IP)))
	}
	if err := rt.RemoveSandbox(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if exists(first.NetNSPath) || exists(lease(first.IP)) {
		t.Fatalf("after RemoveSandbox: netns exists %v, lease exists %v", exists(first.NetNSPath), exists(lease(first.IP)))
	}

	// Stopping releases the address but keeps the sandbox until removed.
	second, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u2", Namespace: "default", Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StopSandbox(ctx, second.ID); err != nil {
		t.Fatal(err)
	}
	if exists(lease(second.IP)) {
		t.Fatalf("lease of %s after StopSandbox", second.IP)
	}
	if err := rt.RemoveSandbox(ctx, second.ID); err != nil {
		t.Fatal(err)
	}
	if exists(second.NetNSPath) {
		t.Fatalf("netns %s after removing a stopped sandbox", second.NetNSPath)
	}
}
