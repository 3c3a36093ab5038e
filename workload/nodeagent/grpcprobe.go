package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// grpcCheck runs a grpc probe: the standard health check
// (grpc.health.v1.Health/Check) for service at podIP:port, in plain text,
// within ctx (which carries the probe's timeout). Only SERVING passes. The
// messages are the kubelet's, so that kubectl describe reads the same.
func (pr *prober) grpcCheck(ctx context.Context, podIP string, port int32, service string, timeout time.Duration) (bool, string) {
	addr := net.JoinHostPort(podIP, strconv.Itoa(int(port)))
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUserAgent("shoal-probe/1"),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) { return pr.dial(ctx, "tcp", addr) }))
	if err != nil {
		return false, fmt.Sprintf("error: failed to connect service at %q: %v", addr, err)
	}
	defer conn.Close()
	// Connect before the call, as the kubelet's blocking dial does: a
	// server that is not there yet is a connect timeout, not a failed call.
	conn.Connect()
	for s := conn.GetState(); s != connectivity.Ready; s = conn.GetState() {
		if !conn.WaitForStateChange(ctx, s) {
			return false, fmt.Sprintf("timeout: failed to connect service %q within %v: %v", addr, timeout, ctx.Err())
		}
	}
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		switch st, _ := status.FromError(err); {
		case st.Code() == codes.Unimplemented:
			return false, "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): " + st.Message()
		case st.Code() == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded):
			return false, fmt.Sprintf("timeout: health rpc did not complete within %v", timeout)
		}
		return false, fmt.Sprintf("error: health rpc probe failed: %v", err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return false, fmt.Sprintf("service unhealthy (responded with %q)", resp.GetStatus().String())
	}
	return true, ""
}
