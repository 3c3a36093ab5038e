package peer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/internal/poll"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
	"github.com/shoalproject/shoal/workload/runtime/fake"
)

// testCluster runs peers in this process on 127.0.0.1 with free ports and
// real gossip sockets.
type testCluster struct {
	t     testing.TB
	base  string
	grace time.Duration // replica repair grace; default the peer's
	dirs  map[string]string
	peers map[string]*Peer
	now   func() time.Time
	// withRuntime gives every peer started afterwards an in-memory runtime,
	// kept in runtimes by peer name.
	withRuntime bool
	rtMu        sync.Mutex
	runtimes    map[string]*fake.Runtime
	// onTerm, when set, is called as a container gets SIGTERM, with its
	// runtime's lock held.
	onTerm atomic.Pointer[func(sb runtime.Sandbox)]
	// network, when set, carries every peer's gossip in memory.
	network *gossip.MemNetwork
	// clusterCIDR and serviceCIDR, when set, are the peers'.
	clusterCIDR, serviceCIDR string
	// capacity is, by peer name, the Config.Capacity a peer starts with.
	capacity map[string]workload.ResourceList
}

func newTestCluster(t testing.TB) *testCluster {
	// base is made before the cleanup below is registered, so peers stop
	// before their directories are removed.
	c := &testCluster{t: t, base: t.TempDir(), dirs: map[string]string{}, peers: map[string]*Peer{}, now: time.Now}
	t.Cleanup(func() {
		for _, p := range c.peers {
			p.Kill()
		}
	})
	return c
}

// testLogger logs to stderr with -v; otherwise it keeps the log, and a
// test that fails prints its last lines (CI runs without -v).
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	buf := &logTail{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the last %d lines the peers logged:\n%s", logTailLines, buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

const logTailLines = 300

// logTail keeps the last logTailLines lines written to it.
type logTail struct {
	mu    sync.Mutex
	lines []string
}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimRight(string(p), "\n"))
	if len(l.lines) > 2*logTailLines {
		l.lines = append(l.lines[:0], l.lines[len(l.lines)-logTailLines:]...)
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines[max(0, len(l.lines)-logTailLines):], "\n")
}

func (c *testCluster) config(name, join, token string) Config {
	dir, ok := c.dirs[name]
	if !ok {
		dir = filepath.Join(c.base, name)
		c.dirs[name] = dir
	}
	cfg := Config{
		Name: name, DataDir: dir, BindAddr: "127.0.0.1",
		Region: "r1", Zone: "z-" + name,
		Join: join, Token: token,
		TokenSyncInterval:  200 * time.Millisecond,
		ReplicaRepairGrace: c.grace,
		GossipNetwork:      c.network,
		Logger:             testLogger(c.t),
		Now:                c.now,
		ClusterCIDR:        c.clusterCIDR,
		ServiceCIDR:        c.serviceCIDR,
		Capacity:           c.capacity[name],
	}
	if c.withRuntime {
		cfg.Runtime = func(ctx context.Context, podCIDR string) (runtime.Runtime, error) {
			rt, err := fake.New(fake.Config{PodCIDR: podCIDR, Behave: func(sb runtime.Sandbox, cc runtime.ContainerConfig) fake.Behaviour {
				out := "hello from " + sb.Name + "\n"
				for _, e := range cc.Env { // what service variables a container got
					if strings.Contains(e, "_SERVICE_HOST=") {
						out += e + "\n"
					}
				}
				onTerm := func() {
					if f := c.onTerm.Load(); f != nil {
						(*f)(sb)
					}
				}
				return fake.Behaviour{Output: out, OnTerm: onTerm, Exec: func(cmd []string, stdin io.Reader, stdout, _ io.Writer) int {
					in, _ := io.ReadAll(stdin)
					fmt.Fprintf(stdout, "ran %s with %q", strings.Join(cmd, " "), in)
					return len(cmd)
				}}
			}})
			if err != nil {
				return nil, err
			}
			if _, err := rt.PullImage(ctx, "shoal.local/webapp:v1", runtime.PullOptions{}); err != nil {
				return nil, err
			}
			c.rtMu.Lock()
			defer c.rtMu.Unlock()
			if c.runtimes == nil {
				c.runtimes = map[string]*fake.Runtime{}
			}
			c.runtimes[name] = rt
			return rt, nil
		}
	}
	return cfg
}

