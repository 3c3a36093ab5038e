package printers

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

var serviceSpecDoc = corev1.ServiceSpec{}.SwaggerDoc()

var serviceColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Type", Type: "string", Description: serviceSpecDoc["type"]},
	{Name: "Cluster-IP", Type: "string", Description: serviceSpecDoc["clusterIP"]},
	{Name: "External-IP", Type: "string", Description: serviceSpecDoc["externalIPs"]},
	{Name: "Port(s)", Type: "string", Description: serviceSpecDoc["ports"]},
	ageColumn,
	{Name: "Selector", Type: "string", Priority: 1, Description: serviceSpecDoc["selector"]},
}

var endpointsColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Endpoints", Type: "string", Description: corev1.Endpoints{}.SwaggerDoc()["subsets"]},
	ageColumn,
}

// serviceCells is a service's row: NAME, TYPE, CLUSTER-IP, EXTERNAL-IP,
// PORT(S), AGE, SELECTOR.
func serviceCells(svc *corev1.Service, now time.Time) []any {
	// kube-apiserver keeps clusterIPs[0] equal to clusterIP and prints the
	// former; a Shoal service may carry only the latter.
	clusterIP := "<none>"
	switch {
	case len(svc.Spec.ClusterIPs) > 0:
		clusterIP = svc.Spec.ClusterIPs[0]
	case svc.Spec.ClusterIP != "":
		clusterIP = svc.Spec.ClusterIP
	}
	ports := servicePorts(svc.Spec.Ports)
	if ports == "" {
		ports = "<none>"
	}
	return []any{
		svc.Name,
		string(svc.Spec.Type),
		clusterIP,
		serviceExternalIP(svc),
		ports,
		age(svc.CreationTimestamp, now),
		labels.FormatLabels(svc.Spec.Selector),
	}
}

// serviceExternalIP is the EXTERNAL-IP cell: the external IPs of a
// ClusterIP or NodePort service ("<none>" without), a load balancer's
// ingress IPs or host names then its external IPs ("<pending>" while it has
// neither), an ExternalName service's name, "<unknown>" for another type.
// Server-side tables are wide, so the load balancer list is never
// shortened.
func serviceExternalIP(svc *corev1.Service) string {
	switch svc.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(svc.Spec.ExternalIPs, ",")
		}
		return "<none>"
	case corev1.ServiceTypeLoadBalancer:
		ips := append(loadBalancerIngress(svc.Status.LoadBalancer), svc.Spec.ExternalIPs...)
		if len(ips) == 0 {
			return "<pending>"
		}
		return strings.Join(ips, ",")
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}

// loadBalancerIngress is the load balancer's ingress points, each its IP or
// else its host name, sorted and without duplicates.
func loadBalancerIngress(lb corev1.LoadBalancerStatus) []string {
	var out []string
	for _, in := range lb.Ingress {
		switch {
		case in.IP != "":
			out = append(out, in.IP)
		case in.Hostname != "":
			out = append(out, in.Hostname)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// servicePorts is the PORT(S) cell: "80/TCP", or "80:30080/TCP" with a node
// port, comma-separated.
func servicePorts(ports []corev1.ServicePort) string {
	out := make([]string, len(ports))
	for i, p := range ports {
		if p.NodePort > 0 {
			out[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		} else {
			out[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		}
	}
	return strings.Join(out, ",")
}

// endpointsCells is an Endpoints' row: NAME, ENDPOINTS, AGE.
func endpointsCells(ep *corev1.Endpoints, now time.Time) []any {
	return []any{ep.Name, endpointsList(ep), age(ep.CreationTimestamp, now)}
}

// maxEndpoints is how many addresses the ENDPOINTS cell lists before
// "+ N more...".
const maxEndpoints = 3

// endpointsList is the ENDPOINTS cell: ready addresses as ip:port (bare ips
// for a subset without ports), the first three of them and a count of the
// rest, "<none>" for no subsets.
func endpointsList(ep *corev1.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return "<none>"
	}
	var list []string
	count := 0
	for _, ss := range ep.Subsets {
		if len(ss.Ports) == 0 {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				if len(list) < maxEndpoints {
					list = append(list, a.IP)
				}
			}
			continue
		}
		for _, p := range ss.Ports {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				if len(list) < maxEndpoints {
					list = append(list, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
				}
			}
		}
	}
	out := strings.Join(list, ",")
	if count > maxEndpoints {
		return fmt.Sprintf("%s + %d more...", out, count-maxEndpoints)
	}
	return out
}
