package peer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/pki"
	"github.com/shoalproject/shoal/netproxy"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/nodeagent"
	"github.com/shoalproject/shoal/workload/runtime"
)

// Version is the build's version, set with -ldflags "-X ...peer.Version=v".
var Version = "dev"

// Default ports, as Nomad and Serf users would expect them to be laid out.
const (
	DefaultGossipPort = 7946
	DefaultRaftPort   = 7947
	DefaultAPIPort    = 7948
	DefaultTunnelPort = 7949
)

// Config is how a peer is started; cmd/shoal fills it from flags.
type Config struct {
	Name          string // unique in the cluster; a DNS-1123 label
	DataDir       string
	BindAddr      string // IP to listen on
	AdvertiseAddr string // IP other peers use; default BindAddr
	GossipPort    int    // 0 in tests: pick a free port
	RaftPort      int
	APIPort       int // 0 in tests: pick a free port
	TunnelPort    int
	Region, Zone  string
	Labels        map[string]string
	ClusterName   string // for a new cluster; default "shoal"

	// Capacity is what this peer's Node offers beside the cpu, memory and
	// pods it measures: extended resources (nvidia.com/gpu: 2), huge
	// pages and ephemeral-storage (bytes; default the size of DataDir's
	// file system), each in status.capacity and status.allocatable.
	Capacity workload.ResourceList

	Join  string // host:port of any peer's API; empty bootstraps a cluster
	Token string // K10<ca-hash>::<id>.<secret>, with Join

	// ObjectShards is how many object shards a new cluster has; joiners
	// take the cluster's. Default 4.
	ObjectShards int
	// ReplicaRepairGrace is how long a peer may be failed before its raft
	// replicas are rebuilt elsewhere. Default 30 s.
	ReplicaRepairGrace time.Duration
	// RaftRTT is the round trip raft plans around (elections take 10).
	// Default 20 ms; a WAN wants more.
	RaftRTT time.Duration

	// Runtime, when set, makes this peer run pods: it is called once with
	// the pod CIDR the cluster gave this peer's node, and the node agent
	// runs the pods bound here through what it returns. Without it the
	// peer's Node is NotReady and runs nothing.
	Runtime func(ctx context.Context, podCIDR string) (runtime.Runtime, error)
	// ClusterCIDR is split into a /24 pod CIDR per node; default
	// 10.32.0.0/12.
	ClusterCIDR string
	// ServiceCIDR is where Services' cluster IPs come from; default
	// DefaultServiceCIDR.
	ServiceCIDR string
	// ServiceRoute makes the service CIDR local to this peer's network
	// namespace (a route of type local on the loopback link, added when the
	// first service needs it; CAP_NET_ADMIN), so its proxy serves cluster
	// IPs. Off, cluster IPs are served only when the CIDR is loopback
	// already, and services are reached by NodePort otherwise.
	ServiceRoute bool
	// PodDNS makes a peer that runs pods answer their DNS queries on its
	// pod bridge's gateway (the first address of its pod CIDR), and gives
	// its pods that nameserver with Kubernetes' search path.
	PodDNS bool
	// PodFailover is how long gossip must see a peer failed before the
	// pods it ran are replaced elsewhere. Default 1 s.
	PodFailover time.Duration
	// InsecureRegistries ("HOST:PORT") are pulled from over plain HTTP.
	InsecureRegistries []string

	GossipProfile gossip.Profile
	// TokenSyncInterval is how often a peer exchanges its token set with a
	// random member. Default 30 s.
	TokenSyncInterval time.Duration
	// GossipNetwork, when set, keeps gossip in memory (tests, hollow peers).
	GossipNetwork *gossip.MemNetwork

	Logger *slog.Logger
	Now    func() time.Time // default time.Now
}

var nameRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// ValidateName checks a peer name: a DNS-1123 label, as a Kubernetes node name.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("name: Required value: %w", errdefs.ErrInvalid)
	}
	if !nameRe.MatchString(name) {
		return fmt.Errorf("name %q: must be a DNS-1123 label (lowercase letters, digits and '-', at most 63, starting and ending alphanumeric): %w", name, errdefs.ErrInvalid)
	}
	return nil
}

