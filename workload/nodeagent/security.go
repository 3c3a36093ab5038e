package nodeagent

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
)

// How a pod's and its containers' securityContext reach the runtime, as
// the kubelet maps them for the CRI:
//
//   - runAsUser, runAsGroup, runAsNonRoot, seccompProfile and
//     appArmorProfile: the container's value, else the pod's;
//   - supplementalGroups and fsGroup (pod only): the process's extra
//     groups. fsGroup does not change the ownership of volumes;
//   - capabilities, privileged, readOnlyRootFilesystem,
//     allowPrivilegeEscalation (container only);
//   - sysctls (pod only): the sandbox's, from the kubelet's safe set;
//     any other refuses the pod (SysctlForbidden);
//   - procMount, seLinuxOptions, windowsOptions and
//     supplementalGroupsPolicy are accepted and ignored.

// Reasons and messages of what this file refuses or warns about.
const (
	// reasonSysctlForbidden fails a pod with a sysctl outside the safe
	// set, as the kubelet's sysctl admission does.
	reasonSysctlForbidden = "SysctlForbidden"
	// reasonAppArmorNotEnabled is the Warning event of a container that
	// asked for an AppArmor profile on a host without AppArmor: it runs
	// unconfined (a Localhost profile is refused by the runtime instead).
	reasonAppArmorNotEnabled = "AppArmorNotEnabled"
	// appArmorAnnotationPrefix + container name is the annotation that
	// set a container's AppArmor profile before the field existed.
	appArmorAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/"
)

// safeSysctls are the sysctls the kubelet allows without
// --allowed-unsafe-sysctls: namespaced, and isolated from other pods.
var safeSysctls = map[string]bool{
	"kernel.shm_rmid_forced":              true,
	"net.ipv4.ip_local_port_range":        true,
	"net.ipv4.tcp_syncookies":             true,
	"net.ipv4.ping_group_range":           true,
	"net.ipv4.ip_unprivileged_port_start": true,
	"net.ipv4.ip_local_reserved_ports":    true,
	"net.ipv4.tcp_keepalive_time":         true,
	"net.ipv4.tcp_fin_timeout":            true,
	"net.ipv4.tcp_keepalive_intvl":        true,
	"net.ipv4.tcp_keepalive_probes":       true,
	"net.ipv4.tcp_rmem":                   true,
	"net.ipv4.tcp_wmem":                   true,
}

// hostAppArmor reports whether this machine's kernel has AppArmor
// enabled; a variable so tests can pretend either way.
var hostAppArmor = func() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.TrimSpace(string(b)) == "Y"
}

// containerSecurity is the runtime's view of a container's effective
// security context (see the top of this file).
func containerSecurity(pod *workload.Pod, c workload.Container) runtime.Security {
	var sec runtime.Security
	psc := pod.Spec.SecurityContext
	csc := c.SecurityContext
	if psc != nil {
		sec.RunAsUser, sec.RunAsGroup = psc.RunAsUser, psc.RunAsGroup
		sec.Seccomp = seccompProfile(psc.SeccompProfile)
		sec.SupplementalGroups = append(sec.SupplementalGroups, psc.SupplementalGroups...)
		if psc.FSGroup != nil {
			sec.SupplementalGroups = append(sec.SupplementalGroups, *psc.FSGroup)
		}
	}
	if csc != nil {
		if csc.RunAsUser != nil {
			sec.RunAsUser = csc.RunAsUser
		}
		if csc.RunAsGroup != nil {
			sec.RunAsGroup = csc.RunAsGroup
		}
		if csc.SeccompProfile != nil {
			sec.Seccomp = seccompProfile(csc.SeccompProfile)
		}
		if caps := csc.Capabilities; caps != nil {
			for _, a := range caps.Add {
				sec.AddCapabilities = append(sec.AddCapabilities, string(a))
			}
			for _, d := range caps.Drop {
				sec.DropCapabilities = append(sec.DropCapabilities, string(d))
			}
		}
		sec.Privileged = csc.Privileged != nil && *csc.Privileged
		sec.ReadOnlyRootFS = csc.ReadOnlyRootFilesystem != nil && *csc.ReadOnlyRootFilesystem
		sec.NoNewPrivileges = csc.AllowPrivilegeEscalation != nil && !*csc.AllowPrivilegeEscalation
	}
	sec.AppArmor = appArmorProfile(pod, c)
	return sec
}

