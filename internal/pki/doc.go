// Package pki holds the cluster's cryptography: the cluster certificate
// authority, peer and client certificates, the CA pin that join tokens carry,
// and sealing (AES-256-GCM) of what must not lie in plaintext on disk.
//
// Every key is ECDSA P-256 and every certificate is signed by the one cluster
// CA that the first peer creates. A peer's certificate serves both its HTTPS
// API and, as a client, its calls to other peers (and later the raft and
// tunnel transports); it carries IP SANs for the peer's bind and advertise
// addresses. The CA is pinned by the SHA-256 of its DER encoding, as k3s pins
// its CA in its tokens.
//
// pki imports nothing of Shoal's but internal/errdefs; every layer may use it.
package pki