func (c *Config) setDefaults() error {
	if err := ValidateName(c.Name); err != nil {
		return err
	}
	if c.DataDir == "" {
		return fmt.Errorf("data-dir: Required value: %w", errdefs.ErrInvalid)
	}
	if c.BindAddr == "" {
		c.BindAddr = "0.0.0.0"
	}
	bind := net.ParseIP(c.BindAddr)
	if bind == nil {
		return fmt.Errorf("bind %q: not an IP address: %w", c.BindAddr, errdefs.ErrInvalid)
	}
	if c.AdvertiseAddr == "" {
		if bind.IsUnspecified() {
			return fmt.Errorf("advertise: Required value when bind is %s: name the address other peers reach this one at: %w", c.BindAddr, errdefs.ErrInvalid)
		}
		c.AdvertiseAddr = c.BindAddr
	}
	if ip := net.ParseIP(c.AdvertiseAddr); ip == nil || ip.IsUnspecified() {
		return fmt.Errorf("advertise %q: not a concrete IP address: %w", c.AdvertiseAddr, errdefs.ErrInvalid)
	}
	for flag, port := range map[string]int{"gossip-port": c.GossipPort, "raft-port": c.RaftPort, "api-port": c.APIPort, "tunnel-port": c.TunnelPort} {
		if port < 0 || port > 65535 {
			return fmt.Errorf("%s %d: out of range: %w", flag, port, errdefs.ErrInvalid)
		}
	}
	if c.Join == "" && c.Token != "" {
		return fmt.Errorf("token: given without join: %w", errdefs.ErrInvalid)
	}
	if c.Join != "" {
		if _, _, err := net.SplitHostPort(c.Join); err != nil {
			return fmt.Errorf("join %q: want HOST:APIPORT: %w", c.Join, errdefs.ErrInvalid)
		}
	}
	if c.ClusterName == "" {
		c.ClusterName = "shoal"
	}
	if c.GossipProfile == "" {
		c.GossipProfile = gossip.ProfileLAN
	}
	if c.PodFailover == 0 {
		c.PodFailover = DefaultPodFailover
	}
	if c.ClusterCIDR == "" {
		c.ClusterCIDR = DefaultClusterCIDR
	}
	if c.ServiceCIDR == "" {
		c.ServiceCIDR = DefaultServiceCIDR
	}
	if p, err := netip.ParsePrefix(c.ServiceCIDR); err != nil || !p.Addr().Is4() || p.Bits() > 28 {
		return fmt.Errorf("service CIDR %q: want an IPv4 prefix of /28 or more addresses: %w", c.ServiceCIDR, errdefs.ErrInvalid)
	}
	if _, err := netip.ParsePrefix(c.ClusterCIDR); err != nil {
		return fmt.Errorf("cluster CIDR %q: %v: %w", c.ClusterCIDR, err, errdefs.ErrInvalid)
	}
	if err := validateCapacity(c.Capacity); err != nil {
		return err
	}
	if c.ObjectShards == 0 {
		c.ObjectShards = 4
	}
	if c.ObjectShards < 1 || c.ObjectShards > 256 {
		return fmt.Errorf("object-shards %d: want 1 to 256: %w", c.ObjectShards, errdefs.ErrInvalid)
	}
	if c.TokenSyncInterval == 0 {
		c.TokenSyncInterval = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Peer is one running member of a cluster.
type Peer struct {
	cfg Config
	log *slog.Logger
	dir dataDir

	mu sync.Mutex
	st *state // Tokens changes under mu; the rest is fixed after Start

	gossip  *gossip.Membership
	ln      net.Listener
	srv     *http.Server
	peerTLS *tls.Config // as a client of other peers
	// tunnelLn is the tunnel port's listener, when this peer runs pods.
	tunnelLn net.Listener
	// dns answers this peer's pods for service names (Config.PodDNS).
	dns        *netproxy.DNS
	routing    routing      // what the service proxy routes, for terminating pods (unroute.go)
	nfsClient  bool         // the kernel has an NFS client (claims.go)
	secretKeys secretKeys   // the opened secret key chain (secretkeys.go)
	peers      *peerClients // API clients of other peers, one each
	reg        *prometheus.Registry
	metrics    *metrics

	host  *consensus.Host
	store *routedStore
	// Decoded objects for the leader's passes.
	pods         *memo[workload.Pod]
	nodes        *memo[workload.Node]
	ledgers      *memo[ledger]
	events       *eventRecorder  // writes events in the background
	srvStopping  context.Context // done once the API server shuts down
	ctl          *consensus.Controller
	router       consensus.Router
	streamClient *http.Client

	scheduleWake chan struct{} // capacity 1: a pod changed
	creating     creations     // this peer's ReplicaSet controller creating pods
	controlWake  chan struct{} // capacity 1: a pod changed
	nodeLifeWake chan struct{} // capacity 1: a failed peer's grace passed
	evictor      taintEviction // the NoExecute taint eviction's state (taint_eviction.go)
	// nodeCordoned is this node's spec.unschedulable at the last heartbeat
	// (nodeSeen once there was one), for the kubelet's cordon events.
	nodeCordoned, nodeSeen atomic.Bool

	nodeMu  sync.Mutex
	agent   *nodeagent.Agent // nil until the node runs pods
	runtime runtime.Runtime

	leaveReq chan struct{} // a leave asked through the API
	stopOnce sync.Once
	done     chan struct{}
	cancel   context.CancelFunc
	bg       sync.WaitGroup
}

// Start brings a peer up: it bootstraps, joins or restarts from its data
// directory, serves the API and joins gossip. It returns once the peer is a
// member; the peer runs until Leave, Kill or a leave asked through the API.
func Start(ctx context.Context, cfg Config) (*Peer, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	p := &Peer{
		cfg:          cfg,
		log:          cfg.Logger.With("component", "peer", "peer", cfg.Name),
		dir:          dataDir(cfg.DataDir),
		leaveReq:     make(chan struct{}, 1),
		scheduleWake: make(chan struct{}, 1),
		controlWake:  make(chan struct{}, 1),
		nodeLifeWake: make(chan struct{}, 1),
		done:         make(chan struct{}),
		nfsClient:    kernelHasNFS(),
		pods:         newPodMemo(),
		nodes:        newNodeMemo(),
		ledgers:      newLedgerMemo(),
	}
	p.events = newEventRecorder(func() { p.metrics.eventsDropped.Inc() })
	var gossipPeers []string
	fresh, bootstrapped := false, false
	switch {
	case p.dir.exists():
		st, err := p.dir.load()
		if err != nil {
			return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
		}
		if st.Name != cfg.Name {
			return nil, fmt.Errorf("name %q: data dir %s belongs to peer %q: %w", cfg.Name, cfg.DataDir, st.Name, errdefs.ErrConflict)
		}
		p.st = st
		gossipPeers = p.dir.knownPeers()
		p.log.Info("restarting with existing identity", "cluster", st.ClusterName, "data_dir", cfg.DataDir)
	case cfg.Join == "":
		st, err := bootstrap(&p.cfg)
		if err != nil {
			return nil, err
		}
		p.st, fresh, bootstrapped = st, true, true
		p.log.Info("bootstrapped a new cluster", "cluster", st.ClusterName, "admin_conf", p.dir.path(FileAdminConf))
	default:
		st, peers, err := joinCluster(ctx, &p.cfg)
		if err != nil {
			return nil, err
		}
		if err := p.dir.save(st); err != nil {
			return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
		}
		p.st, gossipPeers, fresh = st, peers, true
		p.log.Info("admitted to the cluster", "cluster", st.ClusterName, "through", cfg.Join)
	}
	p.peerTLS = &tls.Config{
		RootCAs:      p.st.CA.Pool(),
		Certificates: []tls.Certificate{pki.TLSCertificate(p.st.PeerCert, p.st.PeerKey, p.st.CA.Cert)},
		MinVersion:   tls.VersionTLS12,
	}
	p.streamClient = streamHTTPClient(p)
	if cfg.PodDNS && cfg.Runtime != nil {
		p.dns = &netproxy.DNS{Upstreams: netproxy.Upstreams("/etc/resolv.conf")}
	}
	p.peers = newPeerClients(p.peerTLS)
	if err := p.listen(); err != nil {
		return nil, err
	}
	if err := p.listenTunnel(); err != nil {
		p.ln.Close()
		return nil, err
	}
	closeListeners := func() {
		p.ln.Close()
		if p.tunnelLn != nil {
			p.tunnelLn.Close()
		}
	}
	if err := p.startRaft(); err != nil {
		closeListeners()
		return nil, err
	}
	if err := p.startGossip(); err != nil {
		closeListeners()
		p.host.Close()
		return nil, err
	}
	p.reg, p.metrics = newMetrics(p)
	p.serve()

	if !fresh && cfg.Join != "" {
		gossipPeers = append(gossipPeers, p.membersVia(ctx, cfg.Join)...)
	}
	if err := p.joinGossip(ctx, gossipPeers); err != nil {
		p.Kill()
		return nil, err
	}
	bgCtx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	if bootstrapped {
		if err := p.ctl.Bootstrap(ctx); err != nil {
			p.Kill()
			return nil, err
		}
		if err := p.ensureNamespaces(ctx); err != nil {
			p.Kill()
			return nil, fmt.Errorf("create the system namespaces: %w", err)
		}
	} else if err := p.ctl.Restart(); err != nil {
		p.Kill()
		return nil, err
	}
	p.bg.Add(11)
	go func() { defer p.bg.Done(); p.events.run(bgCtx, p.writeEvents) }()
	go func() { defer p.bg.Done(); p.runNodeLifecycle(bgCtx) }()
	go p.syncTokensLoop(bgCtx)
	go func() { defer p.bg.Done(); p.wakeOnMembership(bgCtx) }()
	go p.rememberPeersLoop(bgCtx)
	go func() { defer p.bg.Done(); p.ctl.Run(bgCtx) }()
	go func() { defer p.bg.Done(); p.runNode(bgCtx) }()
	go func() { defer p.bg.Done(); p.runScheduler(bgCtx) }()
	go func() { defer p.bg.Done(); p.watchPods(bgCtx) }()
	go func() { defer p.bg.Done(); p.runControllers(bgCtx) }()
	go func() { defer p.bg.Done(); p.runServiceProxy(bgCtx) }()
	return p, nil
}

// startRaft starts this peer's raft host (mutual TLS with the peer
// certificate) and its replica controller.
func (p *Peer) startRaft() error {
	if p.st.RaftAddr == "" {
		port := p.cfg.RaftPort
		if port == 0 { // tests: a free port, kept for the peer's life
			ln, err := net.Listen("tcp", net.JoinHostPort(p.cfg.BindAddr, "0"))
			if err != nil {
				return err
			}
			port = ln.Addr().(*net.TCPAddr).Port
			ln.Close()
		}
		p.st.RaftAddr = net.JoinHostPort(p.cfg.AdvertiseAddr, strconv.Itoa(port))
		if err := p.dir.saveIdentity(p.st); err != nil {
			return err
		}
	}
	_, port, _ := net.SplitHostPort(p.st.RaftAddr)
	h, err := consensus.NewHost(consensus.HostConfig{
		Dir:           p.dir.path("raft"),
		RaftAddress:   p.st.RaftAddr,
		ListenAddress: net.JoinHostPort(p.cfg.BindAddr, port),
		CAFile:        p.dir.path(fileCACert),
		CertFile:      p.dir.path(filePeerCert),
		KeyFile:       p.dir.path(filePeerKey),
		RTT:           p.cfg.RaftRTT,
		Logger:        p.cfg.Logger,
	})
	if err != nil {
		return err
	}
	p.host = h
	p.router = consensus.Router{ObjectShards: p.st.ObjectShards}
	p.store = newRoutedStore(p)
	p.ctl = consensus.NewController(consensus.ControllerConfig{
		Self:      p.cfg.Name,
		Host:      h,
		Store:     p.store,
		Router:    p.router,
		Peers:     p.placementPeers,
		Placement: consensus.PlacementConfig{RepairGrace: p.cfg.ReplicaRepairGrace},
		Observe:   p.store.learn,
		Now:       p.cfg.Now,
		Logger:    p.cfg.Logger,
	})
	return nil
}

// placementPeers is gossip's view as placement needs it.
func (p *Peer) placementPeers() []consensus.PeerInfo {
	var out []consensus.PeerInfo
	for _, m := range p.gossip.Members() {
		if m.Tags.Raft == "" {
			continue // a member with no raft transport (a hollow node) holds no replicas
		}
		pi := consensus.PeerInfo{Name: m.Name, RaftAddr: m.Tags.Raft, Region: m.Tags.Region, Zone: m.Tags.Zone}
		switch m.Status {
		case gossip.StatusAlive, gossip.StatusSuspect:
			pi.Alive = true
			pi.Leaving = m.Tags.State == gossip.StateLeaving
		case gossip.StatusFailed:
			pi.DownSince = m.Since
		case gossip.StatusLeft, gossip.StatusLeaving:
			pi.Gone = true
		}
		out = append(out, pi)
	}
	return out
}

// Store is the peer's routed access to every shard.
func (p *Peer) Store() consensus.Store { return p.store }

// Router says which shard owns an object.
func (p *Peer) Router() consensus.Router { return p.router }

func (p *Peer) listen() error {
	addr := net.JoinHostPort(p.cfg.BindAddr, strconv.Itoa(p.cfg.APIPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("api listen %s: %v: %w", addr, err, errdefs.ErrUnavailable)
	}
	p.ln = ln
	return nil
}

// APIAddr is the advertised host:port of this peer's API.
func (p *Peer) APIAddr() string {
	return net.JoinHostPort(p.cfg.AdvertiseAddr, strconv.Itoa(p.ln.Addr().(*net.TCPAddr).Port))
}

// GossipAddr is the advertised host:port of this peer's gossip.
func (p *Peer) GossipAddr() string { return p.gossip.LocalAddr() }

// Name is the peer's name.
func (p *Peer) Name() string { return p.cfg.Name }

// Gossip is the peer's membership, for the layers that subscribe to it.
func (p *Peer) Gossip() *gossip.Membership { return p.gossip }

// CAPin is the hash of the cluster CA that tokens carry.
func (p *Peer) CAPin() string { return p.st.CA.Pin() }

// Done is closed once the peer has stopped (Leave, Kill, or a leave asked
// through the API).
func (p *Peer) Done() <-chan struct{} { return p.done }

// LeaveRequested is signalled when a client asked this peer to leave through
// the API; the owner then calls Leave.
func (p *Peer) LeaveRequested() <-chan struct{} { return p.leaveReq }

func (p *Peer) startGossip() error {
	gcfg := gossip.Config{
		Name:          p.cfg.Name,
		BindAddr:      p.cfg.BindAddr,
		BindPort:      p.cfg.GossipPort,
		AdvertiseAddr: p.cfg.AdvertiseAddr,
		Tags:          p.tags(),
		Keyring:       p.st.GossipKeyring,
		Profile:       p.cfg.GossipProfile,
		SnapshotPath:  p.dir.path(fileSerfSnapshot),
		Network:       p.cfg.GossipNetwork,
		Logger:        p.cfg.Logger,
		Now:           p.cfg.Now,
	}
	if gcfg.Network == nil {
		gcfg.AdvertisePort = p.cfg.GossipPort
	} else {
		gcfg.BindAddr = "" // the in-memory network gives each member an address of its own
	}
	if err := os.MkdirAll(filepath.Dir(gcfg.SnapshotPath), 0o700); err != nil {
		return err
	}
	m, err := gossip.Start(context.Background(), gcfg)
	if err != nil {
		return fmt.Errorf("gossip: %w", err)
	}
	p.gossip = m
	return nil
}

func (p *Peer) tags() gossip.Tags {
	return gossip.Tags{
		Region:  p.cfg.Region,
		Zone:    p.cfg.Zone,
		API:     p.APIAddr(),
		Raft:    p.st.RaftAddr,
		Tunnel:  p.tunnelAddr(),
		Version: Version,
	}
}

// joinGossip joins the given members. A rejected gossip key is fatal: this
// peer's keyring is not the cluster's. Unreachable members are not: a peer
// that restarts while the others are down runs alone and its serf snapshot
// keeps trying them.
func (p *Peer) joinGossip(ctx context.Context, addrs []string) error {
	addrs = without(dedupe(addrs), p.gossip.LocalAddr())
	if len(addrs) == 0 {
		return nil
	}
	jctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	n, err := p.gossip.Join(jctx, addrs)
	switch {
	case err == nil:
		p.log.Info("joined gossip", "contacted", n)
		return nil
	case errors.Is(err, errdefs.ErrUnauthenticated):
		return err
	default:
		p.log.Warn("no known member answered; running alone until one does", "err", err)
		return nil
	}
}

// membersVia asks a peer's API, as this peer, for the gossip addresses of
// its live members.
func (p *Peer) membersVia(ctx context.Context, apiAddr string) []string {
	c := api.NewClientTLS([]string{apiAddr}, p.peerTLS, "")
	defer c.Close()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ml, err := c.Members(cctx)
	if err != nil {
		p.log.Warn("could not list members through --join", "join", apiAddr, "err", err)
		return nil
	}
	var out []string
	for _, m := range ml.Members {
		if m.Status == string(gossip.StatusAlive) && m.Name != p.cfg.Name {
			out = append(out, m.Address)
		}
	}
	return out
}

// Leave leaves the cluster gracefully and stops the peer.
func (p *Peer) Leave(ctx context.Context) error {
	var err error
	p.stopOnce.Do(func() {
		p.log.Info("leaving the cluster")
		p.handOver(ctx)
		err = p.gossip.Leave(ctx)
		p.stop(ctx)
	})
	return err
}

// Kill stops the peer at once without telling anyone, as a crash would: for
// tests and hollow peers.
func (p *Peer) Kill() {
	p.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		p.stop(ctx)
	})
}

func (p *Peer) stop(ctx context.Context) {
	if p.cancel != nil {
		p.cancel()
	}
	if p.srv != nil {
		_ = p.srv.Shutdown(ctx)
		_ = p.srv.Close()
	}
	_ = p.gossip.Shutdown()
	if p.tunnelLn != nil {
		p.tunnelLn.Close()
	}
	p.bg.Wait()
	p.host.Close()
	p.peers.close()
	close(p.done)
}

// Run starts a peer and runs it until ctx ends (then it leaves gracefully,
// as on SIGTERM) or a client asks it to leave.
func Run(ctx context.Context, cfg Config) error {
	p, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	p.log.Info("peer running", "api", "https://"+p.APIAddr(), "gossip", p.GossipAddr())
	select {
	case <-ctx.Done():
	case <-p.LeaveRequested():
	case <-p.Done():
		return nil
	}
	lctx, cancel := context.WithTimeout(context.Background(), leaveHandoverTimeout)
	defer cancel()
	return p.Leave(lctx)
}

// sanIPs are the addresses a peer certificate is valid for.
func sanIPs(cfg *Config, extra []string) ([]net.IP, error) {
	var out []net.IP
	seen := map[string]bool{}
	for _, s := range append([]string{cfg.BindAddr, cfg.AdvertiseAddr, "127.0.0.1", "::1"}, extra...) {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("ips: %q is not an IP address: %w", s, errdefs.ErrInvalid)
		}
		if ip.IsUnspecified() || seen[ip.String()] {
			continue
		}
		seen[ip.String()] = true
		out = append(out, ip)
	}
	return out, nil
}

