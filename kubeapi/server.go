package kubeapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/shoalproject/shoal/workload"
)

// Config wires a Server.
type Config struct {
	Store Store
	// Streams serves pods' log, exec, attach and port-forward; nil answers
	// them 404.
	Streams Streams
	// Version is what /version reports (GitVersion "v1.37.0-shoal...").
	Version VersionInfo
	// OpenAPI, when set, serves /openapi/v2 and /openapi/v3.
	OpenAPI http.Handler
	// Schemas returns the OpenAPI schemas of the served kinds, by
	// definition name, for managed fields and server-side apply; nil
	// leaves managedFields alone and refuses apply patches.
	Schemas func() (map[string]*spec.Schema, error)
	// Tokens, when set, serves ServiceAccounts' token subresource
	// (TokenRequest, as `kubectl create token` posts it); nil answers 404.
	Tokens TokenIssuer
	Now    func() time.Time
	NewUID func() types.UID
	Logger *slog.Logger
}

// TokenIssuer issues service account tokens: for the account ns/name, for
// audiences (none: the cluster's API), bound to a pod when boundPod names
// one, meant to expire after ttl. It returns the token and its expiry.
type TokenIssuer interface {
	IssueToken(ctx context.Context, ns, name string, audiences []string, boundPod string, ttl time.Duration) (string, time.Time, error)
}

// Server is the Kubernetes API for the served resources, over a Store. It
// does not authenticate: its caller has (every request it sees is allowed).
type Server struct {
	cfg       Config
	log       *slog.Logger
	resources []Resource
	byPath    map[string]*Resource // "apps/v1/deployments"
	fms       fieldManagers
}

// New builds a Server.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "kubeapi"), resources: Resources(), byPath: map[string]*Resource{}}
	for i := range s.resources {
		r := &s.resources[i]
		s.byPath[r.GroupVersionKind.GroupVersion().String()+"/"+r.Plural] = r
	}
	return s
}

// Handles reports whether a path is the Kubernetes API's: /api, /apis,
// /version, /openapi.
func Handles(path string) bool {
	for _, p := range []string{"/api", "/apis", "/openapi"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return path == "/version" || path == "/version/"
}

// request is what a request's path and method name, as kube-apiserver's
// RequestInfo: a verb on a resource, its namespace, name and subresource.
type request struct {
	r           *http.Request
	res         *Resource
	verb        string // get list watch create update patch delete deletecollection
	namespace   string
	name        string
	subresource string
}

func (q *request) gr() schema.GroupResource {
	return schema.GroupResource{Group: q.res.GroupVersionKind.Group, Resource: q.res.Plural}
}

// namespaceSubresources are the parts of a namespace, not resources in it.
var namespaceSubresources = map[string]bool{"status": true, "finalize": true}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "/version":
		s.serveVersion(w, r)
		return
	case path == "/openapi" || strings.HasPrefix(path, "/openapi/"):
		if s.cfg.OpenAPI != nil {
			s.cfg.OpenAPI.ServeHTTP(w, r)
			return
		}
	case path == "/api":
		s.serveLegacyVersions(w, r)
		return
	case path == "/apis":
		s.serveGroups(w, r)
		return
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var gv schema.GroupVersion
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		gv, parts = schema.GroupVersion{Version: parts[1]}, parts[2:]
	case len(parts) == 2 && parts[0] == "apis":
		s.serveGroup(w, r, parts[1])
		return
	case len(parts) >= 3 && parts[0] == "apis":
		gv, parts = schema.GroupVersion{Group: parts[1], Version: parts[2]}, parts[3:]
	default:
		s.writeError(w, r, apierrors.NewNotFound(schema.GroupResource{}, ""))
		return
	}
	if len(parts) == 0 {
		s.serveResourceList(w, r, gv)
		return
	}
	q := &request{r: r}
	watchPath := false
	if parts[0] == "watch" { // the deprecated /watch/ paths
		watchPath, parts = true, parts[1:]
	}
	if len(parts) > 0 && parts[0] == "namespaces" && len(parts) > 1 {
		q.namespace = parts[1]
		if len(parts) > 2 && !namespaceSubresources[parts[2]] {
			parts = parts[2:]
		}
	}
	if len(parts) == 0 || len(parts) > 3 {
		s.writeError(w, r, apierrors.NewNotFound(schema.GroupResource{}, ""))
		return
	}
	res, ok := s.byPath[gv.String()+"/"+parts[0]]
	if !ok {
		s.writeError(w, r, newStatus(http.StatusNotFound, metav1.StatusReasonNotFound,
			fmt.Sprintf("the server could not find the requested resource (%s %s)", r.Method, r.URL.Path), schema.GroupResource{Group: gv.Group, Resource: parts[0]}, ""))
		return
	}
	q.res = res
	if len(parts) > 1 {
		q.name = parts[1]
	}
	if len(parts) > 2 {
		q.subresource = parts[2]
	}
	if res.GroupVersionKind.Kind == "Namespace" {
		q.namespace = "" // a namespace's own name is its name, not a namespace
	} else if !res.Namespaced && q.namespace != "" {
		s.writeError(w, r, apierrors.NewNotFound(q.gr(), q.name))
		return
	}
	watching := watchPath || isTrue(r.URL.Query().Get("watch"))
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case watching:
			q.verb = "watch"
		case q.name == "":
			q.verb = "list"
		default:
			q.verb = "get"
		}
	case http.MethodPost:
		q.verb = "create"
	case http.MethodPut:
		q.verb = "update"
	case http.MethodPatch:
		q.verb = "patch"
	case http.MethodDelete:
		q.verb = "delete"
		if q.name == "" {
			q.verb = "deletecollection"
		}
	default:
		s.writeError(w, r, apierrors.NewMethodNotSupported(q.gr(), r.Method))
		return
	}
	s.dispatch(w, q)
}

