package workload

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// DownwardAPIVolumeFile is one file of a downwardAPI volume or projection:
// a fieldRef or a resourceFieldRef, at a path, with a mode.
type DownwardAPIVolumeFile = corev1.DownwardAPIVolumeFile

// The downward API: what a pod learns about itself, in environment
// variables and in downwardAPI volume files. The node agent and package
// volumes both read values here, so that a variable and a file show the
// same thing, in the kubelet's format.

// PodFieldValue returns the value of a fieldRef path of p: metadata.name,
// metadata.namespace, metadata.uid, metadata.labels and
// metadata.annotations (every pair on its own line, `key="value"`, the
// value quoted as Go quotes it, sorted by key), one label or annotation
// (metadata.labels['KEY']: its value, "" when it has none),
// spec.nodeName, spec.serviceAccountName, status.hostIP, status.hostIPs
// and status.podIPs (comma-separated; hostIPs is hostIP when the status
// lists none), status.podIP. The caller fills p.Status's addresses with
// what the node knows when the stored status may lag (a container created
// before the first status write). Another path is an error wrapping
// errdefs.ErrInvalid. Which paths an env var or a volume may use is
// validation's business, not this function's.
func PodFieldValue(p *Pod, fieldPath string) (string, error) {
	if base, key, ok := splitFieldSubscript(fieldPath); ok {
		switch base {
		case "metadata.labels":
			return p.ObjectMeta.Labels[key], nil
		case "metadata.annotations":
			return p.ObjectMeta.Annotations[key], nil
		}
	}
	switch fieldPath {
	case "metadata.name":
		return p.ObjectMeta.Name, nil
	case "metadata.namespace":
		return p.ObjectMeta.Namespace, nil
	case "metadata.uid":
		return string(p.ObjectMeta.UID), nil
	case "metadata.labels":
		return formatFieldMap(p.ObjectMeta.Labels), nil
	case "metadata.annotations":
		return formatFieldMap(p.ObjectMeta.Annotations), nil
	case "spec.nodeName":
		return p.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return p.Spec.ServiceAccountName, nil
	case "status.hostIP":
		return p.Status.HostIP, nil
	case "status.hostIPs":
		if len(p.Status.HostIPs) == 0 {
			return p.Status.HostIP, nil
		}
		ips := make([]string, len(p.Status.HostIPs))
		for i, ip := range p.Status.HostIPs {
			ips[i] = ip.IP
		}
		return strings.Join(ips, ","), nil
	case "status.podIP":
		return p.Status.PodIP, nil
	case "status.podIPs":
		ips := make([]string, len(p.Status.PodIPs))
		for i, ip := range p.Status.PodIPs {
			ips[i] = ip.IP
		}
		return strings.Join(ips, ","), nil
	}
	return "", fmt.Errorf("fieldRef %q: unsupported field path: %w", fieldPath, errdefs.ErrInvalid)
}

// formatFieldMap writes labels or annotations as the kubelet does: one
// `key="value"` line each, sorted by key, no newline after the last.
func formatFieldMap(m map[string]string) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k + "=" + strconv.Quote(m[k]))
	}
	return b.String()
}

// ContainerResourceValue returns the value of a resourceFieldRef of the
// container (app or init) named containerName in p, as the kubelet gives
// it: resource is limits.R or requests.R, R one of cpu, memory,
// ephemeral-storage or hugepages-SIZE; the amount is divided by divisor
// (zero: 1) and rounded up, cpu counted in thousandths (a divisor of "1"
// gives whole cores, "1m" millicores), the others in bytes. A cpu, memory
// or ephemeral-storage limit the container leaves out (or sets to zero) is
// allocatable's, the node's: what the container may use at most. A
// missing container is ErrNotFound; another resource, or a divisor that is
// not positive, ErrInvalid.
func ContainerResourceValue(p *Pod, containerName, resource string, divisor Quantity, allocatable ResourceList) (string, error) {
	c := podContainer(p, containerName)
	if c == nil {
		return "", fmt.Errorf("resourceFieldRef: container %s not found: %w", containerName, errdefs.ErrNotFound)
	}
	kind, name, _ := strings.Cut(resource, ".")
	rn := ResourceName(name)
	nodeBound := rn == ResourceCPU || rn == ResourceMemory || rn == corev1.ResourceEphemeralStorage
	if kind != "limits" && kind != "requests" || !nodeBound && !strings.HasPrefix(name, corev1.ResourceHugePagesPrefix) {
		return "", fmt.Errorf("resourceFieldRef: unsupported container resource %q: %w", resource, errdefs.ErrInvalid)
	}
	q := c.Resources.Requests[rn]
	if kind == "limits" {
		q = c.Resources.Limits[rn]
		if a, ok := allocatable[rn]; ok && nodeBound && q.IsZero() {
			q = a
		}
	}
	if divisor.IsZero() {
		divisor = NewQuantity(1, DecimalSI)
	}
	n, d := q.Value(), divisor.Value()
	if rn == ResourceCPU {
		n, d = q.MilliValue(), divisor.MilliValue()
	}
	if divisor.Sign() <= 0 || d <= 0 {
		return "", fmt.Errorf("resourceFieldRef %s: divisor %s: %w", resource, divisor.String(), errdefs.ErrInvalid)
	}
	v := n / d
	if n%d > 0 {
		v++
	}
	return strconv.FormatInt(v, 10), nil
}

// podContainer is p's app or init container of that name, or nil.
func podContainer(p *Pod, name string) *Container {
	for _, cs := range [][]Container{p.Spec.Containers, p.Spec.InitContainers} {
		for i := range cs {
			if cs[i].Name == name {
				return &cs[i]
			}
		}
	}
	return nil
}
