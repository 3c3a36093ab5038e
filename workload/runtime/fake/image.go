package fake

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
)

// The fake keeps no image content, only names and digests. It reads the
// two archive formats far enough to find those, and exports an OCI layout
// tar holding just index.json, which only a fake imports.

const (
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

type ociIndex struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     string          `json:"mediaType,omitempty"`
	Manifests     []ociDescriptor `json:"manifests"`
}

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// ImportImage implements runtime.ImageService: it reads the names from a
// docker-archive's manifest.json or an OCI layout's index.json. A
// docker-archive image's digest is the digest of its config blob.
func (r *Runtime) ImportImage(ctx context.Context, rd io.Reader) ([]runtime.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	var size int64
	tr := tar.NewReader(rd)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("import image: %v: %w", err, errdefs.ErrInvalid)
		}
		size += h.Size
		if h.Name == "manifest.json" || h.Name == "index.json" {
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("import image: %v: %w", err, errdefs.ErrInvalid)
			}
			files[h.Name] = b
		}
	}
	var imported []runtime.Image
	switch {
	case files["index.json"] != nil:
		var idx ociIndex
		if err := json.Unmarshal(files["index.json"], &idx); err != nil {
			return nil, fmt.Errorf("import image: index.json: %v: %w", err, errdefs.ErrInvalid)
		}
		for _, m := range idx.Manifests {
			name := m.Annotations[annotationContainerdName]
			if name == "" {
				name = m.Annotations[annotationRefName]
			}
			if name == "" {
				continue
			}
			imported = append(imported, runtime.Image{Name: name, Digest: m.Digest, Size: size})
		}
	case files["manifest.json"] != nil:
		var ms []dockerManifest
		if err := json.Unmarshal(files["manifest.json"], &ms); err != nil {
			return nil, fmt.Errorf("import image: manifest.json: %v: %w", err, errdefs.ErrInvalid)
		}
		for _, m := range ms {
			digest := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(m.Config)))
			for _, tag := range m.RepoTags {
				imported = append(imported, runtime.Image{Name: tag, Digest: digest, Size: size})
			}
		}
	default:
		return nil, fmt.Errorf("import image: neither index.json nor manifest.json in the archive: %w", errdefs.ErrInvalid)
	}
	for i := range imported {
		name, err := runtime.NormalizeImageRef(imported[i].Name)
		if err != nil {
			return nil, fmt.Errorf("import image: %w", err)
		}
		imported[i].Name = name
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, img := range imported {
		r.images[img.Name] = img
	}
	return imported, nil
}

// PullImage implements runtime.ImageService: Config.Pull decides, and a
// pulled image's digest is made up from its name.
func (r *Runtime) PullImage(ctx context.Context, ref string, opts runtime.PullOptions) (runtime.Image, error) {
	name, err := runtime.NormalizeImageRef(ref)
	if err != nil {
		return runtime.Image{}, err
	}
	if err := ctx.Err(); err != nil {
		return runtime.Image{}, err
	}
	if r.cfg.Pull != nil {
		if err := r.cfg.Pull(name, opts); err != nil {
			return runtime.Image{}, fmt.Errorf("pull %s: %w", name, err)
		}
	}
	img := runtime.Image{Name: name, Digest: fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(name)))}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.images[name] = img
	return img, nil
}

func (r *Runtime) image(ref string) (runtime.Image, error) {
	name, err := runtime.NormalizeImageRef(ref)
	if err != nil {
		return runtime.Image{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	img, ok := r.images[name]
	if !ok {
		return runtime.Image{}, fmt.Errorf("image %q: %w", name, errdefs.ErrNotFound)
	}
	return img, nil
}

// ImageStatus implements runtime.ImageService.
func (r *Runtime) ImageStatus(ctx context.Context, ref string) (runtime.Image, error) {
	if err := ctx.Err(); err != nil {
		return runtime.Image{}, err
	}
	return r.image(ref)
}

// ListImages implements runtime.ImageService.
func (r *Runtime) ListImages(ctx context.Context) ([]runtime.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]runtime.Image, 0, len(r.images))
	for _, img := range r.images {
		out = append(out, img)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ExportImage implements runtime.ImageService: it writes an OCI layout tar
// with only oci-layout and index.json, enough for a fake to import.
func (r *Runtime) ExportImage(ctx context.Context, ref string, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	img, err := r.image(ref)
	if err != nil {
		return err
	}
	idx, _ := json.Marshal(ociIndex{
		SchemaVersion: 2,
		MediaType:     "application/vnd.oci.image.index.v1+json",
		Manifests: []ociDescriptor{{
			MediaType:   "application/vnd.oci.image.manifest.v1+json",
			Digest:      img.Digest,
			Size:        img.Size,
			Annotations: map[string]string{annotationContainerdName: img.Name},
		}},
	})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", idx},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// RemoveImage implements runtime.ImageService.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name, err := runtime.NormalizeImageRef(ref)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.images, name)
	return nil
}
