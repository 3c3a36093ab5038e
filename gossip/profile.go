package gossip

import (
	"fmt"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Profile names a set of failure-detector timings tuned for one kind of
// network. See the package documentation for the numbers and the reasons.
type Profile string

// The profiles.
const (
	// ProfileLAN detects a crashed member in about a second on a quiet LAN
	// and tolerates busy CPUs. It is the default.
	ProfileLAN Profile = "lan"
	// ProfileWAN is memberlist's WAN configuration: seconds-scale probes
	// for links with high and variable latency.
	ProfileWAN Profile = "wan"
	// ProfileQuiet is for hollow nodes (many members in one process that
	// only need the real peers to see them alive), with Config.Track
	// limiting each to the real peers: WAN probes, its own news (a
	// refutation of a suspicion) sent to three members in one round,
	// which are the peers when it tracks no more than three, and a
	// full-state exchange every three minutes. N members
	// that all gossip at full strength do O(N²·log N) work to join, which
	// a thousand in one process cannot afford. Not offered by
	// ParseProfile.
	ProfileQuiet Profile = "quiet"
)

// ParseProfile turns "lan" or "wan" into a Profile. Any other text is an
// error wrapping errdefs.ErrInvalid.
func ParseProfile(s string) (Profile, error) {
	switch p := Profile(s); p {
	case ProfileLAN, ProfileWAN:
		return p, nil
	}
	return "", fmt.Errorf("gossip profile %q: want %q or %q: %w", s, ProfileLAN, ProfileWAN, errdefs.ErrInvalid)
}

// String returns the profile's name.
func (p Profile) String() string { return string(p) }

// The LAN profile's failure-detector numbers. With 5 members a crash is
// noticed by the first probe of the dead member (within a probe round,
// ~0.1 s), confirmed unreachable at the end of that probe interval
// (0.2 s), suspected for between SuspicionMult and
// SuspicionMult*SuspicionMaxTimeoutMult probe intervals (0.6-1.8 s,
// shortened towards 0.6 s as other members independently confirm the
// suspicion), then gossiped as dead within a couple of gossip intervals.
const (
	// lanProbeInterval is how often each member probes one other member
	// (memberlist's default is 1 s).
	lanProbeInterval = 200 * time.Millisecond
	// lanProbeTimeout is how long a direct probe waits for its ack before
	// indirect probes and the TCP fallback start. Loopback and LAN round
	// trips are well under a millisecond; the rest is headroom for busy
	// CPUs and garbage-collection pauses (default 500 ms).
	lanProbeTimeout = 100 * time.Millisecond
	// lanIndirectChecks is how many other members are asked to probe a
	// member that did not answer us (memberlist's default, 3).
	lanIndirectChecks = 3
	// lanSuspicionMult scales the minimum suspicion time: SuspicionMult x
	// ProbeInterval x max(1, log10(N)). 3 keeps Lifeguard's "dogpile"
	// (SuspicionMult-2 = 1 independent confirmation shortens the timeout
	// from its maximum to its minimum); 2 would disable it (default 4).
	lanSuspicionMult = 3
	// lanSuspicionMaxTimeoutMult bounds the unconfirmed suspicion time
	// at this many times the minimum (default 6).
	lanSuspicionMaxTimeoutMult = 3
	// lanGossipInterval is how often suspicion, refutation and death
	// messages are gossiped to lanGossipNodes random members (default
	// 200 ms).
	lanGossipInterval = 100 * time.Millisecond
	// lanGossipNodes is memberlist's default.
	lanGossipNodes = 3
	// lanRetransmitMult is how many times, times ceil(log10(N+1)), each
	// member that learns a piece of news (alive, suspect, dead, serf's
	// intents and tag updates) passes it on. A member misses a piece of
	// news with probability about e^-(that), so memberlist's default of 4
	// leaves roughly one member of a 50-member cluster in the dark about
	// some join or death until the next push/pull; 6 makes it rare
	// (e^-12 at 50 members) for 50% more gossip.
	lanRetransmitMult = 6
	// lanPushPullInterval is how often a member exchanges its full state
	// with one random member over TCP (memberlist stretches it for more
	// than 32 members). This is what repairs views that gossip missed,
	// for instance a member that joined through a seed a moment before
	// the seed had merged another newcomer (default 30 s).
	lanPushPullInterval = 10 * time.Second
	// lanTCPTimeout bounds a join's or push/pull's connection and
	// exchange (default 10 s).
	lanTCPTimeout = 5 * time.Second
	// lanReconnectInterval is how often serf tries to reach one failed
	// member again, which heals partitions (serf's default is 30 s).
	lanReconnectInterval = 10 * time.Second
)

// quietGossipNodes is how many members a quiet member gossips to in a
// round, and (as RetransmitMult, with fewer than ten members known) how
// often it sends each piece of news: once to each.
const quietGossipNodes = 3

// quietPushPullInterval is how often a quiet member exchanges its full
// state with another. A quiet member tracks only the peers, whose gossip
// reaches it directly, but a push/pull still hands it the peer's whole
// view to filter: a thousand hollow nodes at the WAN default (60 s) were
// 5% of a busy benchmark's CPU, for views they throw away. Three minutes
// still lets a member that missed the news of its own (false) death learn
// it and refute it within a benchmark's run.
const quietPushPullInterval = 3 * time.Minute

// wanReconnectInterval is serf's default.
const wanReconnectInterval = 30 * time.Second

// deadNodeReclaimTime is how long after a member is declared failed its
// name may come back from a different address (a restarted peer that
// got a new IP or port). Failure is already the detector's verdict, so
// there is nothing to gain by waiting: any positive value enables it.
const deadNodeReclaimTime = time.Nanosecond

// awarenessMaxMultiplier is Lifeguard's local-health bound: a member
// that misses its own acks (because it is the slow one) stretches its
// probe interval and timeout by up to this factor instead of accusing
// healthy peers. memberlist's default, for both profiles.
const awarenessMaxMultiplier = 8

// memberlistConfig returns memberlist's configuration for the profile,
// without name, addresses, keyring, transport or logger.
func (p Profile) memberlistConfig() *memberlist.Config {
	if p == ProfileWAN || p == ProfileQuiet {
		c := memberlist.DefaultWANConfig()
		c.AwarenessMaxMultiplier = awarenessMaxMultiplier
		c.DeadNodeReclaimTime = deadNodeReclaimTime
		if p == ProfileQuiet {
			c.GossipNodes, c.RetransmitMult = quietGossipNodes, quietGossipNodes
			c.PushPullInterval = quietPushPullInterval
		}
		return c
	}
	c := memberlist.DefaultLANConfig()
	c.ProbeInterval = lanProbeInterval
	c.ProbeTimeout = lanProbeTimeout
	c.IndirectChecks = lanIndirectChecks
	c.SuspicionMult = lanSuspicionMult
	c.SuspicionMaxTimeoutMult = lanSuspicionMaxTimeoutMult
	c.GossipInterval = lanGossipInterval
	c.GossipNodes = lanGossipNodes
	c.RetransmitMult = lanRetransmitMult
	c.PushPullInterval = lanPushPullInterval
	c.TCPTimeout = lanTCPTimeout
	c.AwarenessMaxMultiplier = awarenessMaxMultiplier
	c.DeadNodeReclaimTime = deadNodeReclaimTime
	return c
}

// reconnectInterval is how often serf retries one failed member.
func (p Profile) reconnectInterval() time.Duration {
	if p == ProfileWAN || p == ProfileQuiet {
		return wanReconnectInterval
	}
	return lanReconnectInterval
}

// leavePropagateDelay is how long a leaving member keeps answering probes
// after its leave message went out, so that members that have not heard
// of the leave yet do not declare it failed: five gossip intervals.
func leavePropagateDelay(c *memberlist.Config) time.Duration {
	return 5 * c.GossipInterval
}
