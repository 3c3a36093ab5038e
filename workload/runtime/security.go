package runtime

import (
	"fmt"
	"strings"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Security says how a container's process is confined: who it runs as,
// what it may do, and which kernel filters guard it. It is runtime-neutral;
// the node agent maps a pod's and its container's securityContext onto
// it. The zero value runs the process as the image's user with the
// runtime's default capabilities, a writable root file system, no seccomp
// filter, and the runtime's default AppArmor profile where the host has
// AppArmor.
type Security struct {
	// RunAsUser is the process's user id; nil means the image's user.
	RunAsUser *int64
	// RunAsGroup is the process's primary group id; nil means the user's
	// (from the image's config, or the image's /etc/passwd, or 0).
	RunAsGroup *int64
	// SupplementalGroups are group ids the process also has, after the
	// ones the image's /etc/group gives its user.
	SupplementalGroups []int64
	// ReadOnlyRootFS mounts the image's file system read-only (mounts stay
	// as they are).
	ReadOnlyRootFS bool
	// NoNewPrivileges stops the process and its children from gaining
	// privileges (setuid binaries, file capabilities): Kubernetes'
	// allowPrivilegeEscalation false.
	NoNewPrivileges bool
	// Privileged gives the process every capability and every device, and
	// drops masked paths, seccomp and AppArmor; the capability lists and
	// profiles below are then ignored.
	Privileged bool
	// AddCapabilities and DropCapabilities change the runtime's default
	// capability set: names with or without the CAP_ prefix, in any case
	// ("NET_ADMIN", "cap_chown"), or "ALL". Drops are applied after adds,
	// except that adding ALL and dropping one keeps all but that one.
	AddCapabilities  []string
	DropCapabilities []string
	// Seccomp is the system call filter; the zero value is none.
	Seccomp Profile
	// AppArmor is the AppArmor profile, honoured only where the host has
	// AppArmor enabled; the zero value is the runtime's default there.
	AppArmor Profile
}

// ProfileType says which seccomp or AppArmor profile a container gets.
type ProfileType string

const (
	// ProfileDefault is the zero value: no seccomp filter; the runtime's
	// default AppArmor profile where the host has AppArmor.
	ProfileDefault ProfileType = ""
	// ProfileUnconfined: no filter and no AppArmor profile.
	ProfileUnconfined ProfileType = "Unconfined"
	// ProfileRuntimeDefault: the runtime's own default profile (for
	// containerd, the profile its CRI plugin applies).
	ProfileRuntimeDefault ProfileType = "RuntimeDefault"
	// ProfileLocalhost: a profile that lives on the host, named by
	// Profile.Localhost (a seccomp JSON file relative to the runtime's
	// profile directory; the name of a loaded AppArmor profile).
	ProfileLocalhost ProfileType = "Localhost"
)

// Profile is a seccomp or AppArmor profile.
type Profile struct {
	Type ProfileType
	// Localhost names the host's profile; set only with ProfileLocalhost.
	Localhost string
}

// validateSecurity returns an ErrInvalid error naming the first bad field
// of sec, or nil.
func validateSecurity(what string, sec Security) error {
	for _, id := range []struct {
		field string
		v     *int64
	}{{"RunAsUser", sec.RunAsUser}, {"RunAsGroup", sec.RunAsGroup}} {
		if id.v != nil && (*id.v < 0 || *id.v > 1<<32-2) {
			return fmt.Errorf("%s: Security.%s: %d is not a valid id: %w", what, id.field, *id.v, errdefs.ErrInvalid)
		}
	}
	for i, g := range sec.SupplementalGroups {
		if g < 0 || g > 1<<32-2 {
			return fmt.Errorf("%s: Security.SupplementalGroups[%d]: %d is not a valid id: %w", what, i, g, errdefs.ErrInvalid)
		}
	}
	for field, caps := range map[string][]string{"AddCapabilities": sec.AddCapabilities, "DropCapabilities": sec.DropCapabilities} {
		for i, c := range caps {
			if !validCapability(c) {
				return fmt.Errorf("%s: Security.%s[%d]: %q is not a capability name: %w", what, field, i, c, errdefs.ErrInvalid)
			}
		}
	}
	for field, p := range map[string]Profile{"Seccomp": sec.Seccomp, "AppArmor": sec.AppArmor} {
		switch {
		case p.Type != ProfileDefault && p.Type != ProfileUnconfined && p.Type != ProfileRuntimeDefault && p.Type != ProfileLocalhost:
			return fmt.Errorf("%s: Security.%s.Type: unknown %q: %w", what, field, p.Type, errdefs.ErrInvalid)
		case p.Type == ProfileLocalhost && p.Localhost == "":
			return fmt.Errorf("%s: Security.%s.Localhost: required with Localhost: %w", what, field, errdefs.ErrInvalid)
		case p.Type != ProfileLocalhost && p.Localhost != "":
			return fmt.Errorf("%s: Security.%s.Localhost: set only with Localhost: %w", what, field, errdefs.ErrInvalid)
		}
	}
	return nil
}

// validCapability reports whether c looks like a capability name: letters,
// digits and underscores ("ALL" included). Whether the kernel knows it is
// the runtime's to say.
func validCapability(c string) bool {
	if c == "" {
		return false
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// CapabilityName is c in the kernel's spelling: upper case with the CAP_
// prefix ("chown" and "CAP_CHOWN" are both "CAP_CHOWN"); "ALL" stays.
func CapabilityName(c string) string {
	c = strings.ToUpper(c)
	if c == "ALL" || strings.HasPrefix(c, "CAP_") {
		return c
	}
	return "CAP_" + c
}

// validateSysctls returns an ErrInvalid error for an empty or malformed
// sysctl name, or nil.
func validateSysctls(what string, sysctls map[string]string) error {
	for k := range sysctls {
		if k == "" || strings.ContainsAny(k, " \t\n=") || strings.Contains(k, "..") {
			return fmt.Errorf("%s: Sysctls: %q is not a sysctl name: %w", what, k, errdefs.ErrInvalid)
		}
	}
	return nil
}
