package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shoalproject/shoal/internal/poll"
	"github.com/shoalproject/shoal/volumes"
)

// The cluster's processes: one private containerd (DIR/ctd, its socket
// DIR/ctd/c.sock) and one agent per peer (DIR/peerN, its log agent.log, its
// pid agent.pid). Both are started in sessions of their own, so they keep
// running after `shoal-demo up` exits.

func (o options) ctdDir() string            { return filepath.Join(o.Dir, "ctd") }
func (o options) ctdSock() string           { return filepath.Join(o.ctdDir(), "c.sock") }
func (o options) ctdNamespace(n int) string { return o.peerNetns(n) }
func (o options) peerDir(n int) string      { return filepath.Join(o.Dir, o.peerName(n)) }
func (o options) adminConf() string         { return filepath.Join(o.peerDir(1), "data", "admin.conf") }

// seededMarker records that up created the content directory, so that down
// removes it and nothing else.
func (o options) seededMarker() string { return filepath.Join(o.Dir, "seeded-content") }

// startDetached starts a command in a session of its own with its output
// in logPath, writes its pid to pidPath, and reaps it when it exits (while
// this process lives).
func startDetached(args []string, logPath, pidPath string) (int, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("%s: %w", args[0], err)
	}
	go func() { _ = cmd.Wait() }()
	pid := cmd.Process.Pid
	return pid, os.WriteFile(pidPath, []byte(strconv.Itoa(pid)), 0o644)
}

func (d *demo) startContainerd(ctx context.Context) error {
	dir := d.o.ctdDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// The CRI plugin is off: the peers use containerd's own API.
	config := "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o644); err != nil {
		return err
	}
	_, err := startDetached([]string{"containerd", "--config", filepath.Join(dir, "config.toml"),
		"--root", filepath.Join(dir, "root"), "--state", filepath.Join(dir, "state"), "--address", d.o.ctdSock()},
		filepath.Join(dir, "containerd.log"), filepath.Join(dir, "containerd.pid"))
	if err != nil {
		return err
	}
	return waitFor(ctx, 30*time.Second, "containerd to answer (its log: "+filepath.Join(dir, "containerd.log")+")", func() (bool, error) {
		return exec.CommandContext(ctx, "ctr", "--address", d.o.ctdSock(), "version").Run() == nil, nil
	})
}

// startPeer starts peer n's agent in its namespace; join names the API of
// the peer to join through (empty for the first, which bootstraps).
func (d *demo) startPeer(n int, join, token string) error {
	o := d.o
	if err := os.MkdirAll(o.peerDir(n), 0o700); err != nil {
		return err
	}
	zones := []string{"zone-a", "zone-b", "zone-c"}
	args := []string{"nsenter", "--net=/var/run/netns/" + o.peerNetns(n), o.Shoal, "agent",
		"--name", o.peerName(n), "--data-dir", filepath.Join(o.peerDir(n), "data"), "--bind", o.peerIP(n).String(),
		"--region", "demo", "--zone", zones[(n-1)%len(zones)],
		"--runtime", "containerd", "--containerd-address", o.ctdSock(), "--containerd-namespace", o.ctdNamespace(n)}
	args = append(args, o.AgentFlags...)
	if join != "" {
		args = append(args, "--join", join, "--token", token)
	}
	pid, err := startDetached(args, filepath.Join(o.peerDir(n), "agent.log"), filepath.Join(o.peerDir(n), "agent.pid"))
	if err != nil {
		return err
	}
	shown := slices.Clone(args)
	if i := slices.Index(shown, "--token"); i >= 0 {
		shown[i+1] = "K10..." // from peer1's DIR/join-token
	}
	fmt.Fprintf(o.Out, "$ %s &\n  (pid %d, log %s)\n", strings.Join(shown, " "), pid, filepath.Join(o.peerDir(n), "agent.log"))
	return nil
}

