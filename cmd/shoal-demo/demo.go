package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/shoalproject/shoal/internal/poll"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
)

// seedContent is where examples/seed/storage.yaml's hostPath volume lives.
const seedContent = "/srv/shoal-seed/content"

// The file the example serves, as the demo seeds it on every peer.
const seedFile = "Hello from the seed example's volume, mounted read-only on every peer.\n"

type options struct {
	Dir     string       // the cluster's state: containerd, the peers' data and logs
	Name    string       // prefix of namespaces and links made (at most 10 bytes)
	Subnet  netip.Prefix // the peers' LAN, a /24
	Peers   int          // how many peers (3)
	Shoal   string       // the shoal binary
	Image   string       // the web service's image archive
	Seed    string       // the seed example's manifests
	Content string       // the seed volume's hostPath
	// AgentFlags are added to every agent's command line.
	AgentFlags []string
	Out        io.Writer // where up tells its story
}

// report is what up measured, for its last lines and for the test.
type report struct {
	// Answered lists, per peer, the replicas that answered through it on
	// the Service's port 80 before the failover.
	Answered map[string][]string
	// Down is the peer taken down; Replaced the pod that replaced its
	// replica.
	Down, Replaced string
	// Failover is from the kill to the Deployment at 3 ready replicas,
	// none on the dead peer, each a ready endpoint of the Service (polled
	// every 200 ms).
	Failover time.Duration
	// The stream through the surviving peers during the failover: requests
	// sent; failed that were sent after the kill; failed that were in
	// flight at the kill.
	Sent, FailedAfterKill, FailedInFlight int
	Took                                  time.Duration
}

type demo struct {
	o      options
	client *api.Client // the API, through peer1
	rep    *report
	svcIP  string
}

// up runs the demo and leaves the cluster running. A step that fails ends
// it with an error naming the step; what was made stays for a look (down
// removes it).
func up(ctx context.Context, o options) (*report, error) {
	start := time.Now()
	d := &demo{o: o, rep: &report{Answered: map[string][]string{}}}
	defer func() {
		if d.client != nil {
			d.client.Close()
		}
	}()
	last := o.peerName(o.Peers)
	steps := []struct {
		title string
		run   func(context.Context) error
	}{
		{"checking what the demo needs", d.preflight},
		{"removing a previous demo, if any", func(ctx context.Context) error {
			if err := down(ctx, o); err != nil {
				return err
			}
			return claimDir(o)
		}},
		{"starting a private containerd for the peers' pods (" + o.ctdDir() + ")", d.startContainerd},
		{fmt.Sprintf("a LAN of %d machines: a network namespace per peer on bridge %s", o.Peers, o.bridge()), d.makeLAN},
		{"seeding the volume's content (" + filepath.Join(o.Content, "index.txt") + ") on every peer", d.seed},
		{"starting the peers: peer1 bootstraps a cluster, each other joins through the one before", d.startPeers},
		{"waiting for every peer alive and 3 raft replicas of every shard", d.waitStore},
		{"shoal members", d.show("members")},
		{"importing the web service's image into peer1 only (the others fetch it from peer1)", d.importImage},
		{"shoal apply -f examples/seed/", d.apply},
		{"shoal rollout status deployment/web", d.show("rollout", "status", "deployment/web", "--timeout", "3m")},
		{"shoal get nodes,pods -o wide", d.show("get", "nodes,pods", "-o", "wide")},
		{"shoal get svc,pv,pvc", d.show("get", "svc,pv,pvc")},
		{"calling the Service on port 80 through each peer until all 3 replicas answer", d.callThroughEachPeer},
		{"taking " + last + " down as a dead machine goes (agent kill -9, link cut), under a stream of calls through the others", d.failover},
		{"shoal get deploy,pods -o wide", d.show("get", "deploy,pods", "-o", "wide")},
		{"shoal members", d.show("members")},
	}
	for i, s := range steps {
		fmt.Fprintf(o.Out, "\n\033[1m==> [%d/%d] %s\033[0m\n", i+1, len(steps), s.title)
		if err := s.run(ctx); err != nil {
			fmt.Fprintf(o.Out, "\nThe demo stopped at step %d. Agent logs: %s/peer*/agent.log; `make demo-down` removes it all.\n", i+1, o.Dir)
			return d.rep, fmt.Errorf("step %d, %s: %w", i+1, s.title, err)
		}
	}
	d.rep.Took = time.Since(start)
	d.whatNext()
	return d.rep, nil
}

