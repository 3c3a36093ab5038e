package peer

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

func serviceBody(name, typ, clusterIP string, nodePort int32) map[string]any {
	port := map[string]any{"port": 80, "targetPort": 9000}
	if nodePort != 0 {
		port["nodePort"] = nodePort
	}
	spec := map[string]any{"selector": map[string]any{"app": name}, "ports": []any{port}}
	if typ != "" {
		spec["type"] = typ
	}
	if clusterIP != "" {
		spec["clusterIP"] = clusterIP
	}
	return map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": name}, "spec": spec}
}

func TestServicesGetUniqueClusterIPsAndNodePortsForLife(t *testing.T) {
	c := newTestCluster(t)
	c.start("p1", "")
	c.waitReplicas(1)
	ctx := context.Background()
	cl := c.client("p1")
	const path = "/api/v1/namespaces/default/services"
	create := func(body map[string]any) (workload.Service, error) {
		var s workload.Service
		err := cl.Do(ctx, http.MethodPost, path, body, &s)
		return s, err
	}
	cidr := netip.MustParsePrefix(DefaultServiceCIDR)
	a, err := create(serviceBody("a", "", "", 0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := create(serviceBody("b", "", "", 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []workload.Service{a, b} {
		ip, err := netip.ParseAddr(s.Spec.ClusterIP)
		if err != nil || !cidr.Contains(ip) || len(s.Spec.ClusterIPs) != 1 || s.Spec.ClusterIPs[0] != s.Spec.ClusterIP {
			t.Fatalf("service %s: cluster IP %q (%v), want one in %s", s.ObjectMeta.Name, s.Spec.ClusterIP, s.Spec.ClusterIPs, cidr)
		}
	}
	if a.Spec.ClusterIP == b.Spec.ClusterIP {
		t.Fatalf("two services share %s", a.Spec.ClusterIP)
	}
	if _, err := create(serviceBody("c", "", a.Spec.ClusterIP, 0)); !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "spec.clusterIP: Invalid value: "+a.Spec.ClusterIP+": provided IP is already allocated") {
		t.Fatalf("a taken cluster IP: %v", err)
	}
	if _, err := create(serviceBody("c", "", "10.200.0.5", 0)); !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "not in the valid range") {
		t.Fatalf("a cluster IP outside the service CIDR: %v", err)
	}

	// NodePorts: allocated in range, or claimed as named.
	np, err := create(serviceBody("np", "NodePort", "", 0))
	if err != nil {
		t.Fatal(err)
	}
	port := np.Spec.Ports[0].NodePort
	if port < workload.NodePortMin || port > workload.NodePortMax {
		t.Fatalf("node port %d", port)
	}
	if _, err := create(serviceBody("np2", "NodePort", "", port)); !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "provided port is already allocated") {
		t.Fatalf("a taken node port: %v", err)
	}

	// An update keeps the addresses; naming another cluster IP is refused.
	var cur map[string]any
	if err := cl.Do(ctx, http.MethodGet, path+"/a", nil, &cur); err != nil {
		t.Fatal(err)
	}
	delete(cur["spec"].(map[string]any), "clusterIP")
	delete(cur["spec"].(map[string]any), "clusterIPs")
	var updated workload.Service
	if err := cl.Do(ctx, http.MethodPut, path+"/a", cur, &updated); err != nil || updated.Spec.ClusterIP != a.Spec.ClusterIP {
		t.Fatalf("update without clusterIP: %v, %q, want %q kept", err, updated.Spec.ClusterIP, a.Spec.ClusterIP)
	}
	cur = serviceBody("a", "", b.Spec.ClusterIP, 0)
	if err := cl.Do(ctx, http.MethodPut, path+"/a", cur, nil); !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "field is immutable") {
		t.Fatalf("update to another cluster IP: %v", err)
	}

	// Deleting a service frees its addresses for others.
	for _, name := range []string{"a", "np"} {
		if err := cl.Do(ctx, http.MethodDelete, path+"/"+name, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if s, err := create(serviceBody("c", "", a.Spec.ClusterIP, 0)); err != nil || s.Spec.ClusterIP != a.Spec.ClusterIP {
		t.Fatalf("a freed cluster IP: %v %q", err, s.Spec.ClusterIP)
	}
	if _, err := create(serviceBody("np2", "NodePort", "", port)); err != nil {
		t.Fatalf("a freed node port: %v", err)
	}
}

func TestServiceAddressSpace(t *testing.T) {
	c := netip.MustParsePrefix("10.96.0.0/28")
	if n := cidrSize(c); n != 13 {
		t.Fatalf("a /28 hands out %d addresses, want 13 (not .0, .1 or .15)", n)
	}
	if first, last := nthAddr(c, 0), nthAddr(c, cidrSize(c)-1); first.String() != "10.96.0.2" || last.String() != "10.96.0.14" {
		t.Fatalf("first %s last %s", first, last)
	}
	if n := cidrSize(netip.MustParsePrefix(DefaultServiceCIDR)); n != 1<<20-3 {
		t.Fatalf("the default /12 hands out %d", n)
	}
}

func TestEndpointsFollowTheServicesPods(t *testing.T) {
	c := newRuntimeCluster(t)
	ctx := context.Background()
	cl := c.client("p1")
	if err := cl.Do(ctx, http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", deploymentBody(3, "web"), nil); err != nil {
		t.Fatal(err)
	}
	if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/services", serviceBody("web", "", "", 0), nil); err != nil {
		t.Fatal(err)
	}
	endpoints := func() (ready, notReady map[string]string) { // pod -> ip
		var ep workload.Endpoints
		if c.client("p2").Do(ctx, http.MethodGet, "/api/v1/namespaces/default/endpoints/web", nil, &ep) != nil {
			return nil, nil
		}
		ready, notReady = map[string]string{}, map[string]string{}
		for _, s := range ep.Subsets {
			if len(s.Ports) != 1 || s.Ports[0].Port != 9000 {
				return nil, nil
			}
			for _, a := range s.Addresses {
				ready[a.TargetRef.Name] = a.IP
			}
			for _, a := range s.NotReadyAddresses {
				notReady[a.TargetRef.Name] = a.IP
			}
		}
		return ready, notReady
	}
	var pods map[string]string
	waitFor(t, 30*time.Second, "3 ready endpoints, the deployment's pods", func() bool {
		ready, _ := endpoints()
		pods = runningPods(ctx, c, "p1")
		if len(ready) != 3 || len(pods) != 3 {
			return false
		}
		for name := range pods {
			if _, ok := ready[name]; !ok {
				return false
			}
		}
		return true
	})
	// A deleted pod leaves the endpoints at once (it is terminating), and
	// its replacement joins them.
	var gone string
	for name := range pods {
		gone = name
		break
	}
	if err := cl.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/pods/"+gone, nil, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the deleted pod out of the endpoints, its replacement in", func() bool {
		ready, notReady := endpoints()
		_, in := ready[gone]
		_, alsoIn := notReady[gone]
		return len(ready) == 3 && !in && !alsoIn
	})
	// The replacement started after the service existed: it has the
	// service's variables, as Kubernetes gives them.
	var svc workload.Service
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/services/web", nil, &svc); err != nil {
		t.Fatal(err)
	}
	for name := range runningPods(ctx, c, "p1") {
		if _, old := pods[name]; old {
			continue
		}
		waitFor(t, 10*time.Second, "the replacement's log", func() bool {
			logs, err := cl.Stream(ctx, "/api/v1/namespaces/default/pods/"+name+"/log")
			if err != nil {
				return false
			}
			defer logs.Close()
			b, _ := io.ReadAll(logs)
			return strings.Contains(string(b), "WEB_SERVICE_HOST="+svc.Spec.ClusterIP+"\n")
		})
	}
	// Users do not write endpoints; deleting the service deletes them.
	if err := cl.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/endpoints/web", nil, nil); !errors.Is(err, errdefs.ErrForbidden) {
		t.Fatalf("a user's delete of endpoints: %v", err)
	}
	if err := cl.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/services/web", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/endpoints/web", nil, nil); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("endpoints of a deleted service: %v", err)
	}
}

