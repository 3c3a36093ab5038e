package gossip

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/serf/serf"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Status is a member's liveness as this member sees it.
type Status string

// The statuses.
const (
	StatusAlive   Status = "alive"
	StatusSuspect Status = "suspect" // alive to serf, but a probe failed and the failure detector is counting down
	StatusLeaving Status = "leaving" // announced a graceful leave
	StatusLeft    Status = "left"
	StatusFailed  Status = "failed"
)

// Member is one member of the cluster as this member sees it.
type Member struct {
	Name   string
	Addr   string // IP
	Port   int    // gossip port
	Tags   Tags
	Status Status
	Since  time.Time // when it entered Status, as seen by this member (Config.Now)
}

// GossipAddr returns the member's gossip address, host:port.
func (m Member) GossipAddr() string {
	return net.JoinHostPort(m.Addr, strconv.Itoa(m.Port))
}

// Membership is this member's view of the cluster and its handle on
// gossip. All methods are safe for concurrent use.
type Membership struct {
	name       string
	log        *slog.Logger
	now        func() time.Time
	serf       *serf.Serf
	serfEvents chan serf.Event
	fan        fanout
	since      statusClock
	tagsMu     sync.Mutex // serializes SetTags: serf writes its config unlocked
	dispatched chan struct{}
	stopOnce   sync.Once
	stopErr    error
}

// Start creates this member's gossip: it listens (or attaches to
// cfg.Network) and is its own one-member cluster until Join, or until it
// rejoins the members in cfg.SnapshotPath by itself. Invalid
// configuration is an error wrapping errdefs.ErrInvalid; a failure to
// listen wraps errdefs.ErrUnavailable.
func Start(ctx context.Context, cfg Config) (*Membership, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gossip start: %w", err)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	logger := cfg.Logger.With("component", "gossip", "member", cfg.Name)

	ml := cfg.Profile.memberlistConfig()
	ml.BindAddr = cfg.BindAddr
	ml.BindPort = cfg.BindPort
	ml.AdvertiseAddr = cfg.AdvertiseAddr
	ml.AdvertisePort = cfg.AdvertisePort
	ml.Keyring, err = memberlist.NewKeyring(cfg.Keyring[1:], cfg.Keyring[0])
	if err != nil {
		return nil, fmt.Errorf("gossip config: keyring: %v: %w", err, errdefs.ErrInvalid)
	}
	ml.GossipVerifyIncoming = true
	ml.GossipVerifyOutgoing = true
	ml.Logger = libLogger(logger)
	if cfg.Track != nil {
		ml.Alive = trackFilter{self: cfg.Name, track: cfg.Track}
	}
	var transport *memTransport
	if cfg.Network != nil {
		transport, err = cfg.Network.attach(cfg.Name, cfg.BindAddr, cfg.BindPort)
		if err != nil {
			return nil, fmt.Errorf("gossip start %s: %w", cfg.Name, err)
		}
		ml.Transport = transport
		// Memory costs nothing to send; compressing every message cost a
		// process of a thousand hollow members a tenth of its CPU.
		ml.EnableCompression = false
	}

	events := make(chan serf.Event, serfEventBuffer)
	sc := serf.DefaultConfig()
	sc.NodeName = cfg.Name
	sc.Tags = cfg.Tags.encode()
	sc.EventCh = events
	sc.MemberlistConfig = ml
	sc.Logger = ml.Logger
	sc.LogOutput = nil
	sc.CoalescePeriod = 0 // deliver failures at once
	sc.QuiescentPeriod = 0
	sc.LeavePropagateDelay = leavePropagateDelay(ml)
	sc.ReconnectInterval = cfg.Profile.reconnectInterval()
	sc.ReconnectTimeout = cfg.ReconnectTimeout
	sc.TombstoneTimeout = cfg.TombstoneTimeout
	sc.ReapInterval = cfg.reapInterval()
	sc.SnapshotPath = cfg.SnapshotPath
	sc.RejoinAfterLeave = true
	// Serf's resolution makes a member that loses a name-conflict vote
	// shut itself down, silently from our caller's view. A member
	// restarted on a new address would lose that vote until the old one
	// is declared failed; memberlist's DeadNodeReclaimTime covers it.
	sc.EnableNameConflictResolution = false
	sc.ValidateNodeNames = true

	s, err := serf.Create(sc)
	if err != nil {
		if transport != nil {
			_ = transport.Shutdown()
		}
		return nil, fmt.Errorf("gossip start %s on %s:%d: %v: %w", cfg.Name, cfg.BindAddr, cfg.BindPort, err, errdefs.ErrUnavailable)
	}
	m := &Membership{
		name:       cfg.Name,
		log:        logger,
		now:        cfg.Now,
		serf:       s,
		serfEvents: events,
		dispatched: make(chan struct{}),
	}
	go m.dispatch()
	logger.Info("gossip started", "addr", m.LocalAddr(), "profile", string(cfg.Profile), "snapshot", cfg.SnapshotPath)
	return m, nil
}

