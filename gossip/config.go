package gossip

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// DefaultPort is the conventional gossip port (UDP and TCP). Config's
// BindPort 0 does not mean DefaultPort: it means "pick a free port".
const DefaultPort = 7946

// Defaults for the Config fields that have one.
const (
	// DefaultReconnectTimeout is how long a failed member is kept, and
	// retried, before it is reaped (EventReaped) and forgotten.
	DefaultReconnectTimeout = 24 * time.Hour
	// DefaultTombstoneTimeout is how long a member that left gracefully
	// is kept before it is reaped.
	DefaultTombstoneTimeout = 24 * time.Hour
)

// Config is one member's gossip configuration. The zero value of every
// optional field means its default.
type Config struct {
	// Name is the member's name, unique in the cluster: letters, digits,
	// '-' and '.', at most 128 bytes. Required.
	Name string

	// BindAddr and BindPort are where gossip listens, UDP and TCP on the
	// same port. BindAddr defaults to "0.0.0.0"; BindPort 0 picks a free
	// port (Membership.LocalAddr reports it).
	BindAddr string
	BindPort int

	// AdvertiseAddr and AdvertisePort are the address other members use
	// to reach this one (NAT, a specific interface). They default to the
	// bind address (memberlist picks a private IP when binding 0.0.0.0)
	// and the bound port. Ignored with Network: the in-memory network
	// assigns addresses.
	AdvertiseAddr string
	AdvertisePort int

	// Tags are what the member tells the others about itself; see
	// Membership.SetTags to change them later.
	Tags Tags

	// Keyring holds the AES keys (16, 24 or 32 bytes each) that encrypt
	// and authenticate gossip. The first is the primary: it encrypts;
	// all of them are tried to decrypt, so a key can be rotated in by
	// installing it everywhere before making it primary. Required:
	// gossip is always encrypted.
	Keyring [][]byte

	// Profile selects the failure-detector timings; default ProfileLAN.
	Profile Profile

	// SnapshotPath, if set, is a file where serf records the members it
	// knows. A member started with an existing snapshot rejoins those
	// members by itself, also after a graceful leave.
	SnapshotPath string

	// ReconnectTimeout is how long a failed member is remembered before
	// it is reaped; default DefaultReconnectTimeout.
	ReconnectTimeout time.Duration
	// TombstoneTimeout is how long a member that left is remembered
	// before it is reaped; default DefaultTombstoneTimeout.
	TombstoneTimeout time.Duration

	// Network, if set, carries this member's gossip in memory instead of
	// UDP and TCP: no socket is opened.
	Network *MemNetwork

	// Logger receives the package's logs with component=gossip; serf's
	// and memberlist's own lines go to it at debug level. Default
	// slog.Default().
	Logger *slog.Logger

	// Track, if set, limits which other members this one keeps in its
	// view: news of a member for which it returns false is dropped
	// (memberlist's alive delegate), so this member neither lists,
	// probes nor relays that one. The others still list and probe this
	// member, and it still refutes suspicion of itself. Hollow nodes use
	// it to track only the real peers: a thousand members in one process
	// that each learn of every other do the O(N²) work that the cluster
	// they stand in for spreads over N machines. A push/pull merge is
	// taken whole and then filtered member by member, so joining through
	// a tracked member works. nil tracks every member.
	Track func(name string, t Tags) bool

	// Now is the clock for Member.Since and Event.At; default time.Now.
	// It is not used for timeouts, which are serf's and memberlist's.
	Now func() time.Time
}

// validName is serf's rule for node names (ValidateNodeNames).
var validName = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,128}$`)

// withDefaults returns a copy of c with defaults filled in, or an error
// wrapping errdefs.ErrInvalid that names the field.
func (c Config) withDefaults() (Config, error) {
	invalid := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("gossip config: "+format+": %w", append(args, errdefs.ErrInvalid)...)
	}
	if c.Name == "" {
		return invalid("name is required")
	}
	if !validName.MatchString(c.Name) {
		return invalid("name %q: use 1-128 letters, digits, '-' or '.'", c.Name)
	}
	if len(c.Keyring) == 0 {
		return invalid("keyring is required (gossip is always encrypted)")
	}
	keys := make([][]byte, len(c.Keyring))
	for i, k := range c.Keyring {
		switch len(k) {
		case 16, 24, 32:
		default:
			return invalid("keyring[%d] is %d bytes, want 16, 24 or 32", i, len(k))
		}
		keys[i] = append([]byte(nil), k...)
	}
	c.Keyring = keys
	if c.Profile == "" {
		c.Profile = ProfileLAN
	}
	if _, err := ParseProfile(string(c.Profile)); err != nil && c.Profile != ProfileQuiet {
		return Config{}, fmt.Errorf("gossip config: %w", err)
	}
	if err := c.Tags.Validate(); err != nil {
		return Config{}, err
	}
	if c.BindPort < 0 || c.BindPort > 65535 {
		return invalid("bind port %d", c.BindPort)
	}
	if c.AdvertisePort < 0 || c.AdvertisePort > 65535 {
		return invalid("advertise port %d", c.AdvertisePort)
	}
	if c.BindAddr == "" {
		c.BindAddr = "0.0.0.0"
	}
	if c.AdvertisePort == 0 {
		c.AdvertisePort = c.BindPort // 0 still: memberlist uses the bound port
	}
	if c.ReconnectTimeout < 0 || c.TombstoneTimeout < 0 {
		return invalid("negative reconnect or tombstone timeout")
	}
	if c.ReconnectTimeout == 0 {
		c.ReconnectTimeout = DefaultReconnectTimeout
	}
	if c.TombstoneTimeout == 0 {
		c.TombstoneTimeout = DefaultTombstoneTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// reapInterval is how often serf looks for members to reap: often
// enough that a short reconnect or tombstone timeout is honoured within
// a quarter of itself, at most serf's default of 15 s.
func (c Config) reapInterval() time.Duration {
	d := 15 * time.Second
	d = min(d, c.ReconnectTimeout/4, c.TombstoneTimeout/4)
	return max(d, 100*time.Millisecond)
}
