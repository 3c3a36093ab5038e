package consensus

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Selector picks objects by their labels. Implementations are immutable and
// safe for concurrent use.
type Selector interface {
	// Matches reports whether labels satisfy the selector.
	Matches(labels map[string]string) bool
	// String is the selector in Kubernetes syntax; "" for Everything.
	String() string
	// Empty reports whether the selector matches everything.
	Empty() bool
}

// ParseSelector parses a Kubernetes label selector: "a=b", "a==b", "a!=b",
// "a in (b,c)", "a notin (b)", "a", "!a", joined by commas. "" matches
// everything. A malformed selector is errdefs.ErrInvalid with the parser's
// message.
func ParseSelector(s string) (Selector, error) {
	if s == "" {
		return Everything(), nil
	}
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("label selector %q: %v: %w", s, err, errdefs.ErrInvalid)
	}
	if sel.Empty() {
		return Everything(), nil
	}
	return labelSelector{sel}, nil
}

// Everything returns the selector that matches every object.
func Everything() Selector { return everything{} }

type everything struct{}

var _ Selector = everything{}

func (everything) Matches(map[string]string) bool { return true }
func (everything) String() string                 { return "" }
func (everything) Empty() bool                    { return true }

// labelSelector is a parsed, non-empty Kubernetes selector.
type labelSelector struct{ sel labels.Selector }

var _ Selector = labelSelector{}

func (l labelSelector) Matches(m map[string]string) bool { return l.sel.Matches(labels.Set(m)) }
func (l labelSelector) String() string                   { return l.sel.String() }
func (l labelSelector) Empty() bool                      { return false }

// matchesAll reports whether sel selects everything (nil counts as
// Everything), so callers can skip matching.
func matchesAll(sel Selector) bool { return sel == nil || sel.Empty() }
