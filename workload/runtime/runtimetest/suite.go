package runtimetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
)

// Harness is what the suite needs from an implementation.
type Harness struct {
	// New returns a runtime owned by owner (a peer name, also fit for a
	// containerd namespace: letters, digits and dashes). Runtimes of
	// different owners must not see each other's objects; a second call
	// with the same owner must see the first one's objects, as an agent does
	// after a restart. New registers its own cleanup with t.
	New func(t *testing.T, owner string) runtime.Runtime
	// ImageTar is an archive of TesteeImage for ImportImage.
	ImageTar []byte
}

// Run runs the conformance suite as subtests of t, in parallel.
func Run(t *testing.T, h Harness) {
	s := &suite{h: h}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"SandboxLifecycle", s.sandboxLifecycle},
		{"ContainerLifecycle", s.containerLifecycle},
		{"ExitCodesAndRestart", s.exitCodesAndRestart},
		{"StopHonoursSIGTERMThenKills", s.gracefulStop},
		{"Logs", s.logs},
		{"LogsFollow", s.logsFollow},
		{"Exec", s.exec},
		{"PodEnvironment", s.podEnvironment},
		{"SecurityIdentityAndReadOnlyRoot", s.securityIdentity},
		{"Images", s.images},
		{"Errors", s.errors},
		{"OrphansAfterRestart", s.orphans},
		{"OwnersAreIsolated", s.isolation},
		{"HostNetwork", s.hostNetwork},
		{"PortMappings", s.portMappings},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t)
		})
	}
}

type suite struct {
	h Harness
}

// ownerFor names the n-th owner of the test tc; names differ across the
// suite's tests so parallel tests never share a runtime.
func (s *suite) ownerFor(t *testing.T, n int) string {
	return fmt.Sprintf("%s-%d", strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(lastPart(t.Name()))), n)
}

func lastPart(name string) string {
	if i := strings.LastIndex(name, "/"); i >= 0 {
		return name[i+1:]
	}
	return name
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newRuntime makes runtime n of this test, with the testee image imported.
func (s *suite) newRuntime(t *testing.T, n int) runtime.Runtime {
	t.Helper()
	rt := s.h.New(t, s.ownerFor(t, n))
	if _, err := rt.ImportImage(testCtx(t), bytes.NewReader(s.h.ImageTar)); err != nil {
		t.Fatalf("import testee image: %v", err)
	}
	return rt
}

func podConfig(name string) runtime.SandboxConfig {
	return runtime.SandboxConfig{PodUID: "uid-" + name, Namespace: "default", Name: name}
}

func runSandbox(t *testing.T, rt runtime.Runtime, name string) runtime.Sandbox {
	t.Helper()
	sb, err := rt.RunSandbox(testCtx(t), podConfig(name))
	if err != nil {
		t.Fatalf("RunSandbox(%s): %v", name, err)
	}
	t.Cleanup(func() { rt.RemoveSandbox(context.Background(), sb.ID) })
	return sb
}

// script is a container running testee with args.
func script(name string, args ...string) runtime.ContainerConfig {
	return runtime.ContainerConfig{Name: name, Image: TesteeImage, Args: args}
}

func create(t *testing.T, rt runtime.Runtime, sandboxID string, cfg runtime.ContainerConfig) string {
	t.Helper()
	id, err := rt.CreateContainer(testCtx(t), sandboxID, cfg)
	if err != nil {
		t.Fatalf("CreateContainer(%s): %v", cfg.Name, err)
	}
	return id
}

func start(t *testing.T, rt runtime.Runtime, id string) {
	t.Helper()
	if err := rt.StartContainer(testCtx(t), id); err != nil {
		t.Fatalf("StartContainer(%s): %v", id, err)
	}
}

// eventually polls cond until it holds or 30 seconds pass.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, detail)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func status(t *testing.T, rt runtime.Runtime, id string) runtime.ContainerStatus {
	t.Helper()
	st, err := rt.ContainerStatus(testCtx(t), id)
	if err != nil {
		t.Fatalf("ContainerStatus(%s): %v", id, err)
	}
	return st
}

func waitExited(t *testing.T, rt runtime.Runtime, id string) runtime.ContainerStatus {
	t.Helper()
	var st runtime.ContainerStatus
	eventually(t, "container "+id+" to exit", func() (bool, string) {
		st = status(t, rt, id)
		return st.State == runtime.ContainerExited, fmt.Sprintf("%+v", st)
	})
	return st
}

