package consensus

import (
	"testing"
	"time"
)

var now0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func peersNamed(zoneOf map[string]string) []PeerInfo {
	var out []PeerInfo
	for n, z := range zoneOf {
		out = append(out, PeerInfo{Name: n, RaftAddr: n + ":7947", Zone: z, Alive: true})
	}
	return out
}

func rec(id uint64, replicas map[uint64]ReplicaRecord) ShardRecord {
	return ShardRecord{ID: id, Replicas: replicas, NextReplicaID: uint64(len(replicas) + 1)}
}

func voting(peer string) ReplicaRecord { return ReplicaRecord{Peer: peer, Addr: peer + ":7947"} }

func TestTargetReplicas(t *testing.T) {
	for _, c := range []struct {
		shard uint64
		n     int
		want  int
	}{
		{MetaShard, 1, 1}, {MetaShard, 2, 1}, {MetaShard, 3, 3}, {MetaShard, 5, 3}, {MetaShard, 6, 5},
		{2, 1, 1}, {2, 3, 3}, {2, 10, 3},
	} {
		if got := TargetReplicas(c.shard, c.n); got != c.want {
			t.Errorf("TargetReplicas(%d, %d) = %d, want %d", c.shard, c.n, got, c.want)
		}
	}
}

func TestPlanGrowsThroughNonVotingSpreadOverZones(t *testing.T) {
	peers := peersNamed(map[string]string{"a": "z1", "b": "z1", "c": "z2", "d": "z3"})
	r := rec(2, map[uint64]ReplicaRecord{1: voting("a")})
	out := Plan([]ShardRecord{r}, peers, now0, PlacementConfig{})
	if len(out) != 1 {
		t.Fatalf("want one change, got %v", out)
	}
	added := out[0].Replicas[2]
	if !added.NonVoting || (added.Peer != "c" && added.Peer != "d") {
		t.Fatalf("added %+v: want a non-voting replica in another zone than a's", added)
	}
	if out[0].NextReplicaID != 3 {
		t.Fatalf("next replica ID %d", out[0].NextReplicaID)
	}
}

func TestPlanStaysAtOneReplicaWithTwoPeers(t *testing.T) {
	peers := peersNamed(map[string]string{"a": "z1", "b": "z2"})
	if out := Plan([]ShardRecord{rec(2, map[uint64]ReplicaRecord{1: voting("a")})}, peers, now0, PlacementConfig{}); len(out) != 0 {
		t.Fatalf("two peers: want no change, got %+v", out)
	}
}

func TestPlanMetaGrowsToFiveAtSixPeers(t *testing.T) {
	peers := peersNamed(map[string]string{"a": "z", "b": "z", "c": "z", "d": "z", "e": "z", "f": "z"})
	r := rec(MetaShard, map[uint64]ReplicaRecord{1: voting("a"), 2: voting("b"), 3: voting("c")})
	out := Plan([]ShardRecord{r}, peers, now0, PlacementConfig{})
	if len(out) != 1 || len(out[0].Replicas) != 4 {
		t.Fatalf("want a fourth replica, got %+v", out)
	}
	obj := rec(2, map[uint64]ReplicaRecord{1: voting("a"), 2: voting("b"), 3: voting("c")})
	if out := Plan([]ShardRecord{obj}, peers, now0, PlacementConfig{}); len(out) != 0 {
		t.Fatalf("object shard at 3 of 3: want no change, got %+v", out)
	}
}

func TestPlanRepairsAfterGraceAddingFirstThenRemoving(t *testing.T) {
	peers := peersNamed(map[string]string{"a": "z1", "b": "z2", "c": "z3", "d": "z1"})
	for i := range peers {
		if peers[i].Name == "c" {
			peers[i].Alive, peers[i].DownSince = false, now0
		}
	}
	r := rec(2, map[uint64]ReplicaRecord{1: voting("a"), 2: voting("b"), 3: voting("c")})
	// Within the grace: nothing changes; c may come back.
	if out := Plan([]ShardRecord{r}, peers, now0.Add(10*time.Second), PlacementConfig{RepairGrace: 30 * time.Second}); len(out) != 0 {
		t.Fatalf("within the grace: want no change, got %+v", out)
	}
	// Past the grace: a replacement is added first, c stays until it is voting.
	out := Plan([]ShardRecord{r}, peers, now0.Add(31*time.Second), PlacementConfig{RepairGrace: 30 * time.Second})
	if len(out) != 1 || out[0].Replicas[4].Peer != "d" || out[0].Replicas[3].Peer != "c" {
		t.Fatalf("want d added beside dead c, got %+v", out)
	}
	// d caught up and promoted; past the grace: c goes.
	r2 := out[0].Clone()
	r2.Replicas[4] = voting("d")
	out = Plan([]ShardRecord{r2}, peers, now0.Add(31*time.Second), PlacementConfig{RepairGrace: 30 * time.Second})
	if len(out) != 1 || len(out[0].Replicas) != 3 {
		t.Fatalf("want c removed, got %+v", out)
	}
	if _, ok := out[0].On("c"); ok {
		t.Fatal("c still holds a replica")
	}
	// Had c been within the grace, it would have stayed even with a spare.
	if out := Plan([]ShardRecord{r2}, peers, now0.Add(5*time.Second), PlacementConfig{RepairGrace: 30 * time.Second}); len(out) != 0 {
		t.Fatalf("within the grace: want no change, got %+v", out)
	}
}

