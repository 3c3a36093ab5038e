package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"

	"github.com/shoalproject/shoal/workload"
)

// restConfig is client-go's config for talking to one peer as the admin.
func (c *testCluster) restConfig(name string) *rest.Config {
	c.t.Helper()
	cfg, err := c.peers[name].AdminConfig()
	if err != nil {
		c.t.Fatal(err)
	}
	return &rest.Config{Host: "https://" + c.peers[name].APIAddr(), TLSClientConfig: rest.TLSClientConfig{
		CAData: []byte(cfg.CertificateAuthority), CertData: []byte(cfg.ClientCertificate), KeyData: []byte(cfg.ClientKey),
	}}
}

// kubectl's streaming calls, made with client-go as kubectl makes them,
// reach a pod on p2 through p1 (which relays) and through p2 itself (which
// runs it), over SPDY and over WebSocket: exec with stdin and its exit code,
// port-forward to a server on the pod's address, attach refused with a
// reason. The runtime is the in-memory one; pod addresses are loopback
// ones, where the test's server stands in for the container.
func TestKubectlStreamsReachAPodThroughAnyPeer(t *testing.T) {
	c := newTestCluster(t)
	c.withRuntime = true
	c.clusterCIDR, c.serviceCIDR = "127.48.0.0/12", "127.97.0.0/16"
	c.startPeers(3)
	c.waitReplicas(3)
	c.waitNodesReady(3)
	ctx := context.Background()
	cl := c.client("p1")
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "web", "namespace": "default"},
		"spec":     map[string]any{"nodeName": "p2", "containers": []any{map[string]any{"name": "web", "image": "shoal.local/webapp:v1"}}},
	}
	if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/pods", pod, nil); err != nil {
		t.Fatal(err)
	}
	var got workload.Pod
	waitFor(t, 20*time.Second, "the pod running on p2", func() bool {
		return cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods/web", nil, &got) == nil && got.Status.Phase == workload.PodRunning
	})
	l, err := net.Listen("tcp", net.JoinHostPort(got.Status.PodIP, "8080"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "hello from web") }))
	}()

	for _, via := range []string{"p1", "p2"} {
		cfg := c.restConfig(via)
		cs := kubernetes.NewForConfigOrDie(cfg)
		for _, transport := range []string{"spdy", "websocket"} {
			t.Run(via+"/"+transport+"/exec", func(t *testing.T) {
				req := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace("default").Name("web").SubResource("exec").
					VersionedParams(&corev1.PodExecOptions{Command: []string{"cat", "-n"}, Stdin: true, Stdout: true, Stderr: true}, scheme.ParameterCodec)
				exec := newExecutor(t, cfg, transport, req.URL())
				var stdout, stderr bytes.Buffer
				err := exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: strings.NewReader("typed"), Stdout: &stdout, Stderr: &stderr})
				var exit interface{ ExitStatus() int }
				if !errors.As(err, &exit) || exit.ExitStatus() != 2 { // the fake command exits with its argument count
					t.Fatalf("exec: %v (%T), want exit code 2", err, err)
				}
				if stdout.String() != `ran cat -n with "typed"` {
					t.Fatalf("exec stdout %q, stderr %q", stdout.String(), stderr.String())
				}
			})
			t.Run(via+"/"+transport+"/attach", func(t *testing.T) {
				req := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace("default").Name("web").SubResource("attach").
					VersionedParams(&corev1.PodAttachOptions{Stdout: true}, scheme.ParameterCodec)
				err := newExecutor(t, cfg, transport, req.URL()).StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: io.Discard})
				if err == nil || !strings.Contains(err.Error(), "attach is not supported") {
					t.Fatalf("attach: %v, want it refused with the reason", err)
				}
			})
			t.Run(via+"/"+transport+"/portforward", func(t *testing.T) {
				u := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace("default").Name("web").SubResource("portforward").URL()
				body := forwardGet(t, cfg, transport, u)
				if body != "hello from web\n" {
					t.Fatalf("GET through the forwarded port: %q", body)
				}
			})
		}
	}
}

