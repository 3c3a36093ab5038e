package pki

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// KeySize is the size of the cluster encryption key: AES-256.
const KeySize = 32

// NewSymmetricKey makes a random AES-256 key.
func NewSymmetricKey() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return k
}

// Seal encrypts plaintext with AES-256-GCM under key; the nonce is prepended.
// aad binds the ciphertext to its purpose (a file name, an object key), so a
// sealed blob cannot be swapped for another.
func Seal(key, plaintext, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plaintext)+gcm.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plaintext, aad), nil
}

// Open reverses Seal; a wrong key, a wrong aad or a tampered blob is
// ErrUnauthenticated.
func Open(key, sealed, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, fmt.Errorf("open sealed data: too short: %w", errdefs.ErrInvalid)
	}
	out, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("open sealed data: wrong key or tampered: %w", errdefs.ErrUnauthenticated)
	}
	return out, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("encryption key: %d bytes, want %d: %w", len(key), KeySize, errdefs.ErrInvalid)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
