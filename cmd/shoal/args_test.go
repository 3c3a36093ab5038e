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
		// Flags before the verb go to the verb, ahead of its own.
		{[]string{"shoal", "--config", "c", "members", "-o", "json"}, []string{"shoal", "members", "--config", "c", "-o", "json"}},
		{[]string{"shoal", "--config", "c", "--server=s", "get", "ns"}, []string{"shoal", "get", "--config", "c", "--server=s", "ns"}},
		{[]string{"shoal", "-n", "kube-system", "get", "pods", "-o", "wide"}, []string{"shoal", "get", "-n", "kube-system", "-o", "wide", "pods"}},
		{[]string{"shoal", "--server", "a", "get", "--server", "b", "ns"}, []string{"shoal", "get", "--server", "a", "--server", "b", "ns"}},
		{[]string{"shoal", "--server", "s", "token", "revoke", "abc"}, []string{"shoal", "token", "revoke", "--server", "s", "abc"}},
		// An unknown verb is left as given, to be reported as unknown.
		{[]string{"shoal", "run", "web", "--image=x"}, []string{"shoal", "run", "web", "--image=x"}},
		// A flag the verb does not have stays where it stood.
		{[]string{"shoal", "--help"}, []string{"shoal", "--help"}},
		{[]string{"shoal", "--config", "c", "agent", "--name", "p1"}, []string{"shoal", "--config", "c", "agent", "--name", "p1"}},
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
