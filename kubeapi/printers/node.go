package printers

import (
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	nodeStatusDoc     = corev1.NodeStatus{}.SwaggerDoc()
	nodeSystemInfoDoc = corev1.NodeSystemInfo{}.SwaggerDoc()
)

var nodeColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Status", Type: "string", Description: "The status of the node"},
	{Name: "Roles", Type: "string", Description: "The roles of the node"},
	ageColumn,
	{Name: "Version", Type: "string", Description: nodeSystemInfoDoc["kubeletVersion"]},
	{Name: "Internal-IP", Type: "string", Priority: 1, Description: nodeStatusDoc["addresses"]},
	{Name: "External-IP", Type: "string", Priority: 1, Description: nodeStatusDoc["addresses"]},
	{Name: "OS-Image", Type: "string", Priority: 1, Description: nodeSystemInfoDoc["osImage"]},
	{Name: "Kernel-Version", Type: "string", Priority: 1, Description: nodeSystemInfoDoc["kernelVersion"]},
	{Name: "Container-Runtime", Type: "string", Priority: 1, Description: nodeSystemInfoDoc["containerRuntimeVersion"]},
}

// Node role labels: node-role.kubernetes.io/<role>="" and the older
// kubernetes.io/role=<role>.
const (
	nodeRoleLabelPrefix = "node-role.kubernetes.io/"
	nodeRoleLabel       = "kubernetes.io/role"
)

// nodeCells is a node's row: NAME, STATUS, ROLES, AGE, VERSION,
// INTERNAL-IP, EXTERNAL-IP, OS-IMAGE, KERNEL-VERSION, CONTAINER-RUNTIME.
func nodeCells(node *corev1.Node, now time.Time) []any {
	info := node.Status.NodeInfo
	kernel := orUnknown(info.KernelVersion)
	if info.Architecture != "" {
		kernel += " (" + info.Architecture + ")"
	}
	roles := strings.Join(nodeRoles(node), ",")
	if roles == "" {
		roles = "<none>"
	}
	return []any{
		node.Name,
		nodeStatus(node),
		roles,
		age(node.CreationTimestamp, now),
		info.KubeletVersion,
		nodeAddress(node, corev1.NodeInternalIP),
		nodeAddress(node, corev1.NodeExternalIP),
		orUnknown(info.OSImage),
		kernel,
		orUnknown(info.ContainerRuntimeVersion),
	}
}

// nodeStatus is the STATUS cell: "Ready", "NotReady" or "Unknown" from the
// node's (last) Ready condition, then ",SchedulingDisabled" for a cordoned
// node.
func nodeStatus(node *corev1.Node) string {
	status := "Unknown"
	for _, c := range node.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		if c.Status == corev1.ConditionTrue {
			status = string(corev1.NodeReady)
		} else {
			status = "Not" + string(corev1.NodeReady)
		}
	}
	if node.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

// nodeRoles are the roles the node's labels give it, sorted and without
// duplicates.
func nodeRoles(node *corev1.Node) []string {
	var roles []string
	for k, v := range node.Labels {
		switch {
		case strings.HasPrefix(k, nodeRoleLabelPrefix):
			if role := strings.TrimPrefix(k, nodeRoleLabelPrefix); role != "" {
				roles = append(roles, role)
			}
		case k == nodeRoleLabel && v != "":
			roles = append(roles, v)
		}
	}
	slices.Sort(roles)
	return slices.Compact(roles)
}

// nodeAddress is the node's first address of the type, "<none>" if it has
// none.
func nodeAddress(node *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range node.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

// orUnknown prints an empty string as "<unknown>".
func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}
