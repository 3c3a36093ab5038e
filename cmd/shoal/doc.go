// Command shoal is the one binary of a Shoal cluster: `shoal agent` runs a
// peer, and every other verb is a client of any peer's API (members, token,
// leave, ...).
//
// Clients find the cluster through --config / SHOAL_CONFIG (default
// ~/.shoal/config; a peer's DIR/admin.conf is such a file) and may name any
// peer with --server. Flags may stand before or after the verb and its
// arguments. Exit codes: 0 success, 1 error, 2 usage.
package main
