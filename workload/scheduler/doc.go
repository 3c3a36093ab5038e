// Package scheduler decides where pods run: the pure placement logic of
// Shoal's scheduler, written the way kube-scheduler's default plugins
// decide, over a Snapshot of the cluster instead of an informer cache.
//
// # What it owns
//
// A Snapshot is built by NewSnapshot from the nodes (each a workload.Node and
// whether gossip says its peer is alive) and the pods already bound to them.
// Place picks a node for one pod; Assume records a placement so that later
// decisions against the same Snapshot see the capacity and the pod's labels;
// Forget takes one back (a capacity claim that lost its compare-and-swap).
// Nothing here does I/O, reads a clock or starts a goroutine: the caller (a
// shard leader in package peer) builds a Snapshot, places a batch of pending
// pods, claims the capacity and writes the bindings, then throws the Snapshot
// away. A Snapshot is not safe for concurrent use.
//
// # How a node is chosen
//
// Place runs every filter on every node; a node that passes them all is
// feasible. Filters, in order (the first one that fails names the node's
// reason):
//
//   - NodeReadyAlive: the peer is alive, its Ready condition is True and it is
//     not cordoned (spec.unschedulable).
//   - NodeSelector: every spec.nodeSelector label is on the node.
//   - NodeAffinity: the required node affinity holds (its nodeSelectorTerms
//     ORed, each term's matchExpressions ANDed; In, NotIn, Exists,
//     DoesNotExist, Gt, Lt).
//   - Resources: the requests of the node's pods plus this pod's fit its
//     allocatable cpu and memory, and one more pod fits its allocatable pods
//     (a node that reports no pods allocatable has no pod limit).
//   - InterPodAffinity: the pod's required affinity terms each find a
//     matching pod in the node's topology domain (with Kubernetes' exception
//     for the first of a group of pods with affinity to each other), its
//     required anti-affinity terms find none, and no pod already there has a
//     required anti-affinity term that selects this pod.
//   - TopologySpread: for each whenUnsatisfiable DoNotSchedule constraint,
//     the matching pods in the node's domain, plus this pod if it matches,
//     minus the fewest in any eligible domain, is at most maxSkew. Eligible
//     domains are those of nodes that pass the pod's nodeSelector and node
//     affinity and carry the constraint's key.
//
// Each feasible node then gets a score from 0 to 100 from each scorer, and
// the node with the highest weighted sum wins:
//
//	scorer            weight  what scores high
//	LeastAllocated       1    most cpu and memory left after placing the pod
//	NodeAffinity         2    preferred node affinity terms matched, by weight
//	InterPodAffinity     2    preferred pod affinity met, anti-affinity avoided
//	                          (the pod's own terms and, symmetrically, those of
//	                          the pods already placed)
//	TopologySpread       2    fewest matching pods in the domain of each
//	                          ScheduleAnyway constraint
//	SelectorSpread       2    fewest pods of the same owner on the node (1/3)
//	                          and in its zone (2/3); only for pods without
//	                          topology spread constraints, as Kubernetes'
//	                          default spreading
//
// Scores that need the whole field (all but LeastAllocated) are normalized
// over the feasible nodes. Ties are broken by a hash of the pod's UID and the
// node's name, so that equal nodes share a burst of equal pods instead of
// all of them landing on the first node, and the same inputs always give the
// same answer.
//
// When no node is feasible, Place returns an *Unschedulable whose message
// reads like kube-scheduler's ("0/3 nodes are available: 1 Insufficient cpu,
// 2 node(s) didn't match Pod's node affinity/selector."); the caller keeps
// the pod Pending with UnschedulableCondition and records
// FailedSchedulingEvent.
//
// # What counts
//
// Pods in phase Succeeded or Failed count for nothing, as in Kubernetes.
// Pods being deleted still hold their resources and count for pod
// (anti-)affinity, but not for spreading. Pods bound to a node the Snapshot
// does not hold are ignored. A node's "kubernetes.io/hostname" domain is its
// label, or its name when the label is missing.
//
// # Cost
//
// Every decision looks at every node, and at no existing pod. NewSnapshot
// indexes the pods per node, per owner and per (anti-)affinity term of
// theirs; the first decision that asks about a label selector (an affinity
// term, a spread constraint, an owner) counts the matching pods of the
// namespace per node once, and Assume and Forget keep those counts up to
// date. So a decision costs O(nodes x (terms + constraints + 1)) plus
// O(distinct affinity terms of placed pods in the namespace), and placing
// 10,000 pods of 100 Deployments onto 1,000 nodes runs well above 50,000
// pods per second on two cores (BenchmarkPlace10kPodsOn1kNodes). All nodes
// are scored: no sampling (kube-scheduler's percentageOfNodesToScore) is
// needed at this size, and scoring all of them keeps decisions reproducible.
//
// This package must not import peer, consensus, gossip or cmd.
package scheduler
