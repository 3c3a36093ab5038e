package peer

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
)

// Service traffic through the proxy, in one process: pod and service
// addresses are loopback ones (127.32.0.0/12, 127.96.0.0/16), and a server
// on each pod's IP stands in for its container. Connections to the cluster
// IP, and to the NodePort, reach all three pods: the one on the serving
// peer directly, the others through their peers' tunnels. (In one process
// the three peers' proxies contend for the same addresses and one serves
// them; on real hosts each serves its own.)
//
// Then a pod is deleted while a client keeps connecting: when its
// container gets SIGTERM, no peer's proxy routes to it any longer, and no
// connection fails.
func TestServiceTrafficReachesPodsOnEveryPeer(t *testing.T) {
	c, cl, nodePort := startWebOnThreePeers(t)
	ctx := context.Background()
	if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/services", serviceBody("web", "NodePort", "", nodePort), nil); err != nil {
		t.Fatal(err)
	}
	var ep workload.Endpoints
	waitFor(t, 30*time.Second, "3 ready endpoints on 3 nodes", func() bool {
		if cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/endpoints/web", nil, &ep) != nil || len(ep.Subsets) != 1 {
			return false
		}
		nodes := map[string]bool{}
		for _, a := range ep.Subsets[0].Addresses {
			nodes[*a.NodeName] = true
		}
		return len(ep.Subsets[0].Addresses) == 3 && len(nodes) == 3
	})
	listeners := servePods(t, ep.Subsets[0].Addresses)
	var svc workload.Service
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/services/web", nil, &svc); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{net.JoinHostPort(svc.Spec.ClusterIP, "80"), net.JoinHostPort("127.0.0.1", fmt.Sprint(nodePort))} {
		waitReachesPods(t, addr, 3)
	}

	// Delete a pod under a stream of connections. At SIGTERM its
	// "container" stops listening, and every proxy must have let go of it.
	gone := ep.Subsets[0].Addresses[1]
	termed := make(chan []string, 1)
	onTerm := func(sb runtime.Sandbox) {
		if sb.Name != gone.TargetRef.Name {
			return
		}
		var still []string
		for name, p := range c.peers {
			if r := p.routing.routesTo(gone.IP); len(r.Routes) > 0 {
				still = append(still, fmt.Sprintf("%s: %v", name, r.Routes))
			}
		}
		listeners[gone.IP].Close()
		select {
		case termed <- still:
		default:
		}
	}
	c.onTerm.Store(&onTerm)
	clusterIP := net.JoinHostPort(svc.Spec.ClusterIP, "80")
	stop := make(chan struct{})
	var ok atomic.Int64
	failed := make(chan []string, 1)
	go func() {
		var errs []string
		defer func() { failed <- errs }()
		for i := 0; i < 20000; i++ { // bounded: about 2 ms each
			select {
			case <-stop:
				return
			default:
			}
			conn, err := net.DialTimeout("tcp", clusterIP, time.Second)
			if err == nil {
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				_, err = bufio.NewReader(conn).ReadString('\n')
				conn.Close()
			}
			if err != nil {
				errs = append(errs, err.Error())
			} else {
				ok.Add(1)
			}
		}
	}()
	deleted := time.Now()
	if err := cl.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/pods/"+gone.TargetRef.Name, nil, nil); err != nil {
		t.Fatal(err)
	}
	var still []string
	select {
	case still = <-termed:
		t.Logf("SIGTERM %s after the delete", time.Since(deleted).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatalf("%s never got SIGTERM", gone.TargetRef.Name)
	}
	before := ok.Load()
	waitFor(t, 30*time.Second, "100 connections after the SIGTERM", func() bool { return ok.Load() >= before+100 })
	close(stop)
	errs := <-failed
	if len(still) > 0 {
		t.Errorf("%s got SIGTERM while proxies still routed to it: %v", gone.TargetRef.Name, still)
	}
	if len(errs) > 0 {
		t.Errorf("during the deletion %d connections succeeded and %d failed: %v", ok.Load(), len(errs), errs[:min(len(errs), 5)])
	}
	t.Logf("%d connections during the deletion (%d of them after the SIGTERM), none failed", ok.Load(), ok.Load()-before)
}

