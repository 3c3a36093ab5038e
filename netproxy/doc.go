// Package netproxy carries service traffic: the userspace proxy that every
// peer runs in front of its services' virtual addresses, and the tunnel
// between peers that reaches pods on other peers.
//
// The parts, each usable alone:
//
//   - routes.go: what a peer serves, decided from a snapshot of Services,
//     Endpoints and the peers' tunnel addresses. Pure: a route per TCP or
//     UDP service port on its cluster IP, and per NodePort on the peer's
//     address (SCTP ports are not proxied); local
//     pods dialed directly, remote ones through their peer's tunnel; the
//     Local traffic policies and ClientIP affinity applied.
//
//   - balance.go: which endpoint a new connection goes to. Pure: round-robin,
//     or ClientIP affinity (a client keeps its endpoint while it returns
//     within the affinity timeout), skipping endpoints a connection already
//     failed to reach. The clock is injected.
//
//   - proxy.go: listeners for service frontends (a cluster IP's port, a
//     NodePort), each connection handed to an endpoint by the balancer and
//     dialed directly (a pod on this peer) or through the tunnel (a pod on
//     another peer); a failed connect is retried on another endpoint.
//     Bytes are copied with io.Copy, which splices between two TCP sockets
//     on Linux.
//
//   - udp.go: UDP frontends, as kube-proxy's userspace mode had them: a
//     session per client address, given its endpoint by the balancer,
//     relaying datagrams both ways until it has been idle for the timeout
//     (30 s, conntrack's), its endpoint leaves the route, or the frontend
//     is full and it is the least recently active.
//
//   - tunnel.go: one mutual-TLS connection per pair of peers, multiplexed
//     with yamux, so a new service connection to a remote pod costs a stream,
//     not a handshake. A stream carries a TCP connection's bytes, or a UDP
//     flow's datagrams, each with its length. The receiving peer dials only
//     addresses inside the prefixes it serves (its pod CIDR): the tunnel is
//     not an open relay.
//
//   - dns.go: the DNS server a peer runs for its pods (miekg/dns): service
//     names get their cluster IPs, other cluster names NXDOMAIN, outside
//     names go to the peer's resolvers.
//
//   - route_linux.go: the local route that makes the service CIDR local to
//     the peer's network namespace, so the proxy listens on cluster IPs.
//
// The peer package wires it: it watches Services and Endpoints, binds
// cluster IPs, and hands Routes' plan to Proxy.Apply.
package netproxy
