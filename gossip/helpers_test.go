package gossip

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The cluster's gossip key and an intruder's.
var (
	clusterKey = bytes.Repeat([]byte{0x5a}, 32)
	wrongKey   = bytes.Repeat([]byte{0xa5}, 32)
)

// converge is how long tests give gossip to agree: far above the LAN
// profile's ~1 s failure detection, so only a real bug times out.
const converge = 15 * time.Second

// testLogger discards logs unless SHOAL_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("SHOAL_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// waitFor polls cond until it holds or timeout passes, then fails the
// test with what. It is the only way tests wait: no fixed sleeps.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: "+what, append([]any{timeout}, args...)...)
		}
		<-tick.C
	}
}

// harness starts members on one transport: a MemNetwork, or UDP/TCP on
// 127.0.0.1 with free ports when net is nil.
type harness struct {
	t   testing.TB
	net *MemNetwork
}

// forEachTransport runs the same scenario on both transports.
func forEachTransport(t *testing.T, scenario func(t *testing.T, h *harness)) {
	t.Run("mem", func(t *testing.T) {
		t.Parallel()
		scenario(t, &harness{t: t, net: NewMemNetwork()})
	})
	t.Run("udp", func(t *testing.T) {
		t.Parallel()
		scenario(t, &harness{t: t})
	})
}

// config is a member's configuration on h's transport, with tags derived
// from the name.
func (h *harness) config(name string) Config {
	c := Config{
		Name:    name,
		Keyring: [][]byte{clusterKey},
		Tags:    tagsFor(name),
		Logger:  testLogger(),
	}
	if h.net != nil {
		c.Network = h.net
	} else {
		c.BindAddr = "127.0.0.1"
	}
	return c
}

func tagsFor(name string) Tags {
	return Tags{
		Region:  "eu",
		Zone:    "eu-" + name,
		API:     "127.0.0.1:8443",
		Raft:    "127.0.0.1:7000",
		Tunnel:  "127.0.0.1:7001",
		Version: "v0.1.0",
	}
}

// start starts a member and shuts it down when the test ends.
func (h *harness) start(cfg Config) *Membership {
	h.t.Helper()
	m, err := Start(context.Background(), cfg)
	if err != nil {
		h.t.Fatalf("start %s: %v", cfg.Name, err)
	}
	h.t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// restartConfig is the configuration for restarting the crashed member
// old under its name at its address, as a rebooted peer with a fixed
// gossip port would: over UDP the same port, in memory the same address
// (which MemNetwork gives a returning name anyway).
func (h *harness) restartConfig(old *Membership) Config {
	cfg := h.config(old.Name())
	if h.net == nil {
		_, port, _ := net.SplitHostPort(old.LocalAddr())
		cfg.BindPort, _ = strconv.Atoi(port)
	}
	return cfg
}

// join makes m join the member at addr.
func (h *harness) join(m *Membership, addr string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), converge)
	defer cancel()
	if n, err := m.Join(ctx, []string{addr}); err != nil || n != 1 {
		h.t.Fatalf("%s joins %s: joined %d, %v", m.Name(), addr, n, err)
	}
}

// cluster starts n members named m0..m{n-1}, joins each to m0 and waits
// until every member sees every other alive.
func (h *harness) cluster(n int) []*Membership {
	h.t.Helper()
	ms := make([]*Membership, n)
	for i := range ms {
		ms[i] = h.start(h.config(fmt.Sprintf("m%d", i)))
		if i > 0 {
			h.join(ms[i], ms[0].LocalAddr())
			// One join at a time, as peers are added: the seed answers a
			// joiner before merging it, so the next joiner could miss
			// this one until a push/pull.
			waitAllSee(h.t, ms[:1], ms[i:i+1], StatusAlive)
		}
	}
	waitAllSee(h.t, ms, ms, StatusAlive)
	return ms
}

// statusOf returns how observer sees name, "" if not at all.
func statusOf(observer *Membership, name string) Status {
	for _, m := range observer.Members() {
		if m.Name == name {
			return m.Status
		}
	}
	return ""
}

// waitAllSee waits until every observer sees every member of targets
// with status.
func waitAllSee(t testing.TB, observers, targets []*Membership, status Status) {
	t.Helper()
	for _, o := range observers {
		for _, tg := range targets {
			waitFor(t, converge, func() bool { return statusOf(o, tg.Name()) == status },
				"%s sees %s %s (it sees %q)", o.Name(), tg.Name(), status, lazyStatus{o, tg.Name()})
		}
	}
}

type lazyStatus struct {
	o    *Membership
	name string
}

func (l lazyStatus) String() string { return string(statusOf(l.o, l.name)) }

// recorder keeps every event one member delivers to a subscription.
type recorder struct {
	mu     sync.Mutex
	events []Event
	done   chan struct{}
}

// record subscribes to m's events until the test ends or m shuts down.
func record(t testing.TB, m *Membership) *recorder {
	ch, cancel := m.Subscribe(1024)
	r := &recorder{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for ev := range ch {
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// find returns the first recorded event of kind for member name.
func (r *recorder) find(kind EventKind, name string) (Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.events {
		if ev.Kind == kind && ev.Member.Name == name {
			return ev, true
		}
	}
	return Event{}, false
}

// count returns how many events of kind for name were recorded.
func (r *recorder) count(kind EventKind, name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.Kind == kind && ev.Member.Name == name {
			n++
		}
	}
	return n
}

// waitEvent waits for an event of kind for name and returns it.
func (r *recorder) waitEvent(t testing.TB, kind EventKind, name string) Event {
	t.Helper()
	var ev Event
	waitFor(t, converge, func() bool {
		var ok bool
		ev, ok = r.find(kind, name)
		return ok
	}, "event %s for %s", kind, name)
	return ev
}

// describe lists the recorded events for name, for failure messages.
func (r *recorder) describe(name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.events {
		if ev.Member.Name == name {
			out = append(out, fmt.Sprintf("%s@%s:%d(%s)", ev.Kind, ev.Member.Addr, ev.Member.Port, ev.At.Format("05.000")))
		}
	}
	return out
}
