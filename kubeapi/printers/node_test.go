package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nodeRow is a node's cells with the wide columns of a node that reports
// no addresses and no system info.
func nodeRow(name, status, roles string) []any {
	return []any{name, status, roles, "<unknown>", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}
}

// TestNodeStatus follows kube's TestPrintNodeStatus and TestPrintNodeRole.
func TestNodeStatus(t *testing.T) {
	ready := func(s corev1.ConditionStatus) []corev1.NodeCondition {
		return []corev1.NodeCondition{{Type: corev1.NodeReady, Status: s}}
	}
	tests := []struct {
		name string
		node corev1.Node
		want []any
	}{
		{"ready", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo1"}, Status: corev1.NodeStatus{Conditions: ready(corev1.ConditionTrue)}},
			nodeRow("foo1", "Ready", "<none>")},
		{"cordoned", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo2"}, Spec: corev1.NodeSpec{Unschedulable: true}, Status: corev1.NodeStatus{Conditions: ready(corev1.ConditionTrue)}},
			nodeRow("foo2", "Ready,SchedulingDisabled", "<none>")},
		{"ready twice", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo3"}, Status: corev1.NodeStatus{Conditions: append(ready(corev1.ConditionTrue), ready(corev1.ConditionTrue)...)}},
			nodeRow("foo3", "Ready", "<none>")},
		{"the last Ready condition counts", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "flip"}, Status: corev1.NodeStatus{Conditions: append(ready(corev1.ConditionTrue), ready(corev1.ConditionFalse)...)}},
			nodeRow("flip", "NotReady", "<none>")},
		{"not ready", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo4"}, Status: corev1.NodeStatus{Conditions: ready(corev1.ConditionFalse)}},
			nodeRow("foo4", "NotReady", "<none>")},
		{"ready unknown", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "gone"}, Status: corev1.NodeStatus{Conditions: ready(corev1.ConditionUnknown)}},
			nodeRow("gone", "NotReady", "<none>")},
		{"not ready and cordoned", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo5"}, Spec: corev1.NodeSpec{Unschedulable: true}, Status: corev1.NodeStatus{Conditions: ready(corev1.ConditionFalse)}},
			nodeRow("foo5", "NotReady,SchedulingDisabled", "<none>")},
		{"no Ready condition", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo6"}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: "InvalidValue", Status: corev1.ConditionTrue}}}},
			nodeRow("foo6", "Unknown", "<none>")},
		{"empty condition", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo7"}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{}}}},
			nodeRow("foo7", "Unknown", "<none>")},
		{"unknown and cordoned", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo8"}, Spec: corev1.NodeSpec{Unschedulable: true}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: "InvalidValue", Status: corev1.ConditionTrue}}}},
			nodeRow("foo8", "Unknown,SchedulingDisabled", "<none>")},
		{"no conditions", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "127.0.0.1"}},
			nodeRow("127.0.0.1", "Unknown", "<none>")},
		{"roles from both label forms, sorted", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo10", Labels: map[string]string{
			"node-role.kubernetes.io/master": "", "node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/proxy": "", "kubernetes.io/role": "node",
		}}}, nodeRow("foo10", "Unknown", "control-plane,master,node,proxy")},
		{"legacy role label", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo11", Labels: map[string]string{"kubernetes.io/role": "node"}}},
			nodeRow("foo11", "Unknown", "node")},
		{"a role named twice shows once", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "dup", Labels: map[string]string{"kubernetes.io/role": "worker", "node-role.kubernetes.io/worker": ""}}},
			nodeRow("dup", "Unknown", "worker")},
		{"empty role names are not roles", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "blank", Labels: map[string]string{"kubernetes.io/role": "", "node-role.kubernetes.io/": ""}}},
			nodeRow("blank", "Unknown", "<none>")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.node, tt.want) })
	}
}

// TestNodeWideColumns follows kube's TestPrintNodeOSImage,
// TestPrintNodeKernelVersion, TestPrintNodeArch,
// TestPrintNodeContainerRuntimeVersion, TestPrintNodeExternalIP and
// TestPrintNodeInternalIP.
func TestNodeWideColumns(t *testing.T) {
	external := []corev1.NodeAddress{{Type: corev1.NodeExternalIP, Address: "1.1.1.1"}}
	tests := []struct {
		name string
		node corev1.Node
		want []any
	}{
		{"os image", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo1"}, Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{OSImage: "fake-os-image"}, Addresses: external}},
			[]any{"foo1", "Unknown", "<none>", "<unknown>", "", "<none>", "1.1.1.1", "fake-os-image", "<unknown>", "<unknown>"}},
		{"kernel version", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo2"}, Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{KernelVersion: "fake-kernel-version"}, Addresses: external}},
			[]any{"foo2", "Unknown", "<none>", "<unknown>", "", "<none>", "1.1.1.1", "<unknown>", "fake-kernel-version", "<unknown>"}},
		{"kernel version with architecture", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo"}, Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{KernelVersion: "fake-kernel-version", Architecture: "fake-arch-amd64"}, Addresses: external}},
			[]any{"foo", "Unknown", "<none>", "<unknown>", "", "<none>", "1.1.1.1", "<unknown>", "fake-kernel-version (fake-arch-amd64)", "<unknown>"}},
		{"architecture without kernel version", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo"}, Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{Architecture: "fake-arch-arm64"}, Addresses: external}},
			[]any{"foo", "Unknown", "<none>", "<unknown>", "", "<none>", "1.1.1.1", "<unknown>", "<unknown> (fake-arch-arm64)", "<unknown>"}},
		{"container runtime", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo1"}, Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{ContainerRuntimeVersion: "foo://1.2.3"}, Addresses: external}},
			[]any{"foo1", "Unknown", "<none>", "<unknown>", "", "<none>", "1.1.1.1", "<unknown>", "<unknown>", "foo://1.2.3"}},
		{"internal address only", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo2"}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "1.1.1.1"}}}},
			[]any{"foo2", "Unknown", "<none>", "<unknown>", "", "1.1.1.1", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
		{"first address of each type", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo3"}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeHostName, Address: "foo3"},
			{Type: corev1.NodeExternalIP, Address: "2.2.2.2"},
			{Type: corev1.NodeInternalIP, Address: "3.3.3.3"},
			{Type: corev1.NodeExternalIP, Address: "4.4.4.4"},
			{Type: corev1.NodeInternalIP, Address: "5.5.5.5"},
		}}}, []any{"foo3", "Unknown", "<none>", "<unknown>", "", "3.3.3.3", "2.2.2.2", "<unknown>", "<unknown>", "<unknown>"}},
		{"a Shoal peer", corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "peer-a", CreationTimestamp: ago(3 * day), Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}},
			Spec:       corev1.NodeSpec{Unschedulable: true},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}, {Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
				Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.1.0.4"}},
				NodeInfo: corev1.NodeSystemInfo{
					KubeletVersion: "v1.37.0-shoal", OSImage: "Debian GNU/Linux 13 (trixie)", KernelVersion: "6.12.0-1-amd64",
					Architecture: "amd64", ContainerRuntimeVersion: "containerd://2.4.2",
				},
			},
		}, []any{"peer-a", "Ready,SchedulingDisabled", "control-plane", "3d", "v1.37.0-shoal", "10.1.0.4", "<none>", "Debian GNU/Linux 13 (trixie)", "6.12.0-1-amd64 (amd64)", "containerd://2.4.2"}},
		{"age", corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "young", CreationTimestamp: ago(45 * time.Second)}},
			[]any{"young", "Unknown", "<none>", "45s", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.node, tt.want) })
	}
}
