package gossip

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

func TestParseProfile(t *testing.T) {
	for in, want := range map[string]Profile{"lan": ProfileLAN, "wan": ProfileWAN} {
		got, err := ParseProfile(in)
		if err != nil || got != want {
			t.Errorf("ParseProfile(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "LAN", "lan ", "metro"} {
		_, err := ParseProfile(in)
		if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), `"lan"`) {
			t.Errorf("ParseProfile(%q) = %v, want ErrInvalid listing the profiles", in, err)
		}
	}
}

func TestProfilesTimings(t *testing.T) {
	lan := ProfileLAN.memberlistConfig()
	if lan.ProbeInterval != 200*time.Millisecond || lan.ProbeTimeout != 100*time.Millisecond ||
		lan.SuspicionMult != 3 || lan.SuspicionMaxTimeoutMult != 3 || lan.GossipInterval != 100*time.Millisecond ||
		lan.RetransmitMult != 6 || lan.PushPullInterval != 10*time.Second {
		t.Errorf("LAN timings changed without updating doc.go: %+v", lan)
	}
	if lan.AwarenessMaxMultiplier < 2 {
		t.Error("LAN profile turned Lifeguard's local health awareness off")
	}
	if lan.ProbeTimeout >= lan.ProbeInterval {
		t.Error("LAN probe timeout must leave time for indirect probes within the interval")
	}
	wan := ProfileWAN.memberlistConfig()
	if wan.ProbeInterval != 5*time.Second || wan.SuspicionMult != 6 {
		t.Errorf("WAN profile is not memberlist's WAN configuration: %+v", wan)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	key := clusterKey
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no name", Config{Keyring: [][]byte{key}}, "name"},
		{"bad name", Config{Name: "a b", Keyring: [][]byte{key}}, "name"},
		{"no key", Config{Name: "a"}, "keyring"},
		{"short key", Config{Name: "a", Keyring: [][]byte{key, []byte("short")}}, "keyring[1]"},
		{"bad profile", Config{Name: "a", Keyring: [][]byte{key}, Profile: "metro"}, "profile"},
		{"bad tags", Config{Name: "a", Keyring: [][]byte{key}, Tags: Tags{API: "x"}}, "api"},
		{"bad port", Config{Name: "a", Keyring: [][]byte{key}, BindPort: 70000}, "port"},
	} {
		_, err := Start(context.Background(), tc.cfg)
		if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalid naming %s", tc.name, err, tc.want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{Name: "a", Keyring: [][]byte{clusterKey}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile != ProfileLAN || c.BindAddr != "0.0.0.0" || c.ReconnectTimeout != DefaultReconnectTimeout ||
		c.TombstoneTimeout != DefaultTombstoneTimeout || c.Logger == nil || c.Now == nil {
		t.Errorf("defaults: %+v", c)
	}
	if got := c.reapInterval(); got != 15*time.Second {
		t.Errorf("reap interval %v, want serf's 15s", got)
	}
	c.ReconnectTimeout = time.Second
	if got := c.reapInterval(); got != 250*time.Millisecond {
		t.Errorf("reap interval for a 1s reconnect timeout: %v", got)
	}
}

func TestStartAfterCancelFails(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Start(ctx, Config{Name: "a", Keyring: [][]byte{clusterKey}, Network: NewMemNetwork()})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Start with a canceled context: %v", err)
	}
}
