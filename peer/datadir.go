package peer

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/pki"
	"github.com/shoalproject/shoal/peer/api"
)

// The data directory's layout. Everything secret is mode 0600; the CA key,
// the gossip keyring and the token set are sealed with the cluster
// encryption key, so they are never in plaintext beside the data.
const (
	fileIdentity      = "identity.json"
	fileCACert        = "pki/ca.crt"
	fileCAKeySealed   = "pki/ca.key.sealed"
	filePeerCert      = "pki/peer.crt"
	filePeerKey       = "pki/peer.key"
	fileEncryptionKey = "keys/encryption.key"
	fileGossipSealed  = "keys/gossip.keyring.sealed"
	fileTokensSealed  = "tokens.sealed"
	fileKnownPeers    = "gossip/known-peers.json"
	fileSerfSnapshot  = "gossip/serf.snapshot"
	// dirPodVolumes holds the volumes of the pods this peer runs, a
	// directory per pod UID (volumes.Mounter).
	dirPodVolumes = "pods"
	// dirCreatedVolumes records the hostPath directories this node created
	// for PersistentVolumes, which their Delete policy may remove.
	dirCreatedVolumes = "volumes/created"
	// FileAdminConf and FileJoinToken are written by the peer that
	// bootstraps a cluster.
	FileAdminConf = "admin.conf"
	FileJoinToken = "join-token"
)

// identity is the plaintext part of who a peer is.
type identity struct {
	ClusterID   string    `json:"clusterID"`
	ClusterName string    `json:"clusterName"`
	Name        string    `json:"name"`
	Created     time.Time `json:"created"`
	// ObjectShards is fixed when the cluster is created.
	ObjectShards int `json:"objectShards"`
	// RaftAddr is this peer's raft address; it never changes.
	RaftAddr string `json:"raftAddr,omitempty"`
}

// state is everything a peer keeps in its data directory about itself and
// its cluster.
type state struct {
	identity
	CA            *pki.CA
	PeerCert      *x509.Certificate
	PeerKey       *ecdsa.PrivateKey
	GossipKeyring [][]byte
	EncryptionKey []byte
	Tokens        TokenSet
}

// dataDir reads and writes a peer's data directory.
type dataDir string

func (d dataDir) path(name string) string { return filepath.Join(string(d), name) }

// exists says whether the directory already holds a peer's identity.
func (d dataDir) exists() bool {
	_, err := os.Stat(d.path(fileIdentity))
	return err == nil
}

func (d dataDir) write(name string, data []byte, mode os.FileMode) error {
	return api.WriteFileAtomic(d.path(name), data, mode)
}

func (d dataDir) seal(s *state, name string, plaintext []byte) error {
	sealed, err := pki.Seal(s.EncryptionKey, plaintext, []byte(name))
	if err != nil {
		return err
	}
	return d.write(name, sealed, 0o600)
}

func (d dataDir) open(s *state, name string) ([]byte, error) {
	b, err := os.ReadFile(d.path(name))
	if err != nil {
		return nil, err
	}
	out, err := pki.Open(s.EncryptionKey, b, []byte(name))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.path(name), err)
	}
	return out, nil
}

// save writes the whole state; identity.json goes last, so a directory with
// an identity is always complete.
func (d dataDir) save(s *state) error {
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return err
	}
	if err := d.write(fileEncryptionKey, []byte(base64.StdEncoding.EncodeToString(s.EncryptionKey)+"\n"), 0o600); err != nil {
		return err
	}
	if err := d.write(fileCACert, pki.EncodeCert(s.CA.Cert), 0o644); err != nil {
		return err
	}
	if s.CA.Key != nil {
		k, err := pki.EncodeKey(s.CA.Key)
		if err != nil {
			return err
		}
		if err := d.seal(s, fileCAKeySealed, k); err != nil {
			return err
		}
	}
	if err := d.write(filePeerCert, pki.EncodeCert(s.PeerCert), 0o644); err != nil {
		return err
	}
	pk, err := pki.EncodeKey(s.PeerKey)
	if err != nil {
		return err
	}
	if err := d.write(filePeerKey, pk, 0o600); err != nil {
		return err
	}
	ring, err := json.Marshal(s.GossipKeyring)
	if err != nil {
		return err
	}
	if err := d.seal(s, fileGossipSealed, ring); err != nil {
		return err
	}
	if err := d.saveTokens(s); err != nil {
		return err
	}
	return d.saveIdentity(s)
}

func (d dataDir) saveIdentity(s *state) error {
	id, err := json.MarshalIndent(s.identity, "", "  ")
	if err != nil {
		return err
	}
	return d.write(fileIdentity, append(id, '\n'), 0o644)
}

func (d dataDir) saveTokens(s *state) error {
	b, err := json.Marshal(s.Tokens)
	if err != nil {
		return err
	}
	return d.seal(s, fileTokensSealed, b)
}

// load reads a complete state back.
func (d dataDir) load() (*state, error) {
	s := &state{}
	b, err := os.ReadFile(d.path(fileIdentity))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &s.identity); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", d.path(fileIdentity), err, errdefs.ErrInvalid)
	}
	kb, err := os.ReadFile(d.path(fileEncryptionKey))
	if err != nil {
		return nil, err
	}
	if s.EncryptionKey, err = base64.StdEncoding.DecodeString(strings.TrimSpace(string(kb))); err != nil || len(s.EncryptionKey) != pki.KeySize {
		return nil, fmt.Errorf("%s: not a base64 AES-256 key: %w", d.path(fileEncryptionKey), errdefs.ErrInvalid)
	}
	s.CA = &pki.CA{}
	if s.CA.Cert, err = readCert(d.path(fileCACert)); err != nil {
		return nil, err
	}
	if k, err := d.open(s, fileCAKeySealed); err == nil {
		if s.CA.Key, err = pki.DecodeKey(k); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if s.PeerCert, err = readCert(d.path(filePeerCert)); err != nil {
		return nil, err
	}
	pk, err := os.ReadFile(d.path(filePeerKey))
	if err != nil {
		return nil, err
	}
	if s.PeerKey, err = pki.DecodeKey(pk); err != nil {
		return nil, err
	}
	ring, err := d.open(s, fileGossipSealed)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(ring, &s.GossipKeyring); err != nil {
		return nil, err
	}
	tb, err := d.open(s, fileTokensSealed)
	if err != nil {
		return nil, err
	}
	s.Tokens = TokenSet{}
	if err := json.Unmarshal(tb, &s.Tokens); err != nil {
		return nil, err
	}
	return s, nil
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := pki.DecodeCert(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// knownPeers are the gossip addresses a restarting peer tries first.
func (d dataDir) knownPeers() []string {
	b, err := os.ReadFile(d.path(fileKnownPeers))
	if err != nil {
		return nil
	}
	var out []string
	_ = json.Unmarshal(b, &out)
	return out
}

func (d dataDir) saveKnownPeers(addrs []string) error {
	b, err := json.Marshal(addrs)
	if err != nil {
		return err
	}
	return d.write(fileKnownPeers, b, 0o644)
}
