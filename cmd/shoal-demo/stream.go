package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// helloFrom finds the replica in the web service's answer.
var helloFrom = regexp.MustCompile(`hello from (\S+)`)

// answer is one call of the web service: which replica answered, and
// whether it served the volume's file after its greeting.
func call(ctx context.Context, client *http.Client, url, content string) (pod, body string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", "", err
	}
	body = string(b)
	m := helloFrom.FindStringSubmatch(body)
	switch {
	case resp.StatusCode != http.StatusOK:
		return "", body, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(body))
	case m == nil:
		return "", body, fmt.Errorf("an answer with no greeting: %q", body)
	case !strings.Contains(body, content):
		return m[1], body, fmt.Errorf("%s answered without the volume's file: %q", m[1], body)
	}
	return m[1], body, nil
}

// stream calls the service through each of its clients at once, one
// request at a time per client, each on a new connection, until stopped:
// at most maxStreamRequests requests per client, and maxStreamTime.
type stream struct {
	stopc chan struct{}
	wg    sync.WaitGroup

	mu          sync.Mutex
	sent        int
	failed      int
	failedAfter int // sent after the mark, and failed
	inFlight    int // sent before the mark, failed after it
	lastErr     error
	byPod       map[string]int
	marked      time.Time
}

const (
	maxStreamRequests = 20000
	maxStreamTime     = 5 * time.Minute
)

func startStream(clients []*http.Client, url, content string) *stream {
	s := &stream{stopc: make(chan struct{}), byPod: map[string]int{}}
	deadline := time.Now().Add(maxStreamTime)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	for _, c := range clients {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for i := 0; i < maxStreamRequests && ctx.Err() == nil; i++ {
				select {
				case <-s.stopc:
					return
				default:
				}
				sent := time.Now()
				pod, _, err := call(ctx, c, url, content)
				s.record(sent, pod, err)
			}
		}()
	}
	go func() { s.wg.Wait(); cancel() }()
	return s
}

func (s *stream) record(sent time.Time, pod string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent++
	if err == nil {
		s.byPod[pod]++
		return
	}
	s.failed++
	s.lastErr = err
	switch {
	case s.marked.IsZero():
	case sent.After(s.marked):
		s.failedAfter++
	default:
		s.inFlight++
	}
}

// mark starts telling failures of requests sent after at from those in
// flight at it.
func (s *stream) mark(at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.marked = at
}

type tally struct {
	sent, failed, failedAfter, inFlight int
	lastErr                             error
	byPod                               map[string]int
}

func (s *stream) tally() tally {
	s.mu.Lock()
	defer s.mu.Unlock()
	return tally{s.sent, s.failed, s.failedAfter, s.inFlight, s.lastErr, maps.Clone(s.byPod)}
}

// stop ends the stream, waits for its requests, and returns its tally.
func (s *stream) stop() tally {
	select {
	case <-s.stopc:
	default:
		close(s.stopc)
	}
	s.wg.Wait()
	return s.tally()
}
