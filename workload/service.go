package workload

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Session affinity and traffic policies, as in Kubernetes.
const (
	SessionAffinityNone     = "None"
	SessionAffinityClientIP = "ClientIP"
	TrafficPolicyCluster    = "Cluster"
	TrafficPolicyLocal      = "Local"
)

// The NodePort range, as Kubernetes' default.
const (
	NodePortMin = 30000
	NodePortMax = 32767
)

// DefaultClientIPTimeoutSeconds is Kubernetes' ClientIP affinity timeout.
const DefaultClientIPTimeoutSeconds = 10800

func defaultService(s *Service) {
	sp := &s.Spec
	if sp.Type == "" {
		sp.Type = ServiceTypeClusterIP
	}
	if sp.SessionAffinity == "" {
		sp.SessionAffinity = SessionAffinityNone
	}
	if sp.SessionAffinity == SessionAffinityClientIP {
		if sp.SessionAffinityConfig == nil {
			sp.SessionAffinityConfig = &SessionAffinityConfig{}
		}
		if sp.SessionAffinityConfig.ClientIP == nil {
			sp.SessionAffinityConfig.ClientIP = &ClientIPConfig{}
		}
		if sp.SessionAffinityConfig.ClientIP.TimeoutSeconds == nil {
			t := int32(DefaultClientIPTimeoutSeconds)
			sp.SessionAffinityConfig.ClientIP.TimeoutSeconds = &t
		}
	}
	if sp.InternalTrafficPolicy == nil && sp.Type != ServiceTypeExternalName {
		p := corev1.ServiceInternalTrafficPolicyCluster
		sp.InternalTrafficPolicy = &p
	}
	if (sp.Type == ServiceTypeNodePort || sp.Type == ServiceTypeLoadBalancer) && sp.ExternalTrafficPolicy == "" {
		sp.ExternalTrafficPolicy = TrafficPolicyCluster
	}
	if sp.Type == ServiceTypeLoadBalancer && sp.AllocateLoadBalancerNodePorts == nil {
		yes := true
		sp.AllocateLoadBalancerNodePorts = &yes
	}
	for i := range sp.Ports {
		p := &sp.Ports[i]
		if p.Protocol == "" {
			p.Protocol = ProtocolTCP
		}
		if p.TargetPort == (IntOrString{}) {
			p.TargetPort = IntOrStringFromInt32(p.Port)
		}
	}
	if sp.ClusterIP != "" && len(sp.ClusterIPs) == 0 {
		sp.ClusterIPs = []string{sp.ClusterIP}
	}
}

