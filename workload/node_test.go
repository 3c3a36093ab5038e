package workload

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// node returns a valid node, as a peer's agent would write it, changed by mut.
func node(mut func(*Node)) *Node {
	n := &Node{
		ObjectMeta: ObjectMeta{Name: "peer-1", Labels: map[string]string{"topology.kubernetes.io/zone": "a"}},
		Spec:       NodeSpec{PodCIDR: "10.1.0.0/24", PodCIDRs: []string{"10.1.0.0/24", "fd00:1::/64"}},
		Status: NodeStatus{
			Capacity:    ResourceList{ResourceCPU: q("4"), ResourceMemory: q("8Gi"), ResourcePods: q("110")},
			Allocatable: ResourceList{ResourceCPU: q("3800m"), ResourceMemory: q("7Gi"), ResourcePods: q("110")},
			Conditions:  []NodeCondition{{Type: NodeReady, Status: ConditionTrue, LastHeartbeatTime: NewTime(t0), LastTransitionTime: NewTime(t0)}},
			Addresses:   []NodeAddress{{Type: NodeInternalIP, Address: "192.168.1.2"}, {Type: NodeHostName, Address: "peer-1"}},
			NodeInfo:    NodeSystemInfo{KubeletVersion: "v0.1.0", ContainerRuntimeVersion: "containerd://2.1.4", OperatingSystem: "linux", Architecture: "amd64"},
		},
	}
	if mut != nil {
		mut(n)
	}
	return n
}

func TestValidateNode(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"baseline/valid", node(nil), ""},
		{"name subdomain/valid", node(func(n *Node) { n.ObjectMeta.Name = "peer-1.dc1.example" }), ""},
		{"name subdomain/invalid", node(func(n *Node) { n.ObjectMeta.Name = "Peer_1" }), `metadata.name: Invalid value: "Peer_1": a lowercase RFC 1123 subdomain`},
		{"cluster-scoped/invalid", node(func(n *Node) { n.ObjectMeta.Namespace = "default" }), "metadata.namespace: Forbidden: not allowed on this type"},
		{"podCIDR/invalid", node(func(n *Node) { n.Spec.PodCIDR, n.Spec.PodCIDRs = "10.1.0.0", nil }),
			`spec.podCIDR: Invalid value: "10.1.0.0": must be a valid CIDR value`},
		{"podCIDRs first is podCIDR/invalid", node(func(n *Node) { n.Spec.PodCIDRs = []string{"10.2.0.0/24"} }),
			`spec.podCIDRs[0]: Invalid value: "10.2.0.0/24": must match spec.podCIDR`},
		{"podCIDRs at most two/invalid", node(func(n *Node) { n.Spec.PodCIDRs = append(n.Spec.PodCIDRs, "10.3.0.0/24") }),
			"spec.podCIDRs: Too many: 3: must have at most 2 items"},
		{"unschedulable/valid", node(func(n *Node) { n.Spec.Unschedulable = true }), ""},
		{"capacity names/invalid", node(func(n *Node) { n.Status.Capacity["gpu"] = q("1") }),
			`status.capacity[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified`},
		{"extended resources, ephemeral storage and huge pages/valid", node(func(n *Node) {
			for _, l := range []ResourceList{n.Status.Capacity, n.Status.Allocatable} {
				l["nvidia.com/gpu"], l["ephemeral-storage"], l["hugepages-2Mi"] = q("2"), q("50Gi"), q("0")
			}
		}), ""},
		{"extended resource integer/invalid", node(func(n *Node) { n.Status.Allocatable["example.com/dongle"] = q("0.5") }),
			`status.allocatable[example.com/dongle]: Invalid value: "500m": must be an integer`},
		{"capacity name qualified/invalid", node(func(n *Node) { n.Status.Capacity["example.com/a b"] = q("1") }),
			`status.capacity[example.com/a b]: Invalid value: "example.com/a b": name part must consist of alphanumeric characters`},
		{"allocatable non-negative/invalid", node(func(n *Node) { n.Status.Allocatable[ResourceMemory] = q("-1Gi") }),
			`status.allocatable[memory]: Invalid value: "-1Gi": must be greater than or equal to 0`},
		{"pods integer/invalid", node(func(n *Node) { n.Status.Allocatable[ResourcePods] = q("1.5") }),
			`status.allocatable[pods]: Invalid value: "1500m": must be an integer`},
		{"condition status/invalid", node(func(n *Node) { n.Status.Conditions[0].Status = "Maybe" }),
			`status.conditions[0].status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown"`},
		{"address type/invalid", node(func(n *Node) { n.Status.Addresses[0].Type = "InternalDNS" }),
			`status.addresses[0].type: Unsupported value: "InternalDNS": supported values: "InternalIP", "ExternalIP", "Hostname"`},
		{"address IP/invalid", node(func(n *Node) { n.Status.Addresses[0].Address = "peer-1" }),
			`status.addresses[0].address: Invalid value: "peer-1": must be a valid IP address`},
	})
}