// Name returns this member's name.
func (m *Membership) Name() string { return m.name }

// Members returns every member this member knows of, itself included,
// alive or not, sorted by name.
func (m *Membership) Members() []Member {
	suspect := make(map[string]bool)
	for _, n := range m.serf.Memberlist().Members() {
		if n.State == memberlist.StateSuspect {
			suspect[n.Name] = true
		}
	}
	now := m.now()
	sms := m.serf.Members()
	out := make([]Member, 0, len(sms))
	for _, sm := range sms {
		st := serfStatus(sm.Status)
		if st == StatusAlive && suspect[sm.Name] {
			st = StatusSuspect
		}
		out = append(out, toMember(sm, st, m.since.observe(sm.Name, st, now)))
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Local returns this member as the cluster sees it.
func (m *Membership) Local() Member {
	sm := m.serf.LocalMember()
	st := serfStatus(sm.Status)
	return toMember(sm, st, m.since.observe(sm.Name, st, m.now()))
}

// LocalAddr returns the gossip address other members reach this one at,
// host:port, with the real port when Config.BindPort was 0.
func (m *Membership) LocalAddr() string {
	n := m.serf.Memberlist().LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// SetTags replaces this member's tags and gossips them; the others see
// EventUpdated. Invalid tags wrap errdefs.ErrInvalid.
func (m *Membership) SetTags(t Tags) error {
	if err := t.Validate(); err != nil {
		return err
	}
	m.tagsMu.Lock()
	defer m.tagsMu.Unlock()
	if err := m.serf.SetTags(t.encode()); err != nil {
		return fmt.Errorf("gossip set tags: %v: %w", err, errdefs.ErrUnavailable)
	}
	return nil
}

// Leave leaves the cluster gracefully: it broadcasts the leave, waits
// for it to go out, and keeps answering probes a little longer
// (five gossip intervals) so nobody declares this member failed in the
// meantime. The others see EventLeft; on starved CPUs a member may
// handle memberlist's leave before serf's leave intent and report
// EventFailed just before EventLeft, so the last event is what counts.
// Leave returns when done or when ctx ends, whichever is first; the
// leave continues in the background in the latter case. Leave does not
// stop gossip: call Shutdown after it.
func (m *Membership) Leave(ctx context.Context) error {
	m.log.Info("leaving the cluster")
	done := make(chan error, 1)
	go func() { done <- m.serf.Leave() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("gossip leave: %v: %w", err, errdefs.ErrUnavailable)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("gossip leave: not confirmed in time: %w: %w", errdefs.ErrUnavailable, ctx.Err())
	}
}

// Shutdown stops gossip at once, without telling anyone: to the others
// it looks like a crash, and they declare this member failed. It closes
// the subscribers' channels and frees the sockets (or detaches from the
// MemNetwork). Idempotent.
func (m *Membership) Shutdown() error {
	m.stopOnce.Do(func() {
		if err := m.serf.Shutdown(); err != nil {
			m.stopErr = fmt.Errorf("gossip shutdown: %v: %w", err, errdefs.ErrUnavailable)
		}
		<-m.dispatched
		m.log.Info("gossip stopped")
	})
	return m.stopErr
}

// Stats is a snapshot of counters for metrics.
type Stats struct {
	Alive, Suspect, Leaving, Left, Failed int    // members by status, this member included
	EventsDropped                         uint64 // events lost to full subscriber buffers, since Start
	Subscribers                           int
	// HealthScore is Lifeguard's local health: 0 is healthy; higher means
	// this member has been missing acks itself (a busy CPU, a bad link)
	// and has slowed its probing.
	HealthScore int
}

// Stats returns current counts.
func (m *Membership) Stats() Stats {
	var s Stats
	for _, mem := range m.Members() {
		switch mem.Status {
		case StatusAlive:
			s.Alive++
		case StatusSuspect:
			s.Suspect++
		case StatusLeaving:
			s.Leaving++
		case StatusLeft:
			s.Left++
		case StatusFailed:
			s.Failed++
		}
	}
	s.EventsDropped = m.fan.dropped.Load()
	s.Subscribers = m.fan.count()
	s.HealthScore = m.serf.Memberlist().GetHealthScore()
	return s
}

func serfStatus(s serf.MemberStatus) Status {
	switch s {
	case serf.StatusAlive:
		return StatusAlive
	case serf.StatusLeaving:
		return StatusLeaving
	case serf.StatusLeft:
		return StatusLeft
	case serf.StatusFailed:
		return StatusFailed
	}
	return Status(s.String())
}

func toMember(sm serf.Member, st Status, since time.Time) Member {
	return Member{
		Name:   sm.Name,
		Addr:   sm.Addr.String(),
		Port:   int(sm.Port),
		Tags:   decodeTags(sm.Tags),
		Status: st,
		Since:  since,
	}
}
