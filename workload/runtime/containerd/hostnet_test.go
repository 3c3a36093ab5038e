package containerd_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/shoalproject/shoal/workload/runtime"
	"github.com/shoalproject/shoal/workload/runtime/containerd"
	"github.com/shoalproject/shoal/workload/runtime/runtimetest"
)

// freeLoopbackPort is a TCP port nothing listens on at 127.0.0.1 now.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// execOut runs a testee script in a running container and returns its
// stdout.
func execOut(t *testing.T, rt runtime.Runtime, id string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	code, err := rt.Exec(ctxFor(t), id, runtime.ExecConfig{Cmd: append([]string{runtimetest.Testee}, args...), Stdout: &out, Stderr: &errOut})
	if err != nil || code != 0 {
		t.Fatalf("exec %v = %d, %v (stderr %q)", args, code, err, errOut.String())
	}
	return out.String()
}

// hostInterface names an interface of the host that tests do not make
// and a pod's own namespace does not have.
func hostInterface(t *testing.T) string {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 && !strings.HasPrefix(i.Name, "shb") && !strings.HasPrefix(i.Name, "veth") {
			return i.Name
		}
	}
	t.Skip("the host has no interface besides loopback and test bridges")
	return ""
}

// A hostNetwork pod's container is in the host's network, UTS and (with
// hostPID, hostIPC) process and IPC namespaces: it sees the host's
// interfaces, name and init, and the host reaches what it serves on
// loopback.
func testHostNetwork(t *testing.T, h *harness, testee, _ []byte) {
	ctx := ctxFor(t)
	rt := h.New(t, "hostnet-1")
	importImage(t, rt, testee)
	host, _ := os.Hostname()
	iface := hostInterface(t)
	port := freeLoopbackPort(t)

	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u-hn", Namespace: "default", Name: "on-host",
		HostNetwork: true, HostPID: true, HostIPC: true})
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	id := run(t, rt, sb.ID, runtime.ContainerConfig{Name: "c", Image: runtimetest.TesteeImage, Args: []string{"serve", addr, "wait"}})

	url := "http://" + addr + "/"
	var body string
	poll(t, "GET "+url+" of a host-network pod", func() (err error) { body, err = httpGet(url); return err })
	if body != "testee "+host+"\n" {
		t.Fatalf("GET %s = %q, want the host's name %q", url, body, host)
	}
	if dev := execOut(t, rt, id, "cat-file", "/proc/net/dev"); !strings.Contains(dev, " "+iface+":") && !strings.Contains(dev, "\n"+iface+":") {
		t.Fatalf("a host-network container's /proc/net/dev lacks the host's %s:\n%s", iface, dev)
	}
	wantInit, err := os.ReadFile("/proc/1/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	if got := execOut(t, rt, id, "cat-file", "/proc/1/cmdline"); got != string(wantInit) {
		t.Fatalf("pid 1 of a hostPID container = %q, want the host's %q", got, wantInit)
	}
	crt := rt.(*containerd.Runtime)
	c, err := crt.Client().LoadContainer(crt.Context(ctx), id)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := c.Spec(crt.Context(ctx))
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range spec.Linux.Namespaces {
		switch ns.Type {
		case specs.NetworkNamespace, specs.UTSNamespace, specs.PIDNamespace, specs.IPCNamespace:
			t.Fatalf("host-network/PID/IPC container has a %s namespace of its own: %+v", ns.Type, spec.Linux.Namespaces)
		}
	}

	// A pod with its own network does not see the host's interface.
	own, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u-own", Namespace: "default", Name: "own"})
	if err != nil {
		t.Fatal(err)
	}
	ownID := run(t, rt, own.ID, runtime.ContainerConfig{Name: "c", Image: runtimetest.TesteeImage, Args: []string{"wait"}})
	if dev := execOut(t, rt, ownID, "cat-file", "/proc/net/dev"); strings.Contains(dev, iface+":") {
		t.Fatalf("a pod's own network namespace shows the host's %s:\n%s", iface, dev)
	}

	if err := rt.RemoveSandbox(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := httpGet(url); err == nil {
		t.Fatalf("GET %s answered after the host-network sandbox was removed", url)
	}
}

// natRules is the host's nat table.
func natRules(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("iptables-save", "-t", "nat").CombinedOutput()
	if err != nil {
		t.Fatalf("iptables-save: %v: %s", err, out)
	}
	return string(out)
}

// A pod's hostPort answers on the host's loopback, forwarded by the
// portmap plugin to its containerPort, until the sandbox is stopped and
// again after a new one; removing the sandbox removes its rules.
func testHostPort(t *testing.T, h *harness, testee, _ []byte) {
	ctx := ctxFor(t)
	rt := h.New(t, "hostport-1")
	importImage(t, rt, testee)
	port := freeLoopbackPort(t)

	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u-hp", Namespace: "default", Name: "ported",
		PortMappings: []runtime.PortMapping{{Protocol: "TCP", ContainerPort: 8080, HostPort: int32(port)}}})
	if err != nil {
		t.Fatal(err)
	}
	run(t, rt, sb.ID, runtime.ContainerConfig{Name: "c", Image: runtimetest.TesteeImage, Args: []string{"serve", ":8080", "wait"}})
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	var body string
	poll(t, "GET "+url+" (the pod's hostPort)", func() (err error) { body, err = httpGet(url); return err })
	if body != "testee ported\n" {
		t.Fatalf("GET %s = %q, want the pod's answer", url, body)
	}
	if !strings.Contains(natRules(t), sb.ID) {
		t.Fatalf("no nat rule names sandbox %s:\n%s", sb.ID, natRules(t))
	}

	if err := rt.StopSandbox(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	unmapped(t, sb.ID, url, "StopSandbox")

	// A new sandbox takes the port again; removing it gives the port back.
	again, err := rt.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u-hp", Namespace: "default", Name: "ported-again",
		PortMappings: []runtime.PortMapping{{Protocol: "TCP", ContainerPort: 8080, HostPort: int32(port), HostIP: "127.0.0.1"}}})
	if err != nil {
		t.Fatal(err)
	}
	run(t, rt, again.ID, runtime.ContainerConfig{Name: "c", Image: runtimetest.TesteeImage, Args: []string{"serve", ":8080", "wait"}})
	poll(t, "GET "+url+" (the new sandbox's hostPort on 127.0.0.1)", func() (err error) { body, err = httpGet(url); return err })
	if body != "testee ported-again\n" {
		t.Fatalf("GET %s = %q, want the new pod's answer", url, body)
	}
	if err := rt.RemoveSandbox(ctx, again.ID); err != nil {
		t.Fatal(err)
	}
	unmapped(t, again.ID, url, "RemoveSandbox")
}

// unmapped checks that no nat rule names the sandbox and its hostPort's
// url no longer answers, after what.
func unmapped(t *testing.T, sandboxID, url, after string) {
	t.Helper()
	if rules := natRules(t); strings.Contains(rules, sandboxID) {
		t.Fatalf("nat rules of sandbox %s after %s:\n%s", sandboxID, after, rules)
	}
	if _, err := httpGet(url); err == nil {
		t.Fatalf("GET %s answered after %s", url, after)
	}
}
