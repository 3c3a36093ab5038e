package nodeagent

import (
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
)

// podIP is the address of a pod whose sandbox is sb, as the kubelet
// reports it: the sandbox's, or the node's (hostIP) for a pod on the
// host's network; "" without a ready sandbox.
func podIP(sb *runtime.Sandbox, hostIP string) string {
	switch {
	case sb == nil:
		return ""
	case sb.HostNetwork:
		if sb.State != runtime.SandboxReady {
			return ""
		}
		return hostIP
	}
	return sb.IP
}

// podIP is the worker's pod's address now (see podIP).
func (w *worker) podIP() string { return podIP(w.sandbox, w.a.cfg.HostIP) }

// portMappings are the pod's hostPorts, as the kubelet hands them to the
// runtime: every port of the pod's containers with a hostPort, in order
// (a host-network pod's are the host's own, so it has none to map).
func portMappings(pod *workload.Pod) []runtime.PortMapping {
	if pod.Spec.HostNetwork {
		return nil
	}
	var out []runtime.PortMapping
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort <= 0 {
				continue
			}
			proto := string(p.Protocol)
			if proto == "" {
				proto = "TCP"
			}
			out = append(out, runtime.PortMapping{Protocol: proto, ContainerPort: p.ContainerPort, HostPort: p.HostPort, HostIP: p.HostIP})
		}
	}
	return out
}
