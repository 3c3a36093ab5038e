// Package workload owns Shoal's object model: the Kubernetes-shaped types
// (Namespace, ConfigMap so far), the registry of kinds the API serves, their
// defaults, their validation, and the decoding of YAML and JSON manifests into
// typed objects. Later it will also hold the controllers, the scheduler and
// the node agent that act on those objects.
//
// Everything here is pure: functions of their input with no I/O, no clock
// and no goroutines. Decode turns a file's bytes into validated Documents or
// into one error per bad document; it never stores anything, so a caller that
// gets an error stores nothing.
//
// Errors wrap the sentinels of internal/errdefs (ErrInvalid, ErrTooLarge) and
// read like Kubernetes field errors, prefixed with where they came from:
//
//	cm.yaml: document 2: metadata.name: Required value
//
// This package must not import peer, consensus, gossip or cmd: it is the
// domain those packages wire up, never the other way round.
package workload
