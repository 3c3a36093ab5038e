package consensus

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// formatBinaryV2 is the compact encoding of batches and results that every
// replica decodes on its apply path (JSON cost a fifth of a replica's CPU).
// Varints and length-prefixed strings; label keys sorted, so equal values
// encode to equal bytes. Decoders still accept formatJSONv1.
const formatBinaryV2 byte = 2

var opCodes = map[Op]byte{OpCreate: 1, OpUpdate: 2, OpDelete: 3}

type wbuf []byte

func (w *wbuf) uvarint(v uint64) { *w = binary.AppendUvarint(*w, v) }
func (w *wbuf) bytes(b []byte)   { w.uvarint(uint64(len(b))); *w = append(*w, b...) }
func (w *wbuf) str(s string)     { w.uvarint(uint64(len(s))); *w = append(*w, s...) }

func (w *wbuf) object(o *Object) {
	w.str(o.Kind)
	w.str(o.Namespace)
	w.str(o.Name)
	keys := make([]string, 0, len(o.Labels))
	for k := range o.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.uvarint(uint64(len(keys)))
	for _, k := range keys {
		w.str(k)
		w.str(o.Labels[k])
	}
	w.uvarint(o.ResourceVersion)
	w.uvarint(o.CreateVersion)
	w.bytes(o.Data)
}

func encodeBatchBinary(b Batch) ([]byte, error) {
	w := make(wbuf, 0, 64+len(b.Commands)*128)
	w = append(w, formatBinaryV2)
	w.uvarint(uint64(len(b.Commands)))
	for i := range b.Commands {
		c := &b.Commands[i]
		code, ok := opCodes[c.Op]
		w = append(w, code) // 0: an op this build does not know, spelled out; Apply refuses it
		if !ok {
			w.str(string(c.Op))
		}
		w.uvarint(c.Precondition)
		w.object(&c.Object)
	}
	return w, nil
}

// formatResultV4 is a result as a replica answers a proposal of its own
// host (it never leaves the process: peers pass results whole, in
// formatBinaryV2), whose proposer holds the batch: an object that a create or update stored is the
// command's own object at the entry's index, so only its CreateVersion is
// sent, and the decoder rebuilds the object from the batch. Only a
// delete's object (its last state, which the proposer does not hold) is
// sent whole. A replica thus does not copy a batch's objects back: a
// binding of 1,024 pods was a megabyte encoded on every replica and
// decoded again at the proposer.
const formatResultV4 byte = 4

// The kinds of object in a formatResultV4 result.
const (
	leanCommand byte = 0 // the command's object; its CreateVersion follows
	leanWhole   byte = 1 // the object follows
)

func encodeResultLean(r Result, b Batch) []byte {
	return encodeResultFrame(formatResultV4, r, 4, func(w *wbuf, i int) {
		if i < len(b.Commands) && b.Commands[i].Op != OpDelete {
			*w = append(*w, leanCommand)
			w.uvarint(r.Objects[i].CreateVersion)
			return
		}
		*w = append(*w, leanWhole)
		w.object(&r.Objects[i])
	})
}

func decodeResultLean(p []byte, b Batch) (Result, error) {
	res, err := decodeResultFrame(p, func(r *rbuf, i int, index uint64) (Object, error) {
		switch r.byte() {
		case leanCommand:
			if r.err != nil {
				return Object{}, fmt.Errorf("result: %w", r.err)
			}
			if i >= len(b.Commands) {
				return Object{}, fmt.Errorf("result: object %d left out, with no command to rebuild it from: %w", i, errdefs.ErrInvalid)
			}
			if b.Commands[i].Op == OpDelete {
				return Object{}, fmt.Errorf("result: object %d: a delete's object left out: %w", i, errdefs.ErrInvalid)
			}
			o := b.Commands[i].Object
			o.CreateVersion, o.ResourceVersion = r.uvarint(), index
			return o, nil
		case leanWhole:
			return r.object(), nil
		}
		return Object{}, fmt.Errorf("result: object %d: unknown kind: %w", i, errdefs.ErrInvalid)
	})
	// One object per command; whole ones only without a batch.
	if err == nil && len(res.Objects) > 0 && len(b.Commands) > 0 && len(res.Objects) != len(b.Commands) {
		return Result{}, fmt.Errorf("result: %d objects for a batch of %d commands: %w", len(res.Objects), len(b.Commands), errdefs.ErrInvalid)
	}
	return res, err
}

// encodeResultFrame writes what the result formats share: the format, the
// index, the objects (object writes the i-th; about perObject bytes each),
// the error, its code and the failed command.
func encodeResultFrame(format byte, r Result, perObject int, object func(w *wbuf, i int)) []byte {
	w := make(wbuf, 0, 32+len(r.Objects)*perObject)
	w = append(w, format)
	w.uvarint(r.Index)
	w.uvarint(uint64(len(r.Objects)))
	for i := range r.Objects {
		object(&w, i)
	}
	w.str(r.Err)
	w.str(r.Code)
	w.uvarint(uint64(r.Failed))
	return w
}

