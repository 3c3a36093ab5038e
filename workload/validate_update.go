package workload

import (
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateUpdate checks what an update of old to obj (both defaulted) may
// change, as Kubernetes' update validation does for the served kinds:
//
//   - a Pod's spec only in its containers' images, activeDeadlineSeconds,
//     added tolerations, removed scheduling gates, and a negative
//     terminationGracePeriodSeconds set to 1;
//   - a Deployment's or ReplicaSet's spec.selector not at all;
//   - an immutable ConfigMap or Secret (immutable: true) not in its data,
//     and never back to mutable;
//   - a PersistentVolumeClaim's spec only in its requested storage and
//     its volumeName once unset.
//
// Errors name the field with Kubernetes' words.
func ValidateUpdate(obj, old Object) field.ErrorList {
	switch o := obj.(type) {
	case *Pod:
		if p, ok := old.(*Pod); ok {
			return validatePodUpdate(o, p)
		}
	case *Deployment:
		if d, ok := old.(*Deployment); ok {
			return immutableSelector(o.Spec.Selector, d.Spec.Selector)
		}
	case *ReplicaSet:
		if r, ok := old.(*ReplicaSet); ok {
			return immutableSelector(o.Spec.Selector, r.Spec.Selector)
		}
	case *ConfigMap:
		if c, ok := old.(*ConfigMap); ok {
			return immutableData(o.Immutable, c.Immutable,
				apiequality.Semantic.DeepEqual(o.Data, c.Data) && apiequality.Semantic.DeepEqual(o.BinaryData, c.BinaryData),
				field.NewPath("data"))
		}
	case *Secret:
		if s, ok := old.(*Secret); ok {
			return immutableData(o.Immutable, s.Immutable, apiequality.Semantic.DeepEqual(o.Data, s.Data), field.NewPath("data"))
		}
	case *PersistentVolumeClaim:
		if c, ok := old.(*PersistentVolumeClaim); ok {
			return validateClaimUpdate(o, c)
		}
	}
	return nil
}

const podUpdateForbidden = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`," +
	"`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)," +
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

func validatePodUpdate(p, old *Pod) field.ErrorList {
	spec := field.NewPath("spec")
	var errs field.ErrorList
	if len(p.Spec.Containers) != len(old.Spec.Containers) || len(p.Spec.InitContainers) != len(old.Spec.InitContainers) {
		return field.ErrorList{field.Forbidden(spec, podUpdateForbidden)}
	}
	for _, g := range p.Spec.SchedulingGates {
		found := false
		for _, o := range old.Spec.SchedulingGates {
			found = found || o.Name == g.Name
		}
		if !found {
			errs = append(errs, field.Forbidden(spec.Child("schedulingGates"), fmt.Sprintf("only deletion is allowed, but found new scheduling gate '%s'", g.Name)))
		}
	}
	for _, o := range old.Spec.Tolerations {
		found := false
		for _, t := range p.Spec.Tolerations {
			found = found || apiequality.Semantic.DeepEqual(t, o)
		}
		if !found {
			errs = append(errs, field.Forbidden(spec.Child("tolerations"), "existing toleration can not be modified except its tolerationSeconds"))
			break
		}
	}
	// What may change, made equal; anything else left different is refused.
	mutable := p.Spec.DeepCopy()
	for i := range mutable.Containers {
		mutable.Containers[i].Image = old.Spec.Containers[i].Image
	}
	for i := range mutable.InitContainers {
		mutable.InitContainers[i].Image = old.Spec.InitContainers[i].Image
	}
	mutable.ActiveDeadlineSeconds = old.Spec.ActiveDeadlineSeconds
	mutable.Tolerations = old.Spec.Tolerations
	mutable.SchedulingGates = old.Spec.SchedulingGates
	if old.Spec.ServiceAccountName == "" {
		// Stored before pods defaulted to the "default" service account.
		mutable.ServiceAccountName, mutable.DeprecatedServiceAccount = "", ""
	}
	if g, og := mutable.TerminationGracePeriodSeconds, old.Spec.TerminationGracePeriodSeconds; g != nil && og != nil && *og < 0 && *g == 1 {
		mutable.TerminationGracePeriodSeconds = og
	}
	if !apiequality.Semantic.DeepEqual(mutable, &old.Spec) {
		errs = append(errs, field.Forbidden(spec, podUpdateForbidden))
	}
	if ad, oad := p.Spec.ActiveDeadlineSeconds, old.Spec.ActiveDeadlineSeconds; oad != nil && (ad == nil || *ad > *oad) {
		errs = append(errs, field.Invalid(spec.Child("activeDeadlineSeconds"), ad, "must be less than or equal to previous value"))
	}
	return errs
}

func immutableSelector(sel, old *LabelSelector) field.ErrorList {
	if apiequality.Semantic.DeepEqual(sel, old) {
		return nil
	}
	return field.ErrorList{field.Invalid(field.NewPath("spec", "selector"), sel, "field is immutable")}
}

func immutableData(immutable, wasImmutable *bool, sameData bool, data *field.Path) field.ErrorList {
	if wasImmutable == nil || !*wasImmutable {
		return nil
	}
	var errs field.ErrorList
	if immutable == nil || !*immutable {
		errs = append(errs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
	}
	if !sameData {
		errs = append(errs, field.Forbidden(data, "field is immutable when `immutable` is set"))
	}
	return errs
}

func validateClaimUpdate(c, old *PersistentVolumeClaim) field.ErrorList {
	mutable := c.Spec.DeepCopy()
	mutable.Resources.Requests = old.Spec.Resources.Requests
	if old.Spec.VolumeName == "" {
		mutable.VolumeName = ""
	}
	if apiequality.Semantic.DeepEqual(mutable, &old.Spec) {
		return nil
	}
	return field.ErrorList{field.Forbidden(field.NewPath("spec"), "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims")}
}
