// Command shoal-demo runs the seed example (examples/seed/) on a local
// 3-peer cluster, as `make demo` does, and removes it again:
//
//	shoal-demo up     # start the cluster, run the example, take a peer down
//	shoal-demo down   # remove everything up created
//
// Each peer runs in a network namespace of its own (NAME-peerN, at
// SUBNET.N on a bridge NAME-lan, the host at SUBNET.254), as a machine on a
// LAN, and all three use one private containerd under DIR/ctd. up walks
// through the example step by step, checks each step (a step that does not
// reach its goal in time fails up with what it saw), and leaves the cluster
// running; the last line it prints is the `export SHOAL_CONFIG=...` to use
// the CLI against it. It needs root, containerd, runc, the CNI plugins and
// iproute2 (`make deps` installs them).
//
// The steps live in demo.go, the network namespaces and the dialer that
// sends requests from inside them in lan.go, containerd and the agents in
// cluster.go, and the request streams in stream.go. demo_test.go runs up
// and down as `make test` does and asserts what each step reported.
// shoal-demo is a client of the cluster like any other: it drives the
// `shoal` binary and the API client (peer/api), and imports no peer
// internals.
package main