// newExecutor is kubectl's executor for transport: SPDY alone, or
// WebSocket (v5.channel.k8s.io) alone, with no fallback that would hide
// a transport that does not work.
func newExecutor(t *testing.T, cfg *rest.Config, transport string, u *url.URL) remotecommand.Executor {
	t.Helper()
	var exec remotecommand.Executor
	var err error
	if transport == "spdy" {
		exec, err = remotecommand.NewSPDYExecutor(cfg, http.MethodPost, u)
	} else {
		exec, err = remotecommand.NewWebSocketExecutor(cfg, http.MethodGet, u.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	return exec
}

// forwardGet forwards a local port to the pod's 8080 over transport (SPDY,
// or SPDY tunnelled in WebSocket as kubectl does by default) and GETs / on
// it.
func forwardGet(t *testing.T, cfg *rest.Config, transport string, u *url.URL) string {
	t.Helper()
	var dialer httpstream.Dialer
	if transport == "spdy" {
		rt, upgrader, err := spdy.RoundTripperFor(cfg)
		if err != nil {
			t.Fatal(err)
		}
		dialer = spdy.NewDialer(upgrader, &http.Client{Transport: rt}, http.MethodPost, u)
	} else {
		var err error
		if dialer, err = portforward.NewSPDYOverWebsocketDialer(u, cfg); err != nil {
			t.Fatal(err)
		}
	}
	stop, ready := make(chan struct{}), make(chan struct{})
	var out bytes.Buffer
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:8080"}, stop, ready, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- fw.ForwardPorts() }()
	defer func() {
		close(stop)
		<-done
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("port-forward: %v: %s", err, out.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("port-forward not ready: %s", out.String())
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) != 1 {
		t.Fatalf("forwarded ports %v, %v", ports, err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", ports[0].Local))
	if err != nil {
		t.Fatalf("GET through the forwarded port: %v: %s", err, out.String())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// The log subresource takes Kubernetes' parameters, and refuses those it
// cannot honour with a 400 Status rather than ignoring them.
func TestPodLogParameters(t *testing.T) {
	c := newRuntimeCluster(t)
	ctx := context.Background()
	cl := c.client("p1")
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "web", "namespace": "default"},
		"spec":     map[string]any{"nodeName": "p3", "containers": []any{map[string]any{"name": "web", "image": "shoal.local/webapp:v1"}}},
	}
	if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/pods", pod, nil); err != nil {
		t.Fatal(err)
	}
	var got workload.Pod
	waitFor(t, 20*time.Second, "the pod running on p3", func() bool {
		return cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods/web", nil, &got) == nil && got.Status.Phase == workload.PodRunning
	})
	cs := kubernetes.NewForConfigOrDie(c.restConfig("p1"))
	logs := func(q string) (string, error) {
		req := cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/namespaces/default/pods/web/log")
		v, _ := url.ParseQuery(q)
		for k, vs := range v {
			for _, x := range vs {
				req = req.Param(k, x)
			}
		}
		res := req.Do(ctx)
		if err := res.Error(); err != nil {
			return "", err // a Status, decoded
		}
		b, err := res.Raw()
		return string(b), err
	}
	started := got.Status.ContainerStatuses[0].State.Running.StartedAt.Time
	for _, tc := range []struct{ query, want string }{
		{"", "hello from web\n"},
		{"container=web&tailLines=1", "hello from web\n"},
		{"tailLines=0", ""},
		{"limitBytes=5", "hello"},
		{"sinceSeconds=86400", "hello from web\n"}, // the whole run is newer
		{"sinceTime=" + started.Add(-time.Hour).UTC().Format(time.RFC3339), "hello from web\n"},
		{"timestamps=false&stream=All&insecureSkipTLSVerifyBackend=true", "hello from web\n"},
	} {
		if out, err := logs(tc.query); err != nil || out != tc.want {
			t.Errorf("log?%s = %q, %v; want %q", tc.query, out, err, tc.want)
		}
	}
	for _, tc := range []struct {
		query string
		code  int32
		text  string
	}{
		{"timestamps=true", 400, "does not record when each line was written"},
		{"sinceTime=" + started.Add(2*time.Second).UTC().Format(time.RFC3339), 400, "keeps no time per line"},
		{"stream=Stderr", 400, "one stream"},
		{"tailLines=-1", 422, "tailLines: Invalid value: -1"},
		{"limitBytes=0", 422, "limitBytes: Invalid value: 0"},
		{"sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z", 422, "at most one of"},
		{"tailLines=ten", 400, "not a whole number"},
		{"follow=maybe", 400, "not a boolean"},
		{"color=red", 400, "unsupported query parameter(s): color"},
		{"container=nope", 400, "container nope is not valid for pod web"},
		{"previous=true", 400, `previous terminated container "web" in pod "web" not found`},
	} {
		_, err := logs(tc.query)
		var se interface{ Status() metav1.Status }
		if !errors.As(err, &se) || se.Status().Code != tc.code || !strings.Contains(se.Status().Message, tc.text) {
			t.Errorf("log?%s: %v, want a %d Status saying %q", tc.query, err, tc.code, tc.text)
		}
	}
	if err := cs.CoreV1().Pods("default").GetLogs("nope", &corev1.PodLogOptions{}).Do(ctx).Error(); err == nil || !strings.Contains(err.Error(), `pods "nope" not found`) {
		t.Errorf("logs of a missing pod: %v", err)
	}
}
