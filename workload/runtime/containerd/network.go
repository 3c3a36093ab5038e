package containerd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"

	gocni "github.com/containerd/go-cni"
	"golang.org/x/sys/unix"

	"github.com/shoalproject/shoal/workload/runtime"
)

// newCNI loads the pod network: the bridge plugin with host-local IPAM on
// the pod CIDR as eth0, chained to the portmap plugin for hostPorts, and
// loopback.
func newCNI(cfg Config) (gocni.CNI, error) {
	conf, err := json.Marshal(map[string]any{
		"cniVersion": "1.0.0",
		"name":       "shoal-" + cfg.Namespace,
		"plugins": []any{map[string]any{
			"type":        "bridge",
			"bridge":      cfg.BridgeName,
			"isGateway":   true,
			"ipMasq":      false,
			"hairpinMode": true,
			"ipam": map[string]any{
				"type":    "host-local",
				"ranges":  [][]map[string]string{{{"subnet": cfg.PodCIDR}}},
				"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
				"dataDir": filepath.Join(cfg.StateDir, "ipam"),
			},
		}, map[string]any{
			// hostPorts, as containerd's CRI: iptables DNAT from the host's
			// addresses (loopback too: snat) to the pod. Without mappings
			// the plugin does nothing, so pods without hostPorts never
			// touch iptables.
			"type":         "portmap",
			"capabilities": map[string]bool{"portMappings": true},
			"snat":         true,
		}},
	})
	if err != nil {
		return nil, err
	}
	cni, err := gocni.New(
		gocni.WithPluginDir([]string{cfg.CNIBinDir}),
		gocni.WithInterfacePrefix("eth"),
		gocni.WithMinNetworkCount(2),
	)
	if err != nil {
		return nil, fmt.Errorf("cni: %w", err)
	}
	// The bridge network first, so it is eth0.
	if err := cni.Load(gocni.WithConfListBytes(conf), gocni.WithLoNetwork); err != nil {
		return nil, fmt.Errorf("cni: %w", err)
	}
	return cni, nil
}

func (r *Runtime) netnsPath(sandboxID string) string {
	return filepath.Join(r.cfg.NetNSDir, r.cfg.NetNSPrefix+sandboxID)
}

func (r *Runtime) sandboxDir(sandboxID string) string {
	return filepath.Join(r.cfg.StateDir, "sandboxes", sandboxID)
}

// createNetNS makes a new network namespace and bind-mounts it at path,
// as `ip netns add` does.
func createNetNS(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return fmt.Errorf("netns %s: %w", path, err)
	}
	f.Close()
	errc := make(chan error, 1)
	go func() {
		// The thread moves to the new namespace and is never unlocked, so
		// Go ends it with this goroutine instead of reusing it.
		goruntime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if err := unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
			errc <- fmt.Errorf("bind mount: %w", err)
			return
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		os.Remove(path)
		return fmt.Errorf("netns %s: %w", path, err)
	}
	return nil
}

// removeNetNS unmounts and deletes a network namespace; a missing one is
// fine.
func removeNetNS(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("netns %s: unmount: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("netns %s: %w", path, err)
	}
	return nil
}

// attach runs CNI ADD for the sandbox, with its port mappings, and
// returns the pod's IPv4 address.
func (r *Runtime) attach(ctx context.Context, sandboxID, nsPath string, ports []runtime.PortMapping) (string, error) {
	res, err := r.cni.Setup(ctx, sandboxID, nsPath, cniPortOpts(ports)...)
	if err != nil {
		return "", fmt.Errorf("cni add: %w", err)
	}
	if iface := res.Interfaces["eth0"]; iface != nil {
		for _, ipc := range iface.IPConfigs {
			if ip4 := ipc.IP.To4(); ip4 != nil {
				return ip4.String(), nil
			}
		}
	}
	return "", fmt.Errorf("cni add: no IPv4 address on eth0 in %+v", res.Interfaces)
}

