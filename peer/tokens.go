package peer

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/peer/api"
)

func tokenInfo(t Token) api.TokenInfo {
	return api.TokenInfo{ID: t.ID, Usage: t.Usage, Description: t.Description, Created: t.Created, Expires: t.Expires, Revoked: t.Revoked}
}

func (p *Peer) listTokens(*http.Request, principal) (any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := []api.TokenInfo{}
	for _, t := range p.st.Tokens.Sorted() {
		out = append(out, tokenInfo(t))
	}
	return out, nil
}

func (p *Peer) createToken(r *http.Request, who principal) (any, error) {
	var req api.TokenCreate
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10)).Decode(&req); err != nil {
		return nil, fmt.Errorf("token request: %v: %w", err, errdefs.ErrInvalid)
	}
	if req.Usage == "" {
		req.Usage = UsageJoin
	}
	t, secret, err := NewToken(req.Usage, req.Description, req.TTL, p.cfg.Now())
	if err != nil {
		return nil, err
	}
	if err := p.updateTokens(func(s TokenSet) error { s[t.ID] = t; return nil }); err != nil {
		return nil, err
	}
	p.log.Info("token created", "token", t.ID, "usage", t.Usage, "by", who.name)
	full := FormatToken(p.st.CA.Pin(), t.ID, secret)
	if t.Usage == UsageAPI {
		full = t.ID + "." + secret
	}
	return api.TokenCreated{TokenInfo: tokenInfo(t), Token: full}, nil
}

func (p *Peer) revokeToken(r *http.Request, who principal) (any, error) {
	id := r.PathValue("id")
	if err := p.updateTokens(func(s TokenSet) error { return s.Revoke(id) }); err != nil {
		return nil, err
	}
	p.log.Info("token revoked", "token", id, "by", who.name)
	return nil, nil
}

// updateTokens changes the token set, persists it, and pushes it to every
// live member before it returns, so a token made through one peer is
// accepted by all of them at once. A push that fails is logged; the
// anti-entropy loop delivers it later.
func (p *Peer) updateTokens(change func(TokenSet) error) error {
	p.mu.Lock()
	next := p.st.Tokens.Clone()
	if err := change(next); err != nil {
		p.mu.Unlock()
		return err
	}
	p.st.Tokens = next
	err := p.dir.saveTokens(p.st)
	p.mu.Unlock()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, addr := range p.otherLiveAPIs() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.exchangeTokensWith(ctx, addr); err != nil {
				p.log.Warn("token push failed; anti-entropy will retry", "to", addr, "err", err)
			}
		}()
	}
	wg.Wait()
	return nil
}

// mergeTokens folds a remote set into ours and persists the result.
func (p *Peer) mergeTokens(remote TokenSet) (TokenSet, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	next := p.st.Tokens.Clone()
	if next.Merge(remote) {
		p.st.Tokens = next
		if err := p.dir.saveTokens(p.st); err != nil {
			return nil, err
		}
	}
	return p.st.Tokens.Clone(), nil
}

// exchangeTokens is the server side of a push-pull: merge theirs, answer ours.
func (p *Peer) exchangeTokens(r *http.Request, _ principal) (any, error) {
	var remote TokenSet
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 16<<20)).Decode(&remote); err != nil {
		return nil, fmt.Errorf("token set: %v: %w", err, errdefs.ErrInvalid)
	}
	return p.mergeTokens(remote)
}

func (p *Peer) exchangeTokensWith(ctx context.Context, apiAddr string) error {
	p.mu.Lock()
	mine := p.st.Tokens.Clone()
	p.mu.Unlock()
	var theirs TokenSet
	if err := p.peers.get(apiAddr).Do(ctx, http.MethodPost, api.PathInternalTokens, mine, &theirs); err != nil {
		return err
	}
	_, err := p.mergeTokens(theirs)
	return err
}

func (p *Peer) otherLiveAPIs() []string {
	var out []string
	for _, m := range p.gossip.Members() {
		if m.Name != p.cfg.Name && m.Status == gossip.StatusAlive && m.Tags.API != "" {
			out = append(out, m.Tags.API)
		}
	}
	return out
}

// syncTokensLoop exchanges the token set with one random live member every
// TokenSyncInterval.
func (p *Peer) syncTokensLoop(ctx context.Context) {
	defer p.bg.Done()
	t := time.NewTicker(p.cfg.TokenSyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		others := p.otherLiveAPIs()
		if len(others) == 0 {
			continue
		}
		addr := others[rand.IntN(len(others))]
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := p.exchangeTokensWith(cctx, addr); err != nil && ctx.Err() == nil {
			p.log.Debug("token anti-entropy failed", "with", addr, "err", err)
		}
		cancel()
	}
}

// rememberPeersLoop keeps the gossip addresses of live members on disk, so a
// restart knows whom to rejoin.
func (p *Peer) rememberPeersLoop(ctx context.Context) {
	defer p.bg.Done()
	events, unsubscribe := p.gossip.Subscribe(64)
	defer unsubscribe()
	save := func() {
		var addrs []string
		for _, m := range p.gossip.Members() {
			if m.Name != p.cfg.Name && m.Status == gossip.StatusAlive {
				addrs = append(addrs, m.GossipAddr())
			}
		}
		if len(addrs) == 0 {
			return // keep the last list: nobody to rejoin is worse than a stale list
		}
		if err := p.dir.saveKnownPeers(addrs); err != nil {
			p.log.Warn("could not save known peers", "err", err)
		}
	}
	save()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok {
				return
			}
			save()
		}
	}
}
