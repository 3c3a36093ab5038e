package testimage

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Spec says what image to build.
type Spec struct {
	// Package is the Go main package to compile, as an import path
	// ("github.com/shoalproject/shoal/examples/webapp") or a directory
	// relative to the working directory ("./examples/webapp"). Required.
	Package string
	// Tags are the image names the tar carries, e.g. "shoal.local/webapp:v1".
	// At least one is required.
	Tags []string
	// LDFlags are extra -ldflags for the build, e.g. "-X main.version=v2".
	LDFlags string
	// Binary is the file name of the program inside the image, at the root
	// ("/webapp"). Empty means the last element of Package.
	Binary string
	// Env is the image's environment, "NAME=value" each.
	Env []string
	// ExposedPorts are the image's exposed ports, "8080/tcp" each.
	ExposedPorts []string
	// Cmd is the image's default arguments (after the entrypoint).
	Cmd []string
	// PadBytes adds /padding, that many bytes that do not compress (the
	// same for equal specs), to make an image of a given size.
	PadBytes int
	// Tools are more programs put at the root beside the binary, on the
	// image's PATH (Toolbox: tar and test, for kubectl cp).
	Tools []Tool
}

// Tool is a program an image carries besides its own, compiled from a Go
// main package like the image's binary.
type Tool struct {
	// Package is the Go main package, as Spec.Package.
	Package string
	// Names are the file names it goes by at the root, the first the file
	// and the others symbolic links to it (a program that acts as the
	// name it is called by, busybox-style).
	Names []string
}

// Toolbox is the tool with which `kubectl cp` works against an image that
// has no shell: tar and test (internal/testimage/toolbox), no shell.
var Toolbox = Tool{Package: "github.com/shoalproject/shoal/internal/testimage/toolbox", Names: []string{"tar", "test"}}

func (s Spec) binary() string {
	if s.Binary != "" {
		return s.Binary
	}
	return path.Base(filepath.ToSlash(s.Package))
}

// Build compiles spec.Package for linux on this machine's architecture and
// writes the image, as a docker-archive tar, to outTar (replacing it).
// It blocks until the compiler is done; ctx cancels the compiler.
func Build(ctx context.Context, spec Spec, outTar string) error {
	if spec.Package == "" || len(spec.Tags) == 0 {
		return fmt.Errorf("testimage: Package and at least one tag are required")
	}
	tmp, err := os.MkdirTemp("", "testimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	bin := filepath.Join(tmp, spec.binary())
	if err := compile(ctx, spec.Package, spec.LDFlags, bin); err != nil {
		return err
	}
	tools := make([]string, len(spec.Tools))
	for i, tool := range spec.Tools {
		if len(tool.Names) == 0 {
			return fmt.Errorf("testimage: tool %s has no name", tool.Package)
		}
		tools[i] = filepath.Join(tmp, fmt.Sprintf("tool%d", i))
		if err := compile(ctx, tool.Package, "", tools[i]); err != nil {
			return err
		}
	}
	img, err := imageOf(spec, bin, tools)
	if err != nil {
		return err
	}
	refs := map[name.Reference]v1.Image{}
	for _, t := range spec.Tags {
		tag, err := name.NewTag(t)
		if err != nil {
			return fmt.Errorf("testimage: tag %q: %w", t, err)
		}
		refs[tag] = img
	}
	if err := os.MkdirAll(filepath.Dir(outTar), 0o755); err != nil {
		return err
	}
	// Write beside the target and rename, so a reader never sees half a tar.
	part := outTar + ".part"
	if err := tarball.MultiRefWriteToFile(part, refs); err != nil {
		os.Remove(part)
		return fmt.Errorf("testimage: write %s: %w", outTar, err)
	}
	return os.Rename(part, outTar)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(goruntime.GOROOT(), "bin", "go")
}

func compile(ctx context.Context, pkg, ldflags, out string) error {
	ldflags = strings.TrimSpace("-s -w " + ldflags)
	cmd := exec.CommandContext(ctx, goTool(), "build", "-trimpath", "-ldflags", ldflags, "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goruntime.GOARCH)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("testimage: go build %s: %w\n%s", pkg, err, stderr.String())
	}
	return nil
}

// imageOf makes a one-layer image holding the binary at /NAME, the tools
// (compiled to the files tools names, in spec.Tools' order) and an empty
// /tmp, with the binary as entrypoint.
func imageOf(spec Spec, bin string, tools []string) (v1.Image, error) {
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// A fixed time keeps the layer, and so the image digest, reproducible.
	mtime := time.Unix(0, 0)
	for _, h := range []*tar.Header{
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: mtime},
		{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime},
		{Name: spec.binary(), Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(exe)), ModTime: mtime},
	} {
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	if _, err := tw.Write(exe); err != nil {
		return nil, err
	}
	for i, tool := range spec.Tools {
		b, err := os.ReadFile(tools[i])
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Name: tool.Names[0], Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(b)), ModTime: mtime}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
		for _, alias := range tool.Names[1:] {
			if err := tw.WriteHeader(&tar.Header{Name: alias, Typeflag: tar.TypeSymlink, Linkname: tool.Names[0], Mode: 0o777, ModTime: mtime}); err != nil {
				return nil, err
			}
		}
	}
	if spec.PadBytes > 0 {
		pad := make([]byte, spec.PadBytes)
		_, _ = mathrand.NewChaCha8([32]byte{byte(spec.PadBytes), byte(spec.PadBytes >> 8), byte(spec.PadBytes >> 16)}).Read(pad)
		if err := tw.WriteHeader(&tar.Header{Name: "padding", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(pad)), ModTime: mtime}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(pad); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layerBytes := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = goruntime.GOARCH
	cf.Created = v1.Time{Time: mtime}
	cf.Config.Entrypoint = []string{"/" + spec.binary()}
	cf.Config.Cmd = spec.Cmd
	cf.Config.Env = append([]string{"PATH=/"}, spec.Env...)
	cf.Config.WorkingDir = "/"
	if len(spec.ExposedPorts) > 0 {
		cf.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range spec.ExposedPorts {
			cf.Config.ExposedPorts[p] = struct{}{}
		}
	}
	return mutate.ConfigFile(img, cf)
}

