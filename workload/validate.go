package workload

import (
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Size limits, in bytes, as Kubernetes sets them.
const (
	// MaxObjectBytes bounds one object's JSON encoding.
	MaxObjectBytes = 1 << 20
	// MaxAnnotationsBytes bounds the summed length of annotation keys and values.
	MaxAnnotationsBytes = 256 << 10
	// MaxConfigMapDataBytes bounds the summed length of a ConfigMap's data
	// and binaryData values.
	MaxConfigMapDataBytes = 1 << 20
)

// DefaultNamespace is where namespaced objects go when none is named.
const DefaultNamespace = "default"

// problem is an error whose text is final and which wraps one sentinel of
// errdefs, so callers test it with errors.Is and never by its text.
type problem struct {
	msg   string
	cause error
}

func (p *problem) Error() string { return p.msg }
func (p *problem) Unwrap() error { return p.cause }

// DefaultIdentity fills only what names an object: its apiVersion and
// kind from info, and a namespaced object's namespace (namespace, or
// "default"). A server-side apply sends no more than the manifest and this.
func DefaultIdentity(o Object, info KindInfo, namespace string) {
	tm := TypeMetaOf(o)
	if tm.APIVersion == "" {
		tm.APIVersion = info.APIVersion
	}
	if tm.Kind == "" {
		tm.Kind = info.Kind
	}
	meta := MetaOf(o)
	if info.Namespaced && meta.Namespace == "" {
		if namespace == "" {
			namespace = DefaultNamespace
		}
		meta.Namespace = namespace
	}
}

// Defaults fills what a manifest may leave out: apiVersion and kind from
// info, the namespace (namespace, or DefaultNamespace when that is empty) of
// a namespaced object that names none, a new Namespace's phase, and a Pod's
// spec defaults and Pending phase (see Pod's fields). It changes only unset
// fields, so defaulting an object twice is defaulting it once.
func Defaults(o Object, info KindInfo, namespace string) {
	DefaultIdentity(o, info, namespace)
	switch o := o.(type) {
	case *Namespace:
		if o.Status.Phase == "" {
			o.Status.Phase = NamespaceActive
		}
		// As Kubernetes' namespace strategy: a label with the name, so
		// that selectors can pick namespaces by name.
		if o.Labels == nil {
			o.Labels = map[string]string{}
		}
		o.Labels[corev1.LabelMetadataName] = o.Name
	case *Pod:
		defaultPod(o)
		defaultPodServiceAccount(o)
	case *LimitRange:
		defaultLimitRange(o)
	case *PriorityClass:
		defaultPriorityClass(o)
	case *ReplicaSet:
		defaultReplicaSet(o)
	case *Deployment:
		defaultDeployment(o)
	case *Service:
		defaultService(o)
	case *PersistentVolume:
		defaultPersistentVolume(o)
	case *PersistentVolumeClaim:
		defaultPersistentVolumeClaim(o)
	case *Secret:
		defaultSecret(o)
	}
}

// Validate checks o against the rules of its kind and returns one error per
// violation, each reading "field.path: message" in Kubernetes' wording and
// wrapping errdefs.ErrInvalid. It returns nil for a valid object.
func Validate(o Object, info KindInfo) []error {
	errs := ValidateFields(o, info)
	if len(errs) == 0 {
		return nil
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = &problem{msg: e.Error(), cause: errdefs.ErrInvalid}
	}
	return out
}

// ValidateFields is Validate's findings as Kubernetes' field errors, for the
// API to turn into a Status with causes.
func ValidateFields(o Object, info KindInfo) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateMeta(MetaOf(o), info, field.NewPath("metadata"))...)
	switch o := o.(type) {
	case *ConfigMap:
		errs = append(errs, validateConfigMap(o)...)
	case *Pod:
		errs = append(errs, validatePod(o)...)
	case *Node:
		errs = append(errs, validateNode(o)...)
	case *Event:
		errs = append(errs, validateEvent(o)...)
	case *ReplicaSet:
		errs = append(errs, validateReplicaSet(o)...)
	case *Deployment:
		errs = append(errs, validateDeployment(o)...)
	case *Service:
		errs = append(errs, validateService(o)...)
	case *PersistentVolume:
		errs = append(errs, validatePersistentVolume(o)...)
	case *PersistentVolumeClaim:
		errs = append(errs, validatePersistentVolumeClaim(o)...)
	case *Secret:
		errs = append(errs, validateSecret(o)...)
	case *Lease:
		errs = append(errs, validateLease(o)...)
	case *ServiceAccount:
		errs = append(errs, validateServiceAccount(o)...)
	case *LimitRange:
		errs = append(errs, validateLimitRange(o)...)
	case *ResourceQuota:
		errs = append(errs, validateResourceQuota(o)...)
	case *PriorityClass:
		errs = append(errs, validatePriorityClass(o)...)
	case *EndpointSlice:
		errs = append(errs, validateEndpointSlice(o)...)
	}
	return errs
}

