package runtime

import (
	"fmt"
	"net/netip"
	"path"
	"strings"

	"github.com/distribution/reference"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Labels every runtime implementation sets on what it creates, so an agent
// (or an operator with `ctr -n NAMESPACE containers ls`) can tell what is
// whose. Callers' labels must not use these keys.
const (
	// LabelOwner names the peer whose runtime created the object.
	LabelOwner = "shoal.io/owner"
	// LabelKind is "sandbox" or "container".
	LabelKind = "shoal.io/kind"
	// LabelPodUID, LabelPodNamespace and LabelPodName identify the pod.
	LabelPodUID       = "shoal.io/pod-uid"
	LabelPodNamespace = "shoal.io/pod-namespace"
	LabelPodName      = "shoal.io/pod-name"
	// LabelSandboxID is set on a container: the sandbox it belongs to.
	LabelSandboxID = "shoal.io/sandbox-id"
	// LabelContainerName is set on a container: its name in the pod.
	LabelContainerName = "shoal.io/container-name"
)

// Values of LabelKind.
const (
	KindSandbox   = "sandbox"
	KindContainer = "container"
)

// ReservedLabel reports whether key belongs to the runtime: the keys above
// and anything else under "shoal.io/runtime-" that implementations use for
// their own state.
func ReservedLabel(key string) bool {
	switch key {
	case LabelOwner, LabelKind, LabelPodUID, LabelPodNamespace, LabelPodName, LabelSandboxID, LabelContainerName:
		return true
	}
	return strings.HasPrefix(key, "shoal.io/runtime-")
}

// ValidateSandboxConfig returns an ErrInvalid error naming the first bad
// field of cfg, or nil.
func ValidateSandboxConfig(cfg SandboxConfig) error {
	switch {
	case cfg.PodUID == "":
		return fmt.Errorf("sandbox config: PodUID: required: %w", errdefs.ErrInvalid)
	case cfg.Namespace == "":
		return fmt.Errorf("sandbox config: Namespace: required: %w", errdefs.ErrInvalid)
	case cfg.Name == "":
		return fmt.Errorf("sandbox config: Name: required: %w", errdefs.ErrInvalid)
	}
	if err := validateSysctls("sandbox config", cfg.Sysctls); err != nil {
		return err
	}
	for i, pm := range cfg.PortMappings {
		if err := validatePortMapping(pm); err != nil {
			return fmt.Errorf("sandbox config: PortMappings[%d]: %w", i, err)
		}
	}
	return validateLabels("sandbox config", cfg.Labels)
}

// ValidateContainerConfig returns an ErrInvalid error naming the first bad
// field of cfg, or nil. It does not check that the image is present.
func ValidateContainerConfig(cfg ContainerConfig) error {
	what := fmt.Sprintf("container %q", cfg.Name)
	switch {
	case cfg.Name == "":
		return fmt.Errorf("container config: Name: required: %w", errdefs.ErrInvalid)
	case cfg.Image == "":
		return fmt.Errorf("%s: Image: required: %w", what, errdefs.ErrInvalid)
	case cfg.CPUMillis < 0:
		return fmt.Errorf("%s: CPUMillis: %d is negative: %w", what, cfg.CPUMillis, errdefs.ErrInvalid)
	case cfg.MemoryBytes < 0:
		return fmt.Errorf("%s: MemoryBytes: %d is negative: %w", what, cfg.MemoryBytes, errdefs.ErrInvalid)
	}
	if _, err := NormalizeImageRef(cfg.Image); err != nil {
		return fmt.Errorf("%s: Image: %w", what, err)
	}
	for i, e := range cfg.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fmt.Errorf("%s: Env[%d]: %q is not NAME=value: %w", what, i, e, errdefs.ErrInvalid)
		}
	}
	for i, m := range cfg.Mounts {
		if !path.IsAbs(m.HostPath) {
			return fmt.Errorf("%s: Mounts[%d].HostPath: %q is not absolute: %w", what, i, m.HostPath, errdefs.ErrInvalid)
		}
		if !path.IsAbs(m.ContainerPath) {
			return fmt.Errorf("%s: Mounts[%d].ContainerPath: %q is not absolute: %w", what, i, m.ContainerPath, errdefs.ErrInvalid)
		}
	}
	if err := validateSecurity(what, cfg.Security); err != nil {
		return err
	}
	return validateLabels(what, cfg.Labels)
}

func validatePortMapping(pm PortMapping) error {
	switch {
	case pm.Protocol != "" && pm.Protocol != "TCP" && pm.Protocol != "UDP" && pm.Protocol != "SCTP":
		return fmt.Errorf("Protocol: %q is not TCP, UDP or SCTP: %w", pm.Protocol, errdefs.ErrInvalid)
	case pm.ContainerPort < 1 || pm.ContainerPort > 65535:
		return fmt.Errorf("ContainerPort: %d is not in 1-65535: %w", pm.ContainerPort, errdefs.ErrInvalid)
	case pm.HostPort < 1 || pm.HostPort > 65535:
		return fmt.Errorf("HostPort: %d is not in 1-65535: %w", pm.HostPort, errdefs.ErrInvalid)
	}
	if pm.HostIP != "" {
		if _, err := netip.ParseAddr(pm.HostIP); err != nil {
			return fmt.Errorf("HostIP: %q is not an IP address: %w", pm.HostIP, errdefs.ErrInvalid)
		}
	}
	return nil
}

func validateLabels(what string, labels map[string]string) error {
	for k := range labels {
		if ReservedLabel(k) {
			return fmt.Errorf("%s: Labels: %q is reserved for the runtime: %w", what, k, errdefs.ErrInvalid)
		}
	}
	return nil
}

// NormalizeImageRef returns the full form of an image reference, the name
// runtimes store images under: "nginx" becomes
// "docker.io/library/nginx:latest", "shoal.local/webapp:v1" stays. A
// malformed reference is ErrInvalid.
func NormalizeImageRef(ref string) (string, error) {
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %v: %w", ref, err, errdefs.ErrInvalid)
	}
	return named.String(), nil
}
