// Package gossip is Shoal's membership and failure detection: who is in
// the cluster, who is alive, and what each peer offers. Every peer runs
// one Membership; there is no coordinator.
//
// # What it owns
//
//   - Membership: starting gossip (Start), joining a cluster through any
//     member (Join), leaving gracefully (Leave) or stopping abruptly
//     (Shutdown), and the member list with each member's Status (alive,
//     suspect, leaving, left, failed) and Tags.
//   - Tags: the little a peer tells everyone about itself (region, zone,
//     API, raft and tunnel addresses, version), gossiped with its
//     liveness under short keys, well within memberlist's 512 bytes.
//   - Events: typed Joined, Failed, Left, Updated and Reaped events,
//     fanned out to any number of subscribers. EventFailed is the
//     peer-failure signal that store replica repair and pod failover act
//     on.
//   - MemNetwork: an in-memory transport, so tests and hollow peers run
//     many members in one process without sockets, crash them, or cut
//     them off the network.
//
// It is built on hashicorp/serf, which adds tags, leave intents,
// reconnection, reaping and snapshots to hashicorp/memberlist's SWIM
// failure detector with the Lifeguard extensions. Serf and memberlist
// types do not leave this package.
//
// # What it must not import
//
// gossip sits at the bottom of Shoal's layers: it imports nothing of
// Shoal's except github.com/shoalproject/shoal/internal/errdefs, for
// the error vocabulary (TestPackageImportsNothingOfShoalButErrdefs
// checks it). It knows nothing of raft, workloads or the API; peer wires
// it to them.
//
// # Security
//
// Gossip is always encrypted and authenticated: Config.Keyring is
// required, and a member verifies every packet and stream it receives.
// A peer with another key cannot join. Its Join fails with an error
// wrapping errdefs.ErrUnauthenticated: "gossip join 10.0.0.1:7946:
// rejected: the cluster does not accept our gossip key (wrong key?)".
// What memberlist does on both transports is this: the contacted
// member cannot decrypt the join, so it answers with an error that is
// itself encrypted with the cluster's key, and the joiner reports "no
// installed keys could decrypt the message". There is no timeout. Every
// other join failure (refused, unreachable, unresolvable) wraps
// errdefs.ErrUnavailable.
//
// # Profiles
//
// Config.Profile chooses the failure detector's timings.
//
// ProfileLAN (the default) declares a crashed peer failed, at every
// other member, in about a second on a quiet LAN:
//
//	ProbeInterval            200 ms  (memberlist default 1 s)
//	ProbeTimeout             100 ms  (500 ms)
//	IndirectChecks           3       (3)
//	SuspicionMult            3       (4)
//	SuspicionMaxTimeoutMult  3       (6)
//	GossipInterval           100 ms  (200 ms)
//	GossipNodes              3       (3)
//	AwarenessMaxMultiplier   8       (8, Lifeguard local health: on)
//	RetransmitMult           6       (4)
//	PushPullInterval         10 s    (30 s)
//	TCPTimeout               5 s     (10 s)
//
// Why these numbers: a member probes one other member every probe
// interval, so with a few members someone probes the crashed one within
// about 0.1 s. The probe fails at the end of its 0.2 s interval (0.1 s
// for the direct ack, the rest for indirect probes through 3 members and
// a TCP fallback), and the member becomes suspect. The suspicion lasts
// SuspicionMult probe intervals (0.6 s; times log10 of the member count
// above 10) once another member has independently suspected it too (the
// Lifeguard "dogpile": SuspicionMult-2 = 1 confirmation), and at most
// SuspicionMaxTimeoutMult times that (1.8 s) without confirmation. The
// death is then gossiped every 100 ms. A live member that is merely slow
// hears of its suspicion through the same gossip (or piggy-backed on the
// next probe) and refutes it within a gossip interval or two, which is
// why 0.6 s of suspicion is ample even with both CPUs busy; and
// Lifeguard's local health awareness makes a member that is itself
// starved of CPU, and so misses acks, slow its own probing (up to 8x)
// instead of accusing healthy peers. SuspicionMult 3 rather than 2 keeps
// that confirmation step. The probe timeout is 100 ms although a LAN
// round trip is well under a millisecond: it is headroom for scheduling
// and garbage-collection pauses on busy machines. The benchmarks measure
// the result (BenchmarkFailureDetection) and TestSoakNoFalseFailures
// checks for false failures with both cores busy. Every member passes
// each piece of news on 6 x ceil(log10(N+1)) times rather than 4, so
// that a member missing one (probability about e^-(that)) is rare even
// at 50 members; with 4, about one member of a 50-member cluster misses
// some join or death until a push/pull. The full-state
// push/pull every 10 s repairs what gossip misses: a member that joins
// through a seed answers the joiner before merging it, so two peers
// joining the same seed at the same moment may not learn of each other
// until a push/pull.
//
// ProfileWAN is memberlist.DefaultWANConfig unchanged: 5 s probes with
// 3 s timeouts, SuspicionMult 6, 500 ms gossip to 4 members, 30 s TCP
// timeout. Failure detection takes tens of seconds, as links with
// seconds of jitter require.
//
// Both profiles: serf's member-event coalescing is off, so EventFailed
// is delivered as soon as memberlist decides; a leaving member keeps
// answering for five gossip intervals after its leave went out, so it is
// seen as left, not failed; serf retries a failed member every 10 s (LAN)
// or 30 s (WAN), which heals partitions; failed and left members are
// reaped after Config.ReconnectTimeout and Config.TombstoneTimeout (24 h
// each by default); and a failed member's name can be taken over at
// once by a new address (memberlist's DeadNodeReclaimTime), so a peer
// restarted on another IP or port is alive again (EventJoined) as soon as
// it joins.
//
// # Restarts and snapshots
//
// A peer that restarts under the same name and joins any member is
// alive again everywhere, with EventJoined. With Config.SnapshotPath, serf
// records the members it knows, and a restarted member rejoins them by
// itself, also after a graceful leave (serf's RejoinAfterLeave). Names
// must be unique: serf's name-conflict vote is off, because a member
// that loses it shuts itself down without telling its caller.
//
// # Events and subscribers
//
// Subscribe returns a buffered channel. Events are delivered in order and
// never block serf: when a subscriber's buffer is full the event is
// dropped for that subscriber and counted in Stats.EventsDropped. A
// subscriber that must not miss a failure sizes its buffer for its bursts
// and reconciles with Members. Member.Since and Event.At come from
// Config.Now, the one clock this package reads itself; failure detection
// timers are memberlist's own.
//
// Events about one member can come in quick succession, and the last
// one is the member's state: a member restarted moments after it was
// declared failed can be declared failed once more while its old death
// is still gossiped (failed, joined, failed, joined), and on starved CPUs
// a member that leaves gracefully can be reported failed a moment
// before left (serf then turns the failure into a leave).
//
// Suspicion has no event (serf does not report it): Members shows it
// as StatusSuspect, and Since for it is when Members first saw it.
//
// # Logging
//
// Logs go to Config.Logger with component=gossip and member=<name>:
// info for joins, failures and leaves of other members; serf's and
// memberlist's own chatter at debug level, with their level kept as the
// attribute lib_level; except gossip that no key decrypts (a peer with the
// wrong key knocking), which is a warning.
package gossip
