package gossip

import (
	"errors"
	"strings"
	"testing"

	"github.com/shoalproject/shoal/internal/errdefs"
)

func TestTagsRoundTrip(t *testing.T) {
	for _, tags := range []Tags{
		{},
		{Region: "eu"},
		tagsFor("m0"),
		{Region: "r", Zone: "z", API: "[2001:db8::1]:443", Raft: "10.0.0.1:7000", Tunnel: "host.example:7001", Version: "v1.2.3-rc.1+abc"},
	} {
		if got := decodeTags(tags.encode()); got != tags {
			t.Errorf("round trip of %+v gave %+v", tags, got)
		}
	}
}

func TestTagsEncodeShortKeysAndOmitEmpty(t *testing.T) {
	got := Tags{Region: "eu", API: "1.2.3.4:5"}.encode()
	want := map[string]string{"r": "eu", "api": "1.2.3.4:5"}
	if len(got) != len(want) || got["r"] != "eu" || got["api"] != "1.2.3.4:5" {
		t.Errorf("encode = %v, want %v", got, want)
	}
}

func TestTagsDecodeIsTolerant(t *testing.T) {
	got := decodeTags(map[string]string{"z": "a", "future-key": "x", "role": "legacy"})
	if got != (Tags{Zone: "a"}) {
		t.Errorf("decode with missing and unknown keys = %+v", got)
	}
	if got := decodeTags(nil); got != (Tags{}) {
		t.Errorf("decode(nil) = %+v", got)
	}
}

func TestTagsValidate(t *testing.T) {
	long := strings.Repeat("x", MaxTagValueLen+1)
	for _, tc := range []struct {
		tags  Tags
		field string
	}{
		{Tags{Region: long}, "region"},
		{Tags{Version: long}, "version"},
		{Tags{API: "no-port"}, "api"},
		{Tags{Raft: ":7000"}, "raft"},
		{Tags{Tunnel: "h:99999"}, "tunnel"},
		{Tags{Tunnel: "h:x"}, "tunnel"},
	} {
		err := tc.tags.Validate()
		if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalid naming %s", tc.tags, err, tc.field)
		}
	}
	if err := tagsFor("m0").Validate(); err != nil {
		t.Errorf("valid tags: %v", err)
	}
}

// TestLargestTagsFitMemberlist pins the size bound: the largest valid
// tags, msgpack-encoded as serf does (one magic byte, a map of str8
// strings), stay well under memberlist's 512-byte meta limit.
func TestLargestTagsFitMemberlist(t *testing.T) {
	v := strings.Repeat("x", MaxTagValueLen)
	largest := Tags{Region: v, Zone: v, API: v, Raft: v, Tunnel: v, Version: v}
	size := 1 + 1 // magic byte, fixmap header
	for k, val := range largest.encode() {
		size += 1 + len(k) + 2 + len(val) // fixstr key, str8 value
	}
	if size > 480 {
		t.Errorf("largest tags encode to %d bytes, too close to 512", size)
	}
}
