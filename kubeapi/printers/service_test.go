package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestService follows kube's TestPrintService, TestPrintServiceLoadBalancer
// and TestPrintServiceList. Server-side tables are wide, so a long load
// balancer list is never cut to "2.3.4.5,3.4.5..." as kubectl's own
// narrow printer would.
func TestService(t *testing.T) {
	tcp := func(port int32) []corev1.ServicePort { return []corev1.ServicePort{{Protocol: "tcp", Port: port}} }
	lb := func(ingress ...corev1.LoadBalancerIngress) corev1.ServiceStatus {
		return corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: ingress}}
	}
	tests := []struct {
		name string
		svc  corev1.Service
		want []any
	}{
		{"cluster IP, port with protocol, selector",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "test1"}, Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeClusterIP, Ports: tcp(2233), ClusterIPs: []string{"10.9.8.7"}, Selector: map[string]string{"foo": "bar"},
			}},
			[]any{"test1", "ClusterIP", "10.9.8.7", "<none>", "2233/tcp", "<unknown>", "foo=bar"}},
		{"no selector",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "service1"}, Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeClusterIP, Ports: tcp(2233), ClusterIPs: []string{"10.9.8.7"},
			}},
			[]any{"service1", "ClusterIP", "10.9.8.7", "<none>", "2233/tcp", "<unknown>", "<none>"}},
		{"cluster IP with external IPs",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext"}, Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeClusterIP, Ports: tcp(80), ClusterIPs: []string{"10.9.8.7"}, ExternalIPs: []string{"80.11.12.10", "80.11.12.11"},
			}},
			[]any{"ext", "ClusterIP", "10.9.8.7", "80.11.12.10,80.11.12.11", "80/tcp", "<unknown>", "<none>"}},
		{"headless",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeClusterIP, ClusterIP: "None", ClusterIPs: []string{"None"}, Selector: map[string]string{"app": "db"},
			}},
			[]any{"db", "ClusterIP", "None", "<none>", "<none>", "<unknown>", "app=db"}},
		{"only spec.clusterIP set",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", CreationTimestamp: ago(26 * time.Hour)}, Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10",
				Ports:    []corev1.ServicePort{{Port: 53, Protocol: corev1.ProtocolUDP}, {Port: 53, Protocol: corev1.ProtocolTCP}, {Port: 9153, Protocol: corev1.ProtocolTCP}},
				Selector: map[string]string{"k8s-app": "kube-dns"},
			}},
			[]any{"web", "ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP,9153/TCP", "26h", "k8s-app=kube-dns"}},
		{"no cluster IP at all",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "new"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: tcp(80)}},
			[]any{"new", "ClusterIP", "<none>", "<none>", "80/tcp", "<unknown>", "<none>"}},
		{"node port",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "test2"}, Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Protocol: "tcp", Port: 8888, NodePort: 9999}}, ClusterIPs: []string{"10.9.8.7"},
			}},
			[]any{"test2", "NodePort", "10.9.8.7", "<none>", "8888:9999/tcp", "<unknown>", "<none>"}},
		{"node port with external IP",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "np"}, Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Protocol: "TCP", Port: 80, NodePort: 30080}}, ClusterIPs: []string{"10.9.8.7"}, ExternalIPs: []string{"80.11.12.10"},
			}},
			[]any{"np", "NodePort", "10.9.8.7", "80.11.12.10", "80:30080/TCP", "<unknown>", "<none>"}},
		{"load balancer pending",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "test3"}, Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeLoadBalancer, Ports: tcp(8888), ClusterIPs: []string{"10.9.8.7"},
			}},
			[]any{"test3", "LoadBalancer", "10.9.8.7", "<pending>", "8888/tcp", "<unknown>", "<none>"}},
		{"load balancer with an external IP and no status",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "test4"}, Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeLoadBalancer, Ports: tcp(8888), ClusterIPs: []string{"10.9.8.7"}, ExternalIPs: []string{"80.11.12.10"},
			}},
			[]any{"test4", "LoadBalancer", "10.9.8.7", "80.11.12.10", "8888/tcp", "<unknown>", "<none>"}},
		{"load balancer ingress then external IP",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "test5"}, Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeLoadBalancer, Ports: tcp(8888), ClusterIPs: []string{"10.9.8.7"}, ExternalIPs: []string{"80.11.12.10"},
			}, Status: lb(corev1.LoadBalancerIngress{IP: "3.4.5.6", Hostname: "test.cluster.com"})},
			[]any{"test5", "LoadBalancer", "10.9.8.7", "3.4.5.6,80.11.12.10", "8888/tcp", "<unknown>", "<none>"}},
		{"load balancer ingresses then external IPs",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "test6"}, Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeLoadBalancer, Ports: tcp(8888), ClusterIPs: []string{"10.9.8.7"}, ExternalIPs: []string{"80.11.12.10", "80.11.12.11"},
			}, Status: lb(corev1.LoadBalancerIngress{IP: "2.3.4.5", Hostname: "test.cluster.local"}, corev1.LoadBalancerIngress{IP: "3.4.5.6", Hostname: "test.cluster.com"})},
			[]any{"test6", "LoadBalancer", "10.9.8.7", "2.3.4.5,3.4.5.6,80.11.12.10,80.11.12.11", "8888/tcp", "<unknown>", "<none>"}},
		{"load balancer ingresses",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "service1"}, Spec: corev1.ServiceSpec{
				Type: "LoadBalancer", ClusterIPs: []string{"1.2.3.4"}, Ports: []corev1.ServicePort{{Port: 80, Protocol: "TCP"}},
			}, Status: lb(corev1.LoadBalancerIngress{IP: "2.3.4.5"}, corev1.LoadBalancerIngress{IP: "3.4.5.6"})},
			[]any{"service1", "LoadBalancer", "1.2.3.4", "2.3.4.5,3.4.5.6", "80/TCP", "<unknown>", "<none>"}},
		{"load balancer, many ports",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "service2"}, Spec: corev1.ServiceSpec{
				Type: "LoadBalancer", ClusterIPs: []string{"1.3.4.5"},
				Ports: []corev1.ServicePort{{Port: 80, Protocol: "TCP"}, {Port: 8090, Protocol: "UDP"}, {Port: 8000, Protocol: "TCP"}, {Port: 7777, Protocol: "SCTP"}},
			}},
			[]any{"service2", "LoadBalancer", "1.3.4.5", "<pending>", "80/TCP,8090/UDP,8000/TCP,7777/SCTP", "<unknown>", "<none>"}},
		{"long load balancer list, wide as the server sends it",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "service4"}, Spec: corev1.ServiceSpec{
				Type: "LoadBalancer", ClusterIPs: []string{"1.5.6.7"}, Selector: map[string]string{"foo": "bar"},
				Ports: []corev1.ServicePort{{Port: 80, Protocol: "TCP"}, {Port: 8090, Protocol: "UDP"}, {Port: 8000, Protocol: "TCP"}},
			}, Status: lb(corev1.LoadBalancerIngress{IP: "2.3.4.5"}, corev1.LoadBalancerIngress{IP: "3.4.5.6"}, corev1.LoadBalancerIngress{IP: "5.6.7.8", Hostname: "host5678"})},
			[]any{"service4", "LoadBalancer", "1.5.6.7", "2.3.4.5,3.4.5.6,5.6.7.8", "80/TCP,8090/UDP,8000/TCP", "<unknown>", "foo=bar"}},
		{"load balancer host names, sorted and deduplicated",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "hosts"}, Spec: corev1.ServiceSpec{
				Type: "LoadBalancer", ClusterIPs: []string{"1.5.6.7"}, Ports: tcp(443),
			}, Status: lb(corev1.LoadBalancerIngress{Hostname: "b.example.com"}, corev1.LoadBalancerIngress{Hostname: "a.example.com"}, corev1.LoadBalancerIngress{Hostname: "b.example.com"}, corev1.LoadBalancerIngress{})},
			[]any{"hosts", "LoadBalancer", "1.5.6.7", "a.example.com,b.example.com", "443/tcp", "<unknown>", "<none>"}},
		{"external name",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "test7"}, Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeExternalName, ExternalName: "my.database.example.com",
			}},
			[]any{"test7", "ExternalName", "<none>", "my.database.example.com", "<none>", "<unknown>", "<none>"}},
		{"type not set",
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "raw"}, Spec: corev1.ServiceSpec{ClusterIPs: []string{"10.0.0.1"}, Ports: tcp(80)}},
			[]any{"raw", "", "10.0.0.1", "<unknown>", "80/tcp", "<unknown>", "<none>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.svc, tt.want) })
	}
}