func validateService(s *Service) field.ErrorList {
	sp := &s.Spec
	path := field.NewPath("spec")
	var errs field.ErrorList
	// Empty fields are allowed: validation runs before defaults too.
	errs = append(errs, optionalEnum(path.Child("type"), sp.Type, ServiceTypeClusterIP, ServiceTypeNodePort, ServiceTypeLoadBalancer, ServiceTypeExternalName)...)
	errs = append(errs, optionalEnum(path.Child("sessionAffinity"), sp.SessionAffinity, SessionAffinityNone, SessionAffinityClientIP)...)
	if c := sp.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
		if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > 86400 {
			errs = append(errs, field.Invalid(path.Child("sessionAffinityConfig", "clientIP", "timeoutSeconds"), t, "must be greater than 0 and less than 86400"))
		}
	}
	if sp.InternalTrafficPolicy != nil {
		errs = append(errs, validateEnum(path.Child("internalTrafficPolicy"), *sp.InternalTrafficPolicy, TrafficPolicyCluster, TrafficPolicyLocal)...)
	}
	if sp.ExternalTrafficPolicy != "" {
		errs = append(errs, validateEnum(path.Child("externalTrafficPolicy"), sp.ExternalTrafficPolicy, TrafficPolicyCluster, TrafficPolicyLocal)...)
		if sp.Type != ServiceTypeNodePort && sp.Type != ServiceTypeLoadBalancer {
			errs = append(errs, field.Invalid(path.Child("externalTrafficPolicy"), sp.ExternalTrafficPolicy, "may only be set for externally-accessible services"))
		}
	}
	for i, f := range sp.IPFamilies {
		if f != "IPv4" {
			errs = append(errs, field.NotSupported(path.Child("ipFamilies").Index(i), f, []string{"IPv4"}))
		}
	}
	if p := sp.IPFamilyPolicy; p != nil {
		errs = append(errs, validateEnum(path.Child("ipFamilyPolicy"), *p, corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack)...)
		if *p == corev1.IPFamilyPolicyRequireDualStack {
			errs = append(errs, field.Invalid(path.Child("ipFamilyPolicy"), *p, "this cluster is configured for single-stack (IPv4) services only"))
		}
	}
	errs = append(errs, validateLabels(sp.Selector, path.Child("selector"))...)
	headless := sp.ClusterIP == ClusterIPNone
	external := sp.Type == ServiceTypeExternalName
	switch {
	case sp.ClusterIP == "":
	case headless:
		if sp.Type == ServiceTypeNodePort || sp.Type == ServiceTypeLoadBalancer {
			errs = append(errs, field.Invalid(path.Child("clusterIPs").Index(0), sp.ClusterIP, fmt.Sprintf("may not be set to 'None' for %s services", sp.Type)))
		}
	case external:
		errs = append(errs, field.Forbidden(path.Child("clusterIPs"), "may not be set for ExternalName services"))
	default:
		if a, err := netip.ParseAddr(sp.ClusterIP); err != nil || !a.Is4() {
			errs = append(errs, field.Invalid(path.Child("clusterIP"), sp.ClusterIP, "must be a valid IPv4 address, 'None' or empty (to have one allocated)"))
		}
	}
	if sp.ClusterIP != "" && len(sp.ClusterIPs) > 0 && sp.ClusterIPs[0] != sp.ClusterIP {
		errs = append(errs, field.Invalid(path.Child("clusterIPs").Index(0), sp.ClusterIPs[0], "must match `clusterIP`"))
	}
	if external {
		ep := path.Child("externalName")
		if sp.ExternalName == "" {
			errs = append(errs, field.Required(ep, ""))
		}
		for _, msg := range validation.IsDNS1123Subdomain(strings.TrimSuffix(sp.ExternalName, ".")) {
			if sp.ExternalName != "" {
				errs = append(errs, field.Invalid(ep, sp.ExternalName, msg))
			}
		}
	}
	for i, ip := range sp.ExternalIPs {
		if _, err := netip.ParseAddr(ip); err != nil {
			errs = append(errs, field.Invalid(path.Child("externalIPs").Index(i), ip, "must be a valid IP address"))
		}
	}
	if len(sp.LoadBalancerSourceRanges) > 0 && sp.Type != ServiceTypeLoadBalancer {
		errs = append(errs, field.Forbidden(path.Child("loadBalancerSourceRanges"), "may only be used when `type` is 'LoadBalancer'"))
	}
	for i, r := range sp.LoadBalancerSourceRanges {
		if _, err := netip.ParsePrefix(strings.TrimSpace(r)); err != nil {
			errs = append(errs, field.Invalid(path.Child("loadBalancerSourceRanges").Index(i), r, "must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 "))
		}
	}
	if sp.LoadBalancerClass != nil {
		if sp.Type != ServiceTypeLoadBalancer {
			errs = append(errs, field.Forbidden(path.Child("loadBalancerClass"), "may only be used when `type` is 'LoadBalancer'"))
		}
		for _, msg := range validation.IsQualifiedName(*sp.LoadBalancerClass) {
			errs = append(errs, field.Invalid(path.Child("loadBalancerClass"), *sp.LoadBalancerClass, msg))
		}
	}
	pp := path.Child("ports")
	if len(sp.Ports) == 0 && !headless && !external {
		errs = append(errs, field.Required(pp, ""))
	}
	names := map[string]bool{}
	ports := map[string]bool{}
	for i, p := range sp.Ports {
		ip := pp.Index(i)
		if len(sp.Ports) > 1 && p.Name == "" {
			errs = append(errs, field.Required(ip.Child("name"), "must be specified when there is more than one port"))
		}
		if p.Name != "" {
			for _, msg := range validation.IsDNS1123Label(p.Name) {
				errs = append(errs, field.Invalid(ip.Child("name"), p.Name, msg))
			}
			if names[p.Name] {
				errs = append(errs, field.Duplicate(ip.Child("name"), p.Name))
			}
			names[p.Name] = true
		}
		errs = append(errs, optionalEnum(ip.Child("protocol"), p.Protocol, ProtocolTCP, ProtocolUDP, corev1.ProtocolSCTP)...)
		for _, msg := range validation.IsValidPortNum(int(p.Port)) {
			errs = append(errs, field.Invalid(ip.Child("port"), p.Port, msg))
		}
		protocol := p.Protocol
		if protocol == "" {
			protocol = ProtocolTCP
		}
		key := fmt.Sprintf("port %d/%s", p.Port, protocol)
		if ports[key] {
			errs = append(errs, field.Duplicate(ip, key))
		}
		ports[key] = true
		switch {
		case p.TargetPort == (IntOrString{}): // defaults to port
		case p.TargetPort.Type == IntOrStringInt:
			for _, msg := range validation.IsValidPortNum(int(p.TargetPort.IntVal)) {
				errs = append(errs, field.Invalid(ip.Child("targetPort"), p.TargetPort.IntVal, msg))
			}
		default:
			for _, msg := range validation.IsValidPortName(p.TargetPort.StrVal) {
				errs = append(errs, field.Invalid(ip.Child("targetPort"), p.TargetPort.StrVal, msg))
			}
		}
		if p.NodePort != 0 {
			if sp.Type != ServiceTypeNodePort && sp.Type != ServiceTypeLoadBalancer {
				t := sp.Type
				if t == "" {
					t = ServiceTypeClusterIP
				}
				errs = append(errs, field.Forbidden(ip.Child("nodePort"), fmt.Sprintf("may not be used when `type` is '%s'", t)))
			} else if p.NodePort < NodePortMin || p.NodePort > NodePortMax {
				errs = append(errs, field.Invalid(ip.Child("nodePort"), p.NodePort, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %d-%d", NodePortMin, NodePortMax)))
			}
		}
	}
	return errs
}

// HasNodePorts says whether a Service gets NodePorts: a NodePort one, and a
// LoadBalancer one unless allocateLoadBalancerNodePorts is false.
func HasNodePorts(s *Service) bool {
	switch s.Spec.Type {
	case ServiceTypeNodePort:
		return true
	case ServiceTypeLoadBalancer:
		a := s.Spec.AllocateLoadBalancerNodePorts
		return a == nil || *a
	}
	return false
}

// optionalEnum checks that v, when set, is one of supported.
func optionalEnum[T ~string](p *field.Path, v T, supported ...T) field.ErrorList {
	if v == "" {
		return nil
	}
	return validateEnum(p, v, supported...)
}
