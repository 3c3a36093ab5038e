package consensus

import (
	"hash/fnv"
)

// MetaShard is the shard ID of the meta shard: the shard map, Namespaces,
// Nodes, PersistentVolumes and cluster settings.
const MetaShard uint64 = 1

// firstObjectShard is the ID of object shard 0; object shard i is
// firstObjectShard+i.
const firstObjectShard uint64 = 2

// metaKinds live in the meta shard.
var metaKinds = map[string]bool{
	"Namespace":        true,
	"Node":             true,
	"PersistentVolume": true,
	"ClusterSetting":   true,
	KindShard:          true,
}

// ownedKinds follow their owning Deployment into its shard.
var ownedKinds = map[string]bool{"Deployment": true, "ReplicaSet": true, "Pod": true}

// Router says which shard owns an object. It is pure and the same on every
// peer: the number of object shards is fixed when the cluster is created.
type Router struct {
	ObjectShards int // how many object shards; at least 1
}

// ShardFor returns the shard that owns an object. owner is the name of the
// Deployment that owns a ReplicaSet or Pod (empty for a bare one, which
// hashes by its own name); see the package doc for the rule.
func (r Router) ShardFor(k Key, owner string) uint64 {
	if metaKinds[k.Kind] {
		return MetaShard
	}
	name := k.Name
	kind := k.Kind
	if ownedKinds[k.Kind] {
		kind = "Deployment"
		if owner != "" {
			name = owner
		}
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(kind + "/" + k.Namespace + "/" + name))
	n := r.ObjectShards
	if n < 1 {
		n = 1
	}
	return firstObjectShard + h.Sum64()%uint64(n)
}

// Shards lists every shard ID: meta first, then the object shards.
func (r Router) Shards() []uint64 {
	out := []uint64{MetaShard}
	for i := 0; i < max(1, r.ObjectShards); i++ {
		out = append(out, firstObjectShard+uint64(i))
	}
	return out
}

// KindShard is the kind of the meta shard's records of where each shard's
// replicas live.
const KindShard = "Shard"
