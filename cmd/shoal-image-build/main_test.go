package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func TestBuildWritesBothVersionsIntoOneArchive(t *testing.T) {
	dir := t.TempDir()
	if err := build(context.Background(), dir, []string{"v1", "v2"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "webapp.tar")
	manifest, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(path) })
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, m := range manifest {
		tags = append(tags, m.RepoTags...)
	}
	if len(tags) != 2 || tags[0] == tags[1] {
		t.Fatalf("tags %v, want shoal.local/webapp:v1 and :v2", tags)
	}
	digests := map[string]bool{}
	for _, ref := range []string{"shoal.local/webapp:v1", "shoal.local/webapp:v2"} {
		tag, _ := name.NewTag(ref)
		img, err := tarball.ImageFromPath(path, &tag)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if got := cf.Config.Entrypoint; len(got) != 1 || got[0] != "/webapp" {
			t.Fatalf("%s: entrypoint %v", ref, got)
		}
		if _, ok := cf.Config.ExposedPorts["8080/tcp"]; !ok || cf.OS != "linux" {
			t.Fatalf("%s: config %+v", ref, cf)
		}
		d, _ := img.Digest()
		digests[d.String()] = true
	}
	if len(digests) != 2 {
		t.Fatalf("v1 and v2 have the same digest: the version is not built in")
	}
}
