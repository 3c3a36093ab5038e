package openapi

import (
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"sync"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/kubeapi/openapi/internal/specfiles"
)

//go:generate go run ./gen -dir spec

// specFS holds the documents the generator wrote, gzipped; see
// internal/specfiles for the layout. Embedded data is read-only memory
// of the binary: untouched, it costs no heap.
//
//go:embed spec
var specFS embed.FS

// open opens a file of the spec directory. The file reads the embedded
// bytes in place; nothing is copied.
func open(name string) (io.ReadSeeker, error) {
	f, err := specFS.Open("spec/" + name)
	if err != nil {
		return nil, err
	}
	return f.(io.ReadSeeker), nil
}

// gunzip reads a whole document, uncompressed.
func gunzip(name string) ([]byte, error) {
	f, err := open(name)
	if err != nil {
		return nil, err
	}
	r, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer r.Close()
	return io.ReadAll(r)
}

// index is the documents' ETags, read on first use.
var index = sync.OnceValues(func() (specfiles.Index, error) {
	var ix specfiles.Index
	data, err := fs.ReadFile(specFS, "spec/"+specfiles.IndexFile)
	if err != nil {
		return ix, err
	}
	if err := json.Unmarshal(data, &ix); err != nil {
		return ix, fmt.Errorf("%s: %w", specfiles.IndexFile, err)
	}
	return ix, nil
})

// discoveryDocument is /openapi/v3: each v3 document's path and the URL
// that names its current content, as kube-apiserver's handler3 writes it.
type discoveryDocument struct {
	Paths map[string]discoveryPath `json:"paths"`
}

type discoveryPath struct {
	ServerRelativeURL string `json:"serverRelativeURL"`
}

// serverRelativeURL is where the v3 document at gv is, as of etag:
// "/openapi/v3/apis/apps/v1?hash=<etag>".
func serverRelativeURL(gv, etag string) string {
	u := url.URL{Path: path.Join("/openapi/v3", gv), RawQuery: url.Values{"hash": {etag}}.Encode()}
	return u.String()
}

// discovery is /openapi/v3's body and ETag, made on first use.
var discovery = sync.OnceValues(func() (served, error) {
	ix, err := index()
	if err != nil {
		return served{}, err
	}
	d := discoveryDocument{Paths: map[string]discoveryPath{}}
	for gv, etag := range ix.V3 {
		d.Paths[gv] = discoveryPath{ServerRelativeURL: serverRelativeURL(gv, etag)}
	}
	body, err := json.Marshal(d)
	if err != nil {
		return served{}, err
	}
	return served{body: body, etag: specfiles.ETag(body)}, nil
})

type served struct {
	body []byte
	etag string
}

// V3Paths are the paths of the OpenAPI v3 documents, sorted: "api",
// "api/v1", "apis", "apis/apps", "apis/apps/v1", ..., "version".
func V3Paths() ([]string, error) {
	ix, err := index()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ix.V3))
	for gv := range ix.V3 {
		out = append(out, gv)
	}
	sort.Strings(out)
	return out, nil
}

// V2 returns the OpenAPI v2 document, as JSON. It decompresses it on
// each call: keep what you need of it, not the bytes.
func V2() ([]byte, error) { return gunzip(specfiles.V2JSON) }

// V3 returns the OpenAPI v3 document at path ("apis/apps/v1"), as JSON,
// decompressing it on each call.
func V3(path string) ([]byte, error) {
	ix, err := index()
	if err != nil {
		return nil, err
	}
	if _, ok := ix.V3[path]; !ok {
		return nil, fmt.Errorf("OpenAPI v3 document %q: %w", path, errdefs.ErrNotFound)
	}
	return gunzip(specfiles.V3JSON(path))
}
