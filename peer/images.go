package peer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"sync"

	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload/nodeagent"
	"github.com/shoalproject/shoal/workload/runtime"
)

// Images live in each peer's runtime. `shoal image import` puts one into
// the peer it is sent to; a peer that needs an image it lacks fetches it
// from a peer that has it (imageFetcher), over the peers' mutual TLS, and
// checks that what it imported has the digest the other peer announced.
//
//	POST /v1/images                      import an archive (the body) here
//	GET  /v1/images                      every live peer's images
//	GET  /v1/internal/images                 this peer's images (peers only)
//	GET  /v1/internal/images/export?ref=R    this peer's image R as an archive (peers only)

func (p *Peer) imageRoutes(mux *http.ServeMux) {
	mux.Handle("POST /v1/images", p.handle(anyone, p.importImage))
	mux.Handle("GET /v1/images", p.handle(anyone, p.clusterImages))
	mux.Handle("GET /v1/internal/images", p.handle(peersOnly, p.localImages))
	mux.Handle("GET /v1/internal/images/export", http.HandlerFunc(p.exportImage))
}

func (p *Peer) importImage(r *http.Request, _ principal) (any, error) {
	rt, err := p.localRuntime()
	if err != nil {
		return nil, err
	}
	imgs, err := rt.ImportImage(r.Context(), http.MaxBytesReader(nil, r.Body, 4<<30))
	if err != nil {
		return nil, err
	}
	out := api.ImageList{}
	for _, im := range imgs {
		out.Items = append(out.Items, api.ImageInfo{Name: im.Name, Digest: im.Digest, Size: im.Size, Peers: []string{p.cfg.Name}})
	}
	return out, nil
}

func (p *Peer) localImages(r *http.Request, _ principal) (any, error) {
	rt, err := p.localRuntime()
	if err != nil {
		return api.ImageList{}, nil // a peer without a runtime holds no images
	}
	imgs, err := rt.ListImages(r.Context())
	if err != nil {
		return nil, err
	}
	out := api.ImageList{Items: []api.ImageInfo{}}
	for _, im := range imgs {
		out.Items = append(out.Items, api.ImageInfo{Name: im.Name, Digest: im.Digest, Size: im.Size, Peers: []string{p.cfg.Name}})
	}
	return out, nil
}

// peerImages asks every live peer (this one included) for its images.
func (p *Peer) peerImages(ctx context.Context) map[string][]api.ImageInfo {
	var mu sync.Mutex
	out := map[string][]api.ImageInfo{}
	var wg sync.WaitGroup
	for _, m := range p.gossip.Members() {
		if m.Status != gossip.StatusAlive || m.Tags.API == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var l api.ImageList
			if err := p.peers.get(m.Tags.API).Do(ctx, http.MethodGet, "/v1/internal/images", nil, &l); err != nil {
				p.log.Debug("list a peer's images", "peer", m.Name, "err", err)
				return
			}
			mu.Lock()
			out[m.Name] = l.Items
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// clusterImages merges every peer's images: one row per name and digest,
// with the peers that hold it.
func (p *Peer) clusterImages(r *http.Request, _ principal) (any, error) {
	rows := map[string]*api.ImageInfo{}
	for peerName, imgs := range p.peerImages(r.Context()) {
		for _, im := range imgs {
			k := im.Name + "@" + im.Digest
			row, ok := rows[k]
			if !ok {
				row = &api.ImageInfo{Name: im.Name, Digest: im.Digest, Size: im.Size}
				rows[k] = row
			}
			row.Peers = append(row.Peers, peerName)
		}
	}
	out := api.ImageList{Items: []api.ImageInfo{}}
	for _, row := range rows {
		sort.Strings(row.Peers)
		out.Items = append(out.Items, *row)
	}
	sort.Slice(out.Items, func(i, j int) bool { return out.Items[i].Name < out.Items[j].Name })
	return out, nil
}

func (p *Peer) exportImage(w http.ResponseWriter, r *http.Request) {
	if !p.allowPeer(w, r) {
		return
	}
	rt, err := p.localRuntime()
	if err != nil {
		writeError(w, err)
		return
	}
	ref := r.URL.Query().Get("ref")
	if _, err := rt.ImageStatus(r.Context(), ref); err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	if err := rt.ExportImage(r.Context(), ref, w); err != nil {
		p.log.Warn("export image", "ref", ref, "err", err)
	}
}

// imageFetcher gets images for this peer's node agent from other peers.
type imageFetcher struct {
	p  *Peer
	rt runtime.Runtime
}

var _ nodeagent.ImageFetcher = imageFetcher{}

// Fetch imports ref from the first peer that has it, and checks that the
// imported image has the digest that peer announced.
func (f imageFetcher) Fetch(ctx context.Context, ref string) error {
	want, err := runtime.NormalizeImageRef(ref)
	if err != nil {
		return err
	}
	var last error = fmt.Errorf("image %q: no peer has it: %w", ref, errdefs.ErrNotFound)
	for peerName, imgs := range f.p.peerImages(ctx) {
		if peerName == f.p.cfg.Name {
			continue
		}
		for _, im := range imgs {
			if im.Name != want {
				continue
			}
			if err := f.fetchFrom(ctx, peerName, ref, im.Digest); err != nil {
				last = err
				continue
			}
			return nil
		}
	}
	return last
}

func (f imageFetcher) fetchFrom(ctx context.Context, peerName, ref, digest string) error {
	addr := ""
	for _, m := range f.p.gossip.Members() {
		if m.Name == peerName {
			addr = m.Tags.API
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/v1/internal/images/export?ref="+url.QueryEscape(ref), nil)
	if err != nil {
		return err
	}
	resp, err := f.p.streamClient.Do(req)
	if err != nil {
		return fmt.Errorf("image %q from %s: %v: %w", ref, peerName, err, errdefs.ErrUnavailable)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return fmt.Errorf("image %q from %s: HTTP %d: %s: %w", ref, peerName, resp.StatusCode, b, errdefs.ErrUnavailable)
	}
	imgs, err := f.rt.ImportImage(ctx, resp.Body)
	if err != nil {
		return fmt.Errorf("image %q from %s: %w", ref, peerName, err)
	}
	for _, im := range imgs {
		if im.Digest == digest {
			f.p.log.Info("fetched image from a peer", "image", ref, "peer", peerName, "digest", digest)
			return nil
		}
	}
	// Not what was announced: do not run it.
	for _, im := range imgs {
		_ = f.rt.RemoveImage(ctx, im.Name)
	}
	return fmt.Errorf("image %q from %s: digest is not the announced %s: %w", ref, peerName, digest, errdefs.ErrConflict)
}
