package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Organizations put in certificate subjects: they are the roles the API
// server authorizes.
const (
	OrgPeers  = "shoal:peers"
	OrgAdmins = "shoal:admins"
)

// CA is the cluster certificate authority. Key is nil on a client that only
// verifies.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewCA creates a self-signed CA valid for ten years from now.
func NewCA(clusterName string, now time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "shoal-ca " + clusterName, Organization: []string{"shoal"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Pin is the hex SHA-256 of the CA certificate's DER bytes.
func (ca *CA) Pin() string { return PinOf(ca.Cert) }

// PinOf is the hex SHA-256 of a certificate's DER bytes.
func PinOf(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// Pool is a cert pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// CertRequest says what a certificate is for.
type CertRequest struct {
	CommonName   string
	Organization string   // OrgPeers or OrgAdmins
	IPs          []net.IP // IP SANs
	DNSNames     []string
	Validity     time.Duration // default one year
}

// Sign issues a certificate for pub, usable as TLS server and client.
func (ca *CA) Sign(pub *ecdsa.PublicKey, req CertRequest, now time.Time) (*x509.Certificate, error) {
	if ca.Key == nil {
		return nil, fmt.Errorf("sign %q: this peer holds no CA key: %w", req.CommonName, errdefs.ErrUnavailable)
	}
	if req.CommonName == "" {
		return nil, fmt.Errorf("sign: common name: %w", errdefs.ErrInvalid)
	}
	validity := req.Validity
	if validity == 0 {
		validity = 365 * 24 * time.Hour
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: req.CommonName, Organization: []string{req.Organization}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  req.IPs,
		DNSNames:     req.DNSNames,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// NewKey makes a fresh ECDSA P-256 private key.
func NewKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

// Issue makes a key and a certificate for it in one step.
func (ca *CA) Issue(req CertRequest, now time.Time) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := NewKey()
	if err != nil {
		return nil, nil, err
	}
	cert, err := ca.Sign(&key.PublicKey, req, now)
	return key, cert, err
}

// TLSCertificate pairs a leaf and its key, with the CA appended to the chain
// so that a joiner can pin the CA from the handshake alone.
func TLSCertificate(leaf *x509.Certificate, key *ecdsa.PrivateKey, ca *x509.Certificate) tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{leaf.Raw, ca.Raw}, PrivateKey: key, Leaf: leaf}
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return n
}

// EncodeCert is the PEM form of a certificate.
func EncodeCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// EncodeKey is the PEM (PKCS#8) form of a private key.
func EncodeKey(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// DecodeCert parses the first PEM certificate in b.
func DecodeCert(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("certificate: no PEM CERTIFICATE block: %w", errdefs.ErrInvalid)
	}
	return x509.ParseCertificate(blk.Bytes)
}

// DecodeKey parses a PEM PKCS#8 ECDSA private key.
func DecodeKey(b []byte) (*ecdsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("private key: no PEM block: %w", errdefs.ErrInvalid)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %v: %w", err, errdefs.ErrInvalid)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key: not ECDSA: %w", errdefs.ErrInvalid)
	}
	return ek, nil
}

// EncodePublicKey / CSR-less join: the joiner sends its public key in PEM
// (PKIX) form and receives a certificate for it; its private key never leaves
// the joiner.
func EncodePublicKey(k *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// DecodePublicKey parses a PEM PKIX ECDSA public key.
func DecodePublicKey(b []byte) (*ecdsa.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("public key: no PEM PUBLIC KEY block: %w", errdefs.ErrInvalid)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %v: %w", err, errdefs.ErrInvalid)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key: not ECDSA: %w", errdefs.ErrInvalid)
	}
	return ek, nil
}

// PinnedVerifier returns a tls.Config VerifyConnection function for a client
// that trusts nothing yet but a CA pin: the server must present, in its
// chain, a CA certificate whose pin matches, and a leaf that this CA signed
// for serverName. It reports which check failed, so a joiner can say so.
func PinnedVerifier(pin, serverName string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("server presented no certificate: %w", errdefs.ErrUnauthenticated)
		}
		var ca *x509.Certificate
		for _, c := range cs.PeerCertificates[1:] {
			if c.IsCA && PinOf(c) == pin {
				ca = c
			}
		}
		if ca == nil {
			return fmt.Errorf("server's CA does not match the token's CA hash %s (token for another cluster?): %w", short(pin), errdefs.ErrUnauthenticated)
		}
		pool := x509.NewCertPool()
		pool.AddCert(ca)
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, DNSName: serverName})
		if err != nil {
			return fmt.Errorf("server certificate not valid for %s under the pinned CA: %v: %w", serverName, err, errdefs.ErrUnauthenticated)
		}
		return nil
	}
}

func short(pin string) string {
	if len(pin) > 12 {
		return pin[:12] + "…"
	}
	return pin
}
