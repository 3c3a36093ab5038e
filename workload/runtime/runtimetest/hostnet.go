package runtimetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
)

// hostNetwork: a host-network sandbox has no address or namespace of its
// own, the host's name, and the host's /etc/hosts under the kubelet's
// header; it stays ready across an agent restart.
func (s *suite) hostNetwork(t *testing.T) {
	ctx := testCtx(t)
	rt := s.newRuntime(t, 1)
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	hostHosts, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}

	cfg := podConfig("on-host")
	cfg.Hostname = "ignored"
	cfg.HostNetwork = true
	cfg.PortMappings = []runtime.PortMapping{{Protocol: "TCP", ContainerPort: 8080, HostPort: 8080}}
	sb, err := rt.RunSandbox(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.RemoveSandbox(context.Background(), sb.ID) })
	if !sb.HostNetwork || sb.IP != "" || sb.NetNSPath != "" || sb.Hostname != host || len(sb.PortMappings) != 0 || sb.State != runtime.SandboxReady {
		t.Fatalf("host-network sandbox = %+v; want HostNetwork, no IP, netns or port mappings, host name %q, ready", sb, host)
	}

	id := create(t, rt, sb.ID, script("app", "wait"))
	start(t, rt, id)
	run := func(args ...string) string { t.Helper(); return execScript(t, rt, id, args...) }
	if got := run("hostname"); got != host+"\n" {
		t.Fatalf("hostname in a host-network container = %q, want the host's %q", got, host)
	}
	if got := run("cat-file", "/etc/hostname"); got != host+"\n" {
		t.Fatalf("/etc/hostname = %q, want %q", got, host)
	}
	if got, want := run("cat-file", "/etc/hosts"), HostNetworkHostsHeader+string(hostHosts); got != want {
		t.Fatalf("/etc/hosts of a host-network pod =\n%s\nwant the host's under the kubelet's header:\n%s", got, want)
	}

	again := s.h.New(t, s.ownerFor(t, 1))
	got, err := again.SandboxStatus(ctx, sb.ID)
	if err != nil || !got.HostNetwork || got.IP != "" || got.Hostname != host || got.State != runtime.SandboxReady {
		t.Fatalf("host-network sandbox after an agent restart = %+v, %v", got, err)
	}
	if err := again.StopSandbox(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := again.SandboxStatus(ctx, sb.ID); err != nil || got.State != runtime.SandboxNotReady {
		t.Fatalf("stopped host-network sandbox = %+v, %v", got, err)
	}
	if err := again.RemoveSandbox(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
}

// portMappings: a sandbox keeps its port mappings; bad ones are refused.
func (s *suite) portMappings(t *testing.T) {
	ctx := testCtx(t)
	rt := s.newRuntime(t, 1)
	for _, bad := range []runtime.PortMapping{
		{ContainerPort: 80, HostPort: 0},
		{ContainerPort: 0, HostPort: 80},
		{ContainerPort: 80, HostPort: 70000},
		{Protocol: "ICMP", ContainerPort: 80, HostPort: 80},
		{ContainerPort: 80, HostPort: 80, HostIP: "localhost"},
	} {
		cfg := podConfig("bad-ports")
		cfg.PortMappings = []runtime.PortMapping{bad}
		_, err := rt.RunSandbox(ctx, cfg)
		wantErr(t, fmt.Sprintf("RunSandbox with port mapping %+v", bad), err, errdefs.ErrInvalid)
	}
	// On loopback only, so the mapping reaches nothing but this test.
	ports := []runtime.PortMapping{
		{Protocol: "TCP", ContainerPort: 8080, HostPort: 38080, HostIP: "127.0.0.1"},
		{Protocol: "UDP", ContainerPort: 53, HostPort: 38053, HostIP: "127.0.0.1"},
	}
	cfg := podConfig("ported")
	cfg.PortMappings = ports
	sb, err := rt.RunSandbox(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.RemoveSandbox(context.Background(), sb.ID) })
	if sb.HostNetwork || sb.IP == "" || !slices.Equal(sb.PortMappings, ports) {
		t.Fatalf("sandbox with port mappings = %+v, want its own IP and %+v", sb, ports)
	}
	if got, err := rt.SandboxStatus(ctx, sb.ID); err != nil || !slices.Equal(got.PortMappings, ports) {
		t.Fatalf("SandboxStatus = %+v, %v; want port mappings %+v", got, err, ports)
	}
	if err := rt.RemoveSandbox(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
}

// execScript runs a testee script in the running container id, which
// must exit 0, and returns its stdout.
func execScript(t *testing.T, rt runtime.Runtime, id string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	code, err := rt.Exec(testCtx(t), id, runtime.ExecConfig{Cmd: append([]string{Testee}, args...), Stdout: &out, Stderr: &errOut})
	if err != nil || code != 0 {
		t.Fatalf("exec %v = %d, %v (stderr %q)", args, code, err, errOut.String())
	}
	return out.String()
}
