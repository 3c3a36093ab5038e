package api

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/pki"
)

// testCredentials are a cluster CA and an admin certificate it signed, as PEM.
type testCredentials struct {
	ca         *pki.CA
	caPEM      string
	cert, key  string
	serverCert string // for 127.0.0.1 and localhost
	serverKey  string
}

func newTestCredentials(t *testing.T) testCredentials {
	t.Helper()
	now := time.Now()
	ca, err := pki.NewCA("test", now)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(req pki.CertRequest) (string, string) {
		key, cert, err := ca.Issue(req, now)
		if err != nil {
			t.Fatal(err)
		}
		kp, err := pki.EncodeKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return string(pki.EncodeCert(cert)), string(kp)
	}
	tc := testCredentials{ca: ca, caPEM: string(pki.EncodeCert(ca.Cert))}
	tc.cert, tc.key = issue(pki.CertRequest{CommonName: "admin", Organization: pki.OrgAdmins})
	tc.serverCert, tc.serverKey = issue(pki.CertRequest{CommonName: "p1", Organization: pki.OrgPeers, IPs: loopback, DNSNames: []string{"localhost"}})
	return tc
}

// adminConfig is a Config as a peer writes it into admin.conf.
func (tc testCredentials) adminConfig(servers ...string) *Config {
	return &Config{Cluster: "prod", Servers: servers, CertificateAuthority: tc.caPEM, ClientCertificate: tc.cert, ClientKey: tc.key}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfigErrorsNameTheFileAndTheProblem(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string { return writeFile(t, dir, name, body) }
	const cluster = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://a:7948'}\n"
	cases := []struct {
		path string
		want error
		text string
	}{
		{filepath.Join(dir, "missing"), errdefs.ErrNotFound, "SHOAL_CONFIG"},
		{write("bad.yaml", "kind: [\n"), errdefs.ErrInvalid, "yaml"},
		{write("apiversion.yaml", "apiVersion: shoal.dev/v2\nkind: Config\n"), errdefs.ErrInvalid, `apiVersion: "shoal.dev/v2"`},
		{write("kube-kind.yaml", "apiVersion: v1\nkind: Pod\n"), errdefs.ErrInvalid, `kind: "Pod"`},
		// shoal.dev/v1, as peers wrote it before.
		{write("kind.yaml", "kind: Pod\nservers: [x]\n"), errdefs.ErrInvalid, "kind"},
		{write("servers.yaml", "apiVersion: shoal.dev/v1\nkind: Config\n"), errdefs.ErrInvalid, "servers: Required value"},
		{write("unknown.yaml", "kind: Config\nservers: [x]\nbogus: 1\n"), errdefs.ErrInvalid, "bogus"},
		// kubeconfig.
		{write("empty.yaml", ""), errdefs.ErrInvalid, "contexts: Required value"},
		{write("nocontext.yaml", cluster), errdefs.ErrInvalid, "contexts: Required value"},
		{write("twocontexts.yaml", cluster+"contexts:\n- name: a\n  context: {cluster: c}\n- name: b\n  context: {cluster: c}\n"),
			errdefs.ErrInvalid, "current-context: Required value (choose one of 2 contexts: a, b)"},
		{write("current.yaml", cluster+"contexts:\n- name: a\n  context: {cluster: c}\ncurrent-context: z\n"), errdefs.ErrInvalid, `context "z" not found`},
		{write("cluster.yaml", cluster+"contexts:\n- name: a\n  context: {cluster: d}\n"), errdefs.ErrInvalid, `contexts["a"].cluster: cluster "d" not found`},
		{write("user.yaml", cluster+"contexts:\n- name: a\n  context: {cluster: c, user: u}\n"), errdefs.ErrInvalid, `contexts["a"].user: user "u" not found`},
		{write("server.yaml", "clusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: a\n  context: {cluster: c}\n"), errdefs.ErrInvalid, `clusters["c"].server: Required value`},
		{write("exec.yaml", cluster+"contexts:\n- name: a\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {exec: {command: gcloud}}\n"),
			errdefs.ErrInvalid, `users["u"].exec: not supported`},
		{write("insecure.yaml", "clusters:\n- name: c\n  cluster: {server: 'https://a', insecure-skip-tls-verify: true}\ncontexts:\n- name: a\n  context: {cluster: c}\n"),
			errdefs.ErrInvalid, `clusters["c"].insecure-skip-tls-verify: not supported`},
		{write("cafile.yaml", "clusters:\n- name: c\n  cluster: {server: 'https://a', certificate-authority: nope.crt}\ncontexts:\n- name: a\n  context: {cluster: c}\n"),
			errdefs.ErrInvalid, `clusters["c"].certificate-authority: open ` + filepath.Join(dir, "nope.crt")},
		{write("extension.yaml", "clusters:\n- name: c\n  cluster:\n    server: https://a\n    extensions:\n    - name: shoal.dev/servers\n      extension: {servers: 3}\n"+
			"contexts:\n- name: a\n  context: {cluster: c}\n"), errdefs.ErrInvalid, `clusters["c"].extensions["shoal.dev/servers"]`},
	}
	for _, c := range cases {
		_, err := LoadConfig(c.path)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("LoadConfig(%s) = %v, want %v naming the file and %q", filepath.Base(c.path), err, c.want, c.text)
		}
	}
}

