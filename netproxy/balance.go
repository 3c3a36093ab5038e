package netproxy

import (
	"sync"
	"time"
)

// Endpoint is one ready backend of a service port: a pod's address and,
// when the pod runs on another peer, that peer's tunnel address.
type Endpoint struct {
	Addr   string // pod IP:port
	Tunnel string // the remote peer's tunnel address; empty for a local pod
}

// Local says whether the endpoint is dialed directly.
func (e Endpoint) Local() bool { return e.Tunnel == "" }

// Balancer picks endpoints for one service port. Safe for concurrent use.
type Balancer struct {
	now      func() time.Time
	affinity time.Duration // ClientIP affinity timeout; 0 means round-robin

	mu        sync.Mutex
	endpoints []Endpoint
	next      int
	sticky    map[string]stickyEntry // by client IP
}

type stickyEntry struct {
	ep   Endpoint
	seen time.Time
}

// NewBalancer returns a round-robin balancer, or a ClientIP-affinity one
// when affinity is positive. now is the clock (time.Now outside tests).
func NewBalancer(now func() time.Time, affinity time.Duration) *Balancer {
	return &Balancer{now: now, affinity: affinity, sticky: map[string]stickyEntry{}}
}

// SetEndpoints replaces the endpoint set. Affinities to endpoints that are
// gone are dropped; the others stay.
func (b *Balancer) SetEndpoints(eps []Endpoint) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.endpoints = append([]Endpoint(nil), eps...)
	keep := map[Endpoint]bool{}
	for _, e := range eps {
		keep[e] = true
	}
	for ip, s := range b.sticky {
		if !keep[s.ep] {
			delete(b.sticky, ip)
		}
	}
	if b.next >= len(b.endpoints) {
		b.next = 0
	}
}

// Endpoints returns the current set.
func (b *Balancer) Endpoints() []Endpoint {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Endpoint(nil), b.endpoints...)
}

// Pick chooses an endpoint for a connection from clientIP, skipping those
// in failed (endpoints this connection could not reach). It reports false
// when none is left.
func (b *Balancer) Pick(clientIP string, failed map[Endpoint]bool) (Endpoint, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if b.affinity > 0 {
		if s, ok := b.sticky[clientIP]; ok && now.Sub(s.seen) < b.affinity && !failed[s.ep] {
			b.sticky[clientIP] = stickyEntry{ep: s.ep, seen: now}
			return s.ep, true
		}
	}
	for range b.endpoints {
		e := b.endpoints[b.next]
		b.next = (b.next + 1) % len(b.endpoints)
		if failed[e] {
			continue
		}
		if b.affinity > 0 {
			b.sticky[clientIP] = stickyEntry{ep: e, seen: now}
		}
		return e, true
	}
	return Endpoint{}, false
}

// Expire forgets affinities older than the timeout; Proxy.Apply calls it
// on every plan, so clients that never return do not accumulate.
func (b *Balancer) Expire() {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	for ip, s := range b.sticky {
		if now.Sub(s.seen) >= b.affinity {
			delete(b.sticky, ip)
		}
	}
}