func logs(t *testing.T, rt runtime.Runtime, id string, opts runtime.LogOptions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := rt.Logs(testCtx(t), id, opts, &buf); err != nil {
		t.Fatalf("Logs(%s, %+v): %v", id, opts, err)
	}
	return buf.String()
}

// waitLog polls the current log until it contains want.
func waitLog(t *testing.T, rt runtime.Runtime, id, want string) {
	t.Helper()
	eventually(t, fmt.Sprintf("log of %s to contain %q", id, want), func() (bool, string) {
		got := logs(t, rt, id, runtime.LogOptions{TailLines: runtime.AllLines})
		return strings.Contains(got, want), fmt.Sprintf("log %q", got)
	})
}

func wantErr(t *testing.T, what string, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: got error %v, want %v", what, err, sentinel)
	}
}

func (s *suite) sandboxLifecycle(t *testing.T) {
	ctx := testCtx(t)
	rt := s.newRuntime(t, 1)

	_, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Namespace: "default", Name: "no-uid"})
	wantErr(t, "RunSandbox without PodUID", err, errdefs.ErrInvalid)
	bad := podConfig("reserved")
	bad.Labels = map[string]string{runtime.LabelPodUID: "x"}
	_, err = rt.RunSandbox(ctx, bad)
	wantErr(t, "RunSandbox with a reserved label", err, errdefs.ErrInvalid)

	cfg := podConfig("web-0")
	cfg.Labels = map[string]string{"app": "web"}
	sb, err := rt.RunSandbox(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sb.ID == "" || sb.PodUID != "uid-web-0" || sb.Namespace != "default" || sb.Name != "web-0" ||
		sb.Hostname != "web-0" || sb.State != runtime.SandboxReady || sb.Labels["app"] != "web" || sb.CreatedAt.IsZero() {
		t.Fatalf("RunSandbox returned %+v", sb)
	}
	ip, err := netip.ParseAddr(sb.IP)
	if err != nil {
		t.Fatalf("sandbox IP %q: %v", sb.IP, err)
	}
	other, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "uid-2", Namespace: "default", Name: "web-1", Hostname: "custom"})
	if err != nil {
		t.Fatal(err)
	}
	if other.IP == sb.IP || other.Hostname != "custom" || other.ID == sb.ID {
		t.Fatalf("second sandbox %+v clashes with first %+v", other, sb)
	}
	if o, _ := netip.ParseAddr(other.IP); !o.IsValid() || o.Is4() != ip.Is4() {
		t.Fatalf("second sandbox IP %q", other.IP)
	}

	got, err := rt.SandboxStatus(ctx, sb.ID)
	if err != nil || got.IP != sb.IP || got.PodUID != sb.PodUID || got.Labels["app"] != "web" {
		t.Fatalf("SandboxStatus = %+v, %v; want %+v", got, err, sb)
	}
	list, err := rt.ListSandboxes(ctx)
	if err != nil || len(list) != 2 || list[0].ID > list[1].ID {
		t.Fatalf("ListSandboxes = %+v, %v; want both, ordered by ID", list, err)
	}

	ctr := create(t, rt, sb.ID, script("app", "wait"))
	start(t, rt, ctr)
	for i := 0; i < 2; i++ {
		if err := rt.StopSandbox(ctx, sb.ID); err != nil {
			t.Fatalf("StopSandbox #%d: %v", i+1, err)
		}
	}
	if st := status(t, rt, ctr); st.State != runtime.ContainerExited {
		t.Fatalf("container after StopSandbox: %+v", st)
	}
	got, err = rt.SandboxStatus(ctx, sb.ID)
	if err != nil || got.State != runtime.SandboxNotReady || got.IP != "" {
		t.Fatalf("stopped sandbox = %+v, %v; want notready without IP", got, err)
	}
	_, err = rt.CreateContainer(ctx, sb.ID, script("late", "wait"))
	wantErr(t, "CreateContainer in a stopped sandbox", err, errdefs.ErrConflict)

	for i := 0; i < 2; i++ {
		if err := rt.RemoveSandbox(ctx, sb.ID); err != nil {
			t.Fatalf("RemoveSandbox #%d: %v", i+1, err)
		}
	}
	_, err = rt.SandboxStatus(ctx, sb.ID)
	wantErr(t, "SandboxStatus after remove", err, errdefs.ErrNotFound)
	_, err = rt.ContainerStatus(ctx, ctr)
	wantErr(t, "ContainerStatus of a removed sandbox's container", err, errdefs.ErrNotFound)
	if err := rt.StopSandbox(ctx, "no-such-sandbox"); err != nil {
		t.Fatalf("StopSandbox(unknown) = %v, want nil", err)
	}
	if err := rt.RemoveSandbox(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if list, err := rt.ListSandboxes(ctx); err != nil || len(list) != 0 {
		t.Fatalf("ListSandboxes after removing all = %+v, %v", list, err)
	}
}

