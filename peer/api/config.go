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

// ConfigKind heads every client configuration file, in both formats.
const ConfigKind = "Config"

// Config is a client's view of one cluster: its peers' API servers, the CA
// that signed their certificates, and a credential. On disk (admin.conf,
// SHOAL_CONFIG) it is a kubeconfig, so kubectl reads the same file (see
// MarshalKubeconfig); LoadConfig also reads the shoal.dev/v1 files that
// peers wrote before.
type Config struct {
	Cluster string   // the Shoal cluster name; names the kubeconfig's cluster
	Servers []string // https://host:port, tried in order; the first is kubectl's server
	// PEM blocks. A client authenticates with the certificate and key, or
	// with Token (a bearer "<id>.<secret>" API token).
	CertificateAuthority string
	ClientCertificate    string
	ClientKey            string
	Token                string
	// Context and User name the kubeconfig's context and user entries. Empty
	// means derived from Cluster: context Cluster, user Cluster-admin (or
	// -token, -anonymous, by the credential). LoadConfig fills them from a
	// kubeconfig so that a file saved again keeps its names.
	Context string
	User    string
}

// LoadConfig reads a client configuration file: a kubeconfig (its
// current-context, or its only context) or a shoal.dev/v1 file. Every error
// names the file and wraps errdefs.ErrNotFound (no file) or
// errdefs.ErrInvalid.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("client config %s: %w (set --config or SHOAL_CONFIG to a peer's admin.conf)", path, errdefs.ErrNotFound)
		}
		return nil, fmt.Errorf("client config %s: %w", path, err)
	}
	c, err := parseConfig(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("client config %s: %w", path, err)
	}
	return c, nil
}

// parseConfig tells the two formats apart by their apiVersion; a file with
// none is a shoal.dev/v1 one when it has that format's "servers" or
// "cluster" key. dir is where a kubeconfig's file references are relative to.
func parseConfig(b []byte, dir string) (*Config, error) {
	var top map[string]any
	if err := yaml.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("%v: %w", err, errdefs.ErrInvalid)
	}
	apiVersion, _ := top["apiVersion"].(string)
	kind, _ := top["kind"].(string)
	_, hasServers := top["servers"]
	_, hasCluster := top["cluster"]
	switch {
	case apiVersion == LegacyConfigAPIVersion || apiVersion == "" && (hasServers || hasCluster):
		return parseLegacyConfig(b)
	case kind != ConfigKind && kind != "":
		return nil, fmt.Errorf("kind: %q, want %q: %w", kind, ConfigKind, errdefs.ErrInvalid)
	case apiVersion == KubeconfigAPIVersion || apiVersion == "":
		return parseKubeconfig(b, dir)
	default:
		return nil, fmt.Errorf("apiVersion: %q, want %q (a kubeconfig) or %q: %w", apiVersion, KubeconfigAPIVersion, LegacyConfigAPIVersion, errdefs.ErrInvalid)
	}
}

// Save writes the configuration as a kubeconfig with mode 0600: it holds
// credentials.
func (c *Config) Save(path string) error {
	b, err := c.MarshalKubeconfig()
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
		return nil, fmt.Errorf("client config: certificate-authority-data: no PEM certificate: %w", errdefs.ErrInvalid)
	}
	tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if c.ClientCertificate != "" {
		pair, err := tls.X509KeyPair([]byte(c.ClientCertificate), []byte(c.ClientKey))
		if err != nil {
			return nil, fmt.Errorf("client config: client-certificate-data/client-key-data: %v: %w", err, errdefs.ErrInvalid)
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
