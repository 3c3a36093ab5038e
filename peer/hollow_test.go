package peer

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/workload"
)

// Hollow nodes join a cluster of real peers: they are Ready nodes that
// gossip says are alive, the scheduler places pods on them, their agents
// run those pods in the fake runtime, and placement never gives them a
// raft replica.
func TestHollowNodesRunADeploymentsPods(t *testing.T) {
	c := newTestCluster(t)
	c.network = gossip.NewMemNetwork()
	c.startPeers(3) // no runtime: their own nodes are NotReady, so pods go to hollow nodes
	c.waitReplicas(3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const nodes, replicas = 12, 30
	fleet, err := StartHollowFleet(ctx, HollowConfig{
		Via: []*Peer{c.peers["p1"], c.peers["p2"], c.peers["p3"]}, Nodes: nodes, Zones: 3,
		SyncPeriod: time.Second, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Stop)
	hollow := map[string]bool{}
	for _, n := range fleet.Nodes() {
		hollow[n] = true
	}
	waitFor(t, 20*time.Second, "every peer to see the hollow nodes alive", func() bool {
		for _, p := range c.peers {
			alive := 0
			for _, m := range p.gossip.Members() {
				if hollow[m.Name] && m.Status == gossip.StatusAlive {
					alive++
				}
			}
			if alive != nodes {
				return false
			}
		}
		return true
	})

	cl := c.client("p1")
	if err := cl.Do(ctx, http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", deploymentBody(replicas, "web"), nil); err != nil {
		t.Fatal(err)
	}
	var running map[string]string
	waitFor(t, 45*time.Second, "the deployment's pods running on hollow nodes", func() bool {
		running = runningPods(ctx, c, "p1")
		return len(running) == replicas
	})
	perNode := map[string]int{}
	for pod, node := range running {
		if !hollow[node] {
			t.Errorf("pod %s runs on %s, not a hollow node", pod, node)
		}
		perNode[node]++
	}
	if len(perNode) != nodes {
		t.Errorf("%d pods on %d nodes: %v; want them spread over all %d", replicas, len(perNode), perNode, nodes)
	}
	if got := fleet.RunningContainers(ctx); got != replicas {
		t.Errorf("the fake runtimes hold %d sandboxes; want %d", got, replicas)
	}

	var list struct{ Items []workload.Node }
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/nodes", nil, &list); err != nil {
		t.Fatal(err)
	}
	ready := 0
	for _, n := range list.Items {
		if hollow[n.ObjectMeta.Name] && n.Status.Conditions[0].Status == workload.ConditionTrue &&
			n.ObjectMeta.Labels["topology.kubernetes.io/zone"] != "" && strings.HasPrefix(n.Spec.PodCIDR, "10.") {
			ready++
		}
	}
	if ready != nodes {
		t.Errorf("%d hollow nodes are Ready with a zone and a pod CIDR; want %d", ready, nodes)
	}

	recs, err := c.peers["p1"].ctl.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		for _, rep := range r.Replicas {
			if hollow[rep.Peer] {
				t.Errorf("shard %d has a replica on hollow node %s", r.ID, rep.Peer)
			}
		}
	}
	// Their pods' events name the hollow node that ran them.
	info, err := workload.LookupKind("Event")
	if err != nil {
		t.Fatal(err)
	}
	p1 := c.peers["p1"]
	waitFor(t, 30*time.Second, "a Started event from a hollow node", func() bool { // written in the background
		evs, _, err := consensus.ListShards(ctx, p1.store, p1.shardsFor(info), consensus.Filter{Kind: "Event", Namespace: "default"}, false)
		if err != nil {
			return false
		}
		for _, so := range evs {
			var ev workload.Event
			if json.Unmarshal(so.Data, &ev) == nil && ev.Reason == "Started" && hollow[ev.Source.Host] {
				return true
			}
		}
		return false
	})
}
