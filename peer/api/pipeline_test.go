package api

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

func TestPipelineFramesRoundTrip(t *testing.T) {
	var p []byte
	p = append(p, 7, 3, 250, 1, flagFinal) // id 7, shard 3, timeout 250 ms (two-byte uvarint)
	p = append(p, "batch"...)
	prop, err := ParseProposal(p)
	if err != nil || prop.ID != 7 || prop.Shard != 3 || prop.Timeout != 250*time.Millisecond || !prop.Final || string(prop.Batch) != "batch" {
		t.Fatalf("ParseProposal = %+v, %v", prop, err)
	}
	for _, bad := range [][]byte{nil, {7}, {7, 3, 5}, {0x80}} {
		if _, err := ParseProposal(bad); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("ParseProposal(%v) = %v; want ErrInvalid", bad, err)
		}
	}

	frames := AppendFrame(nil, AppendAnswer(nil, 9, []byte("result"), nil))
	frames = AppendFrame(frames, AppendAnswer(nil, 10, nil, fmt.Errorf("shard 4: %w", errdefs.ErrUnavailable)))
	frames = AppendFrame(frames, AppendAnswer(nil, 11, nil, errors.New("disk on fire")))
	r := bufio.NewReader(bytes.NewReader(frames))
	want := []struct {
		id     uint64
		result string
		is     error
		msg    string
	}{
		{9, "result", nil, ""},
		{10, "", errdefs.ErrUnavailable, "shard 4: unavailable"},
		{11, "", nil, "disk on fire"},
	}
	for _, w := range want {
		f, err := ReadFrame(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		id, res, aerr := parseAnswer(f)
		if id != w.id || string(res) != w.result {
			t.Errorf("answer %d: id %d result %q", w.id, id, res)
		}
		switch {
		case w.msg == "" && aerr != nil:
			t.Errorf("answer %d: error %v", w.id, aerr)
		case w.msg != "" && (aerr == nil || aerr.Error() != w.msg):
			t.Errorf("answer %d: error %v; want %q", w.id, aerr, w.msg)
		case w.is != nil && !errors.Is(aerr, w.is):
			t.Errorf("answer %d: %v is not %v", w.id, aerr, w.is)
		}
	}
	if _, err := ReadFrame(bufio.NewReader(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0x7f})), nil); !errors.Is(err, errdefs.ErrTooLarge) {
		t.Errorf("a frame past the bound: %v; want ErrTooLarge", err)
	}
}

// pipelineServer answers proposals over HTTP/2 the way a peer does, but
// holds each answer until `hold` proposals have arrived and then answers
// them newest first, so the client must match answers by id. A proposal
// whose batch is "break" ends the stream without answering.
func pipelineServer(t *testing.T, hold int) (*Client, *sync.Map) {
	t.Helper()
	var streams sync.Map // stream number -> proposals seen
	var n int
	var mu sync.Mutex
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != PipelinePath || r.ProtoMajor != 2 {
			http.Error(w, "want an HTTP/2 pipeline", http.StatusBadRequest)
			return
		}
		mu.Lock()
		n++
		stream := n
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		br := bufio.NewReader(r.Body)
		var held []PipelineProposal
		for {
			f, err := ReadFrame(br, nil)
			if err != nil {
				return
			}
			prop, err := ParseProposal(f)
			if err != nil {
				return
			}
			if string(prop.Batch) == "break" {
				return
			}
			streams.Store(stream, prop.ID)
			held = append(held, prop)
			if len(held) < hold {
				continue
			}
			var out []byte
			for i := len(held) - 1; i >= 0; i-- {
				p := held[i]
				out = AppendFrame(out, AppendAnswer(nil, p.ID, fmt.Appendf(nil, "shard %d: %s", p.Shard, p.Batch), nil))
			}
			held = held[:0]
			if _, err := w.Write(out); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c := NewClientTLS([]string{srv.URL}, srv.Client().Transport.(*http.Transport).TLSClientConfig, "")
	t.Cleanup(c.Close)
	return c, &streams
}

func TestPipelineMatchesAnswersToProposals(t *testing.T) {
	const n = 8
	c, streams := pipelineServer(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := fmt.Sprintf("b%d", i)
			res, err := c.Propose(ctx, uint64(i), []byte(batch), false)
			if err == nil && string(res) != fmt.Sprintf("shard %d: %s", i, batch) {
				err = fmt.Errorf("proposal %d got %q", i, res)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	count := 0
	streams.Range(func(any, any) bool { count++; return true })
	if count != 1 {
		t.Errorf("%d proposals used %d streams; want 1", n, count)
	}
}

func TestPipelineBreakFailsPendingAndReopens(t *testing.T) {
	c, _ := pipelineServer(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Propose(ctx, 1, []byte("break"), false); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("a proposal on a stream that broke: %v; want ErrUnavailable", err)
	}
	res, err := c.Propose(ctx, 2, []byte("again"), false)
	if err != nil || string(res) != "shard 2: again" {
		t.Fatalf("after the break: %q, %v; want a new stream to answer", res, err)
	}
}

func TestPipelineProposalHonoursItsContext(t *testing.T) {
	c, _ := pipelineServer(t, 2) // never answers a lone proposal
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.Propose(ctx, 1, []byte("alone"), false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Propose = %v; want its deadline", err)
	}
}

// Asynchronous proposals are answered once each through their callbacks;
// one the server never answers is failed as unavailable once its timeout,
// and the second allowed for the answer's trip, are over.
func TestPipelineProposeAsync(t *testing.T) {
	c, _ := pipelineServer(t, 2)
	type got struct {
		res string
		err error
	}
	answers := make(chan got, 4)
	for i := range 2 {
		c.ProposeAsync(uint64(i), fmt.Appendf(nil, "a%d", i), false, 5*time.Second, func(r []byte, err error) { answers <- got{string(r), err} })
	}
	seen := map[string]bool{}
	for range 2 {
		a := <-answers
		if a.err != nil || seen[a.res] {
			t.Fatalf("answer %q, %v (seen: %v)", a.res, a.err, seen)
		}
		seen[a.res] = true
	}
	if !seen["shard 0: a0"] || !seen["shard 1: a1"] {
		t.Fatalf("answers %v", seen)
	}
	start := time.Now()
	c.ProposeAsync(7, []byte("alone"), false, 100*time.Millisecond, func(r []byte, err error) { answers <- got{string(r), err} })
	select {
	case a := <-answers:
		if !errors.Is(a.err, errdefs.ErrUnavailable) {
			t.Fatalf("an unanswered proposal got %q, %v; want ErrUnavailable", a.res, a.err)
		}
		t.Logf("failed after %s", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("an unanswered proposal was never failed")
	}
	select {
	case a := <-answers:
		t.Fatalf("a second answer: %q, %v", a.res, a.err)
	default:
	}
}
