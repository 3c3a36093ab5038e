package workload

import (
	"maps"
	"math"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ComputeResources is an amount of every resource the scheduler counts:
// what a pod requests, what a node offers or what its pods hold. The zero
// value is nothing.
type ComputeResources struct {
	MilliCPU         int64 // thousandths of a core
	Memory           int64 // bytes
	EphemeralStorage int64 // bytes
	// Scalar is every other resource that is counted, by name: extended
	// resources (nvidia.com/gpu: whole devices), hugepages-SIZE (bytes),
	// and Kubernetes' own prefixed ones (NAME.kubernetes.io/...,
	// kubernetes.io/...). Nil when there are none; no entry is 0.
	Scalar map[ResourceName]int64
}

// IsScalarResource reports whether name is counted in
// ComputeResources.Scalar, as Kubernetes' scalar resources: huge pages,
// attachable volumes and every domain-prefixed name. cpu, memory,
// ephemeral-storage and pods are not, nor other unprefixed names (storage).
func IsScalarResource(name ResourceName) bool {
	s := string(name)
	return strings.Contains(s, "/") || strings.HasPrefix(s, corev1.ResourceHugePagesPrefix) ||
		strings.HasPrefix(s, corev1.ResourceAttachableVolumesPrefix)
}

// ResourcesOf counts a resource list (a node's allocatable, a pod's
// overhead): cpu in millicores, the others rounded up to whole units;
// pods and names that are not counted are left out, and so are amounts
// below 0.
func ResourcesOf(list ResourceList) ComputeResources {
	var r ComputeResources
	for name, q := range list {
		r.set(name, q)
	}
	return r
}

// Get is the amount of name: millicores for cpu, bytes or units for the
// others.
func (r ComputeResources) Get(name ResourceName) int64 {
	switch name {
	case ResourceCPU:
		return r.MilliCPU
	case ResourceMemory:
		return r.Memory
	case corev1.ResourceEphemeralStorage:
		return r.EphemeralStorage
	}
	return r.Scalar[name]
}

// Names is the resources r holds some of, sorted.
func (r ComputeResources) Names() []ResourceName {
	var names []ResourceName
	for _, n := range []ResourceName{ResourceCPU, ResourceMemory, corev1.ResourceEphemeralStorage} {
		if r.Get(n) != 0 {
			names = append(names, n)
		}
	}
	for n := range r.Scalar {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Quantity is r's amount of name as Kubernetes writes it: millicores for
// cpu ("750m"), binary units for memory, ephemeral storage and huge pages
// ("128Mi"), a plain number otherwise.
func (r ComputeResources) Quantity(name ResourceName) Quantity {
	v := r.Get(name)
	switch {
	case name == ResourceCPU:
		return NewMilliQuantity(v, DecimalSI)
	case name == ResourceMemory || name == corev1.ResourceEphemeralStorage ||
		strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix):
		return NewQuantity(v, BinarySI)
	}
	return NewQuantity(v, DecimalSI)
}

// List is r as a resource list of its non-zero amounts.
func (r ComputeResources) List() ResourceList {
	l := ResourceList{}
	for _, n := range r.Names() {
		l[n] = r.Quantity(n)
	}
	return l
}

// set records q as r's amount of name, if name is counted.
func (r *ComputeResources) set(name ResourceName, q Quantity) {
	switch name {
	case ResourceCPU:
		r.MilliCPU = max(0, MilliValueOf(q))
	case ResourceMemory:
		r.Memory = max(0, ValueOf(q))
	case corev1.ResourceEphemeralStorage:
		r.EphemeralStorage = max(0, ValueOf(q))
	default:
		if v := ValueOf(q); v > 0 && IsScalarResource(name) {
			if r.Scalar == nil {
				r.Scalar = map[ResourceName]int64{}
			}
			r.Scalar[name] = v
		}
	}
}

// Add adds o to r; sums stop at the largest int64.
func (r *ComputeResources) Add(o ComputeResources) {
	r.MilliCPU = addSaturating(r.MilliCPU, o.MilliCPU)
	r.Memory = addSaturating(r.Memory, o.Memory)
	r.EphemeralStorage = addSaturating(r.EphemeralStorage, o.EphemeralStorage)
	for n, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = make(map[ResourceName]int64, len(o.Scalar))
		}
		r.Scalar[n] = addSaturating(r.Scalar[n], v)
	}
}

