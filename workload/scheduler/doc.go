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
// Place runs every filter on the nodes (see Cost for how many); a node that
// passes them all is feasible. Filters, in order (the first one that fails
// names the node's reason):
//
//   - NodeReadyAlive: the peer is alive, its Ready condition is True and it is
//     not cordoned (spec.unschedulable).
//   - NodeSelector: every spec.nodeSelector label is on the node.
//   - NodeAffinity: the required node affinity holds (its nodeSelectorTerms
//     ORed, each term's matchExpressions ANDed; In, NotIn, Exists,
//     DoesNotExist, Gt, Lt).
//   - TaintToleration: the pod tolerates every NoSchedule and NoExecute taint
//     of the node (Kubernetes' matching: key and value with Equal, key with
//     Exists, every key with an empty key and Exists; an empty effect
//     matches every effect); "node(s) had untolerated taint {KEY: VALUE}".
//   - NodePorts: none of the pod's hostPorts (its containers' and init
//     containers', TCP when no protocol is named) is taken by a pod on the
//     node: the same protocol and port on the same host IP, or either on
//     every address (no hostIP); "node(s) didn't have free ports for the
//     requested pod ports".
//   - Resources: the requests of the node's pods plus this pod's fit its
//     allocatable, of every resource the pod requests (workload.PodRequests:
//     cpu, memory, ephemeral-storage, extended resources such as
//     nvidia.com/gpu, huge pages; a resource the node does not advertise it
//     has none of), and one more pod fits its allocatable pods (a node that
//     reports no pods allocatable has no pod limit). The reason is
//     kube-scheduler's "Insufficient NAME" for the first shortfall of cpu,
//     memory, ephemeral-storage and the others by name, else "Too many
//     pods".
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
//	TaintToleration      3    fewest PreferNoSchedule taints the pod does
//	                          not tolerate
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
// A decision looks at nodes, never at the existing pods one by one.
// NewSnapshot indexes the pods per node, per owner and per (anti-)affinity
// term of theirs; the first decision that asks about a label selector (an
// affinity term, a spread constraint, an owner) counts the matching pods of
// the namespace per node once, and Assume and Forget keep those counts up
// to date. A pod's affinity terms and spread constraints cost O(nodes) each
// to sum per topology domain; the placed pods' terms cost O(distinct terms
// in the namespace). LeastAllocated's score is cached per node until the
// node's pods change.
//
// Like kube-scheduler, a decision stops filtering once it has found a share
// of the nodes feasible (SetPercentageOfNodesToScore; by default 50% less 1%
// per 125 nodes, at least 5% and at least 100 nodes, so every node of a
// cluster of fewer than 100), and scores only those; the next decision
// starts where it stopped, so every node gets its turn. When no node is
// feasible every node has been filtered, so the Unschedulable message counts
// them all. BenchmarkPlace10kPodsOn1kNodes places 10,000 pods of 100
// Deployments onto 1,000 nodes in 3 zones on two cores at roughly 40,000 to
// 65,000 pods per second by default (420 nodes filtered and scored per
// decision) and 20,000 to 40,000 scoring every node (the spread is the
// machine's load); both leave every node within one pod of even.
//
// This package must not import peer, consensus, gossip or cmd.
package scheduler
