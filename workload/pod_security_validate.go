package workload

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The security of a pod: its security context and its containers', the
// host namespaces it shares, its sysctls and its operating system, checked
// as Kubernetes checks them.

// validatePodSecurityContext checks spec.securityContext and the host
// namespace fields beside it (spec is the pod spec's path). Kubernetes
// keeps hostNetwork, hostPID, hostIPC, shareProcessNamespace and hostUsers
// in the security context internally, which shows in some of its paths;
// Shoal reports the same paths.
func validatePodSecurityContext(s *PodSpec, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	p := spec.Child("securityContext")
	if s.ShareProcessNamespace != nil && *s.ShareProcessNamespace && s.HostPID {
		errs = append(errs, field.Invalid(p.Child("shareProcessNamespace"), true, "ShareProcessNamespace and HostPID cannot both be enabled"))
	}
	if s.HostUsers != nil && !*s.HostUsers {
		for _, host := range []struct {
			path string
			set  bool
		}{{"hostNetwork", s.HostNetwork}, {"HostPID", s.HostPID}, {"HostIPC", s.HostIPC}} {
			if host.set {
				errs = append(errs, field.Forbidden(spec.Child(host.path), "when `pod.Spec.HostUsers` is false"))
			}
		}
	}
	sc := s.SecurityContext
	if sc == nil {
		return errs
	}
	errs = append(errs, validateIDs(sc.RunAsUser, sc.RunAsGroup, p)...)
	if g := sc.FSGroup; g != nil {
		for _, msg := range validation.IsValidGroupID(*g) {
			errs = append(errs, field.Invalid(p.Child("fsGroup"), *g, msg))
		}
	}
	for i, g := range sc.SupplementalGroups {
		for _, msg := range validation.IsValidGroupID(g) {
			errs = append(errs, field.Invalid(p.Child("supplementalGroups").Index(i), g, msg))
		}
	}
	errs = append(errs, validateSysctls(sc.Sysctls, s.HostNetwork, s.HostIPC, p.Child("sysctls"))...)
	if v := sc.FSGroupChangePolicy; v != nil {
		errs = append(errs, validateEnum(p.Child("fsGroupChangePolicy"), *v, corev1.FSGroupChangeAlways, corev1.FSGroupChangeOnRootMismatch)...)
	}
	if v := sc.SupplementalGroupsPolicy; v != nil {
		errs = append(errs, validateEnum(p.Child("supplementalGroupsPolicy"), *v, corev1.SupplementalGroupsPolicyMerge, corev1.SupplementalGroupsPolicyStrict)...)
	}
	if v := sc.SELinuxChangePolicy; v != nil {
		errs = append(errs, validateEnum(p.Child("seLinuxChangePolicy"), *v, corev1.SELinuxChangePolicyMountOption, corev1.SELinuxChangePolicyRecursive)...)
	}
	errs = append(errs, validateSeccompProfile(sc.SeccompProfile, p.Child("seccompProfile"))...)
	return append(errs, validateAppArmorProfile(sc.AppArmorProfile, p.Child("appArmorProfile"))...)
}