// atLeast raises each of r's amounts to o's where o's is more.
func (r *ComputeResources) atLeast(o ComputeResources) {
	r.MilliCPU = max(r.MilliCPU, o.MilliCPU)
	r.Memory = max(r.Memory, o.Memory)
	r.EphemeralStorage = max(r.EphemeralStorage, o.EphemeralStorage)
	for n, v := range o.Scalar {
		if v > r.Scalar[n] {
			if r.Scalar == nil {
				r.Scalar = make(map[ResourceName]int64, len(o.Scalar))
			}
			r.Scalar[n] = v
		}
	}
}

// addOne adds v of name, a resource Get knows.
func (r *ComputeResources) addOne(name ResourceName, v int64) {
	switch name {
	case ResourceCPU:
		r.MilliCPU = addSaturating(r.MilliCPU, v)
	case ResourceMemory:
		r.Memory = addSaturating(r.Memory, v)
	case corev1.ResourceEphemeralStorage:
		r.EphemeralStorage = addSaturating(r.EphemeralStorage, v)
	default:
		if v > 0 {
			if r.Scalar == nil {
				r.Scalar = map[ResourceName]int64{}
			}
			r.Scalar[name] = addSaturating(r.Scalar[name], v)
		}
	}
}

// clone is r with a map of its own.
func (r ComputeResources) clone() ComputeResources {
	r.Scalar = maps.Clone(r.Scalar)
	return r
}

// PodRequests returns what the scheduler reserves for p, of every
// resource, as Kubernetes computes it (resourcehelper.PodRequests): the sum
// of its containers' requests, or the most any one init container needs
// when that is more, plus the pod's overhead. Init containers run one at a
// time before the others, but a sidecar (an init container with
// restartPolicy Always) keeps running: it adds to the sum, and to what
// every init container after it needs. A container's request left out
// counts as its limit, as Defaults makes it (so an extended resource's
// limit alone is its request). Sums stop at the largest int64.
func PodRequests(p *Pod) ComputeResources {
	r := aggregate(p, containerRequests)
	if len(p.Spec.Overhead) > 0 {
		r.Add(ResourcesOf(p.Spec.Overhead))
	}
	return r
}

// PodLimits is the pod's limits added up as PodRequests adds up requests
// (Kubernetes' resourcehelper.PodLimits, which kubectl describe node
// sums): a container without a limit of a resource adds 0 of it, and the
// overhead adds only to the resources some container limits.
func PodLimits(p *Pod) ComputeResources {
	r := aggregate(p, func(c *Container) ComputeResources { return ResourcesOf(c.Resources.Limits) })
	if len(p.Spec.Overhead) > 0 {
		o := ResourcesOf(p.Spec.Overhead)
		for _, n := range r.Names() {
			r.addOne(n, o.Get(n))
		}
	}
	return r
}

// aggregate adds up each container's amount (of) as Kubernetes does:
// the containers and sidecars summed, or the most an init container
// needs (with the sidecars started before it) when that is more.
func aggregate(p *Pod, of func(*Container) ComputeResources) ComputeResources {
	var sum ComputeResources
	for i := range p.Spec.Containers {
		sum.Add(of(&p.Spec.Containers[i]))
	}
	if len(p.Spec.InitContainers) == 0 {
		return sum
	}
	var sidecars, inits ComputeResources
	for i := range p.Spec.InitContainers {
		c := &p.Spec.InitContainers[i]
		r := of(c)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sum.Add(r)
			sidecars.Add(r)
			r = sidecars.clone()
		} else {
			r.Add(sidecars)
		}
		inits.atLeast(r)
	}
	sum.atLeast(inits)
	return sum
}

func containerRequests(c *Container) ComputeResources {
	var r ComputeResources
	for name, q := range c.Resources.Requests {
		r.set(name, q)
	}
	for name, q := range c.Resources.Limits {
		if _, ok := c.Resources.Requests[name]; !ok {
			r.set(name, q)
		}
	}
	return r
}

func addSaturating(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
