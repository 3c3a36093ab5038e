package workload

import (
	"fmt"
	"slices"
	"strings"
)

// ServiceEnv is the environment Kubernetes gives a container for the
// services of its namespace that exist when it starts (docker links
// style), for every service with a cluster IP, sorted by service name:
//
//	WEB_SERVICE_HOST=10.96.0.10
//	WEB_SERVICE_PORT=80
//	WEB_SERVICE_PORT_HTTP=80              (a named port)
//	WEB_PORT=tcp://10.96.0.10:80          (the first port)
//	WEB_PORT_80_TCP=tcp://10.96.0.10:80
//	WEB_PORT_80_TCP_PROTO=tcp
//	WEB_PORT_80_TCP_PORT=80
//	WEB_PORT_80_TCP_ADDR=10.96.0.10
func ServiceEnv(services []*Service) []string {
	sorted := slices.Clone(services)
	slices.SortFunc(sorted, func(a, b *Service) int { return strings.Compare(a.ObjectMeta.Name, b.ObjectMeta.Name) })
	var out []string
	for _, s := range sorted {
		ip := s.Spec.ClusterIP
		if ip == "" || ip == "None" || len(s.Spec.Ports) == 0 {
			continue
		}
		name := strings.ToUpper(strings.ReplaceAll(s.ObjectMeta.Name, "-", "_"))
		first := s.Spec.Ports[0]
		out = append(out, fmt.Sprintf("%s_SERVICE_HOST=%s", name, ip), fmt.Sprintf("%s_SERVICE_PORT=%d", name, first.Port))
		for _, p := range s.Spec.Ports {
			if p.Name != "" {
				out = append(out, fmt.Sprintf("%s_SERVICE_PORT_%s=%d", name, strings.ToUpper(strings.ReplaceAll(p.Name, "-", "_")), p.Port))
			}
		}
		proto := strings.ToLower(string(first.Protocol))
		if proto == "" {
			proto = "tcp"
		}
		out = append(out, fmt.Sprintf("%s_PORT=%s://%s:%d", name, proto, ip, first.Port))
		for _, p := range s.Spec.Ports {
			proto := strings.ToLower(string(p.Protocol))
			if proto == "" {
				proto = "tcp"
			}
			prefix := fmt.Sprintf("%s_PORT_%d_%s", name, p.Port, strings.ToUpper(proto))
			out = append(out,
				fmt.Sprintf("%s=%s://%s:%d", prefix, proto, ip, p.Port),
				fmt.Sprintf("%s_PROTO=%s", prefix, proto),
				fmt.Sprintf("%s_PORT=%d", prefix, p.Port),
				fmt.Sprintf("%s_ADDR=%s", prefix, ip))
		}
	}
	return out
}