func (d *demo) preflight(ctx context.Context) error {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network namespaces, containerd and CNI need it)")
	}
	for _, tool := range []string{"ip", "nsenter", "containerd", "ctr", "runc", "containerd-shim-runc-v2", "/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	for _, f := range []string{d.o.Shoal, d.o.Image, d.o.Seed} {
		if _, err := os.Stat(f); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing: %s (`make demo` installs and builds what it needs, as root)", strings.Join(missing, ", "))
	}
	fmt.Fprintf(d.o.Out, "root, containerd, runc, CNI plugins, iproute2: present\n")
	return nil
}

// seed writes the file the example serves where the volume's hostPath
// points. The peers share this machine's disk, so one copy serves all
// three; on separate machines each would need its own.
func (d *demo) seed(ctx context.Context) error {
	// Record the outermost directory this makes, for down to remove.
	made := ""
	for dir := filepath.Clean(d.o.Content); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) || dir == filepath.Dir(dir) {
			break
		}
		made = dir
	}
	if made != "" {
		if err := os.WriteFile(d.o.seededMarker(), []byte(made), 0o600); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(d.o.Content, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(d.o.Content, "index.txt"), []byte(seedFile), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(d.o.Out, "%s: %q\n(the peers share this machine's disk, so one copy serves all three; separate machines each need their own)\n",
		filepath.Join(d.o.Content, "index.txt"), seedFile)
	return nil
}

func (d *demo) peerAPI(n int) string { return netip.AddrPortFrom(d.o.peerIP(n), 7948).String() }

func (d *demo) startPeers(ctx context.Context) error {
	o := d.o
	if err := d.startPeer(1, "", ""); err != nil {
		return err
	}
	token := filepath.Join(o.peerDir(1), "data", "join-token")
	if err := waitFor(ctx, 30*time.Second, "peer1's join token and admin.conf", func() (bool, error) {
		_, err1 := os.Stat(token)
		_, err2 := os.Stat(o.adminConf())
		return err1 == nil && err2 == nil, nil
	}); err != nil {
		return err
	}
	b, err := os.ReadFile(token)
	if err != nil {
		return err
	}
	cfg, err := api.LoadConfig(o.adminConf())
	if err != nil {
		return err
	}
	if d.client, err = api.NewClient(cfg, "https://"+d.peerAPI(1)); err != nil {
		return err
	}
	for n := 1; n <= o.Peers; n++ {
		if n > 1 {
			if err := d.startPeer(n, d.peerAPI(n-1), strings.TrimSpace(string(b))); err != nil {
				return err
			}
		}
		cl, err := api.NewClient(cfg, "https://"+d.peerAPI(n))
		if err != nil {
			return err
		}
		err = waitFor(ctx, 60*time.Second, o.peerName(n)+"'s API", func() (bool, error) {
			_, err := cl.Members(ctx)
			return err == nil, nil
		})
		cl.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *demo) waitStore(ctx context.Context) error {
	if err := waitFor(ctx, 60*time.Second, "every peer alive", func() (bool, error) {
		ml, err := d.client.Members(ctx)
		if err != nil {
			return false, nil
		}
		alive := 0
		for _, m := range ml.Members {
			if m.Status == "alive" {
				alive++
			}
		}
		return alive == d.o.Peers, nil
	}); err != nil {
		return err
	}
	return waitFor(ctx, 90*time.Second, "3 voting replicas and a leader in every shard", func() (bool, error) {
		shards, err := d.client.Shards(ctx)
		if err != nil || len(shards) == 0 {
			return false, nil
		}
		for _, s := range shards {
			if s.Leader == "" || len(s.Replicas) != min(3, d.o.Peers) {
				return false, nil
			}
			for _, r := range s.Replicas {
				if r.NonVoting {
					return false, nil
				}
			}
		}
		return true, nil
	})
}

func (d *demo) importImage(ctx context.Context) error {
	args := []string{"image", "import", d.o.Image, "--server", "https://" + d.peerAPI(1)}
	fmt.Fprintf(d.o.Out, "$ shoal %s\n", strings.Join(args, " "))
	// A peer just started may not have its runtime yet.
	var out []byte
	err := waitFor(ctx, 60*time.Second, "peer1's container runtime to take the image", func() (bool, error) {
		var err error
		out, err = d.shoalCmd(ctx, args...).CombinedOutput()
		return err == nil, nil
	})
	d.o.Out.Write(out)
	return err
}

// apply applies the seed example as shipped, or, when the volume's content
// lives elsewhere (the test's), a copy pointing there.
func (d *demo) apply(ctx context.Context) error {
	dir := d.o.Seed
	if d.o.Content != seedContent {
		dir = filepath.Join(d.o.Dir, "seed")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		files, err := filepath.Glob(filepath.Join(d.o.Seed, "*.yaml"))
		if err != nil {
			return err
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			text := strings.ReplaceAll(string(b), seedContent, d.o.Content)
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), []byte(text), 0o600); err != nil {
				return err
			}
		}
		fmt.Fprintf(d.o.Out, "(a copy in %s, with the volume at %s)\n", dir, d.o.Content)
	}
	return d.show("apply", "-f", dir)(ctx)
}

