package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/shoalproject/shoal/internal/poll"
	"github.com/shoalproject/shoal/internal/testimage"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload/runtime/runtimetest"
)

// kubectl's streaming commands against a three-peer cluster on real
// containerd, each peer in a network namespace of its own, kubectl talking
// to a peer that does not run the pod (and, for one of each, to the one
// that does): logs with Kubernetes' options and -f; exec with its exit
// code, with stdin, and with a terminal (kubectl under a pseudo-terminal);
// port-forward to a pod and to a service, an HTTP GET through it reaching
// the pod's server; cp both ways, a file and a tree; attach refused with
// the reason. exec and port-forward go over WebSocket (kubectl's default)
// and over SPDY (its fallback, forced by KUBECTL_*_WEBSOCKETS=false), and
// the peers' metrics show each run used the one it meant to. The shoal
// CLI's own exec still works beside them.
func TestKubectlStreamsOnContainerd(t *testing.T) {
	requireKubectl(t)
	d, image, c := containerdHosts(t)
	agents := startContainerdPeers(t, c, d)
	p1, p2, p3 := agents["p1"], agents["p2"], agents["p3"]
	c.importTar(image)
	importImage(t, c, runtimetest.TesteeSpec)
	importImage(t, c, testimage.Webapp("v2"))
	c.apply("streams", `apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web-1}}
spec:
  nodeName: p1
  terminationGracePeriodSeconds: 5
  containers:
  - name: web
    image: shoal.local/webapp:v1
    env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-3, labels: {app: web-3}}
spec:
  nodeName: p3
  terminationGracePeriodSeconds: 5
  containers:
  - name: web
    image: shoal.local/webapp:v1
    env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: testee}
spec:
  nodeName: p3
  terminationGracePeriodSeconds: 5
  containers:
  - name: testee
    image: `+runtimetest.TesteeImage+`
    args: [serve, ":8080", wait]
---
apiVersion: v1
kind: Service
metadata: {name: web-3}
spec:
  selector: {app: web-3}
  ports: [{port: 80, targetPort: 8080}]
`)
	k := func(via *agent) kubectl { return kubectl{t: t, c: c, via: via} }
	c.waitFor(90*time.Second, "web-1, web-3 and testee running and listening", func() bool {
		out, err := k(p2).run(nil, "get", "pods", "--no-headers")
		if err != nil || strings.Count(out.stdout, "Running") != 3 {
			return false
		}
		for _, pod := range []string{"web-1", "web-3"} {
			if out, _ := k(p2).run(nil, "logs", pod); !strings.Contains(out.stdout, "listening on") {
				return false
			}
		}
		return true
	})

	t.Run("logs", func(t *testing.T) {
		kt := kubectl{t: t, c: c, via: p1}
		// -f: a line written after the follow starts arrives.
		follow := kt.start(nil, "logs", "-f", "web-3")
		c.waitFor(20*time.Second, "the followed log's first line", func() bool { return strings.Contains(follow.out.String(), "listening on") })
		ip := podIP(t, c, "web-3")
		if out, err := c.inHost("p3", "curl", "-sS", "--max-time", "5", "http://"+ip+":8080/written-after-the-follow-started"); err != nil {
			t.Fatalf("GET web-3: %v: %s", err, out)
		}
		c.waitFor(20*time.Second, "the new line in the followed log", func() bool {
			return strings.Contains(follow.out.String(), "GET /written-after-the-follow-started")
		})
		follow.stop()

		all := kt.mustRun(nil, "logs", "web-3", "-c", "web").stdout
		lines := strings.Split(strings.TrimSuffix(all, "\n"), "\n")
		if got := kt.mustRun(nil, "logs", "web-3", "--tail", "1").stdout; got != lines[len(lines)-1]+"\n" {
			t.Errorf("--tail 1 = %q, want the last line of\n%s", got, all)
		}
		if got := kt.mustRun(nil, "logs", "web-3", "--limit-bytes", "7").stdout; got != all[:7] {
			t.Errorf("--limit-bytes 7 = %q, want %q", got, all[:7])
		}
		if got := kt.mustRun(nil, "logs", "web-3", "--since", "1h").stdout; !strings.HasPrefix(got, lines[0]) {
			t.Errorf("--since 1h (the whole run is newer) = %q", got)
		}
		for _, bad := range []struct {
			args []string
			want string
		}{
			{[]string{"--timestamps"}, "does not record when each line was written"},
			{[]string{"--previous"}, `previous terminated container "web" in pod "web-3" not found`},
			{[]string{"-c", "nope"}, "container nope is not valid for pod web-3"},
		} {
			out, err := kt.run(nil, append([]string{"logs", "web-3"}, bad.args...)...)
			if err == nil || !strings.Contains(out.stderr, bad.want) {
				t.Errorf("kubectl logs web-3 %v: %v, stderr %q; want it refused saying %q", bad.args, err, out.stderr, bad.want)
			}
		}
	})

	for _, tr := range transports {
		t.Run("exec/"+tr.name, func(t *testing.T) {
			kt := kubectl{t: t, c: c, via: p1, env: tr.env}
			defer servedOnlyOver(t, c, "exec", tr.name)()
			// The exit code and both output streams of a command on p3.
			out, err := kt.run(nil, "exec", "testee", "--", runtimetest.Testee, "echo", "to stdout", "stderr", "to stderr", "exit", "3")
			if exitCode(err) != 3 || out.stdout != "to stdout\n" || !strings.Contains(out.stderr, "to stderr\n") {
				t.Errorf("exec ... exit 3: exit %d (%v), stdout %q, stderr %q", exitCode(err), err, out.stdout, out.stderr)
			}
			// stdin to the end, and exit 0.
			in := "line one\nline two\n"
			if out := kt.mustRun(strings.NewReader(in), "exec", "-i", "testee", "--", runtimetest.Testee, "cat"); out.stdout != in {
				t.Errorf("exec -i cat: stdout %q, want %q", out.stdout, in)
			}
			// A terminal: the far side echoes what is typed and ends lines
			// with \r\n, ^D ends cat, and the exit code still arrives.
			term := kt.startPTY("exec", "-it", "testee", "--", runtimetest.Testee, "echo", "ready", "cat", "exit", "5")
			c.waitFor(20*time.Second, "the command's first line on the terminal", func() bool { return strings.Contains(term.out.String(), "ready\r\n") })
			term.write("typed-on-a-tty\r")
			c.waitFor(20*time.Second, "the typed line echoed and copied back", func() bool {
				return strings.Count(term.out.String(), "typed-on-a-tty\r\n") >= 2
			})
			term.write("\x04")
			if code := term.wait(20 * time.Second); code != 5 {
				t.Errorf("exec -it ... exit 5: kubectl exited %d; terminal:\n%q", code, term.out.String())
			}
			// The toolbox's test in the webapp image, its exit codes.
			if out, err := kt.run(nil, "exec", "web-3", "--", "test", "-f", "/webapp"); err != nil {
				t.Errorf("exec web-3 -- test -f /webapp: %v %s", err, out.stderr)
			}
			if _, err := kt.run(nil, "exec", "web-3", "--", "test", "-f", "/not-there"); exitCode(err) != 1 {
				t.Errorf("exec web-3 -- test -f /not-there: %v, want exit code 1", err)
			}
		})
	}
	t.Run("exec/on-the-pods-peer", func(t *testing.T) {
		kt := kubectl{t: t, c: c, via: p3}
		if out := kt.mustRun(nil, "exec", "testee", "--", runtimetest.Testee, "hostname"); out.stdout != "testee\n" {
			t.Errorf("exec through p3, which runs the pod: %q", out.stdout)
		}
	})

	for _, tr := range transports {
		t.Run("port-forward/"+tr.name, func(t *testing.T) {
			defer servedOnlyOver(t, c, "portforward", tr.name)()
			for _, f := range []struct {
				via          *agent
				target, port string
				want         string
			}{
				{p1, "pod/web-1", "8080", "hello from web-1"}, // the pod runs on the peer kubectl talks to
				{p1, "pod/web-3", "8080", "hello from web-3"}, // on another peer: through its tunnel
				{p2, "svc/web-3", "80", "hello from web-3"},   // kubectl resolves the service to web-3:8080
			} {
				kt := kubectl{t: t, c: c, via: f.via, env: tr.env}
				pf := kt.start(nil, "port-forward", "--address", "127.0.0.1", f.target, ":"+f.port)
				local := pf.forwardedPort(t)
				for i := 0; i < 3; i++ { // one forward, several connections
					body, err := httpGet("http://127.0.0.1:" + local + "/")
					if err != nil || !strings.Contains(body, f.want) {
						t.Errorf("GET through port-forward %s via %s: %q, %v; want %q\n%s", f.target, f.via.name, body, err, f.want, pf.out.String())
					}
				}
				pf.stop()
			}
		})
	}

	t.Run("cp", func(t *testing.T) {
		kt := kubectl{t: t, c: c, via: p1}
		dir := t.TempDir()
		file := filepath.Join(dir, "note.txt")
		note := "a note copied to a pod on another peer\n"
		if err := os.WriteFile(file, []byte(note), 0o644); err != nil {
			t.Fatal(err)
		}
		kt.mustRun(nil, "cp", file, "web-3:/tmp/note.txt")
		if _, err := kt.run(nil, "exec", "web-3", "--", "test", "-f", "/tmp/note.txt"); err != nil {
			t.Fatalf("the copied file is not in the pod: %v", err)
		}
		kt.mustRun(nil, "cp", "web-3:/tmp/note.txt", filepath.Join(dir, "back.txt"))
		if b, err := os.ReadFile(filepath.Join(dir, "back.txt")); err != nil || string(b) != note {
			t.Errorf("the note copied back: %q, %v", b, err)
		}
		big := make([]byte, 4<<20) // many frames each way, through the relay and both kubectl streams
		_, _ = mathrand.NewChaCha8([32]byte{7}).Read(big)
		tree := map[string]string{"a.txt": "alpha\n", "sub/b.txt": "beta\n", "sub/deeper/c.txt": "gamma\n", "sub/big.bin": string(big)}
		for p, body := range tree {
			full := filepath.Join(dir, "tree", p)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		kt.mustRun(nil, "cp", filepath.Join(dir, "tree"), "web-3:/tmp/tree")
		kt.mustRun(nil, "cp", "web-3:/tmp/tree", filepath.Join(dir, "tree-back"))
		for p, body := range tree {
			if b, err := os.ReadFile(filepath.Join(dir, "tree-back", p)); err != nil || string(b) != body {
				t.Errorf("tree copied there and back: %s: %d bytes, %v; want %d bytes as sent", p, len(b), err, len(body))
			}
		}
	})

	t.Run("attach", func(t *testing.T) {
		out, err := kubectl{t: t, c: c, via: p1}.run(nil, "attach", "web-3")
		if err == nil || !strings.Contains(out.stderr, "attach is not supported") {
			t.Errorf("kubectl attach: %v, stderr %q; want it refused with the reason", err, out.stderr)
		}
	})

	t.Run("shoal exec", func(t *testing.T) {
		cmd := exec.Command(shoalBin, "exec", "-i", "--config", c.config, "--server", "https://"+p1.api(), "testee", "--", runtimetest.Testee, "cat", "exit", "4")
		cmd.Stdin = strings.NewReader("through the shoal CLI\n")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if exitCode(err) != 4 || stdout.String() != "through the shoal CLI\n" {
			t.Errorf("shoal exec -i ... cat exit 4: exit %d (%v), stdout %q, stderr %q", exitCode(err), err, stdout.String(), stderr.String())
		}
	})

	// What waits for running pods: rollout status, wait for Available,
	// a new image rolled out, and undo.
	t.Run("rollout-and-wait", func(t *testing.T) {
		kt := kubectl{t: t, c: c, via: p2}
		c.apply("rollout", `apiVersion: apps/v1
kind: Deployment
metadata: {name: roll}
spec:
  replicas: 2
  selector: {matchLabels: {app: roll}}
  template:
    metadata: {labels: {app: roll}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: shoal.local/webapp:v1
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`)
		if out := kt.mustRun(nil, "rollout", "status", "deployment/roll", "--timeout=90s"); !strings.Contains(out.stdout, `deployment "roll" successfully rolled out`) {
			t.Errorf("kubectl rollout status: %q", out.stdout)
		}
		if out := kt.mustRun(nil, "wait", "--for=condition=Available", "deployment/roll", "--timeout=60s"); strings.TrimSpace(out.stdout) != "deployment.apps/roll condition met" {
			t.Errorf("kubectl wait --for=condition=Available: %q", out.stdout)
		}
		kv := kubectl{t: t, c: c, via: p3}
		if out := kv.mustRun(nil, "set", "image", "deployment/roll", "web=shoal.local/webapp:v2"); !strings.Contains(out.stdout, "deployment.apps/roll image updated") {
			t.Errorf("kubectl set image: %q", out.stdout)
		}
		if out := kv.mustRun(nil, "rollout", "status", "deployment/roll", "--timeout=90s"); !strings.Contains(out.stdout, `deployment "roll" successfully rolled out`) {
			t.Errorf("kubectl rollout status after set image: %q", out.stdout)
		}
		// The old pods may still be terminating, as in Kubernetes: rollout
		// status counts only pods not being deleted.
		var images string
		if !poll.Until(30*time.Second, 200*time.Millisecond, func() bool {
			images = kt.mustRun(nil, "get", "pods", "-l", "app=roll", "-o", "jsonpath={.items[*].spec.containers[0].image}").stdout
			return strings.Count(images, "webapp:v2") == 2 && !strings.Contains(images, "webapp:v1")
		}) {
			t.Errorf("old pods never went after the rollout: %q", images)
		}
		if out := kt.mustRun(nil, "rollout", "undo", "deployment/roll"); !strings.Contains(out.stdout, "deployment.apps/roll rolled back") {
			t.Errorf("kubectl rollout undo: %q", out.stdout)
		}
		if out := kt.mustRun(nil, "rollout", "status", "deployment/roll", "--timeout=90s"); !strings.Contains(out.stdout, `deployment "roll" successfully rolled out`) {
			t.Errorf("kubectl rollout status after undo: %q", out.stdout)
		}
	})
}

// transports are kubectl's two ways to stream: WebSocket (its default,
// with SPDY tunnelled in it for port-forward) and SPDY alone.
var transports = []struct {
	name string
	env  []string
}{
	{"websocket", nil},
	{"spdy", []string{"KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false", "KUBECTL_PORT_FORWARD_WEBSOCKETS=false"}},
}

// servedOnlyOver reads the peers' pod stream counters, and the function
// it returns reads them again and fails t unless streams of sub were
// served over transport and none over the other one: kubectl did not
// fall back from WebSocket to SPDY, which would hide a WebSocket that does
// not work.
func servedOnlyOver(t *testing.T, c *procCluster, sub, transport string) func() {
	t.Helper()
	other := "spdy"
	if transport == "spdy" {
		other = "websocket"
	}
	before := streamCounts(t, c)
	return func() {
		t.Helper()
		after := streamCounts(t, c)
		if after[sub+"/"+transport] <= before[sub+"/"+transport] {
			t.Errorf("no %s stream was served over %s (counters %v)", sub, transport, after)
		}
		if after[sub+"/"+other] != before[sub+"/"+other] {
			t.Errorf("%s streams were served over %s too: kubectl fell back (counters before %v, after %v)", sub, other, before, after)
		}
	}
}

var streamsSeries = regexp.MustCompile(`(?m)^shoal_pod_streams_total\{subresource="(\w+)",transport="(\w+)"\} (\d+)$`)

// streamCounts is shoal_pod_streams_total summed over the running peers,
// by "subresource/transport".
func streamCounts(t *testing.T, c *procCluster) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, a := range c.running() {
		var raw api.Raw
		if err := c.apiClient(a).Do(context.Background(), http.MethodGet, api.PathMetrics, nil, &raw); err != nil {
			t.Fatalf("metrics of %s: %v", a.name, err)
		}
		for _, m := range streamsSeries.FindAllStringSubmatch(string(raw.Data), -1) {
			v, _ := strconv.Atoi(m[3])
			n[m[1]+"/"+m[2]] += v
		}
	}
	return n
}

