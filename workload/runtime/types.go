package runtime

import (
	"io"
	"time"
)

// SandboxConfig describes the pod a sandbox is for.
type SandboxConfig struct {
	// PodUID, Namespace and Name identify the pod. Required.
	PodUID    string
	Namespace string
	Name      string
	// Hostname is the pod's host name; empty means Name. Ignored with
	// HostNetwork: the pod has the host's.
	Hostname string
	// Labels are kept with the sandbox and returned by ListSandboxes. Keys
	// the runtime sets itself (see ReservedLabel) are refused.
	Labels map[string]string
	// DNS is written to the pod's /etc/resolv.conf; nil copies the host's.
	DNS *DNSConfig
	// Hosts are what the pod's /etc/hosts says beyond localhost and the
	// pod's own line: the pod's hostname.subdomain FQDN (FQDN, on its own
	// line, before the hostname) and spec.hostAliases (Aliases).
	FQDN    string
	Aliases []HostAlias
	// Sysctls are namespaced kernel parameters ("net.ipv4.ip_local_port_range":
	// "32768 60999") set for every container of the sandbox, as the pod's
	// spec.securityContext.sysctls. The caller decides which are allowed;
	// the runtime only refuses a malformed name (ErrInvalid).
	Sysctls map[string]string
	// HostNetwork puts the sandbox in the host's network namespace, as
	// spec.hostNetwork: no namespace, pod address or CNI of its own
	// (Sandbox.IP stays empty; the caller reports the node's address, as
	// the kubelet does), the host's host name, and an /etc/hosts that is
	// the host's own followed by Aliases (FQDN is not written), as the
	// kubelet makes it for a host-network pod. PortMappings are ignored:
	// the containers' ports are the host's.
	HostNetwork bool
	// HostPID and HostIPC put every container of the sandbox in the host's
	// process (spec.hostPID) and IPC (spec.hostIPC, with the host's
	// /dev/shm) namespaces.
	HostPID bool
	HostIPC bool
	// PortMappings forward ports of the host to the pod (its containers'
	// hostPorts), as containerd's CRI does with the CNI portmap plugin,
	// until the sandbox is stopped.
	PortMappings []PortMapping
}

// PortMapping forwards HostIP:HostPort on the host to the pod's
// ContainerPort.
type PortMapping struct {
	// Protocol is "TCP", "UDP" or "SCTP"; empty means TCP.
	Protocol      string
	ContainerPort int32 // 1-65535
	HostPort      int32 // 1-65535
	// HostIP is the host address the port is forwarded on; empty means
	// all of the host's addresses (loopback included).
	HostIP string
}

// HostAlias is a line of /etc/hosts: an address and its names.
type HostAlias struct {
	IP        string
	Hostnames []string
}

// DNSConfig is the content of a pod's /etc/resolv.conf.
type DNSConfig struct {
	Servers  []string // nameserver addresses
	Searches []string // search domains
	Options  []string // resolver options, e.g. "ndots:5"
}

// SandboxState says whether a sandbox can run containers.
type SandboxState string

const (
	// SandboxReady: the network is up and containers can be created.
	SandboxReady SandboxState = "ready"
	// SandboxNotReady: stopped, or its network is gone (e.g. after a
	// reboot); it only awaits RemoveSandbox.
	SandboxNotReady SandboxState = "notready"
)

// Sandbox is a pod's sandbox as the runtime knows it.
type Sandbox struct {
	ID        string
	PodUID    string
	Namespace string
	Name      string
	Hostname  string
	// IP is the pod's address on the peer's pod network ("10.32.5.7"),
	// empty once stopped, and always empty with HostNetwork.
	IP string
	// NetNSPath is the network namespace file a container joins
	// ("/var/run/netns/shoal-p1-<id>"); empty for runtimes without one and
	// with HostNetwork.
	NetNSPath string
	State     SandboxState
	CreatedAt time.Time
	// HostNetwork, HostPID, HostIPC and PortMappings are as in the
	// SandboxConfig the sandbox was made from (PortMappings are empty with
	// HostNetwork).
	HostNetwork  bool
	HostPID      bool
	HostIPC      bool
	PortMappings []PortMapping
	// Labels are the caller's labels from SandboxConfig.
	Labels map[string]string
}

