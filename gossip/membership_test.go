package gossip

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

func TestClusterFormsAndDecodesTags(t *testing.T) {
	for _, n := range []int{1, 3, 5} {
		t.Run(fmt.Sprintf("members=%d", n), func(t *testing.T) {
			forEachTransport(t, func(t *testing.T, h *harness) {
				ms := h.cluster(n)
				for _, o := range ms {
					got := o.Members()
					if len(got) != n {
						t.Fatalf("%s sees %d members, want %d: %+v", o.Name(), len(got), n, got)
					}
					for i, mem := range got {
						want := fmt.Sprintf("m%d", i)
						if mem.Name != want || mem.Status != StatusAlive {
							t.Errorf("%s: member %d is %s %s, want %s alive", o.Name(), i, mem.Name, mem.Status, want)
						}
						if mem.Tags != tagsFor(want) {
							t.Errorf("%s sees %s's tags %+v, want %+v", o.Name(), want, mem.Tags, tagsFor(want))
						}
						if mem.GossipAddr() != ms[i].LocalAddr() {
							t.Errorf("%s sees %s at %s, it is at %s", o.Name(), want, mem.GossipAddr(), ms[i].LocalAddr())
						}
					}
					if s := o.Stats(); s.Alive != n || s.Failed+s.Left+s.Suspect+s.Leaving != 0 {
						t.Errorf("%s stats %+v, want %d alive", o.Name(), s, n)
					}
				}
			})
		})
	}
}

func TestCrashedMemberIsDeclaredFailedAndComesBack(t *testing.T) {
	forEachTransport(t, func(t *testing.T, h *harness) {
		ms := h.cluster(3)
		observers, victim := ms[:2], ms[2]
		recs := []*recorder{record(t, observers[0]), record(t, observers[1])}
		var joinedBefore [2]int

		// m2 crashes: nobody is told, the failure detector finds out.
		crashed := time.Now()
		if err := victim.Shutdown(); err != nil {
			t.Fatal(err)
		}
		for i, o := range observers {
			ev := recs[i].waitEvent(t, EventFailed, "m2")
			if ev.Member.Status != StatusFailed || ev.Member.Since != ev.At {
				t.Errorf("%s: failure event %+v", o.Name(), ev)
			}
			if s := statusOf(o, "m2"); s != StatusFailed {
				t.Errorf("%s sees m2 %s after EventFailed", o.Name(), s)
			}
			joinedBefore[i] = recs[i].count(EventJoined, "m2") // m2's first join may still be in flight when recording starts
		}
		t.Logf("m2 declared failed by both observers %v after the crash", time.Since(crashed).Round(time.Millisecond))
		if s := observers[0].Stats(); s.Failed != 1 || s.Alive != 2 {
			t.Errorf("stats after the crash: %+v", s)
		}

		// m2 restarts under the same name at the same address and joins
		// again: alive again, announced by EventJoined.
		back := h.start(h.restartConfig(victim))
		h.join(back, observers[0].LocalAddr())
		waitAllSee(t, observers, []*Membership{back}, StatusAlive)
		for i, o := range observers {
			waitFor(t, converge, func() bool { return recs[i].count(EventJoined, "m2") > joinedBefore[i] },
				"%s gets EventJoined for the restarted m2", o.Name())
			if n := recs[i].count(EventJoined, "m2") - joinedBefore[i]; n != 1 {
				t.Errorf("%s got %d EventJoined for m2 after its restart, want 1; events: %v", o.Name(), n, recs[i].describe("m2"))
			}
		}
		waitAllSee(t, []*Membership{back}, observers, StatusAlive)
	})
}

func TestCrashedMemberComesBackOnANewAddress(t *testing.T) {
	forEachTransport(t, func(t *testing.T, h *harness) {
		ms := h.cluster(3)
		rec := record(t, ms[0])
		old := ms[2].LocalAddr()
		_ = ms[2].Shutdown()
		rec.waitEvent(t, EventFailed, "m2")

		// A peer that comes back with another IP or port takes its name
		// back (memberlist's DeadNodeReclaimTime).
		cfg := h.config("m2")
		if h.net != nil {
			cfg.BindAddr = "198.19.255.1"
		}
		back := h.start(cfg)
		if back.LocalAddr() == old {
			t.Fatalf("restart got the old address %s", old)
		}
		h.join(back, ms[1].LocalAddr())
		all := []*Membership{ms[0], ms[1], back}
		waitAllSee(t, all, all, StatusAlive)
		// Restarted within milliseconds of being declared failed, the
		// member may briefly be declared failed once more while the old
		// death is still being gossiped; it must end alive, at its new
		// address.
		waitFor(t, converge, func() bool {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			for i := len(rec.events) - 1; i >= 0; i-- {
				if ev := rec.events[i]; ev.Member.Name == "m2" {
					return ev.Kind == EventJoined && ev.Member.GossipAddr() == back.LocalAddr()
				}
			}
			return false
		}, "m0's last event for m2 is joined at %s: %v", back.LocalAddr(), rec.describe("m2"))
	})
}

