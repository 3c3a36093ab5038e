package nodeagent

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
	"github.com/shoalproject/shoal/workload/runtime/fake"
)

// A hostNetwork pod runs in a host-network sandbox with the host's PID and
// IPC namespaces when asked, and reports the node's address as its own,
// as the kubelet does; its hostPorts are not mapped.
func TestHostNetworkPodReportsTheNodesAddress(t *testing.T) {
	h := newHarness(t, fake.Config{PodCIDR: "10.32.8.0/24", HostName: "node-1"}, nil)
	h.pods.put(pod("on-host", func(p *workload.Pod) {
		p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = true, true, true
		p.Spec.DNSPolicy = corev1.DNSClusterFirstWithHostNet
		p.Spec.Containers[0].Ports = []workload.ContainerPort{{ContainerPort: 8080, HostPort: 8080, Protocol: "TCP"}}
	}))
	h.agent.Notify()
	h.await("the host-network pod to run", func() bool { return running(h.status("on-host")) })
	st := h.status("on-host")
	if st.PodIP != "192.0.2.1" || len(st.PodIPs) != 1 || st.PodIPs[0].IP != "192.0.2.1" || st.HostIP != "192.0.2.1" {
		t.Errorf("host-network pod: podIP %q podIPs %+v hostIP %q; want the node's 192.0.2.1 for all", st.PodIP, st.PodIPs, st.HostIP)
	}
	sbs, _ := h.rt.ListSandboxes(context.Background())
	if len(sbs) != 1 || !sbs[0].HostNetwork || !sbs[0].HostPID || !sbs[0].HostIPC || sbs[0].Hostname != "node-1" || len(sbs[0].PortMappings) != 0 {
		t.Errorf("sandboxes %+v, want one on the host's network, PID and IPC namespaces, named node-1, without port mappings", sbs)
	}
}

// A pod's hostPorts become its sandbox's port mappings.
func TestHostPortsAreMappedBySandbox(t *testing.T) {
	h := newHarness(t, fake.Config{PodCIDR: "10.32.9.0/24"}, nil)
	h.pods.put(pod("ported", func(p *workload.Pod) {
		p.Spec.Containers[0].Ports = []workload.ContainerPort{
			{ContainerPort: 8080, HostPort: 18080, Protocol: "TCP"},
			{ContainerPort: 9090}, // no hostPort: not mapped
			{ContainerPort: 53, HostPort: 5353, Protocol: "UDP", HostIP: "192.0.2.1"},
		}
	}))
	h.agent.Notify()
	h.await("the pod to run", func() bool { return running(h.status("ported")) })
	want := []runtime.PortMapping{
		{Protocol: "TCP", ContainerPort: 8080, HostPort: 18080},
		{Protocol: "UDP", ContainerPort: 53, HostPort: 5353, HostIP: "192.0.2.1"},
	}
	sbs, _ := h.rt.ListSandboxes(context.Background())
	if len(sbs) != 1 || sbs[0].HostNetwork || !slices.Equal(sbs[0].PortMappings, want) {
		t.Fatalf("sandboxes %+v, want one with port mappings %+v", sbs, want)
	}
	if st := h.status("ported"); st.PodIP != sbs[0].IP {
		t.Errorf("podIP %q, want the sandbox's %q", st.PodIP, sbs[0].IP)
	}
}

func TestPodIP(t *testing.T) {
	for _, tc := range []struct {
		name string
		sb   *runtime.Sandbox
		want string
	}{
		{"no sandbox", nil, ""},
		{"own network", &runtime.Sandbox{IP: "10.0.0.5", State: runtime.SandboxReady}, "10.0.0.5"},
		{"own network, stopped", &runtime.Sandbox{State: runtime.SandboxNotReady}, ""},
		{"host network", &runtime.Sandbox{HostNetwork: true, State: runtime.SandboxReady}, "192.0.2.1"},
		{"host network, stopped", &runtime.Sandbox{HostNetwork: true, State: runtime.SandboxNotReady}, ""},
	} {
		if got := podIP(tc.sb, "192.0.2.1"); got != tc.want {
			t.Errorf("%s: podIP = %q, want %q", tc.name, got, tc.want)
		}
	}
}
