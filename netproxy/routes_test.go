package netproxy

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/workload"
)

func svc(name string, mutate func(*workload.ServiceSpec)) *workload.Service {
	s := &workload.Service{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: name},
		Spec: workload.ServiceSpec{Type: workload.ServiceTypeClusterIP, ClusterIP: "10.96.0.10",
			Ports: []workload.ServicePort{{Name: "http", Protocol: workload.ProtocolTCP, Port: 80}}}}
	if mutate != nil {
		mutate(&s.Spec)
	}
	return s
}

func endpoints(name string, addrs map[string]string) *workload.Endpoints {
	sub := workload.EndpointSubset{Ports: []workload.EndpointPort{{Name: "http", Port: 9000}}}
	for ip, node := range addrs {
		sub.Addresses = append(sub.Addresses, workload.EndpointAddress{IP: ip, NodeName: &node})
	}
	return &workload.Endpoints{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: name}, Subsets: []workload.EndpointSubset{sub}}
}

func TestRoutes(t *testing.T) {
	local := workload.ServiceInternalTrafficPolicy(workload.TrafficPolicyLocal)
	three := map[string]string{"10.32.0.5": "p1", "10.32.1.5": "p2", "10.32.2.5": "p3"}
	tunnels := map[string]string{"p2": "192.168.1.2:7950"} // p3's tunnel is unknown
	cases := []struct {
		name  string
		svc   *workload.Service
		want  string
		bound func(string) bool
	}{
		{"cluster IP: local direct, remote through its tunnel, unknown tunnel left out", svc("web", nil),
			"default/web:80 10.96.0.10:80 [10.32.0.5:9000 10.32.1.5:9000@192.168.1.2:7950] 0s", nil},
		{"internalTrafficPolicy Local", svc("web", func(s *workload.ServiceSpec) { s.InternalTrafficPolicy = &local }),
			"default/web:80 10.96.0.10:80 [10.32.0.5:9000] 0s", nil},
		{"NodePort: a second listener on the node's address", svc("web", func(s *workload.ServiceSpec) {
			s.Type, s.Ports[0].NodePort = workload.ServiceTypeNodePort, 30080
		}), "default/web:80 10.96.0.10:80 [10.32.0.5:9000 10.32.1.5:9000@192.168.1.2:7950] 0s; " +
			"default/web:nodeport:30080 192.168.1.1:30080 [10.32.0.5:9000 10.32.1.5:9000@192.168.1.2:7950] 0s", nil},
		{"externalTrafficPolicy Local limits the NodePort only", svc("web", func(s *workload.ServiceSpec) {
			s.Type, s.Ports[0].NodePort, s.ExternalTrafficPolicy = workload.ServiceTypeNodePort, 30080, workload.TrafficPolicyLocal
		}), "default/web:80 10.96.0.10:80 [10.32.0.5:9000 10.32.1.5:9000@192.168.1.2:7950] 0s; " +
			"default/web:nodeport:30080 192.168.1.1:30080 [10.32.0.5:9000] 0s", nil},
		{"ClientIP affinity with its timeout", svc("web", func(s *workload.ServiceSpec) {
			secs := int32(60)
			s.SessionAffinity = workload.SessionAffinityClientIP
			s.SessionAffinityConfig = &workload.SessionAffinityConfig{ClientIP: &workload.ClientIPConfig{TimeoutSeconds: &secs}}
		}), "default/web:80 10.96.0.10:80 [10.32.0.5:9000 10.32.1.5:9000@192.168.1.2:7950] 1m0s", nil},
		{"LoadBalancer: its NodePort and the service port on the node's address", svc("web", func(s *workload.ServiceSpec) {
			s.Type, s.Ports[0].NodePort = workload.ServiceTypeLoadBalancer, 30080
		}), "default/web:80 10.96.0.10:80 [10.32.0.5:9000 10.32.1.5:9000@192.168.1.2:7950] 0s; " +
			"default/web:lb:80 192.168.1.1:80 [10.32.0.5:9000 10.32.1.5:9000@192.168.1.2:7950] 0s; " +
			"default/web:nodeport:30080 192.168.1.1:30080 [10.32.0.5:9000 10.32.1.5:9000@192.168.1.2:7950] 0s", nil},
		{"LoadBalancer of another class: NodePort only", svc("web", func(s *workload.ServiceSpec) {
			class := "example.com/lb"
			s.Type, s.Ports[0].NodePort, s.LoadBalancerClass = workload.ServiceTypeLoadBalancer, 30080, &class
		}), "default/web:80 10.96.0.10:80 [10.32.0.5:9000 10.32.1.5:9000@192.168.1.2:7950] 0s; " +
			"default/web:nodeport:30080 192.168.1.1:30080 [10.32.0.5:9000 10.32.1.5:9000@192.168.1.2:7950] 0s", nil},
		{"ExternalName: no route", svc("web", func(s *workload.ServiceSpec) {
			s.Type, s.ClusterIP, s.ExternalName = workload.ServiceTypeExternalName, "", "db.example.com"
		}), "", nil},
		{"headless: no route", svc("web", func(s *workload.ServiceSpec) { s.ClusterIP = "None" }), "", nil},
		{"a cluster IP this host cannot bind: the NodePort only", svc("web", func(s *workload.ServiceSpec) {
			s.Type, s.Ports[0].NodePort = workload.ServiceTypeNodePort, 30080
		}), "default/web:nodeport:30080 192.168.1.1:30080 [10.32.0.5:9000 10.32.1.5:9000@192.168.1.2:7950] 0s",
			func(string) bool { return false }},
		{"a port the endpoints do not serve has none", svc("web", func(s *workload.ServiceSpec) {
			s.Ports = append(s.Ports, workload.ServicePort{Name: "admin", Protocol: workload.ProtocolTCP, Port: 8080})
		}), "default/web:80 10.96.0.10:80 [10.32.0.5:9000 10.32.1.5:9000@192.168.1.2:7950] 0s; default/web:8080 10.96.0.10:8080 [] 0s", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			routes := Routes(Snapshot{Services: []*workload.Service{c.svc}, Endpoints: map[string]*workload.Endpoints{"default/web": endpoints("web", three)},
				Self: "p1", NodeIP: "192.168.1.1", Tunnels: tunnels, ClusterIPBound: c.bound})
			if got := formatRoutes(routes); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func formatRoutes(rs []Route) string {
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += "; "
		}
		var eps []string
		for _, e := range r.Endpoints {
			s := e.Addr
			if e.Tunnel != "" {
				s += "@" + e.Tunnel
			}
			eps = append(eps, s)
		}
		sort.Strings(eps)
		out += fmt.Sprintf("%s %s %v %s", r.Name, r.Listen, eps, r.Affinity.Round(time.Second))
	}
	return out
}

// UDP ports get routes as TCP ones do, named with a "/UDP" suffix (TCP
// names stay as they were), so DNS's two ports on 53 are two routes;
// SCTP ports get none.
func TestRoutesUDP(t *testing.T) {
	dns := svc("dns", func(s *workload.ServiceSpec) {
		s.Type = workload.ServiceTypeLoadBalancer
		s.Ports = []workload.ServicePort{
			{Name: "dns", Protocol: workload.ProtocolUDP, Port: 53, NodePort: 30053},
			{Name: "dns-tcp", Protocol: workload.ProtocolTCP, Port: 53, NodePort: 30053},
			{Name: "sig", Protocol: corev1.ProtocolSCTP, Port: 9899, NodePort: 30099},
		}
	})
	node := "p2"
	ep := &workload.Endpoints{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "dns"}, Subsets: []workload.EndpointSubset{{
		Addresses: []workload.EndpointAddress{{IP: "10.32.1.5", NodeName: &node}},
		Ports: []workload.EndpointPort{{Name: "dns", Port: 5353, Protocol: workload.ProtocolUDP},
			{Name: "dns-tcp", Port: 5354, Protocol: workload.ProtocolTCP}, {Name: "sig", Port: 9899, Protocol: corev1.ProtocolSCTP}},
	}}}
	routes := Routes(Snapshot{Services: []*workload.Service{dns}, Endpoints: map[string]*workload.Endpoints{"default/dns": ep},
		Self: "p1", NodeIP: "192.168.1.1", Tunnels: map[string]string{"p2": "192.168.1.2:7950"}})
	var got []string
	for _, r := range routes {
		got = append(got, fmt.Sprintf("%s %s %s %v", r.Name, r.Protocol, r.Listen, r.Endpoints))
	}
	want := []string{
		"default/dns:53 TCP 10.96.0.10:53 [{10.32.1.5:5354 192.168.1.2:7950}]",
		"default/dns:53/UDP UDP 10.96.0.10:53 [{10.32.1.5:5353 192.168.1.2:7950}]",
		"default/dns:lb:53 TCP 192.168.1.1:53 [{10.32.1.5:5354 192.168.1.2:7950}]",
		"default/dns:lb:53/UDP UDP 192.168.1.1:53 [{10.32.1.5:5353 192.168.1.2:7950}]",
		"default/dns:nodeport:30053 TCP 192.168.1.1:30053 [{10.32.1.5:5354 192.168.1.2:7950}]",
		"default/dns:nodeport:30053/UDP UDP 192.168.1.1:30053 [{10.32.1.5:5353 192.168.1.2:7950}]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A port with no protocol is TCP.
	for _, r := range Routes(Snapshot{Services: []*workload.Service{svc("web", func(s *workload.ServiceSpec) { s.Ports[0].Protocol = "" })}}) {
		if r.Protocol != workload.ProtocolTCP || r.Name != "default/web:80" {
			t.Errorf("a port without a protocol: %s %s", r.Name, r.Protocol)
		}
	}
}
