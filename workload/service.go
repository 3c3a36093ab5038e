package workload

import (
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"net/netip"

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
	if sp.InternalTrafficPolicy == nil {
		p := corev1.ServiceInternalTrafficPolicyCluster
		sp.InternalTrafficPolicy = &p
	}
	if sp.Type == ServiceTypeNodePort && sp.ExternalTrafficPolicy == "" {
		sp.ExternalTrafficPolicy = TrafficPolicyCluster
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
	errs = append(errs, optionalEnum(path.Child("type"), sp.Type, ServiceTypeClusterIP, ServiceTypeNodePort)...)
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
	}
	for i, f := range sp.IPFamilies {
		if f != "IPv4" {
			errs = append(errs, field.NotSupported(path.Child("ipFamilies").Index(i), f, []string{"IPv4"}))
		}
	}
	errs = append(errs, validateLabels(sp.Selector, path.Child("selector"))...)
	if sp.ClusterIP != "" {
		if a, err := netip.ParseAddr(sp.ClusterIP); err != nil || !a.Is4() {
			errs = append(errs, field.Invalid(path.Child("clusterIP"), sp.ClusterIP, "must be a valid IPv4 address (or empty, to have one allocated)"))
		}
		if len(sp.ClusterIPs) > 0 && sp.ClusterIPs[0] != sp.ClusterIP {
			errs = append(errs, field.Invalid(path.Child("clusterIPs").Index(0), sp.ClusterIPs[0], "must match `clusterIP`"))
		}
	}
	pp := path.Child("ports")
	if len(sp.Ports) == 0 {
		errs = append(errs, field.Required(pp, ""))
	}
	names := map[string]bool{}
	ports := map[int32]bool{}
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
		errs = append(errs, optionalEnum(ip.Child("protocol"), p.Protocol, ProtocolTCP)...)
		for _, msg := range validation.IsValidPortNum(int(p.Port)) {
			errs = append(errs, field.Invalid(ip.Child("port"), p.Port, msg))
		}
		if ports[p.Port] {
			errs = append(errs, field.Duplicate(ip, fmt.Sprintf("port %d/%s", p.Port, p.Protocol)))
		}
		ports[p.Port] = true
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
			if sp.Type != ServiceTypeNodePort {
				// ClusterIP, named or by default
				errs = append(errs, field.Forbidden(ip.Child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
			} else if p.NodePort < NodePortMin || p.NodePort > NodePortMax {
				errs = append(errs, field.Invalid(ip.Child("nodePort"), p.NodePort, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %d-%d", NodePortMin, NodePortMax)))
			}
		}
	}
	return errs
}

// optionalEnum checks that v, when set, is one of supported.
func optionalEnum[T ~string](p *field.Path, v T, supported ...T) field.ErrorList {
	if v == "" {
		return nil
	}
	return validateEnum(p, v, supported...)
}
