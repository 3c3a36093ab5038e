package consensus

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// ReplicaRecord is one replica of a shard in the shard map.
type ReplicaRecord struct {
	Peer      string `json:"peer"`
	Addr      string `json:"addr"`                // the peer's raft address
	NonVoting bool   `json:"nonVoting,omitempty"` // growing: not yet promoted
	CaughtUp  bool   `json:"caughtUp,omitempty"`  // a non-voting replica that has applied the leader's index
}

// ShardRecord is where one shard's replicas live: the meta shard's object
// of kind Shard named by the shard ID.
type ShardRecord struct {
	ID            uint64                   `json:"id"`
	Replicas      map[uint64]ReplicaRecord `json:"replicas"`
	NextReplicaID uint64                   `json:"nextReplicaID"`
	// Version is the meta object's ResourceVersion, for compare-and-swap.
	Version uint64 `json:"-"`
}

// Key is the record's key in the meta shard.
func (r ShardRecord) Key() Key { return Key{Kind: KindShard, Name: strconv.FormatUint(r.ID, 10)} }

// Object encodes the record as a meta-shard object.
func (r ShardRecord) Object() Object {
	b, _ := json.Marshal(r)
	return Object{Kind: KindShard, Name: strconv.FormatUint(r.ID, 10), Data: b}
}

// DecodeShardRecord reads a record back from its object.
func DecodeShardRecord(o Object) (ShardRecord, error) {
	var r ShardRecord
	if err := json.Unmarshal(o.Data, &r); err != nil {
		return r, fmt.Errorf("shard record %s: %v: %w", o.Name, err, errdefs.ErrInvalid)
	}
	r.Version = o.ResourceVersion
	if r.Replicas == nil {
		r.Replicas = map[uint64]ReplicaRecord{}
	}
	return r, nil
}

// Clone copies a record.
func (r ShardRecord) Clone() ShardRecord {
	out := r
	out.Replicas = make(map[uint64]ReplicaRecord, len(r.Replicas))
	for id, rr := range r.Replicas {
		out.Replicas[id] = rr
	}
	return out
}

// On reports the replica ID a peer holds in this shard.
func (r ShardRecord) On(peer string) (uint64, bool) {
	for id, rr := range r.Replicas {
		if rr.Peer == peer {
			return id, true
		}
	}
	return 0, false
}

// PeerInfo is what placement knows of a peer, from gossip.
type PeerInfo struct {
	Name     string
	RaftAddr string
	Region   string
	Zone     string
	Alive    bool
	// DownSince is when gossip declared the peer failed (zero while alive).
	DownSince time.Time
	// Leaving: the peer is handing its replicas over before it goes.
	Leaving bool
	// Gone: the peer left gracefully; its replicas go at once.
	Gone bool
}

// PlacementConfig tunes placement.
type PlacementConfig struct {
	// RepairGrace is how long a peer may be failed before its replicas are
	// replaced. Default 30 s.
	RepairGrace time.Duration
}

// TargetReplicas is how many replicas a shard should have with n usable
// peers: 1 alone (or with 2), 3 from 3 peers; the meta shard grows to 5 from
// 6 peers, so a spare remains.
func TargetReplicas(shardID uint64, n int) int {
	switch {
	case shardID == MetaShard && n >= 6:
		return 5
	case n >= 3:
		return 3
	default:
		return 1
	}
}

