// Package runtime is the node agent's view of a container runtime: the
// Runtime interface and the plain data it takes and returns, shaped after
// Kubernetes' CRI and kept small. It owns no behaviour; implementations
// live in sub-packages:
//
//   - runtime/containerd: the real one, on a containerd daemon with runc and
//     the CNI bridge plugin;
//   - runtime/fake: in memory, for control-plane tests, scale tests and
//     hollow peers;
//   - runtime/runtimetest: the one conformance suite both must pass.
//
// # Model
//
// A pod is a Sandbox (its network namespace, IP address, host name and
// /etc/hosts) plus the containers created in it. Each container can be
// started more than once (the agent restarts it in place); each start gets
// a fresh log and the previous start's log is kept for Logs with Previous.
// Images are named with normalized references ("nginx" means
// "docker.io/library/nginx:latest"); see NormalizeImageRef.
//
// # Ownership and recovery
//
// Every runtime instance belongs to one peer (its owner, and for containerd
// its containerd namespace) and sees only its own sandboxes, containers
// and images. Everything it creates carries the labels below (LabelPodUID,
// LabelContainerName, ...), and all state lives in the runtime, not in the
// caller: an agent that restarts after kill -9 calls ListSandboxes and
// ListContainers, keeps what matches its pods and removes the rest.
//
// # Errors
//
// Errors wrap internal/errdefs sentinels with the ids involved:
// ErrNotFound for an unknown sandbox, container or image (idempotent
// removals and stops return nil instead), ErrInvalid for a bad config,
// ErrConflict for an operation the current state forbids (start of a
// running container, exec in a stopped one), ErrUnavailable when the
// runtime's daemon cannot be reached, ErrUnauthenticated when a registry
// refuses credentials. Callers test with errors.Is.
//
// This package must not import peer, consensus, gossip or cmd, nor any
// runtime implementation: it is the contract they are written against.
package runtime
