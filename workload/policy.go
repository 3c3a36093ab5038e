package workload

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The objects a namespace's administrator sets policy with: its service
// accounts, LimitRanges, ResourceQuotas, and the cluster's PriorityClasses.
// Their validation is kube-apiserver's, in its words.

// DefaultServiceAccountName is the service account every namespace has and
// a pod that names none runs as.
const DefaultServiceAccountName = "default"

// NewDefaultServiceAccount is the "default" ServiceAccount of namespace ns,
// as Kubernetes' service account controller makes it.
func NewDefaultServiceAccount(ns string) *ServiceAccount {
	return &ServiceAccount{TypeMeta: TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: ObjectMeta{Name: DefaultServiceAccountName, Namespace: ns}}
}

// defaultPodServiceAccount is the ServiceAccount admission plugin's
// default: a pod that names no service account runs as "default", and the
// deprecated serviceAccount field mirrors serviceAccountName.
func defaultPodServiceAccount(p *Pod) {
	s := &p.Spec
	if s.ServiceAccountName == "" {
		s.ServiceAccountName = s.DeprecatedServiceAccount
	}
	if s.ServiceAccountName == "" {
		s.ServiceAccountName = DefaultServiceAccountName
	}
	if s.DeprecatedServiceAccount == "" {
		s.DeprecatedServiceAccount = s.ServiceAccountName
	}
}

func validateServiceAccount(sa *ServiceAccount) field.ErrorList {
	var errs field.ErrorList
	for i, ref := range sa.ImagePullSecrets {
		errs = append(errs, validateObjectName(ref.Name, field.NewPath("imagePullSecrets").Index(i).Child("name"))...)
	}
	return errs
}

func validateLimitRange(lr *LimitRange) field.ErrorList {
	var errs field.ErrorList
	types := map[LimitType]bool{}
	for i := range lr.Spec.Limits {
		item := &lr.Spec.Limits[i]
		ip := field.NewPath("spec", "limits").Index(i)
		tp := ip.Child("type")
		switch {
		case item.Type == "":
			errs = append(errs, field.Required(tp, ""))
		case len(validation.IsQualifiedName(string(item.Type))) > 0:
			for _, msg := range validation.IsQualifiedName(string(item.Type)) {
				errs = append(errs, field.Invalid(tp, item.Type, msg))
			}
		case !strings.Contains(string(item.Type), "/") && item.Type != LimitTypePod && item.Type != LimitTypeContainer && item.Type != LimitTypePersistentVolumeClaim:
			errs = append(errs, field.Invalid(tp, item.Type, "must be a standard limit type or fully qualified"))
		}
		if types[item.Type] {
			errs = append(errs, field.Duplicate(tp, item.Type))
		}
		types[item.Type] = true

		lists := []struct {
			name string
			list ResourceList
		}{{"max", item.Max}, {"min", item.Min}, {"default", item.Default}, {"defaultRequest", item.DefaultRequest}, {"maxLimitRequestRatio", item.MaxLimitRequestRatio}}
		for _, l := range lists {
			if item.Type == LimitTypePod && (l.name == "default" || l.name == "defaultRequest") {
				if len(l.list) > 0 {
					errs = append(errs, field.Forbidden(ip.Child(l.name), "may not be specified when `type` is 'Pod'"))
				}
				continue
			}
			for _, name := range sortedKeys(l.list) {
				for _, msg := range validation.IsQualifiedName(string(name)) {
					errs = append(errs, field.Invalid(ip.Child(l.name).Key(string(name)), name, msg))
				}
			}
		}
		if item.Type == LimitTypePersistentVolumeClaim {
			_, minOK := item.Min[ResourceStorage]
			_, maxOK := item.Max[ResourceStorage]
			if !minOK && !maxOK {
				errs = append(errs, field.Required(ip.Child("limits"), "either minimum or maximum storage value is required, but neither was provided"))
			}
		}
		errs = append(errs, limitRangeOrder(item, ip)...)
	}
	return errs
}

