package gossip

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/memberlist"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Tags is what a member tells the cluster about itself. Every member
// gossips its tags with its liveness; they change rarely (SetTags).
type Tags struct {
	Region  string // failure domain, coarse: "eu-west"
	Zone    string // failure domain within the region: "eu-west-1a"
	API     string // host:port of the member's API server
	Raft    string // host:port of the member's raft transport
	Tunnel  string // host:port of the member's peer-to-peer service tunnel
	Version string // Shoal version the member runs
	// State is "" for a member in service and StateLeaving while it hands
	// its work over before a graceful leave.
	State string
}

// StateLeaving marks a member that is handing over before it leaves.
const StateLeaving = "leaving"

// The serf tag keys. Short, because every member's tags travel in every
// alive message and memberlist caps them at 512 bytes.
const (
	tagRegion  = "r"
	tagZone    = "z"
	tagAPI     = "api"
	tagRaft    = "raft"
	tagTunnel  = "tun"
	tagVersion = "v"
	tagState   = "st"
)

// MaxTagValueLen is the longest value a Tags field may hold, in bytes.
// With six fields of at most this and a state of at most "leaving", the
// msgpack encoding is at most about 460 bytes, under memberlist's 512-byte
// limit; real tags are around 100.
const MaxTagValueLen = 64

// fields lists each tag with its serf key, in a fixed order.
func (t *Tags) fields() []struct {
	key   string
	name  string
	value *string
} {
	return []struct {
		key   string
		name  string
		value *string
	}{
		{tagRegion, "region", &t.Region},
		{tagZone, "zone", &t.Zone},
		{tagAPI, "api", &t.API},
		{tagRaft, "raft", &t.Raft},
		{tagTunnel, "tunnel", &t.Tunnel},
		{tagVersion, "version", &t.Version},
		{tagState, "state", &t.State},
	}
}

// Validate checks every field's length and that API, Raft and Tunnel are
// empty or host:port. Errors name the field and wrap errdefs.ErrInvalid.
func (t Tags) Validate() error {
	if t.State != "" && t.State != StateLeaving {
		return fmt.Errorf("gossip tags: state %q: want empty or %q: %w", t.State, StateLeaving, errdefs.ErrInvalid)
	}
	for _, f := range t.fields() {
		if len(*f.value) > MaxTagValueLen {
			return fmt.Errorf("gossip tags: %s is %d bytes, at most %d: %w", f.name, len(*f.value), MaxTagValueLen, errdefs.ErrInvalid)
		}
	}
	for _, f := range []struct{ name, value string }{{"api", t.API}, {"raft", t.Raft}, {"tunnel", t.Tunnel}} {
		if f.value == "" {
			continue
		}
		if err := checkHostPort(f.value); err != nil {
			return fmt.Errorf("gossip tags: %s %q: %v: %w", f.name, f.value, err, errdefs.ErrInvalid)
		}
	}
	return nil
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("want host:port")
	}
	if host == "" {
		return fmt.Errorf("empty host")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not in 1-65535", port)
	}
	return nil
}

// encode returns the serf tag map: short keys, empty fields left out.
func (t Tags) encode() map[string]string {
	m := make(map[string]string, 6)
	for _, f := range t.fields() {
		if *f.value != "" {
			m[f.key] = *f.value
		}
	}
	return m
}

// decodeTags reads a serf tag map. Missing keys leave fields empty and
// unknown keys (from a newer Shoal) are ignored.
func decodeTags(m map[string]string) Tags {
	var t Tags
	for _, f := range t.fields() {
		*f.value = m[f.key]
	}
	return t
}

// serfTagMagic starts serf's encoding of a member's tags in memberlist's
// node meta; a msgpack map follows.
const serfTagMagic = 255

// decodeMeta reads the tags serf put in a memberlist node's meta.
func decodeMeta(meta []byte) (Tags, error) {
	if len(meta) == 0 || meta[0] != serfTagMagic {
		return Tags{}, fmt.Errorf("gossip: node meta is not serf tags: %w", errdefs.ErrInvalid)
	}
	var m map[string]string
	if err := codec.NewDecoderBytes(meta[1:], &codec.MsgpackHandle{}).Decode(&m); err != nil {
		return Tags{}, fmt.Errorf("gossip: node meta: %v: %w", err, errdefs.ErrInvalid)
	}
	return decodeTags(m), nil
}

// trackFilter is the memberlist alive delegate behind Config.Track.
type trackFilter struct {
	self  string
	track func(name string, t Tags) bool
}

// NotifyAlive refuses news of a member the filter does not track; this
// member itself is always tracked (it must refute suspicion of itself).
func (f trackFilter) NotifyAlive(n *memberlist.Node) error {
	if n.Name == f.self {
		return nil
	}
	t, err := decodeMeta(n.Meta)
	if err != nil {
		return err
	}
	if !f.track(n.Name, t) {
		return errNotTracked
	}
	return nil
}

var errNotTracked = errors.New("not tracked by this member")
