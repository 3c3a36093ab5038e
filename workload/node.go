package workload

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/shoalproject/shoal/internal/errdefs"
)

func validateNode(n *Node) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if n.Spec.PodCIDR != "" {
		errs = append(errs, validateCIDR(n.Spec.PodCIDR, spec.Child("podCIDR"))...)
	}
	cidrs := spec.Child("podCIDRs")
	if len(n.Spec.PodCIDRs) > 2 {
		errs = append(errs, field.TooMany(cidrs, len(n.Spec.PodCIDRs), 2))
	}
	for i, c := range n.Spec.PodCIDRs {
		errs = append(errs, validateCIDR(c, cidrs.Index(i))...)
	}
	if n.Spec.PodCIDR != "" && len(n.Spec.PodCIDRs) > 0 && n.Spec.PodCIDRs[0] != n.Spec.PodCIDR {
		errs = append(errs, field.Invalid(cidrs.Index(0), n.Spec.PodCIDRs[0], "must match spec.podCIDR"))
	}

	status := field.NewPath("status")
	errs = append(errs, validateNodeResources(n.Status.Capacity, status.Child("capacity"))...)
	errs = append(errs, validateNodeResources(n.Status.Allocatable, status.Child("allocatable"))...)
	for i, c := range n.Status.Conditions {
		cp := status.Child("conditions").Index(i)
		if c.Type == "" {
			errs = append(errs, field.Required(cp.Child("type"), ""))
		}
		errs = append(errs, validateEnum(cp.Child("status"), c.Status, ConditionTrue, ConditionFalse, ConditionUnknown)...)
	}
	for i, a := range n.Status.Addresses {
		ap := status.Child("addresses").Index(i)
		errs = append(errs, validateEnum(ap.Child("type"), a.Type, NodeInternalIP, NodeExternalIP, NodeHostName)...)
		switch {
		case a.Address == "":
			errs = append(errs, field.Required(ap.Child("address"), ""))
		case a.Type == NodeInternalIP || a.Type == NodeExternalIP:
			errs = append(errs, validateIP(a.Address, ap.Child("address"))...)
		}
	}
	return errs
}

func validateCIDR(cidr string, p *field.Path) field.ErrorList {
	if _, err := netip.ParsePrefix(cidr); err != nil {
		return field.ErrorList{field.Invalid(p, cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")}
	}
	return nil
}

// validateNodeResources checks a node's capacity or allocatable as
// Kubernetes' ValidateNode does: names that are standard or fully
// qualified, amounts not below 0, whole numbers of pods and of extended
// resources.
func validateNodeResources(list ResourceList, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedKeys(list) {
		q, np := list[name], p.Key(string(name))
		if msgs := validation.IsQualifiedName(string(name)); len(msgs) > 0 {
			for _, m := range msgs {
				errs = append(errs, field.Invalid(np, string(name), m))
			}
			continue
		}
		if !strings.Contains(string(name), "/") && !slices.Contains(standardResources, name) && !isHugePagesResource(name) {
			errs = append(errs, field.Invalid(np, string(name), "must be a standard resource type or fully qualified"))
			continue
		}
		switch {
		case q.Sign() < 0:
			errs = append(errs, field.Invalid(np, q.String(), "must be greater than or equal to 0"))
		case (name == ResourcePods || isExtendedResource(name)) && q.MilliValue()%1000 != 0:
			errs = append(errs, field.Invalid(np, q.String(), "must be an integer"))
		}
	}
	return errs
}

// ValidateExtraCapacity checks a resource a peer is told it offers beside
// the cpu, memory and pods it measures (shoal agent --capacity): an
// extended resource (a domain-prefixed name outside kubernetes.io, such as
// nvidia.com/gpu) in whole units, ephemeral-storage, or hugepages-SIZE in
// whole pages. The error wraps errdefs.ErrInvalid.
func ValidateExtraCapacity(name ResourceName, q Quantity) error {
	bad := func(msg string) error { return fmt.Errorf("%s: %w", msg, errdefs.ErrInvalid) }
	switch {
	case name == ResourceCPU || name == ResourceMemory || name == ResourcePods:
		return bad(fmt.Sprintf("%s is measured on the machine, not given; only extended resources (DOMAIN/NAME), ephemeral-storage and hugepages-SIZE are", name))
	case name != corev1.ResourceEphemeralStorage && !isHugePagesResource(name) && !isExtendedResource(name):
		return bad(fmt.Sprintf("%q is not an extended resource (a domain-prefixed name outside kubernetes.io, such as nvidia.com/gpu), ephemeral-storage or hugepages-SIZE", name))
	case q.Sign() < 0:
		return bad("must be greater than or equal to 0")
	case isExtendedResource(name) && q.MilliValue()%1000 != 0:
		return bad(fmt.Sprintf("%s must be an integer", q.String()))
	case isHugePagesResource(name):
		size, err := ParseQuantity(strings.TrimPrefix(string(name), corev1.ResourceHugePagesPrefix))
		if err != nil || size.Sign() <= 0 {
			return bad(fmt.Sprintf("%q: the page size after hugepages- is not a quantity", name))
		}
		if q.Value()%size.Value() != 0 {
			return bad(fmt.Sprintf("%s is not a whole number of %s pages", q.String(), size.String()))
		}
	}
	return nil
}

// IsNodeReady reports whether n's Ready condition is True.
func IsNodeReady(n *Node) bool {
	c := GetNodeCondition(&n.Status, NodeReady)
	return c != nil && c.Status == ConditionTrue
}

// GetNodeCondition returns s's condition of type t, or nil.
func GetNodeCondition(s *NodeStatus, t NodeConditionType) *NodeCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

// SetNodeCondition records c in s, replacing the condition of its type. It
// keeps the old LastTransitionTime when the status has not changed, and
// reports whether s changed at all (a new heartbeat is a change).
func SetNodeCondition(s *NodeStatus, c NodeCondition) bool {
	old := GetNodeCondition(s, c.Type)
	if old == nil {
		s.Conditions = append(s.Conditions, c)
		return true
	}
	if old.Status == c.Status {
		c.LastTransitionTime = old.LastTransitionTime
	}
	changed := old.Status != c.Status || old.Reason != c.Reason || old.Message != c.Message ||
		!old.LastHeartbeatTime.Equal(&c.LastHeartbeatTime) || !old.LastTransitionTime.Equal(&c.LastTransitionTime)
	*old = c
	return changed
}
