package containerd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/shoalproject/shoal/workload/runtime"
)

// hostNamespaces are the host namespaces a sandbox's containers join.
type hostNamespaces struct {
	network, pid, ipc bool
}

func hostNamespacesOf(labels map[string]string) hostNamespaces {
	var h hostNamespaces
	for _, ns := range strings.Split(labels[labelHostNamespaces], ",") {
		switch ns {
		case "network":
			h.network = true
		case "pid":
			h.pid = true
		case "ipc":
			h.ipc = true
		}
	}
	return h
}

// setHostLabels records cfg's host namespaces and port mappings in a
// sandbox's labels.
func setHostLabels(labels map[string]string, cfg runtime.SandboxConfig) error {
	var ns []string
	for _, n := range []struct {
		on   bool
		name string
	}{{cfg.HostNetwork, "network"}, {cfg.HostPID, "pid"}, {cfg.HostIPC, "ipc"}} {
		if n.on {
			ns = append(ns, n.name)
		}
	}
	if len(ns) > 0 {
		labels[labelHostNamespaces] = strings.Join(ns, ",")
	}
	if cfg.HostNetwork {
		labels[labelBootID] = bootID()
	}
	if len(cfg.PortMappings) > 0 {
		b, err := json.Marshal(cfg.PortMappings)
		if err != nil {
			return err
		}
		labels[labelPorts] = string(b)
	}
	return nil
}

func decodePorts(s string) ([]runtime.PortMapping, error) {
	if s == "" {
		return nil, nil
	}
	var out []runtime.PortMapping
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("port mappings label %q: %w", s, err)
	}
	return out, nil
}

// bootID is the kernel's id of this boot ("" where it cannot be read).
func bootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}

// namespaceOpts put a container in its sandbox's namespaces, as
// containerd's CRI does: the sandbox's network namespace and a UTS
// namespace with the pod's host name, or the host's network and UTS
// namespaces for a host-network pod; the host's PID and IPC namespaces
// when asked, with the host's /dev/shm for IPC.
func namespaceOpts(sb runtime.Sandbox) []oci.SpecOpts {
	var opts []oci.SpecOpts
	if sb.HostNetwork {
		opts = append(opts, oci.WithHostNamespace(specs.NetworkNamespace), oci.WithHostNamespace(specs.UTSNamespace))
	} else {
		opts = append(opts,
			oci.WithHostname(sb.Hostname),
			oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: sb.NetNSPath}))
	}
	if sb.HostPID {
		opts = append(opts, oci.WithHostNamespace(specs.PIDNamespace))
	}
	if sb.HostIPC {
		opts = append(opts, oci.WithHostNamespace(specs.IPCNamespace), withHostDevShm)
	}
	return opts
}

// withHostDevShm replaces the container's own /dev/shm with the host's.
func withHostDevShm(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
	for i, m := range s.Mounts {
		if m.Destination == "/dev/shm" {
			s.Mounts = append(s.Mounts[:i], s.Mounts[i+1:]...)
			break
		}
	}
	s.Mounts = append(s.Mounts, bind("/dev/shm", "/dev/shm", false))
	return nil
}
