package workload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Quantity is an amount of a resource in Kubernetes' notation: "500m" or
// "0.5" CPUs, "128Mi" or "134217728" bytes, "1e3". It parses, compares and
// prints as k8s.io/apimachinery's resource.Quantity does (same grammar, same
// rounding up to 1n, same canonical form: "0.5" prints as "500m", "1.5Gi" as
// "1536Mi"), and has the same method names, so code written against it moves
// to resource.Quantity by changing a type. It exists because that package's
// dependencies are not in this module's go.sum.
//
// The zero Quantity is 0. A Quantity is immutable: copy it freely.
type Quantity struct {
	nanos  *big.Int // the value times 10^9; nil is zero; never mutated
	format QuantityFormat
}

// QuantityFormat is how a Quantity prints: the notation it was written in.
type QuantityFormat string

// The formats, as resource.Format names them.
const (
	DecimalExponent QuantityFormat = "DecimalExponent" // 1e3, 5e-3
	BinarySI        QuantityFormat = "BinarySI"        // 128Mi, 1Gi
	DecimalSI       QuantityFormat = "DecimalSI"       // 100m, 1k, 2G, 3
)

// The errors ParseQuantity returns, with apimachinery's wording.
var (
	errQuantityFormat  = &problem{msg: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'", cause: errdefs.ErrInvalid}
	errQuantityNumeric = &problem{msg: "unable to parse numeric part of quantity", cause: errdefs.ErrInvalid}
	errQuantitySuffix  = &problem{msg: "unable to parse quantity's suffix", cause: errdefs.ErrInvalid}
	errQuantityTooBig  = &problem{msg: "quantity is too large", cause: errdefs.ErrInvalid}
)

// maxQuantityExponent bounds the decimal exponent of a parsed value in
// nano-units, so that "1e999999999" cannot make a huge number.
const maxQuantityExponent = 64

var (
	bigOne      = big.NewInt(1)
	bigTen      = big.NewInt(10)
	bigBillion  = big.NewInt(1e9)
	bigMillion  = big.NewInt(1e6)
	bigThousand = big.NewInt(1e3)
	bigKi       = big.NewInt(1024)
	bigMaxInt64 = big.NewInt(math.MaxInt64)
	bigMinInt64 = big.NewInt(math.MinInt64)
)

var decimalSuffixes = map[string]int{"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}

var binarySuffixes = map[string]int{"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}

// ParseQuantity parses Kubernetes' quantity notation:
//
//	<sign>? <digits>[.<digits>] <suffix>
//	suffix: n u m "" k M G T P E | Ki Mi Gi Ti Pi Ei | e<int> E<int>
//
// A value finer than 1n is rounded up, away from zero, to the next 1n. The
// error wraps errdefs.ErrInvalid.
func ParseQuantity(s string) (Quantity, error) {
	if s == "" {
		return Quantity{}, errQuantityFormat
	}
	pos := 0
	negative := false
	switch s[0] {
	case '-':
		negative = true
		pos++
	case '+':
		pos++
	}
	intStart := pos
	for pos < len(s) && isDigit(s[pos]) {
		pos++
	}
	intPart := s[intStart:pos]
	var frac string
	if pos < len(s) && s[pos] == '.' {
		pos++
		fracStart := pos
		for pos < len(s) && isDigit(s[pos]) {
			pos++
		}
		frac = s[fracStart:pos]
	}
	if intPart == "" && frac == "" {
		return Quantity{}, errQuantityFormat
	}
	suffix := s[pos:]
	if !suffixShape(suffix) {
		return Quantity{}, errQuantityFormat
	}

	format := DecimalSI
	exp10, exp2 := 0, 0
	if e, ok := decimalSuffixes[suffix]; ok {
		exp10 = e
	} else if e, ok := binarySuffixes[suffix]; ok {
		exp2, format = e, BinarySI
	} else if len(suffix) > 1 && (suffix[0] == 'e' || suffix[0] == 'E') {
		e, err := strconv.ParseInt(suffix[1:], 10, 32)
		if err != nil {
			return Quantity{}, errQuantitySuffix
		}
		exp10, format = int(e), DecimalExponent
	} else {
		return Quantity{}, errQuantitySuffix
	}

	mantissa, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return Quantity{}, errQuantityNumeric
	}
	if mantissa.Sign() == 0 {
		return Quantity{format: format}, nil
	}
	if negative {
		mantissa.Neg(mantissa)
	}
	mantissa.Lsh(mantissa, uint(exp2))
	// value = mantissa × 10^p nano-units
	p := exp10 + 9 - len(frac)
	if p > maxQuantityExponent {
		return Quantity{}, errQuantityTooBig
	}
	return Quantity{nanos: scaleRoundingUp(mantissa, p), format: format}, nil
}

// MustParseQuantity is ParseQuantity for constants: it panics on an error.
func MustParseQuantity(s string) Quantity {
	q, err := ParseQuantity(s)
	if err != nil {
		panic(fmt.Sprintf("workload.MustParseQuantity(%q): %v", s, err))
	}
	return q
}

// NewQuantity returns value units, printed in format.
func NewQuantity(value int64, format QuantityFormat) Quantity {
	n := big.NewInt(value)
	return Quantity{nanos: n.Mul(n, bigBillion), format: format}
}

// NewMilliQuantity returns milli thousandths of a unit, printed in format.
func NewMilliQuantity(milli int64, format QuantityFormat) Quantity {
	n := big.NewInt(milli)
	return Quantity{nanos: n.Mul(n, bigMillion), format: format}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// suffixShape reports whether s matches [eEinumkKMGTP]*[-+]?[0-9]*.
func suffixShape(s string) bool {
	i := 0
	for i < len(s) && strings.IndexByte("eEinumkKMGTP", s[i]) >= 0 {
		i++
	}
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i == len(s)
}

// scaleRoundingUp returns m × 10^p, rounded away from zero to an integer.
func scaleRoundingUp(m *big.Int, p int) *big.Int {
	if p >= 0 {
		return m.Mul(m, new(big.Int).Exp(bigTen, big.NewInt(int64(p)), nil))
	}
	if -p > len(m.String())+1 { // |m × 10^p| < 1
		if m.Sign() < 0 {
			return big.NewInt(-1)
		}
		return big.NewInt(1)
	}
	return divRoundingUp(m, new(big.Int).Exp(bigTen, big.NewInt(int64(-p)), nil))
}

// divRoundingUp returns a/b rounded away from zero; b > 0.
func divRoundingUp(a, b *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(a, b, new(big.Int))
	switch r.Sign() {
	case 1:
		q.Add(q, bigOne)
	case -1:
		q.Sub(q, bigOne)
	}
	return q
}

func (q Quantity) value() *big.Int {
	if q.nanos == nil {
		return new(big.Int)
	}
	return q.nanos
}

// Value returns the quantity in units, rounded up away from zero, and
// clamped to the range of int64.
func (q Quantity) Value() int64 { return clampInt64(divRoundingUp(q.value(), bigBillion)) }

// MilliValue returns the quantity in thousandths of a unit, rounded up away
// from zero, and clamped to the range of int64.
func (q Quantity) MilliValue() int64 { return clampInt64(divRoundingUp(q.value(), bigMillion)) }

func clampInt64(n *big.Int) int64 {
	switch {
	case n.Cmp(bigMaxInt64) > 0:
		return math.MaxInt64
	case n.Cmp(bigMinInt64) < 0:
		return math.MinInt64
	}
	return n.Int64()
}

// Cmp returns -1, 0 or 1 as q is less than, equal to or greater than y.
func (q Quantity) Cmp(y Quantity) int { return q.value().Cmp(y.value()) }

// Equal reports whether q and y are the same amount, however written.
func (q Quantity) Equal(y Quantity) bool { return q.Cmp(y) == 0 }

// Sign returns -1, 0 or 1 as q is negative, zero or positive.
func (q Quantity) Sign() int { return q.value().Sign() }

// IsZero reports whether q is 0.
func (q Quantity) IsZero() bool { return q.Sign() == 0 }

// Format returns the notation q prints in.
func (q Quantity) Format() QuantityFormat {
	if q.format == "" {
		return DecimalSI
	}
	return q.format
}

// String returns q in canonical form, as Kubernetes prints it: an integer
// mantissa and the largest suffix of q's format that keeps it an integer
// ("500m", "1k", "1536Mi", "1e3"). A BinarySI value below 1024 in magnitude,
// or with a fraction, prints as DecimalSI.
func (q Quantity) String() string {
	v := q.value()
	if v.Sign() == 0 {
		return "0"
	}
	format := q.Format()
	if format == BinarySI {
		whole, rem := new(big.Int).QuoRem(v, bigBillion, new(big.Int))
		if rem.Sign() == 0 && new(big.Int).Abs(whole).Cmp(bigKi) >= 0 {
			return binaryString(whole)
		}
		format = DecimalSI
	}
	// Strip trailing zeros, then lower the exponent to a multiple of 3.
	m, exp := new(big.Int).Set(v), -9
	rem := new(big.Int)
	for {
		d, r := new(big.Int).QuoRem(m, bigTen, rem)
		if r.Sign() != 0 {
			break
		}
		m, exp = d, exp+1
	}
	switch ((exp % 3) + 3) % 3 {
	case 1:
		m.Mul(m, bigTen)
		exp--
	case 2:
		m.Mul(m, big.NewInt(100))
		exp -= 2
	}
	if format == DecimalExponent {
		if exp == 0 {
			return m.String()
		}
		return m.String() + "e" + strconv.Itoa(exp)
	}
	for exp > 18 {
		m.Mul(m, bigThousand)
		exp -= 3
	}
	for suffix, e := range decimalSuffixes {
		if e == exp {
			return m.String() + suffix
		}
	}
	return m.String() // unreachable: exp is a multiple of 3 in [-9, 18]
}

func binaryString(whole *big.Int) string {
	m := new(big.Int).Set(whole)
	suffixes := []string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}
	i := 0
	rem := new(big.Int)
	for i < len(suffixes)-1 {
		d, r := new(big.Int).QuoRem(m, bigKi, rem)
		if r.Sign() != 0 {
			break
		}
		m = d
		i++
	}
	return m.String() + suffixes[i]
}

// MarshalJSON writes q's canonical form as a JSON string.
func (q Quantity) MarshalJSON() ([]byte, error) {
	return json.Marshal(q.String())
}

// UnmarshalJSON reads a JSON string ("128Mi") or number (0.5), as
// Kubernetes does; null leaves the zero Quantity.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*q = Quantity{}
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	} else if len(b) == 0 || !(b[0] == '-' || b[0] == '.' || isDigit(b[0])) {
		return &problem{msg: "expected string or number, got " + rawJSONType(b), cause: errdefs.ErrInvalid}
	}
	parsed, err := ParseQuantity(s)
	if err != nil {
		return err
	}
	*q = parsed
	return nil
}

// rawJSONType names the JSON type of an encoded value by its first byte.
func rawJSONType(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '"':
		return "string"
	}
	return "number"
}
