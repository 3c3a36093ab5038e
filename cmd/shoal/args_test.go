package main

import (
	"io"
	"reflect"
	"testing"
	"time"
)

func TestReorderArgsMovesFlagsBeforePositionals(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	cases := []struct{ in, want []string }{
		{[]string{"shoal", "token", "revoke", "abc", "--server", "x"}, []string{"shoal", "token", "revoke", "--server", "x", "abc"}},
		{[]string{"shoal", "--config", "c", "members", "-o", "json"}, []string{"shoal", "--config", "c", "members", "-o", "json"}},
		{[]string{"shoal", "members", "-o=json", "extra"}, []string{"shoal", "members", "-o=json", "extra"}},
		{[]string{"shoal", "agent", "--name", "p1", "--", "--odd"}, []string{"shoal", "agent", "--name", "p1", "--", "--odd"}},
	}
	for _, c := range cases {
		if got := reorderArgs(app, c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("reorderArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                  "0s",
		5 * time.Second:               "5s",
		3*time.Minute + 4*time.Second: "3m4s",
		45 * time.Minute:              "45m",
		5*time.Hour + 10*time.Minute:  "5h10m",
		30 * time.Hour:                "30h",
		72 * time.Hour:                "3d",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
