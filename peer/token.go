package peer

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Token usages: a join token admits a new peer; an API token is a bearer
// credential for the API.
const (
	UsageJoin = "join"
	UsageAPI  = "api"
)

// tokenPrefix marks the token format version, as k3s' "K10".
const tokenPrefix = "K10"

var (
	tokenIDRe     = regexp.MustCompile(`^[a-z0-9]{6}$`)
	tokenSecretRe = regexp.MustCompile(`^[a-z0-9]{16}$`)
)

// Token is what the cluster remembers of a token: never the secret, only its
// SHA-256. Records are immutable but for Revoked, which only ever goes from
// false to true, so token sets merge without coordination (see TokenSet.Merge).
type Token struct {
	ID          string    `json:"id"`
	SecretHash  string    `json:"secretHash"`
	Usage       string    `json:"usage"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
	Expires     time.Time `json:"expires,omitzero"` // zero: never
	Revoked     bool      `json:"revoked,omitempty"`
}

// Expired says whether the token is past its expiry at now.
func (t Token) Expired(now time.Time) bool { return !t.Expires.IsZero() && !now.Before(t.Expires) }

// TokenSet is the cluster's tokens by ID. Every peer keeps a copy; copies
// converge by Merge (a grow-only set whose Revoked flag is an or-register).
type TokenSet map[string]Token

// NewToken makes a token record and its secret. The full token string that
// users pass to --token is FormatToken(caPin, id, secret).
func NewToken(usage, description string, ttl time.Duration, now time.Time) (Token, string, error) {
	if usage != UsageJoin && usage != UsageAPI {
		return Token{}, "", fmt.Errorf("token usage %q: want %q or %q: %w", usage, UsageJoin, UsageAPI, errdefs.ErrInvalid)
	}
	if ttl < 0 {
		return Token{}, "", fmt.Errorf("token ttl %s: must not be negative: %w", ttl, errdefs.ErrInvalid)
	}
	id, secret := randomLower(6), randomLower(16)
	t := Token{ID: id, SecretHash: hashSecret(secret), Usage: usage, Description: description, Created: now.UTC()}
	if ttl > 0 {
		t.Expires = now.Add(ttl).UTC()
	}
	return t, secret, nil
}

// FormatToken is the string a user passes: K10<ca-pin>::<id>.<secret>.
func FormatToken(caPin, id, secret string) string {
	return tokenPrefix + caPin + "::" + id + "." + secret
}

// ParsedToken is a token string taken apart. CAPin is empty for a bare
// "<id>.<secret>" bearer token, which does not pin a CA.
type ParsedToken struct {
	CAPin, ID, Secret string
}

// ParseToken accepts the full form K10<ca-pin>::<id>.<secret> and, for bearer
// use, the bare <id>.<secret>.
func ParseToken(s string) (ParsedToken, error) {
	var p ParsedToken
	rest := strings.TrimSpace(s)
	if strings.HasPrefix(rest, tokenPrefix) {
		pin, cred, ok := strings.Cut(strings.TrimPrefix(rest, tokenPrefix), "::")
		if !ok || len(pin) != 64 {
			return p, fmt.Errorf("token: want K10<64 hex CA hash>::<id>.<secret>: %w", errdefs.ErrInvalid)
		}
		if _, err := hex.DecodeString(pin); err != nil {
			return p, fmt.Errorf("token: CA hash is not hex: %w", errdefs.ErrInvalid)
		}
		p.CAPin, rest = pin, cred
	}
	id, secret, ok := strings.Cut(rest, ".")
	if !ok || !tokenIDRe.MatchString(id) || !tokenSecretRe.MatchString(secret) {
		return p, fmt.Errorf("token: want K10<ca-hash>::<id>.<secret> (a join token) or <id>.<secret> (an API token), where id is 6 and secret 16 characters of a-z0-9: %w", errdefs.ErrInvalid)
	}
	p.ID, p.Secret = id, secret
	return p, nil
}

// Authenticate checks a presented id and secret for a usage at now. The
// errors name what is wrong (unknown, revoked, expired, wrong usage) and wrap
// ErrUnauthenticated; the secret is compared in constant time.
func (s TokenSet) Authenticate(id, secret, usage string, now time.Time) (Token, error) {
	t, ok := s[id]
	if !ok {
		return Token{}, fmt.Errorf("token %q is not known to this cluster: %w", id, errdefs.ErrUnauthenticated)
	}
	if subtle.ConstantTimeCompare([]byte(t.SecretHash), []byte(hashSecret(secret))) != 1 {
		return Token{}, fmt.Errorf("token %q: wrong secret: %w", id, errdefs.ErrUnauthenticated)
	}
	if t.Revoked {
		return Token{}, fmt.Errorf("token %q has been revoked: %w", id, errdefs.ErrUnauthenticated)
	}
	if t.Expired(now) {
		return Token{}, fmt.Errorf("token %q expired at %s: %w", id, t.Expires.Format(time.RFC3339), errdefs.ErrUnauthenticated)
	}
	if t.Usage != usage {
		return Token{}, fmt.Errorf("token %q is a %s token, not a %s token: %w", id, t.Usage, usage, errdefs.ErrUnauthenticated)
	}
	return t, nil
}

// Merge folds other into s and reports whether s changed. It is commutative,
// associative and idempotent, so peers converge whatever order they exchange
// sets in.
func (s TokenSet) Merge(other TokenSet) bool {
	changed := false
	for id, o := range other {
		cur, ok := s[id]
		switch {
		case !ok:
			s[id] = o
			changed = true
		case o.Revoked && !cur.Revoked:
			cur.Revoked = true
			s[id] = cur
			changed = true
		}
	}
	return changed
}

// Revoke marks a token revoked.
func (s TokenSet) Revoke(id string) error {
	t, ok := s[id]
	if !ok {
		return fmt.Errorf("token %q: %w", id, errdefs.ErrNotFound)
	}
	t.Revoked = true
	s[id] = t
	return nil
}

// Clone copies the set.
func (s TokenSet) Clone() TokenSet {
	out := make(TokenSet, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}

// Sorted lists the tokens by creation time, then ID.
func (s TokenSet) Sorted() []Token {
	out := make([]Token, 0, len(s))
	for _, t := range s {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"

func randomLower(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = lowerAlnum[int(b[i])%len(lowerAlnum)]
	}
	return string(b)
}
