package peer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
)

func cmObject(name, v string) consensus.Object {
	return consensus.Object{Kind: "ConfigMap", Namespace: "default", Name: name, Data: []byte(`{"v":"` + v + `"}`)}
}

// put creates an object through one peer, retrying while the shard is
// still electing (a fresh cluster).
func put(t *testing.T, p *Peer, o consensus.Object) consensus.Result {
	t.Helper()
	shard := p.Router().ShardFor(o.Key(), "")
	var res consensus.Result
	var err error
	waitFor(t, 20*time.Second, "a write through "+p.Name(), func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		res, err = p.Store().Propose(ctx, shard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpCreate, Object: o}}})
		return err == nil || !errors.Is(err, errdefs.ErrUnavailable)
	})
	if err != nil {
		t.Fatalf("write %s through %s: %v", o.Name, p.Name(), err)
	}
	return res
}

func TestWriteThroughAnyPeerIsReadThroughEvery(t *testing.T) {
	for _, n := range []int{1, 3, 5} {
		t.Run(fmt.Sprintf("peers=%d", n), func(t *testing.T) {
			c := newTestCluster(t)
			c.start("p1", "")
			for i := 2; i <= n; i++ {
				c.start(fmt.Sprintf("p%d", i), "p1")
			}
			if n >= 3 {
				c.waitReplicas(3)
			}
			for i := 1; i <= n; i++ {
				writer := c.peers[fmt.Sprintf("p%d", i)]
				o := cmObject(fmt.Sprintf("from-p%d", i), "x")
				put(t, writer, o)
				for j := 1; j <= n; j++ {
					reader := c.peers[fmt.Sprintf("p%d", j)]
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					got, err := reader.Store().Get(ctx, reader.Router().ShardFor(o.Key(), ""), o.Key(), true)
					cancel()
					if err != nil || string(got.Data) != string(o.Data) {
						t.Fatalf("%s wrote %s; %s reads %q, %v", writer.Name(), o.Name, reader.Name(), got.Data, err)
					}
				}
			}
		})
	}
}

