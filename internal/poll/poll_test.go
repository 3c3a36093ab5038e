package poll

import (
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	n := 0
	if !Until(10*time.Second, time.Millisecond, func() bool { n++; return n == 3 }) || n != 3 {
		t.Fatalf("Until stopped after %d checks, want true at the third", n)
	}
	if Until(20*time.Millisecond, time.Millisecond, func() bool { return false }) {
		t.Fatal("Until held for a condition that never does")
	}
}