func (s *suite) containerLifecycle(t *testing.T) {
	ctx := testCtx(t)
	rt := s.newRuntime(t, 1)
	sb := runSandbox(t, rt, "life")

	cfg := script("app", "echo", "hello", "wait")
	cfg.Labels = map[string]string{"tier": "front"}
	id := create(t, rt, sb.ID, cfg)
	st := status(t, rt, id)
	if st.ID != id || st.Name != "app" || st.SandboxID != sb.ID || st.Image != TesteeImage ||
		st.State != runtime.ContainerCreated || st.CreatedAt.IsZero() || !st.StartedAt.IsZero() || st.Labels["tier"] != "front" {
		t.Fatalf("created container: %+v", st)
	}
	if out := logs(t, rt, id, runtime.LogOptions{TailLines: runtime.AllLines}); out != "" {
		t.Fatalf("log of a container never started = %q", out)
	}

	start(t, rt, id)
	st = status(t, rt, id)
	if st.State != runtime.ContainerRunning || st.StartedAt.IsZero() {
		t.Fatalf("started container: %+v", st)
	}
	wantErr(t, "StartContainer of a running container", rt.StartContainer(ctx, id), errdefs.ErrConflict)
	waitLog(t, rt, id, "hello\n")

	list, err := rt.ListContainers(ctx, runtime.ContainerFilter{SandboxID: sb.ID})
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].State != runtime.ContainerRunning {
		t.Fatalf("ListContainers = %+v, %v", list, err)
	}

	if err := rt.StopContainer(ctx, id, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	st = status(t, rt, id)
	if st.State != runtime.ContainerExited || st.ExitCode != 0 || st.Reason != runtime.ReasonCompleted ||
		st.FinishedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
		t.Fatalf("stopped container: %+v", st)
	}
	if err := rt.StopContainer(ctx, id, time.Second); err != nil {
		t.Fatalf("StopContainer of an exited container = %v, want nil", err)
	}
	for i := 0; i < 2; i++ {
		if err := rt.RemoveContainer(ctx, id); err != nil {
			t.Fatalf("RemoveContainer #%d: %v", i+1, err)
		}
	}
	_, err = rt.ContainerStatus(ctx, id)
	wantErr(t, "ContainerStatus after remove", err, errdefs.ErrNotFound)

	// A running container can be removed at once, and its name reused.
	id = create(t, rt, sb.ID, script("app", "wait"))
	start(t, rt, id)
	if err := rt.RemoveContainer(ctx, id); err != nil {
		t.Fatalf("RemoveContainer of a running container: %v", err)
	}
	if list, err := rt.ListContainers(ctx, runtime.ContainerFilter{}); err != nil || len(list) != 0 {
		t.Fatalf("ListContainers after remove = %+v, %v", list, err)
	}
}

func (s *suite) exitCodesAndRestart(t *testing.T) {
	rt := s.newRuntime(t, 1)
	sb := runSandbox(t, rt, "exits")

	fails := create(t, rt, sb.ID, script("fails", "echo", "bye", "exit", "3"))
	ok := create(t, rt, sb.ID, runtime.ContainerConfig{Name: "ok", Image: TesteeImage, Command: []string{Testee, "echo", "fine"}})
	start(t, rt, fails)
	start(t, rt, ok)
	st := waitExited(t, rt, fails)
	if st.ExitCode != 3 || st.Reason != runtime.ReasonError || st.FinishedAt.IsZero() {
		t.Fatalf("container exiting 3: %+v", st)
	}
	st = waitExited(t, rt, ok)
	if st.ExitCode != 0 || st.Reason != runtime.ReasonCompleted {
		t.Fatalf("container exiting 0: %+v", st)
	}
	if got := logs(t, rt, ok, runtime.LogOptions{TailLines: runtime.AllLines}); got != "fine\n" {
		t.Fatalf("log with Command = %q, want %q", got, "fine\n")
	}

	// An exited container starts again in place.
	start(t, rt, fails)
	st = waitExited(t, rt, fails)
	if st.ExitCode != 3 {
		t.Fatalf("restarted container: %+v", st)
	}
	if got := logs(t, rt, fails, runtime.LogOptions{TailLines: runtime.AllLines}); got != "bye\n" {
		t.Fatalf("log after restart = %q, want only the last start's output", got)
	}
}

