package peer

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/pki"
	"github.com/shoalproject/shoal/peer/api"
)

// joinCluster asks the peer at cfg.Join to admit this one. It trusts the
// server only if its chain carries the CA the token pins.
func joinCluster(ctx context.Context, cfg *Config) (*state, []string, error) {
	tok, err := ParseToken(cfg.Token)
	if err != nil {
		return nil, nil, fmt.Errorf("--token: %w", err)
	}
	if tok.CAPin == "" {
		return nil, nil, fmt.Errorf("--token: a join token must be the full K10<ca-hash>::<id>.<secret> form that 'shoal token create' prints: %w", errdefs.ErrInvalid)
	}
	host, _, _ := net.SplitHostPort(cfg.Join)
	key, err := pki.NewKey()
	if err != nil {
		return nil, nil, err
	}
	pub, err := pki.EncodePublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	tc := &tls.Config{
		InsecureSkipVerify: true, // replaced by the pin check below
		VerifyConnection:   pki.PinnedVerifier(tok.CAPin, host),
		MinVersion:         tls.VersionTLS12,
	}
	c := api.NewClientTLS([]string{cfg.Join}, tc, tok.ID+"."+tok.Secret)
	defer c.Close()
	req := api.JoinRequest{Name: cfg.Name, PublicKey: string(pub), IPs: []string{cfg.BindAddr, cfg.AdvertiseAddr}}
	var resp api.JoinResponse
	jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.Do(jctx, http.MethodPost, api.PathJoin, req, &resp); err != nil {
		return nil, nil, fmt.Errorf("join through %s: %w", cfg.Join, err)
	}
	st := &state{
		identity:      identity{ClusterID: resp.ClusterID, ClusterName: resp.ClusterName, Name: cfg.Name, Created: cfg.Now().UTC(), ObjectShards: resp.ObjectShards},
		CA:            &pki.CA{},
		PeerKey:       key,
		GossipKeyring: resp.GossipKeyring,
		EncryptionKey: resp.EncryptionKey,
		Tokens:        TokenSet{},
	}
	if st.CA.Cert, err = pki.DecodeCert([]byte(resp.CACert)); err != nil {
		return nil, nil, fmt.Errorf("join through %s: caCert: %w", cfg.Join, err)
	}
	if st.CA.Pin() != tok.CAPin {
		return nil, nil, fmt.Errorf("join through %s: the CA handed over is not the pinned one: %w", cfg.Join, errdefs.ErrUnauthenticated)
	}
	if st.CA.Key, err = pki.DecodeKey([]byte(resp.CAKey)); err != nil {
		return nil, nil, fmt.Errorf("join through %s: caKey: %w", cfg.Join, err)
	}
	if st.PeerCert, err = pki.DecodeCert([]byte(resp.PeerCert)); err != nil {
		return nil, nil, fmt.Errorf("join through %s: peerCert: %w", cfg.Join, err)
	}
	if err := json.Unmarshal(resp.Tokens, &st.Tokens); err != nil {
		return nil, nil, fmt.Errorf("join through %s: tokens: %v: %w", cfg.Join, err, errdefs.ErrInvalid)
	}
	if len(st.GossipKeyring) == 0 || len(st.EncryptionKey) != pki.KeySize {
		return nil, nil, fmt.Errorf("join through %s: keys missing from the answer: %w", cfg.Join, errdefs.ErrInvalid)
	}
	return st, resp.GossipPeers, nil
}

// admit is the server side of a join: the caller has presented a join token
// as a bearer credential.
func (p *Peer) admit(r *http.Request) (*api.JoinResponse, error) {
	id, secret, ok := bearer(r)
	if !ok {
		return nil, fmt.Errorf("join: no bearer token: %w", errdefs.ErrUnauthenticated)
	}
	now := p.cfg.Now()
	p.mu.Lock()
	_, err := p.st.Tokens.Authenticate(id, secret, UsageJoin, now)
	tokens, merr := json.Marshal(p.st.Tokens)
	p.mu.Unlock()
	if err != nil {
		p.metrics.joins.WithLabelValues("rejected").Inc()
		return nil, err
	}
	if merr != nil {
		return nil, merr
	}
	var req api.JoinRequest
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10)).Decode(&req); err != nil {
		return nil, fmt.Errorf("join request: %v: %w", err, errdefs.ErrInvalid)
	}
	if err := ValidateName(req.Name); err != nil {
		return nil, err
	}
	for _, m := range p.gossip.Members() {
		if m.Name == req.Name && (m.Status == gossip.StatusAlive || m.Status == gossip.StatusSuspect) {
			return nil, fmt.Errorf("name %q: a live peer at %s already has it: %w", req.Name, m.Addr, errdefs.ErrConflict)
		}
	}
	pub, err := pki.DecodePublicKey([]byte(req.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("publicKey: %w", err)
	}
	cfg := Config{BindAddr: "127.0.0.1", AdvertiseAddr: "127.0.0.1"}
	ips, err := sanIPs(&cfg, req.IPs)
	if err != nil {
		return nil, err
	}
	cert, err := p.st.CA.Sign(pub, peerCertRequest(req.Name, ips), now)
	if err != nil {
		return nil, err
	}
	caKey, err := pki.EncodeKey(p.st.CA.Key)
	if err != nil {
		return nil, err
	}
	var peers []string
	for _, m := range p.gossip.Members() {
		if m.Status == gossip.StatusAlive {
			peers = append(peers, m.GossipAddr())
		}
	}
	p.metrics.joins.WithLabelValues("admitted").Inc()
	p.log.Info("admitted a peer", "joiner", req.Name, "ips", req.IPs, "token", id)
	return &api.JoinResponse{
		ClusterID:     p.st.ClusterID,
		ClusterName:   p.st.ClusterName,
		ObjectShards:  p.st.ObjectShards,
		CACert:        string(pki.EncodeCert(p.st.CA.Cert)),
		CAKey:         string(caKey),
		PeerCert:      string(pki.EncodeCert(cert)),
		GossipKeyring: p.st.GossipKeyring,
		EncryptionKey: p.st.EncryptionKey,
		Tokens:        tokens,
		GossipPeers:   peers,
	}, nil
}
