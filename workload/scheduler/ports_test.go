package scheduler

import (
	"testing"

	"github.com/shoalproject/shoal/workload"
)

// hostPorts gives the pod's container these ports, each with its
// containerPort equal to its hostPort.
func hostPorts(ports ...workload.ContainerPort) func(*workload.Pod) {
	return func(p *workload.Pod) {
		for _, hp := range ports {
			hp.ContainerPort = hp.HostPort
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, hp)
		}
	}
}

func tcp(ip string, port int32) workload.ContainerPort {
	return workload.ContainerPort{Protocol: workload.ProtocolTCP, HostIP: ip, HostPort: port}
}

func TestFilterNodePorts(t *testing.T) {
	nodes := alive(node("a", "", "4", "4Gi"), node("b", "", "4", "4Gi"), node("c", "", "4", "4Gi"))
	udp53 := workload.ContainerPort{Protocol: workload.ProtocolUDP, HostPort: 53}
	s := NewSnapshot(nodes, []*workload.Pod{
		pod("on-a", "", "", on("a"), hostPorts(tcp("", 80))),
		pod("on-b", "", "", on("b"), hostPorts(tcp("10.0.0.1", 8080))),
		pod("on-c", "", "", on("c"), hostPorts(udp53)),
		// A pod with a port but no hostPort takes nothing.
		pod("no-host-port", "", "", on("c"), func(p *workload.Pod) {
			p.Spec.Containers[0].Ports = []workload.ContainerPort{{ContainerPort: 9000}}
		}),
	})
	all := func(a, b, c string) map[string]string { return map[string]string{"a": a, "b": b, "c": c} }
	runFilterCases(t, s, "NodePorts", []filterCase{
		{name: "no host ports", pod: pod("p", "", ""), want: all("", "", "")},
		{name: "containerPort only", pod: pod("p", "", "", func(p *workload.Pod) {
			p.Spec.Containers[0].Ports = []workload.ContainerPort{{ContainerPort: 9000}}
		}), want: all("", "", "")},
		{name: "TCP 80 on every address", pod: pod("p", "", "", hostPorts(tcp("", 80))), want: all(ReasonNodePorts, "", "")},
		{name: "TCP 80 on one address clashes with the wildcard", pod: pod("p", "", "", hostPorts(tcp("10.0.0.3", 80))), want: all(ReasonNodePorts, "", "")},
		{name: "UDP 80 is another port", pod: pod("p", "", "", hostPorts(workload.ContainerPort{Protocol: workload.ProtocolUDP, HostPort: 80})), want: all("", "", "")},
		{name: "no protocol is TCP", pod: pod("p", "", "", hostPorts(workload.ContainerPort{HostPort: 80})), want: all(ReasonNodePorts, "", "")},
		{name: "8080 on the same address", pod: pod("p", "", "", hostPorts(tcp("10.0.0.1", 8080))), want: all("", ReasonNodePorts, "")},
		{name: "8080 on another address", pod: pod("p", "", "", hostPorts(tcp("10.0.0.2", 8080))), want: all("", "", "")},
		{name: "8080 on every address clashes with one", pod: pod("p", "", "", hostPorts(tcp("", 8080))), want: all("", ReasonNodePorts, "")},
		{name: "UDP 53", pod: pod("p", "", "", hostPorts(udp53)), want: all("", "", ReasonNodePorts)},
		{name: "one of several ports taken", pod: pod("p", "", "", hostPorts(tcp("", 81), udp53)), want: all("", "", ReasonNodePorts)},
		{name: "an init container's host port", pod: pod("p", "", "", func(p *workload.Pod) {
			p.Spec.InitContainers = []workload.Container{{Name: "init", Image: "img", Ports: []workload.ContainerPort{tcp("", 80)}}}
		}), want: all(ReasonNodePorts, "", "")},
	})

	// An assumed pod takes its ports; forgetting it gives them back, and
	// the full filter chain gives the same reason.
	p := pod("new", "", "", hostPorts(tcp("", 9000)))
	mustAssume(t, s, p, "c")
	other := pod("other", "", "", hostPorts(tcp("", 9000)))
	if ok, reason := filterNode(s, s.compile(other), s.index["c"]); ok || reason != ReasonNodePorts {
		t.Errorf("port 9000 after assuming a pod with it on c: ok %v, reason %q; want %q", ok, reason, ReasonNodePorts)
	}
	if !s.Forget(p) {
		t.Fatal("Forget did not find the assumed pod")
	}
	if ok, reason := filterNode(s, s.compile(other), s.index["c"]); !ok {
		t.Errorf("port 9000 after forgetting the pod: %q", reason)
	}
}
