// Package containerd is the real runtime.Runtime: pods on a containerd
// daemon (1.6 or newer) with runc, networked by the CNI bridge plugin.
//
// One Runtime serves one peer. It works in its own containerd namespace
// (Config.Namespace), so several peers can share one daemon, and labels
// everything it creates with the runtime package's labels, the owner
// label being the namespace. Nothing is kept in memory: sandboxes are
// containerd container records without a task, containers are containerd
// containers, and an agent that restarts finds everything by listing.
//
// # Sandboxes and the network
//
// A sandbox is a network namespace bind-mounted at
// NetNSDir/NetNSPrefix+ID, attached through go-cni to a bridge
// (Config.BridgeName, the gateway at the first address of Config.PodCIDR,
// no masquerading) with host-local IPAM over PodCIDR, plus loopback. The
// pod's /etc/hosts, /etc/hostname and /etc/resolv.conf are files under
// StateDir/sandboxes/ID, bound read-only into each container, which joins
// the sandbox's network namespace and takes its host name.
//
// A sandbox's port mappings (hostPorts) go to the CNI portmap plugin,
// chained after the bridge with the portMappings capability, as
// containerd's CRI does: iptables DNAT from the host's addresses, loopback
// included, to the pod, set up by CNI ADD and removed by CNI DEL with the
// same mappings (kept in the sandbox's record) when the sandbox is stopped
// or removed. A host-network sandbox has no namespace and no CNI: its
// containers join the host's network and UTS namespaces (the host's name),
// its /etc/hosts is the host's under the kubelet's header plus the host
// aliases, and it counts as ready while the kernel's boot id is the one
// it was made in. HostPID and HostIPC put the containers in the host's
// PID and IPC namespaces (the latter with the host's /dev/shm).
//
// # Containers
//
// A container gets the image's configuration, the Kubernetes rules for
// Command and Args, CFS quota and memory limits, and a log file per start
// (StateDir/containers/ID/current.log, the one before kept as
// previous.log) written by containerd's shim. When a container's process
// has ended, the runtime records its exit (code, time, and whether the
// kernel's OOM killer struck, read from its memory cgroup, v1 or v2) in
// the container's labels and deletes the task, so no shim lingers; this
// happens on the first StopContainer, ContainerStatus, ListContainers or
// StartContainer call that sees the exit.
//
// A container's Security becomes its OCI spec as containerd's CRI plugin
// makes it: the user and groups (oci.WithUser over the image's user,
// then the image's /etc/group, then the supplemental groups), containerd's
// default capabilities changed by the adds and drops, NoNewPrivileges
// only when asked (Kubernetes' default), a read-only root, privileged
// mode (all capabilities and devices, no masked paths, no seccomp), a
// seccomp profile (containerd's default, or a JSON file under
// Config.SeccompProfileDir) and, where the kernel has AppArmor, an
// AppArmor profile. The sandbox's sysctls, kept in its record, go into
// every container's spec.
//
// # Images
//
// Images are imported from docker-archive or OCI layout tars, pulled with
// containerd's resolver, unpacked into the default snapshotter when they
// arrive, and exported as OCI layout tars.
//
// Everything needs root. This package must not import peer, consensus,
// gossip or cmd. Tests start a private daemon with the containerdtest
// package.
package containerd
