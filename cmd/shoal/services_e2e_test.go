package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/vishvananda/netns"

	"github.com/shoalproject/shoal/internal/poll"
	"github.com/shoalproject/shoal/workload"
)

var helloFrom = regexp.MustCompile(`hello from (\S+)`)

// A Service on real containerd, three agents each in a network namespace
// of its own: from each peer's namespace, and from inside a pod (through
// its gateway), the cluster IP reaches all three pods, two of them through
// the tunnel to the peer that runs them; so does the NodePort on each
// peer's address from outside. No iptables anywhere. A pod that fails its
// readiness probe gets no traffic until it passes again. Inside a pod, the
// peer's DNS on the gateway gives the service's names its cluster IP.
func TestServiceOnContainerdReachesPodsOnEveryPeer(t *testing.T) {
	d, image, c := containerdHosts(t)
	agents := map[string]*agent{}
	var p1Flags []string
	for n := 1; n <= 3; n++ {
		via := 1
		if n == 1 {
			via = 0
		}
		flags := containerdFlags(t, c, d, n)
		if n == 1 {
			p1Flags = flags
		}
		agents[fmt.Sprintf("p%d", n)] = c.start(n, via, flags...)
	}
	c.mustCLI("image", "import", image)
	nodePort := 30000 + rand.IntN(2700)
	mf := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(mf, []byte(fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: shoal.local/webapp:v1
        env: [{name: PORT, value: "9000"}]
        ports: [{name: http, containerPort: 9000}]
        readinessProbe: {httpGet: {path: /healthz, port: 9000}, periodSeconds: 1, failureThreshold: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: http, nodePort: %d}]
`, nodePort)), 0o600); err != nil {
		t.Fatal(err)
	}
	c.mustCLI("apply", "-f", mf)
	var ep workload.Endpoints
	c.waitFor(90*time.Second, "3 ready endpoints on 3 peers", func() bool {
		out, err := c.cli("get", "endpoints", "web", "-o", "json")
		if err != nil || json.Unmarshal([]byte(out), &ep) != nil || len(ep.Subsets) != 1 {
			return false
		}
		nodes := map[string]bool{}
		for _, a := range ep.Subsets[0].Addresses {
			if a.NodeName != nil {
				nodes[*a.NodeName] = true
			}
		}
		return len(nodes) == 3
	})
	var svc workload.Service
	if err := json.Unmarshal([]byte(c.mustCLI("get", "svc", "web", "-o", "json")), &svc); err != nil {
		t.Fatal(err)
	}
	// From each peer's own namespace, to the cluster IP.
	for _, name := range []string{"p1", "p2", "p3"} {
		seen := map[string]bool{}
		c.waitFor(60*time.Second, name+": the cluster IP reaching all 3 pods", func() bool {
			out, err := c.inHost(name, "curl", "-sS", "--max-time", "5", "http://"+svc.Spec.ClusterIP+"/")
			if m := helloFrom.FindStringSubmatch(out); err == nil && m != nil {
				seen[m[1]] = true
			}
			return len(seen) == 3
		})
	}
	// From inside a pod on p1, through its gateway.
	out, err := exec.Command("sh", "-c", "ls /var/run/netns | grep '^shoal-"+p1Flags[5]+"-' | head -1").Output()
	podNS := strings.TrimSpace(string(out))
	if err != nil || podNS == "" {
		t.Fatalf("no pod network namespace of p1's: %v", err)
	}
	seen := map[string]bool{}
	c.waitFor(60*time.Second, "a pod on p1: the cluster IP reaching all 3 pods", func() bool {
		out, err := exec.Command("ip", "netns", "exec", podNS, "curl", "-sS", "--max-time", "5", "http://"+svc.Spec.ClusterIP+"/").CombinedOutput()
		if m := helloFrom.FindStringSubmatch(string(out)); err == nil && m != nil {
			seen[m[1]] = true
		}
		return len(seen) == 3
	})
	// A pod that fails its readiness probe gets no traffic, and gets it
	// again once it passes.
	addr := ep.Subsets[0].Addresses[0]
	sick, sickNode := addr.TargetRef.Name, *addr.NodeName
	if out, err := c.inHost(sickNode, "curl", "-sS", "--max-time", "5", "-X", "POST", "http://"+addr.IP+":9000/fail"); err != nil {
		t.Fatalf("make %s fail: %v: %s", sick, err, out)
	}
	readyNow := func() int {
		var e workload.Endpoints
		out, err := c.cli("get", "endpoints", "web", "-o", "json")
		if err != nil || json.Unmarshal([]byte(out), &e) != nil || len(e.Subsets) == 0 {
			return -1
		}
		return len(e.Subsets[0].Addresses)
	}
	c.waitFor(30*time.Second, sick+" out of the ready endpoints", func() bool { return readyNow() == 2 })
	hits := map[string]int{}
	c.waitFor(60*time.Second, "20 answers through the cluster IP", func() bool {
		out, err := c.inHost("p1", "curl", "-sS", "--max-time", "5", "http://"+svc.Spec.ClusterIP+"/")
		if m := helloFrom.FindStringSubmatch(out); err == nil && m != nil {
			hits[m[1]]++
		}
		n := 0
		for _, h := range hits {
			n += h
		}
		return n >= 20
	})
	if hits[sick] > 0 || len(hits) != 2 {
		t.Fatalf("with %s not ready, 20 requests went %v", sick, hits)
	}
	if out, err := c.inHost(sickNode, "curl", "-sS", "--max-time", "5", "-X", "POST", "http://"+addr.IP+":9000/recover"); err != nil {
		t.Fatalf("make %s recover: %v: %s", sick, err, out)
	}
	c.waitFor(30*time.Second, sick+" back in the ready endpoints", func() bool { return readyNow() == 3 })
	c.waitFor(30*time.Second, sick+" getting traffic again", func() bool {
		out, _ := c.inHost("p1", "curl", "-sS", "--max-time", "5", "http://"+svc.Spec.ClusterIP+"/")
		m := helloFrom.FindStringSubmatch(out)
		return m != nil && m[1] == sick
	})

	// DNS from inside that pod: the service's names, asked of the peer's
	// pod DNS on the bridge's gateway, give its cluster IP.
	var node workload.Node
	if err := json.Unmarshal([]byte(c.mustCLI("get", "node", "p1", "-o", "json")), &node); err != nil {
		t.Fatal(err)
	}
	gateway := netip.MustParsePrefix(node.Spec.PodCIDR).Masked().Addr().Next().String()
	for _, name := range []string{"web.default.svc.cluster.local", "web.default.svc"} {
		var last error
		defer func() {
			if t.Failed() && last != nil {
				t.Logf("resolving %s from a pod on p1: last error %v", name, last)
			}
		}()
		c.waitFor(30*time.Second, "a pod on p1 resolving "+name, func() bool {
			// Any pod of p1's will do: ask from each until one answers.
			out, _ := exec.Command("sh", "-c", "ls /var/run/netns | grep '^shoal-"+p1Flags[5]+"-'").Output()
			for _, ns := range strings.Fields(string(out)) {
				got, err := resolveIn(ns, net.JoinHostPort(gateway, "53"), name)
				if got == svc.Spec.ClusterIP {
					return true
				}
				last = err
			}
			return false
		})
	}
	// From outside (this test's own namespace, on the peers' LAN), to each
	// peer's NodePort.
	// A new connection per request: the proxy balances connections.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for name, a := range agents {
		seen := map[string]bool{}
		var last error
		defer func() {
			if t.Failed() {
				t.Logf("%s's NodePort: last error %v, seen %v", name, last, seen)
			}
		}()
		c.waitFor(60*time.Second, name+"'s NodePort reaching all 3 pods", func() bool {
			resp, err := client.Get(fmt.Sprintf("http://%s:%d/", a.ip, nodePort))
			if last = err; err != nil {
				return false
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if m := helloFrom.FindStringSubmatch(string(body)); m != nil {
				seen[m[1]] = true
			}
			return len(seen) == 3
		})
	}

	// Delete an endpoint pod (on p2) under a steady stream of requests to
	// every peer's NodePort: the pod leaves every proxy before it gets
	// SIGTERM, so no request fails.
	var victim workload.EndpointAddress
	for _, a := range ep.Subsets[0].Addresses {
		if *a.NodeName == "p2" {
			victim = a
		}
	}
	all := []string{}
	for _, n := range []string{"p1", "p2", "p3"} {
		all = append(all, fmt.Sprintf("%s:%d", agents[n].ip, nodePort))
	}
	st := startStream(t, client, all)
	st.waitAnswers(t, 30)
	c.mustCLI("delete", "pod", victim.TargetRef.Name)
	var replacement workload.EndpointAddress
	c.waitFor(90*time.Second, victim.TargetRef.Name+" replaced by a ready pod", func() bool {
		var e workload.Endpoints
		out, err := c.cli("get", "endpoints", "web", "-o", "json")
		if err != nil || json.Unmarshal([]byte(out), &e) != nil || len(e.Subsets) != 1 || len(e.Subsets[0].Addresses) != 3 {
			return false
		}
		for _, a := range e.Subsets[0].Addresses {
			if a.TargetRef.Name == victim.TargetRef.Name {
				return false
			}
			if !slices.ContainsFunc(ep.Subsets[0].Addresses, func(o workload.EndpointAddress) bool { return o.TargetRef.Name == a.TargetRef.Name }) {
				replacement = a
			}
		}
		return replacement.IP != ""
	})
	st.waitAnswersFrom(t, replacement.TargetRef.Name, 5)
	res := st.stop()
	if len(res.failed) > 0 {
		t.Errorf("deleting %s: %d of %d requests failed: %v", victim.TargetRef.Name, len(res.failed), res.sent, res.failed[:min(5, len(res.failed))])
	}
	t.Logf("deleting %s under a stream: %d requests, %d failed; answers %v", victim.TargetRef.Name, res.sent, len(res.failed), res.byPod)

	// The replacement started long after the service: its environment has
	// the service's variables.
	env := podEnv(t, replacement.IP)
	for _, want := range []string{"WEB_SERVICE_HOST=" + svc.Spec.ClusterIP, "WEB_SERVICE_PORT=80", "WEB_PORT=tcp://" + svc.Spec.ClusterIP + ":80"} {
		if !slices.Contains(env, want) {
			t.Errorf("%s's environment lacks %s: %q", replacement.TargetRef.Name, want, env)
		}
	}

	// Take p3 down as a dead machine (agent kill -9ed, link cut) under a
	// stream through p1's and p2's NodePorts: traffic carries on to the
	// other pods. Requests sent after the kill must not fail: one routed to
	// p3's pod fails to connect and is retried on another. Those in flight
	// to p3's pod at the kill fail; the count is reported.
	c.waitFor(30*time.Second, "3 voting replicas of every shard", func() bool { return c.shardsSettled(3, "") })
	var onP3 string
	for _, a := range ep.Subsets[0].Addresses {
		if *a.NodeName == "p3" {
			onP3 = a.TargetRef.Name
		}
	}
	st = startStream(t, client, all[:2])
	st.waitAnswersFrom(t, onP3, 3)
	agents["p3"].kill()
	sh(t, "ip", "link", "set", c.hostName("shv", 3), "down")
	killed := time.Now()
	st.mark(killed)
	var replaced time.Duration
	c.waitFor(90*time.Second, "3 ready endpoints again, none on p3", func() bool {
		var e workload.Endpoints
		out, err := c.cli("get", "endpoints", "web", "-o", "json")
		if err != nil || json.Unmarshal([]byte(out), &e) != nil || len(e.Subsets) != 1 || len(e.Subsets[0].Addresses) != 3 {
			return false
		}
		for _, a := range e.Subsets[0].Addresses {
			if *a.NodeName == "p3" {
				return false
			}
		}
		replaced = time.Since(killed)
		return true
	})
	st.waitAnswers(t, 50)
	res = st.stop()
	if len(res.failedAfter) > 0 {
		t.Errorf("p3 down: %d requests sent after the kill failed: %v", len(res.failedAfter), res.failedAfter[:min(5, len(res.failedAfter))])
	}
	t.Logf("p3 down under a stream: %d requests, %d in flight at the kill failed, %d sent after it failed; 3 ready endpoints again %s after the kill; answers %v",
		res.sent, len(res.failed)-len(res.failedAfter), len(res.failedAfter), replaced.Round(10*time.Millisecond), res.byPod)
}

// stream sends one request at a time, each on a new connection, to its
// targets in turn, until stopped (at most 20,000 requests or 5 minutes).
type stream struct {
	mu          sync.Mutex
	sent        int
	failed      []string
	failedAfter []string // failed requests sent after mark
	byPod       map[string]int
	marked      time.Time
	began       time.Time // failures say when they came, from here
	done        chan struct{}
	finished    chan struct{}
}

func startStream(t *testing.T, client *http.Client, targets []string) *stream {
	s := &stream{byPod: map[string]int{}, began: time.Now(), done: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(s.finished)
		deadline := time.Now().Add(5 * time.Minute)
		for i := 0; i < 20000 && time.Now().Before(deadline); i++ {
			select {
			case <-s.done:
				return
			default:
			}
			sent := time.Now()
			resp, err := client.Get("http://" + targets[i%len(targets)] + "/")
			var pod string
			if err == nil {
				body, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				m := helloFrom.FindStringSubmatch(string(body))
				switch {
				case rerr != nil:
					err = rerr
				case resp.StatusCode != http.StatusOK || m == nil:
					err = fmt.Errorf("%s: %s", resp.Status, body)
				default:
					pod = m[1]
				}
			}
			s.mu.Lock()
			s.sent++
			if err != nil {
				err = fmt.Errorf("+%.2fs: %w", sent.Sub(s.began).Seconds(), err)
				s.failed = append(s.failed, err.Error())
				if !s.marked.IsZero() && sent.After(s.marked) {
					s.failedAfter = append(s.failedAfter, err.Error())
				}
			} else {
				s.byPod[pod]++
			}
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { s.stop() })
	return s
}

// mark starts counting failures of requests sent after at apart.
func (s *stream) mark(at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.marked = at
}

// waitAnswersFrom waits for n more answers from pod.
func (s *stream) waitAnswersFrom(t *testing.T, pod string, n int) {
	t.Helper()
	s.mu.Lock()
	want := s.byPod[pod] + n
	s.mu.Unlock()
	if !poll.Until(60*time.Second, 20*time.Millisecond, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.byPod[pod] >= want
	}) {
		s.mu.Lock()
		defer s.mu.Unlock()
		t.Fatalf("the stream got no %d more answers from %s in 60 s (answers %v, %d failed)", n, pod, s.byPod, len(s.failed))
	}
}

// waitAnswers waits for n more answers from any pod.
func (s *stream) waitAnswers(t *testing.T, n int) {
	t.Helper()
	count := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.sent - len(s.failed)
	}
	want := count() + n
	if !poll.Until(60*time.Second, 20*time.Millisecond, func() bool { return count() >= want }) {
		t.Fatalf("the stream got no %d more answers in 60 s", n)
	}
}

type streamResult struct {
	sent                int
	failed, failedAfter []string
	byPod               map[string]int
}

// stop ends the stream and returns its tally.
func (s *stream) stop() streamResult {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	<-s.finished
	s.mu.Lock()
	defer s.mu.Unlock()
	return streamResult{sent: s.sent, failed: s.failed, failedAfter: s.failedAfter, byPod: maps.Clone(s.byPod)}
}

// podEnv is the environment of the webapp's process in the pod with
// address ip (found by its network namespace).
func podEnv(t *testing.T, ip string) []string { return podEnvWith(t, ip, "PORT=9000") }

// podEnvWith is the environment of the process in the pod with address ip
// whose environment has marker.
func podEnvWith(t *testing.T, ip, marker string) []string {
	t.Helper()
	out, err := exec.Command("sh", "-c", "for ns in $(ls /var/run/netns | grep ^shoal-); do ip -n $ns -4 -o addr | grep -q ' "+ip+"/' && ip netns pids $ns; done; true").Output()
	if err != nil {
		t.Fatalf("pids in %s's namespace: %v", ip, err)
	}
	for _, pid := range strings.Fields(string(out)) {
		b, err := os.ReadFile("/proc/" + pid + "/environ")
		if err == nil && strings.Contains(string(b), marker) {
			return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		}
	}
	t.Fatalf("no process with %s in its environment in the namespace of %s (pids %q)", marker, ip, out)
	return nil
}

// resolveIn asks server for name's A record from inside the network
// namespace ns (a pod's), and returns the first address, or why it got none.
func resolveIn(ns, server, name string) (string, error) {
	type result struct {
		addr string
		err  error
	}
	out := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends in the pod's namespace
		h, err := netns.GetFromPath("/var/run/netns/" + ns)
		if err != nil {
			out <- result{err: fmt.Errorf("namespace %s: %w", ns, err)}
			return
		}
		if err := netns.Set(h); err != nil {
			out <- result{err: fmt.Errorf("enter %s: %w", ns, err)}
			return
		}
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeA)
		resp, _, err := (&dns.Client{Timeout: 3 * time.Second}).Exchange(m, server)
		if err != nil {
			out <- result{err: err}
			return
		}
		for _, rr := range resp.Answer {
			if a, ok := rr.(*dns.A); ok {
				out <- result{addr: a.A.String()}
				return
			}
		}
		out <- result{err: fmt.Errorf("%s: %s, no A record", name, dns.RcodeToString[resp.Rcode])}
	}()
	r := <-out
	return r.addr, r.err
}
