package runtime

import (
	"fmt"
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
