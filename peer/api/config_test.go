package api

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoalproject/shoal/internal/errdefs"
)

func TestLoadConfigErrorsNameTheProblem(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		path string
		want error
		text string
	}{
		{filepath.Join(dir, "missing"), errdefs.ErrNotFound, "SHOAL_CONFIG"},
		{write("bad.yaml", "kind: [\n"), errdefs.ErrInvalid, "bad.yaml"},
		{write("kind.yaml", "kind: Pod\nservers: [x]\n"), errdefs.ErrInvalid, "kind"},
		{write("servers.yaml", "kind: Config\n"), errdefs.ErrInvalid, "servers: Required value"},
		{write("unknown.yaml", "kind: Config\nservers: [x]\nbogus: 1\n"), errdefs.ErrInvalid, "bogus"},
	}
	for _, c := range cases {
		_, err := LoadConfig(c.path)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("LoadConfig(%s) = %v, want %v mentioning %q", filepath.Base(c.path), err, c.want, c.text)
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
	if err != nil || back.Servers[0] != c.Servers[0] || back.Kind != ConfigKind {
		t.Fatalf("%+v %v", back, err)
	}
	if _, err := back.TLS(); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("a CA that is not PEM: %v", err)
	}
}
