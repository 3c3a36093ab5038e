package containerd

import (
	"testing"

	"github.com/shoalproject/shoal/workload/runtime"
)

func TestHostsFileAsKubeletWritesIt(t *testing.T) {
	got := hostsFile("web-0", "10.32.0.5", runtime.SandboxConfig{FQDN: "web-0.web.shop.svc.cluster.local",
		Aliases: []runtime.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"foo.local", "bar.local"}}}})
	want := "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"10.32.0.5\tweb-0.web.shop.svc.cluster.local\tweb-0\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n"
	if got != want {
		t.Errorf("hostsFile =\n%s\nwant\n%s", got, want)
	}
	if got := hostsFile("p", "10.32.0.6", runtime.SandboxConfig{}); got != "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.32.0.6\tp\n" {
		t.Errorf("hostsFile without FQDN or aliases =\n%s", got)
	}
}

func TestHostNetworkHostsFileIsTheHostsWithAliases(t *testing.T) {
	host := []byte("127.0.0.1\tlocalhost\n192.0.2.7\tnode-1\n")
	got := hostNetworkHostsFile(host, []runtime.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"foo.local", "bar.local"}}})
	want := "# Kubernetes-managed hosts file (host network).\n127.0.0.1\tlocalhost\n192.0.2.7\tnode-1\n" +
		"\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n"
	if got != want {
		t.Errorf("hostNetworkHostsFile =\n%s\nwant\n%s", got, want)
	}
	if got := hostNetworkHostsFile(host, nil); got != "# Kubernetes-managed hosts file (host network).\n"+string(host) {
		t.Errorf("hostNetworkHostsFile without aliases =\n%s", got)
	}
}
