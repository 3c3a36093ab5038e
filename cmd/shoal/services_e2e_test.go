package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/vishvananda/netns"

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
		var got string
		c.waitFor(30*time.Second, "a pod on p1 resolving "+name, func() bool {
			got = resolveIn(t, podNS, net.JoinHostPort(gateway, "53"), name)
			return got == svc.Spec.ClusterIP
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
}

// resolveIn asks server for name's A record from inside the network
// namespace ns (a pod's), and returns the first address, or "".
func resolveIn(t *testing.T, ns, server, name string) string {
	out := make(chan string, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends in the pod's namespace
		h, err := netns.GetFromPath("/var/run/netns/" + ns)
		if err != nil || netns.Set(h) != nil {
			out <- ""
			return
		}
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeA)
		resp, _, err := (&dns.Client{Timeout: 3 * time.Second}).Exchange(m, server)
		if err != nil {
			out <- ""
			return
		}
		for _, rr := range resp.Answer {
			if a, ok := rr.(*dns.A); ok {
				out <- a.A.String()
				return
			}
		}
		out <- ""
	}()
	return <-out
}
