package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/images/archive"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	dockerconfig "github.com/containerd/containerd/v2/core/remotes/docker/config"
	remoteerrors "github.com/containerd/containerd/v2/core/remotes/errors"
	"github.com/containerd/platforms"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
)

// ImportImage implements runtime.ImageService. Every image in the archive
// is unpacked before it returns.
func (r *Runtime) ImportImage(ctx context.Context, rd io.Reader) ([]runtime.Image, error) {
	ctx = r.ctx(ctx)
	imgs, err := r.client.Import(ctx, rd, client.WithImportPlatform(platforms.DefaultStrict()))
	if err != nil {
		err = wrap(err, "import image")
		if ctx.Err() == nil && !errors.Is(err, errdefs.ErrUnavailable) && !errors.Is(err, errdefs.ErrInvalid) {
			err = fmt.Errorf("%w: %w", err, errdefs.ErrInvalid) // the archive is the likely culprit
		}
		return nil, err
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("import image: no named image in the archive: %w", errdefs.ErrInvalid)
	}
	out := make([]runtime.Image, 0, len(imgs))
	for _, i := range imgs {
		img, err := r.unpack(ctx, client.NewImage(r.client, i))
		if err != nil {
			return nil, fmt.Errorf("import image %s: %w", i.Name, err)
		}
		out = append(out, img)
	}
	return out, nil
}

// unpack makes img ready to run and describes it.
func (r *Runtime) unpack(ctx context.Context, img client.Image) (runtime.Image, error) {
	unpacked, err := img.IsUnpacked(ctx, r.cfg.Snapshotter)
	if err != nil {
		return runtime.Image{}, wrap(err, "unpack")
	}
	if !unpacked {
		if err := img.Unpack(ctx, r.cfg.Snapshotter); err != nil {
			return runtime.Image{}, wrap(err, "unpack")
		}
	}
	return describe(ctx, img)
}

func describe(ctx context.Context, img client.Image) (runtime.Image, error) {
	size, err := img.Size(ctx)
	if err != nil {
		return runtime.Image{}, wrap(err, "image %s: size", img.Name())
	}
	out := runtime.Image{Name: img.Name(), Digest: img.Target().Digest.String(), Size: size}
	// An image whose config cannot be read (not for this platform) says
	// no user: root, the safe answer for runAsNonRoot.
	if spec, err := img.Spec(ctx); err == nil {
		out.User = spec.Config.User
	}
	return out, nil
}

// readyImage returns a present image, unpacked, or ErrNotFound.
func (r *Runtime) readyImage(ctx context.Context, ref string) (client.Image, error) {
	img, err := r.client.GetImage(ctx, ref)
	if err != nil {
		return nil, wrap(err, "image %q", ref)
	}
	if _, err := r.unpack(ctx, img); err != nil {
		return nil, fmt.Errorf("image %q: %w", ref, err)
	}
	return img, nil
}

// PullImage implements runtime.ImageService with containerd's resolver,
// for this machine's platform.
func (r *Runtime) PullImage(ctx context.Context, ref string, opts runtime.PullOptions) (runtime.Image, error) {
	name, err := runtime.NormalizeImageRef(ref)
	if err != nil {
		return runtime.Image{}, err
	}
	ctx = r.ctx(ctx)
	hosts := dockerconfig.HostOptions{}
	if opts.PlainHTTP {
		hosts.DefaultScheme = "http"
	}
	if opts.Username != "" || opts.Password != "" {
		hosts.Credentials = func(string) (string, string, error) { return opts.Username, opts.Password, nil }
	}
	resolver := docker.NewResolver(docker.ResolverOptions{Hosts: dockerconfig.ConfigureHosts(ctx, hosts)})
	img, err := r.client.Pull(ctx, name,
		client.WithResolver(resolver),
		client.WithPullUnpack,
		client.WithPullSnapshotter(r.cfg.Snapshotter),
		client.WithPlatformMatcher(platforms.DefaultStrict()))
	if err != nil {
		return runtime.Image{}, pullError(name, err)
	}
	r.log.Info("image pulled", "image", name, "digest", img.Target().Digest)
	return describe(ctx, img)
}

func pullError(name string, err error) error {
	var status remoteerrors.ErrUnexpectedStatus
	var netErr *net.OpError
	switch {
	case errors.As(err, &status) && (status.StatusCode == http.StatusUnauthorized || status.StatusCode == http.StatusForbidden),
		errors.Is(err, docker.ErrInvalidAuthorization):
		return fmt.Errorf("pull %s: %w", name, &mappedError{err, errdefs.ErrUnauthenticated})
	case errors.As(err, &netErr):
		return fmt.Errorf("pull %s: %w", name, &mappedError{err, errdefs.ErrUnavailable})
	}
	return wrap(err, "pull %s", name)
}

// ImageStatus implements runtime.ImageService.
func (r *Runtime) ImageStatus(ctx context.Context, ref string) (runtime.Image, error) {
	name, err := runtime.NormalizeImageRef(ref)
	if err != nil {
		return runtime.Image{}, err
	}
	ctx = r.ctx(ctx)
	img, err := r.client.GetImage(ctx, name)
	if err != nil {
		return runtime.Image{}, wrap(err, "image %q", name)
	}
	return describe(ctx, img)
}

// ListImages implements runtime.ImageService.
func (r *Runtime) ListImages(ctx context.Context) ([]runtime.Image, error) {
	ctx = r.ctx(ctx)
	imgs, err := r.client.ListImages(ctx)
	if err != nil {
		return nil, wrap(err, "list images")
	}
	out := make([]runtime.Image, 0, len(imgs))
	for _, img := range imgs {
		d, err := describe(ctx, img)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ExportImage implements runtime.ImageService: an OCI layout tar (with a
// docker manifest.json too) of this platform's content.
func (r *Runtime) ExportImage(ctx context.Context, ref string, w io.Writer) error {
	name, err := runtime.NormalizeImageRef(ref)
	if err != nil {
		return err
	}
	ctx = r.ctx(ctx)
	if _, err := r.client.ImageService().Get(ctx, name); err != nil {
		return wrap(err, "export image %q", name)
	}
	err = r.client.Export(ctx, w,
		archive.WithImage(r.client.ImageService(), name),
		archive.WithPlatform(platforms.DefaultStrict()))
	return wrap(err, "export image %q", name)
}

// RemoveImage implements runtime.ImageService.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	name, err := runtime.NormalizeImageRef(ref)
	if err != nil {
		return err
	}
	err = r.client.ImageService().Delete(r.ctx(ctx), name, images.SynchronousDelete())
	if err != nil && !errors.Is(wrap(err, ""), errdefs.ErrNotFound) {
		return wrap(err, "remove image %q", name)
	}
	return nil
}