// validateContainerSecurityContext checks a container's securityContext.
func validateContainerSecurityContext(sc *corev1.SecurityContext, p *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	errs := validateIDs(sc.RunAsUser, sc.RunAsGroup, p)
	if m := sc.ProcMount; m != nil {
		errs = append(errs, validateEnum(p.Child("procMount"), *m, corev1.DefaultProcMount, corev1.UnmaskedProcMount)...)
	}
	if ape := sc.AllowPrivilegeEscalation; ape != nil && !*ape {
		if sc.Privileged != nil && *sc.Privileged {
			errs = append(errs, field.Invalid(p, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		if sc.Capabilities != nil {
			for _, c := range sc.Capabilities.Add {
				if c == "SYS_ADMIN" || c == "CAP_SYS_ADMIN" {
					errs = append(errs, field.Invalid(p, sc, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
				}
			}
		}
	}
	errs = append(errs, validateSeccompProfile(sc.SeccompProfile, p.Child("seccompProfile"))...)
	return append(errs, validateAppArmorProfile(sc.AppArmorProfile, p.Child("appArmorProfile"))...)
}

func validateIDs(user, group *int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if user != nil {
		for _, msg := range validation.IsValidUserID(*user) {
			errs = append(errs, field.Invalid(p.Child("runAsUser"), *user, msg))
		}
	}
	if group != nil {
		for _, msg := range validation.IsValidGroupID(*group) {
			errs = append(errs, field.Invalid(p.Child("runAsGroup"), *group, msg))
		}
	}
	return errs
}

func validateSeccompProfile(sp *corev1.SeccompProfile, p *field.Path) field.ErrorList {
	if sp == nil {
		return nil
	}
	var errs field.ErrorList
	switch sp.Type {
	case corev1.SeccompProfileTypeLocalhost, corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined:
	case "":
		errs = append(errs, field.Required(p.Child("type"), "type is required when seccompProfile is set"))
	default:
		errs = append(errs, field.NotSupported(p.Child("type"), sp.Type, []corev1.SeccompProfileType{
			corev1.SeccompProfileTypeLocalhost, corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined}))
	}
	lp := p.Child("localhostProfile")
	switch {
	case sp.Type == corev1.SeccompProfileTypeLocalhost && sp.LocalhostProfile == nil:
		errs = append(errs, field.Required(lp, "must be set when seccomp type is Localhost"))
	case sp.Type == corev1.SeccompProfileTypeLocalhost:
		errs = append(errs, validateRelativePath(*sp.LocalhostProfile, lp)...)
	case sp.LocalhostProfile != nil:
		errs = append(errs, field.Invalid(lp, sp, "can only be set when seccomp type is Localhost"))
	}
	return errs
}

func validateAppArmorProfile(ap *corev1.AppArmorProfile, p *field.Path) field.ErrorList {
	if ap == nil {
		return nil
	}
	lp := p.Child("localhostProfile")
	switch ap.Type {
	case corev1.AppArmorProfileTypeLocalhost:
		switch {
		case ap.LocalhostProfile == nil || *ap.LocalhostProfile == "":
			return field.ErrorList{field.Required(lp, "must be set when AppArmor type is Localhost")}
		case strings.TrimSpace(*ap.LocalhostProfile) != *ap.LocalhostProfile:
			return field.ErrorList{field.Invalid(lp, *ap.LocalhostProfile, "must not be padded with whitespace")}
		}
	case corev1.AppArmorProfileTypeRuntimeDefault, corev1.AppArmorProfileTypeUnconfined:
		if ap.LocalhostProfile != nil {
			return field.ErrorList{field.Invalid(lp, *ap.LocalhostProfile, "can only be set when AppArmor type is Localhost")}
		}
	case "":
		return field.ErrorList{field.Required(p.Child("type"), "type is required when appArmorProfile is set")}
	default:
		return field.ErrorList{field.NotSupported(p.Child("type"), ap.Type, []corev1.AppArmorProfileType{
			corev1.AppArmorProfileTypeLocalhost, corev1.AppArmorProfileTypeRuntimeDefault, corev1.AppArmorProfileTypeUnconfined})}
	}
	return nil
}

// validateAppArmorAnnotations checks a pod's beta AppArmor annotations
// (container.apparmor.security.beta.kubernetes.io/NAME), as Kubernetes
// still does: NAME is one of the pod's containers and the value is
// runtime/default, unconfined or localhost/PROFILE.
func validateAppArmorAnnotations(p *Pod, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(p.Annotations) {
		name, ok := strings.CutPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix)
		if !ok {
			continue
		}
		if !podHasContainer(&p.Spec, name) {
			errs = append(errs, field.Invalid(path.Key(k), name, "container not found"))
		}
		switch v := p.Annotations[k]; {
		case v == "", v == corev1.DeprecatedAppArmorBetaProfileRuntimeDefault, v == corev1.DeprecatedAppArmorBetaProfileNameUnconfined,
			strings.HasPrefix(v, corev1.DeprecatedAppArmorBetaProfileNamePrefix):
		default:
			errs = append(errs, field.Invalid(path.Key(k), v, fmt.Sprintf("invalid AppArmor profile name: %q", v)))
		}
	}
	return errs
}

func podHasContainer(s *PodSpec, name string) bool {
	for _, cs := range [][]Container{s.InitContainers, s.Containers} {
		for _, c := range cs {
			if c.Name == name {
				return true
			}
		}
	}
	for _, c := range s.EphemeralContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// A sysctl name: dot- or slash-separated segments, at most 253 characters.
const sysctlMaxLength = 253

var sysctlName = regexp.MustCompile(`^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`)

// ipcSysctls are the sysctls of the IPC namespace, besides fs.mqueue.*.
var ipcSysctls = []string{
	"kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
}

// validateSysctls checks a pod's sysctls: well-formed names, each once, and
// none of a namespace the pod shares with the host.
func validateSysctls(sysctls []corev1.Sysctl, hostNetwork, hostIPC bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, s := range sysctls {
		np := p.Index(i).Child("name")
		switch {
		case s.Name == "":
			errs = append(errs, field.Required(np, ""))
		case len(s.Name) > sysctlMaxLength || !sysctlName.MatchString(s.Name):
			errs = append(errs, field.Invalid(np, s.Name, fmt.Sprintf("must have at most %d characters and match regex %s", sysctlMaxLength, sysctlName)))
		case seen[s.Name]:
			errs = append(errs, field.Duplicate(np, s.Name))
		}
		seen[s.Name] = true
		// A name may use slashes for dots (net/ipv4/ip_forward).
		name := strings.ReplaceAll(s.Name, "/", ".")
		switch {
		case hostNetwork && strings.HasPrefix(name, "net."):
			errs = append(errs, field.Invalid(np, s.Name, "may not be specified when 'hostNetwork' is true"))
		case hostIPC && (strings.HasPrefix(name, "fs.mqueue.") || slices.Contains(ipcSysctls, name)):
			errs = append(errs, field.Invalid(np, s.Name, "may not be specified when 'hostIPC' is true"))
		}
	}
	return errs
}

// validateOS checks spec.os and, for a Linux pod, that no container asks
// for Windows options.
func validateOS(s *PodSpec, spec *field.Path) field.ErrorList {
	if s.OS == nil {
		return nil
	}
	p := spec.Child("os")
	switch s.OS.Name {
	case "":
		return field.ErrorList{field.Required(p.Child("name"), "cannot be empty")}
	case corev1.Linux:
	case corev1.Windows:
		return nil
	default:
		return field.ErrorList{field.NotSupported(p, s.OS.Name, []corev1.OSName{corev1.Linux, corev1.Windows})}
	}
	var errs field.ErrorList
	const msg = "windows options cannot be set for a linux pod"
	if sc := s.SecurityContext; sc != nil && sc.WindowsOptions != nil {
		errs = append(errs, field.Forbidden(spec.Child("securityContext", "windowsOptions"), msg))
	}
	for _, list := range []struct {
		name string
		cs   []Container
	}{{"containers", s.Containers}, {"initContainers", s.InitContainers}} {
		for i, c := range list.cs {
			if c.SecurityContext != nil && c.SecurityContext.WindowsOptions != nil {
				errs = append(errs, field.Forbidden(spec.Child(list.name).Index(i).Child("securityContext", "windowsOptions"), msg))
			}
		}
	}
	return errs
}
