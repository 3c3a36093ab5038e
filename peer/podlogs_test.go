package peer

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
)

// A since limit is answered only when a whole run is on one side of it:
// the runtime keeps no time per line.
func TestSinceKeepsAWholeRunOrNothing(t *testing.T) {
	start := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	end := start.Add(time.Hour)
	for _, c := range []struct {
		name            string
		since, finished time.Time
		keep            bool
		cannotTell      bool
	}{
		{"before the start: all of it", start.Add(-time.Minute), time.Time{}, true, false},
		{"at the start: all of it", start, end, true, false},
		{"after the end: none", end.Add(time.Second), end, false, false},
		{"inside an ended run", start.Add(time.Minute), end, false, true},
		{"inside a run that goes on", start.Add(time.Minute), time.Time{}, false, true},
	} {
		keep, err := sinceKeeps(c.since, start, c.finished)
		if keep != c.keep || (err != nil) != c.cannotTell || (err != nil && !errors.Is(err, errdefs.ErrInvalid)) {
			t.Errorf("%s: keep %v, err %v; want keep %v, cannot tell %v", c.name, keep, err, c.keep, c.cannotTell)
		}
	}
}

func TestParseLogQuery(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	q, _ := url.ParseQuery("container=web&follow=true&previous=1&tailLines=3&limitBytes=100&sinceSeconds=60")
	lq, err := parseLogQuery(q, now, "p")
	want := logQuery{container: "web", opts: runtime.LogOptions{Follow: true, Previous: true, TailLines: 3}, since: now.Add(-time.Minute), limitBytes: 100}
	if err != nil || lq != want {
		t.Fatalf("parseLogQuery = %+v, %v; want %+v", lq, err, want)
	}
	if lq, err := parseLogQuery(url.Values{}, now, "p"); err != nil || lq.opts.TailLines != runtime.AllLines || lq.opts.Follow || !lq.since.IsZero() {
		t.Fatalf("no parameters: %+v, %v", lq, err)
	}
}

func TestExecQueryStreams(t *testing.T) {
	for _, c := range []struct {
		query, sub string
		ok         bool
		stderr     bool
	}{
		{"command=ls&stdout=true&stderr=true", "exec", true, true},
		{"command=sh&stdin=true&stdout=true&stderr=true&tty=true", "exec", true, false}, // a terminal has no stderr
		{"stdout=true", "exec", false, false},                                           // no command
		{"command=ls", "exec", false, false},                                            // no stream at all
		{"command=ls&stdout=true", "attach", false, false},                              // attach takes no command
		{"stdout=true&stdin=true", "attach", true, false},
	} {
		q, _ := url.ParseQuery(c.query)
		eq, err := parseExecQuery(q, c.sub)
		var stderr bool
		if err == nil {
			opts, serr := eq.streamOptions()
			if err = serr; err == nil {
				stderr = opts.Stderr
			}
		}
		if (err == nil) != c.ok || stderr != c.stderr {
			t.Errorf("%s?%s: err %v, stderr %v; want ok %v, stderr %v", c.sub, c.query, err, stderr, c.ok, c.stderr)
		}
	}
}
