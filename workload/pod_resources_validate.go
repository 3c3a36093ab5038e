package workload

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The resources a container may ask for, named as Kubernetes names them:
// cpu, memory, ephemeral-storage and hugepages-SIZE, which Kubernetes
// defines; NAME.kubernetes.io/... and kubernetes.io/..., which it reserves;
// and extended resources, a qualified name under any other domain
// (nvidia.com/gpu), which a device plugin or an operator advertises on
// nodes. Extended resources and huge pages cannot be overcommitted: a
// container's request is its limit.

// standardContainerResources are the unprefixed names a container may use,
// besides hugepages-SIZE.
var standardContainerResources = []ResourceName{ResourceCPU, ResourceMemory, corev1.ResourceEphemeralStorage}

// standardResources are the unprefixed names Kubernetes knows anywhere
// (containers, quotas, limit ranges), besides the hugepages ones.
var standardResources = []ResourceName{
	ResourceCPU, ResourceMemory, corev1.ResourceEphemeralStorage, ResourceStorage,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsStorage, corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
	ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices, corev1.ResourceReplicationControllers,
	corev1.ResourceSecrets, corev1.ResourceConfigMaps, corev1.ResourcePersistentVolumeClaims,
	corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers,
}

// isHugePagesResource reports whether name is hugepages-SIZE.
func isHugePagesResource(name ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// isNativeResource reports whether name is Kubernetes' own: unprefixed, or
// under kubernetes.io.
func isNativeResource(name ResourceName) bool {
	return !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
}

// isExtendedResource reports whether name is an extended resource: not
// native, not a quota's "requests." name, and a qualified name once
// "requests." is put before it (so that a quota can limit it).
func isExtendedResource(name ResourceName) bool {
	if isNativeResource(name) || strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+string(name))) == 0
}

// overcommitAllowed reports whether a request of name may be below its
// limit: only for native resources other than huge pages.
func overcommitAllowed(name ResourceName) bool {
	return isNativeResource(name) && !isHugePagesResource(name)
}

// validateContainerResourceName checks one key of requests or limits.
func validateContainerResourceName(name ResourceName, p *field.Path) field.ErrorList {
	s := string(name)
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(s) {
		errs = append(errs, field.Invalid(p, s, msg))
	}
	if len(errs) > 0 {
		return errs
	}
	if !strings.Contains(s, "/") {
		if !slices.Contains(standardResources, name) && !isHugePagesResource(name) && !strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix+corev1.ResourceHugePagesPrefix) {
			return field.ErrorList{field.Invalid(p, s, "must be a standard resource type or fully qualified")}
		}
		if !slices.Contains(standardContainerResources, name) && !isHugePagesResource(name) {
			return field.ErrorList{field.Invalid(p, s, "must be a standard resource for containers")}
		}
		return nil
	}
	if !isNativeResource(name) && !isExtendedResource(name) {
		return field.ErrorList{field.Invalid(p, s, "doesn't follow extended resource name standard")}
	}
	return nil
}

// validateResourceAmount checks a quantity of name: not negative, and whole
// for an extended resource; for huge pages, a whole number of pages.
func validateResourceAmount(name ResourceName, q Quantity, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if q.Sign() < 0 {
		errs = append(errs, field.Invalid(p, q.String(), "must be greater than or equal to 0"))
	}
	if isExtendedResource(name) && q.MilliValue()%1000 != 0 {
		errs = append(errs, field.Invalid(p, q.String(), "must be an integer"))
	}
	if isHugePagesResource(name) {
		size, err := ParseQuantity(strings.TrimPrefix(string(name), corev1.ResourceHugePagesPrefix))
		if err != nil || size.Sign() <= 0 || q.Value()%size.Value() != 0 {
			errs = append(errs, field.Invalid(p, q.String(), fmt.Sprintf("%s is not positive integer multiple of %s", q.String(), name)))
		}
	}
	return errs
}