// TestEndpoints follows kube's TestPrintEndpoint.
func TestEndpoints(t *testing.T) {
	addrs := func(ips ...string) []corev1.EndpointAddress {
		out := make([]corev1.EndpointAddress, len(ips))
		for i, ip := range ips {
			out[i].IP = ip
		}
		return out
	}
	tests := []struct {
		name string
		ep   corev1.Endpoints
		want []any
	}{
		{"no subsets",
			corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "endpoint1", CreationTimestamp: ago(-1900 * time.Millisecond)}},
			[]any{"endpoint1", "<none>", "0s"}},
		{"no ports",
			corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "endpoint3", CreationTimestamp: ago(5 * time.Minute)},
				Subsets: []corev1.EndpointSubset{{Addresses: addrs("1.2.3.4", "5.6.7.8")}}},
			[]any{"endpoint3", "1.2.3.4,5.6.7.8", "5m"}},
		{"two addresses, one port",
			corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "endpoint2"},
				Subsets: []corev1.EndpointSubset{{Addresses: addrs("1.2.3.4", "5.6.7.8"), Ports: []corev1.EndpointPort{{Port: 8001, Protocol: "tcp"}}}}},
			[]any{"endpoint2", "1.2.3.4:8001,5.6.7.8:8001", "<unknown>"}},
		{"more than three",
			corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "endpoint2"},
				Subsets: []corev1.EndpointSubset{{Addresses: addrs("1.2.3.4", "5.6.7.8", "9.8.7.6", "6.6.6.6"), Ports: []corev1.EndpointPort{{Port: 8001, Protocol: "tcp"}}}}},
			[]any{"endpoint2", "1.2.3.4:8001,5.6.7.8:8001,9.8.7.6:8001 + 1 more...", "<unknown>"}},
		{"each port of each address, IPv6 bracketed",
			corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "kube-dns"},
				Subsets: []corev1.EndpointSubset{{Addresses: addrs("10.1.0.20", "fd00::21"), Ports: []corev1.EndpointPort{{Name: "dns", Port: 53}, {Name: "dns-tcp", Port: 53}, {Name: "metrics", Port: 9153}}}}},
			[]any{"kube-dns", "10.1.0.20:53,[fd00::21]:53,10.1.0.20:53 + 3 more...", "<unknown>"}},
		{"not-ready addresses are not listed",
			corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "starting"},
				Subsets: []corev1.EndpointSubset{{NotReadyAddresses: addrs("10.1.0.9"), Ports: []corev1.EndpointPort{{Port: 80}}}}},
			[]any{"starting", "", "<unknown>"}},
		{"across subsets",
			corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "split"}, Subsets: []corev1.EndpointSubset{
				{Addresses: addrs("10.0.0.1"), Ports: []corev1.EndpointPort{{Port: 80}}},
				{Addresses: addrs("10.0.0.2", "10.0.0.3"), Ports: []corev1.EndpointPort{{Port: 8080}}},
			}},
			[]any{"split", "10.0.0.1:80,10.0.0.2:8080,10.0.0.3:8080", "<unknown>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.ep, tt.want) })
	}
}
