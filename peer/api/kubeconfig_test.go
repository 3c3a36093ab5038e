package api

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
)

var loopback = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}

// client-go's own loader, the one kubectl uses, reads admin.conf: the
// current context, the first server, the CA and the credentials, and it
// keeps the servers extension.
func TestClientGoLoadsTheKubeconfig(t *testing.T) {
	tc := newTestCredentials(t)
	servers := []string{"https://192.0.2.11:7948", "https://192.0.2.12:7948"}
	for _, c := range []struct {
		name string
		cfg  *Config
	}{
		{"admin certificate", tc.adminConfig(servers...)},
		{"api token", &Config{Cluster: "prod", Servers: servers, CertificateAuthority: tc.caPEM, Token: "abc123.0123456789abcdef"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "admin.conf")
			if err := c.cfg.Save(p); err != nil {
				t.Fatal(err)
			}
			raw, err := clientcmd.LoadFromFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if raw.CurrentContext != "prod" || raw.Contexts["prod"] == nil || raw.Contexts["prod"].Cluster != "prod" {
				t.Fatalf("current context %q, contexts %v", raw.CurrentContext, raw.Contexts)
			}
			rc, err := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{}).ClientConfig()
			if err != nil {
				t.Fatal(err)
			}
			if rc.Host != servers[0] || string(rc.CAData) != tc.caPEM {
				t.Errorf("host %q, CA is the cluster's: %t; want %q and the cluster CA", rc.Host, string(rc.CAData) == tc.caPEM, servers[0])
			}
			if string(rc.CertData) != c.cfg.ClientCertificate || string(rc.KeyData) != c.cfg.ClientKey || rc.BearerToken != c.cfg.Token {
				t.Errorf("credentials: cert %t key %t token %q; want %t %t %q", len(rc.CertData) > 0, len(rc.KeyData) > 0, rc.BearerToken,
					c.cfg.ClientCertificate != "", c.cfg.ClientKey != "", c.cfg.Token)
			}
			ext, ok := raw.Clusters["prod"].Extensions[ServersExtension].(*runtime.Unknown)
			if !ok || !strings.Contains(string(ext.Raw), `"https://192.0.2.12:7948"`) {
				t.Errorf("extension %s: %#v", ServersExtension, raw.Clusters["prod"].Extensions[ServersExtension])
			}
		})
	}
}

// kubectl itself reads the file, and talks to a server with it: with the
// admin certificate, and with an API token.
func TestKubectlUsesTheKubeconfig(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not on PATH: skipping the check that kubectl reads admin.conf")
	}
	tc := newTestCredentials(t)
	const token = "abc123.0123456789abcdef"
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.TLS != nil && len(r.TLS.PeerCertificates) > 0:
			w.Write([]byte("hello " + r.TLS.PeerCertificates[0].Subject.CommonName))
		case r.Header.Get("Authorization") == "Bearer "+token:
			w.Write([]byte("hello token"))
		default:
			http.Error(w, "unauthenticated", http.StatusUnauthorized)
		}
	}))
	pair, err := tls.X509KeyPair([]byte(tc.serverCert), []byte(tc.serverKey))
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: tc.ca.Pool()}
	srv.StartTLS()
	defer srv.Close()

	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, kubectl, args...)
		cmd.Env = append(os.Environ(), "HOME="+dir, "KUBECONFIG=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	admin := filepath.Join(dir, "admin.conf")
	if err := tc.adminConfig(srv.URL, "https://192.0.2.12:7948").Save(admin); err != nil {
		t.Fatal(err)
	}
	got := run("config", "view", "--kubeconfig", admin, "--raw", "-o",
		`jsonpath={.current-context} {.clusters[0].cluster.server} {.contexts[0].context.user} {.users[0].name} {.users[0].user.client-certificate-data}`)
	want := "prod " + srv.URL + " prod-admin prod-admin " + base64.StdEncoding.EncodeToString([]byte(tc.cert))
	if got != want {
		t.Errorf("kubectl config view:\n%s\nwant\n%s", got, want)
	}
	if got := run("get", "--raw", "/healthz", "--kubeconfig", admin, "--request-timeout", "10s"); got != "hello admin" {
		t.Errorf("kubectl get --raw with the admin certificate: %q", got)
	}

	tokenConf := filepath.Join(dir, "token.conf")
	if err := (&Config{Cluster: "prod", Servers: []string{srv.URL}, CertificateAuthority: tc.caPEM, Token: token}).Save(tokenConf); err != nil {
		t.Fatal(err)
	}
	if got := run("config", "view", "--kubeconfig", tokenConf, "--raw", "-o", "jsonpath={.users[0].name} {.users[0].user.token}"); got != "prod-token "+token {
		t.Errorf("kubectl config view of a token user: %q", got)
	}
	if got := run("get", "--raw", "/healthz", "--kubeconfig", tokenConf, "--request-timeout", "10s"); got != "hello token" {
		t.Errorf("kubectl get --raw with an API token: %q", got)
	}
}
