package errdefs

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestStatusRoundTrip(t *testing.T) {
	for _, s := range statuses {
		wrapped := fmt.Errorf("thing %q: %w", "x", s.err)
		if got := HTTPStatus(wrapped); got != s.status {
			t.Errorf("HTTPStatus(%v) = %d, want %d", s.err, got, s.status)
		}
		back := FromHTTPStatus(s.status)
		if back == nil || HTTPStatus(back) != s.status {
			t.Errorf("FromHTTPStatus(%d) = %v", s.status, back)
		}
	}
	if HTTPStatus(errors.New("other")) != http.StatusInternalServerError {
		t.Error("an error outside the vocabulary is not a 500")
	}
	if FromHTTPStatus(http.StatusTeapot) != nil {
		t.Error("a status outside the vocabulary maps to a sentinel")
	}
	if !errors.Is(FromHTTPStatus(http.StatusBadRequest), ErrInvalid) {
		t.Error("400 is not ErrInvalid")
	}
}
