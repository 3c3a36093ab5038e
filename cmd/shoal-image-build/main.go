// Command shoal-image-build builds the example web service's images
// without a registry or a docker daemon, for the demo and for users:
//
//	shoal-image-build [-out bin] [-versions v1,v2]
//
// writes OUT/webapp.tar, a docker-archive tar holding
// shoal.local/webapp:VERSION for each version (they differ only in the
// version their answers carry). Import it with `ctr -n NS images import`,
// or into a runtime with ImportImage. It needs the Go toolchain; run it
// from inside the Shoal module (make images does).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/shoalproject/shoal/internal/testimage"
)

func main() {
	out := flag.String("out", "bin", "directory to write webapp.tar into")
	versions := flag.String("versions", "v1,v2", "comma-separated versions to tag")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := build(ctx, *out, strings.Split(*versions, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "shoal-image-build:", err)
		os.Exit(1)
	}
}

// build makes one image tar per version and merges them into
// OUT/webapp.tar.
func build(ctx context.Context, out string, versions []string) error {
	tmp, err := os.MkdirTemp("", "shoal-image-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	refs := map[name.Reference]v1.Image{}
	for _, v := range versions {
		spec := testimage.Webapp(strings.TrimSpace(v))
		path := filepath.Join(tmp, v+".tar")
		if err := testimage.Build(ctx, spec, path); err != nil {
			return err
		}
		tag, err := name.NewTag(spec.Tags[0])
		if err != nil {
			return err
		}
		img, err := tarball.ImageFromPath(path, &tag)
		if err != nil {
			return err
		}
		refs[tag] = img
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(out, "webapp.tar")
	if err := tarball.MultiRefWriteToFile(dst, refs); err != nil {
		return err
	}
	for ref := range refs {
		fmt.Printf("%s -> %s\n", ref, dst)
	}
	return nil
}