func isTrue(v string) bool { return v == "true" || v == "1" }

// dispatch runs a parsed request's verb.
func (s *Server) dispatch(w http.ResponseWriter, q *request) {
	if q.subresource != "" {
		s.serveSubresource(w, q)
		return
	}
	if (q.verb == "create" && q.name != "") || ((q.verb == "update" || q.verb == "patch") && q.name == "") {
		s.writeError(w, q.r, apierrors.NewMethodNotSupported(q.gr(), q.verb))
		return
	}
	if !q.res.Allows(q.verb) {
		s.writeError(w, q.r, apierrors.NewMethodNotSupported(q.gr(), q.verb))
		return
	}
	switch q.verb {
	case "get":
		s.get(w, q)
	case "list":
		s.list(w, q)
	case "watch":
		s.watch(w, q)
	case "create":
		s.create(w, q)
	case "update":
		s.update(w, q)
	case "patch":
		s.patch(w, q)
	case "delete":
		s.delete(w, q)
	case "deletecollection":
		s.deleteCollection(w, q)
	}
}

// writeObject answers with obj (or, as the request asked, its table or
// metadata), encoded as negotiated.
func (s *Server) writeObject(w http.ResponseWriter, q *request, status int, obj runtime.Object) {
	as, err := negotiate(q.r, false)
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	out, err := s.transform(q, as, obj)
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	s.encode(w, q.r, as, status, out)
}

// encode writes obj with its apiVersion and kind set from the scheme.
func (s *Server) encode(w http.ResponseWriter, r *http.Request, as answerAs, status int, obj runtime.Object) {
	if err := setKind(obj, as.version); err != nil {
		s.log.Error("answer of no known kind", "type", fmt.Sprintf("%T", obj), "err", err)
		status, obj = http.StatusInternalServerError, &apierrors.NewInternalError(err).ErrStatus
		_ = setKind(obj, "")
	}
	w.Header().Set("Content-Type", as.info.MediaType)
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if err := as.serializer().Encode(obj, w); err != nil {
		s.log.Debug("answer not written", "path", r.URL.Path, "err", err)
	}
}

// setKind sets an object's apiVersion and kind from the scheme. metaVersion
// picks between meta.k8s.io versions for Table and the metadata kinds.
func setKind(obj runtime.Object, metaVersion string) error {
	switch obj.(type) {
	case *metav1.Status:
		obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "Status"})
		return nil
	case *metav1.Table, *metav1.PartialObjectMetadata, *metav1.PartialObjectMetadataList:
		if metaVersion == "" {
			metaVersion = "v1"
		}
		kind := strings.TrimPrefix(fmt.Sprintf("%T", obj), "*v1.")
		obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{Group: "meta.k8s.io", Version: metaVersion, Kind: kind})
		return nil
	}
	gvks, _, err := codecs().scheme.ObjectKinds(obj)
	if err != nil {
		return err
	}
	obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	return nil
}

// writeError answers with err as a Status.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	WriteStatus(w, r, statusOf(err, schema.GroupResource{}, ""))
}

// writeErrorFor answers with err as a Status about the request's object.
func (s *Server) writeErrorFor(w http.ResponseWriter, q *request, err error) {
	st := statusOf(err, q.gr(), q.name)
	if st.ErrStatus.Code == http.StatusInternalServerError {
		s.log.Error("api call failed", "verb", q.verb, "resource", q.res.Plural, "namespace", q.namespace, "name", q.name, "err", err)
	}
	WriteStatus(w, q.r, st)
}

// WriteStatus answers with a Status error, in JSON or protobuf as the
// request accepts. The peer uses it for the errors it makes before the
// API (a 401).
func WriteStatus(w http.ResponseWriter, r *http.Request, se *apierrors.StatusError) {
	st := se.ErrStatus
	as, err := negotiate(r, false)
	if err != nil || as.as != "" {
		as, _ = negotiate(&http.Request{Header: http.Header{}, URL: r.URL}, false)
	}
	_ = setKind(&st, "")
	code := int(st.Code)
	if code == 0 {
		code = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", as.info.MediaType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = as.info.Serializer.Encode(&st, w)
}

// readBody reads a request body within the size Kubernetes allows.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 3*1024*1024))
	if err != nil {
		return nil, apierrors.NewRequestEntityTooLargeError(err.Error())
	}
	return b, nil
}

// newObject is an empty object of the resource's kind.
func newObject(res *Resource) workload.Object {
	o, err := codecs().scheme.New(res.GroupVersionKind)
	if err != nil {
		panic(fmt.Sprintf("kind %v is served but not in the scheme", res.GroupVersionKind))
	}
	return o.(workload.Object)
}

// newList is an empty list of the resource's kind.
func newList(res *Resource) runtime.Object {
	gvk := res.GroupVersionKind
	gvk.Kind += "List"
	o, err := codecs().scheme.New(gvk)
	if err != nil {
		panic(fmt.Sprintf("kind %v is served but not in the scheme", gvk))
	}
	return o
}

func (s *Server) now() metav1.Time { return metav1.NewTime(s.cfg.Now().UTC().Truncate(time.Second)) }

// ctx is the request's context.
func (q *request) ctx() context.Context { return q.r.Context() }