// limitRangeOrder checks that an item's bounds are in order: min <= default
// request <= default <= max, and a ratio of at least 1.
func limitRangeOrder(item *LimitRangeItem, ip *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[ResourceName]bool{}
	for _, l := range []ResourceList{item.Max, item.Min, item.Default, item.DefaultRequest, item.MaxLimitRequestRatio} {
		for k := range l {
			names[k] = true
		}
	}
	for _, k := range sortedKeys(names) {
		minQ, hasMin := item.Min[k]
		maxQ, hasMax := item.Max[k]
		def, hasDef := item.Default[k]
		defReq, hasDefReq := item.DefaultRequest[k]
		ratio, hasRatio := item.MaxLimitRequestRatio[k]
		bad := func(list string, shown Quantity, msg string) {
			errs = append(errs, field.Invalid(ip.Child(list).Key(string(k)), shown.String(), msg))
		}
		if hasMin && hasMax && minQ.Cmp(maxQ) > 0 {
			bad("min", minQ, fmt.Sprintf("min value %s is greater than max value %s", minQ.String(), maxQ.String()))
		}
		if hasDefReq && hasMin && minQ.Cmp(defReq) > 0 {
			bad("defaultRequest", defReq, fmt.Sprintf("min value %s is greater than default request value %s", minQ.String(), defReq.String()))
		}
		if hasDefReq && hasMax && defReq.Cmp(maxQ) > 0 {
			bad("defaultRequest", defReq, fmt.Sprintf("default request value %s is greater than max value %s", defReq.String(), maxQ.String()))
		}
		if hasDefReq && hasDef && defReq.Cmp(def) > 0 {
			bad("defaultRequest", defReq, fmt.Sprintf("default request value %s is greater than default limit value %s", defReq.String(), def.String()))
		}
		if hasDef && hasMin && minQ.Cmp(def) > 0 {
			bad("default", minQ, fmt.Sprintf("min value %s is greater than default value %s", minQ.String(), def.String()))
		}
		if hasDef && hasMax && def.Cmp(maxQ) > 0 {
			bad("default", maxQ, fmt.Sprintf("default value %s is greater than max value %s", def.String(), maxQ.String()))
		}
		if hasRatio && ratio.Cmp(*resource.NewQuantity(1, resource.DecimalSI)) < 0 {
			bad("maxLimitRequestRatio", ratio, fmt.Sprintf("ratio %s is less than 1", ratio.String()))
		}
	}
	return errs
}

// defaultLimitRange is Kubernetes' defaulting of a Container item: a
// missing default limit is the max, a missing default request the default
// limit, or else the min.
func defaultLimitRange(lr *LimitRange) {
	for i := range lr.Spec.Limits {
		item := &lr.Spec.Limits[i]
		if item.Type != LimitTypeContainer {
			continue
		}
		if item.Default == nil {
			item.Default = ResourceList{}
		}
		if item.DefaultRequest == nil {
			item.DefaultRequest = ResourceList{}
		}
		for k, v := range item.Max {
			if _, ok := item.Default[k]; !ok {
				item.Default[k] = v.DeepCopy()
			}
		}
		for k, v := range item.Default {
			if _, ok := item.DefaultRequest[k]; !ok {
				item.DefaultRequest[k] = v.DeepCopy()
			}
		}
		for k, v := range item.Min {
			if _, ok := item.DefaultRequest[k]; !ok {
				item.DefaultRequest[k] = v.DeepCopy()
			}
		}
	}
}

func validateResourceQuota(q *ResourceQuota) field.ErrorList {
	var errs field.ErrorList
	for _, l := range []struct {
		path *field.Path
		list ResourceList
	}{{field.NewPath("spec", "hard"), q.Spec.Hard}, {field.NewPath("status", "hard"), q.Status.Hard}, {field.NewPath("status", "used"), q.Status.Used}} {
		for _, k := range sortedKeys(l.list) {
			kp := l.path.Key(string(k))
			for _, msg := range validation.IsQualifiedName(string(k)) {
				errs = append(errs, field.Invalid(kp, k, msg))
			}
			if v := l.list[k]; v.Sign() < 0 {
				errs = append(errs, field.Invalid(kp, v.String(), "must be greater than or equal to 0"))
			}
		}
	}
	scopes := []string{"Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass", "CrossNamespacePodAffinity", "VolumeAttributesClass"}
	for i, s := range q.Spec.Scopes {
		errs = append(errs, validateEnum(field.NewPath("spec", "scopes").Index(i), string(s), scopes...)...)
	}
	if sel := q.Spec.ScopeSelector; sel != nil {
		for i, r := range sel.MatchExpressions {
			rp := field.NewPath("spec", "scopeSelector", "matchExpressions").Index(i)
			errs = append(errs, validateEnum(rp.Child("scopeName"), string(r.ScopeName), scopes...)...)
			errs = append(errs, validateEnum(rp.Child("operator"), string(r.Operator), "In", "NotIn", "Exists", "DoesNotExist")...)
		}
	}
	return errs
}

