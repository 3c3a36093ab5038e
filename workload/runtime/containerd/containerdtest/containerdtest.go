package containerdtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"golang.org/x/sys/unix"
)

// CNIBinDir is where Debian's containernetworking-plugins puts the plugins.
const CNIBinDir = "/usr/lib/cni"

// Daemon is a running private containerd.
type Daemon struct {
	// Address is the daemon's gRPC unix socket path.
	Address string
	// Dir holds the daemon's root ("root"), state ("state"), config and log,
	// and is free for the test to put more short paths in (Dir is short).
	Dir string
	// Log is the daemon's combined stdout and stderr.
	Log string
}

// Require skips t when it cannot run the real runtime here: when the
// process is not root or a tool is missing. With CI=true it fails t
// instead, so CI never passes by skipping.
func Require(t testing.TB) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (containerd, network namespaces and CNI need it)")
	}
	for _, tool := range []string{"containerd", "runc", "containerd-shim-runc-v2", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool+" on PATH")
		}
	}
	for _, plugin := range []string{"bridge", "host-local", "portmap", "loopback"} {
		if st, err := os.Stat(filepath.Join(CNIBinDir, plugin)); err != nil || st.Mode()&0o111 == 0 {
			missing = append(missing, filepath.Join(CNIBinDir, plugin))
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "real runtime test needs " + strings.Join(missing, ", ") + " (scripts/install-deps.sh installs the tools; run as root)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Start starts a private containerd for t (after Require) and stops it at
// t's cleanup. It fails t if the daemon does not answer within 30 seconds.
func Start(t testing.TB) *Daemon {
	t.Helper()
	Require(t)
	sweepStale(t)
	// Unix socket paths are limited to 108 bytes: keep the directory short
	// (t.TempDir embeds the test's name). The test process's pid in the
	// name lets a later run clean up after one that crashed.
	dir, err := os.MkdirTemp("", fmt.Sprintf("ctd%d-", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{
		Address: filepath.Join(dir, "c.sock"),
		Dir:     dir,
		Log:     filepath.Join(dir, "containerd.log"),
	}
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = %q

[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), d.Address, filepath.Join(dir, "opt"))
	configPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(d.Log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("containerd", "--config", configPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so a signal to the test's group does not reach it
	// before cleanup has killed the tasks.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		os.RemoveAll(dir)
		t.Fatalf("start containerd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := os.WriteFile(filepath.Join(dir, "containerd.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		t.Errorf("containerdtest: %v", err)
	}

	t.Cleanup(func() {
		d.reapTasks(t)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		killShims(d.Address)
		logFile.Close()
		if t.Failed() {
			t.Logf("containerd log (%s):\n%s", d.Log, tail(d.Log, 40))
		}
		unmountUnder(t, dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})

	if err := d.waitServing(exited, 30*time.Second); err != nil {
		t.Fatalf("containerd did not start: %v\n%s", err, tail(d.Log, 40))
	}
	return d
}

func (d *Daemon) waitServing(exited <-chan error, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("containerd exited: %v", err)
		default:
		}
		if _, err := os.Stat(d.Address); err == nil {
			ok, err := d.serving()
			if ok {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("not serving after %v: %v", limit, err)
			}
		} else if time.Now().After(deadline) {
			return fmt.Errorf("no socket %s after %v", d.Address, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *Daemon) serving() (bool, error) {
	c, err := client.New(d.Address, client.WithTimeout(time.Second))
	if err != nil {
		return false, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.IsServing(ctx)
}

// reapTasks kills and deletes every task in every namespace, so no shim or
// container process outlives the daemon, and deletes the containers.
func (d *Daemon) reapTasks(t testing.TB) {
	c, err := client.New(d.Address, client.WithTimeout(5*time.Second))
	if err != nil {
		t.Logf("containerdtest: connect for cleanup: %v", err)
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nss, err := c.NamespaceService().List(ctx)
	if err != nil {
		t.Logf("containerdtest: list namespaces: %v", err)
		return
	}
	for _, ns := range nss {
		nctx := namespaces.WithNamespace(ctx, ns)
		ctrs, err := c.Containers(nctx)
		if err != nil {
			t.Logf("containerdtest: list containers in %s: %v", ns, err)
			continue
		}
		for _, ctr := range ctrs {
			if task, err := ctr.Task(nctx, nil); err == nil {
				wait, werr := task.Wait(nctx)
				if kerr := task.Kill(nctx, syscall.SIGKILL, client.WithKillAll); kerr == nil && werr == nil {
					select {
					case <-wait:
					case <-nctx.Done():
					}
				}
				if _, err := task.Delete(nctx, client.WithProcessKill); err != nil {
					t.Logf("containerdtest: delete task %s/%s: %v", ns, ctr.ID(), err)
				}
			}
			if err := ctr.Delete(nctx, client.WithSnapshotCleanup); err != nil {
				t.Logf("containerdtest: delete container %s/%s: %v", ns, ctr.ID(), err)
			}
		}
	}
}

// unmountUnder detaches every mount below dir (snapshots, rootfs), deepest
// first, so RemoveAll never reaches through a mount.
func unmountUnder(t testing.TB, dir string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		if err := unix.Unmount(points[i], unix.MNT_DETACH); err != nil {
			t.Logf("containerdtest: unmount %s: %v", points[i], err)
		}
	}
}

func tail(path string, lines int) string {
	b, _ := os.ReadFile(path)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

var networks struct {
	sync.Mutex
	n     int
	taken map[netip.Prefix]bool
}

// Network returns a bridge name and a /24 pod CIDR in 10.150.0.0-10.189.255.255
// (clear of the CLI end-to-end tests' 10.199.0.0/16 LAN) that no interface
// of this machine uses (nor any earlier call of this process),
// for one runtime of t, and deletes the bridge at t's cleanup. Register it
// before anything that must be cleaned up while the bridge still exists.
func Network(t testing.TB) (bridge, podCIDR string) {
	t.Helper()
	networks.Lock()
	defer networks.Unlock()
	if networks.taken == nil {
		networks.taken = map[netip.Prefix]bool{}
	}
	networks.n++
	pid := os.Getpid()
	bridge = fmt.Sprintf("shb%d-%d", pid, networks.n) // at most 15 bytes for pids up to 2^22
	used := addressesInUse()
	const slots = 256 * 40
	for k := 0; k < slots; k++ {
		c := (pid*37 + networks.n*101 + k) % slots
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(150 + c/256), byte(c % 256), 0}), 24)
		if networks.taken[p] || overlaps(p, used) {
			continue
		}
		networks.taken[p] = true
		t.Cleanup(func() { DeleteLink(t, bridge) })
		return bridge, p.String()
	}
	t.Fatal("containerdtest: no free /24 in 10.150.0.0-10.189.255.255")
	return "", ""
}

func addressesInUse() []netip.Prefix {
	var out []netip.Prefix
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if p, err := netip.ParsePrefix(n.String()); err == nil {
				out = append(out, p.Masked())
			}
		}
	}
	return out
}

func overlaps(p netip.Prefix, used []netip.Prefix) bool {
	for _, u := range used {
		if u.Overlaps(p) {
			return true
		}
	}
	return false
}

// DeleteLink deletes a network interface (a test's bridge) if it exists.
func DeleteLink(t testing.TB, name string) {
	if _, err := net.InterfaceByName(name); err != nil {
		return
	}
	if out, err := exec.Command("ip", "link", "del", name).CombinedOutput(); err != nil {
		t.Errorf("containerdtest: ip link del %s: %v: %s", name, err, out)
	}
}

// RemoveNetNS removes the network namespaces whose names start with
// prefix (with libcni's cached results for them): what an agent killed at
// the end of a test leaves behind.
func RemoveNetNS(t testing.TB, prefix string) {
	nss, _ := filepath.Glob("/var/run/netns/" + prefix + "*")
	for _, ns := range nss {
		_ = unix.Unmount(ns, unix.MNT_DETACH)
		if err := os.Remove(ns); err != nil {
			t.Logf("containerdtest: remove %s: %v", ns, err)
		}
		id := ns[strings.LastIndex(ns, "-")+1:]
		cached, _ := filepath.Glob(filepath.Join("/var/lib/cni/results", "*-"+id+"-*"))
		for _, f := range cached {
			os.Remove(f)
		}
	}
}

// NetNSPrefix is a Config.NetNSPrefix for this test process: a later run
// removes the network namespaces it left if it crashed.
func NetNSPrefix() string {
	return fmt.Sprintf("shoal-t%d-", os.Getpid())
}

// sweepStale removes what test processes that died without cleaning up
// (a crash, a kill -9, a test binary's timeout) left behind: their
// daemons with their tasks, directories, bridges and network namespaces.
// Only names with a dead process's pid are touched.
func sweepStale(t testing.TB) {
	dead := func(pidText string) bool {
		pid, err := strconv.Atoi(pidText)
		return err == nil && pid > 0 && pid != os.Getpid() && syscall.Kill(pid, 0) == syscall.ESRCH
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "ctd*-*"))
	for _, dir := range dirs {
		owner, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), "ctd"), "-")
		if !dead(owner) {
			continue
		}
		t.Logf("containerdtest: cleaning up %s, left by dead test process %s", dir, owner)
		if b, err := os.ReadFile(filepath.Join(dir, "containerd.pid")); err == nil {
			if pid, err := strconv.Atoi(string(b)); err == nil && syscall.Kill(pid, 0) == nil && isContainerd(pid, dir) {
				d := &Daemon{Address: filepath.Join(dir, "c.sock"), Dir: dir}
				d.reapTasks(t)
				syscall.Kill(pid, syscall.SIGKILL)
				deadline := time.Now().Add(10 * time.Second)
				for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
			}
		}
		unmountUnder(t, dir)
		os.RemoveAll(dir)
	}
	if links, err := net.Interfaces(); err == nil {
		for _, l := range links {
			if rest, ok := strings.CutPrefix(l.Name, "shb"); ok {
				if owner, _, ok := strings.Cut(rest, "-"); ok && dead(owner) {
					DeleteLink(t, l.Name)
				}
			}
		}
	}
	nss, _ := filepath.Glob("/var/run/netns/shoal-t*-*")
	for _, ns := range nss {
		owner, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(ns), "shoal-t"), "-")
		if dead(owner) {
			unix.Unmount(ns, unix.MNT_DETACH)
			os.Remove(ns)
			// libcni's cached results for the sandbox (its id ends the name).
			id := ns[strings.LastIndex(ns, "-")+1:]
			cached, _ := filepath.Glob(filepath.Join("/var/lib/cni/results", "*-"+id+"-*"))
			for _, f := range cached {
				os.Remove(f)
			}
		}
	}
}

// isContainerd reports whether pid is a containerd started with a config
// in dir, so a recycled pid is never killed.
func isContainerd(pid int, dir string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(b), filepath.Join(dir, "config.toml"))
}

// killShims kills the runc shims that still serve a daemon's socket once
// the daemon is gone: a shim whose task was killed but never deleted (the
// daemon stopped first) otherwise lives on, an orphan of the test.
func killShims(address string) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 0 && strings.HasSuffix(args[0], "containerd-shim-runc-v2") && strings.Contains(string(b), address) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
