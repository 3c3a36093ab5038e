package api

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// ConfigKind and ConfigAPIVersion head every client configuration file.
const (
	ConfigKind       = "Config"
	ConfigAPIVersion = "shoal.dev/v1"
)

// Config is a client configuration file (admin.conf; SHOAL_CONFIG), shaped
// like a much smaller kubeconfig.
type Config struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Cluster    string   `json:"cluster"`
	Servers    []string `json:"servers"` // https://host:port, tried in order
	// PEM blocks. A client authenticates with the certificate and key, or
	// with Token (a bearer "<id>.<secret>" API token).
	CertificateAuthority string `json:"certificateAuthority"`
	ClientCertificate    string `json:"clientCertificate,omitempty"`
	ClientKey            string `json:"clientKey,omitempty"`
	Token                string `json:"token,omitempty"`
}

// LoadConfig reads a configuration file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("client config %s: %w (set --config or SHOAL_CONFIG to a peer's admin.conf)", path, errdefs.ErrNotFound)
		}
		return nil, fmt.Errorf("client config %s: %w", path, err)
	}
	var c Config
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return nil, fmt.Errorf("client config %s: %v: %w", path, err, errdefs.ErrInvalid)
	}
	if c.Kind != ConfigKind {
		return nil, fmt.Errorf("client config %s: kind: %q, want %q: %w", path, c.Kind, ConfigKind, errdefs.ErrInvalid)
	}
	if len(c.Servers) == 0 {
		return nil, fmt.Errorf("client config %s: servers: Required value: %w", path, errdefs.ErrInvalid)
	}
	return &c, nil
}

// Save writes the configuration with mode 0600: it holds credentials.
func (c *Config) Save(path string) error {
	c.APIVersion, c.Kind = ConfigAPIVersion, ConfigKind
	b, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, b, 0o600)
}

// TLS builds the client TLS configuration: the cluster CA as the only root,
// and the client certificate when there is one.
func (c *Config) TLS() (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(c.CertificateAuthority)) {
		return nil, fmt.Errorf("client config: certificateAuthority: no PEM certificate: %w", errdefs.ErrInvalid)
	}
	tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if c.ClientCertificate != "" {
		pair, err := tls.X509KeyPair([]byte(c.ClientCertificate), []byte(c.ClientKey))
		if err != nil {
			return nil, fmt.Errorf("client config: clientCertificate/clientKey: %v: %w", err, errdefs.ErrInvalid)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

// WriteFileAtomic writes through a temporary file and a rename, so a crash
// never leaves half a file; the directory is created when missing.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
