package consensus

import (
	"errors"
	"testing"

	"github.com/shoalproject/shoal/internal/errdefs"
)

func TestParseSelector(t *testing.T) {
	web := map[string]string{"app": "web", "tier": "front"}
	db := map[string]string{"app": "db"}
	tests := []struct {
		selector string
		labels   map[string]string
		want     bool
	}{
		{"", web, true},
		{"", nil, true},
		{"app=web", web, true},
		{"app=web", db, false},
		{"app==web", web, true},
		{"app==web", nil, false},
		{"app!=web", db, true},
		{"app!=web", web, false},
		{"app!=web", nil, true}, // Kubernetes: a missing key is "not equal"
		{"app in (web,db)", db, true},
		{"app in (web,db)", map[string]string{"app": "cache"}, false},
		{"app notin (web)", db, true},
		{"app notin (web)", web, false},
		{"tier", web, true},
		{"tier", db, false},
		{"!tier", db, true},
		{"!tier", web, false},
		{"app=web,tier=front", web, true},
		{"app=web,tier=back", web, false},
		{" app = web ", web, true},
	}
	for _, tt := range tests {
		sel, err := ParseSelector(tt.selector)
		if err != nil {
			t.Errorf("ParseSelector(%q): %v", tt.selector, err)
			continue
		}
		if got := sel.Matches(tt.labels); got != tt.want {
			t.Errorf("%q.Matches(%v) = %v; want %v", tt.selector, tt.labels, got, tt.want)
		}
	}
}

func TestParseSelectorInvalid(t *testing.T) {
	for _, s := range []string{
		"app in web",      // set without parentheses
		"app=web,",        // trailing comma
		"=web",            // no key
		"app in (web",     // unclosed set
		"a b",             // two keys
		"app=we b",        // space in a value
		"-app=web",        // key must start alphanumeric
		"app=" + long(64), // value longer than 63
	} {
		sel, err := ParseSelector(s)
		if !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("ParseSelector(%q) = %v, %v; want ErrInvalid", s, sel, err)
		}
	}
}

func long(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

func TestSelectorStringAndEmpty(t *testing.T) {
	tests := []struct {
		in, want string
		empty    bool
	}{
		{"", "", true},
		{"app=web", "app=web", false},
		{"app==web,!tier", "app==web,!tier", false},
		{"app in (web,db)", "app in (db,web)", false},
	}
	for _, tt := range tests {
		sel, err := ParseSelector(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if sel.String() != tt.want || sel.Empty() != tt.empty {
			t.Errorf("ParseSelector(%q): String %q, Empty %v; want %q, %v", tt.in, sel.String(), sel.Empty(), tt.want, tt.empty)
		}
		// The canonical form parses back to the same selector.
		again, err := ParseSelector(sel.String())
		if err != nil || again.String() != sel.String() {
			t.Errorf("reparse of %q = %v, %v", sel.String(), again, err)
		}
	}
	if e := Everything(); !e.Empty() || e.String() != "" || !e.Matches(nil) || !e.Matches(map[string]string{"a": "b"}) {
		t.Error("Everything does not match everything")
	}
}
