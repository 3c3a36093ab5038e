package api

import (
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// LegacyConfigAPIVersion heads the client configuration files peers wrote
// before admin.conf became a kubeconfig. LoadConfig still reads them; Save
// never writes one.
const LegacyConfigAPIVersion = "shoal.dev/v1"

// legacyConfig is the shoal.dev/v1 file: one cluster, its servers and a
// credential, PEM blocks as strings.
type legacyConfig struct {
	APIVersion           string   `json:"apiVersion"`
	Kind                 string   `json:"kind"`
	Cluster              string   `json:"cluster"`
	Servers              []string `json:"servers"`
	CertificateAuthority string   `json:"certificateAuthority"`
	ClientCertificate    string   `json:"clientCertificate,omitempty"`
	ClientKey            string   `json:"clientKey,omitempty"`
	Token                string   `json:"token,omitempty"`
}

// parseLegacyConfig decodes a shoal.dev/v1 file strictly: an unknown field
// is an error, as it always was.
func parseLegacyConfig(b []byte) (*Config, error) {
	var l legacyConfig
	if err := yaml.UnmarshalStrict(b, &l); err != nil {
		return nil, fmt.Errorf("%v: %w", err, errdefs.ErrInvalid)
	}
	if l.Kind != ConfigKind {
		return nil, fmt.Errorf("kind: %q, want %q: %w", l.Kind, ConfigKind, errdefs.ErrInvalid)
	}
	if len(l.Servers) == 0 {
		return nil, fmt.Errorf("servers: Required value: %w", errdefs.ErrInvalid)
	}
	return &Config{
		Cluster:              l.Cluster,
		Servers:              l.Servers,
		CertificateAuthority: l.CertificateAuthority,
		ClientCertificate:    l.ClientCertificate,
		ClientKey:            l.ClientKey,
		Token:                l.Token,
	}, nil
}
