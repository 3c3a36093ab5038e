package scheduler

import "github.com/shoalproject/shoal/workload"

// ReasonNodePorts is kube-scheduler's NodePorts reason: a hostPort the pod
// asks for is taken on the node.
const ReasonNodePorts = "node(s) didn't have free ports for the requested pod ports"

// wildcardIP is the host IP a port without one binds: all of them, as in
// kube-scheduler's HostPortInfo.
const wildcardIP = "0.0.0.0"

// hostPort is one host port a pod takes: protocol, host IP (wildcardIP
// when unset) and port.
type hostPort struct {
	protocol string
	ip       string
	port     int32
}

// protoPort is a hostPort on any address.
type protoPort struct {
	protocol string
	port     int32
}

// hostPortsOf lists the host ports of the pod's init containers and
// containers (kube-scheduler's GetHostPorts), protocol defaulted to TCP
// and host IP to wildcardIP.
func hostPortsOf(p *workload.Pod) []hostPort {
	var out []hostPort
	for _, cs := range [][]workload.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range cs {
			for _, cp := range cs[i].Ports {
				if cp.HostPort <= 0 {
					continue
				}
				hp := hostPort{protocol: string(cp.Protocol), ip: cp.HostIP, port: cp.HostPort}
				if hp.protocol == "" {
					hp.protocol = string(workload.ProtocolTCP)
				}
				if hp.ip == "" {
					hp.ip = wildcardIP
				}
				out = append(out, hp)
			}
		}
	}
	return out
}

// portUse counts the host ports a node's pods take, by address and by
// protocol and port; nil maps until a pod with host ports comes.
type portUse struct {
	byAddr map[hostPort]int32
	byPort map[protoPort]int32
}

// account adds (delta 1) or removes (delta -1) the host ports of p.
func (u *portUse) account(p *workload.Pod, delta int32) {
	for _, hp := range hostPortsOf(p) {
		if u.byAddr == nil {
			u.byAddr, u.byPort = map[hostPort]int32{}, map[protoPort]int32{}
		}
		u.byAddr[hp] += delta
		u.byPort[protoPort{hp.protocol, hp.port}] += delta
	}
}

// conflicts says whether hp clashes with a port in use, as
// kube-scheduler's HostPortInfo.CheckConflict: the wildcard address clashes
// with the same protocol and port on any address, another address with
// itself and the wildcard.
func (u *portUse) conflicts(hp hostPort) bool {
	if hp.ip == wildcardIP {
		return u.byPort[protoPort{hp.protocol, hp.port}] > 0
	}
	return u.byAddr[hp] > 0 || u.byAddr[hostPort{hp.protocol, wildcardIP, hp.port}] > 0
}

// filterNodePorts passes a node where none of the pod's host ports is
// taken (kube-scheduler's NodePorts).
func filterNodePorts(s *Snapshot, p *podState, n int) (bool, string) {
	u := &s.nodes[n].ports
	for _, hp := range p.hostPorts {
		if u.conflicts(hp) {
			return false, ReasonNodePorts
		}
	}
	return true, ""
}
