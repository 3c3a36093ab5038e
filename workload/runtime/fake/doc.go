// Package fake is an in-memory runtime.Runtime for control-plane tests,
// scale tests and hollow peers: sandboxes get addresses from the pod CIDR,
// images are present once imported or pulled, and containers "run" as
// state, with no process, no network namespace and no goroutine.
//
// What a container does is data: Config.Behave maps each container to a
// Behaviour (what it prints when it starts, whether it exits at once, how
// it answers SIGTERM and exec). Tests drive the rest with Exit, OOMKill and
// WriteLog. Timestamps come from Config.Now. The fake never waits: a
// container that ignores SIGTERM is killed at once instead of after the
// grace period, and a pull succeeds at once (with a made-up digest) unless
// Config.Pull says otherwise.
//
// Each Runtime is one peer's view, as a containerd namespace is: two fakes
// never see each other's sandboxes, containers or images.
//
// It passes the same conformance suite as the containerd runtime
// (runtime/runtimetest). It must not import peer, consensus, gossip or cmd.
package fake