// ContainerConfig describes a container to create.
type ContainerConfig struct {
	// Name is unique within the sandbox. Required.
	Name string
	// Image is the image reference; the image must be present. Required.
	Image string
	// Command replaces the image's entrypoint and Args its command, as in
	// Kubernetes: with Command set, Args follow it; with only Args set, they
	// follow the image's entrypoint; with neither, the image's entrypoint and
	// command run.
	Command []string
	Args    []string
	// Env is added to the image's environment, "NAME=value" each; a later
	// entry for a name wins.
	Env []string
	// WorkingDir replaces the image's working directory when set.
	WorkingDir string
	// CPUMillis is the CPU limit in thousandths of a core (500 = half a
	// core); 0 means no limit.
	CPUMillis int64
	// MemoryBytes is the memory limit in bytes; 0 means no limit. A
	// container that goes over it is killed and reports ReasonOOMKilled.
	MemoryBytes int64
	// Mounts are host paths bound into the container.
	Mounts []Mount
	// Labels are kept with the container. Keys the runtime sets itself
	// (see ReservedLabel) are refused.
	Labels map[string]string
	// Security is how the container's process is confined; the zero value
	// is the runtime's default (see Security).
	Security Security
}

// Mount binds a host path into a container.
type Mount struct {
	HostPath      string // absolute path on the host; must exist
	ContainerPath string // absolute path in the container
	ReadOnly      bool
}

// ContainerState is where a container is in its life.
type ContainerState string

const (
	ContainerCreated ContainerState = "created" // never started
	ContainerRunning ContainerState = "running"
	ContainerExited  ContainerState = "exited" // its last start has ended
)

// Reasons a container exited, in ContainerStatus.Reason.
const (
	ReasonCompleted = "Completed" // exit code 0
	ReasonError     = "Error"     // non-zero exit code, or killed by a signal
	ReasonOOMKilled = "OOMKilled" // killed for going over its memory limit
	// ReasonUnknown: the runtime lost the process (the machine rebooted, or
	// its daemon's state was lost) and the exit code is unknown (255).
	ReasonUnknown = "Unknown"
)

// ContainerStatus is a container's state and identity.
type ContainerStatus struct {
	ID        string
	Name      string
	SandboxID string
	// Image is the reference the container was created from, normalized.
	Image string
	State ContainerState
	// ExitCode and FinishedAt are set when State is exited; a process killed
	// by a signal has 128+signal (137 for SIGKILL).
	ExitCode   int
	CreatedAt  time.Time
	StartedAt  time.Time // of the last start; zero if never started
	FinishedAt time.Time
	// Reason says why an exited container exited (ReasonCompleted, ...).
	Reason string
	// Labels are the caller's labels from ContainerConfig.
	Labels map[string]string
}

// ContainerFilter selects containers; the zero value selects all.
type ContainerFilter struct {
	SandboxID string // only this sandbox's containers
}

// ExecConfig is a command to run in a running container.
type ExecConfig struct {
	// Cmd is the program and its arguments. Required.
	Cmd []string
	// Stdin, Stdout and Stderr are the command's streams; nil ones are
	// closed (stdin) or discarded (output). Exec may return while a Read
	// of Stdin is still blocked (the command exited without reading it
	// all): close Stdin after Exec to end that read.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// TTY gives the command a terminal; its output then all goes to Stdout.
	TTY bool
}

// AllLines is the LogOptions.TailLines that means the whole log.
const AllLines = -1

// LogOptions says which output Logs writes.
type LogOptions struct {
	// Follow keeps writing new output until the container exits.
	Follow bool
	// TailLines starts that many lines before the end: AllLines (-1) for the
	// whole log, 0 for only what comes next (with Follow).
	TailLines int
	// Previous reads the log of the start before the last one.
	Previous bool
}

// Image is an image present in the runtime.
type Image struct {
	// Name is the normalized reference ("shoal.local/webapp:v1").
	Name string
	// Digest is the digest of the image's manifest (or index), the same on
	// every peer that has the same image ("sha256:...").
	Digest string
	// Size is the image's size in bytes as stored (compressed layers,
	// config and manifest).
	Size int64
	// User is the user the image's config runs its process as ("1000",
	// "1000:1000", "nobody"), as written there; empty means root. Runtimes
	// that cannot read it leave it empty.
	User string
}

// PullOptions say how to reach a registry.
type PullOptions struct {
	// PlainHTTP talks HTTP instead of HTTPS to the registry.
	PlainHTTP bool
	// Username and Password, when set, authenticate to the registry.
	Username string
	Password string
}