// Plan decides, for every shard, the next step towards its target. It is
// pure: records and peers in, the records that must change out. One step a
// shard a round: add one non-voting replica, or remove one replica whose peer
// is failed past the grace, leaving or gone, but only once enough healthy
// voting replicas stand without it (add first, remove second, so quorum
// holds at every step), except for a leaving or gone peer with no spare,
// which leaves anyway.
func Plan(records []ShardRecord, peers []PeerInfo, now time.Time, cfg PlacementConfig) []ShardRecord {
	if cfg.RepairGrace == 0 {
		cfg.RepairGrace = 30 * time.Second
	}
	byName := map[string]PeerInfo{}
	usable := 0
	for _, p := range peers {
		byName[p.Name] = p
		if p.Alive && !p.Leaving && !p.Gone {
			usable++
		}
	}
	load := map[string]int{} // replicas per peer, for spreading
	for _, r := range records {
		for _, rr := range r.Replicas {
			load[rr.Peer]++
		}
	}
	healthy := func(rr ReplicaRecord) bool {
		p, ok := byName[rr.Peer]
		return ok && p.Alive && !p.Leaving && !p.Gone
	}
	// withinGrace: failed, but not for long enough to be replaced; it may
	// come back and resume its replicas.
	withinGrace := func(rr ReplicaRecord) bool {
		p, ok := byName[rr.Peer]
		return ok && !p.Alive && !p.Leaving && !p.Gone && (p.DownSince.IsZero() || now.Sub(p.DownSince) < cfg.RepairGrace)
	}
	removable := func(rr ReplicaRecord) bool {
		p, ok := byName[rr.Peer]
		switch {
		case !ok, p.Gone, p.Leaving:
			return true
		case !p.Alive && !p.DownSince.IsZero() && now.Sub(p.DownSince) >= cfg.RepairGrace:
			return true
		}
		return false
	}
	var out []ShardRecord
	for _, rec := range records {
		target := TargetReplicas(rec.ID, usable)
		healthyVoting, healthyAll, waiting := 0, 0, 0
		for _, rr := range rec.Replicas {
			if healthy(rr) {
				healthyAll++
				if !rr.NonVoting {
					healthyVoting++
				}
			} else if withinGrace(rr) {
				waiting++
			}
		}
		if healthyAll+waiting < target {
			if peer, ok := pickPeer(rec, peers, byName, load); ok {
				next := rec.Clone()
				id := max(next.NextReplicaID, maxReplicaID(next)+1)
				next.Replicas[id] = ReplicaRecord{Peer: peer.Name, Addr: peer.RaftAddr, NonVoting: true}
				next.NextReplicaID = id + 1
				load[peer.Name]++
				out = append(out, next)
				continue
			}
		}
		// Remove one replica that must go, when the shard can spare it: once
		// enough healthy voting replicas stand without it or, for a leaving
		// or gone peer, when no replacement is coming (no spare peer, none
		// catching up) and quorum survives.
		_, candidate := pickPeer(rec, peers, byName, load)
		replacing := healthyAll > healthyVoting || candidate
		for _, id := range sortedIDs(rec) {
			rr := rec.Replicas[id]
			if !removable(rr) || len(rec.Replicas) == 1 {
				continue
			}
			p := byName[rr.Peer]
			spare := healthyVoting >= target
			if !spare && !(p.Leaving || p.Gone) {
				continue
			}
			if !spare && (replacing || healthyVoting < majority(len(rec.Replicas)-1)) {
				continue // wait for the replacement, or keep quorum
			}
			next := rec.Clone()
			delete(next.Replicas, id)
			out = append(out, next)
			break
		}
	}
	return out
}

func majority(n int) int { return n/2 + 1 }

func maxReplicaID(r ShardRecord) uint64 {
	var m uint64
	for id := range r.Replicas {
		m = max(m, id)
	}
	return m
}

func sortedIDs(r ShardRecord) []uint64 {
	ids := make([]uint64, 0, len(r.Replicas))
	for id := range r.Replicas {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// pickPeer chooses where a shard's next replica goes: a usable peer that
// holds none of it, in the zone (then region) with the fewest of its
// replicas, then the least loaded peer, then by name.
func pickPeer(rec ShardRecord, peers []PeerInfo, byName map[string]PeerInfo, load map[string]int) (PeerInfo, bool) {
	zones, regions := map[string]int{}, map[string]int{}
	for _, rr := range rec.Replicas {
		p := byName[rr.Peer]
		zones[p.Region+"/"+p.Zone]++
		regions[p.Region]++
	}
	var best PeerInfo
	found := false
	better := func(a, b PeerInfo) bool {
		za, zb := zones[a.Region+"/"+a.Zone], zones[b.Region+"/"+b.Zone]
		if za != zb {
			return za < zb
		}
		if regions[a.Region] != regions[b.Region] {
			return regions[a.Region] < regions[b.Region]
		}
		if load[a.Name] != load[b.Name] {
			return load[a.Name] < load[b.Name]
		}
		return a.Name < b.Name
	}
	for _, p := range peers {
		if !p.Alive || p.Leaving || p.Gone || p.RaftAddr == "" {
			continue
		}
		if _, holds := rec.On(p.Name); holds {
			continue
		}
		if !found || better(p, best) {
			best, found = p, true
		}
	}
	return best, found
}
