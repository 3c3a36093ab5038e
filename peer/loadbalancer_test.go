package peer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
)

// The Service types beyond ClusterIP and NodePort, on three peers: a
// LoadBalancer Service is answered on every peer's address at its own port
// and lists those addresses in status.loadBalancer.ingress (one here: the
// peers share 127.0.0.1); one of another loadBalancerClass stays Pending
// with no ingress; a headless Service keeps clusterIP None and gets the
// pods' Endpoints; an ExternalName Service gets no address at all.
func TestLoadBalancerHeadlessAndExternalNameServices(t *testing.T) {
	c := newTestCluster(t)
	c.withRuntime = true
	c.clusterCIDR, c.serviceCIDR = "127.32.0.0/12", "127.96.0.0/16"
	c.startPeers(3)
	c.waitReplicas(3)
	c.waitNodesReady(3)
	ctx := context.Background()
	cl := c.client("p1")
	if err := cl.Do(ctx, http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", deploymentBody(3, "web"), nil); err != nil {
		t.Fatal(err)
	}
	lbPort := 20000 + rand.IntN(9000) // below the NodePort range
	svc := func(name string, spec map[string]any) {
		t.Helper()
		body := map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": name}, "spec": spec}
		if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/services", body, nil); err != nil {
			t.Fatalf("create service %s: %v", name, err)
		}
	}
	web := map[string]any{"app": "web"}
	svc("web-lb", map[string]any{"type": "LoadBalancer", "selector": web, "ports": []any{map[string]any{"port": lbPort, "targetPort": 9000}}})
	svc("web-other-lb", map[string]any{"type": "LoadBalancer", "loadBalancerClass": "example.com/lb", "selector": web, "ports": []any{map[string]any{"port": lbPort + 1, "targetPort": 9000}}})
	svc("web-headless", map[string]any{"clusterIP": "None", "selector": web})
	svc("db", map[string]any{"type": "ExternalName", "externalName": "db.example.com"})

	get := func(name string) workload.Service {
		var s workload.Service
		if err := cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/services/"+name, nil, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	waitFor(t, 30*time.Second, "web-lb's ingress", func() bool {
		in := get("web-lb").Status.LoadBalancer.Ingress
		return len(in) == 1 && in[0].IP == "127.0.0.1"
	})
	lb := get("web-lb")
	if lb.Spec.ClusterIP == "" || lb.Spec.Ports[0].NodePort == 0 {
		t.Errorf("web-lb: cluster IP %q, NodePort %d; want both allocated", lb.Spec.ClusterIP, lb.Spec.Ports[0].NodePort)
	}
	var ep workload.Endpoints
	waitFor(t, 30*time.Second, "3 endpoints of web-lb", func() bool {
		return cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/endpoints/web-lb", nil, &ep) == nil && len(ep.Subsets) == 1 && len(ep.Subsets[0].Addresses) == 3
	})
	servePods(t, ep.Subsets[0].Addresses)
	waitReachesPods(t, net.JoinHostPort("127.0.0.1", fmt.Sprint(lbPort)), 3)
	waitReachesPods(t, net.JoinHostPort("127.0.0.1", fmt.Sprint(lb.Spec.Ports[0].NodePort)), 3)

	if other := get("web-other-lb"); len(other.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("a LoadBalancer of another class got ingress %v", other.Status.LoadBalancer.Ingress)
	}
	if conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", fmt.Sprint(lbPort+1)), time.Second); err == nil {
		conn.Close()
		t.Error("a LoadBalancer of another class is answered on the peer's address")
	}

	h := get("web-headless")
	if h.Spec.ClusterIP != "None" || !slices.Equal(h.Spec.ClusterIPs, []string{"None"}) {
		t.Errorf("headless service: clusterIP %q, clusterIPs %v; want None", h.Spec.ClusterIP, h.Spec.ClusterIPs)
	}
	waitFor(t, 30*time.Second, "3 addresses for the headless service", func() bool {
		var hep workload.Endpoints
		return cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/endpoints/web-headless", nil, &hep) == nil &&
			len(hep.Subsets) == 1 && len(hep.Subsets[0].Addresses) == 3 && len(hep.Subsets[0].Ports) == 0
	})
	if db := get("db"); db.Spec.ClusterIP != "" || len(db.Spec.ClusterIPs) != 0 || db.Spec.ExternalName != "db.example.com" {
		t.Errorf("ExternalName service: clusterIP %q %v, externalName %q", db.Spec.ClusterIP, db.Spec.ClusterIPs, db.Spec.ExternalName)
	}
}
