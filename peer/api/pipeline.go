package api

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// PipelinePath is the peer-only endpoint that carries store proposals to a
// peer over one long-lived, full-duplex HTTP/2 stream.
//
// A request per proposal cost each side about 100 µs of CPU (headers, a
// stream, a flush and a TLS record each way), a third of a busy peer's CPU;
// on the pipeline many proposals and many answers share each TLS record,
// and answers come back in whatever order the proposals commit.
//
// Both directions are frames: a uvarint length, then the payload.
//   - proposal: uvarint id, uvarint shard, uvarint timeout in milliseconds,
//     a flags byte (1: final, see Propose), then the encoded batch;
//   - answer: uvarint id, then 0 and the encoded result, or 1, the error's
//     reason (errdefs.Reason) and its message, each a uvarint length and
//     bytes.
const PipelinePath = "/v1/internal/propose-stream"

// MaxPipelineFrame bounds one frame (the size of a batch the API takes, and
// some room).
const MaxPipelineFrame = 9 << 20

// Pipeline answers outcomes.
const (
	pipelineOK    = 0
	pipelineError = 1
)

// AppendFrame appends a frame of payload to dst.
func AppendFrame(dst, payload []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(payload)))
	return append(dst, payload...)
}

// ReadFrame reads one frame into buf (grown as needed) and returns it.
func ReadFrame(r *bufio.Reader, buf []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > MaxPipelineFrame {
		return nil, fmt.Errorf("pipeline frame of %d bytes: %w", n, errdefs.ErrTooLarge)
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// FrameQueue gathers frames from many goroutines for one writer: each
// write sends everything queued since the last, so a busy stream carries
// many frames in each TLS record. Both ends of a pipeline use one.
type FrameQueue struct {
	mu   sync.Mutex
	buf  []byte
	kick chan struct{} // capacity 1: "buf has frames"
}

// NewFrameQueue returns an empty queue.
func NewFrameQueue() *FrameQueue { return &FrameQueue{kick: make(chan struct{}, 1)} }

// Add appends a frame whose payload fill appends to its argument.
func (q *FrameQueue) Add(fill func([]byte) []byte) {
	q.mu.Lock()
	q.buf = AppendFrame(q.buf, fill(nil))
	q.mu.Unlock()
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// Drain writes what is queued whenever there is some, until write fails or
// stop closes; it then writes what is still queued, once, and returns.
func (q *FrameQueue) Drain(stop <-chan struct{}, write func([]byte) error) {
	var out []byte
	for {
		stopping := false
		select {
		case <-q.kick:
		case <-stop:
			stopping = true
		}
		q.mu.Lock()
		out, q.buf = q.buf, out[:0]
		q.mu.Unlock()
		if len(out) > 0 {
			if err := write(out); err != nil {
				return
			}
		}
		if stopping {
			return
		}
	}
}

// PipelineProposal is a proposal as the server reads it.
type PipelineProposal struct {
	ID      uint64
	Shard   uint64
	Timeout time.Duration
	Final   bool   // propose to the receiver's own replica; do not forward
	Batch   []byte // aliases the frame: copy to keep
}

const flagFinal = 1

// ParseProposal splits a proposal frame's payload.
func ParseProposal(p []byte) (PipelineProposal, error) {
	var out PipelineProposal
	var vals [3]uint64
	for i := range vals {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			return out, fmt.Errorf("pipeline proposal: truncated: %w", errdefs.ErrInvalid)
		}
		vals[i], p = v, p[n:]
	}
	if len(p) == 0 {
		return out, fmt.Errorf("pipeline proposal: truncated: %w", errdefs.ErrInvalid)
	}
	out.ID, out.Shard, out.Timeout = vals[0], vals[1], time.Duration(vals[2])*time.Millisecond
	out.Final, out.Batch = p[0]&flagFinal != 0, p[1:]
	return out, nil
}

// AppendAnswer appends the payload of the frame answering proposal id with
// an encoded result, or with err when it has none.
func AppendAnswer(p []byte, id uint64, result []byte, err error) []byte {
	p = binary.AppendUvarint(p, id)
	if err != nil {
		p = append(p, pipelineError)
		p = appendString(p, errdefs.Reason(err))
		p = appendString(p, err.Error())
	} else {
		p = append(p, pipelineOK)
		p = append(p, result...)
	}
	return p
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// parseAnswer splits an answer frame: the proposal's id and its result or
// error (a RemoteError matching the server's errdefs sentinel).
func parseAnswer(p []byte) (id uint64, result []byte, err error) {
	id, n := binary.Uvarint(p)
	if n <= 0 || len(p) == n {
		return 0, nil, fmt.Errorf("pipeline answer: truncated: %w", errdefs.ErrInvalid)
	}
	p = p[n:]
	if p[0] == pipelineOK {
		return id, append([]byte(nil), p[1:]...), nil
	}
	p = p[1:]
	var parts [2]string
	for i := range parts {
		l, n := binary.Uvarint(p)
		if n <= 0 || uint64(len(p)-n) < l {
			return 0, nil, fmt.Errorf("pipeline answer: truncated: %w", errdefs.ErrInvalid)
		}
		parts[i], p = string(p[n:n+int(l)]), p[n+int(l):]
	}
	sentinel := errdefs.FromReason(parts[0])
	if sentinel == nil {
		return id, nil, errors.New(parts[1])
	}
	return id, nil, &RemoteError{Message: parts[1], Code: errdefs.HTTPStatus(sentinel), Reason: parts[0], sentinel: sentinel}
}

// pipeline is one open stream to a server and the proposals awaiting their
// answers on it.
type pipeline struct {
	body *io.PipeWriter
	stop context.CancelFunc
	done <-chan struct{} // closed once the pipeline broke or closed

	out *FrameQueue // proposals not yet handed to the stream

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]*call
	err     error // set once the stream broke; fails every later call
}

// call is one proposal awaiting its answer.
type call struct {
	done  func(result []byte, err error) // called once, by whoever takes the call
	timer *time.Timer                    // an asynchronous call's deadline, or nil
}

type answer struct {
	result []byte
	err    error
}

// Propose sends an encoded batch to the server for shard and returns the
// encoded result, over the client's pipeline (opened on first use and again
// after it breaks). The server proposes to its own replica when final is
// set or it leads the shard; otherwise it may pass the batch on to the
// leader's peer (once: that hop is final). A broken stream fails the
// proposals on it with errdefs.ErrUnavailable: they may or may not have
// committed, as when a connection drops under a single request.
func (c *Client) Propose(ctx context.Context, shard uint64, batch []byte, final bool) ([]byte, error) {
	timeout := time.Duration(0)
	if d, ok := ctx.Deadline(); ok {
		if timeout = time.Until(d); timeout <= 0 {
			return nil, context.DeadlineExceeded
		}
	}
	ch := make(chan answer, 1)
	pl, id, err := c.start(shard, batch, final, timeout, &call{done: func(r []byte, err error) { ch <- answer{r, err} }})
	if err != nil {
		return nil, err
	}
	select {
	case a := <-ch:
		return a.result, a.err
	case <-ctx.Done():
		pl.take(id)
		return nil, ctx.Err()
	}
}

// ProposeAsync is Propose with the answer delivered to done instead of
// waited for: done is called once, from the pipeline's receiver (or before
// ProposeAsync returns, when the proposal cannot be sent), and must not
// block. timeout, when positive, bounds the proposal at the server and, a
// second later, the wait for its answer here. A peer that forwards a stream
// of proposals holds no goroutine per proposal this way.
func (c *Client) ProposeAsync(shard uint64, batch []byte, final bool, timeout time.Duration, done func(result []byte, err error)) {
	cl := &call{done: done}
	pl, id, err := c.start(shard, batch, final, timeout, cl)
	if err != nil {
		done(nil, err)
		return
	}
	if timeout <= 0 {
		return
	}
	t := time.AfterFunc(timeout+time.Second, func() {
		if cl := pl.take(id); cl != nil {
			cl.done(nil, fmt.Errorf("pipeline: no answer within %s: %w", timeout, errdefs.ErrUnavailable))
		}
	})
	pl.mu.Lock()
	if pl.pending[id] == cl {
		cl.timer = t
	} else {
		t.Stop() // answered already
	}
	pl.mu.Unlock()
}

// start registers cl and queues its proposal on the open pipeline.
func (c *Client) start(shard uint64, batch []byte, final bool, timeout time.Duration, cl *call) (*pipeline, uint64, error) {
	pl, err := c.pipeline()
	if err != nil {
		return nil, 0, err
	}
	pl.mu.Lock()
	if pl.err != nil {
		err := pl.err
		pl.mu.Unlock()
		return nil, 0, err
	}
	pl.nextID++
	id := pl.nextID
	pl.pending[id] = cl
	pl.mu.Unlock()

	var flags byte
	if final {
		flags |= flagFinal
	}
	pl.out.Add(func(p []byte) []byte {
		p = binary.AppendUvarint(p, id)
		p = binary.AppendUvarint(p, shard)
		p = binary.AppendUvarint(p, uint64(timeout/time.Millisecond))
		p = append(p, flags)
		return append(p, batch...)
	})
	return pl, id, nil
}

// take removes a pending call, stopping its timer, and returns it; nil
// when another taker (an answer, a timeout, a break) was first.
func (pl *pipeline) take(id uint64) *call {
	pl.mu.Lock()
	cl := pl.pending[id]
	delete(pl.pending, id)
	pl.mu.Unlock()
	if cl != nil && cl.timer != nil {
		cl.timer.Stop()
	}
	return cl
}

// pipeline returns the open pipeline, opening one when there is none or
// the last one broke.
func (c *Client) pipeline() (*pipeline, error) {
	c.pipeMu.Lock()
	defer c.pipeMu.Unlock()
	if c.pipe != nil {
		c.pipe.mu.Lock()
		broken := c.pipe.err != nil
		c.pipe.mu.Unlock()
		if !broken {
			return c.pipe, nil
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	body, err := c.StreamBody(ctx, http.MethodPost, PipelinePath, pr)
	if err != nil {
		cancel()
		pw.Close()
		return nil, err
	}
	pl := &pipeline{body: pw, stop: cancel, done: ctx.Done(), out: NewFrameQueue(), pending: map[uint64]*call{}}
	go pl.send()
	go pl.receive(body)
	c.pipe = pl
	return pl, nil
}

// send hands queued proposals to the stream until the pipeline breaks.
func (pl *pipeline) send() {
	pl.out.Drain(pl.done, func(b []byte) error {
		if _, err := pl.body.Write(b); err != nil {
			pl.fail(fmt.Errorf("pipeline: send: %v: %w", err, errdefs.ErrUnavailable))
			return err
		}
		return nil
	})
}

// receive delivers answers until the stream ends, then fails whatever is
// still pending.
func (pl *pipeline) receive(body io.ReadCloser) {
	defer body.Close()
	r := bufio.NewReaderSize(body, 64<<10)
	var buf []byte
	for {
		frame, err := ReadFrame(r, buf)
		if err != nil {
			pl.fail(fmt.Errorf("pipeline: receive: %v: %w", err, errdefs.ErrUnavailable))
			return
		}
		buf = frame
		id, result, aerr := parseAnswer(frame)
		if id == 0 {
			pl.fail(fmt.Errorf("pipeline: %v: %w", aerr, errdefs.ErrUnavailable))
			return
		}
		if cl := pl.take(id); cl != nil {
			cl.done(result, aerr)
		}
	}
}

// fail breaks the pipeline: pending and later proposals get err; the
// client opens a new one on its next proposal.
func (pl *pipeline) fail(err error) {
	pl.mu.Lock()
	if pl.err == nil {
		pl.err = err
	}
	pending := pl.pending
	pl.pending = map[uint64]*call{}
	pl.mu.Unlock()
	for _, cl := range pending {
		if cl.timer != nil {
			cl.timer.Stop()
		}
		cl.done(nil, err)
	}
	pl.stop()
	pl.body.CloseWithError(err)
}

// close ends the pipeline.
func (pl *pipeline) close() {
	pl.fail(fmt.Errorf("pipeline closed: %w", errdefs.ErrUnavailable))
}
