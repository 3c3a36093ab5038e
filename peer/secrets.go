package peer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/pki"
	"github.com/shoalproject/shoal/workload"
)

// Secrets are sealed on every write, before they reach the store: their
// data is encrypted with AES-256-GCM under the cluster encryption key (the
// one in every peer's data directory since bootstrap), with the secret's
// namespace and name as additional data, and the stored data keeps only
// its keys. So the raft log, snapshots and every replica hold no value in
// the clear. The API shows a secret redacted (its keys, empty values, and
// the shoal.dev/redacted annotation) unless a client asks to reveal it;
// the peer that runs a pod using it opens it for that pod (podStore.Secret).

// keyID names an encryption key: the first 8 bytes of its SHA-256, in hex.
func keyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

func secretAAD(namespace, name string) []byte { return []byte("Secret/" + namespace + "/" + name) }

// sealSecret moves s.Data into its sealed annotation (workload.SealedOf), under the newest secret key,
// and empties its values.
func (p *Peer) sealSecret(ctx context.Context, s *workload.Secret) error {
	plain, err := json.Marshal(s.Data)
	if err != nil {
		return err
	}
	key, err := p.sealingKey(ctx)
	if err != nil {
		return err
	}
	box, err := pki.Seal(key, plain, secretAAD(s.ObjectMeta.Namespace, s.ObjectMeta.Name))
	if err != nil {
		return err
	}
	workload.SetSealed(s, &workload.SealedData{Key: keyID(key), Box: box})
	for k := range s.Data {
		s.Data[k] = []byte{}
	}
	return nil
}

// openSecret puts a sealed secret's values back into s.Data.
func (p *Peer) openSecret(ctx context.Context, s *workload.Secret) error {
	sealed, err := workload.SealedOf(s)
	if err != nil || sealed == nil {
		return err
	}
	key, err := p.openingKey(ctx, sealed.Key)
	if err != nil {
		return fmt.Errorf("secret %s/%s: %w", s.ObjectMeta.Namespace, s.ObjectMeta.Name, err)
	}
	plain, err := pki.Open(key, sealed.Box, secretAAD(s.ObjectMeta.Namespace, s.ObjectMeta.Name))
	if err != nil {
		return fmt.Errorf("secret %s/%s: %w", s.ObjectMeta.Namespace, s.ObjectMeta.Name, err)
	}
	data := map[string][]byte{}
	if err := json.Unmarshal(plain, &data); err != nil {
		return fmt.Errorf("secret %s/%s: sealed data: %v: %w", s.ObjectMeta.Namespace, s.ObjectMeta.Name, err, errdefs.ErrInvalid)
	}
	s.Data = data
	workload.SetSealed(s, nil)
	return nil
}

func (p *Peer) encryptionKey() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st.EncryptionKey
}

// redactSecret is a stored secret as the API shows it by default.
func redactSecret(s *workload.Secret) {
	workload.SetSealed(s, nil)
	for k := range s.Data {
		s.Data[k] = []byte{}
	}
	if s.ObjectMeta.Annotations == nil {
		s.ObjectMeta.Annotations = map[string]string{}
	}
	s.ObjectMeta.Annotations[workload.AnnotationRedacted] = "true"
}

// revealed is a stored secret with its values, for a client that asked.
func (p *Peer) revealed(ctx context.Context, so consensus.Object) (json.RawMessage, error) {
	var s workload.Secret
	if err := decodeInto(so, &s); err != nil {
		return nil, err
	}
	if err := p.openSecret(ctx, &s); err != nil {
		return nil, err
	}
	return json.Marshal(&s)
}

// Secret implements nodeagent.Secrets and volumes.Sources: a secret of the
// pod's namespace, opened.
func (s podStore) Secret(ctx context.Context, namespace, name string) (*workload.Secret, error) {
	var sec workload.Secret
	if err := s.get(ctx, consensus.Key{Kind: "Secret", Namespace: namespace, Name: name}, &sec); err != nil {
		return nil, err
	}
	if err := s.p.openSecret(ctx, &sec); err != nil {
		return nil, err
	}
	return &sec, nil
}
