package netproxy

import (
	"fmt"
	"testing"
	"time"
)

func eps(addrs ...string) []Endpoint {
	var out []Endpoint
	for _, a := range addrs {
		out = append(out, Endpoint{Addr: a})
	}
	return out
}

func TestBalancerRoundRobinSkipsFailed(t *testing.T) {
	b := NewBalancer(time.Now, 0)
	b.SetEndpoints(eps("a", "b", "c"))
	var got []string
	for range 6 {
		e, _ := b.Pick("10.0.0.1", nil)
		got = append(got, e.Addr)
	}
	if want := "[a b c a b c]"; fmt.Sprint(got) != want {
		t.Fatalf("round-robin gave %v, want %s", got, want)
	}
	e, ok := b.Pick("10.0.0.1", map[Endpoint]bool{{Addr: "a"}: true})
	if !ok || e.Addr != "b" {
		t.Fatalf("with a failed, picked %v %v; want b", e, ok)
	}
	if _, ok := b.Pick("x", map[Endpoint]bool{{Addr: "a"}: true, {Addr: "b"}: true, {Addr: "c"}: true}); ok {
		t.Fatal("picked an endpoint when every one had failed")
	}
	b.SetEndpoints(nil)
	if _, ok := b.Pick("x", nil); ok {
		t.Fatal("picked an endpoint from an empty set")
	}
}

func TestBalancerClientIPAffinity(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	b := NewBalancer(clock, 10*time.Second)
	b.SetEndpoints(eps("a", "b", "c"))
	first, _ := b.Pick("10.0.0.1", nil)
	other, _ := b.Pick("10.0.0.2", nil)
	if first == other {
		t.Fatalf("two new clients got the same endpoint %v", first)
	}
	for range 5 {
		now = now.Add(9 * time.Second) // returns within the timeout each time
		if e, _ := b.Pick("10.0.0.1", nil); e != first {
			t.Fatalf("client moved from %v to %v within its affinity", first, e)
		}
	}
	// Its endpoint fails: it moves, and stays on the new one.
	moved, _ := b.Pick("10.0.0.1", map[Endpoint]bool{first: true})
	if moved == first {
		t.Fatal("affinity kept an endpoint that failed")
	}
	if e, _ := b.Pick("10.0.0.1", nil); e != moved {
		t.Fatalf("after moving to %v the client got %v", moved, e)
	}
	// Its endpoint leaves the set: the affinity goes with it.
	var rest []Endpoint
	for _, e := range eps("a", "b", "c") {
		if e != moved {
			rest = append(rest, e)
		}
	}
	b.SetEndpoints(rest)
	if e, _ := b.Pick("10.0.0.1", nil); e == moved {
		t.Fatalf("picked %v, which left the set", moved)
	}
	// Past the timeout, affinities expire.
	now = now.Add(11 * time.Second)
	b.Expire()
	b.mu.Lock()
	n := len(b.sticky)
	b.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d affinities left after the timeout", n)
	}
}
