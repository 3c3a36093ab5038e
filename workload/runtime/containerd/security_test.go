package containerd_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
	"github.com/shoalproject/shoal/workload/runtime/runtimetest"
)

// runToExit runs testee with args and sec in the sandbox and returns its
// log once it exited 0.
func runToExit(t *testing.T, rt runtime.Runtime, sandboxID, name string, sec runtime.Security, args ...string) string {
	t.Helper()
	ctx := ctxFor(t)
	id := run(t, rt, sandboxID, runtime.ContainerConfig{Name: name, Image: runtimetest.TesteeImage, Args: args, Security: sec})
	var st runtime.ContainerStatus
	poll(t, name+" to exit", func() (err error) {
		st, err = rt.ContainerStatus(ctx, id)
		if err == nil && st.State != runtime.ContainerExited {
			err = fmt.Errorf("state %s", st.State)
		}
		return err
	})
	var log strings.Builder
	if err := rt.Logs(ctx, id, runtime.LogOptions{TailLines: runtime.AllLines}, &log); err != nil {
		t.Fatal(err)
	}
	if st.ExitCode != 0 {
		t.Fatalf("%s exited %d: %q", name, st.ExitCode, log.String())
	}
	return log.String()
}

// hostCapEff is this test process's effective capability set, which a
// privileged container gets.
func hostCapEff(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("no CapEff in /proc/self/status")
	return ""
}

func testSecurity(t *testing.T, h *harness, testee, _ []byte) {
	ctx := ctxFor(t)
	rt := h.New(t, "security-1")
	importImage(t, rt, testee)
	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u-sec", Namespace: "default", Name: "sec",
		Sysctls: map[string]string{"net.ipv4.ip_unprivileged_port_start": "123", "kernel.shm_rmid_forced": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	profiles := filepath.Join(h.stateDir("security-1"), "seccomp")
	if err := os.MkdirAll(profiles, 0o755); err != nil {
		t.Fatal(err)
	}
	// A profile that allows everything but still installs a filter.
	if err := os.WriteFile(filepath.Join(profiles, "allow.json"), []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	uid := int64(1000)

	for _, tc := range []struct {
		name string
		sec  runtime.Security
		args []string
		want string
	}{
		// Kubernetes' defaults: privileges may be gained, no seccomp, root
		// may chown.
		{"defaults", runtime.Security{}, []string{"status", "NoNewPrivs", "status", "Seccomp", "try-chown", "/tmp"}, "0\n0\ntry-chown: ok\n"},
		{"drop-chown", runtime.Security{DropCapabilities: []string{"CHOWN"}}, []string{"try-chown", "/tmp"}, "try-chown: chown /tmp: operation not permitted\n"},
		{"drop-all-add-chown", runtime.Security{DropCapabilities: []string{"ALL"}, AddCapabilities: []string{"cap_chown"}},
			[]string{"status", "CapEff", "try-chown", "/tmp"}, "0000000000000001\ntry-chown: ok\n"},
		{"non-root", runtime.Security{RunAsUser: &uid}, []string{"try-chown", "/tmp"}, "try-chown: chown /tmp: operation not permitted\n"},
		{"no-new-privileges", runtime.Security{NoNewPrivileges: true}, []string{"status", "NoNewPrivs"}, "1\n"},
		{"seccomp-runtime-default", runtime.Security{Seccomp: runtime.Profile{Type: runtime.ProfileRuntimeDefault}}, []string{"status", "Seccomp"}, "2\n"},
		{"seccomp-localhost", runtime.Security{Seccomp: runtime.Profile{Type: runtime.ProfileLocalhost, Localhost: "allow.json"}}, []string{"status", "Seccomp"}, "2\n"},
		{"seccomp-unconfined", runtime.Security{Seccomp: runtime.Profile{Type: runtime.ProfileUnconfined}}, []string{"status", "Seccomp"}, "0\n"},
		{"privileged", runtime.Security{Privileged: true, DropCapabilities: []string{"ALL"}, Seccomp: runtime.Profile{Type: runtime.ProfileRuntimeDefault}},
			[]string{"status", "CapEff", "status", "Seccomp"}, hostCapEff(t) + "\n0\n"},
		// The sandbox's sysctls, in its network and the container's IPC
		// namespace.
		{"sysctls", runtime.Security{}, []string{"cat-file", "/proc/sys/net/ipv4/ip_unprivileged_port_start", "cat-file", "/proc/sys/kernel/shm_rmid_forced"}, "123\n1\n"},
		// Without AppArmor on the host, asking for the default profile is
		// no error (the Localhost case is below).
		{"apparmor-runtime-default", runtime.Security{AppArmor: runtime.Profile{Type: runtime.ProfileRuntimeDefault}}, []string{"echo", "ran"}, "ran\n"},
	} {
		if tc.name == "apparmor-runtime-default" && appArmorEnabled() {
			continue // needs apparmor_parser: not what this test checks
		}
		if got := runToExit(t, rt, sb.ID, tc.name, tc.sec, tc.args...); got != tc.want {
			t.Errorf("%s: log %q, want %q", tc.name, got, tc.want)
		}
	}

	for name, sec := range map[string]runtime.Security{
		"seccomp-missing": {Seccomp: runtime.Profile{Type: runtime.ProfileLocalhost, Localhost: "absent.json"}},
		"seccomp-outside": {Seccomp: runtime.Profile{Type: runtime.ProfileLocalhost, Localhost: "../allow.json"}},
	} {
		_, err := rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Name: name, Image: runtimetest.TesteeImage, Security: sec})
		if !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%s: CreateContainer = %v, want ErrInvalid", name, err)
		}
	}
	if !appArmorEnabled() {
		_, err := rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Name: "apparmor-localhost", Image: runtimetest.TesteeImage,
			Security: runtime.Security{AppArmor: runtime.Profile{Type: runtime.ProfileLocalhost, Localhost: "my-profile"}}})
		if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "AppArmor is not enabled") {
			t.Errorf("AppArmor Localhost profile on a host without AppArmor: %v, want ErrInvalid", err)
		}
	}

	img, err := rt.ImageStatus(ctx, runtimetest.TesteeImage)
	if err != nil || img.User != "" {
		t.Errorf("ImageStatus of an image without a user = %+v, %v; want no User", img, err)
	}
}

func appArmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.TrimSpace(string(b)) == "Y"
}
