package kubeapi

import (
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// The API speaks in Kubernetes' Status objects: the Store and the rest of
// Shoal speak errdefs' sentinels, and statusOf turns one into the other at
// this edge, with Kubernetes' reasons, codes and wording ("pods \"web\" not
// found"), naming the object.

// invalidError is a validation failure with its field errors, so that the
// Status lists them as causes, as kube-apiserver's Invalid does.
type invalidError struct {
	kind schema.GroupKind
	name string
	errs field.ErrorList
}

func (e *invalidError) Error() string {
	return apierrors.NewInvalid(e.kind, e.name, e.errs).Error()
}
func (e *invalidError) Unwrap() error { return errdefs.ErrInvalid }

// statusOf turns err into the Status the API answers with, for an object
// of resource gr named name ("" for a collection).
func statusOf(err error, gr schema.GroupResource, name string) *apierrors.StatusError {
	var se *apierrors.StatusError
	if errors.As(err, &se) {
		return se
	}
	var inv *invalidError
	if errors.As(err, &inv) {
		return apierrors.NewInvalid(inv.kind, inv.name, inv.errs)
	}
	msg := err.Error()
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		if name == "" {
			return newStatus(http.StatusNotFound, metav1.StatusReasonNotFound, msg, gr, name)
		}
		return apierrors.NewNotFound(gr, name)
	case errors.Is(err, errdefs.ErrAlreadyExists):
		return apierrors.NewAlreadyExists(gr, name)
	case errors.Is(err, errdefs.ErrConflict):
		return apierrors.NewConflict(gr, name, errors.New(conflictMessage))
	case errors.Is(err, errdefs.ErrInvalid):
		return newStatus(http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, msg, gr, name)
	case errors.Is(err, errdefs.ErrForbidden):
		return apierrors.NewForbidden(gr, name, err)
	case errors.Is(err, errdefs.ErrUnauthenticated):
		return apierrors.NewUnauthorized(msg)
	case errors.Is(err, errdefs.ErrGone):
		return apierrors.NewResourceExpired(msg)
	case errors.Is(err, errdefs.ErrTooLarge):
		return apierrors.NewRequestEntityTooLargeError(msg)
	case errors.Is(err, errdefs.ErrUnavailable):
		return apierrors.NewServiceUnavailable(msg)
	}
	return apierrors.NewInternalError(err)
}

// conflictMessage is kube-apiserver's wording of a failed compare-and-swap.
const conflictMessage = "the object has been modified; please apply your changes to the latest version and try again"

func newStatus(code int32, reason metav1.StatusReason, msg string, gr schema.GroupResource, name string) *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: code, Reason: reason, Message: msg,
		Details: &metav1.StatusDetails{Group: gr.Group, Kind: gr.Resource, Name: name},
	}}
}

// badRequest is a 400 naming what was wrong with the request.
func badRequest(format string, a ...any) *apierrors.StatusError {
	return apierrors.NewBadRequest(fmt.Sprintf(format, a...))
}
