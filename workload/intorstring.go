package workload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

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

// Percent reads a string "N%" as N; it reports false for an integer, and
// an error (ErrInvalid) for a string that is not a percentage.
func (v IntOrString) Percent() (int64, bool, error) {
	if v.Type == IntOrStringInt {
		return 0, false, nil
	}
	pct, ok := strings.CutSuffix(v.StrVal, "%")
	n, err := strconv.ParseInt(pct, 10, 32)
	if !ok || err != nil {
		return 0, true, fmt.Errorf("%q is not an integer or a percentage: %w", v.StrVal, errdefs.ErrInvalid)
	}
	return n, true, nil
}

// Scaled is v as a count out of total, as Kubernetes' intstr scales it: an
// integer as it is, "N%" of total rounded up or down.
func (v IntOrString) Scaled(total int32, roundUp bool) (int32, error) {
	n, isPct, err := v.Percent()
	switch {
	case err != nil:
		return 0, err
	case !isPct:
		return v.IntVal, nil
	case n < 0:
		return 0, fmt.Errorf("%q is negative: %w", v.StrVal, errdefs.ErrInvalid)
	}
	f := float64(n) * float64(total) / 100
	if roundUp {
		return int32(math.Ceil(f)), nil
	}
	return int32(math.Floor(f)), nil
}