// A write through a follower's peer is proposed by the leader's peer (on
// the proposal pipeline), so one proposer packs a shard's writes; a write
// through a peer without a replica gets there too.
func TestWritesGoToTheShardLeadersPeer(t *testing.T) {
	c := newTestCluster(t)
	c.startPeers(3)
	c.waitReplicas(3)
	c.start("p4", "p1") // holds no replica until one is moved to it
	o := cmObject("first", "1")
	shard := c.peers["p1"].Router().ShardFor(o.Key(), "")
	put(t, c.peers["p1"], o)

	// Names whose objects live in that shard.
	const n = 20
	var names []string
	for i := 0; len(names) < 4*n; i++ {
		o := cmObject("via-"+strconv.Itoa(i), "")
		if c.peers["p1"].Router().ShardFor(o.Key(), "") == shard {
			names = append(names, o.Name)
		}
	}
	var leader *Peer
	// Leadership may still move to balance load; a round counts only if
	// the leader stayed put through it.
	var round int
	for ; ; round++ {
		var follower *Peer
		waitFor(t, 10*time.Second, "a leader of shard "+strconv.FormatUint(shard, 10)+" and a follower that knows it", func() bool {
			leader, follower = nil, nil
			for _, name := range []string{"p1", "p2", "p3"} {
				p := c.peers[name]
				if p.host.IsLeader(shard) {
					leader = p
				} else if _, ok := p.store.leaderAPI(shard); ok {
					follower = p
				}
			}
			return leader != nil && follower != nil
		})
		leaderBefore, _ := leader.host.ShardProposeStats(shard)
		followerBefore, _ := follower.host.ShardProposeStats(shard)
		for i := range n {
			via := follower
			if i%2 == 1 && !c.peers["p4"].host.Has(shard) {
				via = c.peers["p4"]
			}
			put(t, via, cmObject(names[round*n+i], strconv.Itoa(i)))
		}
		leaderAfter, _ := leader.host.ShardProposeStats(shard)
		followerAfter, _ := follower.host.ShardProposeStats(shard)
		if !leader.host.IsLeader(shard) && round < 3 {
			continue
		}
		if followerAfter != followerBefore {
			t.Errorf("the follower %s proposed %d entries itself; want its writes sent to the leader %s", follower.Name(), followerAfter-followerBefore, leader.Name())
		}
		if leaderAfter == leaderBefore {
			t.Errorf("the leader %s proposed no entry for %d writes", leader.Name(), n)
		}
		break
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range n {
		o := cmObject(names[round*n+i], "")
		k := o.Key()
		if got, err := leader.Store().Get(ctx, shard, k, true); err != nil || string(got.Data) != `{"v":"`+strconv.Itoa(i)+`"}` {
			t.Errorf("%s: %s, %v", k.Name, got.Data, err)
		}
	}
}

func TestWatchThroughAPeerWithoutReplicas(t *testing.T) {
	c := newTestCluster(t)
	c.start("p1", "")
	c.start("p2", "p1") // two peers: every shard stays on p1 alone
	p2 := c.peers["p2"]
	o := cmObject("watched", "1")
	shard := p2.Router().ShardFor(o.Key(), "")
	put(t, c.peers["p1"], cmObject("before", "0"))
	waitFor(t, 10*time.Second, "p2 to learn the shard map", func() bool {
		_, err := p2.Store().List(context.Background(), shard, consensus.Filter{}, true)
		return err == nil
	})
	if p2.host.Has(shard) {
		t.Skip("p2 holds the shard; nothing to forward")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, err := p2.Store().List(ctx, shard, consensus.Filter{Kind: "ConfigMap"}, true)
	if err != nil {
		t.Fatal(err)
	}
	events, err := p2.Store().Watch(ctx, shard, l.Index, consensus.Filter{Kind: "ConfigMap"})
	if err != nil {
		t.Fatal(err)
	}
	res := put(t, c.peers["p1"], o)
	select {
	case e := <-events:
		if e.Type != consensus.Added || e.Object.Name != "watched" || e.Object.ResourceVersion != res.Index {
			t.Fatalf("event %+v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event through the forwarded watch")
	}
}

func TestGracefulLeaveMovesReplicasFirst(t *testing.T) {
	c := newTestCluster(t)
	c.startPeers(3)
	c.waitReplicas(3)
	put(t, c.peers["p1"], cmObject("kept", "1"))
	c.start("p4", "p1")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rep, err := c.client("p2").Leave(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.TimedOut || len(rep.Short) != 0 {
		t.Fatalf("leave report %+v: want a full handover", rep)
	}
	recs, err := c.peers["p1"].ctl.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, ok := r.On("p2"); ok {
			t.Fatalf("shard %d still lists p2 after its leave", r.ID)
		}
	}
	if err := c.peers["p2"].Leave(ctx); err != nil {
		t.Fatal(err)
	}
	c.waitReplicas(3)
	o := cmObject("kept", "1")
	got, err := c.peers["p4"].Store().Get(ctx, c.peers["p4"].Router().ShardFor(o.Key(), ""), o.Key(), true)
	if err != nil || string(got.Data) != string(o.Data) {
		t.Fatalf("after the leave: %v %s", err, got.Data)
	}
}

func TestKilledReplicaPeerIsRebuiltOnTheFourthWithoutLosingWrites(t *testing.T) {
	c := newTestCluster(t)
	c.grace = 2 * time.Second
	c.startPeers(3)
	c.waitReplicas(3)
	c.start("p4", "p1")

	// A writer through p4 keeps going the whole time; every write it saw
	// acknowledged must survive.
	var mu sync.Mutex
	var acked []consensus.Object
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p4 := c.peers["p4"]
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			o := cmObject(fmt.Sprintf("w%04d", i), "x")
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			_, err := p4.Store().Propose(ctx, p4.Router().ShardFor(o.Key(), ""), consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpCreate, Object: o}}})
			cancel()
			if err == nil {
				mu.Lock()
				acked = append(acked, o)
				mu.Unlock()
			}
		}
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitFor(t, 20*time.Second, "writes before the kill", func() bool { return count() >= 20 })

	c.peers["p2"].Kill()
	before := count()
	waitFor(t, 30*time.Second, "writes to resume after p2's kill", func() bool { return count() >= before+20 })
	c.waitReplicasOn(3, "p2") // rebuilt on p4, p2 dropped

	c.peers["p3"].Kill() // a second former replica peer
	before = count()
	waitFor(t, 30*time.Second, "writes to resume after p3's kill", func() bool { return count() >= before+20 })
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	p1 := c.peers["p1"]
	for _, o := range acked {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := p1.Store().Get(ctx, p1.Router().ShardFor(o.Key(), ""), o.Key(), true)
		cancel()
		if err != nil {
			t.Fatalf("acknowledged write %s lost: %v", o.Name, err)
		}
	}
	t.Logf("%d acknowledged writes, none lost", len(acked))
}

