package testimage_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/shoalproject/shoal/internal/testimage"
)

func TestBuildMakesARunnableLookingImage(t *testing.T) {
	spec := testimage.Webapp("v9")
	out := filepath.Join(t.TempDir(), "webapp.tar")
	if err := testimage.Build(context.Background(), spec, out); err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag("shoal.local/webapp:v9")
	img, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture == "" || len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != "/webapp" {
		t.Fatalf("config: os %q arch %q entrypoint %v", cf.OS, cf.Architecture, cf.Config.Entrypoint)
	}
	if _, ok := cf.Config.ExposedPorts["8080/tcp"]; !ok {
		t.Fatalf("exposed ports %v", cf.Config.ExposedPorts)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	found := false
	tools := map[string]*tar.Header{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "webapp" {
			found = h.Mode&0o111 != 0 && h.Size > 1<<20
		}
		if h.Name == "tar" || h.Name == "test" {
			tools[h.Name] = h
		}
	}
	if !found {
		t.Fatal("no executable /webapp of a plausible size in the layer")
	}
	// The toolbox, for kubectl cp: /tar, and /test a link to it, on PATH.
	if h := tools["tar"]; h == nil || h.Typeflag != tar.TypeReg || h.Mode&0o111 == 0 {
		t.Errorf("no executable /tar in the layer: %+v", h)
	}
	if h := tools["test"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "tar" {
		t.Errorf("/test is not a link to tar: %+v", h)
	}
	if !slices.Contains(cf.Config.Env, "PATH=/") {
		t.Errorf("the tools are not on PATH: %v", cf.Config.Env)
	}
}

func TestBuildFailsOnABadPackage(t *testing.T) {
	err := testimage.Build(context.Background(), testimage.Spec{Package: "./does-not-exist", Tags: []string{"x.local/y:z"}}, filepath.Join(t.TempDir(), "x.tar"))
	if err == nil {
		t.Fatal("Build of a missing package succeeded")
	}
	if err := testimage.Build(context.Background(), testimage.Spec{Package: "./x"}, "x.tar"); err == nil {
		t.Fatal("Build without tags succeeded")
	}
}

func TestCachedBuildsOnce(t *testing.T) {
	spec := testimage.Webapp("v1")
	a := testimage.Cached(t, spec)
	b := testimage.Cached(t, spec)
	if len(a) == 0 || &a[0] != &b[0] {
		t.Fatal("Cached built twice, or returned nothing")
	}
}
