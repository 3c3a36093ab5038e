package consensus

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shoalproject/shoal/internal/errdefs"
)

func TestBatchRoundTrip(t *testing.T) {
	tests := []Batch{
		{},
		{Commands: []Command{create(obj("ConfigMap", "default", "app", map[string]string{"app": "web"}, `{"a":1}`))}},
		{Commands: []Command{
			update(Object{Kind: "Pod", Namespace: "ns", Name: "p", Data: []byte{0, 1, 2, 255}}, 42),
			del("Node", "", "n1", 7),
		}},
	}
	for _, b := range tests {
		p, err := EncodeBatch(b)
		if err != nil {
			t.Fatal(err)
		}
		if p[0] != formatBinaryV2 {
			t.Errorf("leading byte %d; want the format byte %d", p[0], formatBinaryV2)
		}
		got, err := DecodeBatch(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Commands) == 0 {
			b.Commands = nil
		}
		if !reflect.DeepEqual(got, b) {
			t.Errorf("round trip = %+v; want %+v", got, b)
		}
	}
}

func TestDecodeInvalid(t *testing.T) {
	good, _ := EncodeBatch(Batch{Commands: []Command{del("Node", "", "n1", 0)}})
	for name, p := range map[string][]byte{
		"nil":            nil,
		"empty":          {},
		"format only":    {formatJSONv1},
		"unknown format": append([]byte{9}, good[1:]...),
		"binary only":    {formatBinaryV2},
		"huge count":     {formatBinaryV2, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"no format byte": good[1:],
		"truncated":      good[:len(good)-1],
		"trailing data":  append(append([]byte{}, good...), '{'),
		"wrong type":     append([]byte{formatJSONv1}, `{"commands":"no","index":"no"}`...),
	} {
		if _, err := DecodeBatch(p); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("DecodeBatch(%s) = %v; want ErrInvalid", name, err)
		}
		if _, err := DecodeResult(p); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("DecodeResult(%s) = %v; want ErrInvalid", name, err)
		}
		if _, err := decodeResultOf(p, Batch{}); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("DecodeResult(%s) = %v; want ErrInvalid", name, err)
		}
	}
}

func TestResultRoundTrip(t *testing.T) {
	tests := []Result{
		{Index: 3},
		{Index: 9, Objects: []Object{{Kind: "Pod", Namespace: "a", Name: "b", Labels: map[string]string{"x": "y"}, ResourceVersion: 9, CreateVersion: 2, Data: []byte("{}")}}},
		{Index: 10, Err: "update Pod/a/b: conflict", Code: "Conflict", Failed: 2},
	}
	for _, r := range tests {
		got, err := DecodeResult(EncodeResult(r))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("round trip = %+v; want %+v", got, r)
		}
		// A replica's answer: whole objects (a dragonboat session keeps
		// results, so a repeated proposal after an upgrade may get one
		// back), or lean ones with no command to rebuild from.
		for _, p := range [][]byte{EncodeResult(r), encodeResultLean(r, Batch{})} {
			if got, err = decodeResultOf(p, Batch{}); err != nil || !reflect.DeepEqual(got, r) {
				t.Errorf("replica's answer (format %d) = %+v, %v; want %+v", p[0], got, err, r)
			}
		}
	}
}

