package containerd

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/shoalproject/shoal/workload/runtime"
)

// cfsPeriod is the CFS period CPU limits are expressed in, in microseconds
// (the kernel's and Kubernetes' default).
const cfsPeriod = 100_000

// specOpts builds a container's OCI spec: the image's config, the
// Kubernetes rules for Command and Args, the sandbox's network namespace,
// host name and pod files, the mounts and the limits.
func (r *Runtime) specOpts(img client.Image, sb runtime.Sandbox, cfg runtime.ContainerConfig) []oci.SpecOpts {
	opts := []oci.SpecOpts{
		// With only Args, they replace the image's command after its entrypoint.
		oci.WithImageConfigArgs(img, cfg.Args),
	}
	if len(cfg.Command) > 0 {
		opts = append(opts, oci.WithProcessArgs(append(append([]string(nil), cfg.Command...), cfg.Args...)...))
	}
	if len(cfg.Env) > 0 {
		opts = append(opts, oci.WithEnv(lastWins(cfg.Env)))
	}
	if cfg.WorkingDir != "" {
		opts = append(opts, oci.WithProcessCwd(cfg.WorkingDir))
	}
	dir := r.sandboxDir(sb.ID)
	mounts := []specs.Mount{
		bind(filepath.Join(dir, "hosts"), "/etc/hosts", true),
		bind(filepath.Join(dir, "hostname"), "/etc/hostname", true),
		bind(filepath.Join(dir, "resolv.conf"), "/etc/resolv.conf", true),
	}
	for _, m := range cfg.Mounts {
		mounts = append(mounts, bind(m.HostPath, m.ContainerPath, m.ReadOnly))
	}
	opts = append(opts, namespaceOpts(sb)...)
	opts = append(opts, oci.WithMounts(mounts))
	if cfg.CPUMillis > 0 {
		quota := cfg.CPUMillis * cfsPeriod / 1000
		if quota < 1000 { // the kernel's minimum, 1ms
			quota = 1000
		}
		opts = append(opts, oci.WithCPUCFS(quota, cfsPeriod))
	}
	if cfg.MemoryBytes > 0 {
		opts = append(opts, oci.WithMemoryLimit(uint64(cfg.MemoryBytes)), withMemorySwapLimit(cfg.MemoryBytes))
	}
	return opts
}

func bind(src, dst string, readOnly bool) specs.Mount {
	mode := "rw"
	if readOnly {
		mode = "ro"
	}
	return specs.Mount{Source: src, Destination: dst, Type: "bind", Options: []string{"rbind", "rprivate", mode}}
}

// withMemorySwapLimit sets the memory+swap limit to the memory limit, so
// a container cannot escape its limit into swap, where the kernel
// accounts swap (memory.memsw on cgroup v1 needs swapaccount=1; without
// it runc refuses the setting, so it is only set when the file exists).
func withMemorySwapLimit(limit int64) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if !swapAccounted() {
			return nil
		}
		if s.Linux == nil {
			s.Linux = &specs.Linux{}
		}
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		if s.Linux.Resources.Memory == nil {
			s.Linux.Resources.Memory = &specs.LinuxMemory{}
		}
		s.Linux.Resources.Memory.Swap = &limit
		return nil
	}
}

// lastWins drops all but the last entry for each variable name, keeping
// the order of the last entries (processes read the first one).
func lastWins(env []string) []string {
	last := map[string]int{}
	for i, e := range env {
		k, _, _ := strings.Cut(e, "=")
		last[k] = i
	}
	out := make([]string, 0, len(last))
	for i, e := range env {
		k, _, _ := strings.Cut(e, "=")
		if last[k] == i {
			out = append(out, e)
		}
	}
	return out
}
