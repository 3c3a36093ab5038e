package workload

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Admission: what kube-apiserver's admission plugins do to a new object
// before it is stored, as pure functions over the namespace's policy
// objects. LimitRanger fills a pod's missing requests and limits and checks
// its bounds; Priority turns a pod's priorityClassName into its priority;
// ResourceQuota counts what the object adds against the namespace's
// quotas. A refusal is an *AdmissionError, which the API answers with 403
// Forbidden.

// Quota scopes, as Kubernetes names them.
type (
	ScopedResourceSelectorRequirement = corev1.ScopedResourceSelectorRequirement
	ResourceQuotaScope                = corev1.ResourceQuotaScope
	ScopeSelectorOperator             = corev1.ScopeSelectorOperator
)

const (
	ScopeSelectorOpIn           = corev1.ScopeSelectorOpIn
	ScopeSelectorOpNotIn        = corev1.ScopeSelectorOpNotIn
	ScopeSelectorOpExists       = corev1.ScopeSelectorOpExists
	ScopeSelectorOpDoesNotExist = corev1.ScopeSelectorOpDoesNotExist
)

// AdmissionError is an admission plugin's refusal of an object.
type AdmissionError struct{ Reasons []string }

func (e *AdmissionError) Error() string {
	if len(e.Reasons) == 1 {
		return e.Reasons[0]
	}
	return "[" + strings.Join(e.Reasons, ", ") + "]"
}

// AnnotationLimitRanger says which requests and limits the LimitRanger
// filled in, as Kubernetes annotates the pod.
const AnnotationLimitRanger = "kubernetes.io/limit-ranger"

// ApplyLimitRanges is Kubernetes' LimitRanger for a new pod: each
// container (and init container) gets the default requests and limits of
// the namespace's Container items for what it leaves out, and then every
// Container and Pod item's min, max and maxLimitRequestRatio must hold.
func ApplyLimitRanges(p *Pod, ranges []*LimitRange) error {
	var notes, reasons []string
	for _, lr := range ranges {
		for _, item := range lr.Spec.Limits {
			if item.Type != LimitTypeContainer {
				continue
			}
			notes = append(notes, fillContainers(p.Spec.InitContainers, item, "init container")...)
			notes = append(notes, fillContainers(p.Spec.Containers, item, "container")...)
		}
	}
	if len(notes) > 0 {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[AnnotationLimitRanger] = "LimitRanger plugin set: " + strings.Join(notes, "; ")
	}
	for _, lr := range ranges {
		for _, item := range lr.Spec.Limits {
			switch item.Type {
			case LimitTypeContainer:
				for _, cs := range [][]Container{p.Spec.InitContainers, p.Spec.Containers} {
					for i := range cs {
						reasons = append(reasons, checkBounds(item, "Container", cs[i].Resources.Requests, cs[i].Resources.Limits)...)
					}
				}
			case LimitTypePod:
				reasons = append(reasons, checkBounds(item, "Pod", PodResources(p, true), PodResources(p, false))...)
			}
		}
	}
	if len(reasons) > 0 {
		return &AdmissionError{Reasons: reasons}
	}
	return nil
}

// fillMissing copies into *into each resource of defaults it lacks, making
// the list when it has none, and returns the names it set, sorted.
func fillMissing(into *ResourceList, defaults ResourceList) []string {
	var set []string
	for _, name := range sortedKeys(defaults) {
		if _, ok := (*into)[name]; !ok {
			if *into == nil {
				*into = ResourceList{}
			}
			(*into)[name] = defaults[name].DeepCopy()
			set = append(set, string(name))
		}
	}
	return set
}

// fillContainers sets the item's defaults where containers leave them out
// and says what it set ("cpu, memory request for container web").
func fillContainers(cs []Container, item LimitRangeItem, what string) []string {
	var notes []string
	for i := range cs {
		r := &cs[i].Resources
		lims := fillMissing(&r.Limits, item.Default)
		reqs := fillMissing(&r.Requests, item.DefaultRequest)
		if len(reqs) > 0 {
			notes = append(notes, fmt.Sprintf("%s request for %s %s", strings.Join(reqs, ", "), what, cs[i].Name))
		}
		if len(lims) > 0 {
			notes = append(notes, fmt.Sprintf("%s limit for %s %s", strings.Join(lims, ", "), what, cs[i].Name))
		}
	}
	return notes
}

