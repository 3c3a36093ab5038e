package containerd

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/containerd/v2/contrib/apparmor"
	"github.com/containerd/containerd/v2/contrib/seccomp"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
)

// appArmorDefaultProfile is the name the runtime loads its default
// AppArmor profile under (containerd's CRI plugin calls its own
// "cri-containerd.apparmor.d").
const appArmorDefaultProfile = "shoal-default"

// hostAppArmor reports whether the kernel has AppArmor enabled; a
// variable so tests can pretend.
var hostAppArmor = func() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.TrimSpace(string(b)) == "Y"
}

// securityOpts builds the part of a container's OCI spec that confines it,
// as containerd's CRI plugin does for a Kubernetes securityContext: it
// follows the image's config (the user), so it must come after
// oci.WithImageConfigArgs. imageUser is the image config's user; sysctls
// are the sandbox's.
func (r *Runtime) securityOpts(name, imageUser string, sec runtime.Security, sysctls map[string]string) ([]oci.SpecOpts, error) {
	// Kubernetes lets processes gain privileges unless told otherwise;
	// containerd's default spec does not.
	opts := []oci.SpecOpts{oci.WithNewPrivileges}
	if user := userString(imageUser, sec); user != "" {
		opts = append(opts, oci.WithUser(user), oci.WithAdditionalGIDs(strings.SplitN(user, ":", 2)[0]))
	}
	if len(sec.SupplementalGroups) > 0 {
		opts = append(opts, withSupplementalGroups(sec.SupplementalGroups))
	}
	opts = append(opts, capabilityOpts(sec.AddCapabilities, sec.DropCapabilities)...)
	if sec.Privileged {
		opts = append(opts, oci.WithPrivileged, oci.WithHostDevices, oci.WithAllDevicesAllowed)
	}
	opts = append(opts, withoutAmbientCapabilities)
	if sec.NoNewPrivileges {
		opts = append(opts, oci.WithNoNewPrivileges)
	}
	if sec.ReadOnlyRootFS {
		opts = append(opts, oci.WithRootFSReadonly())
	}
	if !sec.Privileged {
		o, err := r.seccompOpt(name, sec.Seccomp)
		if err != nil {
			return nil, err
		}
		if o != nil {
			opts = append(opts, o)
		}
		o, err = appArmorOpt(name, sec.AppArmor, hostAppArmor())
		if err != nil {
			return nil, err
		}
		if o != nil {
			opts = append(opts, o)
		}
	}
	if len(sysctls) > 0 {
		opts = append(opts, withSysctls(sysctls))
	}
	return opts, nil
}

// userString is the user oci.WithUser sets, "" for the image's: the
// RunAsUser, with RunAsGroup after a colon when set. A RunAsGroup without
// a RunAsUser goes with the image's user (root when it names none), where
// containerd's CRI plugin refuses it.
func userString(imageUser string, sec runtime.Security) string {
	var user string
	switch {
	case sec.RunAsUser != nil:
		user = strconv.FormatInt(*sec.RunAsUser, 10)
	case sec.RunAsGroup != nil:
		user, _, _ = strings.Cut(imageUser, ":")
		if user == "" {
			user = "0"
		}
	default:
		return ""
	}
	if sec.RunAsGroup != nil {
		user += ":" + strconv.FormatInt(*sec.RunAsGroup, 10)
	}
	return user
}

// withSupplementalGroups adds groups to the process's additional groups,
// each once.
func withSupplementalGroups(groups []int64) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Process == nil {
			s.Process = &specs.Process{}
		}
		for _, g := range groups {
			if !slices.Contains(s.Process.User.AdditionalGids, uint32(g)) {
				s.Process.User.AdditionalGids = append(s.Process.User.AdditionalGids, uint32(g))
			}
		}
		return nil
	}
}

// capabilityOpts changes the default capability set as containerd's CRI
// plugin does: ALL in add starts from every capability the runtime has,
// ALL in drop from none, then the named ones are added, then dropped.
func capabilityOpts(add, drop []string) []oci.SpecOpts {
	var opts []oci.SpecOpts
	names := func(caps []string) (all bool, out []string) {
		for _, c := range caps {
			if c = runtime.CapabilityName(c); c == "ALL" {
				all = true
			} else {
				out = append(out, c)
			}
		}
		return all, out
	}
	addAll, adds := names(add)
	dropAll, drops := names(drop)
	if addAll {
		opts = append(opts, oci.WithAllCurrentCapabilities)
	}
	if dropAll {
		opts = append(opts, oci.WithCapabilities(nil))
	}
	if len(adds) > 0 {
		opts = append(opts, oci.WithAddedCapabilities(adds))
	}
	if len(drops) > 0 {
		opts = append(opts, oci.WithDroppedCapabilities(drops))
	}
	return opts
}

