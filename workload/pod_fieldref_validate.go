package workload

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Which parts of a pod its downward API may show, as Kubernetes allows
// them. The node agent and package volumes resolve them with
// PodFieldValue and ContainerResourceValue.
var (
	// EnvFieldPaths are the fieldRef paths an env var may read, besides
	// one label or annotation (metadata.labels['KEY'],
	// metadata.annotations['KEY']). Sorted, as Kubernetes lists them in
	// its error.
	EnvFieldPaths = []string{
		"metadata.name", "metadata.namespace", "metadata.uid",
		"spec.nodeName", "spec.serviceAccountName",
		"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
	}
	// VolumeFieldPaths are the fieldRef paths a downwardAPI volume file may
	// hold, besides one label or annotation: all labels and all
	// annotations, but no node or status field. Sorted.
	VolumeFieldPaths = []string{
		"metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid",
	}
	// ResourceFieldPaths are the resources a resourceFieldRef may read,
	// besides limits.hugepages-SIZE and requests.hugepages-SIZE. Sorted.
	ResourceFieldPaths = []string{
		"limits.cpu", "limits.ephemeral-storage", "limits.memory",
		"requests.cpu", "requests.ephemeral-storage", "requests.memory",
	}
)

// validateFieldRef checks a fieldRef against the paths allowed where it
// is (EnvFieldPaths or VolumeFieldPaths). apiVersion may be left out: it
// defaults to v1.
func validateFieldRef(r *ObjectFieldSelector, allowed []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r.APIVersion != "" && r.APIVersion != "v1" {
		errs = append(errs, field.NotSupported(p.Child("apiVersion"), r.APIVersion, []string{"v1"}))
	}
	fp := p.Child("fieldPath")
	if r.FieldPath == "" {
		return append(errs, field.Required(fp, ""))
	}
	if base, key, ok := splitFieldSubscript(r.FieldPath); ok {
		switch base {
		case "metadata.annotations":
			key = strings.ToLower(key)
		case "metadata.labels":
		default:
			return append(errs, field.Invalid(p, base, "does not support subscript"))
		}
		for _, msg := range validation.IsQualifiedName(key) {
			errs = append(errs, field.Invalid(p, key, msg))
		}
		return errs
	}
	if !slices.Contains(allowed, r.FieldPath) {
		errs = append(errs, field.NotSupported(fp, r.FieldPath, allowed))
	}
	return errs
}

// splitFieldSubscript splits "metadata.labels['app']" into
// "metadata.labels" and "app".
func splitFieldSubscript(fieldPath string) (base, key string, ok bool) {
	base, rest, ok := strings.Cut(fieldPath, "['")
	if !ok || base == "" || !strings.HasSuffix(rest, "']") {
		return "", "", false
	}
	return base, strings.TrimSuffix(rest, "']"), true
}

// Divisors a resourceFieldRef may use: cpu in cores or millicores, the
// others in bytes by a power of 1000 or 1024.
var (
	cpuDivisors  = []string{"1m", "1"}
	byteDivisors = []string{"1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"}
)

// validateResourceFieldRef checks a resourceFieldRef. In a volume the
// container must be named (a file is not any one container's); in an env
// var it may be left out, meaning the variable's own container, and when
// named must be one of containers (nil: not checked).
func validateResourceFieldRef(r *corev1.ResourceFieldSelector, inVolume bool, containers map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case inVolume && r.ContainerName == "":
		errs = append(errs, field.Required(p.Child("containerName"), ""))
	case r.Resource == "":
		errs = append(errs, field.Required(p.Child("resource"), ""))
	case !slices.Contains(ResourceFieldPaths, r.Resource) && !isHugePagesFieldPath(r.Resource):
		errs = append(errs, field.NotSupported(p.Child("resource"), r.Resource, ResourceFieldPaths))
	}
	if r.ContainerName != "" && containers != nil && !containers[r.ContainerName] {
		errs = append(errs, field.NotFound(p.Child("containerName"), r.ContainerName))
	}
	if r.Divisor.IsZero() {
		return errs
	}
	div, dp := r.Divisor.String(), p.Child("divisor")
	_, name, _ := strings.Cut(r.Resource, ".")
	switch {
	case name == "cpu" && !slices.Contains(cpuDivisors, div):
		errs = append(errs, field.Invalid(dp, r.Resource, "only divisor's values 1m and 1 are supported with the cpu resource"))
	case name == "memory" && !slices.Contains(byteDivisors, div):
		errs = append(errs, field.Invalid(dp, r.Resource, "only divisor's values "+strings.Join(byteDivisors, ", ")+" are supported with the memory resource"))
	case name == "ephemeral-storage" && !slices.Contains(byteDivisors, div):
		errs = append(errs, field.Invalid(dp, r.Resource, "only divisor's values "+strings.Join(byteDivisors, ", ")+" are supported with the local ephemeral storage resource"))
	case isHugePagesFieldPath(r.Resource) && !slices.Contains(byteDivisors, div):
		errs = append(errs, field.Invalid(dp, r.Resource, "only divisor's values "+strings.Join(byteDivisors, ", ")+" are supported with the hugepages resource"))
	}
	return errs
}

func isHugePagesFieldPath(resource string) bool {
	return strings.HasPrefix(resource, "limits."+corev1.ResourceHugePagesPrefix) ||
		strings.HasPrefix(resource, "requests."+corev1.ResourceHugePagesPrefix)
}
