package nodeagent

import (
	"bufio"
	"bytes"
	"os"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
)

// podDNS is the pod's resolv.conf (nil: the host's as it is), as kubelet
// makes it: see PodDNS. The host's file is read only when needed.
func (a *Agent) podDNS(pod *workload.Pod) *runtime.DNSConfig {
	return PodDNS(pod, a.cfg.ClusterDNS, a.clusterDomain(), a.hostDNS)
}

func (a *Agent) clusterDomain() string {
	if a.cfg.ClusterDomain == "" {
		return "cluster.local"
	}
	return a.cfg.ClusterDomain
}

// hostDNS reads the host's resolver configuration; nil when there is none.
func (a *Agent) hostDNS() *runtime.DNSConfig {
	path := a.cfg.ResolvConf
	if path == "" {
		path = "/etc/resolv.conf"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return ParseResolvConf(b)
}

// PodDNS decides a pod's resolv.conf from its dnsPolicy and dnsConfig, as
// kubelet does (nil means the host's file unchanged):
//
//   - ClusterFirst (the default) and ClusterFirstWithHostNet: the cluster
//     DNS, the search path NS.svc.DOMAIN, svc.DOMAIN, DOMAIN and then the
//     host's, and ndots:5; a ClusterFirst pod on the host's network, or any
//     ClusterFirst pod when the cluster has no DNS, gets the host's;
//   - Default: the host's;
//   - None: only what dnsConfig says.
//
// dnsConfig's nameservers and searches are then appended (without
// duplicates) and its options override those of the same name.
func PodDNS(pod *workload.Pod, clusterDNS, domain string, host func() *runtime.DNSConfig) *runtime.DNSConfig {
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = corev1.DNSClusterFirst
	}
	if policy == corev1.DNSClusterFirst && pod.Spec.HostNetwork {
		policy = corev1.DNSDefault
	}
	if (policy == corev1.DNSClusterFirst || policy == corev1.DNSClusterFirstWithHostNet) && clusterDNS == "" {
		policy = corev1.DNSDefault
	}
	extra := pod.Spec.DNSConfig
	var out *runtime.DNSConfig
	switch policy {
	case corev1.DNSNone:
		out = &runtime.DNSConfig{}
	case corev1.DNSDefault:
		if extra == nil {
			return nil
		}
		out = host()
		if out == nil {
			out = &runtime.DNSConfig{}
		}
	default: // ClusterFirst, ClusterFirstWithHostNet
		ns := pod.ObjectMeta.Namespace
		out = &runtime.DNSConfig{Servers: []string{clusterDNS},
			Searches: []string{ns + ".svc." + domain, "svc." + domain, domain}, Options: []string{"ndots:5"}}
		if h := host(); h != nil {
			out.Searches = appendNew(out.Searches, h.Searches...)
		}
	}
	if extra != nil {
		out.Servers = appendNew(out.Servers, extra.Nameservers...)
		out.Searches = appendNew(out.Searches, extra.Searches...)
		for _, o := range extra.Options {
			opt := o.Name
			if o.Value != nil {
				opt += ":" + *o.Value
			}
			out.Options = slices.DeleteFunc(out.Options, func(have string) bool {
				name, _, _ := strings.Cut(have, ":")
				return name == o.Name
			})
			out.Options = append(out.Options, opt)
		}
	}
	return out
}

func appendNew(list []string, more ...string) []string {
	for _, m := range more {
		if !slices.Contains(list, m) {
			list = append(list, m)
		}
	}
	return list
}

// ParseResolvConf reads a resolv.conf: nameserver, search (and domain)
// and options lines.
func ParseResolvConf(b []byte) *runtime.DNSConfig {
	out := &runtime.DNSConfig{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			out.Servers = append(out.Servers, f[1])
		case "search", "domain":
			out.Searches = f[1:] // the last one counts, as for the resolver
		case "options":
			out.Options = append(out.Options, f[1:]...)
		}
	}
	return out
}

// podFQDN is the pod's name in DNS when it has a subdomain:
// HOSTNAME.SUBDOMAIN.NAMESPACE.svc.DOMAIN ("" without a subdomain).
func podFQDN(pod *workload.Pod, domain string) string {
	if pod.Spec.Subdomain == "" {
		return ""
	}
	host := pod.Spec.Hostname
	if host == "" {
		host = pod.ObjectMeta.Name
	}
	return host + "." + pod.Spec.Subdomain + "." + pod.ObjectMeta.Namespace + ".svc." + domain
}

// hostAliases are the pod's spec.hostAliases as /etc/hosts lines.
func hostAliases(pod *workload.Pod) []runtime.HostAlias {
	var out []runtime.HostAlias
	for _, h := range pod.Spec.HostAliases {
		out = append(out, runtime.HostAlias{IP: h.IP, Hostnames: h.Hostnames})
	}
	return out
}
