package consensus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lni/dragonboat/v4"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/pki"
	"github.com/shoalproject/shoal/internal/poll"
)

// testHosts runs n raft hosts in this process on 127.0.0.1, with mutual TLS
// from a throwaway CA, each holding a replica of every shard in shards.
type testHosts struct {
	t      testing.TB
	hosts  []*Host // nil once closed
	addrs  []string
	shards []uint64
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func writePKI(t testing.TB, dir string, ca *pki.CA) (caFile, certFile, keyFile string) {
	key, cert, err := ca.Issue(pki.CertRequest{CommonName: "host", Organization: pki.OrgPeers, IPs: []net.IP{net.ParseIP("127.0.0.1")}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	kp, _ := pki.EncodeKey(key)
	caFile, certFile, keyFile = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "peer.crt"), filepath.Join(dir, "peer.key")
	for f, b := range map[string][]byte{caFile: pki.EncodeCert(ca.Cert), certFile: pki.EncodeCert(cert), keyFile: kp} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return
}

func newTestHosts(t testing.TB, n int, shards []uint64, historyLimit int) *testHosts {
	t.Helper()
	ca, err := pki.NewCA("test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	th := &testHosts{t: t, shards: shards}
	initial := map[uint64]string{}
	for i := 0; i < n; i++ {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		th.addrs = append(th.addrs, addr)
		initial[uint64(i+1)] = addr
	}
	for i := 0; i < n; i++ {
		dir := filepath.Join(base, fmt.Sprintf("h%d", i+1))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		caFile, certFile, keyFile := writePKI(t, dir, ca)
		h, err := NewHost(HostConfig{
			Dir: dir, RaftAddress: th.addrs[i], CAFile: caFile, CertFile: certFile, KeyFile: keyFile,
			RTT: 10 * time.Millisecond, HistoryLimit: historyLimit,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		th.hosts = append(th.hosts, h)
		for _, s := range shards {
			if err := h.StartReplica(s, uint64(i+1), initial, false, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() {
		for _, h := range th.hosts {
			if h != nil {
				h.Close()
			}
		}
	})
	return th
}

// leader waits for a shard to have a leader and returns its host index.
func (th *testHosts) leader(shard uint64) int {
	th.t.Helper()
	leader := -1
	if !poll.Until(20*time.Second, 20*time.Millisecond, func() bool {
		for _, h := range th.hosts {
			if h == nil {
				continue
			}
			if id, _, ok := h.Leader(shard); ok && th.hosts[id-1] != nil {
				leader = int(id - 1)
				return true
			}
		}
		return false
	}) {
		th.t.Fatalf("shard %d has no leader", shard)
	}
	return leader
}

func (th *testHosts) kill(i int) {
	th.hosts[i].Close()
	th.hosts[i] = nil
}

func cm(name, value string) Object {
	return Object{Kind: "ConfigMap", Namespace: "default", Name: name, Labels: map[string]string{"app": "web"}, Data: []byte(`{"v":"` + value + `"}`)}
}

func createBatch(o Object) Batch { return Batch{Commands: []Command{create(o)}} }

func TestWriteThroughOneHostIsReadThroughEvery(t *testing.T) {
	th := newTestHosts(t, 3, []uint64{MetaShard, 2}, 0)
	ctx := context.Background()
	th.leader(2)
	res, err := th.hosts[1].Propose(ctx, 2, createBatch(cm("app", "1"))) // through a host that may be a follower
	if err != nil {
		t.Fatal(err)
	}
	if res.Objects[0].ResourceVersion == 0 {
		t.Fatal("no resourceVersion")
	}
	for i, h := range th.hosts {
		o, err := h.Get(ctx, 2, Key{"ConfigMap", "default", "app"}, true)
		if err != nil || string(o.Data) != `{"v":"1"}` {
			t.Fatalf("host %d: %v %s", i, err, o.Data)
		}
		l, err := h.List(ctx, 2, Filter{Kind: "ConfigMap", Selector: "app=web"}, true)
		if err != nil || len(l.Objects) != 1 || l.Index < res.Index {
			t.Fatalf("host %d list: %v %+v", i, err, l)
		}
	}
	if _, err := th.hosts[2].Get(ctx, 2, Key{"ConfigMap", "default", "nope"}, true); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("missing object: %v", err)
	}
	if _, err := th.hosts[0].Propose(ctx, 2, createBatch(cm("app", "2"))); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := th.hosts[0].Propose(ctx, 99, createBatch(cm("x", "1"))); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("unknown shard: %v", err)
	}
}

func TestConflictingCompareAndSwapExactlyOneWins(t *testing.T) {
	th := newTestHosts(t, 3, []uint64{2}, 0)
	ctx := context.Background()
	th.leader(2)
	res, err := th.hosts[0].Propose(ctx, 2, createBatch(cm("app", "0")))
	if err != nil {
		t.Fatal(err)
	}
	rv := res.Objects[0].ResourceVersion
	for round := 0; round < 10; round++ {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		vers := make([]uint64, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := th.hosts[i+1].Propose(ctx, 2, Batch{Commands: []Command{{Op: OpUpdate, Object: cm("app", fmt.Sprint(round, i)), Precondition: rv}}})
				errs[i] = err
				if err == nil {
					vers[i] = r.Objects[0].ResourceVersion
				}
			}()
		}
		wg.Wait()
		wins := 0
		for i, err := range errs {
			switch {
			case err == nil:
				wins++
				rv = vers[i]
			case errors.Is(err, errdefs.ErrConflict):
			default:
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d updates won, want exactly 1 (%v)", round, wins, errs)
		}
	}
}

func TestWatchSeesEveryChangeOnceInOrderAcrossLeaderChange(t *testing.T) {
	th := newTestHosts(t, 3, []uint64{2}, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lead := th.leader(2)
	watcher := (lead + 1) % 3
	events, err := th.hosts[watcher].Watch(ctx, 2, 0, Filter{Kind: "ConfigMap"})
	if err != nil {
		t.Fatal(err)
	}
	var acked []uint64
	write := func(via, i int) {
		ctx, c := context.WithTimeout(ctx, 10*time.Second)
		defer c()
		res, err := th.hosts[via].Propose(ctx, 2, createBatch(cm(fmt.Sprintf("c%03d", i), "x")))
		if err != nil {
			t.Fatalf("write %d through host %d: %v", i, via, err)
		}
		acked = append(acked, res.Index)
	}
	for i := range 20 {
		write(watcher, i)
	}
	th.kill(lead) // the leader goes; the watcher's replica stays
	th.leader(2)
	for i := 20; i < 40; i++ {
		write(watcher, i)
	}
	var seen []uint64
	timeout := time.After(20 * time.Second)
	for len(seen) < len(acked) {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatalf("watch closed after %d events", len(seen))
			}
			if e.Type != Added {
				t.Fatalf("event %v", e.Type)
			}
			seen = append(seen, e.Object.ResourceVersion)
		case <-timeout:
			t.Fatalf("saw %d of %d changes", len(seen), len(acked))
		}
	}
	for i := range acked {
		if seen[i] != acked[i] {
			t.Fatalf("change %d: watch saw version %d, write was acknowledged at %d", i, seen[i], acked[i])
		}
	}
}

func TestWatchFromCompactedVersionIsGone(t *testing.T) {
	th := newTestHosts(t, 1, []uint64{2}, 10)
	ctx := context.Background()
	th.leader(2)
	for i := range 30 {
		if _, err := th.hosts[0].Propose(ctx, 2, createBatch(cm(fmt.Sprintf("c%d", i), "x"))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := th.hosts[0].Watch(ctx, 2, 1, Filter{}); !errors.Is(err, errdefs.ErrGone) {
		t.Fatalf("watch from version 1 after 30 writes with history 10: %v, want ErrGone", err)
	}
	idx, _ := th.hosts[0].List(ctx, 2, Filter{}, true)
	if _, err := th.hosts[0].Watch(ctx, 2, idx.Index, Filter{}); err != nil {
		t.Fatalf("watch from the current version: %v", err)
	}
}

func TestAcknowledgedWritesSurviveLosingTheLeader(t *testing.T) {
	th := newTestHosts(t, 3, []uint64{2}, 0)
	ctx := context.Background()
	lead := th.leader(2)
	survivors := []int{(lead + 1) % 3, (lead + 2) % 3}
	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("w%d-%d", w, i)
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := th.hosts[survivors[w%2]].Propose(cctx, 2, createBatch(cm(name, "x")))
				cancel()
				if err == nil {
					mu.Lock()
					acked[name] = true
					mu.Unlock()
				}
			}
		}()
	}
	waitCount := func(n int) {
		c := 0
		if !poll.Until(20*time.Second, 10*time.Millisecond, func() bool {
			mu.Lock()
			c = len(acked)
			mu.Unlock()
			return c >= n
		}) {
			t.Fatalf("only %d writes acknowledged, want %d", c, n)
		}
	}
	waitCount(50)
	th.kill(lead)
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	waitCount(before + 50) // writes resume on the two survivors
	close(stop)
	wg.Wait()
	l, err := th.hosts[survivors[0]].List(ctx, 2, Filter{Kind: "ConfigMap"}, true)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, o := range l.Objects {
		stored[o.Name] = true
	}
	for name := range acked {
		if !stored[name] {
			t.Fatalf("acknowledged write %s is lost", name)
		}
	}
}

func TestRaftErrorCallsPassingFailuresUnavailable(t *testing.T) {
	for _, err := range []error{dragonboat.ErrTimeout, dragonboat.ErrTimeoutTooSmall, dragonboat.ErrShardNotReady,
		dragonboat.ErrSystemBusy, dragonboat.ErrCanceled, dragonboat.ErrShardNotInitialized, context.DeadlineExceeded} {
		if got := raftError(err); !errors.Is(got, errdefs.ErrUnavailable) {
			t.Errorf("raftError(%v) = %v, want it unavailable", err, got)
		}
	}
	if got := raftError(dragonboat.ErrPayloadTooBig); errors.Is(got, errdefs.ErrUnavailable) {
		t.Errorf("raftError(ErrPayloadTooBig) = %v: a too-big payload is no passing failure", got)
	}
}
