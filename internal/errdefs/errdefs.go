// Package errdefs is Shoal's one error vocabulary.
//
// Every package wraps one of these sentinels with the ids involved
// (fmt.Errorf("token %q: %w", id, errdefs.ErrNotFound)) and callers test with
// errors.Is. Only the API server and the CLI turn them into HTTP status codes
// and exit codes. This package is a leaf: it imports nothing of Shoal's, so
// every layer, gossip and consensus included, may use it.
package errdefs

import (
	"errors"
	"fmt"
	"net/http"
)

// The sentinels. Wrap them; never compare error text.
var (
	ErrNotFound        = errors.New("not found")
	ErrAlreadyExists   = errors.New("already exists")
	ErrConflict        = errors.New("conflict")
	ErrInvalid         = errors.New("invalid")
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrForbidden       = errors.New("forbidden")
	ErrUnavailable     = errors.New("unavailable")
	ErrGone            = errors.New("gone")
	ErrTooLarge        = errors.New("too large")
)

var statuses = []struct {
	err    error
	status int
	reason string // Kubernetes' StatusReason
}{
	{ErrNotFound, http.StatusNotFound, "NotFound"},
	{ErrAlreadyExists, http.StatusConflict, "AlreadyExists"},
	{ErrConflict, http.StatusConflict, "Conflict"},
	{ErrInvalid, http.StatusUnprocessableEntity, "Invalid"},
	{ErrUnauthenticated, http.StatusUnauthorized, "Unauthorized"},
	{ErrForbidden, http.StatusForbidden, "Forbidden"},
	{ErrUnavailable, http.StatusServiceUnavailable, "ServiceUnavailable"},
	{ErrGone, http.StatusGone, "Expired"},
	{ErrTooLarge, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge"},
}

// Reason names an error's kind the way Kubernetes' Status.reason does
// (NotFound, AlreadyExists, Conflict, ...); InternalError outside the
// vocabulary.
func Reason(err error) string {
	for _, s := range statuses {
		if errors.Is(err, s.err) {
			return s.reason
		}
	}
	return "InternalError"
}

// HTTPStatus maps an error to the HTTP status the API answers with; an error
// outside the vocabulary is a 500.
func HTTPStatus(err error) int {
	for _, s := range statuses {
		if errors.Is(err, s.err) {
			return s.status
		}
	}
	return http.StatusInternalServerError
}

// FromHTTPStatus is the inverse of HTTPStatus, for clients: it returns the
// sentinel a status stands for, or nil for a status outside the vocabulary.
func FromHTTPStatus(status int) error {
	switch status {
	case http.StatusConflict:
		return ErrConflict
	case http.StatusBadRequest:
		return ErrInvalid
	}
	for _, s := range statuses {
		if s.status == status {
			return s.err
		}
	}
	return nil
}

// FromReason is the inverse of Reason: the sentinel a reason stands for, or
// nil for InternalError and reasons outside the vocabulary.
func FromReason(reason string) error {
	for _, s := range statuses {
		if s.reason == reason {
			return s.err
		}
	}
	return nil
}

// Newf is an error whose text is the formatted message alone and that
// errors.Is matches to sentinel: for messages that already say what went
// wrong in the words a user expects (`configmaps "app" not found`).
func Newf(sentinel error, format string, a ...any) error {
	return &worded{msg: fmt.Sprintf(format, a...), sentinel: sentinel}
}

type worded struct {
	msg      string
	sentinel error
}

func (w *worded) Error() string { return w.msg }
func (w *worded) Unwrap() error { return w.sentinel }
