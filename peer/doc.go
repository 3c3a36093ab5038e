// Package peer wires one Shoal peer: its data directory and identity, the
// bootstrap of a new cluster and the join of an existing one, the HTTPS API,
// gossip membership, and graceful leave. It is the only package besides cmd
// that imports every layer; the layers never import it.
//
// # Identity
//
// The first peer (no --join) creates the cluster: a CA (ECDSA P-256), a
// gossip keyring, an AES-256 encryption key for secrets at rest, a join token
// and an admin client certificate. It writes DIR/admin.conf and
// DIR/join-token. The CA key, the gossip keyring and the token set are sealed
// with the encryption key (keys/encryption.key, mode 0600), so none of them
// lies in plaintext in the data directory.
//
// # Join
//
// A joiner holds a token K10<ca-hash>::<id>.<secret>. It connects to any
// peer's API trusting nothing but a server chain whose CA hashes to
// <ca-hash>, sends its public key and addresses with the token as a bearer
// credential, and receives its certificate (IP SANs for bind and advertise),
// the CA and its key, the gossip keyring, the encryption key, the token set
// and the gossip addresses of live members. Every peer holds the CA key and
// the tokens, so any peer can admit a joiner.
//
// Tokens are a grow-only set whose records only change by being revoked
// (TokenSet.Merge): a peer that creates or revokes one pushes its set to every
// live member at once, and every peer exchanges its set with a random member
// every TokenSyncInterval, so copies converge even across partitions.
//
// # Restart and leave
//
// A peer restarted on the same data directory keeps its name, certificate
// and keys, and rejoins the gossip addresses it last knew (and those of
// --join's members). Leave (shoal leave, SIGTERM) broadcasts a graceful leave
// and stops; a later restart rejoins.
//
// # API
//
// HTTPS on the API port with the peer certificate, chained to the CA.
// Callers authenticate with a certificate the CA signed (peers and admins)
// or a bearer API token; anything else is 401. /healthz needs nothing and
// says nothing; /metrics is Prometheus text and needs authentication.
//
// # Writes
//
// Any peer takes any write (store.go, routedStore). A peer holding a
// replica of the shard sends the write to the shard leader's peer; one
// holding none sends it to a holder, which does the same (once: that hop
// is final). Writes travel between peers on the proposal pipeline
// (api.PipelinePath): one long-lived HTTP/2 stream per pair of peers that
// carries many proposals and answers in each TLS record, where a request
// per write cost each side about 100 µs of CPU.
//
// # Pod streams
//
// Logs and Shoal's framed exec are served by the peer that runs the pod;
// any other relays the call to it (podstreams.go, podlogs.go). kubectl's
// exec and port-forward, upgraded to SPDY or WebSocket, are served by the
// peer kubectl talks to with kubelet's server side (k8s.io/cri-streaming),
// which reaches the pod through the runtime when it runs here, else
// through the framed exec or the tunnel of the pod's peer
// (kubestreams.go, portforward.go): between peers there is one protocol
// whatever kubectl speaks.
package peer
