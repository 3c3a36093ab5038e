package workload

import "k8s.io/apimachinery/pkg/util/validation/field"

// validateLease checks a coordination.k8s.io/v1 Lease as kube-apiserver
// does: a positive duration, and transitions that are not negative.
func validateLease(l *Lease) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	if d := l.Spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		errs = append(errs, field.Invalid(sp.Child("leaseDurationSeconds"), *d, "must be greater than 0"))
	}
	if t := l.Spec.LeaseTransitions; t != nil && *t < 0 {
		errs = append(errs, field.Invalid(sp.Child("leaseTransitions"), *t, "must be greater than or equal to 0"))
	}
	return errs
}
