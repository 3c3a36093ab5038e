package openapi

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/munnerz/goautoneg"

	"github.com/shoalproject/shoal/kubeapi/openapi/internal/specfiles"
)

// The media types of the documents. Clients ask for protobuf with the
// first ("@v1.0"); kube-apiserver answers with the second, and accepts
// both.
const (
	mediaJSON         = "application/json"
	mediaV2Protobuf   = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	mediaV2ProtobufV  = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
	mediaV3Protobuf   = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"
	mediaV3ProtobufV  = "application/com.github.proto-openapi.spec.v3.v1.0+protobuf"
	pathV2            = "/openapi/v2"
	pathV3            = "/openapi/v3"
	immutableLifetime = 365 * 24 * time.Hour
)

// Handler serves the embedded documents as kube-apiserver serves its own:
//
//   - /openapi/v2: the OpenAPI v2 document, as JSON or, when the Accept
//     header asks for it, as protobuf (client-go's discovery asks for
//     protobuf only);
//   - /openapi/v3: the list of OpenAPI v3 documents, each with a URL that
//     carries its content's hash;
//   - /openapi/v3/<path> ("api/v1", "apis/apps/v1"): a v3 document, as
//     JSON or protobuf. Asked with its current hash, the answer may be
//     cached forever; with another hash, it redirects to the current one.
//
// Every answer has an ETag and honours If-None-Match. The documents are
// sent as they are embedded, gzipped, to a client that accepts gzip (Go's
// HTTP client does); others get them decompressed. Nothing is decoded or
// kept in memory until a request asks for it.
//
// The zero value is ready to use. ServeHTTP is safe for concurrent use
// and does not block beyond writing the answer.
type Handler struct {
	// Now is the clock the Expires header of hash-addressed documents is
	// counted from; nil is time.Now.
	Now func() time.Time
}

var _ http.Handler = (*Handler)(nil)

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch p := r.URL.Path; {
	case p == pathV2:
		h.serveV2(w, r)
	case p == pathV3 || p == pathV3+"/":
		h.serveV3Discovery(w, r)
	case strings.HasPrefix(p, pathV3+"/"):
		h.serveV3(w, r, strings.TrimPrefix(p, pathV3+"/"))
	default:
		http.NotFound(w, r)
	}
}

// offer is a representation a document is served as.
type offer struct {
	accept      string // the media type an Accept clause names
	contentType string // the Content-Type answered
	file        string
}

func (h *Handler) serveV2(w http.ResponseWriter, r *http.Request) {
	ix, err := index()
	if err != nil {
		internalError(w, err)
		return
	}
	w.Header().Add("Vary", "Accept")
	o, ok := negotiate(r.Header.Get("Accept"), []offer{
		{accept: mediaJSON, contentType: mediaJSON, file: specfiles.V2JSON},
		{accept: mediaV2Protobuf, contentType: mediaV2ProtobufV, file: specfiles.V2Proto},
		{accept: mediaV2ProtobufV, contentType: mediaV2ProtobufV, file: specfiles.V2Proto},
	})
	if !ok {
		http.Error(w, "not acceptable: "+mediaJSON+" or "+mediaV2Protobuf, http.StatusNotAcceptable)
		return
	}
	serveFile(w, r, o, ix.V2)
}

func (h *Handler) serveV3Discovery(w http.ResponseWriter, r *http.Request) {
	d, err := discovery()
	if err != nil {
		internalError(w, err)
		return
	}
	w.Header().Set("Content-Type", mediaJSON)
	w.Header().Set("Etag", strconv.Quote(d.etag))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(d.body))
}

func (h *Handler) serveV3(w http.ResponseWriter, r *http.Request, gv string) {
	ix, err := index()
	if err != nil {
		internalError(w, err)
		return
	}
	etag, ok := ix.V3[gv]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Add("Vary", "Accept")
	o, ok := negotiate(r.Header.Get("Accept"), []offer{
		{accept: mediaJSON, contentType: mediaJSON, file: specfiles.V3JSON(gv)},
		{accept: mediaV3ProtobufV, contentType: mediaV3ProtobufV, file: specfiles.V3Proto(gv)},
		{accept: mediaV3Protobuf, contentType: mediaV3ProtobufV, file: specfiles.V3Proto(gv)},
	})
	if !ok {
		http.Error(w, "not acceptable: "+mediaJSON+" or "+mediaV3Protobuf, http.StatusNotAcceptable)
		return
	}
	if hash := r.URL.Query().Get("hash"); hash != "" {
		if hash != etag {
			http.Redirect(w, r, serverRelativeURL(gv, etag), http.StatusMovedPermanently)
			return
		}
		now := time.Now
		if h.Now != nil {
			now = h.Now
		}
		w.Header().Set("Cache-Control", "public, immutable")
		w.Header().Set("Expires", now().Add(immutableLifetime).UTC().Format(http.TimeFormat))
	}
	serveFile(w, r, o, etag)
}

// negotiate picks the first offer the Accept header's clauses, best
// first, take; an empty header takes anything.
func negotiate(accept string, offers []offer) (offer, bool) {
	if accept == "" {
		accept = "*/*"
	}
	for _, c := range goautoneg.ParseAccept(accept) {
		if c.Q == 0 {
			continue
		}
		for _, o := range offers {
			typ, sub, _ := strings.Cut(o.accept, "/")
			if (c.Type == typ || c.Type == "*") && (c.SubType == sub || c.SubType == "*") {
				return o, true
			}
		}
	}
	return offer{}, false
}

// serveFile answers with a document, gzipped as embedded if the client
// takes gzip, decompressed if not.
func serveFile(w http.ResponseWriter, r *http.Request, o offer, etag string) {
	h := w.Header()
	h.Set("Content-Type", o.contentType)
	h.Set("Etag", strconv.Quote(etag))
	h.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		f, err := open(o.file)
		if err != nil {
			internalError(w, err)
			return
		}
		h.Set("Content-Encoding", "gzip")
		http.ServeContent(w, r, "", time.Time{}, f)
		return
	}
	body, err := gunzip(o.file)
	if err != nil {
		internalError(w, err)
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reads an Accept-Encoding header: does it take gzip (or
// anything, "*") with a quality above zero?
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if coding = strings.ToLower(strings.TrimSpace(coding)); coding != "gzip" && coding != "*" {
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if q, err := strconv.ParseFloat(v, 64); err != nil || q == 0 {
				continue
			}
		}
		return true
	}
	return false
}

// internalError answers when the binary's own documents cannot be read:
// a broken build, not a bad request.
func internalError(w http.ResponseWriter, err error) {
	http.Error(w, "OpenAPI documents: "+err.Error(), http.StatusInternalServerError)
}
