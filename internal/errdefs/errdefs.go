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
}{
	{ErrNotFound, http.StatusNotFound},
	{ErrAlreadyExists, http.StatusConflict},
	{ErrConflict, http.StatusConflict},
	{ErrInvalid, http.StatusUnprocessableEntity},
	{ErrUnauthenticated, http.StatusUnauthorized},
	{ErrForbidden, http.StatusForbidden},
	{ErrUnavailable, http.StatusServiceUnavailable},
	{ErrGone, http.StatusGone},
	{ErrTooLarge, http.StatusRequestEntityTooLarge},
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
