package gossip

import (
	"context"
	"crypto/sha256"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestSoakNoFalseFailures runs 5 members on UDP loopback for $SHOAL_SOAK
// (a duration, e.g. "10m") while GOMAXPROCS+2 goroutines keep every core
// busy hashing. One member, m4, is crashed and restarted every 15 s, so
// the soak also measures true detection under load; any EventFailed for
// m0-m3, which never crash, is a false failure and fails the test.
func TestSoakNoFalseFailures(t *testing.T) {
	spec := os.Getenv("SHOAL_SOAK")
	if spec == "" {
		t.Skip("set SHOAL_SOAK to a duration (e.g. 10m) to run the soak")
	}
	soak, err := time.ParseDuration(spec)
	if err != nil || soak <= 0 {
		t.Fatalf("SHOAL_SOAK=%q: want a positive duration", spec)
	}
	const victim = 4
	const crashEvery = 15 * time.Second

	h := &harness{t: t}
	ms := h.cluster(5)
	w := newWatcher(t)
	var mu sync.Mutex
	var falseFailures []sighting
	var suspectSightings, maxHealth int
	for _, m := range ms {
		w.watch(m)
	}

	ctx, cancel := context.WithTimeout(context.Background(), soak)
	defer cancel()
	burnDone := burnCPU(ctx, runtime.GOMAXPROCS(0)+2)

	// Watch every member's events and views until the soak ends.
	observeDone := make(chan struct{})
	go func() {
		defer close(observeDone)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				mu.Lock()
				for _, m := range ms[:victim] {
					for _, mem := range m.Members() {
						if mem.Status == StatusSuspect && mem.Name != ms[victim].Name() {
							suspectSightings++
						}
					}
					maxHealth = max(maxHealth, m.Stats().HealthScore)
				}
				mu.Unlock()
			}
		}
	}()

	var detections []float64
	nextCrash := time.NewTimer(crashEvery)
	defer nextCrash.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case s := <-w.ch:
			if s.ev.Kind == EventFailed && s.ev.Member.Name != ms[victim].Name() {
				mu.Lock()
				falseFailures = append(falseFailures, s)
				mu.Unlock()
				t.Errorf("false failure: %s declared %s failed at %s", s.observer, s.ev.Member.Name, s.ev.At.Format(time.TimeOnly))
			}
		case <-nextCrash.C:
			if time.Until(deadlineOf(ctx)) < converge {
				continue // not enough time left to crash and restart
			}
			crashed := time.Now()
			old := ms[victim]
			_ = old.Shutdown()
			others := names(ms[:victim])
			detections = append(detections, ms2f(w.awaitCounting(EventFailed, old.Name(), others, func(s sighting) {
				if s.ev.Kind == EventFailed && s.ev.Member.Name != old.Name() {
					t.Errorf("false failure: %s declared %s failed", s.observer, s.ev.Member.Name)
				}
			}).Sub(crashed)))
			back := h.start(h.restartConfig(old))
			w.watch(back)
			h.join(back, ms[0].LocalAddr())
			w.await(EventJoined, back.Name(), others)
			ms[victim] = back // the observer goroutine reads only ms[:victim]
			nextCrash.Reset(crashEvery)
		}
	}
	<-observeDone
	hashes := <-burnDone
	slices.Sort(detections)
	t.Logf("soak %v: %d hashes/s burned on %d goroutines, GOMAXPROCS %d", soak, hashes/int(soak.Seconds()), runtime.GOMAXPROCS(0)+2, runtime.GOMAXPROCS(0))
	t.Logf("false failures: %d; suspect sightings of healthy members (100 ms polls): %d; max health score: %d", len(falseFailures), suspectSightings, maxHealth)
	t.Logf("true crashes detected by all 4 others under load (ms, sorted): %.0f", detections)
	for _, m := range ms {
		if d := m.Stats().EventsDropped; d != 0 {
			t.Errorf("%s dropped %d events", m.Name(), d)
		}
	}
}

// awaitCounting is await that also hands every other sighting to other.
func (w *watcher) awaitCounting(kind EventKind, name string, observers []string, other func(sighting)) time.Time {
	w.t.Helper()
	pending := make(map[string]bool, len(observers))
	for _, o := range observers {
		pending[o] = true
	}
	var last time.Time
	timeout := time.NewTimer(converge)
	defer timeout.Stop()
	for len(pending) > 0 {
		select {
		case s := <-w.ch:
			if s.ev.Kind == kind && s.ev.Member.Name == name && pending[s.observer] {
				delete(pending, s.observer)
				if s.ev.At.After(last) {
					last = s.ev.At
				}
				continue
			}
			other(s)
		case <-timeout.C:
			w.t.Fatalf("after %v, %d members have not reported %s %s", converge, len(pending), name, kind)
		}
	}
	return last
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// burnCPU spins n goroutines hashing until ctx ends, then reports the
// number of 64 KiB hashes computed. Each loop iteration takes tens of
// microseconds, so the burn stops promptly.
func burnCPU(ctx context.Context, n int) <-chan int {
	out := make(chan int, 1)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			count := 0
			for ctx.Err() == nil {
				sum := sha256.Sum256(buf)
				buf[0] = sum[0]
				count++
			}
			mu.Lock()
			total += count
			mu.Unlock()
		}()
	}
	go func() { wg.Wait(); out <- total }()
	return out
}