// show runs `shoal ARGS` with its output shown.
func (d *demo) show(args ...string) func(context.Context) error {
	return func(ctx context.Context) error {
		fmt.Fprintf(d.o.Out, "$ shoal %s\n", strings.Join(args, " "))
		cmd := d.shoalCmd(ctx, args...)
		cmd.Stdout, cmd.Stderr = d.o.Out, d.o.Out
		return cmd.Run()
	}
}

func (d *demo) shoalCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, d.o.Shoal, args...)
	cmd.Env = append(os.Environ(), "SHOAL_CONFIG="+d.o.adminConf())
	return cmd
}

// webPods lists the web Deployment's pods.
func (d *demo) webPods(ctx context.Context) ([]workload.Pod, error) {
	var list struct{ Items []workload.Pod }
	err := d.client.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb", nil, &list)
	return list.Items, err
}

// callThroughEachPeer calls http://CLUSTER-IP:80/ from inside each peer's
// namespace, where that peer's proxy takes the call, until every replica
// has answered with the volume's file.
func (d *demo) callThroughEachPeer(ctx context.Context) error {
	var svc workload.Service
	if err := d.client.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/services/web", nil, &svc); err != nil {
		return err
	}
	d.svcIP = svc.Spec.ClusterIP
	url := "http://" + d.svcIP + ":80/"
	for n := 1; n <= d.o.Peers; n++ {
		peer := d.o.peerName(n)
		dialer, err := newNSDialer("/var/run/netns/" + d.o.peerNetns(n))
		if err != nil {
			return err
		}
		client := dialer.client(3 * time.Second)
		fmt.Fprintf(d.o.Out, "$ ip netns exec %s curl %s   # through %s's proxy\n", d.o.peerNetns(n), url, peer)
		seen := map[string]bool{}
		var lastErr error
		err = waitFor(ctx, 60*time.Second, "all 3 replicas answering through "+peer, func() (bool, error) {
			pod, body, err := call(ctx, client, url, seedFile)
			if lastErr = err; err == nil && !seen[pod] {
				seen[pod] = true
				fmt.Fprintf(d.o.Out, "  %s", indentAfterFirst(body, "  "))
			}
			return len(seen) == 3, nil
		})
		dialer.Close()
		if err != nil {
			return fmt.Errorf("%w (last error: %v)", err, lastErr)
		}
		d.rep.Answered[peer] = slices.Sorted(maps.Keys(seen))
	}
	fmt.Fprintf(d.o.Out, "and from this host through a NodePort:\n$ curl http://%s:30080/\n", d.o.peerIP(1))
	_, body, err := call(ctx, &http.Client{Timeout: 3 * time.Second}, fmt.Sprintf("http://%s:30080/", d.o.peerIP(1)), seedFile)
	if err != nil {
		return fmt.Errorf("NodePort 30080 on peer1: %w", err)
	}
	fmt.Fprintf(d.o.Out, "  %s", indentAfterFirst(body, "  "))
	return nil
}

