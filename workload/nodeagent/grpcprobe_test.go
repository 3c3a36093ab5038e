package nodeagent

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime/fake"
)

// serveGRPC serves the gRPC health service on addr (":0" for any port of
// 127.0.0.1), with a service "web" SERVING and "db" NOT_SERVING (and the
// server as a whole, "", SERVING), until the test ends; without health
// it serves no health service at all.
func serveGRPC(t *testing.T, addr string, withHealth bool) (port int32, hs *health.Server) {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	if withHealth {
		hs = health.NewServer()
		hs.SetServingStatus("web", healthpb.HealthCheckResponse_SERVING)
		hs.SetServingStatus("db", healthpb.HealthCheckResponse_NOT_SERVING)
		healthpb.RegisterHealthServer(srv, hs)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return int32(lis.Addr().(*net.TCPAddr).Port), hs
}

func grpcProbe(port int32, service string) workload.ProbeHandler {
	g := &corev1.GRPCAction{Port: port}
	if service != "" {
		g.Service = &service
	}
	return workload.ProbeHandler{GRPC: g}
}

func TestGRPCProbe(t *testing.T) {
	port, _ := serveGRPC(t, "127.0.0.1:0", true)
	bare, _ := serveGRPC(t, "127.0.0.1:0", false)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := int32(closed.Addr().(*net.TCPAddr).Port)
	closed.Close()
	pr := newProber(nil)
	for _, c := range []struct {
		name    string
		h       workload.ProbeHandler
		timeout time.Duration
		ok      bool
		why     string
	}{
		{"the server", grpcProbe(port, ""), time.Second, true, ""},
		{"a serving service", grpcProbe(port, "web"), time.Second, true, ""},
		{"a service not serving", grpcProbe(port, "db"), time.Second, false, `service unhealthy (responded with "NOT_SERVING")`},
		{"an unknown service", grpcProbe(port, "cache"), time.Second, false, "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service"},
		{"no health service", grpcProbe(bare, ""), time.Second, false,
			"error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health"},
		{"no server", grpcProbe(nobody, ""), 200 * time.Millisecond, false,
			fmt.Sprintf(`timeout: failed to connect service "127.0.0.1:%d" within 200ms: context deadline exceeded`, nobody)},
	} {
		ok, why := pr.run(context.Background(), c.h, workload.Container{}, "127.0.0.1", "", c.timeout)
		if ok != c.ok || why != c.why {
			t.Errorf("%s: %v %q, want %v %q", c.name, ok, why, c.ok, c.why)
		}
	}
}

// A grpc readiness probe against the pod's IP: Ready while the service is
// SERVING, not Ready once it is NOT_SERVING. The fake runtime's pod CIDR
// is on loopback, so the server listens on the pod's own address.
func TestGRPCReadinessProbeFollowsTheHealthService(t *testing.T) {
	h := newHarness(t, fake.Config{PodCIDR: "127.0.0.0/24"}, nil)
	port, hs := serveGRPC(t, "127.0.0.2:0", true) // the pod's IP: the CIDR's first after the gateway
	h.pods.put(pod("web", func(p *workload.Pod) {
		p.Spec.Containers[0].ReadinessProbe = &workload.Probe{ProbeHandler: grpcProbe(port, "web"),
			PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1}
	}))
	isReady := func() bool { return cond(h.status("web"), workload.PodReady).Status == workload.ConditionTrue }
	h.await("Ready while SERVING", isReady)
	if ip := h.status("web").PodIP; ip != "127.0.0.2" {
		t.Fatalf("pod IP %s, want 127.0.0.2", ip)
	}
	hs.SetServingStatus("web", healthpb.HealthCheckResponse_NOT_SERVING)
	h.await("not Ready once NOT_SERVING", func() bool { h.clock.Advance(time.Second); return !isReady() })
	if !h.pods.sawEvent("Unhealthy") {
		t.Errorf("no Unhealthy event: %q", h.pods.events)
	}
	for _, e := range h.pods.eventsOf("Unhealthy") {
		if e != `Unhealthy: Readiness probe failed: service unhealthy (responded with "NOT_SERVING")` {
			t.Errorf("event %q", e)
		}
	}
}