// TestResultLeavesOutWhatTheProposerHolds: a replica's result of a create
// and an update carries their CreateVersions only, and the proposer
// rebuilds the objects as stored from its batch; a delete's last state
// goes whole.
func TestResultLeavesOutWhatTheProposerHolds(t *testing.T) {
	big := strings.Repeat("x", 4096)
	b := Batch{Commands: []Command{
		create(obj("ConfigMap", "default", "new", map[string]string{"a": "b"}, big)),
		update(obj("ConfigMap", "default", "app", map[string]string{"c": "d"}, big), 0),
		del("ConfigMap", "other", "gone", 0),
	}}
	s := seeded(t)
	mustApply(t, s, 7, create(obj("ConfigMap", "other", "gone", nil, "last words")))
	res, _ := s.Apply(20, b)
	if res.Error() != nil || len(res.Objects) != 3 {
		t.Fatalf("apply: %+v", res)
	}
	p := encodeResultLean(res, b)
	if len(p) > 200 {
		t.Errorf("encoded result is %d bytes; want the two 4 KB objects left out", len(p))
	}
	got, err := decodeResultOf(p, b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, res) {
		t.Errorf("decoded %+v;\nwant  %+v", got, res)
	}
	if got.Objects[2].CreateVersion != 7 || string(got.Objects[2].Data) != "last words" {
		t.Errorf("the delete's object = %+v; want its last state", got.Objects[2])
	}
	// A result that does not fit the batch is refused: more objects than
	// commands, or a create's object answered for a delete.
	for name, other := range map[string]Batch{
		"shorter": {Commands: b.Commands[:1]},
		"longer":  {Commands: append(slices.Clone(b.Commands), create(obj("ConfigMap", "default", "x", nil, "")))},
		"delete":  {Commands: []Command{del("ConfigMap", "default", "new", 0), b.Commands[1], b.Commands[2]}},
	} {
		if _, err := decodeResultOf(p, other); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("decode with a %s batch = %v; want ErrInvalid", name, err)
		}
	}
	// Peers pass results whole.
	if whole, err := DecodeResult(EncodeResult(got)); err != nil || !reflect.DeepEqual(whole, res) {
		t.Errorf("EncodeResult and back = %+v, %v; want %+v", whole, err, res)
	}
}

func TestResultError(t *testing.T) {
	sentinels := []error{errdefs.ErrNotFound, errdefs.ErrAlreadyExists, errdefs.ErrConflict, errdefs.ErrInvalid}
	tests := []struct {
		code string
		want error // nil: wraps no sentinel
	}{
		{"NotFound", errdefs.ErrNotFound},
		{"AlreadyExists", errdefs.ErrAlreadyExists},
		{"Conflict", errdefs.ErrConflict},
		{"Invalid", errdefs.ErrInvalid},
		{"Exploded", nil},
		{"", nil},
	}
	for _, tt := range tests {
		r := Result{Index: 4, Err: "something about Pod/a/b", Code: tt.code}
		err := r.Error()
		if err == nil || err.Error() != r.Err {
			t.Errorf("code %q: Error() = %v; want the text %q", tt.code, err, r.Err)
			continue
		}
		for _, s := range sentinels {
			if got := errors.Is(err, s); got != (s == tt.want) {
				t.Errorf("code %q: errors.Is(%v) = %v", tt.code, s, got)
			}
		}
	}
	if err := (Result{Index: 4}).Error(); err != nil {
		t.Errorf("success Error() = %v; want nil", err)
	}
}

// TestResultErrorAfterTheWire: a failure from Apply, encoded and decoded as
// it is between replica and proposer, still matches its sentinel.
func TestResultErrorAfterTheWire(t *testing.T) {
	tests := []struct {
		cmd  Command
		want error
	}{
		{create(obj("ConfigMap", "default", "app", nil, "")), errdefs.ErrAlreadyExists},
		{update(obj("ConfigMap", "default", "nope", nil, ""), 0), errdefs.ErrNotFound},
		{update(obj("ConfigMap", "default", "app", nil, ""), 1), errdefs.ErrConflict},
		{del("", "", "", 0), errdefs.ErrInvalid},
	}
	for _, tt := range tests {
		res, _ := seeded(t).Apply(10, Batch{Commands: []Command{tt.cmd}})
		got, err := decodeResultOf(encodeResultLean(res, Batch{Commands: []Command{tt.cmd}}), Batch{Commands: []Command{tt.cmd}})
		if err != nil {
			t.Fatal(err)
		}
		if err := got.Error(); !errors.Is(err, tt.want) || err.Error() != res.Err {
			t.Errorf("%s: Error() = %v; want %v with text %q", tt.cmd.Op, err, tt.want, res.Err)
		}
	}
}

// Logs written before the binary format still decode.
func TestJSONVersion1StillDecodes(t *testing.T) {
	b := Batch{Commands: []Command{create(obj("ConfigMap", "default", "app", map[string]string{"app": "web"}, `{"a":1}`))}}
	p, err := encode(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeBatch(p)
	if err != nil || !reflect.DeepEqual(got, b) {
		t.Fatalf("v1 batch: %+v %v", got, err)
	}
	r := Result{Index: 4, Err: "x", Code: "Conflict", Failed: 1}
	back, err := DecodeResult(encodeResultJSON(r))
	if err != nil || !reflect.DeepEqual(back, r) {
		t.Fatalf("v1 result: %+v %v", back, err)
	}
}
