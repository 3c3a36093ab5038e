package openapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	openapiv2 "github.com/google/gnostic-models/openapiv2"
	openapiv3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"

	"github.com/shoalproject/shoal/kubeapi/openapi"
)

// get asks the handler for path with the given headers; the answer's
// body is as sent (gzipped if it says so).
func get(t *testing.T, h http.Handler, path string, headers ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

// body reads an answer, gunzipping it if it is gzipped.
func body(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		r, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if data, err = io.ReadAll(r); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

func TestV2IsJSONUnlessProtobufIsAsked(t *testing.T) {
	h := &openapi.Handler{}
	for _, accept := range []string{"", "*/*", "application/json", "application/json, */*"} {
		resp := get(t, h, "/openapi/v2", "Accept", accept)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("Accept %q: %d %s", accept, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var doc struct {
			Swagger string `json:"swagger"`
		}
		if err := json.Unmarshal(body(t, resp), &doc); err != nil || doc.Swagger != "2.0" {
			t.Fatalf("Accept %q: not a swagger 2.0 document (%v)", accept, err)
		}
	}
	// client-go's discovery asks exactly this, and only this.
	for _, accept := range []string{
		"application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
		"application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
		"application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json;q=0.5",
	} {
		resp := get(t, h, "/openapi/v2", "Accept", accept)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/com.github.proto-openapi.spec.v2.v1.0+protobuf" {
			t.Fatalf("Accept %q: %d %s", accept, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var doc openapiv2.Document
		if err := proto.Unmarshal(body(t, resp), &doc); err != nil || doc.Swagger != "2.0" {
			t.Fatalf("Accept %q: not a protobuf swagger 2.0 document (%v)", accept, err)
		}
	}
	if resp := get(t, h, "/openapi/v2", "Accept", "text/html"); resp.StatusCode != http.StatusNotAcceptable {
		t.Errorf("Accept text/html: %d, want 406", resp.StatusCode)
	}
	if resp := get(t, h, "/openapi/v2", "Accept", "application/json;q=0"); resp.StatusCode != http.StatusNotAcceptable {
		t.Errorf("Accept application/json;q=0: %d, want 406", resp.StatusCode)
	}
}

func TestV2HasAnETagAndHonoursIfNoneMatch(t *testing.T) {
	h := &openapi.Handler{}
	first := get(t, h, "/openapi/v2")
	etag := first.Header.Get("Etag")
	if len(etag) != 130 || !strings.HasPrefix(etag, `"`) { // a quoted SHA-512
		t.Fatalf("ETag %q", etag)
	}
	if again := get(t, h, "/openapi/v2", "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match the ETag: %d, want 304", again.StatusCode)
	}
	if other := get(t, h, "/openapi/v2", "If-None-Match", `"other"`); other.StatusCode != http.StatusOK {
		t.Errorf("If-None-Match another ETag: %d, want 200", other.StatusCode)
	}
	proto := get(t, h, "/openapi/v2", "Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
	if proto.Header.Get("Etag") != etag || !strings.Contains(proto.Header.Get("Vary"), "Accept") {
		t.Errorf("protobuf answer: ETag %q Vary %q; want the JSON's ETag, varying on Accept", proto.Header.Get("Etag"), proto.Header.Get("Vary"))
	}
}

func TestDocumentsGoGzippedToClientsThatTakeGzip(t *testing.T) {
	h := &openapi.Handler{}
	gz := get(t, h, "/openapi/v3/apis/apps/v1", "Accept-Encoding", "gzip, deflate")
	plain := get(t, h, "/openapi/v3/apis/apps/v1", "Accept-Encoding", "gzip;q=0, identity")
	if gz.Header.Get("Content-Encoding") != "gzip" || plain.Header.Get("Content-Encoding") != "" {
		t.Fatalf("Content-Encoding %q and %q; want gzip and none", gz.Header.Get("Content-Encoding"), plain.Header.Get("Content-Encoding"))
	}
	a, b := body(t, gz), body(t, plain)
	if !bytes.Equal(a, b) || len(a) == 0 {
		t.Errorf("the gzipped and plain answers differ (%d and %d bytes)", len(a), len(b))
	}
	if gz.Header.Get("Etag") != plain.Header.Get("Etag") {
		t.Error("the gzipped and plain answers have different ETags")
	}
}

// TestV3DiscoveryListsEveryDocumentByHash: /openapi/v3 gives each
// document's URL with its hash, and the document at that URL is
// immutable; another hash redirects to the current one.
func TestV3DiscoveryListsEveryDocumentByHash(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	h := &openapi.Handler{Now: func() time.Time { return now }}
	resp := get(t, h, "/openapi/v3")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Etag") == "" {
		t.Fatalf("/openapi/v3: %d %s etag %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Etag"))
	}
	var discovery struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body(t, resp), &discovery); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"api", "api/v1", "apis", "apis/apps", "apis/apps/v1", "apis/coordination.k8s.io/v1", "version"} {
		if _, ok := discovery.Paths[want]; !ok {
			t.Errorf("/openapi/v3 does not list %s (lists %v)", want, discovery.Paths)
		}
	}
	gvs, err := openapi.V3Paths()
	if err != nil || len(gvs) != len(discovery.Paths) {
		t.Fatalf("V3Paths %v (%v), discovery lists %d", gvs, err, len(discovery.Paths))
	}
	for gv, p := range discovery.Paths {
		if !strings.HasPrefix(p.ServerRelativeURL, "/openapi/v3/"+gv+"?hash=") {
			t.Errorf("%s: URL %s", gv, p.ServerRelativeURL)
			continue
		}
		doc := get(t, h, p.ServerRelativeURL)
		if doc.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", p.ServerRelativeURL, doc.StatusCode)
			continue
		}
		if doc.Header.Get("Cache-Control") != "public, immutable" || doc.Header.Get("Expires") != "Thu, 02 Jan 2031 03:04:05 GMT" {
			t.Errorf("%s: Cache-Control %q, Expires %q", gv, doc.Header.Get("Cache-Control"), doc.Header.Get("Expires"))
		}
		hash := p.ServerRelativeURL[strings.Index(p.ServerRelativeURL, "hash=")+len("hash="):]
		if doc.Header.Get("Etag") != strconv.Quote(hash) {
			t.Errorf("%s: ETag %s, hash %s", gv, doc.Header.Get("Etag"), hash)
		}
		var v3 struct {
			OpenAPI string `json:"openapi"`
		}
		if err := json.Unmarshal(body(t, doc), &v3); err != nil || v3.OpenAPI != "3.0.0" {
			t.Errorf("%s: not an OpenAPI 3.0.0 document (%v)", gv, err)
		}
	}

	stale := get(t, h, "/openapi/v3/apis/apps/v1?hash=0123")
	if stale.StatusCode != http.StatusMovedPermanently || stale.Header.Get("Location") != discovery.Paths["apis/apps/v1"].ServerRelativeURL {
		t.Errorf("a stale hash: %d to %q, want 301 to %s", stale.StatusCode, stale.Header.Get("Location"), discovery.Paths["apis/apps/v1"].ServerRelativeURL)
	}
	unhashed := get(t, h, "/openapi/v3/apis/apps/v1")
	if unhashed.StatusCode != http.StatusOK || unhashed.Header.Get("Cache-Control") != "" {
		t.Errorf("without a hash: %d, Cache-Control %q; want 200 and no caching forever", unhashed.StatusCode, unhashed.Header.Get("Cache-Control"))
	}
	if again := get(t, h, "/openapi/v3", "If-None-Match", resp.Header.Get("Etag")); again.StatusCode != http.StatusNotModified {
		t.Errorf("/openapi/v3 If-None-Match its ETag: %d, want 304", again.StatusCode)
	}
}

func TestV3IsProtobufWhenAsked(t *testing.T) {
	h := &openapi.Handler{}
	for _, accept := range []string{"application/com.github.proto-openapi.spec.v3@v1.0+protobuf", "application/com.github.proto-openapi.spec.v3.v1.0+protobuf"} {
		resp := get(t, h, "/openapi/v3/api/v1", "Accept", accept)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/com.github.proto-openapi.spec.v3.v1.0+protobuf" {
			t.Fatalf("Accept %s: %d %s", accept, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var doc openapiv3.Document
		if err := proto.Unmarshal(body(t, resp), &doc); err != nil || doc.Openapi != "3.0.0" || doc.Paths == nil {
			t.Fatalf("Accept %s: not a protobuf OpenAPI 3 document (%v)", accept, err)
		}
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	h := &openapi.Handler{}
	for _, path := range []string{"/openapi/v3/apis/batch/v1", "/openapi/v4", "/openapi/v2/extra"} {
		if resp := get(t, h, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/openapi/v2", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", w.Code)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodHead, "/openapi/v2", nil))
	if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Etag") == "" {
		t.Errorf("HEAD: %d, %d bytes, ETag %q", w.Code, w.Body.Len(), w.Header().Get("Etag"))
	}
}