// startWebOnThreePeers starts three peers whose pod and service CIDRs are
// loopback ones, creates Deployment web of three replicas through p1, and
// returns p1's client and a NodePort for the test's service.
func startWebOnThreePeers(t *testing.T) (*testCluster, *api.Client, int32) {
	t.Helper()
	c := newTestCluster(t)
	c.withRuntime = true
	c.clusterCIDR, c.serviceCIDR = "127.32.0.0/12", "127.96.0.0/16"
	c.startPeers(3)
	c.waitReplicas(3)
	c.waitNodesReady(3)
	cl := c.client("p1")
	if err := cl.Do(context.Background(), http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", deploymentBody(3, "web"), nil); err != nil {
		t.Fatal(err)
	}
	return c, cl, int32(30000 + rand.IntN(2700))
}

// servePods stands in for the containers of the pods at addrs: a server on
// each pod IP's port 9000 that answers its pod's name. The listeners are
// returned by pod IP.
func servePods(t *testing.T, addrs []workload.EndpointAddress) map[string]net.Listener {
	t.Helper()
	listeners := map[string]net.Listener{}
	for _, a := range addrs {
		l, err := net.Listen("tcp", net.JoinHostPort(a.IP, "9000"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		listeners[a.IP] = l
		name := a.TargetRef.Name
		go func() {
			for {
				conn, err := l.Accept()
				if err != nil {
					return
				}
				fmt.Fprintf(conn, "%s\n", name)
				conn.Close()
			}
		}()
	}
	return listeners
}

// waitReachesPods connects to addr until n different pods have answered.
func waitReachesPods(t *testing.T, addr string, n int) {
	t.Helper()
	seen := map[string]bool{}
	waitFor(t, 30*time.Second, fmt.Sprintf("connections to %s reaching %d pods", addr, n), func() bool {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err == nil {
			seen[strings.TrimSpace(line)] = true
		}
		return len(seen) == n
	})
}

// UDP service traffic, as DNS's: a Service with a UDP and a TCP port both
// numbered 53, in front of three pods on three peers, each with a UDP
// server standing in for its container. Datagrams to the cluster IP and
// to the UDP NodePort reach all three pods (the remote ones through the
// tunnel), and the TCP port beside them still works.
func TestServiceUDPTrafficReachesPodsOnEveryPeer(t *testing.T) {
	_, cl, nodePort := startWebOnThreePeers(t)
	ctx := context.Background()
	svcBody := map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "web"},
		"spec": map[string]any{"type": "NodePort", "selector": map[string]any{"app": "web"}, "ports": []any{
			map[string]any{"name": "dns", "port": 53, "targetPort": 9053, "protocol": "UDP", "nodePort": nodePort},
			map[string]any{"name": "dns-tcp", "port": 53, "targetPort": 9000, "protocol": "TCP"},
		}}}
	if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/services", svcBody, nil); err != nil {
		t.Fatal(err)
	}
	var ep workload.Endpoints
	waitFor(t, 30*time.Second, "3 ready endpoints on 3 nodes", func() bool {
		if cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/endpoints/web", nil, &ep) != nil || len(ep.Subsets) != 1 {
			return false
		}
		return len(ep.Subsets[0].Addresses) == 3
	})
	servePods(t, ep.Subsets[0].Addresses)
	serveUDPPods(t, ep.Subsets[0].Addresses)
	var svc workload.Service
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/services/web", nil, &svc); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{net.JoinHostPort(svc.Spec.ClusterIP, "53"), net.JoinHostPort("127.0.0.1", fmt.Sprint(nodePort))} {
		waitUDPReachesPods(t, addr, 3)
	}
	waitReachesPods(t, net.JoinHostPort(svc.Spec.ClusterIP, "53"), 3)
}

// serveUDPPods stands in for UDP containers: a server on each pod IP's
// port 9053 that answers every datagram with its pod's name.
func serveUDPPods(t *testing.T, addrs []workload.EndpointAddress) {
	t.Helper()
	for _, a := range addrs {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(a.IP, "9053"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		name := a.TargetRef.Name
		go func() {
			buf := make([]byte, 1500)
			for {
				_, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				_, _ = pc.WriteTo([]byte(name), from)
			}
		}()
	}
}

// waitUDPReachesPods sends datagrams to addr, each from a new client
// socket (a new proxy session), until n different pods have answered.
func waitUDPReachesPods(t *testing.T, addr string, n int) {
	t.Helper()
	seen := map[string]bool{}
	waitFor(t, 30*time.Second, fmt.Sprintf("datagrams to %s reaching %d pods", addr, n), func() bool {
		conn, err := net.Dial("udp", addr)
		if err != nil {
			return false
		}
		defer conn.Close()
		if _, err := conn.Write([]byte("query")); err != nil {
			return false
		}
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 1500)
		if k, err := conn.Read(buf); err == nil {
			seen[string(buf[:k])] = true
		}
		return len(seen) == n
	})
}
