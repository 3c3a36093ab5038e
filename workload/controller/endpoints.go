package controller

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/workload"
)

// PlanEndpoints is a Service's Endpoints, as Kubernetes' endpoints
// controller makes them: one subset per distinct set of resolved ports, the
// selected pods that have an IP and are not terminating, ready ones in
// addresses (all of them with publishNotReadyAddresses) and the others in
// notReadyAddresses, a pod whose spec.subdomain names the service with its
// spec.hostname, everything sorted so that
// the same pods always give the same object. A service without a selector
// gets none (nil): its endpoints are the user's.
func PlanEndpoints(svc *workload.Service, pods []*workload.Pod) *workload.Endpoints {
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	ep := &workload.Endpoints{
		TypeMeta:   workload.TypeMeta{APIVersion: "v1", Kind: "Endpoints"},
		ObjectMeta: workload.ObjectMeta{Namespace: svc.ObjectMeta.Namespace, Name: svc.ObjectMeta.Name, Labels: svc.ObjectMeta.Labels},
	}
	sel := &workload.LabelSelector{MatchLabels: svc.Spec.Selector}
	type group struct {
		ports         []workload.EndpointPort
		ready, notYet []workload.EndpointAddress
	}
	var groups []*group
	for _, p := range pods {
		if p.ObjectMeta.Namespace != svc.ObjectMeta.Namespace || !workload.SelectorMatches(sel, p.ObjectMeta.Labels) || p.Status.PodIP == "" ||
			p.ObjectMeta.DeletionTimestamp != nil || p.Status.Phase == workload.PodSucceeded || p.Status.Phase == workload.PodFailed {
			continue
		}
		ports := resolvePorts(svc, p)
		if len(ports) == 0 && len(svc.Spec.Ports) > 0 {
			continue // a headless service without ports takes every pod
		}
		node := p.Spec.NodeName
		addr := workload.EndpointAddress{IP: p.Status.PodIP, NodeName: &node,
			TargetRef: &workload.ObjectReference{Kind: "Pod", Namespace: p.ObjectMeta.Namespace, Name: p.ObjectMeta.Name, UID: p.ObjectMeta.UID}}
		if p.Spec.Hostname != "" && p.Spec.Subdomain == svc.ObjectMeta.Name {
			addr.Hostname = p.Spec.Hostname // its DNS name: HOSTNAME.SERVICE.NS.svc
		}
		i := slices.IndexFunc(groups, func(g *group) bool { return slices.Equal(g.ports, ports) })
		if i < 0 {
			groups = append(groups, &group{ports: ports})
			i = len(groups) - 1
		}
		if workload.IsPodReady(p) || svc.Spec.PublishNotReadyAddresses {
			groups[i].ready = append(groups[i].ready, addr)
		} else {
			groups[i].notYet = append(groups[i].notYet, addr)
		}
	}
	byIP := func(a, b workload.EndpointAddress) int { return cmp.Compare(a.IP, b.IP) }
	for _, g := range groups {
		slices.SortFunc(g.ready, byIP)
		slices.SortFunc(g.notYet, byIP)
		ep.Subsets = append(ep.Subsets, workload.EndpointSubset{Addresses: g.ready, NotReadyAddresses: g.notYet, Ports: g.ports})
	}
	slices.SortFunc(ep.Subsets, func(a, b workload.EndpointSubset) int {
		return cmp.Compare(firstIP(a), firstIP(b))
	})
	return ep
}

func firstIP(s workload.EndpointSubset) string {
	if len(s.Addresses) > 0 {
		return s.Addresses[0].IP
	}
	return s.NotReadyAddresses[0].IP
}

// resolvePorts maps the service's ports onto the pod's: a numeric
// targetPort as is, a named one through the pod's container ports (a pod
// without that name serves none of that port).
func resolvePorts(svc *workload.Service, p *workload.Pod) []workload.EndpointPort {
	var out []workload.EndpointPort
	for _, sp := range svc.Spec.Ports {
		port := sp.TargetPort.IntVal
		if sp.TargetPort.Type == workload.IntOrStringString {
			port = 0
			for _, c := range p.Spec.Containers {
				for _, cp := range c.Ports {
					if cp.Name == sp.TargetPort.StrVal && port == 0 {
						port = cp.ContainerPort
					}
				}
			}
		} else if port == 0 {
			port = sp.Port
		}
		if port != 0 {
			out = append(out, workload.EndpointPort{Name: sp.Name, Port: port, Protocol: cmp.Or(sp.Protocol, workload.ProtocolTCP)})
		}
	}
	return out
}

// LoadBalancerIngress is the status.loadBalancer.ingress of a LoadBalancer
// Service that Shoal serves itself: every Ready node's internal address,
// where each peer's proxy listens on the service's ports (as k3s'
// ServiceLB lists the nodes that run its pods), sorted.
func LoadBalancerIngress(nodes []*workload.Node) []workload.LoadBalancerIngress {
	var ips []string
	for _, n := range nodes {
		if c := workload.GetNodeCondition(&n.Status, workload.NodeReady); c == nil || c.Status != workload.ConditionTrue {
			continue
		}
		for _, a := range n.Status.Addresses {
			if a.Type == workload.NodeInternalIP && !slices.Contains(ips, a.Address) {
				ips = append(ips, a.Address)
			}
		}
	}
	slices.Sort(ips)
	out := make([]workload.LoadBalancerIngress, len(ips))
	vip := corev1.LoadBalancerIPModeVIP
	for i, ip := range ips {
		out[i] = workload.LoadBalancerIngress{IP: ip, IPMode: &vip}
	}
	return out
}
