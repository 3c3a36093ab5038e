package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/poll"
	"github.com/shoalproject/shoal/internal/shoalbin"
	"github.com/shoalproject/shoal/peer/api"
)

// These tests run real `shoal agent` processes on loopback addresses of their
// own (127.X.T.N, default ports) and drive them through the CLI.

var shoalBin string

func TestMain(m *testing.M) { os.Exit(shoalbin.Run(m, &shoalBin)) }

// Each test cluster gets loopback addresses of its own; the second octet
// differs between concurrent test binaries.
var (
	testNet  atomic.Int32
	netOctet = 3 + os.Getpid()%200
)

type agent struct {
	name, dir, ip string
	cmd           *exec.Cmd
	log           *syncBuffer
	exited        chan struct{} // closed when the process has exited
	exitErr       error         // set before exited is closed
}

// syncBuffer is a bytes.Buffer safe to read while the process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type procCluster struct {
	t      testing.TB
	base   string
	subnet int32
	agents map[string]*agent
	config string // admin.conf of the first peer
	// hosts, when set by useHosts, gives each agent a network namespace of
	// its own on a bridge, like a machine on a LAN.
	hosts bool
}

func newProcCluster(t testing.TB) *procCluster {
	if testing.Short() {
		t.Skip("starts agent processes; skipped with -short")
	}
	c := &procCluster{t: t, base: t.TempDir(), subnet: testNet.Add(1), agents: map[string]*agent{}}
	t.Cleanup(func() {
		if t.Failed() {
			// A goroutine dump of every live agent, for the log below.
			for _, a := range c.agents {
				a.quit(5 * time.Second)
			}
		}
		for _, a := range c.agents {
			a.kill()
		}
		if t.Failed() {
			for n, a := range c.agents {
				t.Logf("--- log of %s:\n%s", n, a.log.String())
			}
		}
	})
	return c
}

func (a *agent) api() string { return a.ip + ":7948" }

func (a *agent) running() bool {
	select {
	case <-a.exited:
		return false
	default:
		return a.cmd != nil
	}
}

// quit sends SIGQUIT, which makes a Go program print every goroutine's
// stack and exit, and waits up to d for it to exit.
func (a *agent) quit(d time.Duration) {
	if !a.running() {
		return
	}
	_ = a.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-a.exited:
	case <-time.After(d):
	}
}

func (a *agent) kill() {
	if a.running() {
		_ = a.cmd.Process.Signal(syscall.SIGKILL)
		<-a.exited
	}
}

// useHosts makes every agent started afterwards run in a network namespace
// of its own, joined by a veth to a bridge of the test's
// (10.199.SUBNET.0/24, the host at .254), as machines on one LAN.
func (c *procCluster) useHosts() {
	c.t.Helper()
	c.hosts = true
	bridge := c.hostName("shh", 0)
	sh(c.t, "ip", "link", "add", bridge, "type", "bridge")
	sh(c.t, "ip", "addr", "add", fmt.Sprintf("10.199.%d.254/24", c.subnet%250), "dev", bridge)
	sh(c.t, "ip", "link", "set", bridge, "up")
	c.t.Cleanup(func() {
		for _, a := range c.agents {
			a.kill()
		}
		for n := range c.agents {
			_ = exec.Command("ip", "netns", "del", c.netns(n)).Run()
		}
		_ = exec.Command("ip", "link", "del", bridge).Run()
	})
}

// hostName is a link name of this test's (at most 15 bytes).
func (c *procCluster) hostName(prefix string, n int) string {
	return fmt.Sprintf("%s%d-%d-%d", prefix, os.Getpid()%100000, c.subnet%100, n)
}

func (c *procCluster) netns(agent string) string {
	return fmt.Sprintf("shn%d-%d-%s", os.Getpid(), c.subnet, agent)
}

