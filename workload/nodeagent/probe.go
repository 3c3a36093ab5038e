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
// HTTP and TCP to the pod IP, exec through the runtime.
type prober struct {
	rt     runtime.Runtime
	client *http.Client
}

func newProber(rt runtime.Runtime) *prober {
	return &prober{rt: rt, client: &http.Client{
		// Probes follow no redirects off the pod and trust any certificate,
		// as the kubelet does.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
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
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(podIP, strconv.Itoa(p)))
		if err != nil {
			return false, err.Error()
		}
		conn.Close()
		return true, ""
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
	p, err := port(c, g.Port)
	if err != nil {
		return false, err.Error()
	}
	scheme := "http"
	if g.Scheme == workload.URISchemeHTTPS {
		scheme = "https"
	}
	path := g.Path
	if path == "" {
		path = "/"
	}
	url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(podIP, strconv.Itoa(p)), path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err.Error()
	}
	req.Header.Set("User-Agent", "shoal-probe/1")
	for _, h := range g.HTTPHeaders {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := pr.client.Do(req)
	if err != nil {
		return false, err.Error()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return false, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)
	}
	return true, ""
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
