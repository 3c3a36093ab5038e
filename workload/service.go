package workload

import (
	"fmt"
	"net/netip"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Service (v1) gives the pods its selector picks one stable address.
type Service struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta    `json:"metadata"`
	Spec     ServiceSpec   `json:"spec"`
	Status   ServiceStatus `json:"status,omitempty"`
}

// GetMeta returns the service's metadata.
func (s *Service) GetMeta() *ObjectMeta { return &s.Metadata }

// ServiceType says how a service is reached.
type ServiceType string

// The service types Shoal serves.
const (
	ServiceTypeClusterIP ServiceType = "ClusterIP" // a cluster IP, from inside the cluster
	ServiceTypeNodePort  ServiceType = "NodePort"  // also a port on every peer's own address
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

// ServiceSpec is what a user asks of a service.
type ServiceSpec struct {
	Type                  ServiceType            `json:"type,omitempty"`
	Selector              map[string]string      `json:"selector,omitempty"`
	Ports                 []ServicePort          `json:"ports,omitempty"`
	ClusterIP             string                 `json:"clusterIP,omitempty"`
	ClusterIPs            []string               `json:"clusterIPs,omitempty"`
	SessionAffinity       string                 `json:"sessionAffinity,omitempty"`
	SessionAffinityConfig *SessionAffinityConfig `json:"sessionAffinityConfig,omitempty"`
	InternalTrafficPolicy *string                `json:"internalTrafficPolicy,omitempty"`
	ExternalTrafficPolicy string                 `json:"externalTrafficPolicy,omitempty"`
	IPFamilies            []string               `json:"ipFamilies,omitempty"`
	IPFamilyPolicy        *string                `json:"ipFamilyPolicy,omitempty"`
}

// ServicePort is one port a service exposes and where it forwards.
type ServicePort struct {
	Name        string      `json:"name,omitempty"`
	Protocol    Protocol    `json:"protocol,omitempty"`
	AppProtocol *string     `json:"appProtocol,omitempty"`
	Port        int32       `json:"port"`
	TargetPort  IntOrString `json:"targetPort,omitempty"`
	NodePort    int32       `json:"nodePort,omitempty"`
}

// SessionAffinityConfig holds ClientIP affinity's timeout.
type SessionAffinityConfig struct {
	ClientIP *ClientIPConfig `json:"clientIP,omitempty"`
}

// ClientIPConfig is how long a client sticks to its endpoint.
type ClientIPConfig struct {
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty"`
}

// ServiceStatus is empty for the types Shoal serves (no load balancers);
// it exists so that manifests carrying `status: {loadBalancer: {}}` load.
type ServiceStatus struct {
	LoadBalancer *LoadBalancerStatus `json:"loadBalancer,omitempty"`
}

// LoadBalancerStatus lists a load balancer's addresses.
type LoadBalancerStatus struct {
	Ingress []LoadBalancerIngress `json:"ingress,omitempty"`
}

// LoadBalancerIngress is one load balancer address.
type LoadBalancerIngress struct {
	IP       string `json:"ip,omitempty"`
	Hostname string `json:"hostname,omitempty"`
}

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
		p := TrafficPolicyCluster
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
		if p.TargetPort.IsZero() {
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
		case p.TargetPort.IsZero(): // defaults to port
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
