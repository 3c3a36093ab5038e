package workload

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/shoalproject/shoal/internal/errdefs"
)

func TestParseQuantityCanonical(t *testing.T) {
	// Canonical forms as k8s.io/apimachinery's resource.Quantity prints them.
	for _, tc := range []struct {
		in, want string
		format   QuantityFormat
	}{
		{"100m", "100m", DecimalSI},
		{"0.1", "100m", DecimalSI},
		{".5", "500m", DecimalSI},
		{"5.", "5", DecimalSI},
		{"5.000", "5", DecimalSI},
		{"+5", "5", DecimalSI},
		{"1", "1", DecimalSI},
		{"1.5", "1500m", DecimalSI},
		{"1000", "1k", DecimalSI},
		{"1500", "1500", DecimalSI},
		{"1000k", "1M", DecimalSI},
		{"1E", "1E", DecimalSI},
		{"1000E", "1000E", DecimalSI},
		{"1n", "1n", DecimalSI},
		{"1u", "1u", DecimalSI},
		{"0.1n", "1n", DecimalSI},   // rounded up to 1n
		{"-0.1n", "-1n", DecimalSI}, // away from zero
		{"-100m", "-100m", DecimalSI},
		{"0", "0", DecimalSI},
		{"-0", "0", DecimalSI},
		{"128Mi", "128Mi", BinarySI},
		{"1Gi", "1Gi", BinarySI},
		{"1.5Gi", "1536Mi", BinarySI},
		{"1024Ki", "1Mi", BinarySI},
		{"0.5Ki", "512", BinarySI},     // below 1024: decimal
		{"1.5Ki", "1536", BinarySI},    // not a whole number of Ki
		{"0.5Mi", "512Ki", BinarySI},   //
		{"0.001Ki", "1024m", BinarySI}, // a fraction: decimal
		{"0Mi", "0", BinarySI},
		{"1e3", "1e3", DecimalExponent},
		{"1E3", "1e3", DecimalExponent},
		{"1.5e3", "1500", DecimalExponent},
		{"12e-3", "12e-3", DecimalExponent},
		{"1e-20", "1e-9", DecimalExponent},
	} {
		q, err := ParseQuantity(tc.in)
		if err != nil {
			t.Errorf("ParseQuantity(%q): %v", tc.in, err)
			continue
		}
		if got := q.String(); got != tc.want || q.Format() != tc.format {
			t.Errorf("ParseQuantity(%q) = %q (%s); want %q (%s)", tc.in, got, q.Format(), tc.want, tc.format)
		}
		again, err := ParseQuantity(q.String())
		if err != nil || !again.Equal(q) {
			t.Errorf("ParseQuantity(%q) does not round-trip: %v, %v", q.String(), again, err)
		}
	}
}

func TestParseQuantityErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
		{"abc", "quantities must match the regular expression"},
		{"1.2.3", "quantities must match the regular expression"},
		{"12x", "quantities must match the regular expression"},
		{"1Mb", "quantities must match the regular expression"},
		{"1KiB", "quantities must match the regular expression"},
		{".", "quantities must match the regular expression"},
		{"1ki", "unable to parse quantity's suffix"},
		{"1MM", "unable to parse quantity's suffix"},
		{"1e", "unable to parse quantity's suffix"},
		{"1ee3", "unable to parse quantity's suffix"},
		{"1e100", "quantity is too large"},
	} {
		_, err := ParseQuantity(tc.in)
		if err == nil || len(err.Error()) < len(tc.want) || err.Error()[:len(tc.want)] != tc.want || !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("ParseQuantity(%q) error = %v; want %q wrapping ErrInvalid", tc.in, err, tc.want)
		}
	}
}

func TestQuantityValues(t *testing.T) {
	for _, tc := range []struct {
		in           string
		value, milli int64
		sign         int
	}{
		{"1.5", 2, 1500, 1},
		{"100m", 1, 100, 1},
		{"0.1m", 1, 1, 1},
		{"128Mi", 128 << 20, 128 << 20 * 1000, 1},
		{"-1.5", -2, -1500, -1},
		{"0", 0, 0, 0},
		{"20E", math.MaxInt64, math.MaxInt64, 1}, // clamped
	} {
		q := MustParseQuantity(tc.in)
		if q.Value() != tc.value || q.MilliValue() != tc.milli || q.Sign() != tc.sign || q.IsZero() != (tc.sign == 0) {
			t.Errorf("%q: Value %d MilliValue %d Sign %d; want %d %d %d", tc.in, q.Value(), q.MilliValue(), q.Sign(), tc.value, tc.milli, tc.sign)
		}
	}
	var zero Quantity
	if zero.String() != "0" || !zero.IsZero() || zero.Value() != 0 || zero.Cmp(MustParseQuantity("0m")) != 0 {
		t.Errorf("zero Quantity = %q", zero.String())
	}
	if !MustParseQuantity("1Gi").Equal(MustParseQuantity("1073741824")) || MustParseQuantity("1G").Cmp(MustParseQuantity("1Gi")) != -1 {
		t.Error("1Gi should equal 1073741824 and exceed 1G")
	}
	if got := NewQuantity(1<<30, BinarySI).String(); got != "1Gi" {
		t.Errorf("NewQuantity(1<<30, BinarySI) = %q", got)
	}
	if got := NewMilliQuantity(1500, DecimalSI).String(); got != "1500m" {
		t.Errorf("NewMilliQuantity(1500) = %q", got)
	}
	if got := NewQuantity(110, DecimalSI).String(); got != "110" {
		t.Errorf("NewQuantity(110) = %q", got)
	}
}

func TestQuantityJSON(t *testing.T) {
	var list ResourceList
	if err := json.Unmarshal([]byte(`{"cpu": 0.5, "memory": "128Mi", "pods": 1e2, "x": null}`), &list); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"cpu":"500m","memory":"128Mi","pods":"100","x":"0"}`; string(out) != want {
		t.Errorf("round trip = %s; want %s", out, want)
	}
	for _, tc := range []struct{ in, want string }{
		{`true`, "expected string or number, got boolean"},
		{`{}`, "expected string or number, got object"},
		{`"12x"`, "quantities must match"},
	} {
		var q Quantity
		err := json.Unmarshal([]byte(tc.in), &q)
		if err == nil || len(err.Error()) < len(tc.want) || err.Error()[:len(tc.want)] != tc.want {
			t.Errorf("Unmarshal(%s) error = %v; want %q", tc.in, err, tc.want)
		}
	}
}

func TestIntOrStringJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want IntOrString
	}{
		{`8080`, IntOrStringFromInt32(8080)},
		{`"http"`, IntOrStringFromString("http")},
		{`"25%"`, IntOrStringFromString("25%")},
	} {
		var v IntOrString
		if err := json.Unmarshal([]byte(tc.in), &v); err != nil || v != tc.want {
			t.Errorf("Unmarshal(%s) = %+v, %v; want %+v", tc.in, v, err, tc.want)
		}
		out, _ := json.Marshal(v)
		if string(out) != tc.in {
			t.Errorf("Marshal(%+v) = %s; want %s", v, out, tc.in)
		}
	}
	for _, in := range []string{`true`, `1.5`, `1e10`, `{}`} {
		var v IntOrString
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("Unmarshal(%s) = %+v; want an error", in, v)
		}
	}
	if s := IntOrStringFromInt32(80).String(); s != "80" {
		t.Errorf("String() = %q", s)
	}
}