func TestGracefulLeaveIsSeenAsLeft(t *testing.T) {
	forEachTransport(t, func(t *testing.T, h *harness) {
		ms := h.cluster(3)
		recs := []*recorder{record(t, ms[0]), record(t, ms[1])}

		ctx, cancel := context.WithTimeout(context.Background(), converge)
		defer cancel()
		if err := ms[2].Leave(ctx); err != nil {
			t.Fatalf("leave: %v", err)
		}
		if err := ms[2].Shutdown(); err != nil {
			t.Fatal(err)
		}
		for i, o := range ms[:2] {
			recs[i].waitEvent(t, EventLeft, "m2")
			if s := statusOf(o, "m2"); s != StatusLeft {
				t.Errorf("%s sees m2 %s, want left", o.Name(), s)
			}
			// serf reports failed if memberlist's leave message is handled
			// before serf's leave intent, which starved CPUs can cause; the
			// intent then turns it into left. Left must be the last word.
			if evs := recs[i].describe("m2"); !strings.HasPrefix(evs[len(evs)-1], "left@") {
				t.Errorf("%s's last event for the leaving m2 is not left: %v", o.Name(), evs)
			} else if len(evs) > 1 {
				t.Logf("%s saw %v for the leaving m2", o.Name(), evs)
			}
		}
	})
}

func TestJoinWithWrongKeyIsRejected(t *testing.T) {
	forEachTransport(t, func(t *testing.T, h *harness) {
		ms := h.cluster(2)

		cfg := h.config("intruder")
		cfg.Keyring = [][]byte{wrongKey}
		intruder := h.start(cfg)
		addr := ms[0].LocalAddr()
		n, err := intruder.Join(context.Background(), []string{addr})
		t.Logf("join with a wrong key: %v", err)
		if n != 0 || !errors.Is(err, errdefs.ErrUnauthenticated) {
			t.Fatalf("join with a wrong key: joined %d, err %v; want an error wrapping ErrUnauthenticated", n, err)
		}
		if errors.Is(err, errdefs.ErrUnavailable) {
			t.Errorf("a key mismatch is not unavailability: %v", err)
		}
		if msg := err.Error(); !strings.Contains(msg, "gossip key") || !strings.Contains(msg, addr) {
			t.Errorf("error %q should name the gossip key and %s", msg, addr)
		}

		// A member with the right key joins after the intruder: once all
		// see it, gossip has had its chance to spread the intruder too.
		late := h.start(h.config("late"))
		h.join(late, ms[1].LocalAddr())
		all := append(ms, late)
		waitAllSee(t, all, all, StatusAlive)
		for _, o := range all {
			if s := statusOf(o, "intruder"); s != "" {
				t.Errorf("%s lists the intruder (%s)", o.Name(), s)
			}
		}
		if got := intruder.Members(); len(got) != 1 {
			t.Errorf("the intruder sees %d members, want only itself", len(got))
		}
	})
}

