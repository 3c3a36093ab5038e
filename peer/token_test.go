package peer

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func TestTokenRoundTrip(t *testing.T) {
	tok, secret, err := NewToken(UsageJoin, "", time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	pin := strings.Repeat("ab", 32)
	p, err := ParseToken(FormatToken(pin, tok.ID, secret))
	if err != nil {
		t.Fatal(err)
	}
	if p.CAPin != pin || p.ID != tok.ID || p.Secret != secret {
		t.Fatalf("parsed %+v", p)
	}
	bare, err := ParseToken(tok.ID + "." + secret)
	if err != nil || bare.CAPin != "" {
		t.Fatalf("bare form: %+v %v", bare, err)
	}
	if strings.Contains(tok.SecretHash, secret) {
		t.Fatal("record keeps the secret")
	}
}

func TestParseTokenRejects(t *testing.T) {
	for _, s := range []string{
		"", "abc", "K10abc::abcdef.0123456789abcdef",
		"K10" + strings.Repeat("zz", 32) + "::abcdef.0123456789abcdef",
		"K10" + strings.Repeat("ab", 32) + "::ABCDEF.0123456789abcdef",
		"abcdef.short",
	} {
		if _, err := ParseToken(s); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("ParseToken(%q) = %v, want ErrInvalid", s, err)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	join, js, _ := NewToken(UsageJoin, "", time.Hour, t0)
	api, as, _ := NewToken(UsageAPI, "", 0, t0)
	set := TokenSet{join.ID: join, api.ID: api}
	if _, err := set.Authenticate(join.ID, js, UsageJoin, t0.Add(time.Minute)); err != nil {
		t.Fatalf("valid join token: %v", err)
	}
	if _, err := set.Authenticate(api.ID, as, UsageAPI, t0.Add(1000*time.Hour)); err != nil {
		t.Fatalf("token without ttl: %v", err)
	}
	cases := []struct {
		name, id, secret, usage string
		at                      time.Time
		want                    string
	}{
		{"unknown", "zzzzzz", js, UsageJoin, t0, "not known"},
		{"wrong secret", join.ID, as, UsageJoin, t0, "wrong secret"},
		{"expired", join.ID, js, UsageJoin, t0.Add(time.Hour), "expired"},
		{"wrong usage", api.ID, as, UsageJoin, t0, "not a join token"},
	}
	for _, c := range cases {
		_, err := set.Authenticate(c.id, c.secret, c.usage, c.at)
		if !errors.Is(err, errdefs.ErrUnauthenticated) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want ErrUnauthenticated mentioning %q", c.name, err, c.want)
		}
	}
	if err := set.Revoke(join.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := set.Authenticate(join.ID, js, UsageJoin, t0); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked token: %v", err)
	}
	if err := set.Revoke("nope00"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
}

func TestTokenSetMergeConverges(t *testing.T) {
	a1, _, _ := NewToken(UsageJoin, "", 0, t0)
	a2, _, _ := NewToken(UsageJoin, "", 0, t0.Add(time.Second))
	left := TokenSet{a1.ID: a1}
	right := TokenSet{a1.ID: a1, a2.ID: a2}
	if err := right.Revoke(a1.ID); err != nil {
		t.Fatal(err)
	}
	l2, r2 := left.Clone(), right.Clone()
	if !l2.Merge(right) {
		t.Fatal("merge reported no change")
	}
	r2.Merge(left)
	if len(l2) != 2 || len(r2) != 2 || !l2[a1.ID].Revoked || !r2[a1.ID].Revoked {
		t.Fatalf("did not converge: %v vs %v", l2, r2)
	}
	if l2.Merge(r2) {
		t.Fatal("merging an equal set reported a change")
	}
	if _, _, err := NewToken("bogus", "", 0, t0); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("bad usage: %v", err)
	}
}
