package netproxy

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"time"

	"github.com/shoalproject/shoal/workload"
)

// Route is one listener a peer's proxy serves for a service port, with the
// endpoints that listener may send to.
type Route struct {
	// Name is "namespace/service:port" for the cluster IP's listener,
	// "namespace/service:nodeport:N" for a NodePort's and
	// "namespace/service:lb:port" for a LoadBalancer port's; a UDP
	// route's name ends in "/UDP", so a TCP and a UDP port of one number
	// (DNS's 53) are two routes.
	Name      string
	Protocol  workload.Protocol // ProtocolTCP or ProtocolUDP
	Listen    string            // IP:port
	Endpoints []Endpoint
	Affinity  time.Duration // ClientIP affinity timeout; 0 for none
}

// Snapshot is what Routes decides from: the cluster's services, their
// Endpoints by "namespace/name", this peer's node name and address (for
// NodePorts), and the tunnel address of every peer that runs pods.
type Snapshot struct {
	Services  []*workload.Service
	Endpoints map[string]*workload.Endpoints
	Self      string
	NodeIP    string
	Tunnels   map[string]string // node name -> tunnel address
	// ClusterIPBound, when set, says whether this host can serve a cluster
	// IP; a service whose IP it cannot is still served on its NodePorts.
	ClusterIPBound func(ip string) bool
}

// Routes is the proxy's plan for this peer. Pure, for tests.
//   - Each TCP or UDP port of a service with a cluster IP gets a route on
//     clusterIP:port; a NodePort service's port also gets one on
//     NodeIP:nodePort. SCTP ports get none.
//   - The endpoints are the Endpoints object's ready addresses on the port
//     of the same name: on this peer dialed directly, on others through their
//     tunnel (an address on a node with no known tunnel is left out).
//   - a LoadBalancer service Shoal serves (see ServedLoadBalancer) gets its
//     NodePort routes and one on NodeIP:port, as k3s' ServiceLB does.
//   - internalTrafficPolicy Local keeps the cluster IP route to this peer's
//     endpoints; externalTrafficPolicy Local does the same for the NodePort.
//   - sessionAffinity ClientIP sets the affinity timeout.
//
// Headless services (clusterIP None) get no routes; a cluster IP that
// ClusterIPBound refuses gets none, its NodePorts still do. Routes come
// sorted by name.
func Routes(s Snapshot) []Route {
	var out []Route
	for _, svc := range s.Services {
		sp := svc.Spec
		if sp.ClusterIP == "" || sp.ClusterIP == "None" {
			continue
		}
		clusterIP := s.ClusterIPBound == nil || s.ClusterIPBound(sp.ClusterIP)
		key := svc.ObjectMeta.Namespace + "/" + svc.ObjectMeta.Name
		var affinity time.Duration
		if sp.SessionAffinity == workload.SessionAffinityClientIP {
			secs := int32(workload.DefaultClientIPTimeoutSeconds)
			if c := sp.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
				secs = *c.ClientIP.TimeoutSeconds
			}
			affinity = time.Duration(secs) * time.Second
		}
		for _, port := range sp.Ports {
			proto, suffix := port.Protocol, ""
			switch proto {
			case "", workload.ProtocolTCP:
				proto = workload.ProtocolTCP
			case workload.ProtocolUDP:
				suffix = "/UDP"
			default:
				continue // SCTP: not proxied
			}
			all, local := endpointsFor(s, s.Endpoints[key], port.Name)
			name := fmt.Sprintf("%s:%d%s", key, port.Port, suffix)
			eps := all
			if sp.InternalTrafficPolicy != nil && *sp.InternalTrafficPolicy == workload.TrafficPolicyLocal {
				eps = local
			}
			if clusterIP {
				out = append(out, Route{Name: name, Protocol: proto, Listen: net.JoinHostPort(sp.ClusterIP, strconv.Itoa(int(port.Port))), Endpoints: eps, Affinity: affinity})
			}
			if s.NodeIP == "" {
				continue
			}
			external := all
			if sp.ExternalTrafficPolicy == workload.TrafficPolicyLocal {
				external = local
			}
			if workload.HasNodePorts(svc) && port.NodePort != 0 {
				out = append(out, Route{Name: fmt.Sprintf("%s:nodeport:%d%s", key, port.NodePort, suffix), Protocol: proto,
					Listen: net.JoinHostPort(s.NodeIP, strconv.Itoa(int(port.NodePort))), Endpoints: external, Affinity: affinity})
			}
			if ServedLoadBalancer(svc) {
				out = append(out, Route{Name: fmt.Sprintf("%s:lb:%d%s", key, port.Port, suffix), Protocol: proto,
					Listen: net.JoinHostPort(s.NodeIP, strconv.Itoa(int(port.Port))), Endpoints: external, Affinity: affinity})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ServedLoadBalancer says whether Shoal is a LoadBalancer service's load
// balancer: it is for every one that names no loadBalancerClass (a class
// is another implementation's, and the service stays Pending for it).
func ServedLoadBalancer(svc *workload.Service) bool {
	return svc.Spec.Type == workload.ServiceTypeLoadBalancer && svc.Spec.LoadBalancerClass == nil
}

// endpointsFor lists the ready addresses serving the service port named
// portName, all of them and those on this peer.
func endpointsFor(s Snapshot, ep *workload.Endpoints, portName string) (all, local []Endpoint) {
	if ep == nil {
		return nil, nil
	}
	for _, sub := range ep.Subsets {
		var target int32
		for _, p := range sub.Ports {
			if p.Name == portName {
				target = p.Port
			}
		}
		if target == 0 {
			continue
		}
		for _, a := range sub.Addresses {
			addr := net.JoinHostPort(a.IP, strconv.Itoa(int(target)))
			node := ""
			if a.NodeName != nil {
				node = *a.NodeName
			}
			if node == s.Self {
				e := Endpoint{Addr: addr}
				all, local = append(all, e), append(local, e)
				continue
			}
			if tunnel, ok := s.Tunnels[node]; ok {
				all = append(all, Endpoint{Addr: addr, Tunnel: tunnel})
			}
		}
	}
	return all, local
}