func TestJoinUnreachableIsUnavailable(t *testing.T) {
	forEachTransport(t, func(t *testing.T, h *harness) {
		m := h.start(h.config("m0"))
		// A member that started and crashed leaves an address nobody
		// answers at.
		gone := h.start(h.config("gone"))
		addr := gone.LocalAddr()
		_ = gone.Shutdown()

		n, err := m.Join(context.Background(), []string{addr})
		if n != 0 || !errors.Is(err, errdefs.ErrUnavailable) || errors.Is(err, errdefs.ErrUnauthenticated) {
			t.Fatalf("join of %s: joined %d, err %v; want ErrUnavailable", addr, n, err)
		}
		if !strings.Contains(err.Error(), addr) {
			t.Errorf("error %q should name %s", err, addr)
		}
		if _, err := m.Join(context.Background(), nil); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("join of no address: %v, want ErrInvalid", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := m.Join(ctx, []string{addr}); !errors.Is(err, context.Canceled) || !errors.Is(err, errdefs.ErrUnavailable) {
			t.Errorf("join with a canceled context: %v", err)
		}
	})
}

func TestSetTagsPropagates(t *testing.T) {
	forEachTransport(t, func(t *testing.T, h *harness) {
		ms := h.cluster(3)
		rec := record(t, ms[1])

		updated := Tags{Region: "us", Zone: "us-1b", API: "[::1]:8443", Version: "v0.2.0"}
		if err := ms[0].SetTags(updated); err != nil {
			t.Fatal(err)
		}
		ev := rec.waitEvent(t, EventUpdated, "m0")
		if ev.Member.Tags != updated {
			t.Errorf("EventUpdated carries tags %+v, want %+v", ev.Member.Tags, updated)
		}
		for _, o := range ms {
			waitFor(t, converge, func() bool {
				for _, mem := range o.Members() {
					if mem.Name == "m0" {
						return mem.Tags == updated
					}
				}
				return false
			}, "%s sees m0's new tags", o.Name())
		}
		if got := ms[0].Local().Tags; got != updated {
			t.Errorf("local tags %+v", got)
		}
		if err := ms[0].SetTags(Tags{API: "no-port"}); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("SetTags with a bad address: %v, want ErrInvalid", err)
		}
	})
}

func TestSnapshotRejoinsWithoutJoin(t *testing.T) {
	for _, how := range []string{"after a crash", "after a graceful leave"} {
		t.Run(how, func(t *testing.T) {
			forEachTransport(t, func(t *testing.T, h *harness) {
				seed := h.start(h.config("seed"))
				rec := record(t, seed)
				cfg := h.config("b")
				cfg.SnapshotPath = filepath.Join(t.TempDir(), "serf.snapshot")
				b := h.start(cfg)
				recB := record(t, b)
				h.join(b, seed.LocalAddr())
				waitAllSee(t, []*Membership{seed, b}, []*Membership{seed, b}, StatusAlive)
				// b's snapshot records the seed from the same event stream
				// that delivers b's EventJoined for it, though serf's
				// snapshotter takes it off its queue a moment later, and a
				// leave that comes first stops the recording (serf picks
				// between the two at random). A third member's join, seen
				// by b after the seed's, puts the leave well behind it.
				recB.waitEvent(t, EventJoined, "seed")
				third := h.start(h.config("c"))
				h.join(third, seed.LocalAddr())
				recB.waitEvent(t, EventJoined, "c")

				if how == "after a crash" {
					_ = b.Shutdown()
					rec.waitEvent(t, EventFailed, "b")
				} else {
					ctx, cancel := context.WithTimeout(context.Background(), converge)
					defer cancel()
					if err := b.Leave(ctx); err != nil {
						t.Fatal(err)
					}
					_ = b.Shutdown()
					rec.waitEvent(t, EventLeft, "b")
				}

				if data, _ := os.ReadFile(cfg.SnapshotPath); !strings.Contains(string(data), "alive: seed ") {
					t.Fatalf("b's snapshot does not list the seed:\n%s", data)
				}

				// Restarted with the same snapshot, no Join call.
				again := h.start(cfg)
				waitAllSee(t, []*Membership{seed, again}, []*Membership{seed, again}, StatusAlive)
				rec.waitEvent(t, EventJoined, "b")
			})
		})
	}
}

func TestShutdownIsIdempotentAndClosesSubscriptions(t *testing.T) {
	h := &harness{t: t, net: NewMemNetwork()}
	m := h.start(h.config("m0"))
	ch, cancel := m.Subscribe(0)
	if err := m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := m.Shutdown(); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
	for range ch { // drains, then ends: the channel is closed
	}
	cancel()
	cancel()
	late, _ := m.Subscribe(1)
	if _, ok := <-late; ok {
		t.Error("a subscription after shutdown delivered an event")
	}
	if got := h.net.Members(); len(got) != 0 {
		t.Errorf("memory network still has %v after shutdown", got)
	}
}

