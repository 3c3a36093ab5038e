package workload

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// IntOrString holds an integer or a string, as a JSON number or string: a
// probe's port (8080 or "http"), later a rollout's maxSurge (1 or "25%").
// It has the shape of k8s.io/apimachinery's intstr.IntOrString, which this
// module cannot import (its dependencies are not in go.sum).
type IntOrString struct {
	Type   IntOrStringType
	IntVal int32
	StrVal string
}

// IntOrStringType says which of an IntOrString's values is set.
type IntOrStringType int

// The two kinds of IntOrString.
const (
	IntOrStringInt    IntOrStringType = iota // IntVal is set
	IntOrStringString                        // StrVal is set
)

// IntOrStringFromInt32 returns an IntOrString holding v.
func IntOrStringFromInt32(v int32) IntOrString { return IntOrString{Type: IntOrStringInt, IntVal: v} }

// IntOrStringFromString returns an IntOrString holding s.
func IntOrStringFromString(s string) IntOrString {
	return IntOrString{Type: IntOrStringString, StrVal: s}
}

// String returns the string, or the integer in decimal.
func (v IntOrString) String() string {
	if v.Type == IntOrStringString {
		return v.StrVal
	}
	return strconv.Itoa(int(v.IntVal))
}

// IsZero reports whether v is the integer 0, the zero IntOrString.
func (v IntOrString) IsZero() bool { return v.Type == IntOrStringInt && v.IntVal == 0 }

// MarshalJSON writes a JSON number or string.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.Type == IntOrStringString {
		return json.Marshal(v.StrVal)
	}
	return json.Marshal(v.IntVal)
}

// UnmarshalJSON reads a JSON string, or a JSON integer that fits in 32
// bits; null leaves v as it is, as encoding/json does.
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = IntOrStringFromString(s)
		return nil
	}
	if t := rawJSONType(b); t != "number" {
		return &problem{msg: "expected integer or string, got " + t, cause: errdefs.ErrInvalid}
	}
	n, err := strconv.ParseInt(string(b), 10, 32)
	if err != nil {
		return &problem{msg: "must be a 32-bit integer or a string", cause: errdefs.ErrInvalid}
	}
	*v = IntOrStringFromInt32(int32(n))
	return nil
}
