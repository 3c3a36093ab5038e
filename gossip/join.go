package gossip

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Join contacts the members at addrs (gossip "host:port"), one after the
// other, exchanges full state with each that answers, and returns how
// many did. Joining any one member joins its whole cluster; the rest of
// the cluster learns of this member by gossip.
//
// When none answers, the error joins one error per address. An address
// whose member could not decrypt our gossip, or whose answer we could
// not decrypt, wraps errdefs.ErrUnauthenticated ("the cluster does not
// accept our gossip key (wrong key?)"); any other failure (refused,
// unreachable, unresolvable) wraps errdefs.ErrUnavailable. If ctx ends
// first, Join returns an error wrapping both ErrUnavailable and ctx's
// error; the attempt in flight finishes in the background within the
// profile's TCP timeout.
func (m *Membership) Join(ctx context.Context, addrs []string) (int, error) {
	if len(addrs) == 0 {
		return 0, fmt.Errorf("gossip join: no addresses: %w", errdefs.ErrInvalid)
	}
	type result struct {
		joined int
		errs   []error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		for _, addr := range addrs {
			if ctx.Err() != nil {
				break
			}
			n, err := m.serf.Join([]string{addr}, true)
			r.joined += n
			if n == 0 && err != nil {
				r.errs = append(r.errs, joinError(addr, err))
			}
		}
		done <- r
	}()
	select {
	case r := <-done:
		if r.joined > 0 {
			m.log.Info("joined the cluster", "contacted", r.joined, "addrs", addrs)
			return r.joined, nil
		}
		if len(r.errs) == 0 { // ctx ended between two addresses
			return 0, fmt.Errorf("gossip join %s: %w: %w", strings.Join(addrs, ","), errdefs.ErrUnavailable, ctx.Err())
		}
		return 0, errors.Join(r.errs...)
	case <-ctx.Done():
		return 0, fmt.Errorf("gossip join %s: %w: %w", strings.Join(addrs, ","), errdefs.ErrUnavailable, ctx.Err())
	}
}

// joinError classifies serf's failure to join one address.
//
// memberlist reports failures as text only (fmt.Errorf with %v, inside a
// go-multierror), so this is the one place the package reads error
// text; TestJoinWithWrongKey pins the behaviour for both transports so a
// memberlist upgrade that changes it fails loudly.
func joinError(addr string, err error) error {
	cause := joinCause(err)
	if keyRejected(cause) {
		return fmt.Errorf("gossip join %s: rejected: the cluster does not accept our gossip key (wrong key?): %w", addr, errdefs.ErrUnauthenticated)
	}
	return fmt.Errorf("gossip join %s: %s: %w", addr, cause, errdefs.ErrUnavailable)
}

// joinCause extracts memberlist's message for one address from serf's
// error: it unwraps the multierror and drops the "failed to join
// ADDR: " prefix.
func joinCause(err error) string {
	var multi interface{ WrappedErrors() []error }
	if errors.As(err, &multi) {
		var causes []string
		for _, e := range multi.WrappedErrors() {
			causes = append(causes, joinCause(e))
		}
		return strings.Join(causes, "; ")
	}
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "failed to join "); ok {
		if _, cause, ok := strings.Cut(rest, ": "); ok {
			return cause
		}
	}
	return msg
}

// keyRejected reports whether memberlist's message says the two sides'
// gossip keys do not match: either side failed to decrypt (the remote's
// error reply is encrypted with its key, so the joiner usually sees its
// own decryption fail), or one side does not encrypt at all.
func keyRejected(cause string) bool {
	c := strings.ToLower(cause)
	for _, s := range []string{
		"no installed keys could decrypt",
		"encryption is configured but remote state is not encrypted",
		"remote state is encrypted and encryption is not configured",
	} {
		if strings.Contains(c, s) {
			return true
		}
	}
	return false
}