// validateResources checks a container's requests and limits: known
// resources, amounts, requests within limits (equal to them for resources
// that cannot be overcommitted), a memory limit of at least minMemoryLimit,
// huge pages beside cpu or memory, and claims that name the pod's
// resourceClaims (claims: their names).
func validateResources(r ResourceRequirements, claims map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	limPath, reqPath := p.Child("limits"), p.Child("requests")
	cpuOrMemory, hugePages := false, false
	for _, list := range []struct {
		list ResourceList
		p    *field.Path
	}{{r.Limits, limPath}, {r.Requests, reqPath}} {
		for _, name := range sortedKeys(list.list) {
			np := list.p.Key(string(name))
			if nameErrs := validateContainerResourceName(name, np); len(nameErrs) > 0 {
				errs = append(errs, nameErrs...)
				continue
			}
			errs = append(errs, validateResourceAmount(name, list.list[name], np)...)
			cpuOrMemory = cpuOrMemory || name == ResourceCPU || name == ResourceMemory
			hugePages = hugePages || isHugePagesResource(name)
		}
	}
	if lim, ok := r.Limits[ResourceMemory]; ok && lim.Sign() >= 0 && lim.Cmp(minMemoryLimit) < 0 {
		errs = append(errs, field.Invalid(limPath.Key(string(ResourceMemory)), lim.String(), "must be at least "+minMemoryLimit.String()))
	}
	for _, name := range sortedKeys(r.Requests) {
		req := r.Requests[name]
		lim, ok := r.Limits[name]
		switch {
		case ok && !overcommitAllowed(name) && req.Cmp(lim) != 0:
			errs = append(errs, field.Invalid(reqPath, req.String(), fmt.Sprintf("must be equal to %s limit of %s", name, lim.String())))
		case ok && req.Cmp(lim) > 0:
			errs = append(errs, field.Invalid(reqPath.Key(string(name)), req.String(),
				fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())))
		case !ok && !overcommitAllowed(name):
			errs = append(errs, field.Required(limPath, "Limit must be set for non overcommitable resources"))
		}
	}
	if hugePages && !cpuOrMemory {
		errs = append(errs, field.Forbidden(p, "HugePages require cpu or memory"))
	}
	return append(errs, validateResourceClaimRefs(r.Claims, claims, p.Child("claims"))...)
}

// validateResourceClaimRefs checks a container's resources.claims: each
// names, once, one of the pod's resourceClaims.
func validateResourceClaimRefs(refs []corev1.ResourceClaim, claims map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, ref := range refs {
		ip := p.Index(i)
		if ref.Name == "" {
			errs = append(errs, field.Required(ip, ""))
			continue
		}
		if seen[ref.Name] {
			errs = append(errs, field.Duplicate(ip, ref.Name))
		}
		seen[ref.Name] = true
		if !claims[ref.Name] {
			e := field.NotFound(ip, ref.Name)
			e.Detail = "must be one of the names in pod.spec.resourceClaims"
			if len(claims) == 0 {
				e.Detail += " which is empty"
			} else {
				e.Detail += ": " + strings.Join(sortedKeys(claims), ", ")
			}
			errs = append(errs, e)
		}
	}
	return errs
}

// validatePodResourceClaims checks spec.resourceClaims and returns their
// names.
func validatePodResourceClaims(claims []corev1.PodResourceClaim, p *field.Path) (map[string]bool, field.ErrorList) {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, c := range claims {
		cp := p.Index(i)
		np := cp.Child("name")
		switch {
		case c.Name == "":
			errs = append(errs, field.Required(np, ""))
		case names[c.Name]:
			errs = append(errs, field.Duplicate(np, c.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(c.Name) {
				errs = append(errs, field.Invalid(np, c.Name, msg))
			}
			names[c.Name] = true
		}
		switch {
		case c.ResourceClaimName != nil && c.ResourceClaimTemplateName != nil:
			errs = append(errs, field.Invalid(cp, c, "at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified"))
		case c.ResourceClaimName == nil && c.ResourceClaimTemplateName == nil:
			errs = append(errs, field.Invalid(cp, c, "must specify one of: `resourceClaimName`, `resourceClaimTemplateName`"))
		}
		if n := c.ResourceClaimName; n != nil {
			errs = append(errs, validateSubdomain(*n, cp.Child("resourceClaimName"))...)
		}
		if n := c.ResourceClaimTemplateName; n != nil {
			errs = append(errs, validateSubdomain(*n, cp.Child("resourceClaimTemplateName"))...)
		}
	}
	return names, errs
}

// validateSubdomain checks a name that must be a DNS-1123 subdomain; unlike
// validateObjectName, empty is one more invalid value, not "required".
func validateSubdomain(name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	return errs
}
