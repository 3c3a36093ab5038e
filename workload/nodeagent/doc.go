// Package nodeagent runs, on one peer, the pods the cluster binds to that
// peer's node: Shoal's kubelet.
//
// The Agent keeps one worker per pod. A worker drives its pod towards its
// spec through a runtime.Runtime (containerd, or the in-memory fake): a
// sandbox (network namespace and pod IP), then the init containers in
// order, then the containers; it restarts containers that exit as the
// restartPolicy says, with Kubernetes' back-off (10 s doubling to 5 min,
// reset after 10 minutes of running); it runs the startup, liveness and
// readiness probes (HTTP, TCP, exec, gRPC health) and postStart hooks (a
// container is not Running until its hook returned; a failed hook kills
// it). Sidecars (init containers with restartPolicy Always) start in
// their turn, hold the next init container back until they have started,
// then run beside the containers whatever the pod's restartPolicy, and
// stop after them. It terminates a pod being deleted gracefully (first
// waiting, through an Unrouter, until no service proxy sends it new
// connections; then preStop, SIGTERM, SIGKILL after the grace period) and
// then removes its object;
// and it writes the pod's status back whenever it changes.
//
// A pod's /etc/resolv.conf follows its dnsPolicy and dnsConfig as kubelet
// makes it (PodDNS: ClusterFirst, ClusterFirstWithHostNet, Default, None),
// and its /etc/hosts carries its hostname.subdomain FQDN and hostAliases.
//
// What the agent needs of the cluster comes through small interfaces
// (Pods, Recorder, ConfigMaps, ImageFetcher, Unrouter) that package peer implements
// over the replicated store, and in-memory in tests. The decisions (what a
// pod's status is, when to restart, how long to back off) are pure
// functions in status.go, tested without a runtime or a clock.
//
// At start the agent removes every sandbox and container its runtime owns
// that belongs to no pod bound here, so a crash leaves no orphans and a pod
// replaced elsewhere while this peer was down does not run twice.
//
// This package must not import peer, consensus, gossip or cmd.
package nodeagent
