package api

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/yaml"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// KubeconfigAPIVersion heads a kubeconfig, the format Save writes.
const KubeconfigAPIVersion = "v1"

// ServersExtension names the extension of a kubeconfig's cluster entry that
// lists every server of the cluster, in the order a Client tries them, so
// that the shoal CLI fails over between peers. kubectl keeps it and ignores
// it; it talks to the cluster's server: alone.
const ServersExtension = "shoal.dev/servers"

// serverList is the object inside a ServersExtension.
type serverList struct {
	APIVersion string   `json:"apiVersion"` // LegacyConfigAPIVersion's group: shoal.dev/v1
	Kind       string   `json:"kind"`       // ServerList
	Servers    []string `json:"servers"`
}

// MarshalKubeconfig encodes the configuration as a kubeconfig with one
// cluster, one user and one context, the current one: server: is the first
// of Servers and all of them are kept in the ServersExtension; the PEM
// blocks go in as certificate-authority-data, client-certificate-data and
// client-key-data, an API token as token:.
func (c *Config) MarshalKubeconfig() ([]byte, error) {
	if len(c.Servers) == 0 {
		return nil, fmt.Errorf("kubeconfig: servers: Required value: %w", errdefs.ErrInvalid)
	}
	cluster, user, context := c.names()
	ext, err := json.Marshal(serverList{APIVersion: LegacyConfigAPIVersion, Kind: "ServerList", Servers: c.Servers})
	if err != nil {
		return nil, err
	}
	kc := clientcmdv1.Config{
		APIVersion: KubeconfigAPIVersion,
		Kind:       ConfigKind,
		Clusters: []clientcmdv1.NamedCluster{{Name: cluster, Cluster: clientcmdv1.Cluster{
			Server:                   c.Servers[0],
			CertificateAuthorityData: []byte(c.CertificateAuthority),
			Extensions:               []clientcmdv1.NamedExtension{{Name: ServersExtension, Extension: runtime.RawExtension{Raw: ext}}},
		}}},
		AuthInfos: []clientcmdv1.NamedAuthInfo{{Name: user, AuthInfo: clientcmdv1.AuthInfo{
			ClientCertificateData: []byte(c.ClientCertificate),
			ClientKeyData:         []byte(c.ClientKey),
			Token:                 c.Token,
		}}},
		Contexts:       []clientcmdv1.NamedContext{{Name: context, Context: clientcmdv1.Context{Cluster: cluster, AuthInfo: user}}},
		CurrentContext: context,
	}
	return yaml.Marshal(&kc)
}

// names are the kubeconfig's cluster, user and context names.
func (c *Config) names() (cluster, user, context string) {
	cluster = c.Cluster
	if cluster == "" {
		cluster = "shoal"
	}
	user, context = c.User, c.Context
	if user == "" {
		switch {
		case c.ClientCertificate != "":
			user = cluster + "-admin"
		case c.Token != "":
			user = cluster + "-token"
		default:
			user = cluster + "-anonymous"
		}
	}
	if context == "" {
		context = cluster
	}
	return cluster, user, context
}