func requireKubectl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("kubectl is not on PATH")
		}
		t.Skip("kubectl is not on PATH")
	}
}

// kubectl runs kubectl against one peer with the cluster's admin config
// (a peer's admin.conf is a kubeconfig), with env added to its
// environment.
type kubectl struct {
	t   *testing.T
	c   *procCluster
	via *agent
	env []string
}

type kubectlOutput struct{ stdout, stderr string }

func (k kubectl) command(ctx context.Context, args ...string) *exec.Cmd {
	// A HOME of the cluster's own: kubectl caches discovery under it.
	home := filepath.Join(k.c.base, "kubectl-home")
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", k.c.config, "--server", "https://" + k.via.api(),
		"--cache-dir", filepath.Join(home, "cache")}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "KUBECONFIG=")
	cmd.Env = append(cmd.Env, k.env...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs kubectl to its end (at most a minute) with stdin (nil: none).
func (k kubectl) run(stdin io.Reader, args ...string) (kubectlOutput, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := k.command(ctx, args...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return kubectlOutput{stdout.String(), stderr.String()}, err
}

func (k kubectl) mustRun(stdin io.Reader, args ...string) kubectlOutput {
	k.t.Helper()
	out, err := k.run(stdin, args...)
	if err != nil {
		k.t.Fatalf("kubectl %s (via %s): %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), k.via.name, err, out.stdout, out.stderr)
	}
	return out
}

// background is a kubectl that runs until stopped: logs -f, port-forward.
type background struct {
	cmd  *exec.Cmd
	out  *syncBuffer // stdout and stderr
	done chan error
}

func (k kubectl) start(stdin io.Reader, args ...string) *background {
	k.t.Helper()
	b := &background{cmd: k.command(context.Background(), args...), out: &syncBuffer{}, done: make(chan error, 1)}
	b.cmd.Stdin = stdin
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		k.t.Fatal(err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	k.t.Cleanup(b.stop)
	return b
}

func (b *background) stop() {
	if b.cmd.ProcessState == nil {
		_ = b.cmd.Process.Kill()
	}
	select {
	case err := <-b.done:
		b.done <- err
	case <-time.After(10 * time.Second):
	}
}

var forwarding = regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) ->`)

// forwardedPort waits for port-forward to say which local port it listens
// on.
func (b *background) forwardedPort(t *testing.T) string {
	t.Helper()
	var port string
	if !poll.Until(30*time.Second, 50*time.Millisecond, func() bool {
		if m := forwarding.FindStringSubmatch(b.out.String()); m != nil {
			port = m[1]
		}
		return port != ""
	}) {
		t.Fatalf("port-forward did not start:\n%s", b.out.String())
	}
	return port
}

// terminal is kubectl run with a pseudo-terminal as its stdin, stdout and
// stderr, as from an interactive shell.
type terminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File // the terminal's controlling side
	out  *syncBuffer
	done chan struct{}
}

func (k kubectl) startPTY(args ...string) *terminal {
	k.t.Helper()
	term := &terminal{t: k.t, cmd: k.command(context.Background(), args...), out: &syncBuffer{}, done: make(chan struct{})}
	tty, err := pty.StartWithSize(term.cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		k.t.Fatal(err)
	}
	term.tty = tty
	go func() {
		_, _ = io.Copy(term.out, tty) // until kubectl exits and the terminal closes
		close(term.done)
	}()
	k.t.Cleanup(func() {
		if term.cmd.ProcessState == nil {
			_ = term.cmd.Process.Kill()
			_ = term.cmd.Wait()
		}
		tty.Close()
	})
	return term
}

func (term *terminal) write(s string) {
	term.t.Helper()
	if _, err := term.tty.WriteString(s); err != nil {
		term.t.Fatal(err)
	}
}

// wait waits for kubectl to exit and returns its exit code (-1 when it
// did not exit in time).
func (term *terminal) wait(d time.Duration) int {
	exited := make(chan error, 1)
	go func() { exited <- term.cmd.Wait() }()
	select {
	case err := <-exited:
		return exitCode(err)
	case <-time.After(d):
		_ = term.cmd.Process.Kill()
		<-exited
		return -1
	}
}

// exitCode is a command's exit code from its error (0 for none, -1 when it
// did not exit).
func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}

func httpGet(url string) (string, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// podIP reads a pod's IP through the CLI.
func podIP(t *testing.T, c *procCluster, pod string) string {
	t.Helper()
	out := c.mustCLI("get", "pod", pod, "-o", "wide")
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Scan() // the header
	if !sc.Scan() {
		t.Fatalf("get pod %s -o wide:\n%s", pod, out)
	}
	f := strings.Fields(sc.Text())
	ip := f[len(f)-2]
	if !regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`).MatchString(ip) {
		t.Fatalf("no IP in\n%s", out)
	}
	return ip
}