func seccompProfile(p *corev1.SeccompProfile) runtime.Profile {
	if p == nil {
		return runtime.Profile{} // the kubelet's default: unconfined
	}
	return profileOf(string(p.Type), p.LocalhostProfile)
}

// profileOf maps a seccomp or AppArmor profile of the API (their types are
// spelled alike) to the runtime's.
func profileOf(typ string, localhost *string) runtime.Profile {
	switch typ {
	case string(corev1.SeccompProfileTypeRuntimeDefault):
		return runtime.Profile{Type: runtime.ProfileRuntimeDefault}
	case string(corev1.SeccompProfileTypeLocalhost):
		p := runtime.Profile{Type: runtime.ProfileLocalhost}
		if localhost != nil {
			p.Localhost = *localhost
		}
		return p
	}
	return runtime.Profile{Type: runtime.ProfileUnconfined}
}

// appArmorProfile is the container's AppArmor profile: its field, else
// its annotation ("runtime/default", "localhost/NAME", "unconfined"), else
// the pod's field; none of them is the runtime's default.
func appArmorProfile(pod *workload.Pod, c workload.Container) runtime.Profile {
	if c.SecurityContext != nil && c.SecurityContext.AppArmorProfile != nil {
		return profileOf(string(c.SecurityContext.AppArmorProfile.Type), c.SecurityContext.AppArmorProfile.LocalhostProfile)
	}
	if v, ok := pod.ObjectMeta.Annotations[appArmorAnnotationPrefix+c.Name]; ok {
		switch {
		case v == "runtime/default":
			return runtime.Profile{Type: runtime.ProfileRuntimeDefault}
		case strings.HasPrefix(v, "localhost/"):
			return runtime.Profile{Type: runtime.ProfileLocalhost, Localhost: strings.TrimPrefix(v, "localhost/")}
		case v == "unconfined":
			return runtime.Profile{Type: runtime.ProfileUnconfined}
		}
	}
	if psc := pod.Spec.SecurityContext; psc != nil && psc.AppArmorProfile != nil {
		return profileOf(string(psc.AppArmorProfile.Type), psc.AppArmorProfile.LocalhostProfile)
	}
	return runtime.Profile{}
}

// verifyRunAsNonRoot refuses, as the kubelet does, a container with
// runAsNonRoot that would run as root: its runAsUser is 0, or it has none
// and the image's user (imageUser, from the image's config) is 0, empty
// (root), or a name that cannot be checked without the image's
// /etc/passwd.
func verifyRunAsNonRoot(pod *workload.Pod, c workload.Container, sec runtime.Security, imageUser string) error {
	nonRoot := false
	if psc := pod.Spec.SecurityContext; psc != nil && psc.RunAsNonRoot != nil {
		nonRoot = *psc.RunAsNonRoot
	}
	if c.SecurityContext != nil && c.SecurityContext.RunAsNonRoot != nil {
		nonRoot = *c.SecurityContext.RunAsNonRoot
	}
	if !nonRoot {
		return nil
	}
	where := fmt.Sprintf("(pod: %q, container: %s)", pod.ObjectMeta.Namespace+"/"+pod.ObjectMeta.Name, c.Name)
	if sec.RunAsUser != nil {
		if *sec.RunAsUser == 0 {
			return fmt.Errorf("container's runAsUser breaks non-root policy %s", where)
		}
		return nil
	}
	user, _, _ := strings.Cut(imageUser, ":")
	if user == "" {
		user = "0"
	}
	uid, err := strconv.ParseInt(user, 10, 64)
	switch {
	case err != nil:
		return fmt.Errorf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root %s", user, where)
	case uid == 0:
		return fmt.Errorf("container has runAsNonRoot and image will run as root %s", where)
	}
	return nil
}