func TestSaveIsPrivateAndLoadsBack(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "admin.conf")
	c := &Config{Cluster: "c", Servers: []string{"https://127.0.0.1:7948"}, CertificateAuthority: "x"}
	if err := c.Save(p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
	back, err := LoadConfig(p)
	if err != nil || back.Servers[0] != c.Servers[0] || back.Cluster != "c" {
		t.Fatalf("%+v %v", back, err)
	}
	if _, err := back.TLS(); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("a CA that is not PEM: %v", err)
	}
	if err := (&Config{Cluster: "c"}).Save(p); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("Save with no servers: %v, want ErrInvalid", err)
	}
}

func TestKubeconfigRoundTripsEveryField(t *testing.T) {
	tc := newTestCredentials(t)
	servers := []string{"https://192.0.2.11:7948", "https://192.0.2.12:7948", "https://192.0.2.13:7948"}
	token := &Config{Cluster: "prod", Servers: servers, CertificateAuthority: tc.caPEM, Token: "abc123.0123456789abcdef"}
	named := tc.adminConfig(servers...)
	named.Context, named.User = "ops", "alice"
	for _, c := range []struct {
		name       string
		in         *Config
		user, ctxt string
	}{
		{"admin certificate", tc.adminConfig(servers...), "prod-admin", "prod"},
		{"api token", token, "prod-token", "prod"},
		{"names kept", named, "alice", "ops"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "admin.conf")
			if err := c.in.Save(p); err != nil {
				t.Fatal(err)
			}
			back, err := LoadConfig(p)
			if err != nil {
				t.Fatal(err)
			}
			want := *c.in
			want.User, want.Context = c.user, c.ctxt
			if !reflect.DeepEqual(*back, want) {
				t.Fatalf("loaded back\n%+v\nwant\n%+v", *back, want)
			}
			if _, err := back.TLS(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLegacyConfigLoadsAndSavesAsAKubeconfig(t *testing.T) {
	tc := newTestCredentials(t)
	dir := t.TempDir()
	indent := func(pem string) string { return strings.ReplaceAll(strings.TrimSpace(pem), "\n", "\n  ") }
	// As the last release's Save wrote it.
	legacy := "apiVersion: shoal.dev/v1\nkind: Config\ncluster: prod\nservers:\n- https://192.0.2.11:7948\n- https://192.0.2.12:7948\n" +
		"certificateAuthority: |\n  " + indent(tc.caPEM) + "\n" +
		"clientCertificate: |\n  " + indent(tc.cert) + "\n" +
		"clientKey: |\n  " + indent(tc.key) + "\n"
	p := writeFile(t, dir, "admin.conf", legacy)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	want := tc.adminConfig("https://192.0.2.11:7948", "https://192.0.2.12:7948")
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("legacy file loaded as\n%+v\nwant\n%+v", c, want)
	}
	if err := c.Save(p); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if !strings.HasPrefix(string(b), "apiVersion: v1\n") {
		t.Fatalf("saved again:\n%s", b)
	}
	back, err := LoadConfig(p)
	want.User, want.Context = "prod-admin", "prod"
	if err != nil || !reflect.DeepEqual(back, want) {
		t.Fatalf("saved as a kubeconfig and loaded back: %v\n%+v\nwant\n%+v", err, back, want)
	}

	// A hand-written file with no apiVersion is still the old format.
	p = writeFile(t, dir, "hand.conf", "kind: Config\nservers: [https://192.0.2.11:7948]\ntoken: abc.def\n")
	if c, err := LoadConfig(p); err != nil || c.Token != "abc.def" || c.Servers[0] != "https://192.0.2.11:7948" {
		t.Fatalf("hand-written legacy file: %+v %v", c, err)
	}
}

// A kubeconfig edited by kubectl or by hand: another server: goes first,
// the extension's servers follow once each; the only context is used when
// current-context is empty; references to files are read relative to the
// kubeconfig's directory.
func TestKubeconfigAsKubectlUsersEditIt(t *testing.T) {
	tc := newTestCredentials(t)
	dir := t.TempDir()
	writeFile(t, dir, "ca.crt", tc.caPEM)
	writeFile(t, dir, "admin.crt", tc.cert)
	writeFile(t, dir, "admin.key", tc.key)
	writeFile(t, dir, "token", "abc123.secret\n")
	p := writeFile(t, dir, "config", `apiVersion: v1
kind: Config
preferences: {colors: true}
clusters:
- name: prod
  cluster:
    server: https://lb.example:7948/
    certificate-authority: ca.crt
    proxy-url: http://proxy.example:3128
    extensions:
    - name: other.example/thing
      extension: {x: 1}
    - name: shoal.dev/servers
      extension:
        apiVersion: shoal.dev/v1
        kind: ServerList
        servers: [https://192.0.2.11:7948, https://lb.example:7948, https://192.0.2.12:7948]
users:
- name: cert
  user: {client-certificate: admin.crt, client-key: `+filepath.Join(dir, "admin.key")+`}
- name: token
  user: {tokenFile: token}
contexts:
- name: by-cert
  context: {cluster: prod, user: cert, namespace: shop}
`)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{Cluster: "prod", Servers: []string{"https://lb.example:7948/", "https://192.0.2.11:7948", "https://192.0.2.12:7948"},
		CertificateAuthority: tc.caPEM, ClientCertificate: tc.cert, ClientKey: tc.key, Context: "by-cert", User: "cert"}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("loaded\n%+v\nwant\n%+v", c, want)
	}

	b, _ := os.ReadFile(p)
	p = writeFile(t, dir, "config2", string(b)+"- name: by-token\n  context: {cluster: prod, user: token}\ncurrent-context: by-token\n")
	if c, err = LoadConfig(p); err != nil || c.Token != "abc123.secret" || c.ClientCertificate != "" || c.User != "token" {
		t.Fatalf("current-context by-token: %+v %v", c, err)
	}
}