// Priorities as Kubernetes bounds them: user classes up to
// HighestUserDefinablePriority, the two system classes above it.
const (
	HighestUserDefinablePriority = 1000000000
	SystemCriticalPriority       = 2 * HighestUserDefinablePriority
)

// SystemPriorityClasses are the classes every cluster has.
func SystemPriorityClasses() []*PriorityClass {
	mk := func(name string, value int32, desc string) *PriorityClass {
		return &PriorityClass{TypeMeta: TypeMeta{APIVersion: "scheduling.k8s.io/v1", Kind: "PriorityClass"},
			ObjectMeta: ObjectMeta{Name: name}, Value: value, Description: desc}
	}
	return []*PriorityClass{
		mk("system-cluster-critical", SystemCriticalPriority, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
		mk("system-node-critical", SystemCriticalPriority+1000, "Used for system critical pods that must not be moved from their current node."),
	}
}

func defaultPriorityClass(pc *PriorityClass) {
	if pc.PreemptionPolicy == nil {
		p := PreemptLowerPriority
		pc.PreemptionPolicy = &p
	}
}

func validatePriorityClass(pc *PriorityClass) field.ErrorList {
	var errs field.ErrorList
	system := false
	for _, s := range SystemPriorityClasses() {
		if s.Name == pc.Name {
			system = true
			if pc.Value != s.Value {
				errs = append(errs, field.Forbidden(field.NewPath("metadata", "name"), fmt.Sprintf("priority class %q is a system class: its value must be %d", pc.Name, s.Value)))
			}
		}
	}
	if !system {
		if strings.HasPrefix(pc.Name, "system-") {
			errs = append(errs, field.Forbidden(field.NewPath("metadata", "name"), "priority class names with 'system-' prefix are reserved"))
		}
		if pc.Value > HighestUserDefinablePriority {
			errs = append(errs, field.Forbidden(field.NewPath("value"), fmt.Sprintf("maximum allowed value of a user defined priority is %v", HighestUserDefinablePriority)))
		}
	}
	if pc.PreemptionPolicy != nil {
		errs = append(errs, validateEnum(field.NewPath("preemptionPolicy"), *pc.PreemptionPolicy, PreemptLowerPriority, PreemptNever)...)
	}
	return errs
}

func validateEndpointSlice(s *EndpointSlice) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateEnum(field.NewPath("addressType"), s.AddressType, "IPv4", "IPv6", "FQDN")...)
	for i, e := range s.Endpoints {
		ep := field.NewPath("endpoints").Index(i)
		if len(e.Addresses) == 0 || len(e.Addresses) > 100 {
			errs = append(errs, field.Invalid(ep.Child("addresses"), len(e.Addresses), "must contain at least 1 and at most 100 addresses"))
		}
		if s.AddressType != "FQDN" {
			for j, a := range e.Addresses {
				errs = append(errs, validateIP(a, ep.Child("addresses").Index(j))...)
			}
		}
		if e.Hostname != nil {
			for _, msg := range validation.IsDNS1123Label(*e.Hostname) {
				errs = append(errs, field.Invalid(ep.Child("hostname"), *e.Hostname, msg))
			}
		}
	}
	for i, p := range s.Ports {
		pp := field.NewPath("ports").Index(i)
		if p.Name != nil && *p.Name != "" {
			for _, msg := range validation.IsDNS1123Label(*p.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), *p.Name, msg))
			}
		}
		if p.Protocol != nil {
			errs = append(errs, validateEnum(pp.Child("protocol"), *p.Protocol, ProtocolTCP, ProtocolUDP, corev1.ProtocolSCTP)...)
		}
	}
	return errs
}