// detach runs CNI DEL for the sandbox, releasing its address and, given
// the same port mappings as ADD (the portmap plugin needs them to find its
// rules), its host ports. It is idempotent, and works when the namespace
// is already gone.
func (r *Runtime) detach(ctx context.Context, sandboxID, nsPath string, ports []runtime.PortMapping) error {
	if _, err := os.Stat(nsPath); err != nil {
		nsPath = "" // plugins skip the namespace's interfaces but release the IP
	}
	if err := r.cni.Remove(ctx, sandboxID, nsPath, cniPortOpts(ports)...); err != nil {
		return fmt.Errorf("cni del: %w", err)
	}
	return nil
}

// cniPortOpts are the portMappings capability arguments for ports, as
// containerd's CRI passes them (protocol in lower case).
func cniPortOpts(ports []runtime.PortMapping) []gocni.NamespaceOpts {
	if len(ports) == 0 {
		return nil
	}
	pm := make([]gocni.PortMapping, 0, len(ports))
	for _, p := range ports {
		proto := strings.ToLower(p.Protocol)
		if proto == "" {
			proto = "tcp"
		}
		pm = append(pm, gocni.PortMapping{HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: proto, HostIP: p.HostIP})
	}
	return []gocni.NamespaceOpts{gocni.WithCapabilityPortMap(pm)}
}

// hostsFile is a pod's /etc/hosts as kubelet writes it: localhost, the
// pod's address with its FQDN (hostname.subdomain.namespace.svc.domain)
// and hostname, then its host aliases.
func hostsFile(hostname, ip string, cfg runtime.SandboxConfig) string {
	var b strings.Builder
	b.WriteString("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	if ip != "" {
		if cfg.FQDN != "" {
			fmt.Fprintf(&b, "%s\t%s\t%s\n", ip, cfg.FQDN, hostname)
		} else {
			fmt.Fprintf(&b, "%s\t%s\n", ip, hostname)
		}
	}
	if len(cfg.Aliases) > 0 {
		b.WriteString("\n# Entries added by HostAliases.\n")
		for _, a := range cfg.Aliases {
			fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
		}
	}
	return b.String()
}

// hostNetworkHostsFile is a host-network pod's /etc/hosts as kubelet
// writes it: the host's own file under a header, then the host aliases.
func hostNetworkHostsFile(host []byte, aliases []runtime.HostAlias) string {
	var b strings.Builder
	b.WriteString("# Kubernetes-managed hosts file (host network).\n")
	b.Write(host)
	if len(aliases) > 0 {
		b.WriteString("\n# Entries added by HostAliases.\n")
		for _, a := range aliases {
			fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
		}
	}
	return b.String()
}

// etcHosts is the host's hosts file, which host-network pods start from.
const etcHosts = "/etc/hosts"

// writePodFiles writes the pod's /etc/hosts, /etc/hostname and
// /etc/resolv.conf into the sandbox's directory.
func (r *Runtime) writePodFiles(sandboxID, hostname, ip string, cfg runtime.SandboxConfig) error {
	dir := r.sandboxDir(sandboxID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var hosts string
	if cfg.HostNetwork {
		host, err := os.ReadFile(etcHosts)
		if err != nil {
			return err
		}
		hosts = hostNetworkHostsFile(host, cfg.Aliases)
	} else {
		hosts = hostsFile(hostname, ip, cfg)
	}
	dns := cfg.DNS
	var resolv []byte
	if dns == nil {
		b, err := os.ReadFile("/etc/resolv.conf")
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		resolv = b
	} else {
		var sb strings.Builder
		for _, s := range dns.Servers {
			fmt.Fprintf(&sb, "nameserver %s\n", s)
		}
		if len(dns.Searches) > 0 {
			fmt.Fprintf(&sb, "search %s\n", strings.Join(dns.Searches, " "))
		}
		if len(dns.Options) > 0 {
			fmt.Fprintf(&sb, "options %s\n", strings.Join(dns.Options, " "))
		}
		resolv = []byte(sb.String())
	}
	for name, data := range map[string][]byte{
		"hosts":       []byte(hosts),
		"hostname":    []byte(hostname + "\n"),
		"resolv.conf": resolv,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
