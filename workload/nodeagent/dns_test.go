package nodeagent

import (
	"reflect"
	"testing"

	"github.com/shoalproject/shoal/workload/runtime"
)

func TestPodDNSIsTheClusterDNSWithKubernetesSearchPath(t *testing.T) {
	if got := (&Agent{}).podDNS("shop"); got != nil {
		t.Fatalf("without a cluster DNS: %+v, want nil (the host's resolv.conf)", got)
	}
	got := (&Agent{cfg: Config{ClusterDNS: "10.32.1.1"}}).podDNS("shop")
	want := &runtime.DNSConfig{Servers: []string{"10.32.1.1"},
		Searches: []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"}, Options: []string{"ndots:5"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("podDNS = %+v, want %+v", got, want)
	}
	got = (&Agent{cfg: Config{ClusterDNS: "10.32.1.1", ClusterDomain: "corp.example"}}).podDNS("default")
	if got.Searches[0] != "default.svc.corp.example" {
		t.Fatalf("with a cluster domain: %v", got.Searches)
	}
}