// hostFor makes agent n's network namespace, with address 10.199.SUBNET.n.
func (c *procCluster) hostFor(n int, name string) string {
	ns := c.netns(name)
	if exec.Command("ip", "netns", "exec", ns, "true").Run() == nil {
		return fmt.Sprintf("10.199.%d.%d", c.subnet%250, n) // a restart: it is there
	}
	outer, inner := c.hostName("shv", n), c.hostName("shp", n)
	ip := fmt.Sprintf("10.199.%d.%d", c.subnet%250, n)
	sh(c.t, "ip", "netns", "add", ns)
	sh(c.t, "ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
	sh(c.t, "ip", "link", "set", inner, "netns", ns)
	sh(c.t, "ip", "link", "set", outer, "master", c.hostName("shh", 0), "up")
	sh(c.t, "ip", "-n", ns, "link", "set", inner, "name", "eth0")
	sh(c.t, "ip", "-n", ns, "addr", "add", ip+"/24", "dev", "eth0")
	sh(c.t, "ip", "-n", ns, "link", "set", "eth0", "up")
	sh(c.t, "ip", "-n", ns, "link", "set", "lo", "up")
	sh(c.t, "ip", "-n", ns, "route", "add", "default", "via", fmt.Sprintf("10.199.%d.254", c.subnet%250))
	return ip
}

// inHost runs a command in agent name's network namespace.
func (c *procCluster) inHost(name string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", c.netns(name)}, args...)...).CombinedOutput()
	return string(out), err
}

func sh(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// spawn starts `shoal agent` for peer n; extra are further flags.
func (c *procCluster) spawn(n int, extra ...string) *agent {
	name := fmt.Sprintf("p%d", n)
	a, ok := c.agents[name]
	if !ok {
		a = &agent{name: name, dir: filepath.Join(c.base, name), ip: fmt.Sprintf("127.%d.%d.%d", netOctet, c.subnet, n)}
		if c.hosts {
			a.ip = c.hostFor(n, name)
		}
		c.agents[name] = a
	}
	// No pods unless a test asks for a runtime (a later --runtime wins).
	args := []string{"agent", "--name", name, "--data-dir", a.dir, "--bind", a.ip,
		"--region", "r1", "--zone", fmt.Sprintf("z%d", n), "--runtime", "none"}
	if !c.hosts { // the test's own host: no service route there
		args = append(args, "--service-route=false")
	}
	args = append(args, extra...)
	a.log = &syncBuffer{}
	a.cmd = exec.Command(shoalBin, args...)
	if c.hosts {
		// nsenter enters the network namespace only: `ip netns exec` would
		// also give the agent a mount namespace of its own, and the pod
		// network namespaces it bind-mounts would be invisible to containerd.
		a.cmd = exec.Command("nsenter", append([]string{"--net=/var/run/netns/" + c.netns(name), shoalBin}, args...)...)
	}
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	// The agent dies with the test binary, even when a timeout kills it.
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := a.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	a.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		a.exitErr = cmd.Wait()
		close(done)
	}(a.cmd, a.exited)
	return a
}

// start spawns peer n (joining through via unless via is 0) and waits for
// its API to answer.
func (c *procCluster) start(n, via int, flags ...string) *agent {
	c.t.Helper()
	extra := flags
	if via != 0 {
		extra = append(extra, "--join", c.agent(via).api(), "--token", c.token())
	}
	a := c.spawn(n, extra...)
	if c.config == "" {
		c.config = filepath.Join(a.dir, "admin.conf")
	}
	c.waitFor(20*time.Second, a.name+"'s API", func() bool {
		if !a.running() {
			c.t.Fatalf("%s exited: %s", a.name, a.log.String())
		}
		_, err := c.cli("members", "--server", "https://"+a.api())
		return err == nil
	})
	return a
}

func (c *procCluster) agent(n int) *agent { return c.agents[fmt.Sprintf("p%d", n)] }

func (c *procCluster) token() string {
	b, err := os.ReadFile(filepath.Join(c.agent(1).dir, "join-token"))
	if err != nil {
		c.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// cli runs a client command against the cluster.
func (c *procCluster) cli(args ...string) (string, error) {
	cmd := exec.Command(shoalBin, append(args, "--config", c.config)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("shoal %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// mustCLI runs the CLI and fails the test if it fails.
// apply writes yaml to a file of the test's and applies it.
func (c *procCluster) apply(name, yaml string) {
	c.t.Helper()
	f := filepath.Join(c.base, name+".yaml")
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		c.t.Fatal(err)
	}
	c.mustCLI("apply", "-f", f)
}

func (c *procCluster) mustCLI(args ...string) string {
	c.t.Helper()
	out, err := c.cli(args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// apiClient talks to one agent with the admin config.
func (c *procCluster) apiClient(a *agent) *api.Client {
	cfg, err := api.LoadConfig(c.config)
	if err != nil {
		c.t.Fatal(err)
	}
	cl, err := api.NewClient(cfg, "https://"+a.api())
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(cl.Close)
	return cl
}

func (c *procCluster) statuses(via *agent) map[string]string {
	out, err := c.cli("members", "-o", "json", "--server", "https://"+via.api())
	if err != nil {
		return nil
	}
	var ml api.MemberList
	if json.Unmarshal([]byte(out), &ml) != nil {
		return nil
	}
	m := map[string]string{}
	for _, x := range ml.Members {
		m[x.Name] = x.Status
	}
	return m
}

func (c *procCluster) waitStatus(name, status string, observers ...*agent) {
	c.t.Helper()
	c.waitFor(30*time.Second, name+" "+status, func() bool {
		for _, o := range observers {
			if c.statuses(o)[name] != status {
				return false
			}
		}
		return true
	})
}

func (c *procCluster) waitFor(timeout time.Duration, what string, cond func() bool) {
	c.t.Helper()
	if !poll.Until(timeout, 100*time.Millisecond, cond) {
		c.t.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}

func (c *procCluster) running() []*agent {
	var out []*agent
	for _, a := range c.agents {
		if a.running() {
			out = append(out, a)
		}
	}
	return out
}

func TestAgentProcessesOf1_3_5SeeEachOtherAlive(t *testing.T) {
	for _, n := range []int{1, 3, 5} {
		t.Run(fmt.Sprintf("peers=%d", n), func(t *testing.T) {
			c := newProcCluster(t)
			c.start(1, 0)
			for i := 2; i <= n; i++ {
				c.start(i, i-1)
			}
			all := c.running()
			for _, a := range all {
				c.waitStatus(a.name, "alive", all...)
			}
			out, err := c.cli("members")
			if err != nil {
				t.Fatal(err)
			}
			if lines := strings.Count(strings.TrimSpace(out), "\n"); lines != n {
				t.Fatalf("members table has %d rows, want %d:\n%s", lines, n, out)
			}
		})
	}
}

func TestKill9ThenRestartWithSameIdentity(t *testing.T) {
	c := newProcCluster(t)
	p1 := c.start(1, 0)
	p2 := c.start(2, 1)
	p3 := c.start(3, 1)
	c.waitStatus("p3", "alive", p1, p2)
	cert, err := os.ReadFile(filepath.Join(p2.dir, "pki/peer.crt"))
	if err != nil {
		t.Fatal(err)
	}
	p2.kill()
	c.waitStatus("p2", "failed", p1, p3)

	c.start(2, 0) // same data dir, no --join
	c.waitStatus("p2", "alive", p1, p2, p3)
	after, _ := os.ReadFile(filepath.Join(p2.dir, "pki/peer.crt"))
	if !bytes.Equal(cert, after) {
		t.Fatal("p2 came back with a new certificate")
	}
}

func TestJoinThroughSecondAfterFirstIsKilled(t *testing.T) {
	c := newProcCluster(t)
	p1 := c.start(1, 0)
	p2 := c.start(2, 1)
	c.waitStatus("p2", "alive", p1)
	token := c.token()
	p1.kill()
	c.waitStatus("p1", "failed", p2)
	p3 := c.spawn(3, "--join", p2.api(), "--token", token)
	c.waitStatus("p3", "alive", p2)
	c.waitStatus("p2", "alive", p3)
}

// expectJoinFails spawns peer n with a token and expects it to exit 1 with an
// error mentioning want.
func expectJoinFails(c *procCluster, n int, via *agent, token, want string) {
	c.t.Helper()
	a := c.spawn(n, "--join", via.api(), "--token", token)
	select {
	case <-a.exited:
		err := a.exitErr
		var ee *exec.ExitError
		if !asExit(err, &ee) || ee.ExitCode() != 1 {
			c.t.Fatalf("p%d: exit %v, want status 1", n, err)
		}
	case <-time.After(30 * time.Second):
		c.t.Fatalf("p%d with a bad token is still running", n)
	}
	if !strings.Contains(a.log.String(), want) {
		c.t.Fatalf("p%d's error does not mention %q:\n%s", n, want, a.log.String())
	}
	if _, listed := c.statuses(via)[a.name]; listed {
		c.t.Fatalf("p%d is a member after a failed join", n)
	}
}

func asExit(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}

func TestBadTokensAreRefusedWithClearErrors(t *testing.T) {
	c := newProcCluster(t)
	p1 := c.start(1, 0)
	good := c.token()
	pin, cred, _ := strings.Cut(good, "::")
	id, _, _ := strings.Cut(cred, ".")

	expectJoinFails(c, 2, p1, pin+"::"+id+".0000000000000000", "wrong secret")

	revoked, err := c.cli("token", "create", "--ttl", "1h")
	if err != nil {
		t.Fatal(err)
	}
	revoked = strings.TrimSpace(revoked)
	_, rcred, _ := strings.Cut(revoked, "::")
	rid, _, _ := strings.Cut(rcred, ".")
	if out, err := c.cli("token", "revoke", rid); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("token revoke: %q %v", out, err)
	}
	expectJoinFails(c, 3, p1, revoked, "revoked")

	expiring, err := c.cli("token", "create", "--ttl", "1s")
	if err != nil {
		t.Fatal(err)
	}
	c.waitFor(10*time.Second, "the token to expire", func() bool {
		out, _ := c.cli("token", "list")
		return strings.Contains(out, "expired")
	})
	expectJoinFails(c, 4, p1, strings.TrimSpace(expiring), "expired")

	other := newProcCluster(t)
	other.start(1, 0)
	expectJoinFails(c, 5, p1, other.token(), "CA")
}

func TestCLIWithoutCredentialsIsRefused(t *testing.T) {
	c := newProcCluster(t)
	c.start(1, 0)
	cfg, err := api.LoadConfig(c.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ClientCertificate, cfg.ClientKey = "", ""
	anon := filepath.Join(t.TempDir(), "anon.conf")
	if err := cfg.Save(anon); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(shoalBin, "members", "--config", anon)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !asExit(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "unauthenticated") {
		t.Fatalf("members without credentials: %v %s", err, out)
	}
}

func TestLeaveCommandStopsThePeerGracefully(t *testing.T) {
	c := newProcCluster(t)
	p1 := c.start(1, 0)
	p2 := c.start(2, 1)
	c.waitStatus("p2", "alive", p1)
	out, err := c.cli("leave", "--server", "https://"+p2.api())
	if err != nil || !strings.Contains(out, "peer/p2 leaving") {
		t.Fatalf("leave: %q %v", out, err)
	}
	select {
	case <-p2.exited:
		if p2.exitErr != nil {
			t.Fatalf("p2 exited with %v after leave", p2.exitErr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("p2 still running after leave")
	}
	c.waitStatus("p2", "left", p1)
	// SIGTERM is a graceful leave too.
	c.start(2, 0)
	c.waitStatus("p2", "alive", p1)
	_ = p2.cmd.Process.Signal(syscall.SIGTERM)
	c.waitStatus("p2", "left", p1)
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"members", "extra"},
		{"no-such-command"},
		{"members", "-o", "xml"},
		{"token", "revoke"},
		{"agent", "--gossip-profile", "moon"},
	} {
		cmd := exec.Command(shoalBin, args...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !asExit(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("shoal %s: %v, want exit 2\n%s", strings.Join(args, " "), err, out)
		}
	}
}