// failover takes the last peer down as a dead machine goes (its agent
// kill -9ed, its link cut) while the other peers carry a stream of calls,
// and waits for the Deployment to be whole again elsewhere.
func (d *demo) failover(ctx context.Context) error {
	o := d.o
	victim := o.Peers
	down := o.peerName(victim)
	d.rep.Down = down
	before, err := d.webPods(ctx)
	if err != nil {
		return err
	}
	var onVictim string
	for _, p := range before {
		if p.Spec.NodeName == down && workload.IsPodReady(&p) {
			onVictim = p.ObjectMeta.Name
		}
	}
	if onVictim == "" {
		return fmt.Errorf("no ready replica on %s to lose", down)
	}
	var clients []*http.Client
	var through []string
	for n := 1; n < victim; n++ {
		dialer, err := newNSDialer("/var/run/netns/" + o.peerNetns(n))
		if err != nil {
			return err
		}
		defer dialer.Close()
		clients = append(clients, dialer.client(3*time.Second))
		through = append(through, o.peerName(n))
	}
	url := "http://" + d.svcIP + ":80/"
	st := startStream(clients, url, seedFile)
	defer st.stop()
	fmt.Fprintf(o.Out, "a stream of calls to %s through %s (one at a time through each, a new connection each)\n", url, strings.Join(through, " and "))
	if err := waitFor(ctx, 30*time.Second, "the stream reaching "+onVictim+" on "+down, func() (bool, error) {
		return st.tally().byPod[onVictim] >= 3, nil
	}); err != nil {
		return err
	}
	pid, err := o.peerPID(victim)
	if err != nil {
		return err
	}
	if err := killPID(pid); err != nil {
		return err
	}
	killed := time.Now()
	st.mark(killed)
	if err := run(ctx, "ip", "link", "set", o.veth(victim), "down"); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "$ kill -9 %d   # %s's agent\n$ ip link set %s down   # %s's network\n", pid, down, o.veth(victim), down)

	// Whole again: 3 ready replicas, none on the dead peer, each a ready
	// endpoint of the Service, and the Deployment's status saying so.
	var last string
	err = waitFor(ctx, 120*time.Second, "3 ready replicas again, none on "+down, func() (bool, error) {
		status := d.memberStatus(ctx, down)
		pods, err := d.webPods(ctx)
		if err != nil {
			return false, nil
		}
		var ready []string
		starting := 0
		for _, p := range pods {
			switch {
			case p.Spec.NodeName == down:
			case workload.IsPodReady(&p):
				ready = append(ready, p.ObjectMeta.Name)
			case p.ObjectMeta.DeletionTimestamp == nil:
				starting++
			}
		}
		t := st.tally()
		line := fmt.Sprintf("%-7s web: %d ready elsewhere, %d starting   calls: %d failed", status, len(ready), starting, t.failed)
		if line != last {
			fmt.Fprintf(o.Out, "  +%4.1fs  %s: %s\n", time.Since(killed).Seconds(), down, line)
			last = line
		}
		if len(ready) != 3 || !d.endpointsWithout(ctx, down) || d.deploymentReady(ctx) != 3 {
			return false, nil
		}
		d.rep.Failover = time.Since(killed)
		for _, name := range ready {
			if !slices.ContainsFunc(before, func(p workload.Pod) bool { return p.ObjectMeta.Name == name }) {
				d.rep.Replaced = name
			}
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	// The replacement takes its share of the calls.
	if d.rep.Replaced != "" {
		if err := waitFor(ctx, 30*time.Second, "calls answered by "+d.rep.Replaced, func() (bool, error) {
			return st.tally().byPod[d.rep.Replaced] >= 3, nil
		}); err != nil {
			return err
		}
	}
	t := st.stop()
	d.rep.Sent, d.rep.FailedAfterKill, d.rep.FailedInFlight = t.sent, t.failedAfter, t.inFlight
	fmt.Fprintf(o.Out, "the Deployment is back at 3 ready replicas %.1f s after the kill (%s replaced %s)\n",
		d.rep.Failover.Seconds(), d.rep.Replaced, onVictim)
	fmt.Fprintf(o.Out, "calls through %s: %d, answered by %s; failed: %d sent after the kill, %d in flight to %s at the kill\n",
		strings.Join(through, " and "), t.sent, formatCounts(t.byPod), t.failedAfter, t.inFlight, onVictim)
	if t.failedAfter > 0 {
		return fmt.Errorf("%d calls sent through %s after the kill failed (last: %v)", t.failedAfter, strings.Join(through, " and "), t.lastErr)
	}
	return nil
}

// memberStatus is peer's gossip status as peer1 sees it.
func (d *demo) memberStatus(ctx context.Context, peer string) string {
	ml, err := d.client.Members(ctx)
	if err != nil {
		return "?"
	}
	for _, m := range ml.Members {
		if m.Name == peer {
			return m.Status
		}
	}
	return "gone"
}

// deploymentReady is the web Deployment's ready replicas, by its status.
func (d *demo) deploymentReady(ctx context.Context) int32 {
	var dep workload.Deployment
	if err := d.client.Do(ctx, http.MethodGet, "/apis/apps/v1/namespaces/default/deployments/web", nil, &dep); err != nil {
		return -1
	}
	return dep.Status.ReadyReplicas
}

// endpointsWithout says whether the Service has 3 ready endpoints, none
// on peer.
func (d *demo) endpointsWithout(ctx context.Context, peer string) bool {
	var ep workload.Endpoints
	if err := d.client.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/endpoints/web", nil, &ep); err != nil || len(ep.Subsets) != 1 {
		return false
	}
	addrs := ep.Subsets[0].Addresses
	return len(addrs) == 3 && !slices.ContainsFunc(addrs, func(a workload.EndpointAddress) bool {
		return a.NodeName != nil && *a.NodeName == peer
	})
}

func (d *demo) whatNext() {
	o, r := d.o, d.rep
	bin, _ := filepath.Abs(filepath.Dir(o.Shoal))
	fmt.Fprintf(o.Out, `
Done in %.0f s. %s is down (its agent killed, its link cut); %s run on, with the
Deployment whole again %.1f s after the kill and %d of %d calls through them failing
(%d sent after the kill, %d in flight to the lost replica).

The cluster keeps running: peers in network namespaces %s..%d at %s..%d,
logs in %s/peer*/agent.log. What next:
  shoal get pods -o wide                        where the replicas run now
  shoal describe deployment web                 its conditions and events
  curl http://%s:30080/                     the Service, through peer1's NodePort
  ip netns exec %s curl http://%s/
                                                the Service's cluster IP, through peer1's proxy
  shoal scale deployment/web --replicas 5       more replicas, placed by the shard leaders
  shoal set image deployment/web web=shoal.local/webapp:v2
  shoal rollout status deployment/web           a rolling update; shoal rollout undo goes back
  shoal get secret web-token -o yaml --reveal   the Secret, stored sealed
  make demo-down                                stop and remove it all
Use the CLI against it with:
export PATH=%s:$PATH
export SHOAL_CONFIG=%s
`, r.Took.Seconds(), r.Down, strings.Join(peerNames(o, o.Peers-1), " and "), r.Failover.Seconds(),
		r.FailedAfterKill+r.FailedInFlight, r.Sent, r.FailedAfterKill, r.FailedInFlight,
		o.peerNetns(1), o.Peers, o.peerIP(1), o.Peers, o.Dir,
		o.peerIP(1), o.peerNetns(1), d.svcIP, bin, o.adminConf())
}

func peerNames(o options, n int) []string {
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, o.peerName(i))
	}
	return names
}

// waitFor polls cond every 200 ms until it holds, it fails, ctx ends, or
// timeout passes (an error naming what was awaited).
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	var err error
	if poll.Until(timeout, 200*time.Millisecond, func() bool {
		var ok bool
		ok, err = cond()
		return ok || err != nil || ctx.Err() != nil
	}) {
		return errors.Join(err, ctx.Err())
	}
	return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
}

// indentAfterFirst indents every line of s but the first.
func indentAfterFirst(s, indent string) string {
	s = strings.TrimRight(s, "\n")
	return strings.ReplaceAll(s, "\n", "\n"+indent) + "\n"
}

func formatCounts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
