package gossip

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/serf/serf"
)

// EventKind says what happened to a member.
type EventKind int

// The event kinds.
const (
	// EventJoined: a member is alive, for the first time or again after
	// it failed or left (a restart under the same name).
	EventJoined EventKind = iota + 1
	// EventFailed: the failure detector declared a member dead. This is
	// the peer-failure signal other packages act on.
	EventFailed
	// EventLeft: a member left gracefully.
	EventLeft
	// EventUpdated: a member changed its tags.
	EventUpdated
	// EventReaped: a failed or left member was forgotten after
	// Config.ReconnectTimeout or Config.TombstoneTimeout.
	EventReaped
)

func (k EventKind) String() string {
	switch k {
	case EventJoined:
		return "joined"
	case EventFailed:
		return "failed"
	case EventLeft:
		return "left"
	case EventUpdated:
		return "updated"
	case EventReaped:
		return "reaped"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one change to one member, as this member saw it.
type Event struct {
	Kind   EventKind
	Member Member    // the member after the change; Since is At
	At     time.Time // when this member learned of it (Config.Now)
}

// DefaultSubscribeBuffer is the buffer Subscribe uses when asked for none.
const DefaultSubscribeBuffer = 64

// serfEventBuffer is the channel between serf and the fan-out. With a
// snapshot, serf drops events rather than block when it is full.
const serfEventBuffer = 1024

// Subscribe returns a channel of membership events and a function that
// ends the subscription and closes the channel. Any number of
// subscribers may exist; each receives every event from the moment it
// subscribed, in order, in a channel buffered for buffer events
// (DefaultSubscribeBuffer if buffer < 1).
//
// Delivery never waits for a subscriber: an event that finds the
// subscriber's buffer full is dropped for that subscriber and counted in
// Stats.EventsDropped. A subscriber that must not miss a failure should
// size its buffer for its bursts and reconcile with Members when it sees
// drops. The channel is also closed by Shutdown; a Subscribe after
// Shutdown returns a closed channel. The cancel function is idempotent.
func (m *Membership) Subscribe(buffer int) (<-chan Event, func()) {
	return m.fan.subscribe(buffer)
}

// fanout delivers events to subscribers without blocking.
type fanout struct {
	mu      sync.Mutex
	subs    map[chan Event]struct{}
	closed  bool
	dropped atomic.Uint64
}

func (f *fanout) subscribe(buffer int) (<-chan Event, func()) {
	if buffer < 1 {
		buffer = DefaultSubscribeBuffer
	}
	ch := make(chan Event, buffer)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(ch)
		return ch, func() {}
	}
	if f.subs == nil {
		f.subs = make(map[chan Event]struct{})
	}
	f.subs[ch] = struct{}{}
	return ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[ch]; ok {
			delete(f.subs, ch)
			close(ch)
		}
	}
}

func (f *fanout) publish(ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- ev:
		default:
			f.dropped.Add(1)
		}
	}
}

func (f *fanout) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// close closes every subscriber's channel and refuses new ones.
func (f *fanout) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for ch := range f.subs {
		close(ch)
	}
	f.subs = nil
}

// eventKind maps serf's member event types; ok is false for user events
// and queries, which Shoal does not use.
func eventKind(t serf.EventType) (EventKind, bool) {
	switch t {
	case serf.EventMemberJoin:
		return EventJoined, true
	case serf.EventMemberFailed:
		return EventFailed, true
	case serf.EventMemberLeave:
		return EventLeft, true
	case serf.EventMemberUpdate:
		return EventUpdated, true
	case serf.EventMemberReap:
		return EventReaped, true
	}
	return 0, false
}

// dispatch turns serf's events into Events until serf shuts down, then
// closes the subscribers' channels. It must keep draining: serf sends
// some events while holding its member lock.
func (m *Membership) dispatch() {
	defer close(m.dispatched)
	defer m.fan.close()
	for {
		select {
		case e := <-m.serfEvents:
			m.handle(e)
		case <-m.serf.ShutdownCh():
			return
		}
	}
}

func (m *Membership) handle(e serf.Event) {
	me, ok := e.(serf.MemberEvent)
	if !ok {
		return
	}
	kind, ok := eventKind(me.Type)
	if !ok {
		return
	}
	at := m.now()
	for _, sm := range me.Members {
		status := serfStatus(sm.Status)
		switch kind {
		case EventJoined:
			status = StatusAlive
		case EventFailed:
			status = StatusFailed
		case EventLeft:
			status = StatusLeft
		}
		var since time.Time
		if kind == EventReaped {
			m.since.forget(sm.Name)
			since = at
		} else {
			since = m.since.observe(sm.Name, status, at)
		}
		member := toMember(sm, status, since)
		m.logEvent(kind, member)
		m.fan.publish(Event{Kind: kind, Member: member, At: at})
	}
}

func (m *Membership) logEvent(kind EventKind, mem Member) {
	if mem.Name == m.name {
		return
	}
	m.log.Info("member "+kind.String(), "member_name", mem.Name, "member_addr", mem.Addr, "status", string(mem.Status))
}

// statusClock remembers when each member entered its current status, as
// this member saw it: from events, and from Members for changes that
// have no event (suspicion).
type statusClock struct {
	mu sync.Mutex
	m  map[string]statusSince
}

type statusSince struct {
	status Status
	since  time.Time
}

// observe records that name has status at now and returns since when
// it has had it.
func (c *statusClock) observe(name string, status Status, now time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]statusSince)
	}
	if s, ok := c.m[name]; ok && s.status == status {
		return s.since
	}
	c.m[name] = statusSince{status, now}
	return now
}

func (c *statusClock) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, name)
}
