package pki

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func TestIssueVerifiesUnderCA(t *testing.T) {
	ca, err := NewCA("test", now)
	if err != nil {
		t.Fatal(err)
	}
	key, cert, err := ca.Issue(CertRequest{CommonName: "p1", Organization: OrgPeers, IPs: []net.IP{net.ParseIP("192.0.2.1")}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509Opts(ca, "192.0.2.1")); err != nil {
		t.Fatalf("peer cert does not verify for its IP SAN: %v", err)
	}
	if _, err := cert.Verify(x509Opts(ca, "192.0.2.2")); err == nil {
		t.Fatal("peer cert verified for an address it does not carry")
	}
	pemKey, err := EncodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeKey(pemKey)
	if err != nil || !back.Equal(key) {
		t.Fatalf("key round trip: %v", err)
	}
	c2, err := DecodeCert(EncodeCert(cert))
	if err != nil || !c2.Equal(cert) {
		t.Fatalf("cert round trip: %v", err)
	}
}

func TestSignWithoutCAKeyIsUnavailable(t *testing.T) {
	ca, _ := NewCA("test", now)
	verifyOnly := &CA{Cert: ca.Cert}
	_, _, err := verifyOnly.Issue(CertRequest{CommonName: "x"}, now)
	if !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
}

func TestPinnedVerifier(t *testing.T) {
	ca, _ := NewCA("a", now)
	other, _ := NewCA("b", now)
	_, leaf, _ := ca.Issue(CertRequest{CommonName: "p1", IPs: []net.IP{net.ParseIP("127.0.0.1")}}, now)
	state := tls.ConnectionState{PeerCertificates: []*x509Cert{leaf, ca.Cert}}
	if err := PinnedVerifier(ca.Pin(), "127.0.0.1")(state); err != nil {
		t.Fatalf("right pin rejected: %v", err)
	}
	err := PinnedVerifier(other.Pin(), "127.0.0.1")(state)
	if !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Fatalf("wrong pin: got %v", err)
	}
	if err := PinnedVerifier(ca.Pin(), "127.0.0.2")(state); !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Fatalf("wrong server name: got %v", err)
	}
}

func TestSealOpen(t *testing.T) {
	key := NewSymmetricKey()
	sealed, err := Seal(key, []byte("top secret"), []byte("ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("top secret")) {
		t.Fatal("plaintext visible in sealed blob")
	}
	got, err := Open(key, sealed, []byte("ca.key"))
	if err != nil || string(got) != "top secret" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := Open(key, sealed, []byte("tokens")); !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Fatalf("wrong aad: %v", err)
	}
	if _, err := Open(NewSymmetricKey(), sealed, []byte("ca.key")); !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := Seal([]byte("short"), nil, nil); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("short key: %v", err)
	}
}