// checkBounds is LimitRanger's min, max and ratio checks of one container
// or pod, in Kubernetes' words.
func checkBounds(item LimitRangeItem, what string, req, lim ResourceList) []string {
	var out []string
	for _, name := range sortedKeys(item.Min) {
		min := item.Min[name]
		r, hasReq := req[name]
		l, hasLim := lim[name]
		switch {
		case !hasReq:
			out = append(out, fmt.Sprintf("minimum %s usage per %s is %s.  No request is specified", name, what, min.String()))
		case r.Cmp(min) < 0:
			out = append(out, fmt.Sprintf("minimum %s usage per %s is %s, but request is %s", name, what, min.String(), r.String()))
		case hasLim && l.Cmp(min) < 0:
			out = append(out, fmt.Sprintf("minimum %s usage per %s is %s, but limit is %s", name, what, min.String(), l.String()))
		}
	}
	for _, name := range sortedKeys(item.Max) {
		max := item.Max[name]
		r, hasReq := req[name]
		l, hasLim := lim[name]
		switch {
		case !hasLim:
			out = append(out, fmt.Sprintf("maximum %s usage per %s is %s.  No limit is specified", name, what, max.String()))
		case l.Cmp(max) > 0:
			out = append(out, fmt.Sprintf("maximum %s usage per %s is %s, but limit is %s", name, what, max.String(), l.String()))
		case hasReq && r.Cmp(max) > 0:
			out = append(out, fmt.Sprintf("maximum %s usage per %s is %s, but request is %s", name, what, max.String(), r.String()))
		}
	}
	for _, name := range sortedKeys(item.MaxLimitRequestRatio) {
		ratio := item.MaxLimitRequestRatio[name]
		r, l := req[name], lim[name]
		switch {
		case r.IsZero():
			out = append(out, fmt.Sprintf("%s max limit to request ratio per %s is %s, but no request is specified or request is 0", name, what, ratio.String()))
		case l.IsZero():
			out = append(out, fmt.Sprintf("%s max limit to request ratio per %s is %s, but no limit is specified or limit is 0", name, what, ratio.String()))
		default:
			got := float64(l.MilliValue()) / float64(r.MilliValue())
			if got > float64(ratio.MilliValue())/1000 {
				out = append(out, fmt.Sprintf("%s max limit to request ratio per %s is %s, but provided ratio is %f", name, what, ratio.String(), got))
			}
		}
	}
	return out
}

// PodResources sums a pod's requests (or limits) of every resource, as
// Kubernetes counts a pod: its containers and sidecars (init containers
// with restartPolicy Always) added up, or a regular init container's own
// amount where that is more (they run one at a time, before the others).
// A request left out counts as the limit, as Kubernetes defaults it.
func PodResources(p *Pod, requests bool) ResourceList {
	of := func(c *Container) ResourceList {
		if !requests {
			return c.Resources.Limits
		}
		out := ResourceList{}
		for k, v := range c.Resources.Limits {
			out[k] = v
		}
		for k, v := range c.Resources.Requests {
			out[k] = v
		}
		return out
	}
	sum := ResourceList{}
	add := func(l ResourceList) {
		for k, v := range l {
			q := sum[k]
			q.Add(v)
			sum[k] = q
		}
	}
	for i := range p.Spec.Containers {
		add(of(&p.Spec.Containers[i]))
	}
	sidecars := ResourceList{}
	for i := range p.Spec.InitContainers {
		c := &p.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(of(c))
			for k, v := range of(c) {
				q := sidecars[k]
				q.Add(v)
				sidecars[k] = q
			}
			continue
		}
		// A regular init container runs beside the sidecars started
		// before it.
		for k, v := range of(c) {
			v = v.DeepCopy()
			v.Add(sidecars[k])
			if v.Cmp(sum[k]) > 0 {
				sum[k] = v
			}
		}
	}
	return sum
}