func (c *testCluster) runtime(name string) *fake.Runtime {
	c.rtMu.Lock()
	defer c.rtMu.Unlock()
	return c.runtimes[name]
}

// start starts (or restarts) a peer; join names the peer to join through.
func (c *testCluster) start(name, via string) *Peer {
	c.t.Helper()
	p, err := c.tryStart(name, via, "")
	if err != nil {
		c.t.Fatalf("start %s: %v", name, err)
	}
	return p
}

func (c *testCluster) tryStart(name, via, token string) (*Peer, error) {
	join := ""
	if via != "" {
		join = c.peers[via].APIAddr()
		if token == "" {
			token = c.joinToken()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := Start(ctx, c.config(name, join, token))
	if err != nil {
		return nil, err
	}
	c.peers[name] = p
	return p, nil
}

// joinToken is the token the first peer wrote at bootstrap.
func (c *testCluster) joinToken() string {
	for _, dir := range c.dirs {
		if b, err := os.ReadFile(filepath.Join(dir, FileJoinToken)); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	c.t.Fatal("no peer has a join-token file")
	return ""
}

func (c *testCluster) client(name string) *api.Client {
	c.t.Helper()
	cfg, err := c.peers[name].AdminConfig()
	if err != nil {
		c.t.Fatal(err)
	}
	cl, err := api.NewClient(cfg, "")
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(cl.Close)
	return cl
}

// statuses is name -> status as one peer's API reports it.
func (c *testCluster) statuses(via string) map[string]string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ml, err := c.client(via).Members(ctx)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, m := range ml.Members {
		out[m.Name] = m.Status
	}
	return out
}

// waitStatus waits until every peer in observers reports name in status.
func (c *testCluster) waitStatus(name, status string, observers ...string) {
	c.t.Helper()
	waitFor(c.t, 20*time.Second, name+" "+status+" everywhere", func() bool {
		for _, o := range observers {
			if c.statuses(o)[name] != status {
				return false
			}
		}
		return true
	})
}

func (c *testCluster) names() []string {
	var out []string
	for n, p := range c.peers {
		select {
		case <-p.Done():
		default:
			out = append(out, n)
		}
	}
	return out
}

// waitReplicas waits until every shard has n voting replicas in the map.
// startPeers starts p1 and then p2..pn joining it.
func (c *testCluster) startPeers(n int) {
	c.t.Helper()
	c.start("p1", "")
	for i := 2; i <= n; i++ {
		c.start("p"+strconv.Itoa(i), "p1")
	}
}

func (c *testCluster) waitReplicas(n int) { c.t.Helper(); c.waitReplicasOn(n, "") }

// waitReplicasOn waits until every shard has n voting replicas, none on
// the peer named avoid.
func (c *testCluster) waitReplicasOn(n int, avoid string) {
	c.t.Helper()
	var any *Peer
	for _, p := range c.peers {
		select {
		case <-p.Done():
			continue
		default:
		}
		any = p
		break
	}
	waitFor(c.t, 60*time.Second, fmt.Sprintf("%d replicas of every shard", n), func() bool {
		recs, err := any.ctl.Records(context.Background())
		if err != nil || len(recs) != len(any.router.Shards()) {
			return false
		}
		for _, r := range recs {
			voting := 0
			for _, rr := range r.Replicas {
				if rr.Peer == avoid {
					return false
				}
				if !rr.NonVoting {
					voting++
				}
			}
			if voting != n || len(r.Replicas) != n {
				return false
			}
			// Raft membership must agree too: until the dead replica is out
			// of it, a second failure could cost the shard its quorum.
			if !c.membershipIs(r.ID, n) {
				return false
			}
		}
		return true
	})
}

// membershipIs says whether a live holder of the shard sees exactly n voting
// members and no non-voting one.
func (c *testCluster) membershipIs(shard uint64, n int) bool {
	for _, p := range c.peers {
		select {
		case <-p.Done():
			continue
		default:
		}
		if !p.host.Has(shard) {
			continue
		}
		m, err := p.host.Membership(context.Background(), shard)
		return err == nil && len(m.Voting) == n && len(m.NonVoting) == 0
	}
	return false
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll.Until(timeout, 50*time.Millisecond, cond) {
		t.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}

// fakeClock is a settable clock for token expiry.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }

func (f *fakeClock) Advance(d time.Duration) { f.mu.Lock(); f.t = f.t.Add(d); f.mu.Unlock() }

var _ = gossip.StatusAlive

func readAll(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