func peerCertRequest(name string, ips []net.IP) pki.CertRequest {
	return pki.CertRequest{CommonName: name, Organization: pki.OrgPeers, IPs: ips, DNSNames: []string{name, "localhost"}}
}

// bootstrap creates a new cluster's identity in the data directory and
// writes admin.conf and join-token.
func bootstrap(cfg *Config) (*state, error) {
	now := cfg.Now()
	ca, err := pki.NewCA(cfg.ClusterName, now)
	if err != nil {
		return nil, err
	}
	ips, err := sanIPs(cfg, nil)
	if err != nil {
		return nil, err
	}
	key, cert, err := ca.Issue(peerCertRequest(cfg.Name, ips), now)
	if err != nil {
		return nil, err
	}
	join, secret, err := NewToken(UsageJoin, "created at bootstrap", 0, now)
	if err != nil {
		return nil, err
	}
	st := &state{
		identity:      identity{ClusterID: randomLower(16), ClusterName: cfg.ClusterName, Name: cfg.Name, Created: now.UTC(), ObjectShards: cfg.ObjectShards},
		CA:            ca,
		PeerCert:      cert,
		PeerKey:       key,
		GossipKeyring: [][]byte{pki.NewSymmetricKey()},
		EncryptionKey: pki.NewSymmetricKey(),
		Tokens:        TokenSet{join.ID: join},
	}
	d := dataDir(cfg.DataDir)
	if err := d.save(st); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	if err := d.write(FileJoinToken, []byte(FormatToken(ca.Pin(), join.ID, secret)+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := writeAdminConf(d.path(FileAdminConf), st, cfg, now); err != nil {
		return nil, err
	}
	return st, nil
}

// writeAdminConf writes a client configuration that names this peer's API.
func writeAdminConf(path string, st *state, cfg *Config, now time.Time) error {
	port := cfg.APIPort
	if port == 0 {
		port = DefaultAPIPort
	}
	c, err := adminConfig(st, []string{"https://" + net.JoinHostPort(cfg.AdvertiseAddr, strconv.Itoa(port))}, now)
	if err != nil {
		return err
	}
	return c.Save(path)
}

// adminConfig issues an admin client certificate into a client
// configuration for the given servers; Save writes it as a kubeconfig
// (cluster and context named after the cluster, user CLUSTER-admin), so
// KUBECONFIG=DIR/admin.conf kubectl works too.
func adminConfig(st *state, servers []string, now time.Time) (*api.Config, error) {
	key, cert, err := st.CA.Issue(pki.CertRequest{CommonName: "admin", Organization: pki.OrgAdmins}, now)
	if err != nil {
		return nil, err
	}
	kp, err := pki.EncodeKey(key)
	if err != nil {
		return nil, err
	}
	return &api.Config{
		Cluster:              st.ClusterName,
		Servers:              servers,
		CertificateAuthority: string(pki.EncodeCert(st.CA.Cert)),
		ClientCertificate:    string(pki.EncodeCert(cert)),
		ClientKey:            string(kp),
	}, nil
}

// AdminConfig builds a client configuration for this peer with a fresh admin
// certificate: for tests and tools that start peers in-process.
func (p *Peer) AdminConfig() (*api.Config, error) {
	return adminConfig(p.st, []string{"https://" + p.APIAddr()}, p.cfg.Now())
}

// isPeer says whether a certificate chain presented by a client is a
// peer's (not merely an admin's).
func isPeer(certs []*x509.Certificate) bool {
	return len(certs) > 0 && len(certs[0].Subject.Organization) > 0 && certs[0].Subject.Organization[0] == pki.OrgPeers
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func without(in []string, drop string) []string {
	out := in[:0:0]
	for _, s := range in {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}
