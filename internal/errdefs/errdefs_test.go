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

func TestReasonAndNewf(t *testing.T) {
	err := Newf(ErrNotFound, "configmaps %q not found", "app")
	if err.Error() != `configmaps "app" not found` {
		t.Errorf("text %q", err.Error())
	}
	if !errors.Is(err, ErrNotFound) || HTTPStatus(err) != 404 || Reason(err) != "NotFound" {
		t.Errorf("Newf error: is %v, status %d, reason %q", errors.Is(err, ErrNotFound), HTTPStatus(err), Reason(err))
	}
	for _, c := range []struct {
		err    error
		reason string
	}{
		{ErrAlreadyExists, "AlreadyExists"}, {ErrConflict, "Conflict"}, {ErrInvalid, "Invalid"},
		{ErrGone, "Expired"}, {errors.New("boom"), "InternalError"},
	} {
		if got := Reason(fmt.Errorf("x: %w", c.err)); got != c.reason {
			t.Errorf("Reason(%v) = %q, want %q", c.err, got, c.reason)
		}
	}
}