// withoutAmbientCapabilities clears the ambient set, as the CRI plugin
// does (what ambient capabilities mean for a non-root user is not settled
// in Kubernetes).
func withoutAmbientCapabilities(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
	if s.Process != nil && s.Process.Capabilities != nil {
		s.Process.Capabilities.Ambient = nil
	}
	return nil
}

// seccompOpt is the seccomp filter for p: none by default or when
// unconfined, containerd's default profile for RuntimeDefault, a JSON file
// under Config.SeccompProfileDir for Localhost. A Localhost profile that is
// missing, outside the directory or not valid JSON is ErrInvalid.
func (r *Runtime) seccompOpt(name string, p runtime.Profile) (oci.SpecOpts, error) {
	switch p.Type {
	case runtime.ProfileRuntimeDefault:
		return seccomp.WithDefaultProfile(), nil
	case runtime.ProfileLocalhost:
		if !filepath.IsLocal(p.Localhost) {
			return nil, fmt.Errorf("container %q: seccomp profile %q: not a path inside the profile directory: %w", name, p.Localhost, errdefs.ErrInvalid)
		}
		path := filepath.Join(r.cfg.SeccompProfileDir, p.Localhost)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("container %q: seccomp profile: %v: %w", name, err, errdefs.ErrInvalid)
		}
		if !json.Valid(b) {
			return nil, fmt.Errorf("container %q: seccomp profile %s: not JSON: %w", name, path, errdefs.ErrInvalid)
		}
		return seccomp.WithProfile(path), nil
	}
	return nil, nil
}

// appArmorOpt is the AppArmor profile for p. Without AppArmor on the host
// there is none, and a Localhost profile is refused (ErrInvalid), as
// containerd's CRI plugin does; with it, the default and RuntimeDefault
// load and apply the runtime's default profile, and Localhost applies a
// loaded profile of that name (ErrInvalid when it is not loaded).
func appArmorOpt(name string, p runtime.Profile, enabled bool) (oci.SpecOpts, error) {
	if !enabled {
		if p.Type == runtime.ProfileLocalhost {
			return nil, fmt.Errorf("container %q: AppArmor profile %q: AppArmor is not enabled on this host: %w", name, p.Localhost, errdefs.ErrInvalid)
		}
		return nil, nil
	}
	switch p.Type {
	case runtime.ProfileUnconfined:
		return nil, nil
	case runtime.ProfileLocalhost:
		loaded, err := appArmorLoaded(p.Localhost)
		if err != nil {
			return nil, fmt.Errorf("container %q: AppArmor profile %q: %v: %w", name, p.Localhost, err, errdefs.ErrUnavailable)
		}
		if !loaded {
			return nil, fmt.Errorf("container %q: AppArmor profile %q is not loaded: %w", name, p.Localhost, errdefs.ErrInvalid)
		}
		return apparmor.WithProfile(p.Localhost), nil
	}
	return apparmor.WithDefaultProfile(appArmorDefaultProfile), nil
}

// appArmorLoaded reports whether the kernel has a profile of that name.
func appArmorLoaded(profile string) (bool, error) {
	f, err := os.Open("/sys/kernel/security/apparmor/profiles")
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), profile+" (") {
			return true, nil
		}
	}
	return false, sc.Err()
}

// withSysctls sets kernel parameters in the container's namespaces.
func withSysctls(sysctls map[string]string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Linux == nil {
			s.Linux = &specs.Linux{}
		}
		if s.Linux.Sysctl == nil {
			s.Linux.Sysctl = map[string]string{}
		}
		for k, v := range sysctls {
			s.Linux.Sysctl[k] = v
		}
		return nil
	}
}

// encodeSysctls and decodeSysctls keep a sandbox's sysctls in its record's
// labelSysctls.
func encodeSysctls(sysctls map[string]string) string {
	b, _ := json.Marshal(sysctls)
	return string(b)
}

func decodeSysctls(label string) (map[string]string, error) {
	if label == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(label), &m); err != nil {
		return nil, fmt.Errorf("sandbox sysctls label: %w", err)
	}
	return m, nil
}