// podSysctls returns the pod's sysctls, names in the dotted form, or the
// kubelet's reason to refuse the pod: one outside the safe set.
func podSysctls(pod *workload.Pod) (map[string]string, error) {
	psc := pod.Spec.SecurityContext
	if psc == nil || len(psc.Sysctls) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(psc.Sysctls))
	for _, s := range psc.Sysctls {
		name := dottedSysctl(s.Name)
		if !safeSysctls[name] {
			return nil, fmt.Errorf("forbidden sysctl: %q not allowlisted", name)
		}
		if strings.HasPrefix(name, "net.") && pod.Spec.HostNetwork {
			return nil, fmt.Errorf("forbidden sysctl: %q not allowed with host net enabled", name)
		}
		if strings.HasPrefix(name, "kernel.") && pod.Spec.HostIPC {
			return nil, fmt.Errorf("forbidden sysctl: %q not allowed with host ipc enabled", name)
		}
		out[name] = s.Value
	}
	return out, nil
}

// allowedSysctls is the sysctls the pod's sandbox gets: all of them, once
// admit let the pod through.
func allowedSysctls(pod *workload.Pod) map[string]string {
	sysctls, err := podSysctls(pod)
	if err != nil {
		return nil
	}
	return sysctls
}

// dottedSysctl turns a sysctl written with slashes ("net/ipv4/tcp_rmem",
// allowed by the API) into the dotted form; as in the kubelet, a name whose
// first separator is a slash has its slashes and dots swapped.
func dottedSysctl(name string) string {
	i := strings.IndexAny(name, "./")
	if i < 0 || name[i] == '.' {
		return name
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '/':
			return '.'
		case '.':
			return '/'
		}
		return r
	}, name)
}

// admit refuses a pod this node will not run as asked (a forbidden
// sysctl), as the kubelet's admission does: nothing of it is created, it
// fails with the reason, and a Warning event says why. It reports
// whether the pod may run.
func (w *worker) admit(ctx context.Context) bool {
	_, err := podSysctls(w.pod)
	if err == nil {
		return true
	}
	msg := err.Error()
	st := w.written
	if st.Phase == workload.PodFailed && st.Reason == reasonSysctlForbidden && st.Message == msg {
		return false
	}
	w.event(ctx, eventWarning, reasonSysctlForbidden, "%s", msg)
	p := *w.pod
	p.Status = workload.PodStatus{Phase: workload.PodFailed, Reason: reasonSysctlForbidden, Message: msg, HostIP: w.a.cfg.HostIP, StartTime: st.StartTime}
	if stored, err := w.a.cfg.Pods.UpdateStatus(ctx, &p); err == nil {
		w.pod, w.written = stored, stored.Status
	}
	return false
}

// security is what the runtime gets of a container's security context.
// A container with runAsNonRoot that would run as root is an error (the
// caller reports CreateContainerConfigError); an AppArmor profile on a
// host without AppArmor is a Warning event.
func (w *worker) security(ctx context.Context, c workload.Container) (runtime.Security, error) {
	sec := containerSecurity(w.pod, c)
	img, err := w.a.cfg.Runtime.ImageStatus(ctx, c.Image)
	if err != nil {
		return runtime.Security{}, fmt.Errorf("image %q: %w", c.Image, err)
	}
	if err := verifyRunAsNonRoot(w.pod, c, sec, img.User); err != nil {
		return runtime.Security{}, err
	}
	if t := sec.AppArmor.Type; (t == runtime.ProfileRuntimeDefault || t == runtime.ProfileLocalhost) && !sec.Privileged && !hostAppArmor() {
		w.event(ctx, eventWarning, reasonAppArmorNotEnabled, "AppArmor is not enabled on the host: container %s cannot get its AppArmor profile (%s)", c.Name, t)
	}
	return sec, nil
}
