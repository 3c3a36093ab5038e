package containerd_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/testimage"
	"github.com/shoalproject/shoal/workload/runtime"
	"github.com/shoalproject/shoal/workload/runtime/containerd"
	"github.com/shoalproject/shoal/workload/runtime/containerd/containerdtest"
	"github.com/shoalproject/shoal/workload/runtime/runtimetest"
)

// peerNet is one owner's bridge, pod CIDR and state directory, kept so a
// second runtime of the same owner (an agent restart) finds its state.
type peerNet struct {
	bridge, cidr, stateDir string
}

// harness makes runtimes on a private containerd, one bridge and pod CIDR
// per owner, and removes every sandbox an owner left at the end of the
// test that made it.
type harness struct {
	d  *containerdtest.Daemon
	mu sync.Mutex
	by map[string]peerNet
}

func newHarness(t *testing.T) *harness {
	return &harness{d: containerdtest.Start(t), by: map[string]peerNet{}}
}

func (h *harness) New(t *testing.T, owner string) runtime.Runtime {
	t.Helper()
	h.mu.Lock()
	n, ok := h.by[owner]
	if !ok {
		bridge, cidr := containerdtest.Network(t)
		n = peerNet{bridge: bridge, cidr: cidr, stateDir: filepath.Join(h.d.Dir, "peers", owner)}
		h.by[owner] = n
	}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rt, err := containerd.New(ctx, containerd.Config{
		Address:     h.d.Address,
		Namespace:   owner,
		StateDir:    n.stateDir,
		PodCIDR:     n.cidr,
		BridgeName:  n.bridge,
		CNIBinDir:   containerdtest.CNIBinDir,
		NetNSPrefix: containerdtest.NetNSPrefix() + owner + "-",
		Logger:      slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		reap(t, rt)
		rt.Close()
	})
	return rt
}

// stateDir is owner's Config.StateDir.
func (h *harness) stateDir(owner string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.by[owner].stateDir
}

// reap removes the runtime's sandboxes and checks nothing is left on the
// host: no network namespace, no IP address held.
func reap(t *testing.T, rt *containerd.Runtime) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sbs, err := rt.ListSandboxes(ctx)
	if err != nil {
		t.Errorf("cleanup: list sandboxes: %v", err)
		return
	}
	for _, sb := range sbs {
		if err := rt.RemoveSandbox(ctx, sb.ID); err != nil {
			t.Errorf("cleanup: remove sandbox %s: %v", sb.ID, err)
		}
		if _, err := os.Stat(sb.NetNSPath); !os.IsNotExist(err) {
			t.Errorf("cleanup: network namespace %s left behind (%v)", sb.NetNSPath, err)
		}
	}
}

func TestConformance(t *testing.T) {
	h := newHarness(t)
	runtimetest.Run(t, runtimetest.Harness{
		New:      h.New,
		ImageTar: testimage.Cached(t, runtimetest.TesteeSpec),
	})
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
