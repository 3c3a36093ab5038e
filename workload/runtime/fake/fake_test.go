package fake_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
	"github.com/shoalproject/shoal/workload/runtime/fake"
	"github.com/shoalproject/shoal/workload/runtime/runtimetest"
)

func TestConformance(t *testing.T) {
	// One fake per owner, kept for the test, so a "restarted agent" sees
	// the same state; fakes of different owners are separate, as containerd
	// namespaces are.
	var mu sync.Mutex
	byOwner := map[string]*fake.Runtime{}
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T, owner string) runtime.Runtime {
			mu.Lock()
			defer mu.Unlock()
			if rt, ok := byOwner[owner]; ok {
				return rt
			}
			rt, err := fake.New(fake.Config{Behave: runtimetest.FakeBehaviour})
			if err != nil {
				t.Fatal(err)
			}
			byOwner[owner] = rt
			return rt
		},
		ImageTar: runtimetest.StubImageTar(runtimetest.TesteeImage),
	})
}

// clock is a manual clock for the fake's timestamps.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestExitAndOOMKillAreControlledByTheTest(t *testing.T) {
	ctx := context.Background()
	clk := &clock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	rt, err := fake.New(fake.Config{Now: clk.Now, PodCIDR: "10.9.8.0/30"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.PullImage(ctx, "web", runtime.PullOptions{}); err != nil {
		t.Fatal(err)
	}
	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u1", Namespace: "ns", Name: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if sb.IP != "10.9.8.2" || !sb.CreatedAt.Equal(clk.now) {
		t.Fatalf("sandbox %+v: want 10.9.8.2 created at the fake clock's now", sb)
	}
	// A /30 has one address for pods after the gateway.
	if _, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u2", Namespace: "ns", Name: "q"}); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("second sandbox in a full /30: %v, want ErrUnavailable", err)
	}

	id, err := rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Name: "c", Image: "docker.io/library/web:latest"})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	clk.now = clk.now.Add(time.Minute)
	if err := rt.WriteLog(id, "hi\n"); err != nil {
		t.Fatal(err)
	}
	if err := rt.Exit(id, 2); err != nil {
		t.Fatal(err)
	}
	st, _ := rt.ContainerStatus(ctx, id)
	if st.State != runtime.ContainerExited || st.ExitCode != 2 || st.Reason != runtime.ReasonError || !st.FinishedAt.Equal(clk.now) {
		t.Fatalf("after Exit(2): %+v", st)
	}
	if err := rt.Exit(id, 0); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("Exit of an exited container: %v, want ErrConflict", err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := rt.OOMKill(id); err != nil {
		t.Fatal(err)
	}
	st, _ = rt.ContainerStatus(ctx, id)
	if st.ExitCode != 137 || st.Reason != runtime.ReasonOOMKilled {
		t.Fatalf("after OOMKill: %+v", st)
	}
	var prev stringWriter
	if err := rt.Logs(ctx, id, runtime.LogOptions{Previous: true, TailLines: runtime.AllLines}, &prev); err != nil || prev.s != "hi\n" {
		t.Fatalf("previous log = %q, %v", prev.s, err)
	}

	// Stopping the sandbox gives its address back.
	if err := rt.RemoveSandbox(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	sb2, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u3", Namespace: "ns", Name: "r"})
	if err != nil || sb2.IP != "10.9.8.2" {
		t.Fatalf("sandbox after release = %+v, %v", sb2, err)
	}
}

func TestPullOutcomeIsConfigurable(t *testing.T) {
	ctx := context.Background()
	rt, err := fake.New(fake.Config{Pull: func(ref string, opts runtime.PullOptions) error {
		if opts.Username != "alice" {
			return errdefs.ErrUnauthenticated
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.PullImage(ctx, "registry.example/app:v1", runtime.PullOptions{}); !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Fatalf("pull without credentials: %v", err)
	}
	img, err := rt.PullImage(ctx, "registry.example/app:v1", runtime.PullOptions{Username: "alice"})
	if err != nil || img.Name != "registry.example/app:v1" {
		t.Fatalf("pull = %+v, %v", img, err)
	}
	if got, err := rt.ImageStatus(ctx, "registry.example/app:v1"); err != nil || got != img {
		t.Fatalf("ImageStatus = %+v, %v", got, err)
	}
}

type stringWriter struct{ s string }

func (w *stringWriter) Write(p []byte) (int, error) { w.s += string(p); return len(p), nil }
