package workload

import (
	"sort"
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

// Defaults fills what a manifest may leave out: apiVersion and kind from
// info, the namespace (namespace, or DefaultNamespace when that is empty) of
// a namespaced object that names none, and a new Namespace's phase.
func Defaults(o Object, info KindInfo, namespace string) {
	tm := o.GetTypeMeta()
	if tm.APIVersion == "" {
		tm.APIVersion = info.APIVersion
	}
	if tm.Kind == "" {
		tm.Kind = info.Kind
	}
	meta := o.GetMeta()
	if info.Namespaced && meta.Namespace == "" {
		if namespace == "" {
			namespace = DefaultNamespace
		}
		meta.Namespace = namespace
	}
	if ns, ok := o.(*Namespace); ok && ns.Status.Phase == "" {
		ns.Status.Phase = NamespaceActive
	}
}

// Validate checks o against the rules of its kind and returns one error per
// violation, each reading "field.path: message" in Kubernetes' wording and
// wrapping errdefs.ErrInvalid. It returns nil for a valid object.
func Validate(o Object, info KindInfo) []error {
	var errs field.ErrorList
	errs = append(errs, validateMeta(o.GetMeta(), info, field.NewPath("metadata"))...)
	if cm, ok := o.(*ConfigMap); ok {
		errs = append(errs, validateConfigMap(cm)...)
	}
	if len(errs) == 0 {
		return nil
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = &problem{msg: e.Error(), cause: errdefs.ErrInvalid}
	}
	return out
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

	labelsPath := path.Child("labels")
	for _, k := range sortedKeys(meta.Labels) {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, field.Invalid(labelsPath, k, msg))
		}
		v := meta.Labels[k]
		for _, msg := range validation.IsValidLabelValue(v) {
			errs = append(errs, field.Invalid(labelsPath.Key(k), v, msg))
		}
	}

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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
