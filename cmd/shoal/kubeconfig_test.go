package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shoalproject/shoal/peer/api"
)

// shoal kubeconfig prints the cluster of the shoal config as a kubeconfig:
// --server picks server: and goes first in the failover list, --context
// names the context, and what it prints loads back as the same cluster.
func TestKubeconfigPrintsTheConfigsCluster(t *testing.T) {
	dir := t.TempDir()
	servers := []string{"https://192.0.2.11:7948", "https://192.0.2.12:7948", "https://192.0.2.13:7948"}
	admin := &api.Config{Cluster: "prod", Servers: servers, CertificateAuthority: "CA PEM", ClientCertificate: "CERT PEM", ClientKey: "KEY PEM"}
	conf := filepath.Join(dir, "admin.conf")
	if err := admin.Save(conf); err != nil {
		t.Fatal(err)
	}
	// A config in the format peers wrote before is printed as a kubeconfig too.
	legacy := filepath.Join(dir, "legacy.conf")
	if err := os.WriteFile(legacy, []byte("apiVersion: shoal.dev/v1\nkind: Config\ncluster: prod\nservers: [192.0.2.11:7948]\n"+
		"certificateAuthority: CA PEM\ntoken: abc.def\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	with := func(f func(*api.Config)) *api.Config {
		c := *admin
		c.Servers = slices.Clone(servers)
		c.User, c.Context = "prod-admin", "prod"
		f(&c)
		return &c
	}
	t.Setenv("SHOAL_SERVER", "")
	for _, tc := range []struct {
		args []string
		want *api.Config
	}{
		{[]string{"kubeconfig", "--config", conf}, with(func(*api.Config) {})},
		{[]string{"kubeconfig", "--config", conf, "--server", "https://192.0.2.12:7948/"}, with(func(c *api.Config) {
			c.Servers = []string{"https://192.0.2.12:7948", "https://192.0.2.11:7948", "https://192.0.2.13:7948"}
		})},
		{[]string{"kubeconfig", "--server", "lb.example:7948", "--context", "ops", "--config", conf}, with(func(c *api.Config) {
			c.Servers = append([]string{"https://lb.example:7948"}, servers...)
			c.Context = "ops"
		})},
		{[]string{"kubeconfig", "--config", legacy, "--server", "https://192.0.2.11:7948"}, &api.Config{
			Cluster: "prod", Servers: []string{"https://192.0.2.11:7948"}, CertificateAuthority: "CA PEM", Token: "abc.def",
			User: "prod-token", Context: "prod"}},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"shoal"}, tc.args...), &stdout, &stderr); code != 0 {
			t.Errorf("shoal %s: exit %d: %s", strings.Join(tc.args, " "), code, stderr.String())
			continue
		}
		if !strings.HasPrefix(stdout.String(), "apiVersion: v1\n") {
			t.Errorf("shoal %s printed\n%s", strings.Join(tc.args, " "), stdout.String())
		}
		out := filepath.Join(dir, "kubeconfig")
		if err := os.WriteFile(out, stdout.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := api.LoadConfig(out)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("shoal %s printed a kubeconfig that loads as\n%+v (%v)\nwant\n%+v", strings.Join(tc.args, " "), got, err, tc.want)
		}
	}
}

func TestKubeconfigRefusesBadUsage(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "admin.conf")
	if err := (&api.Config{Cluster: "prod", Servers: []string{"https://192.0.2.11:7948"}, CertificateAuthority: "CA"}).Save(conf); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SHOAL_SERVER", "")
	for _, tc := range []struct {
		args []string
		code int
		text string
	}{
		{[]string{"kubeconfig", "--config", conf, "extra"}, exitUsage, "takes no arguments"},
		{[]string{"kubeconfig", "--config", conf, "--server", "http://192.0.2.11:7948"}, exitUsage, "want https://HOST:PORT"},
		{[]string{"kubeconfig", "--config", conf, "--server", "https://192.0.2.11:7948/api"}, exitUsage, "want https://HOST:PORT"},
		{[]string{"kubeconfig", "--config", conf, "--bogus"}, exitUsage, "bogus"},
		{[]string{"kubeconfig", "--config", filepath.Join(dir, "missing")}, exitError, "SHOAL_CONFIG"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"shoal"}, tc.args...), &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.text) || stdout.Len() > 0 {
			t.Errorf("shoal %s: exit %d, stderr %q, stdout %q; want exit %d mentioning %q and nothing on stdout",
				strings.Join(tc.args, " "), code, stderr.String(), stdout.String(), tc.code, tc.text)
		}
	}
}

func TestKubeconfigHelpSaysHowToUseIt(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"shoal", "kubeconfig", "--help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"shoal kubeconfig > ~/.kube/config", "KUBECONFIG=DATA/admin.conf", "--server", "--context", "--config", api.ServersExtension} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("shoal kubeconfig --help does not mention %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	run([]string{"shoal", "--help"}, &stdout, &stderr)
	if !strings.Contains(stdout.String(), "kubeconfig") {
		t.Errorf("shoal --help does not list kubeconfig:\n%s", stdout.String())
	}
}