func TestForwardOrderPutsTheLastKnownLeaderAfterTheOtherHolders(t *testing.T) {
	rec := consensus.ShardRecord{ID: 3, Replicas: map[uint64]consensus.ReplicaRecord{
		1: {Peer: "p1"}, 2: {Peer: "p2"}, 3: {Peer: "p3"}, 4: {Peer: "p4", NonVoting: true},
	}}
	live := map[string]string{"p1": "a1", "p2": "a2", "p3": "a3", "p4": "a4", "p5": "a5"}
	for _, tc := range []struct {
		name   string
		leader uint64
		live   map[string]string
		want   []string
	}{
		{"no leader known", 0, live, []string{"a1", "a2", "a3", "a4", "a5"}},
		{"p1 leads", 1, live, []string{"a2", "a3", "a1", "a4", "a5"}},
		{"p3 leads", 3, live, []string{"a1", "a2", "a3", "a4", "a5"}},
		{"the leader's peer is not live", 2, map[string]string{"p1": "a1", "p3": "a3", "p5": "a5"}, []string{"a1", "a3", "a5"}},
		{"a non-voting holder's replica is not a leader to avoid", 4, live, []string{"a1", "a2", "a3", "a4", "a5"}},
	} {
		if got := forwardOrder(rec, tc.leader, tc.live); !slices.Equal(got, tc.want) {
			t.Errorf("%s: forwardOrder = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestHedgedReadsAskTheNextTargetWhenOneIsSlowOrUnavailable(t *testing.T) {
	unavailable := fmt.Errorf("no leader: %w", errdefs.ErrUnavailable)
	// behave maps a target to how it answers: after a delay (or never, for
	// "hang"), with its name or an error.
	type behaviour struct {
		delay time.Duration
		hang  bool
		err   error
	}
	for _, tc := range []struct {
		name    string
		targets map[string]behaviour
		order   []string
		want    string
		wantErr error
	}{
		{"the first answers", map[string]behaviour{"a": {}, "b": {}}, []string{"a", "b"}, "a", nil},
		{"the first hangs: the second answers", map[string]behaviour{"a": {hang: true}, "b": {}}, []string{"a", "b"}, "b", nil},
		{"the first is unavailable: the second at once", map[string]behaviour{"a": {err: unavailable}, "b": {}}, []string{"a", "b"}, "b", nil},
		{"a domain error wins", map[string]behaviour{"a": {err: errdefs.ErrNotFound}, "b": {delay: time.Second}}, []string{"a", "b"}, "", errdefs.ErrNotFound},
		{"all unavailable", map[string]behaviour{"a": {err: unavailable}, "b": {err: unavailable}}, []string{"a", "b"}, "", errdefs.ErrUnavailable},
		{"no targets", nil, nil, "", errdefs.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var asked []string
			got, err := hedged(context.Background(), tc.order, 20*time.Millisecond, func(ctx context.Context, addr string) (string, error) {
				mu.Lock()
				asked = append(asked, addr)
				mu.Unlock()
				b := tc.targets[addr]
				if b.hang {
					<-ctx.Done() // cancelled once another answered
					return "", ctx.Err()
				}
				select {
				case <-time.After(b.delay):
				case <-ctx.Done():
					return "", ctx.Err()
				}
				if b.err != nil {
					return "", b.err
				}
				return addr, nil
			})
			if got != tc.want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("hedged = %q, %v; want %q, %v (asked %v)", got, err, tc.want, tc.wantErr, asked)
			}
		})
	}
}