func validateMeta(meta *ObjectMeta, info KindInfo, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	namePath := path.Child("name")
	if meta.Name == "" {
		errs = append(errs, field.Required(namePath, ""))
	} else {
		// As Kubernetes: namespaces are DNS labels, most other kinds
		// (ConfigMap among them) DNS subdomains.
		check := validation.IsDNS1123Subdomain
		if info.Kind == "Namespace" {
			check = validation.IsDNS1123Label
		}
		for _, msg := range check(meta.Name) {
			errs = append(errs, field.Invalid(namePath, meta.Name, msg))
		}
	}

	nsPath := path.Child("namespace")
	switch {
	case !info.Namespaced && meta.Namespace != "":
		errs = append(errs, field.Forbidden(nsPath, "not allowed on this type"))
	case info.Namespaced && meta.Namespace != "":
		for _, msg := range validation.IsDNS1123Label(meta.Namespace) {
			errs = append(errs, field.Invalid(nsPath, meta.Namespace, msg))
		}
	}

	errs = append(errs, validateLabels(meta.Labels, path.Child("labels"))...)

	annotationsPath := path.Child("annotations")
	size := 0
	for _, k := range sortedKeys(meta.Annotations) {
		// As Kubernetes: annotation keys are qualified names, case aside.
		for _, msg := range validation.IsQualifiedName(strings.ToLower(k)) {
			errs = append(errs, field.Invalid(annotationsPath, k, msg))
		}
		size += len(k) + len(meta.Annotations[k])
	}
	if size > MaxAnnotationsBytes {
		errs = append(errs, field.TooLong(annotationsPath, "", MaxAnnotationsBytes))
	}

	if meta.GenerateName != "" {
		// As Kubernetes: the prefix with a suffix appended must be a name.
		for _, msg := range validation.IsDNS1123Subdomain(strings.TrimRight(meta.GenerateName, "-") + "x") {
			errs = append(errs, field.Invalid(path.Child("generateName"), meta.GenerateName, msg))
		}
	}
	if g := meta.DeletionGracePeriodSeconds; g != nil && *g < 0 {
		errs = append(errs, field.Invalid(path.Child("deletionGracePeriodSeconds"), *g, "must be greater than or equal to 0"))
	}
	controller := -1
	for i, ref := range meta.OwnerReferences {
		rp := path.Child("ownerReferences").Index(i)
		for _, f := range []struct{ name, v string }{{"apiVersion", ref.APIVersion}, {"kind", ref.Kind}, {"name", ref.Name}, {"uid", string(ref.UID)}} {
			if f.v == "" {
				errs = append(errs, field.Required(rp.Child(f.name), ""))
			}
		}
		if ref.Controller != nil && *ref.Controller {
			if controller >= 0 {
				errs = append(errs, field.Invalid(rp.Child("controller"), true,
					fmt.Sprintf("only one reference may be the controller; ownerReferences[%d] is too", controller)))
			} else {
				controller = i
			}
		}
	}
	seen := map[string]bool{}
	for i, f := range meta.Finalizers {
		fp := path.Child("finalizers").Index(i)
		for _, msg := range validation.IsQualifiedName(f) {
			errs = append(errs, field.Invalid(fp, f, msg))
		}
		if seen[f] {
			errs = append(errs, field.Duplicate(fp, f))
		}
		seen[f] = true
	}
	return errs
}

// validateLabels checks label keys (errors at path) and values (errors at
// path[key]), for metadata.labels and for selectors.
func validateLabels(labels map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(labels) {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, field.Invalid(path, k, msg))
		}
		v := labels[k]
		for _, msg := range validation.IsValidLabelValue(v) {
			errs = append(errs, field.Invalid(path.Key(k), v, msg))
		}
	}
	return errs
}

func validateConfigMap(cm *ConfigMap) field.ErrorList {
	var errs field.ErrorList
	size := 0
	dataPath := field.NewPath("data")
	for _, k := range sortedKeys(cm.Data) {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(dataPath.Key(k), k, msg))
		}
		if _, dup := cm.BinaryData[k]; dup {
			errs = append(errs, field.Invalid(dataPath.Key(k), k, "duplicate of key present in binaryData"))
		}
		size += len(cm.Data[k])
	}
	binaryPath := field.NewPath("binaryData")
	for _, k := range sortedKeys(cm.BinaryData) {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(binaryPath.Key(k), k, msg))
		}
		size += len(cm.BinaryData[k])
	}
	if size > MaxConfigMapDataBytes {
		errs = append(errs, field.TooLong(dataPath, "", MaxConfigMapDataBytes))
	}
	return errs
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
