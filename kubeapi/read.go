package kubeapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shoalproject/shoal/kubeapi/printers"
	"github.com/shoalproject/shoal/workload"
)

// The query parameters each verb takes, as kube-apiserver's option types
// name them. Any other parameter is refused: a parameter silently ignored
// can change what a request does (an ignored dryRun writes for real).
var (
	commonParams = []string{"pretty", "timeout"}
	getParams    = []string{"resourceVersion"}
	listParams   = []string{"labelSelector", "fieldSelector", "watch", "allowWatchBookmarks", "resourceVersion",
		"resourceVersionMatch", "timeoutSeconds", "limit", "continue", "sendInitialEvents", "includeObject"}
	writeParams  = []string{"dryRun", "fieldManager", "fieldValidation"}
	patchParams  = []string{"dryRun", "fieldManager", "fieldValidation", "force"}
	deleteParams = []string{"dryRun", "gracePeriodSeconds", "propagationPolicy", "orphanDependents",
		"ignoreStoreReadErrorWithClusterBreakingPotential"}
)

// checkParams refuses a query parameter the verb does not take.
func checkParams(q url.Values, allowed ...[]string) error {
	ok := map[string]bool{}
	for _, set := range append(allowed, commonParams) {
		for _, p := range set {
			ok[p] = true
		}
	}
	var bad []string
	for k := range q {
		if !ok[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return badRequest("unsupported query parameter(s): %s", strings.Join(bad, ", "))
}

// readOptions turns a get's or list's resourceVersion into how fresh the
// read must be: "" is the latest state, "0" any state; another version
// (NotOlderThan, the default match) is served the latest state too, which
// is never older.
func readOptions(rv, match string) (ReadOptions, error) {
	switch match {
	case "", string(metav1.ResourceVersionMatchNotOlderThan):
		if match != "" && rv == "" {
			return ReadOptions{}, badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided")
		}
	case string(metav1.ResourceVersionMatchExact):
		if rv == "" || rv == "0" {
			return ReadOptions{}, badRequest("resourceVersionMatch \"exact\" is forbidden for resourceVersion %q", rv)
		}
	default:
		return ReadOptions{}, badRequest("resourceVersionMatch: Unsupported value: %q: supported values: \"Exact\", \"NotOlderThan\"", match)
	}
	return ReadOptions{Consistent: rv != "0"}, nil
}

func (s *Server) get(w http.ResponseWriter, q *request) {
	v := q.r.URL.Query()
	if err := checkParams(v, getParams, []string{"includeObject"}); err != nil {
		s.writeError(w, q.r, err)
		return
	}
	ro, err := readOptions(v.Get("resourceVersion"), "")
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	obj, err := s.cfg.Store.Get(q.ctx(), q.res, q.namespace, q.name, ro)
	if err != nil {
		s.writeErrorFor(w, q, err)
		return
	}
	s.writeObject(w, q, http.StatusOK, obj)
}

// continueToken is what a page's metadata.continue carries: the version
// the first page was read at and the key of the last object given.
type continueToken struct {
	ResourceVersion string `json:"rv"`
	After           string `json:"start"`
}

func encodeContinue(t continueToken) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(s string) (continueToken, error) {
	var t continueToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.After == "" {
		return t, badRequest("continue: invalid value %q: the continue token is not one this server issued", s)
	}
	return t, nil
}

// listQuery is a list's parsed parameters.
type listQuery struct {
	opts   metav1.ListOptions
	labels labels.Selector
	fields fields.Selector
	token  continueToken
}

func (s *Server) parseList(q *request) (listQuery, error) {
	var lq listQuery
	v := q.r.URL.Query()
	if err := checkParams(v, listParams); err != nil {
		return lq, err
	}
	if err := codecs().params.DecodeParameters(v, schema.GroupVersion{Version: "v1"}, &lq.opts); err != nil {
		return lq, badRequest("%v", err)
	}
	var err error
	if lq.labels, err = labels.Parse(lq.opts.LabelSelector); err != nil {
		return lq, badRequest("unable to parse requirement: %v", err)
	}
	if lq.fields, err = fields.ParseSelector(lq.opts.FieldSelector); err != nil {
		return lq, badRequest("%v", err)
	}
	for _, r := range lq.fields.Requirements() {
		if !fieldSupported(q.res, r.Field) {
			return lq, badRequest("field label not supported: %s", r.Field)
		}
	}
	if lq.opts.Continue != "" {
		if lq.token, err = decodeContinue(lq.opts.Continue); err != nil {
			return lq, err
		}
		if lq.opts.ResourceVersion != "" && lq.opts.ResourceVersion != "0" {
			return lq, badRequest("specifying resource version is not allowed when using continue")
		}
	}
	if lq.opts.Limit < 0 {
		return lq, badRequest("limit: Invalid value: %d: must be greater than or equal to 0", lq.opts.Limit)
	}
	return lq, nil
}

// selected reports whether an object passes a list's field selector (the
// label selector the store has applied).
func (lq listQuery) selected(res *Resource, o workload.Object) bool {
	if lq.fields.Empty() {
		return true
	}
	return lq.fields.Matches(fieldSet(res, o))
}

func (s *Server) list(w http.ResponseWriter, q *request) {
	lq, err := s.parseList(q)
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	items, rv, next, err := s.listItems(q, lq)
	if err != nil {
		s.writeErrorFor(w, q, err)
		return
	}
	list := newList(q.res)
	if err := meta.SetList(list, toObjects(items)); err != nil {
		s.writeError(w, q.r, apierrors.NewInternalError(err))
		return
	}
	lm, _ := meta.ListAccessor(list)
	lm.SetResourceVersion(rv)
	lm.SetContinue(next)
	s.writeObject(w, q, http.StatusOK, list)
}

// listItems reads a list's page: the store's objects by label, filtered by
// field, up to the limit, with the version and the next page's token.
func (s *Server) listItems(q *request, lq listQuery) ([]workload.Object, string, string, error) {
	ro, err := readOptions(lq.opts.ResourceVersion, string(lq.opts.ResourceVersionMatch))
	if err != nil {
		return nil, "", "", err
	}
	limit := int(lq.opts.Limit)
	after := lq.token.After
	var out []workload.Object
	rv := lq.token.ResourceVersion
	for {
		// The field selector is applied here, not in the store: ask for
		// more than the limit's remainder so a page fills in a few reads.
		want := 0
		if limit > 0 {
			want = limit - len(out) + 1
			if !lq.fields.Empty() {
				want = max(want*4, 64)
			}
		}
		res, err := s.cfg.Store.List(q.ctx(), q.res, q.namespace, ListOptions{ReadOptions: ro, Labels: lq.labels, After: after, Limit: want})
		if err != nil {
			return nil, "", "", err
		}
		if rv == "" {
			rv = res.ResourceVersion
		}
		for _, o := range res.Items {
			if !lq.selected(q.res, o) {
				continue
			}
			if limit > 0 && len(out) == limit {
				// One more than the page: there is a next page.
				return out, rv, encodeContinue(continueToken{ResourceVersion: rv, After: keyOf(out[len(out)-1])}), nil
			}
			out = append(out, o)
		}
		if !res.More || len(res.Items) == 0 {
			return out, rv, "", nil
		}
		after = keyOf(res.Items[len(res.Items)-1])
	}
}

// keyOf is an object's "namespace/name" list key.
func keyOf(o workload.Object) string { return o.GetNamespace() + "/" + o.GetName() }

func toObjects(items []workload.Object) []runtime.Object {
	out := make([]runtime.Object, len(items))
	for i, o := range items {
		out[i] = o
	}
	return out
}

// transform turns an answer into what the request's Accept asked for: a
// Table, PartialObjectMetadata(List), or the object itself.
func (s *Server) transform(q *request, as answerAs, obj runtime.Object) (runtime.Object, error) {
	switch as.as {
	case "":
		return obj, nil
	case "Table":
		return s.table(q, obj, true)
	case "PartialObjectMetadata":
		if meta.IsListType(obj) {
			return nil, notAcceptable("PartialObjectMetadata", "a list: ask for PartialObjectMetadataList")
		}
		return partialMetadata(obj)
	case "PartialObjectMetadataList":
		if !meta.IsListType(obj) {
			return nil, notAcceptable("PartialObjectMetadataList", "a single object: ask for PartialObjectMetadata")
		}
		items, err := meta.ExtractList(obj)
		if err != nil {
			return nil, err
		}
		out := &metav1.PartialObjectMetadataList{}
		if lm, err := meta.ListAccessor(obj); err == nil {
			out.ResourceVersion, out.Continue = lm.GetResourceVersion(), lm.GetContinue()
		}
		for _, it := range items {
			pm, err := partialMetadata(it)
			if err != nil {
				return nil, err
			}
			out.Items = append(out.Items, *pm)
		}
		return out, nil
	}
	return nil, notAcceptable(as.as, "an unknown transformation")
}

func notAcceptable(as, why string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusNotAcceptable,
		Reason: metav1.StatusReasonNotAcceptable, Message: fmt.Sprintf("as=%s is not acceptable for %s", as, why)}}
}

