package workload

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Percent reads an IntOrString "N%" as N; it reports false for an integer,
// and an error (ErrInvalid) for a string that is not a percentage.
func Percent(v IntOrString) (int64, bool, error) {
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
func Scaled(v IntOrString, total int32, roundUp bool) (int32, error) {
	n, isPct, err := Percent(v)
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