func (o options) peerPID(n int) (int, error) {
	b, err := os.ReadFile(filepath.Join(o.peerDir(n), "agent.pid"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// killPID sends SIGKILL and waits up to 10 s for the process to be gone.
func killPID(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return err
	}
	if poll.Until(10*time.Second, 20*time.Millisecond, func() bool { return syscall.Kill(pid, 0) != nil }) {
		return nil
	}
	return fmt.Errorf("pid %d still there 10 s after SIGKILL", pid)
}

// demoMarker, in the state directory, says the directory is a demo's and
// holds the name (the prefix of the namespaces and links) it was made
// with: down removes nothing from a directory without it, and takes the
// names to remove from it rather than from its flags.
func (o options) demoMarker() string { return filepath.Join(o.Dir, ".shoal-demo") }

// claimDir makes the state directory and marks it as this demo's. A
// directory that exists must be empty, or a demo's already.
func claimDir(o options) error {
	entries, err := os.ReadDir(o.Dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(o.Dir, 0o700); err != nil {
			return err
		}
	case err != nil:
		return err
	case len(entries) > 0:
		if _, err := os.Stat(o.demoMarker()); err != nil {
			return fmt.Errorf("%s is not empty and is not a demo's (no %s): choose another --dir", o.Dir, filepath.Base(o.demoMarker()))
		}
	}
	return os.WriteFile(o.demoMarker(), []byte(o.Name+"\n"), 0o600)
}

// down removes everything up made, in reverse order; it works on a
// half-made demo and on none at all. It touches nothing unless the state
// directory carries the demo's marker, and it kills a process only if its
// command line names the demo's directory. It reports the failures after
// trying every step.
func down(ctx context.Context, o options) error {
	b, err := os.ReadFile(o.demoMarker())
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(o.Dir); errors.Is(err, os.ErrNotExist) {
			return nil // nothing was made here
		}
		return fmt.Errorf("%s is not a demo's directory (no %s): nothing removed", o.Dir, filepath.Base(o.demoMarker()))
	}
	if err != nil {
		return err
	}
	o.Name = strings.TrimSpace(string(b)) // the names up made, whatever --name says now
	var errs []error
	for n := 1; n <= o.Peers; n++ {
		if pid, err := o.peerPID(n); err == nil {
			errs = append(errs, killOwn(pid, filepath.Join(o.peerDir(n), "data")))
		}
	}
	errs = append(errs, stopContainerd(ctx, o))
	// Pods' network namespaces and the IPAM state of the peers' networks.
	for n := 1; n <= o.Peers; n++ {
		network := "shoal-" + o.ctdNamespace(n)
		nss, _ := filepath.Glob("/var/run/netns/" + network + "-*")
		for _, ns := range nss {
			_ = unix.Unmount(ns, unix.MNT_DETACH)
			errs = append(errs, ignoreMissing(os.Remove(ns)))
		}
		errs = append(errs, os.RemoveAll(filepath.Join("/var/lib/cni/networks", network)))
	}
	removeLAN(ctx, o)
	errs = append(errs, volumes.UnmountUnder(o.Dir))
	if b, err := os.ReadFile(o.seededMarker()); err == nil {
		errs = append(errs, os.RemoveAll(strings.TrimSpace(string(b))))
	}
	errs = append(errs, os.RemoveAll(o.Dir))
	return errors.Join(errs...)
}

// killOwn kills pid only if its command line names mark (the demo's
// directory): a pid file can outlive its process, and the pid be reused.
func killOwn(pid int, mark string) error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !slices.ContainsFunc(strings.Split(string(b), "\x00"), func(arg string) bool { return strings.Contains(arg, mark) }) {
		return nil // gone, or another process's now
	}
	return killPID(pid)
}

// stopContainerd kills every task the peers left, removes their
// containers, and stops the daemon and the shims.
func stopContainerd(ctx context.Context, o options) error {
	pidText, err := os.ReadFile(filepath.Join(o.ctdDir(), "containerd.pid"))
	if err != nil {
		return nil // never started
	}
	ctr := func(args ...string) []string {
		out, _ := exec.CommandContext(ctx, "ctr", append([]string{"--address", o.ctdSock()}, args...)...).Output()
		return strings.Fields(string(out))
	}
	for _, ns := range ctr("namespaces", "ls", "-q") {
		for _, task := range ctr("-n", ns, "tasks", "ls", "-q") {
			ctr("-n", ns, "tasks", "kill", "-a", "-s", "SIGKILL", task)
			ctr("-n", ns, "tasks", "rm", "-f", task)
		}
		for _, c := range ctr("-n", ns, "containers", "ls", "-q") {
			ctr("-n", ns, "containers", "rm", c)
		}
	}
	var errs []error
	if pid, err := strconv.Atoi(strings.TrimSpace(string(pidText))); err == nil {
		errs = append(errs, killOwn(pid, o.ctdSock()))
	}
	// Shims outlive their daemon; theirs name its socket.
	for _, pid := range shimsOf(o.ctdSock()) {
		errs = append(errs, killPID(pid))
	}
	return errors.Join(errs...)
}

// shimsOf lists the containerd shims serving the daemon at sock.
func shimsOf(sock string) []int {
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range procs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 0 && filepath.Base(args[0]) == "containerd-shim-runc-v2" && slices.Contains(args, sock) {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func ignoreMissing(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