// ResolvePriority is Kubernetes' Priority admission for a new pod: a named
// PriorityClass gives the pod its priority and preemption policy, no name
// takes the class marked globalDefault (or priority 0). A class that does
// not exist, or a priority set by hand that differs from the class's, is
// refused.
func ResolvePriority(p *Pod, classes []*PriorityClass) error {
	s := &p.Spec
	var class *PriorityClass
	if s.PriorityClassName == "" {
		for _, c := range classes {
			if c.GlobalDefault {
				class = c
			}
		}
		if class != nil {
			s.PriorityClassName = class.Name
		}
	} else {
		i := slices.IndexFunc(classes, func(c *PriorityClass) bool { return c.Name == s.PriorityClassName })
		if i < 0 {
			return &AdmissionError{Reasons: []string{fmt.Sprintf("no PriorityClass with name %s was found", s.PriorityClassName)}}
		}
		class = classes[i]
	}
	value := int32(0)
	policy := PreemptLowerPriority
	if class != nil {
		value = class.Value
		if class.PreemptionPolicy != nil {
			policy = *class.PreemptionPolicy
		}
	}
	if s.Priority != nil && *s.Priority != value {
		return &AdmissionError{Reasons: []string{fmt.Sprintf("the integer value of priority (%d) must not be provided in pod spec; priority admission controller computed %d from the given PriorityClass name", *s.Priority, value)}}
	}
	s.Priority = &value
	if s.PreemptionPolicy == nil {
		s.PreemptionPolicy = &policy
	}
	return nil
}

// QuotaUsage is what one object counts against a ResourceQuota: object
// counts (pods, services, configmaps, count/deployments.apps...) and, for
// a pod that has not finished, its requests and limits; for a claim its
// requested storage. Names are the quota's ("requests.cpu", "cpu",
// "limits.memory", "services.nodeports"...).
func QuotaUsage(o Object, info KindInfo) ResourceList {
	one := func() Quantity { return *resource.NewQuantity(1, resource.DecimalSI) }
	out := ResourceList{}
	group := ""
	if i := strings.Index(info.APIVersion, "/"); i >= 0 {
		group = "." + info.APIVersion[:i]
	}
	out[ResourceName("count/"+info.Plural+group)] = one()
	switch o := o.(type) {
	case *Pod:
		if o.Status.Phase == PodSucceeded || o.Status.Phase == PodFailed {
			return ResourceList{}
		}
		out["pods"] = one()
		for k, v := range PodResources(o, true) {
			out[ResourceName("requests."+string(k))] = v
			if k == ResourceCPU || k == ResourceMemory || k == corev1.ResourceEphemeralStorage {
				out[k] = v
			}
		}
		for k, v := range PodResources(o, false) {
			out[ResourceName("limits."+string(k))] = v
		}
	case *Service:
		out["services"] = one()
		switch o.Spec.Type {
		case ServiceTypeLoadBalancer:
			out["services.loadbalancers"] = one()
		}
		if HasNodePorts(o) {
			out["services.nodeports"] = *resource.NewQuantity(int64(len(o.Spec.Ports)), resource.DecimalSI)
		}
	case *ConfigMap:
		out["configmaps"] = one()
	case *Secret:
		out["secrets"] = one()
	case *PersistentVolumeClaim:
		out["persistentvolumeclaims"] = one()
		if q, ok := o.Spec.Resources.Requests[ResourceStorage]; ok {
			out["requests.storage"] = q
			if c := ClaimStorageClass(o); c != "" {
				out[ResourceName(c+".storageclass.storage.k8s.io/requests.storage")] = q
				out[ResourceName(c+".storageclass.storage.k8s.io/persistentvolumeclaims")] = one()
			}
		}
	case *ResourceQuota:
		out["resourcequotas"] = one()
	}
	return out
}

