package consensus

import (
	"bytes"
	"testing"
)

// FuzzDecodeBatch: DecodeBatch never panics; what it accepts re-encodes to a
// stable form, and applying it yields a well-formed result.
func FuzzDecodeBatch(f *testing.F) {
	for _, b := range []Batch{
		{},
		{Commands: []Command{create(obj("ConfigMap", "default", "app", map[string]string{"a": "b"}, "{}"))}},
		{Commands: []Command{update(obj("Pod", "", "p", nil, "x"), 3), del("Pod", "", "p", 0), {Op: "bogus"}}},
	} {
		p, err := EncodeBatch(b)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	f.Add([]byte{})
	f.Add([]byte{1, '{', '}'})
	f.Add([]byte("\x01{\"commands\":[{\"op\":\"create\",\"object\":{\"kind\":\"A\",\"name\":\"b\",\"data\":\"!!\"}}]}"))
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := DecodeBatch(p)
		if err != nil {
			return
		}
		once, err := EncodeBatch(b)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		b2, err := DecodeBatch(once)
		if err != nil {
			t.Fatalf("decode of re-encoded batch: %v", err)
		}
		if twice, _ := EncodeBatch(b2); !bytes.Equal(once, twice) {
			t.Fatalf("encoding unstable:\n%q\n%q", once, twice)
		}
		s := seeded(t)
		res, events := s.Apply(10, b)
		if res.Error() == nil {
			if len(res.Objects) != len(b.Commands) || len(events) != len(b.Commands) {
				t.Fatalf("%d commands gave %d objects, %d events", len(b.Commands), len(res.Objects), len(events))
			}
		} else if res.Code == "" || res.Failed < 0 || res.Failed >= len(b.Commands) || events != nil {
			t.Fatalf("bad failure result %+v", res)
		}
		if s.Index() != 10 {
			t.Fatalf("Index() = %d", s.Index())
		}
	})
}
