package api

import "time"

// Paths of the API, in one place.
const (
	PathHealthz        = "/healthz"
	PathMetrics        = "/metrics"
	PathVersion        = "/version"
	PathJoin           = "/v1/join"
	PathMembers        = "/v1/members"
	PathTokens         = "/v1/tokens"
	PathLeave          = "/v1/leave"
	PathInternalTokens = "/v1/internal/tokens"
	PathShards         = "/v1/shards"
	// PathRotateSecretKey (POST) adds a secret key and seals every secret
	// again under it: KeyRotation.
	PathRotateSecretKey = "/v1/secrets/rotate-key"
	// PathProxyRoutes (GET, ?ip=) says which routes of the answering
	// peer's service proxy send connections to a pod address: ProxyRoutes.
	PathProxyRoutes = "/v1/internal/proxy/routes"
)

// KeyRotation is the answer to POST PathRotateSecretKey.
type KeyRotation struct {
	Key      string `json:"key"`      // the new key's ID
	Resealed int    `json:"resealed"` // secrets sealed again under it
}

// ProxyRoutes is a peer's answer to GET PathProxyRoutes.
type ProxyRoutes struct {
	Routes []string `json:"routes,omitempty"` // "namespace/service:port" routes with an endpoint at the address
	// Planning is true while the proxy builds a new plan from a read that
	// may be older than the question.
	Planning bool `json:"planning,omitempty"`
}

// Routed says whether the peer may still send new connections there.
func (r ProxyRoutes) Routed() bool { return r.Planning || len(r.Routes) > 0 }

// Status is the body of an error answer.
type Status struct {
	Error string `json:"error"`
	// Message is the text of a Kubernetes Status, which the Kubernetes
	// API's paths answer with.
	Message string `json:"message,omitempty"`
	Reason  string `json:"reason,omitempty"` // a short machine word: NotFound, Unauthorized, ...
}

// Version is what GET /version answers.
type Version struct {
	// Version is Shoal's version; /version also carries Kubernetes' fields
	// (gitVersion, major, minor...) for kubectl and client-go.
	Version   string `json:"shoalVersion"`
	GoVersion string `json:"goVersion"`
	Peer      string `json:"peer"`
	Cluster   string `json:"cluster"`
}

// Member is one peer as the answering peer's gossip sees it.
type Member struct {
	Name    string    `json:"name"`
	Address string    `json:"address"` // gossip host:port
	Status  string    `json:"status"`  // alive, suspect, leaving, left, failed
	Since   time.Time `json:"since"`   // when it entered Status, by the answering peer's clock
	Region  string    `json:"region,omitempty"`
	Zone    string    `json:"zone,omitempty"`
	API     string    `json:"api,omitempty"`
	Raft    string    `json:"raft,omitempty"`
	Tunnel  string    `json:"tunnel,omitempty"`
	Version string    `json:"version,omitempty"`
	// Shards lists the shards this member holds replicas of, "3*" for one
	// it leads, "3~" for a non-voting replica still catching up.
	Shards []string `json:"shards,omitempty"`
}

// MemberList is the answer of GET /v1/members.
type MemberList struct {
	Self    string   `json:"self"`
	Members []Member `json:"members"`
}

// ShardInfo is one shard as GET /v1/shards answers it.
type ShardInfo struct {
	ID       uint64        `json:"id"`
	Role     string        `json:"role"` // meta or objects
	Leader   string        `json:"leader,omitempty"`
	Term     uint64        `json:"term,omitempty"`
	Applied  uint64        `json:"applied"`
	Replicas []ReplicaInfo `json:"replicas"`
}

// ReplicaInfo is one replica of a shard.
type ReplicaInfo struct {
	ID        uint64 `json:"id"`
	Peer      string `json:"peer"`
	Address   string `json:"address"`
	NonVoting bool   `json:"nonVoting,omitempty"`
}

// LeaveReport answers POST /v1/leave: the peer handed its replicas over
// (or ran out of time) and is now leaving.
type LeaveReport struct {
	Peer     string   `json:"peer"`
	Took     string   `json:"took,omitempty"`
	Held     []uint64 `json:"held,omitempty"`  // shards it still held when it left
	Short    []uint64 `json:"short,omitempty"` // shards now short of replicas
	TimedOut bool     `json:"timedOut,omitempty"`
	Drained  []string `json:"drained,omitempty"` // pods evicted (NS/NAME) for their controllers to place elsewhere
}

// TokenInfo describes a token without its secret.
type TokenInfo struct {
	ID          string    `json:"id"`
	Usage       string    `json:"usage"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
	Expires     time.Time `json:"expires,omitzero"`
	Revoked     bool      `json:"revoked,omitempty"`
}

// TokenCreate is the body of POST /v1/tokens.
type TokenCreate struct {
	Usage       string        `json:"usage,omitempty"` // default join
	TTL         time.Duration `json:"ttl,omitempty"`   // 0: never expires
	Description string        `json:"description,omitempty"`
}

// TokenCreated answers POST /v1/tokens; Token is shown once and never again.
type TokenCreated struct {
	TokenInfo
	Token string `json:"token"`
}

// JoinRequest is the body of POST /v1/join; the join token goes in the
// Authorization header as a bearer token.
type JoinRequest struct {
	Name      string   `json:"name"`
	PublicKey string   `json:"publicKey"` // PEM PKIX; the private key never leaves the joiner
	IPs       []string `json:"ips"`       // IP SANs for the peer certificate: bind and advertise
}

// JoinResponse hands a joiner everything it needs to be a peer.
type JoinResponse struct {
	ClusterID     string   `json:"clusterID"`
	ClusterName   string   `json:"clusterName"`
	ObjectShards  int      `json:"objectShards"`
	CACert        string   `json:"caCert"`
	CAKey         string   `json:"caKey"`
	PeerCert      string   `json:"peerCert"`
	GossipKeyring [][]byte `json:"gossipKeyring"`
	EncryptionKey []byte   `json:"encryptionKey"`
	Tokens        []byte   `json:"tokens"`      // the token set, JSON
	GossipPeers   []string `json:"gossipPeers"` // host:port of live members to join
}

// ImageInfo is one image and the peers that hold it.
type ImageInfo struct {
	Name   string   `json:"name"`
	Digest string   `json:"digest"`
	Size   int64    `json:"size"`
	Peers  []string `json:"peers"`
}

// ImageList is what the image routes answer.
type ImageList struct {
	Items []ImageInfo `json:"items"`
}