var cache struct {
	sync.Mutex
	built map[string]*cached
}

type cached struct {
	once sync.Once
	tar  []byte
	err  error
}

// Cached builds spec once per process and returns the image tar's bytes
// (import them with bytes.NewReader). Later calls with an equal spec return
// the same bytes, which callers must not modify. A build failure fails t.
func Cached(t testing.TB, spec Spec) []byte {
	t.Helper()
	key := specKey(spec)
	cache.Lock()
	if cache.built == nil {
		cache.built = map[string]*cached{}
	}
	c := cache.built[key]
	if c == nil {
		c = &cached{}
		cache.built[key] = c
	}
	cache.Unlock()
	c.once.Do(func() {
		dir, err := os.MkdirTemp("", "testimage-")
		if err != nil {
			c.err = err
			return
		}
		defer os.RemoveAll(dir)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out := filepath.Join(dir, "image.tar")
		if c.err = Build(ctx, spec, out); c.err == nil {
			c.tar, c.err = os.ReadFile(out)
		}
	})
	if c.err != nil {
		t.Fatalf("build image %v: %v", spec.Tags, c.err)
	}
	return c.tar
}

func specKey(s Spec) string {
	s.Tags = append([]string(nil), s.Tags...)
	sort.Strings(s.Tags)
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// WebappRepo is the repository of the example web service's images.
const WebappRepo = "shoal.local/webapp"

// Webapp is the Spec of the example web service (examples/webapp) at
// version ("v1", "v2", ...): tagged WebappRepo:version, answering "hello
// from NAME (version)", listening on 8080, with the Toolbox (so kubectl
// cp works against it).
func Webapp(version string) Spec {
	return Spec{
		Package:      "github.com/shoalproject/shoal/examples/webapp",
		Tags:         []string{WebappRepo + ":" + version},
		LDFlags:      "-X main.version=" + version,
		Binary:       "webapp",
		Env:          []string{"PORT=8080"},
		ExposedPorts: []string{"8080/tcp"},
		Tools:        []Tool{Toolbox},
	}
}