func TestSweepDropsTheClaimsOfServicesThatAreGone(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	c := newTestCluster(t)
	c.now = clock.Now
	p := c.start("p1", "")
	c.waitReplicas(1)
	ctx := context.Background()
	var svc workload.Service
	if err := c.client("p1").Do(ctx, http.MethodPost, "/api/v1/namespaces/default/services", serviceBody("kept", "", "", 0), &svc); err != nil {
		t.Fatal(err)
	}
	// A peer died between claiming this address and storing its service.
	if err := p.claim(ctx, serviceIPClaim+"10.96.5.5", addressClaim{Service: "default/ghost", UID: "ghost-uid", At: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	claimed := func(name string) bool {
		_, err := p.store.Get(ctx, consensus.MetaShard, consensus.Key{Kind: "ClusterSetting", Name: name}, true)
		return err == nil
	}
	if err := p.sweepClaims(ctx); err != nil || !claimed(serviceIPClaim+"10.96.5.5") {
		t.Fatalf("a fresh claim was swept (it may be a create in flight): %v", err)
	}
	clock.Advance(2 * claimSweepAge)
	if err := p.sweepClaims(ctx); err != nil {
		t.Fatal(err)
	}
	if claimed(serviceIPClaim + "10.96.5.5") {
		t.Error("the claim of a service that never was stored survived the sweep")
	}
	if !claimed(serviceIPClaim + svc.Spec.ClusterIP) {
		t.Error("the sweep dropped a live service's claim")
	}
}
