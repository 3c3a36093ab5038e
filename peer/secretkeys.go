package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/pki"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
)

// Secrets are sealed with the newest key of a chain: the cluster
// encryption key (every peer's since it joined), then each key a rotation
// added, kept in the meta shard (the ClusterSetting "secret-keys") sealed
// under the key before it. A peer opens the chain from the cluster key, so
// a new key reaches every peer through the store and is never in the clear
// there. `shoal secrets rotate-key` adds a key and seals every secret
// again under it. (A rotation guards against a leaked secret-sealing key
// going forward; a leaked cluster key opens the whole chain, as it opens
// the data directories it seals.)

const secretKeysSetting = "secret-keys"

// keyChain is the stored chain, oldest first.
type keyChain struct {
	Keys []chainedKey `json:"keys"`
}

type chainedKey struct {
	ID  string `json:"id"`
	Box []byte `json:"box"` // the key, sealed under the previous one
}

// secretKeys caches the opened chain, the cluster key first.
type secretKeys struct {
	mu   sync.Mutex
	keys [][]byte
}

func chainAAD(id string) []byte { return []byte("secret-key/" + id) }

// loadSecretKeys reads the chain (linearizably) and opens it.
func (p *Peer) loadSecretKeys(ctx context.Context) ([][]byte, consensus.Object, error) {
	keys := [][]byte{p.encryptionKey()}
	k := consensus.Key{Kind: "ClusterSetting", Name: secretKeysSetting}
	so, err := p.store.Get(ctx, consensus.MetaShard, k, true)
	if errors.Is(err, errdefs.ErrNotFound) {
		return keys, consensus.Object{}, nil
	}
	if err != nil {
		return nil, consensus.Object{}, err
	}
	var chain keyChain
	if err := json.Unmarshal(so.Data, &chain); err != nil {
		return nil, so, fmt.Errorf("secret key chain: %v: %w", err, errdefs.ErrInvalid)
	}
	for _, ck := range chain.Keys {
		next, err := pki.Open(keys[len(keys)-1], ck.Box, chainAAD(ck.ID))
		if err != nil {
			return nil, so, fmt.Errorf("secret key %s: %w", ck.ID, err)
		}
		keys = append(keys, next)
	}
	p.secretKeys.mu.Lock()
	p.secretKeys.keys = keys
	p.secretKeys.mu.Unlock()
	return keys, so, nil
}

// sealingKey is the newest secret key, read from the store: a secret
// written after a rotation is sealed under the rotation's key.
func (p *Peer) sealingKey(ctx context.Context) ([]byte, error) {
	keys, _, err := p.loadSecretKeys(ctx)
	if err != nil {
		return nil, err
	}
	return keys[len(keys)-1], nil
}

// openingKey is the key with that ID, from the cache, or from the store
// when a rotation elsewhere added it.
func (p *Peer) openingKey(ctx context.Context, id string) ([]byte, error) {
	find := func(keys [][]byte) []byte {
		for _, k := range keys {
			if keyID(k) == id {
				return k
			}
		}
		return nil
	}
	p.secretKeys.mu.Lock()
	k := find(p.secretKeys.keys)
	p.secretKeys.mu.Unlock()
	if k == nil && id == keyID(p.encryptionKey()) {
		k = p.encryptionKey()
	}
	if k != nil {
		return k, nil
	}
	keys, _, err := p.loadSecretKeys(ctx)
	if err != nil {
		return nil, err
	}
	if k = find(keys); k == nil {
		return nil, fmt.Errorf("secret key %s: %w", id, errdefs.ErrNotFound)
	}
	return k, nil
}

// rotateSecretKey adds a key to the chain and seals every secret again
// under it.
func (p *Peer) rotateSecretKey(r *http.Request, _ principal) (any, error) {
	ctx := r.Context()
	keys, cur, err := p.loadSecretKeys(ctx)
	if err != nil {
		return nil, err
	}
	var chain keyChain
	if cur.Data != nil {
		if err := json.Unmarshal(cur.Data, &chain); err != nil {
			return nil, err
		}
	}
	next := pki.NewSymmetricKey()
	id := keyID(next)
	box, err := pki.Seal(keys[len(keys)-1], next, chainAAD(id))
	if err != nil {
		return nil, err
	}
	chain.Keys = append(chain.Keys, chainedKey{ID: id, Box: box})
	data, err := json.Marshal(chain)
	if err != nil {
		return nil, err
	}
	cmd := consensus.Command{Op: consensus.OpCreate, Object: consensus.Object{Kind: "ClusterSetting", Name: secretKeysSetting, Data: data}}
	if cur.Data != nil {
		cmd = consensus.Command{Op: consensus.OpUpdate, Object: cmd.Object, Precondition: cur.ResourceVersion}
	}
	if _, err := p.store.Propose(ctx, consensus.MetaShard, consensus.Batch{Commands: []consensus.Command{cmd}}); err != nil {
		return nil, fmt.Errorf("add the new key (another rotation at once?): %w", err)
	}
	p.log.Info("secret key rotated", "key", id)
	n, err := p.resealSecrets(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("key %s added; %d secrets sealed again before: %w", id, n, err)
	}
	return api.KeyRotation{Key: id, Resealed: n}, nil
}

// resealSecrets seals every secret not sealed under key id again, with a
// compare-and-swap each; a secret changed meanwhile is read again, up to 5
// rounds.
func (p *Peer) resealSecrets(ctx context.Context, id string) (int, error) {
	info, _ := workload.LookupKind("Secret")
	n := 0
	var last error
	for range 5 {
		objs, _, err := consensus.ListShards(ctx, p.store, p.shardsFor(info), consensus.Filter{Kind: "Secret"}, true)
		if err != nil {
			return n, err
		}
		last = nil
		for _, so := range objs {
			var s workload.Secret
			if err := decodeInto(so, &s); err != nil {
				return n, err
			}
			if sealed, err := workload.SealedOf(&s); err != nil || sealed == nil || sealed.Key == id {
				continue
			}
			if err := p.openSecret(ctx, &s); err != nil {
				return n, err
			}
			if err := p.sealSecret(ctx, &s); err != nil {
				return n, err
			}
			if err := p.updateIn(ctx, p.shardOfObject("Secret", &s.ObjectMeta), &s); err != nil {
				last = err
				continue
			}
			n++
		}
		if last == nil {
			return n, nil
		}
	}
	return n, last
}