// decodeResultFrame reads what encodeResultFrame wrote, after the format
// byte; object reads the i-th object of the result at index.
func decodeResultFrame(p []byte, object func(r *rbuf, i int, index uint64) (Object, error)) (Result, error) {
	r := &rbuf{p: p}
	res := Result{Index: r.uvarint()}
	if n := r.count(); n > 0 {
		res.Objects = make([]Object, 0, n)
		for i := range n {
			o, err := object(r, i, res.Index)
			if err != nil {
				return Result{}, err
			}
			res.Objects = append(res.Objects, o)
		}
	}
	res.Err, res.Code = r.str(), r.str()
	res.Failed = int(r.uvarint())
	if r.done() != nil {
		return Result{}, fmt.Errorf("result: %w", r.err)
	}
	return res, nil
}

func encodeResultBinary(r Result) []byte {
	return encodeResultFrame(formatBinaryV2, r, 128, func(w *wbuf, i int) { w.object(&r.Objects[i]) })
}

// rbuf reads what wbuf wrote; the first error sticks and every later read
// returns zero values, so decoders check once at the end.
type rbuf struct {
	p   []byte
	err error
}

func (r *rbuf) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("truncated or malformed: %w", errdefs.ErrInvalid)
	}
}

func (r *rbuf) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.p)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.p = r.p[n:]
	return v
}

func (r *rbuf) byte() byte {
	if r.err != nil || len(r.p) == 0 {
		r.fail()
		return 0
	}
	b := r.p[0]
	r.p = r.p[1:]
	return b
}

func (r *rbuf) raw() []byte {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.p)) {
		r.fail()
		return nil
	}
	b := r.p[:n:n]
	r.p = r.p[n:]
	return b
}

// done checks that a value was read whole and well formed.
func (r *rbuf) done() error {
	if r.err == nil && len(r.p) != 0 {
		r.err = fmt.Errorf("%d trailing bytes: %w", len(r.p), errdefs.ErrInvalid)
	}
	return r.err
}

func (r *rbuf) str() string { return string(r.raw()) }

// count reads a length that must not promise more items than bytes left
// (each item takes at least one byte), so a hostile count cannot make a
// decoder allocate without bound.
func (r *rbuf) count() int {
	n := r.uvarint()
	if n > uint64(len(r.p)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *rbuf) object() Object {
	o := Object{Kind: r.str(), Namespace: r.str(), Name: r.str()}
	if n := r.count(); n > 0 {
		o.Labels = make(map[string]string, n)
		for range n {
			k := r.str()
			o.Labels[k] = r.str()
		}
	}
	o.ResourceVersion = r.uvarint()
	o.CreateVersion = r.uvarint()
	if d := r.raw(); len(d) > 0 {
		o.Data = append([]byte(nil), d...)
	}
	return o
}

func decodeBatchBinary(p []byte) (Batch, error) {
	r := &rbuf{p: p}
	n := r.count()
	var b Batch
	if n > 0 {
		b.Commands = make([]Command, 0, n)
	}
	for range n {
		var c Command
		switch r.byte() {
		case 0:
			c.Op = Op(r.str())
		case 1:
			c.Op = OpCreate
		case 2:
			c.Op = OpUpdate
		case 3:
			c.Op = OpDelete
		default:
			r.fail()
		}
		c.Precondition = r.uvarint()
		c.Object = r.object()
		if r.err != nil {
			break
		}
		b.Commands = append(b.Commands, c)
	}
	if r.done() != nil {
		return Batch{}, fmt.Errorf("batch: %w", r.err)
	}
	return b, nil
}

func decodeResultBinary(p []byte) (Result, error) {
	return decodeResultFrame(p, func(r *rbuf, _ int, _ uint64) (Object, error) { return r.object(), nil })
}

// formatGroupV3 is a raft entry, or its result, that carries several
// independent batches from concurrent proposers (group commit): a count,
// then each batch's (or result's) own encoding, length-prefixed. Each batch
// in a group is atomic on its own and may fail alone; they share the
// entry's raft index.
const formatGroupV3 byte = 3

func encodeGroup(parts [][]byte) []byte {
	n := 1 + binary.MaxVarintLen64
	for _, p := range parts {
		n += binary.MaxVarintLen64 + len(p)
	}
	w := make(wbuf, 0, n)
	w = append(w, formatGroupV3)
	w.uvarint(uint64(len(parts)))
	for _, p := range parts {
		w.bytes(p)
	}
	return w
}

// isGroup says whether an encoded entry or result is a group.
func isGroup(p []byte) bool { return len(p) > 0 && p[0] == formatGroupV3 }

func decodeGroup(p []byte) ([][]byte, error) {
	if !isGroup(p) {
		return nil, fmt.Errorf("group: format %d: %w", firstByte(p), errdefs.ErrInvalid)
	}
	r := &rbuf{p: p[1:]}
	n := r.count()
	parts := make([][]byte, 0, n)
	for range n {
		parts = append(parts, r.raw())
	}
	if r.done() != nil {
		return nil, fmt.Errorf("group: %w", r.err)
	}
	return parts, nil
}

func firstByte(p []byte) int {
	if len(p) == 0 {
		return -1
	}
	return int(p[0])
}