func partialMetadata(obj runtime.Object) (*metav1.PartialObjectMetadata, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	om := m.(metav1.ObjectMetaAccessor).GetObjectMeta().(*metav1.ObjectMeta)
	gvks, _, err := codecs().scheme.ObjectKinds(obj)
	if err != nil {
		return nil, err
	}
	pm := &metav1.PartialObjectMetadata{ObjectMeta: *om}
	pm.APIVersion, pm.Kind = gvks[0].GroupVersion().String(), gvks[0].Kind
	return pm, nil
}

// table is obj (one object or a list) as kubectl's table. withHeaders is
// false for a watch's later events, which kube-apiserver sends without
// column definitions.
func (s *Server) table(q *request, obj runtime.Object, withHeaders bool) (*metav1.Table, error) {
	include := metav1.IncludeMetadata
	if v := q.r.URL.Query().Get("includeObject"); v != "" {
		include = metav1.IncludeObjectPolicy(v)
		switch include {
		case metav1.IncludeNone, metav1.IncludeMetadata, metav1.IncludeObject:
		default:
			return nil, badRequest("includeObject: Unsupported value: %q: supported values: \"None\", \"Metadata\", \"Object\"", v)
		}
	}
	gk := q.res.GroupVersionKind.GroupKind()
	t := &metav1.Table{}
	if withHeaders {
		t.ColumnDefinitions = printers.Columns(gk)
	}
	var items []runtime.Object
	if meta.IsListType(obj) {
		var err error
		if items, err = meta.ExtractList(obj); err != nil {
			return nil, err
		}
		if lm, err := meta.ListAccessor(obj); err == nil {
			t.ResourceVersion, t.Continue = lm.GetResourceVersion(), lm.GetContinue()
		}
	} else {
		items = []runtime.Object{obj}
		if m, err := meta.Accessor(obj); err == nil {
			t.ResourceVersion = m.GetResourceVersion()
		}
	}
	now := s.cfg.Now()
	for _, it := range items {
		cells, err := printers.Cells(it, now)
		if err != nil {
			return nil, err
		}
		row := metav1.TableRow{Cells: cells}
		switch include {
		case metav1.IncludeMetadata:
			pm, err := partialMetadata(it)
			if err != nil {
				return nil, err
			}
			_ = setKind(pm, "v1")
			row.Object.Object = pm
		case metav1.IncludeObject:
			_ = setKind(it, "")
			row.Object.Object = it
		}
		t.Rows = append(t.Rows, row)
	}
	if t.Rows == nil {
		t.Rows = []metav1.TableRow{}
	}
	return t, nil
}
