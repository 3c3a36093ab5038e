package consensus

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Op is what a command does to its object.
type Op string

// The operations.
const (
	OpCreate Op = "create"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
)

// Command is one change to one object.
type Command struct {
	Op Op `json:"op"`
	// Object is the object to create or the new state to update to; for a
	// delete only Kind, Namespace and Name matter.
	Object Object `json:"object"`
	// Precondition, for update and delete, when non-zero, is the
	// ResourceVersion the object must have, else the command fails with
	// errdefs.ErrConflict (compare-and-swap). Create ignores it.
	Precondition uint64 `json:"precondition,omitempty"`
}

// Batch is a list of commands applied atomically under one raft index:
// either every command succeeds or the state does not change.
type Batch struct {
	Commands []Command `json:"commands"`
}

// keys lists the keys a batch touches.
func (b Batch) keys() []Key {
	out := make([]Key, len(b.Commands))
	for i := range b.Commands {
		out[i] = b.Commands[i].Object.Key()
	}
	return out
}

// Result is what applying one batch did. It travels from the replica that
// applied it back to the proposer, encoded with EncodeResult.
type Result struct {
	// Index is the raft index of the batch.
	Index uint64 `json:"index"`
	// Objects holds, on success, one object per command: the object as
	// stored after it, or for a delete its last state with
	// ResourceVersion = Index.
	Objects []Object `json:"objects,omitempty"`
	// Err is empty on success, else the failure's message.
	Err string `json:"err,omitempty"`
	// Code is, on failure, the word of the errdefs sentinel the failure
	// wraps: "NotFound", "AlreadyExists", "Conflict" or "Invalid".
	Code string `json:"code,omitempty"`
	// Failed is, on failure, the index in Batch.Commands of the command that
	// failed.
	Failed int `json:"failed,omitempty"`
}

// The codes of Result.Code, and the sentinels they stand for.
var resultCodes = []struct {
	code string
	err  error
}{
	{"NotFound", errdefs.ErrNotFound},
	{"AlreadyExists", errdefs.ErrAlreadyExists},
	{"Conflict", errdefs.ErrConflict},
	{"Invalid", errdefs.ErrInvalid},
}

// codeOf returns the Result.Code for err ("" when err is outside the codes).
func codeOf(err error) string {
	for _, c := range resultCodes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// Error returns nil when the batch succeeded, else an error whose text is
// r.Err and which wraps the errdefs sentinel named by r.Code (for
// errors.Is). An unknown code yields an error that wraps no sentinel.
func (r Result) Error() error {
	if r.Err == "" && r.Code == "" {
		return nil
	}
	msg := r.Err
	if msg == "" {
		msg = "batch failed: " + r.Code
	}
	for _, c := range resultCodes {
		if c.code == r.Code {
			return &resultError{msg: msg, sentinel: c.err}
		}
	}
	return errors.New(msg)
}

// resultError carries a failure's original text and its sentinel across the
// encoding.
type resultError struct {
	msg      string
	sentinel error
}

func (e *resultError) Error() string { return e.msg }
func (e *resultError) Unwrap() error { return e.sentinel }

// The leading byte of every encoded batch and result: the format it is in.
// A new format gets a new byte; decoders keep reading the old ones, because
// raft logs and snapshots outlive the build that wrote them.
const (
	formatJSONv1 byte = 1
)

// EncodeBatch encodes a batch for the raft log.
func EncodeBatch(b Batch) ([]byte, error) {
	return encodeBatchBinary(b)
}

// DecodeBatch decodes what EncodeBatch wrote. A malformed or unknown format
// is errdefs.ErrInvalid. It checks the format only; Apply checks the
// commands.
func DecodeBatch(p []byte) (Batch, error) {
	if len(p) > 0 && p[0] == formatBinaryV2 {
		return decodeBatchBinary(p[1:])
	}
	var b Batch
	if err := decode(p, &b); err != nil {
		return Batch{}, fmt.Errorf("batch: %w", err)
	}
	return b, nil
}

// EncodeResult encodes a result with its objects whole, as peers pass
// results to each other. A Result always encodes, so a state machine can
// always answer. (A replica answers its own host's proposer leaner: see
// formatResultV4.)
func EncodeResult(r Result) []byte {
	return encodeResultBinary(r)
}

// encodeResultJSON is the version 1 encoding, kept for tests of old logs.
func encodeResultJSON(r Result) []byte {
	p, err := encode(r)
	if err != nil {
		// Unreachable: a Result holds only strings, integers, maps of strings
		// and byte slices.
		panic(fmt.Sprintf("consensus: encode result: %v", err))
	}
	return p
}

// decodeResultOf decodes a replica's answer to the batch b: a
// formatResultV4 result, whose objects it rebuilds from b (they share b's
// objects' Labels and Data, read-only like every object the store hands
// out), or any format DecodeResult reads.
func decodeResultOf(p []byte, b Batch) (Result, error) {
	if len(p) > 0 && p[0] == formatResultV4 {
		return decodeResultLean(p[1:], b)
	}
	return DecodeResult(p)
}

// DecodeResult decodes what EncodeResult wrote. A malformed or unknown
// format is errdefs.ErrInvalid.
func DecodeResult(p []byte) (Result, error) {
	if len(p) > 0 && p[0] == formatBinaryV2 {
		return decodeResultBinary(p[1:])
	}
	var r Result
	if err := decode(p, &r); err != nil {
		return Result{}, fmt.Errorf("result: %w", err)
	}
	return r, nil
}

func encode(v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	p := make([]byte, 0, 1+len(body))
	p = append(p, formatJSONv1)
	return append(p, body...), nil
}

func decode(p []byte, v any) error {
	if len(p) == 0 {
		return fmt.Errorf("empty: %w", errdefs.ErrInvalid)
	}
	if p[0] != formatJSONv1 {
		return fmt.Errorf("unknown format %d: %w", p[0], errdefs.ErrInvalid)
	}
	if err := json.Unmarshal(p[1:], v); err != nil {
		return fmt.Errorf("%v: %w", err, errdefs.ErrInvalid)
	}
	return nil
}
