package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/peer/api"
)

// peerClient talks to an agent's internal store routes as a peer, with the
// certificate in a data dir: how another peer forwards store calls.
func (c *procCluster) peerClient(a *agent, via *agent) *api.Client {
	pair, err := tls.LoadX509KeyPair(filepath.Join(via.dir, "pki/peer.crt"), filepath.Join(via.dir, "pki/peer.key"))
	if err != nil {
		c.t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(via.dir, "pki/ca.crt"))
	if err != nil {
		c.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cl := api.NewClientTLS([]string{a.api()}, &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}, "")
	c.t.Cleanup(cl.Close)
	return cl
}

func storeWrite(ctx context.Context, cl *api.Client, router consensus.Router, o consensus.Object) error {
	body, err := consensus.EncodeBatch(consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpCreate, Object: o}}})
	if err != nil {
		return err
	}
	var raw api.Raw
	if err := cl.Do(ctx, http.MethodPost, fmt.Sprintf("/v1/internal/shards/%d/propose", router.ShardFor(o.Key(), "")),
		api.Raw{ContentType: api.ContentTypeBinary, Data: body}, &raw); err != nil {
		return err
	}
	r, err := consensus.DecodeResult(raw.Data)
	if err != nil {
		return err
	}
	return r.Error()
}

func storeRead(ctx context.Context, cl *api.Client, router consensus.Router, k consensus.Key) (consensus.Object, error) {
	var o consensus.Object
	err := cl.Do(ctx, http.MethodPost, fmt.Sprintf("/v1/internal/shards/%d/get", router.ShardFor(k, "")),
		map[string]any{"key": k, "linearizable": true}, &o)
	return o, err
}

// shardsSettled: every shard has n voting replicas, none on avoid.
func (c *procCluster) shardsSettled(n int, avoid string) bool {
	out, err := c.cli("get", "shards", "-o", "json")
	if err != nil {
		return false
	}
	var shards []api.ShardInfo
	if json.Unmarshal([]byte(out), &shards) != nil || len(shards) == 0 {
		return false
	}
	for _, s := range shards {
		if len(s.Replicas) != n || s.Leader == "" || s.Leader == avoid {
			return false
		}
		for _, r := range s.Replicas {
			if r.NonVoting || r.Peer == avoid {
				return false
			}
		}
	}
	return true
}

func TestStoreAcrossAgentProcesses(t *testing.T) {
	c := newProcCluster(t)
	p1 := c.start(1, 0, "--replica-repair-grace", "2s")
	p2 := c.start(2, 1, "--replica-repair-grace", "2s")
	p3 := c.start(3, 1, "--replica-repair-grace", "2s")
	c.waitFor(60*time.Second, "3 replicas of every shard", func() bool { return c.shardsSettled(3, "") })
	members, err := c.cli("members")
	if err != nil || strings.Count(members, "*") == 0 {
		t.Fatalf("members does not mark shard leaders: %q %v", members, err)
	}
	router := consensus.Router{ObjectShards: 4}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	agents := []*agent{p1, p2, p3}
	var written []consensus.Key
	for i, w := range agents {
		o := consensus.Object{Kind: "ConfigMap", Namespace: "default", Name: fmt.Sprintf("from-%s", w.name), Data: []byte(`{"i":` + fmt.Sprint(i) + `}`)}
		if err := storeWrite(ctx, c.peerClient(w, p1), router, o); err != nil {
			t.Fatalf("write through %s: %v", w.name, err)
		}
		written = append(written, o.Key())
		for _, r := range agents {
			if _, err := storeRead(ctx, c.peerClient(r, p1), router, o.Key()); err != nil {
				t.Fatalf("%s wrote %s; read through %s: %v", w.name, o.Name, r.name, err)
			}
		}
	}

	// A fourth peer, then kill -9 of a replica peer: writes resume and its
	// replicas are rebuilt on the fourth.
	p4 := c.start(4, 1, "--replica-repair-grace", "2s")
	p2.kill()
	start := time.Now()
	c.waitFor(30*time.Second, "writes to resume", func() bool {
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
		defer wcancel()
		o := consensus.Object{Kind: "ConfigMap", Namespace: "default", Name: fmt.Sprintf("after-%d", time.Now().UnixNano())}
		if storeWrite(wctx, c.peerClient(p4, p1), router, o) != nil {
			return false
		}
		written = append(written, o.Key())
		return true
	})
	t.Logf("first write after kill -9: %s", time.Since(start).Round(time.Millisecond))
	c.waitFor(60*time.Second, "replicas rebuilt without p2", func() bool { return c.shardsSettled(3, "p2") })
	t.Logf("replicas rebuilt: %s after kill -9", time.Since(start).Round(time.Millisecond))
	for _, k := range written {
		if _, err := storeRead(ctx, c.peerClient(p4, p1), router, k); err != nil {
			t.Fatalf("acknowledged %s lost: %v", k, err)
		}
	}
}
