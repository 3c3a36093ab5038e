// Package workload owns Shoal's object model: the registry of kinds the API
// serves, their defaults, their validation, and the decoding of YAML and JSON
// manifests into typed objects. Its sub-packages hold the controllers, the
// scheduler and the node agent that act on those objects.
//
// The types are Kubernetes' own, from k8s.io/api (types.go names them as
// aliases: a workload.Pod is a corev1.Pod), so every field of a manifest
// is kept as written, and the JSON, protobuf, strategic-merge keys and
// OpenAPI names are Kubernetes'. docs/object-model.md gives the figures
// behind that choice. Helpers that were methods on Shoal's own types are
// functions here: SelectorMatches, SelectorString, Percent, Scaled,
// VolumeSources, UnsupportedSource, ClaimStorageClass, MetaOf and
// TypeMetaOf.
//
// The served kinds:
//
//   - Namespace (ns), cluster-scoped: a group of namespaced objects.
//   - ConfigMap (cm): configuration data.
//   - Pod (po): containers run together on one node; its spec (containers
//     and init containers, volumes, probes, resources, affinity, spread
//     constraints) is the user's, its status the scheduler's and the node
//     agent's.
//   - Node (no), cluster-scoped: a peer as a place to run pods, with its
//     capacity, addresses and Ready condition. Nodes are SystemOwned: each
//     peer's agent writes its own, and the API refuses users' writes.
//   - Event (ev): a report that something happened to an object, made with
//     NewEvent.
//   - Service (svc) and Endpoints (ep, SystemOwned), Secret (sealed before it
//     is stored), PersistentVolume (pv, cluster-scoped) and
//     PersistentVolumeClaim (pvc); Deployment (deploy) and ReplicaSet (rs)
//     in apps/v1.
//
// Kinds Shoal knows of but does not serve yet (StatefulSet, Job, ...) are
// refused with an error saying so.
//
// Resource amounts are Quantity values ("500m", "128Mi"), and ports that may
// be named are IntOrString; both read and print as Kubernetes' do. The
// helpers the scheduler and the node agent share live beside the types:
// PodRequests (what a pod reserves), IsPodReady, SetPodCondition,
// PodDisplayStatus (kubectl's READY, STATUS and RESTARTS), PodFieldValue,
// IsNodeReady and SetNodeCondition.
//
// Everything here is pure: functions of their input with no I/O, no clock
// (times are passed in) and no goroutines. Decode turns a file's bytes into
// validated Documents or into one error per bad document; it never stores
// anything, so a caller that gets an error stores nothing. Validate checks
// an object as written; Defaults then fills what it left out, as Kubernetes
// does (a pod's restartPolicy, grace period, pull policy, probe timings...).
//
// Errors wrap the sentinels of internal/errdefs (ErrInvalid, ErrTooLarge) and
// read like Kubernetes field errors, prefixed with where they came from:
//
//	cm.yaml: document 2: metadata.name: Required value
//	pod.yaml: document 1: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive
//
// This package must not import peer, consensus, gossip or cmd: it is the
// domain those packages wire up, never the other way round.
package workload