// QuotaMatches says whether a quota's scopes take in o (a quota with
// scopes counts pods only).
func QuotaMatches(q *ResourceQuota, o Object) bool {
	scopes := q.Spec.Scopes
	var exprs []ScopedResourceSelectorRequirement
	if q.Spec.ScopeSelector != nil {
		exprs = q.Spec.ScopeSelector.MatchExpressions
	}
	if len(scopes) == 0 && len(exprs) == 0 {
		return true
	}
	p, ok := o.(*Pod)
	if !ok {
		return false
	}
	for _, s := range scopes {
		if !podInScope(p, s, "", nil) {
			return false
		}
	}
	for _, e := range exprs {
		if !podInScope(p, e.ScopeName, e.Operator, e.Values) {
			return false
		}
	}
	return true
}

func podInScope(p *Pod, scope ResourceQuotaScope, op ScopeSelectorOperator, values []string) bool {
	in := func(b bool) bool {
		if op == ScopeSelectorOpDoesNotExist || op == ScopeSelectorOpNotIn {
			return !b
		}
		return b
	}
	switch scope {
	case "Terminating":
		return in(p.Spec.ActiveDeadlineSeconds != nil)
	case "NotTerminating":
		return in(p.Spec.ActiveDeadlineSeconds == nil)
	case "BestEffort":
		return in(len(PodResources(p, true)) == 0 && len(PodResources(p, false)) == 0)
	case "NotBestEffort":
		return in(len(PodResources(p, true)) > 0 || len(PodResources(p, false)) > 0)
	case "PriorityClass":
		switch op {
		case ScopeSelectorOpExists, "":
			return p.Spec.PriorityClassName != ""
		case ScopeSelectorOpDoesNotExist:
			return p.Spec.PriorityClassName == ""
		}
		return in(slices.Contains(values, p.Spec.PriorityClassName))
	}
	return true
}

// ChargeQuota adds an object's usage to a quota's status.used, or refuses
// it, in Kubernetes' words, when that goes over status.hard for any
// resource the quota tracks. It returns whether the quota changed.
func ChargeQuota(q *ResourceQuota, usage ResourceList) (bool, error) {
	hard := q.Status.Hard
	if len(hard) == 0 {
		hard = q.Spec.Hard
	}
	var requested, used, limited []string
	next := ResourceList{}
	for k, v := range q.Status.Used {
		next[k] = v.DeepCopy()
	}
	changed := false
	for _, name := range sortedKeys(hard) {
		add, ok := usage[name]
		if !ok {
			continue
		}
		cur := next[name]
		sum := cur.DeepCopy()
		sum.Add(add)
		if sum.Cmp(hard[name]) > 0 {
			h := hard[name]
			requested = append(requested, fmt.Sprintf("%s=%s", name, add.String()))
			used = append(used, fmt.Sprintf("%s=%s", name, cur.String()))
			limited = append(limited, fmt.Sprintf("%s=%s", name, h.String()))
		}
		next[name] = sum
		changed = true
	}
	if len(requested) > 0 {
		return false, &AdmissionError{Reasons: []string{fmt.Sprintf("exceeded quota: %s, requested: %s, used: %s, limited: %s",
			q.Name, strings.Join(requested, ","), strings.Join(used, ","), strings.Join(limited, ","))}}
	}
	if changed {
		q.Status.Used = next
		if len(q.Status.Hard) == 0 {
			q.Status.Hard = q.Spec.Hard.DeepCopy()
		}
	}
	return changed, nil
}

// QuotaStatus is a quota's status computed from the objects of its
// namespace: hard from the spec, used summed over the objects its scopes
// take in, for the resources it tracks.
func QuotaStatus(q *ResourceQuota, objects []Object, infos []KindInfo) ResourceQuotaStatus {
	st := ResourceQuotaStatus{Hard: q.Spec.Hard.DeepCopy(), Used: ResourceList{}}
	for name := range q.Spec.Hard {
		st.Used[name] = *resource.NewQuantity(0, resource.DecimalSI)
	}
	for i, o := range objects {
		if !QuotaMatches(q, o) {
			continue
		}
		for k, v := range QuotaUsage(o, infos[i]) {
			if cur, ok := st.Used[k]; ok {
				cur.Add(v)
				st.Used[k] = cur
			}
		}
	}
	return st
}
