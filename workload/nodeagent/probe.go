package nodeagent

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
)

// prober runs a container's probes and lifecycle hooks against its pod:
// HTTP, TCP and gRPC to the pod IP, exec through the runtime.
type prober struct {
	rt     runtime.Runtime
	client *http.Client
	// dial opens the connections of HTTP, TCP and gRPC probes.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newProber(rt runtime.Runtime) *prober {
	var d net.Dialer
	pr := &prober{rt: rt, dial: d.DialContext}
	pr.client = &http.Client{
		// Probes follow no redirects off the pod and trust any certificate,
		// as the kubelet does.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) { return pr.dial(ctx, network, addr) }},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return pr
}

// port resolves a probe's port, a number or the name of a container port.
func port(c workload.Container, p workload.IntOrString) (int, error) {
	if p.Type == workload.IntOrStringInt {
		return int(p.IntVal), nil
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("port %q: no container port of that name", p.StrVal)
}

// run runs one probe handler and says whether it passed, and why not.
func (pr *prober) run(ctx context.Context, h workload.ProbeHandler, c workload.Container, podIP, containerID string, timeout time.Duration) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case h.HTTPGet != nil:
		return pr.httpGet(ctx, h.HTTPGet, c, podIP)
	case h.TCPSocket != nil:
		p, err := port(c, h.TCPSocket.Port)
		if err != nil {
			return false, err.Error()
		}
		conn, err := pr.dial(ctx, "tcp", net.JoinHostPort(podIP, strconv.Itoa(p)))
		if err != nil {
			return false, err.Error()
		}
		conn.Close()
		return true, ""
	case h.GRPC != nil:
		service := ""
		if h.GRPC.Service != nil {
			service = *h.GRPC.Service
		}
		return pr.grpcCheck(ctx, podIP, h.GRPC.Port, service, timeout)
	case h.Exec != nil:
		code, err := pr.rt.Exec(ctx, containerID, runtime.ExecConfig{Cmd: h.Exec.Command})
		if err != nil {
			return false, err.Error()
		}
		if code != 0 {
			return false, fmt.Sprintf("command %q exited with %d", h.Exec.Command, code)
		}
		return true, ""
	}
	return false, "probe has no handler"
}

func (pr *prober) httpGet(ctx context.Context, g *workload.HTTPGetAction, c workload.Container, podIP string) (bool, string) {
	code, err := pr.get(ctx, g, c, podIP)
	if err != nil {
		return false, err.Error()
	}
	if code < 200 || code >= 400 {
		return false, fmt.Sprintf("HTTP probe failed with statuscode: %d", code)
	}
	return true, ""
}

// get sends an httpGet action's request (to its host, else the pod IP)
// and returns the response's status code.
func (pr *prober) get(ctx context.Context, g *workload.HTTPGetAction, c workload.Container, podIP string) (int, error) {
	p, err := port(c, g.Port)
	if err != nil {
		return 0, err
	}
	scheme := "http"
	if g.Scheme == workload.URISchemeHTTPS {
		scheme = "https"
	}
	path := g.Path
	if path == "" {
		path = "/"
	}
	host := g.Host
	if host == "" {
		host = podIP
	}
	url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(p)), path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "shoal-probe/1")
	for _, h := range g.HTTPHeaders {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := pr.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// probeState tracks one probe of one container: consecutive results and
// when it is next due.
type probeState struct {
	successes, failures int32
	next                time.Time
	passing             bool
}

// due says whether the probe should run now; the first run waits
// initialDelaySeconds after the container started.
func (s *probeState) due(p *workload.Probe, startedAt, now time.Time) bool {
	if s.next.IsZero() {
		s.next = startedAt.Add(time.Duration(p.InitialDelaySeconds) * time.Second)
	}
	return !now.Before(s.next)
}

// record counts a result against the probe's thresholds and schedules the
// next run; it returns whether the probe now passes.
func (s *probeState) record(p *workload.Probe, ok bool, now time.Time) bool {
	s.next = now.Add(time.Duration(max(p.PeriodSeconds, 1)) * time.Second)
	if ok {
		s.successes++
		s.failures = 0
		if s.successes >= max(p.SuccessThreshold, 1) {
			s.passing = true
		}
	} else {
		s.failures++
		s.successes = 0
		if s.failures >= max(p.FailureThreshold, 1) {
			s.passing = false
		}
	}
	return s.passing
}

func probeTimeout(p *workload.Probe) time.Duration {
	return time.Duration(max(p.TimeoutSeconds, 1)) * time.Second
}
