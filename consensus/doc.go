// Package consensus is Shoal's declarative state: objects with versions,
// compare-and-swap, list and watch, kept consistent by multi-raft on
// lni/dragonboat/v4.
//
// # Shards and where objects live
//
// A cluster has one meta shard (ID 1) and a fixed number of object shards
// (IDs 2, 3, ...), chosen when the cluster is created. Router.ShardFor is
// the rule, the same on every peer:
//
//   - Namespace, Node, PersistentVolume, ClusterSetting and the shard map
//     (kind Shard) live in the meta shard.
//   - A Deployment, its ReplicaSets and its Pods live together in the object
//     shard that hash("Deployment/<namespace>/<deployment name>") picks; a
//     bare ReplicaSet or Pod hashes by its own name the same way, so it
//     changes together with nothing but itself.
//   - Every other kind hashes by kind/namespace/name.
//
// A change that must agree with an object in another shard (a claim binding
// a volume, a pod claiming node capacity) is a compare-and-swap on that
// other object in its own shard: never two leaders deciding alone.
//
// # Versions, watch and Gone
//
// An object's ResourceVersion is the raft index of the entry that last
// changed it, so versions grow within a shard. Each replica keeps a bounded
// history of recent changes (HistoryLimit): a watch from version v gets every
// change after v, in order, each once, whichever replica serves it and across
// leader changes, because the history is part of the replicated state. A
// watch from a version older than the history gets errdefs.ErrGone, which
// clients answer by relisting, as in Kubernetes.
//
// # Writes: group commit and retries
//
// A shard's proposals that wait while earlier entries are in flight share
// one raft entry (proposer.go); each batch still applies, or fails, alone.
// Each entry goes out under a dragonboat client session, so an attempt
// that gets no answer (its leader died or moved) is proposed again after a
// few election timeouts and applied at most once; reads retry the same way
// (they are safe to repeat). A write that runs out of time unanswered
// fails as unavailable, with "outcome unknown": it may have been applied.
//
// # The layers of this package
//
//   - object.go, codec.go, state.go, selector.go: the pure state that every
//     replica applies identically (no I/O, no clocks).
//   - replica.go: the dragonboat state-machine adapter and watch fan-out.
//   - host.go: one dragonboat NodeHost per peer, mutual TLS from the
//     cluster CA, a small LogDB (one shard, 8 MiB write buffers).
//   - proposer.go: group commit and retried proposals.
//
// consensus imports nothing of Shoal's but internal/errdefs.
package consensus