func (s *suite) gracefulStop(t *testing.T) {
	ctx := testCtx(t)
	rt := s.newRuntime(t, 1)
	sb := runSandbox(t, rt, "stop")

	polite := create(t, rt, sb.ID, script("polite", "echo", "up", "wait"))
	stubborn := create(t, rt, sb.ID, script("stubborn", "ignore-term", "echo", "up", "wait"))
	start(t, rt, polite)
	start(t, rt, stubborn)
	waitLog(t, rt, polite, "up\n")
	waitLog(t, rt, stubborn, "up\n") // printed after it began to ignore SIGTERM

	const grace = 20 * time.Second
	began := time.Now()
	if err := rt.StopContainer(ctx, polite, grace); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > grace/2 {
		t.Fatalf("stopping a container that honours SIGTERM took %v", took)
	}
	st := status(t, rt, polite)
	if st.ExitCode != 0 || st.Reason != runtime.ReasonCompleted {
		t.Fatalf("container that exited on SIGTERM: %+v", st)
	}
	if got := logs(t, rt, polite, runtime.LogOptions{TailLines: runtime.AllLines}); !strings.HasSuffix(got, "terminated\n") {
		t.Fatalf("log after SIGTERM = %q, want the handler's line", got)
	}

	if err := rt.StopContainer(ctx, stubborn, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	st = status(t, rt, stubborn)
	if st.State != runtime.ContainerExited || st.ExitCode != 137 || st.Reason != runtime.ReasonError {
		t.Fatalf("container that ignored SIGTERM: %+v, want killed (137)", st)
	}
}

func (s *suite) logs(t *testing.T) {
	ctx := testCtx(t)
	rt := s.newRuntime(t, 1)
	sb := runSandbox(t, rt, "logs")

	// Both streams go to the log (their relative order is not exact). The
	// container keeps running meanwhile: containerd 1.6's shim can lose the
	// last stderr line of a process that exits at once (seen in 2 of about
	// 10 runs), which is containerd's to fix, not what this test is about.
	both := create(t, rt, sb.ID, script("both", "echo", "to stdout", "stderr", "to stderr", "wait"))
	start(t, rt, both)
	waitLog(t, rt, both, "to stdout\n")
	waitLog(t, rt, both, "to stderr\n")
	if err := rt.StopContainer(ctx, both, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	id := create(t, rt, sb.ID, script("app", "lines", "5", "wait"))
	start(t, rt, id)
	const all = "line 1\nline 2\nline 3\nline 4\nline 5\n"
	waitLog(t, rt, id, "line 5\n")
	if got := logs(t, rt, id, runtime.LogOptions{TailLines: runtime.AllLines}); got != all {
		t.Fatalf("whole log = %q, want %q", got, all)
	}
	if got := logs(t, rt, id, runtime.LogOptions{TailLines: 2}); got != "line 4\nline 5\n" {
		t.Fatalf("tail 2 = %q", got)
	}
	if got := logs(t, rt, id, runtime.LogOptions{TailLines: 100}); got != all {
		t.Fatalf("tail 100 = %q, want all", got)
	}
	if got := logs(t, rt, id, runtime.LogOptions{TailLines: 0}); got != "" {
		t.Fatalf("tail 0 = %q, want nothing", got)
	}
	err := rt.Logs(ctx, id, runtime.LogOptions{Previous: true, TailLines: runtime.AllLines}, io.Discard)
	wantErr(t, "previous log before a restart", err, errdefs.ErrNotFound)

	if err := rt.StopContainer(ctx, id, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	start(t, rt, id)
	waitLog(t, rt, id, "line 5\n")
	prev := logs(t, rt, id, runtime.LogOptions{Previous: true, TailLines: runtime.AllLines})
	if prev != all+"terminated\n" {
		t.Fatalf("previous log = %q, want the first start's %q", prev, all+"terminated\n")
	}
	if got := logs(t, rt, id, runtime.LogOptions{Previous: true, TailLines: 1}); got != "terminated\n" {
		t.Fatalf("previous tail 1 = %q", got)
	}
	if got := logs(t, rt, id, runtime.LogOptions{TailLines: runtime.AllLines}); got != all {
		t.Fatalf("log after restart = %q, want %q", got, all)
	}
}

// lockedBuffer is a buffer that Logs writes into while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (s *suite) logsFollow(t *testing.T) {
	ctx := testCtx(t)
	rt := s.newRuntime(t, 1)
	sb := runSandbox(t, rt, "follow")

	id := create(t, rt, sb.ID, script("app", "lines", "3", "wait"))
	start(t, rt, id)
	waitLog(t, rt, id, "line 3\n")

	// Follow until the container exits: Logs returns nil with all output.
	var out lockedBuffer
	done := make(chan error, 1)
	go func() { done <- rt.Logs(ctx, id, runtime.LogOptions{Follow: true, TailLines: 1}, &out) }()
	eventually(t, "followed log to start with the tail", func() (bool, string) {
		return out.String() == "line 3\n", fmt.Sprintf("%q", out.String())
	})
	if err := rt.StopContainer(ctx, id, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Logs(Follow) after exit = %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Logs(Follow) did not return after the container exited")
	}
	if got := out.String(); got != "line 3\nterminated\n" {
		t.Fatalf("followed log = %q, want the tail then the SIGTERM line", got)
	}

	// Follow until ctx ends: Logs returns ctx's error.
	start(t, rt, id)
	waitLog(t, rt, id, "line 3\n")
	fctx, cancel := context.WithCancel(ctx)
	go func() {
		done <- rt.Logs(fctx, id, runtime.LogOptions{Follow: true, TailLines: runtime.AllLines}, io.Discard)
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Logs(Follow) after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Logs(Follow) did not return after ctx ended")
	}

	// Following an exited container returns at once.
	if err := rt.StopContainer(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	if got := logs(t, rt, id, runtime.LogOptions{Follow: true, TailLines: runtime.AllLines}); got != "line 1\nline 2\nline 3\n" {
		t.Fatalf("followed log of an exited container = %q", got)
	}
}

func (s *suite) exec(t *testing.T) {
	ctx := testCtx(t)
	rt := s.newRuntime(t, 1)
	sb := runSandbox(t, rt, "exec")

	cfg := script("app", "wait")
	cfg.Env = []string{"GREETING=hi there", "GREETING=hello"}
	id := create(t, rt, sb.ID, cfg)
	_, err := rt.Exec(ctx, id, runtime.ExecConfig{Cmd: []string{Testee, "echo", "x"}})
	wantErr(t, "Exec in a created container", err, errdefs.ErrConflict)
	start(t, rt, id)

	var stdout, stderr bytes.Buffer
	code, err := rt.Exec(ctx, id, runtime.ExecConfig{
		Cmd:    []string{Testee, "echo", "out", "stderr", "err", "env", "GREETING", "exit", "4"},
		Stdout: &stdout, Stderr: &stderr,
	})
	if err != nil || code != 4 || stdout.String() != "out\nhello\n" || stderr.String() != "err\n" {
		t.Fatalf("Exec = %d, %v, stdout %q, stderr %q; want 4, out+hello, err", code, err, stdout.String(), stderr.String())
	}

	stdout.Reset()
	code, err = rt.Exec(ctx, id, runtime.ExecConfig{
		Cmd:   []string{Testee, "cat"},
		Stdin: strings.NewReader("from stdin\n"), Stdout: &stdout,
	})
	if err != nil || code != 0 || stdout.String() != "from stdin\n" {
		t.Fatalf("Exec cat = %d, %v, %q", code, err, stdout.String())
	}

	// No streams at all.
	if code, err := rt.Exec(ctx, id, runtime.ExecConfig{Cmd: []string{Testee, "echo", "dropped"}}); err != nil || code != 0 {
		t.Fatalf("Exec without streams = %d, %v", code, err)
	}
	_, err = rt.Exec(ctx, id, runtime.ExecConfig{})
	wantErr(t, "Exec without Cmd", err, errdefs.ErrInvalid)
	_, err = rt.Exec(ctx, "no-such-container", runtime.ExecConfig{Cmd: []string{Testee}})
	wantErr(t, "Exec in an unknown container", err, errdefs.ErrNotFound)

	if err := rt.StopContainer(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	_, err = rt.Exec(ctx, id, runtime.ExecConfig{Cmd: []string{Testee, "echo", "x"}})
	wantErr(t, "Exec in an exited container", err, errdefs.ErrConflict)
}

func (s *suite) podEnvironment(t *testing.T) {
	ctx := testCtx(t)
	rt := s.newRuntime(t, 1)
	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "uid-env", Namespace: "default", Name: "env-pod", Hostname: "env-host"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.RemoveSandbox(context.Background(), sb.ID) })

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.txt"), []byte("mounted content\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := script("app", "wait")
	cfg.Mounts = []runtime.Mount{{HostPath: dir, ContainerPath: "/config", ReadOnly: true}}
	id := create(t, rt, sb.ID, cfg)
	start(t, rt, id)

	run := func(args ...string) string { t.Helper(); return execScript(t, rt, id, args...) }
	if got := run("hostname"); got != "env-host\n" {
		t.Fatalf("hostname in the container = %q, want env-host", got)
	}
	if got := run("cat-file", "/etc/hostname"); got != "env-host\n" {
		t.Fatalf("/etc/hostname = %q", got)
	}
	hosts := run("cat-file", "/etc/hosts")
	found := false
	for _, line := range strings.Split(hosts, "\n") {
		f := strings.Fields(line)
		found = found || len(f) >= 2 && f[0] == sb.IP && f[1] == "env-host"
	}
	if !found {
		t.Fatalf("/etc/hosts has no line %q: %q", sb.IP+" env-host", hosts)
	}
	if got := run("cat-file", "/config/config.txt"); got != "mounted content\n" {
		t.Fatalf("mounted file = %q", got)
	}
}

func (s *suite) images(t *testing.T) {
	ctx := testCtx(t)
	a := s.h.New(t, s.ownerFor(t, 1))
	b := s.h.New(t, s.ownerFor(t, 2))

	imported, err := a.ImportImage(ctx, bytes.NewReader(s.h.ImageTar))
	if err != nil {
		t.Fatal(err)
	}
	if len(imported) != 1 || imported[0].Name != TesteeImage || !strings.HasPrefix(imported[0].Digest, "sha256:") {
		t.Fatalf("ImportImage = %+v, want %s", imported, TesteeImage)
	}
	img, err := a.ImageStatus(ctx, TesteeImage)
	if err != nil || img != imported[0] {
		t.Fatalf("ImageStatus = %+v, %v; want %+v", img, err, imported[0])
	}
	list, err := a.ListImages(ctx)
	if err != nil || len(list) != 1 || list[0] != img {
		t.Fatalf("ListImages = %+v, %v", list, err)
	}

	_, err = a.ImageStatus(ctx, "shoal.local/absent:v1")
	wantErr(t, "ImageStatus of an absent image", err, errdefs.ErrNotFound)
	_, err = b.ImageStatus(ctx, TesteeImage)
	wantErr(t, "ImageStatus in another owner's runtime", err, errdefs.ErrNotFound)
	wantErr(t, "ExportImage of an absent image", a.ExportImage(ctx, "shoal.local/absent:v1", io.Discard), errdefs.ErrNotFound)
	_, err = a.ImportImage(ctx, strings.NewReader("not a tar archive at all, just text that goes on for a while......"))
	wantErr(t, "ImportImage of garbage", err, errdefs.ErrInvalid)
	_, err = a.ImageStatus(ctx, "Not A Reference")
	wantErr(t, "ImageStatus of a malformed reference", err, errdefs.ErrInvalid)

	// One peer serves the image to another.
	var archive bytes.Buffer
	if err := a.ExportImage(ctx, TesteeImage, &archive); err != nil {
		t.Fatal(err)
	}
	got, err := b.ImportImage(ctx, &archive)
	if err != nil {
		t.Fatalf("import an exported image: %v", err)
	}
	if len(got) != 1 || got[0].Name != img.Name || got[0].Digest != img.Digest {
		t.Fatalf("re-imported %+v, want name and digest of %+v", got, img)
	}
	sb := runSandbox(t, b, "served")
	id := create(t, b, sb.ID, script("app", "echo", "served image runs"))
	start(t, b, id)
	if st := waitExited(t, b, id); st.ExitCode != 0 {
		t.Fatalf("container from the re-imported image: %+v", st)
	}

	for i := 0; i < 2; i++ {
		if err := a.RemoveImage(ctx, TesteeImage); err != nil {
			t.Fatalf("RemoveImage #%d: %v", i+1, err)
		}
	}
	_, err = a.ImageStatus(ctx, TesteeImage)
	wantErr(t, "ImageStatus after RemoveImage", err, errdefs.ErrNotFound)
	sa := runSandbox(t, a, "no-image")
	_, err = a.CreateContainer(ctx, sa.ID, script("app", "wait"))
	wantErr(t, "CreateContainer from an absent image", err, errdefs.ErrNotFound)
}

func (s *suite) errors(t *testing.T) {
	ctx := testCtx(t)
	rt := s.newRuntime(t, 1)
	sb := runSandbox(t, rt, "errors")
	const unknown = "no-such-container"

	_, err := rt.ContainerStatus(ctx, unknown)
	wantErr(t, "ContainerStatus(unknown)", err, errdefs.ErrNotFound)
	wantErr(t, "StartContainer(unknown)", rt.StartContainer(ctx, unknown), errdefs.ErrNotFound)
	wantErr(t, "StopContainer(unknown)", rt.StopContainer(ctx, unknown, time.Second), errdefs.ErrNotFound)
	wantErr(t, "Logs(unknown)", rt.Logs(ctx, unknown, runtime.LogOptions{}, io.Discard), errdefs.ErrNotFound)
	if err := rt.RemoveContainer(ctx, unknown); err != nil {
		t.Fatalf("RemoveContainer(unknown) = %v, want nil", err)
	}
	_, err = rt.SandboxStatus(ctx, "no-such-sandbox")
	wantErr(t, "SandboxStatus(unknown)", err, errdefs.ErrNotFound)
	_, err = rt.CreateContainer(ctx, "no-such-sandbox", script("app", "wait"))
	wantErr(t, "CreateContainer in an unknown sandbox", err, errdefs.ErrNotFound)

	for _, bad := range []runtime.ContainerConfig{
		{Image: TesteeImage},
		{Name: "no-image"},
		{Name: "bad-env", Image: TesteeImage, Env: []string{"NOEQUALS"}},
		{Name: "bad-mount", Image: TesteeImage, Mounts: []runtime.Mount{{HostPath: "relative", ContainerPath: "/x"}}},
		{Name: "bad-cpu", Image: TesteeImage, CPUMillis: -1},
		{Name: "reserved", Image: TesteeImage, Labels: map[string]string{runtime.LabelOwner: "me"}},
	} {
		_, err := rt.CreateContainer(ctx, sb.ID, bad)
		wantErr(t, fmt.Sprintf("CreateContainer(%+v)", bad), err, errdefs.ErrInvalid)
	}
	create(t, rt, sb.ID, script("app", "wait"))
	_, err = rt.CreateContainer(ctx, sb.ID, script("app", "wait"))
	wantErr(t, "CreateContainer with a taken name", err, errdefs.ErrAlreadyExists)
}

func (s *suite) orphans(t *testing.T) {
	ctx := testCtx(t)
	rt := s.newRuntime(t, 1)
	keep := runSandbox(t, rt, "keep")
	orphan := runSandbox(t, rt, "orphan")
	keepCtr := create(t, rt, keep.ID, script("app", "wait"))
	orphanCtr := create(t, rt, orphan.ID, script("app", "wait"))
	create(t, rt, orphan.ID, script("sidecar", "wait"))
	start(t, rt, keepCtr)
	start(t, rt, orphanCtr)

	// The agent restarts: a new runtime for the same owner sees everything.
	again := s.h.New(t, s.ownerFor(t, 1))
	sbs, err := again.ListSandboxes(ctx)
	if err != nil || len(sbs) != 2 {
		t.Fatalf("ListSandboxes after restart = %+v, %v; want 2", sbs, err)
	}
	byUID := map[string]runtime.Sandbox{}
	for _, sb := range sbs {
		byUID[sb.PodUID] = sb
	}
	if byUID["uid-keep"].ID != keep.ID || byUID["uid-orphan"].ID != orphan.ID || byUID["uid-keep"].IP != keep.IP ||
		byUID["uid-keep"].Name != "keep" || byUID["uid-keep"].Namespace != "default" {
		t.Fatalf("sandboxes after restart %+v, want keep %+v and orphan %+v", sbs, keep, orphan)
	}
	ctrs, err := again.ListContainers(ctx, runtime.ContainerFilter{SandboxID: orphan.ID})
	if err != nil || len(ctrs) != 2 || ctrs[0].SandboxID != orphan.ID {
		t.Fatalf("orphan's containers = %+v, %v", ctrs, err)
	}
	all, err := again.ListContainers(ctx, runtime.ContainerFilter{})
	if err != nil || len(all) != 3 {
		t.Fatalf("all containers = %+v, %v", all, err)
	}
	if st := status(t, again, keepCtr); st.State != runtime.ContainerRunning || st.Name != "app" || st.SandboxID != keep.ID {
		t.Fatalf("kept container after restart: %+v", st)
	}

	// Reaping the orphan leaves the rest alone.
	if err := again.RemoveSandbox(ctx, orphan.ID); err != nil {
		t.Fatal(err)
	}
	if all, err := again.ListContainers(ctx, runtime.ContainerFilter{}); err != nil || len(all) != 1 || all[0].ID != keepCtr {
		t.Fatalf("containers after reaping the orphan = %+v, %v", all, err)
	}
	if st := status(t, rt, keepCtr); st.State != runtime.ContainerRunning {
		t.Fatalf("kept container after reaping: %+v", st)
	}
}

func (s *suite) isolation(t *testing.T) {
	ctx := testCtx(t)
	a := s.newRuntime(t, 1)
	b := s.newRuntime(t, 2)
	sa := runSandbox(t, a, "mine")
	ca := create(t, a, sa.ID, script("app", "wait"))
	start(t, a, ca)
	sb := runSandbox(t, b, "theirs")

	if list, err := b.ListSandboxes(ctx); err != nil || len(list) != 1 || list[0].ID != sb.ID {
		t.Fatalf("b's sandboxes = %+v, %v; want only its own", list, err)
	}
	if list, err := b.ListContainers(ctx, runtime.ContainerFilter{}); err != nil || len(list) != 0 {
		t.Fatalf("b's containers = %+v, %v; want none", list, err)
	}
	_, err := b.ContainerStatus(ctx, ca)
	wantErr(t, "ContainerStatus of another owner's container", err, errdefs.ErrNotFound)
	_, err = b.SandboxStatus(ctx, sa.ID)
	wantErr(t, "SandboxStatus of another owner's sandbox", err, errdefs.ErrNotFound)
	if err := b.RemoveContainer(ctx, ca); err != nil {
		t.Fatal(err)
	}
	if err := b.RemoveSandbox(ctx, sa.ID); err != nil {
		t.Fatal(err)
	}
	if st := status(t, a, ca); st.State != runtime.ContainerRunning {
		t.Fatalf("a's container after b removed its id: %+v", st)
	}
	if _, err := a.SandboxStatus(ctx, sa.ID); err != nil {
		t.Fatalf("a's sandbox after b removed its id: %v", err)
	}
}

func (s *suite) securityIdentity(t *testing.T) {
	ctx := testCtx(t)
	rt := s.newRuntime(t, 1)
	sb := runSandbox(t, rt, "security")
	id := func(v int64) *int64 { return &v }

	// Each container prints who it runs as and whether / takes a write; a
	// mounted directory stays writable under a read-only root.
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		sec  runtime.Security
		want string
	}{
		{"image-user", runtime.Security{}, "uid=0 gid=0 groups=0\ntry-write-file: ok\ntry-write-file: ok\n"},
		{"user-and-groups", runtime.Security{RunAsUser: id(1000), RunAsGroup: id(2000), SupplementalGroups: []int64{3000, 3001}},
			"uid=1000 gid=2000 groups=2000,3000,3001\n"},
		{"group-only", runtime.Security{RunAsGroup: id(2000)}, "uid=0 gid=2000 groups=2000\n"},
		{"read-only-root", runtime.Security{ReadOnlyRootFS: true},
			"uid=0 gid=0 groups=0\ntry-write-file: open /probe: read-only file system\ntry-write-file: ok\n"},
	} {
		cfg := script(tc.name, "id")
		if tc.sec.RunAsUser == nil && tc.sec.RunAsGroup == nil {
			// Only root may write to /, and to the mount.
			cfg.Args = append(cfg.Args, "try-write-file", "/probe", "x", "try-write-file", "/data/"+tc.name, "x")
			cfg.Mounts = []runtime.Mount{{HostPath: dir, ContainerPath: "/data"}}
		}
		cfg.Security = tc.sec
		c := create(t, rt, sb.ID, cfg)
		start(t, rt, c)
		if st := waitExited(t, rt, c); st.ExitCode != 0 {
			t.Fatalf("%s: exited %+v (log %q)", tc.name, st, logs(t, rt, c, runtime.LogOptions{TailLines: runtime.AllLines}))
		}
		if got := logs(t, rt, c, runtime.LogOptions{TailLines: runtime.AllLines}); got != tc.want {
			t.Errorf("%s: log %q, want %q", tc.name, got, tc.want)
		}
	}

	for _, bad := range []runtime.Security{
		{RunAsUser: id(-1)},
		{SupplementalGroups: []int64{-5}},
		{AddCapabilities: []string{"NET ADMIN"}},
		{Seccomp: runtime.Profile{Type: "Strict"}},
		{Seccomp: runtime.Profile{Type: runtime.ProfileLocalhost}},
		{AppArmor: runtime.Profile{Type: runtime.ProfileRuntimeDefault, Localhost: "x"}},
	} {
		cfg := script("bad", "id")
		cfg.Security = bad
		_, err := rt.CreateContainer(ctx, sb.ID, cfg)
		wantErr(t, fmt.Sprintf("CreateContainer with Security %+v", bad), err, errdefs.ErrInvalid)
	}
}