func TestSlowSubscriberDoesNotBlockGossip(t *testing.T) {
	h := &harness{t: t, net: NewMemNetwork()}
	m0 := h.start(h.config("m0"))
	stuck, _ := m0.Subscribe(1) // never read
	rec := record(t, m0)
	var ms []*Membership
	for i := 1; i <= 5; i++ {
		m := h.start(h.config(fmt.Sprintf("m%d", i)))
		h.join(m, m0.LocalAddr())
		ms = append(ms, m)
	}
	for _, m := range ms {
		rec.waitEvent(t, EventJoined, m.Name())
	}
	waitAllSee(t, []*Membership{m0}, ms, StatusAlive)
	if s := m0.Stats(); s.EventsDropped == 0 || s.Subscribers != 2 {
		t.Errorf("stats %+v: want drops counted for the stuck subscriber, 2 subscribers", s)
	}
	if len(stuck) != 1 {
		t.Errorf("stuck subscriber holds %d events, want its buffer of 1", len(stuck))
	}
}

func TestFailedMemberIsReaped(t *testing.T) {
	h := &harness{t: t, net: NewMemNetwork()}
	cfg := h.config("m0")
	cfg.ReconnectTimeout = 500 * time.Millisecond
	m0 := h.start(cfg)
	rec := record(t, m0)
	m1 := h.start(h.config("m1"))
	h.join(m1, m0.LocalAddr())
	rec.waitEvent(t, EventJoined, "m1")
	_ = m1.Shutdown()
	rec.waitEvent(t, EventFailed, "m1")
	rec.waitEvent(t, EventReaped, "m1")
	if s := statusOf(m0, "m1"); s != "" {
		t.Errorf("m0 still lists m1 (%s) after reaping it", s)
	}
}

func TestDisconnectedMemberIsDeclaredFailedAndHeals(t *testing.T) {
	h := &harness{t: t, net: NewMemNetwork()}
	ms := h.cluster(3)
	rec := record(t, ms[0])
	if !h.net.Disconnect("m2") {
		t.Fatal("m2 is not on the network")
	}
	rec.waitEvent(t, EventFailed, "m2")
	if !h.net.Reconnect("m2") {
		t.Fatal("m2 is not on the network")
	}
	// serf retries failed members every ReconnectInterval (10 s on LAN);
	// a join from either side heals at once.
	h.join(ms[2], ms[0].LocalAddr())
	waitAllSee(t, ms, ms, StatusAlive)
	rec.waitEvent(t, EventJoined, "m2")
}

func TestSinceUsesTheInjectedClock(t *testing.T) {
	h := &harness{t: t, net: NewMemNetwork()}
	epoch := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := h.config("m0")
	cfg.Now = func() time.Time { return epoch }
	m0 := h.start(cfg)
	if got := m0.Local().Since; !got.Equal(epoch) {
		t.Errorf("local Since %v, want the injected %v", got, epoch)
	}
}

func TestMemNetworkRefusesDuplicateNames(t *testing.T) {
	h := &harness{t: t, net: NewMemNetwork()}
	h.start(h.config("m0"))
	_, err := Start(context.Background(), h.config("m0"))
	if !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("second m0 on one network: %v, want ErrAlreadyExists", err)
	}
}

// A member with Track keeps only the members it tracks in its view, while
// the others still see it and still notice when it dies: what hollow
// nodes rely on.
func TestTrackLimitsTheMembersAMemberKeeps(t *testing.T) {
	h := &harness{t: t, net: NewMemNetwork()}
	peers := h.cluster(2)
	hollow := func(name string) *Membership {
		cfg := h.config(name)
		cfg.Tags.Raft = ""
		cfg.Profile = ProfileQuiet
		cfg.Track = func(_ string, t Tags) bool { return t.Raft != "" }
		m := h.start(cfg)
		h.join(m, peers[0].LocalAddr())
		return m
	}
	x, y := hollow("x"), hollow("y")
	waitAllSee(t, peers, []*Membership{x, y}, StatusAlive)
	waitAllSee(t, []*Membership{x, y}, peers, StatusAlive)
	// Push/pull from a peer hands x the whole view, y included: y must
	// stay out of it.
	h.join(x, peers[1].LocalAddr())
	for _, m := range []*Membership{x, y} {
		var names []string
		for _, mm := range m.Members() {
			names = append(names, mm.Name)
		}
		slices.Sort(names)
		if want := []string{"m0", "m1", m.Name()}; !slices.Equal(names, want) {
			t.Errorf("%s keeps %v; want %v (the peers and itself)", m.Name(), names, want)
		}
	}
	_ = y.Shutdown()
	waitAllSee(t, peers, []*Membership{y}, StatusFailed)
	if got := statusOf(peers[0], "x"); got != StatusAlive {
		t.Errorf("m0 sees x %s; want alive", got)
	}
}