func TestValidateExtraCapacity(t *testing.T) {
	for _, c := range []struct{ name, qty, err string }{
		{"nvidia.com/gpu", "2", ""},
		{"example.com/dongle", "1", ""},
		{"ephemeral-storage", "50Gi", ""},
		{"hugepages-2Mi", "1Gi", ""},
		{"hugepages-1Gi", "0", ""},
		{"nvidia.com/gpu", "1.5", "1500m must be an integer"},
		{"example.com/dongle", "-1", "must be greater than or equal to 0"},
		{"hugepages-2Mi", "3Mi", "3Mi is not a whole number of 2Mi pages"},
		{"hugepages-big", "1", `"hugepages-big": the page size after hugepages- is not a quantity`},
		{"cpu", "2", "cpu is measured on the machine, not given"},
		{"pods", "200", "pods is measured on the machine, not given"},
		{"gpu", "1", `"gpu" is not an extended resource (a domain-prefixed name outside kubernetes.io`},
		{"kubernetes.io/gpu", "1", `"kubernetes.io/gpu" is not an extended resource`},
		{"requests.example.com/x", "1", `"requests.example.com/x" is not an extended resource`},
		{"storage", "1Gi", `"storage" is not an extended resource`},
	} {
		err := ValidateExtraCapacity(ResourceName(c.name), q(c.qty))
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s=%s: %v; want it accepted", c.name, c.qty, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, errdefs.ErrInvalid)):
			t.Errorf("%s=%s: %v; want an ErrInvalid saying %q", c.name, c.qty, err, c.err)
		}
	}
}

func TestNodeConditions(t *testing.T) {
	n := node(func(n *Node) { n.Status.Conditions = nil })
	if IsNodeReady(n) {
		t.Fatal("a node without conditions is ready")
	}
	ready := func(s ConditionStatus, at time.Time) NodeCondition {
		return NodeCondition{Type: NodeReady, Status: s, LastHeartbeatTime: NewTime(at), LastTransitionTime: NewTime(at)}
	}
	if !SetNodeCondition(&n.Status, ready(ConditionTrue, t0)) || !IsNodeReady(n) {
		t.Fatal("the node did not become ready")
	}
	if !SetNodeCondition(&n.Status, ready(ConditionTrue, t0.Add(10*time.Second))) {
		t.Error("a heartbeat is not a change")
	}
	c := GetNodeCondition(&n.Status, NodeReady)
	if !c.LastHeartbeatTime.Time.Equal(t0.Add(10*time.Second)) || !c.LastTransitionTime.Time.Equal(t0) {
		t.Errorf("condition = %+v; want a new heartbeat and the old transition", c)
	}
	if SetNodeCondition(&n.Status, ready(ConditionTrue, t0.Add(10*time.Second))) {
		t.Error("repeating the condition is a change")
	}
	SetNodeCondition(&n.Status, ready(ConditionUnknown, t0.Add(time.Minute)))
	if c := GetNodeCondition(&n.Status, NodeReady); IsNodeReady(n) || !c.LastTransitionTime.Time.Equal(t0.Add(time.Minute)) || len(n.Status.Conditions) != 1 {
		t.Errorf("condition = %+v; want Unknown since the change", c)
	}
}