func TestPlanLeavingPeerHandsOverFirst(t *testing.T) {
	peers := peersNamed(map[string]string{"a": "z1", "b": "z2", "c": "z3", "d": "z1"})
	for i := range peers {
		if peers[i].Name == "a" {
			peers[i].Leaving = true
		}
	}
	r := rec(2, map[uint64]ReplicaRecord{1: voting("a"), 2: voting("b"), 3: voting("c")})
	out := Plan([]ShardRecord{r}, peers, now0, PlacementConfig{})
	if len(out) != 1 || out[0].Replicas[4].Peer != "d" {
		t.Fatalf("want a replacement on d first, got %+v", out)
	}
	r2 := out[0].Clone()
	r2.Replicas[4] = voting("d")
	out = Plan([]ShardRecord{r2}, peers, now0, PlacementConfig{})
	if len(out) != 1 {
		t.Fatalf("want a removed, got %+v", out)
	}
	if _, ok := out[0].On("a"); ok {
		t.Fatal("leaving peer still holds a replica")
	}
}

func TestPlanLeavingWithNoSpareLeavesAnyway(t *testing.T) {
	peers := peersNamed(map[string]string{"a": "z1", "b": "z2", "c": "z3"})
	peers[0].Leaving = true
	for i := range peers {
		peers[i].Leaving = peers[i].Name == "a"
	}
	r := rec(2, map[uint64]ReplicaRecord{1: voting("a"), 2: voting("b"), 3: voting("c")})
	out := Plan([]ShardRecord{r}, peers, now0, PlacementConfig{})
	if len(out) != 1 || len(out[0].Replicas) != 2 {
		t.Fatalf("want a's replica removed with no spare, got %+v", out)
	}
}

func TestShardRecordRoundTrip(t *testing.T) {
	r := rec(3, map[uint64]ReplicaRecord{1: voting("a")})
	o := r.Object()
	o.ResourceVersion = 42
	back, err := DecodeShardRecord(o)
	if err != nil || back.Version != 42 || back.Replicas[1].Peer != "a" || back.Key() != r.Key() {
		t.Fatalf("%+v %v", back, err)
	}
}

func TestRouterKeepsADeploymentsObjectsTogether(t *testing.T) {
	r := Router{ObjectShards: 8}
	d := r.ShardFor(Key{"Deployment", "ns", "web"}, "")
	if rs := r.ShardFor(Key{"ReplicaSet", "ns", "web-abc"}, "web"); rs != d {
		t.Fatalf("replicaset in %d, deployment in %d", rs, d)
	}
	if p := r.ShardFor(Key{"Pod", "ns", "web-abc-xyz"}, "web"); p != d {
		t.Fatalf("pod in %d, deployment in %d", p, d)
	}
	for _, k := range []string{"Namespace", "Node", "PersistentVolume", KindShard} {
		if s := r.ShardFor(Key{Kind: k, Name: "x"}, ""); s != MetaShard {
			t.Fatalf("%s in shard %d, want meta", k, s)
		}
	}
	seen := map[uint64]bool{}
	for i := range 200 {
		s := r.ShardFor(Key{"ConfigMap", "ns", string(rune('a'+i%26)) + string(rune('a'+i/26))}, "")
		if s < 2 || s > 9 {
			t.Fatalf("shard %d out of range", s)
		}
		seen[s] = true
	}
	if len(seen) != 8 {
		t.Fatalf("200 names spread over %d of 8 shards", len(seen))
	}
	if got := len(r.Shards()); got != 9 {
		t.Fatalf("Shards() has %d, want 9", got)
	}
}