// parseKubeconfig reads the current context of a kubeconfig (or its only
// one) into a Config. It decodes leniently, as kubectl does, so a file
// written by a newer kubectl still loads; but it refuses credentials a
// Client cannot present (exec, auth-provider, basic auth, impersonation)
// rather than go unauthenticated. File references (certificate-authority,
// client-certificate, client-key, tokenFile) are read relative to dir.
func parseKubeconfig(b []byte, dir string) (*Config, error) {
	var kc clientcmdv1.Config
	if err := yaml.Unmarshal(b, &kc); err != nil {
		return nil, fmt.Errorf("%v: %w", err, errdefs.ErrInvalid)
	}
	ctxName := kc.CurrentContext
	if ctxName == "" {
		switch len(kc.Contexts) {
		case 0:
			return nil, fmt.Errorf("contexts: Required value (a kubeconfig needs a context naming a cluster and a user): %w", errdefs.ErrInvalid)
		case 1:
			ctxName = kc.Contexts[0].Name
		default:
			names := make([]string, len(kc.Contexts))
			for i, nc := range kc.Contexts {
				names[i] = nc.Name
			}
			return nil, fmt.Errorf("current-context: Required value (choose one of %d contexts: %s): %w", len(names), strings.Join(names, ", "), errdefs.ErrInvalid)
		}
	}
	ctx, ok := findNamed(kc.Contexts, func(nc clientcmdv1.NamedContext) string { return nc.Name }, ctxName)
	if !ok {
		return nil, fmt.Errorf("current-context: context %q not found: %w", ctxName, errdefs.ErrInvalid)
	}
	cl, ok := findNamed(kc.Clusters, func(nc clientcmdv1.NamedCluster) string { return nc.Name }, ctx.Context.Cluster)
	if !ok {
		return nil, fmt.Errorf("contexts[%q].cluster: cluster %q not found: %w", ctxName, ctx.Context.Cluster, errdefs.ErrInvalid)
	}
	field := fmt.Sprintf("clusters[%q]", cl.Name)
	if cl.Cluster.InsecureSkipTLSVerify {
		return nil, fmt.Errorf("%s.insecure-skip-tls-verify: not supported (shoal always verifies peers against the cluster CA): %w", field, errdefs.ErrInvalid)
	}
	servers, err := kubeconfigServers(field, cl.Cluster)
	if err != nil {
		return nil, err
	}
	ca, err := dataOrFile(cl.Cluster.CertificateAuthorityData, cl.Cluster.CertificateAuthority, dir, field+".certificate-authority")
	if err != nil {
		return nil, err
	}
	c := &Config{Cluster: cl.Name, Servers: servers, CertificateAuthority: ca, Context: ctxName}
	if ctx.Context.AuthInfo == "" {
		return c, nil // anonymous: the server will say so
	}
	u, ok := findNamed(kc.AuthInfos, func(nu clientcmdv1.NamedAuthInfo) string { return nu.Name }, ctx.Context.AuthInfo)
	if !ok {
		return nil, fmt.Errorf("contexts[%q].user: user %q not found: %w", ctxName, ctx.Context.AuthInfo, errdefs.ErrInvalid)
	}
	if err := supportedAuthInfo(fmt.Sprintf("users[%q]", u.Name), u.AuthInfo); err != nil {
		return nil, err
	}
	c.User = u.Name
	field = fmt.Sprintf("users[%q]", u.Name)
	if c.ClientCertificate, err = dataOrFile(u.AuthInfo.ClientCertificateData, u.AuthInfo.ClientCertificate, dir, field+".client-certificate"); err != nil {
		return nil, err
	}
	if c.ClientKey, err = dataOrFile(u.AuthInfo.ClientKeyData, u.AuthInfo.ClientKey, dir, field+".client-key"); err != nil {
		return nil, err
	}
	c.Token = u.AuthInfo.Token
	if c.Token == "" && u.AuthInfo.TokenFile != "" {
		t, err := dataOrFile(nil, u.AuthInfo.TokenFile, dir, field+".tokenFile")
		if err != nil {
			return nil, err
		}
		c.Token = strings.TrimSpace(t)
	}
	return c, nil
}

// kubeconfigServers lists a cluster's servers: server: first (kubectl's, and
// whatever 'kubectl config set-cluster --server' made it), then the others
// of the ServersExtension in their order.
func kubeconfigServers(field string, cl clientcmdv1.Cluster) ([]string, error) {
	var servers []string
	seen := map[string]bool{}
	add := func(s string) {
		if k := strings.TrimRight(s, "/"); k != "" && !seen[k] {
			seen[k] = true
			servers = append(servers, s)
		}
	}
	add(cl.Server)
	for _, e := range cl.Extensions {
		if e.Name != ServersExtension {
			continue
		}
		var l serverList
		if err := json.Unmarshal(e.Extension.Raw, &l); err != nil {
			return nil, fmt.Errorf("%s.extensions[%q]: %v: %w", field, ServersExtension, err, errdefs.ErrInvalid)
		}
		for _, s := range l.Servers {
			add(s)
		}
	}
	if len(servers) == 0 {
		return nil, fmt.Errorf("%s.server: Required value: %w", field, errdefs.ErrInvalid)
	}
	return servers, nil
}

// supportedAuthInfo refuses the credentials a Client cannot present.
func supportedAuthInfo(field string, u clientcmdv1.AuthInfo) error {
	var unsupported string
	switch {
	case u.Exec != nil:
		unsupported = "exec"
	case u.AuthProvider != nil:
		unsupported = "auth-provider"
	case u.Username != "" || u.Password != "":
		unsupported = "username/password"
	case u.Impersonate != "" || u.ImpersonateUID != "" || len(u.ImpersonateGroups) > 0 || len(u.ImpersonateUserExtra) > 0:
		unsupported = "as (impersonation)"
	default:
		return nil
	}
	return fmt.Errorf("%s.%s: not supported by shoal (use client-certificate-data and client-key-data, or token): %w", field, unsupported, errdefs.ErrInvalid)
}

// dataOrFile returns a kubeconfig's inline *-data when set, else the content
// of the file it names (relative to dir), else "".
func dataOrFile(data []byte, file, dir, field string) (string, error) {
	if len(data) > 0 || file == "" {
		return string(data), nil
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %v: %w", field, err, errdefs.ErrInvalid)
	}
	return string(b), nil
}

// findNamed finds the entry of a kubeconfig list with the given name.
func findNamed[T any](list []T, name func(T) string, want string) (T, bool) {
	for _, e := range list {
		if name(e) == want {
			return e, true
		}
	}
	var zero T
	return zero, false
}
