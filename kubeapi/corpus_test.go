package kubeapi_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/shoalproject/shoal/kubeapi"
	"github.com/shoalproject/shoal/kubeapi/memstore"
	"github.com/shoalproject/shoal/kubeapi/openapi"
)

// The manifest corpus (issue 21): testdata/corpus holds manifests, a file
// per theme, that between them set every field of the served kinds Shoal
// claims to take. Each document, in file order, is server-side applied to
// a fresh server, read back and found whole in what is stored (the fields
// the server adds, its defaults, aside), then applied again and found
// unchanged. testdata/corpus-invalid holds one wrong document a file, its
// first line "# want: <the error, naming the field>": each is refused.
func TestManifestCorpus(t *testing.T) {
	api := newCorpusAPI(t)
	applied := map[string]int{}
	files, err := filepath.Glob("testdata/corpus/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	sort.Strings(files)
	for _, file := range files {
		docs := readDocuments(t, file)
		for i, doc := range docs {
			kind, _ := doc["kind"].(string)
			name := fmt.Sprintf("%s/%d/%s/%s", filepath.Base(file), i, kind, nameOf(doc))
			t.Run(name, func(t *testing.T) {
				if api.applyValid(t, doc) {
					applied[kind]++
				}
			})
		}
	}
	kinds := make([]string, 0, len(applied))
	total := 0
	for k, n := range applied {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		total += n
	}
	sort.Strings(kinds)
	t.Logf("applied, read back whole and re-applied unchanged: %d documents (%s)", total, strings.Join(kinds, ", "))

	invalid, err := filepath.Glob("testdata/corpus-invalid/*.yaml")
	if err != nil || len(invalid) == 0 {
		t.Fatalf("no invalid corpus: %v", err)
	}
	refused := map[string]int{}
	for _, file := range invalid {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if kind := api.applyInvalid(t, file); kind != "" {
				refused[kind]++
			}
		})
	}
	kinds = kinds[:0]
	for k, n := range refused {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	t.Logf("invalid documents refused naming the field: %d (%s)", len(invalid), strings.Join(kinds, ", "))
}

// corpusAPI is a server over memstore, with the OpenAPI schemas that
// server-side apply needs, spoken to over plain HTTP as kubectl apply
// --server-side does.
type corpusAPI struct {
	url    string
	byKind map[string]kubeapi.Resource
}

func newCorpusAPI(t *testing.T) *corpusAPI {
	t.Helper()
	srv := kubeapi.New(kubeapi.Config{
		Store:   memstore.New(),
		Version: kubeapi.NewVersionInfo("v0.0.0-test", "p1", "test"),
		NewUID:  func() types.UID { return uuid.NewUUID() },
		Schemas: openapi.Schemas,
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	api := &corpusAPI{url: hs.URL, byKind: map[string]kubeapi.Resource{}}
	for _, r := range kubeapi.Resources() {
		api.byKind[r.GroupVersionKind.GroupVersion().String()+"/"+r.GroupVersionKind.Kind] = r
	}
	return api
}

// path is the URL path of the object doc describes.
func (api *corpusAPI) path(doc map[string]any) (string, error) {
	apiVersion, _ := doc["apiVersion"].(string)
	kind, _ := doc["kind"].(string)
	r, ok := api.byKind[apiVersion+"/"+kind]
	if !ok {
		return "", fmt.Errorf("%s %s is not served", apiVersion, kind)
	}
	p := "/api/" + apiVersion
	if g := r.GroupVersionKind.Group; g != "" {
		p = "/apis/" + apiVersion
	}
	if r.Namespaced {
		ns, _ := metadataOf(doc)["namespace"].(string)
		if ns == "" {
			ns = "default"
		}
		p += "/namespaces/" + ns
	}
	return p + "/" + r.Plural + "/" + nameOf(doc), nil
}

// apply sends doc as a server-side apply patch and returns the answer's
// status code and body.
func (api *corpusAPI) apply(path string, doc []byte) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPatch, api.url+path+"?fieldManager=corpus&force=true", bytes.NewReader(doc))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", string(types.ApplyYAMLPatchType))
	req.Header.Set("Accept", "application/json")
	return do(req)
}

func (api *corpusAPI) get(path string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, api.url+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	return do(req)
}

func do(req *http.Request) (int, []byte, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// applyValid applies doc, checks that what is stored holds all of it, and
// that applying it again changes nothing. It reports whether all went well.
func (api *corpusAPI) applyValid(t *testing.T, doc map[string]any) bool {
	t.Helper()
	path, err := api.path(doc)
	if err != nil {
		t.Error(err)
		return false
	}
	body, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	code, answer, err := api.apply(path, body)
	if err != nil || code != http.StatusCreated {
		t.Errorf("apply: %d %v: %s", code, err, answer)
		return false
	}
	code, answer, err = api.get(path)
	if err != nil || code != http.StatusOK {
		t.Errorf("get: %d %v: %s", code, err, answer)
		return false
	}
	stored, err := decodeJSON(answer)
	if err != nil {
		t.Fatal(err)
	}
	input, err := decodeJSON(mustJSON(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	canon, err := decodeJSON(typedJSON(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	diffs := subsetDiffs(input, stored, canon, "")
	for _, d := range diffs {
		t.Errorf("read back: %s", d)
	}
	rv, _ := metadataOf(stored)["resourceVersion"].(string)
	code, answer, err = api.apply(path, body)
	if err != nil || code != http.StatusOK {
		t.Errorf("re-apply: %d %v: %s", code, err, answer)
		return false
	}
	again, err := decodeJSON(answer)
	if err != nil {
		t.Fatal(err)
	}
	if rv2, _ := metadataOf(again)["resourceVersion"].(string); rv2 != rv {
		delete(metadataOf(stored), "resourceVersion")
		delete(metadataOf(again), "resourceVersion")
		t.Errorf("re-apply changed the object: resourceVersion %s, then %s: %s", rv, rv2,
			strings.Join(append(subsetDiffs(stored, again, stored, ""), subsetDiffs(again, stored, again, "")...), "; "))
		return false
	}
	return len(diffs) == 0
}

// applyInvalid applies the one document of file, checks that it is
// refused with the error its "# want:" line names, and that nothing was
// stored. It returns the document's kind when all went well.
func (api *corpusAPI) applyInvalid(t *testing.T, file string) string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	want, ok := strings.CutPrefix(first, "# want: ")
	if !ok || strings.TrimSpace(want) == "" {
		t.Fatalf("%s: the first line is not \"# want: <error>\"", file)
	}
	docs := readDocuments(t, file)
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents, want 1", file, len(docs))
	}
	path, err := api.path(docs[0])
	if err != nil {
		t.Fatal(err)
	}
	code, answer, err := api.apply(path, raw)
	if err != nil {
		t.Fatal(err)
	}
	var st metav1.Status
	if err := json.Unmarshal(answer, &st); err != nil || st.Kind != "Status" {
		t.Errorf("applied (%d), want a refusal: %s", code, answer)
		return ""
	}
	switch code {
	case http.StatusUnprocessableEntity, http.StatusBadRequest, http.StatusForbidden:
	default:
		t.Errorf("answered %d, want 422, 400 or 403: %s", code, st.Message)
		return ""
	}
	if !strings.Contains(st.Message, want) {
		t.Errorf("refused with\n\t%s\nwant it to contain\n\t%s", st.Message, want)
		return ""
	}
	if code, _, _ := api.get(path); code != http.StatusNotFound {
		t.Errorf("a refused document was stored: get answered %d", code)
	}
	kind, _ := docs[0]["kind"].(string)
	return kind
}

// readDocuments reads a file's YAML documents, skipping empty ones.
func readDocuments(t *testing.T, file string) []map[string]any {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	var docs []map[string]any
	for {
		chunk, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(chunk, &doc); err != nil {
			t.Fatalf("%s: document %d: %v", file, len(docs), err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeJSON decodes with numbers kept as written, so that large integers
// and quantities compare exactly.
func decodeJSON(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	err := d.Decode(&m)
	return m, err
}

func metadataOf(doc map[string]any) map[string]any {
	m, _ := doc["metadata"].(map[string]any)
	return m
}

func nameOf(doc map[string]any) string {
	n, _ := metadataOf(doc)["name"].(string)
	return n
}

// typedJSON is doc decoded into its Go type and encoded again: what the
// type can say of it. A false, "" or 0 that a field without a pointer
// omits (a PriorityClass's globalDefault: false) is not there, on the API's
// answers as in Kubernetes'.
func typedJSON(t *testing.T, doc map[string]any) []byte {
	t.Helper()
	apiVersion, _ := doc["apiVersion"].(string)
	kind, _ := doc["kind"].(string)
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := clientscheme.Scheme.New(gv.WithKind(kind))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(mustJSON(t, doc), obj); err != nil {
		t.Fatalf("%s %s: %v", kind, nameOf(doc), err)
	}
	return mustJSON(t, obj)
}

// subsetDiffs lists where in lies outside out: a map's every key must be
// in out's map with a value that holds in's, a list must have as many
// elements each holding in's, and scalars must be equal, quantities and
// numbers by value ("0.5" is "500m", 1 is "1"). A key may be missing from
// out only when its value is empty or zero and canon (in as its Go type
// writes it) lacks it too. A Secret's stringData, which the API folds into
// data, is looked for there.
func subsetDiffs(in, out, canon any, path string) []string {
	switch in := in.(type) {
	case map[string]any:
		om, ok := out.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v, want a map", orRoot(path), out)}
		}
		cm, _ := canon.(map[string]any)
		var diffs []string
		for _, k := range sortedKeys(in) {
			if path == "" && k == "stringData" && om["kind"] == "Secret" {
				diffs = append(diffs, stringDataDiffs(in[k], om["data"])...)
				continue
			}
			ov, ok := om[k]
			if !ok {
				if _, typed := cm[k]; !typed && isZero(in[k]) {
					continue // omitted by the type, as by Kubernetes
				}
				diffs = append(diffs, fmt.Sprintf("%s: missing, want %s", path+"."+k, show(in[k])))
				continue
			}
			diffs = append(diffs, subsetDiffs(in[k], ov, cm[k], path+"."+k)...)
		}
		return diffs
	case []any:
		ol, ok := out.([]any)
		if !ok || len(ol) != len(in) {
			return []string{fmt.Sprintf("%s: %s, want %s", orRoot(path), show(out), show(in))}
		}
		cl, _ := canon.([]any)
		var diffs []string
		for i := range in {
			var c any
			if i < len(cl) {
				c = cl[i]
			}
			diffs = append(diffs, subsetDiffs(in[i], ol[i], c, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return diffs
	}
	if !scalarEqual(in, out) {
		return []string{fmt.Sprintf("%s: %s, want %s", orRoot(path), show(out), show(in))}
	}
	return nil
}

// stringDataDiffs checks a Secret's stringData against its stored data.
func stringDataDiffs(in, data any) []string {
	sd, _ := in.(map[string]any)
	dm, _ := data.(map[string]any)
	var diffs []string
	for _, k := range sortedKeys(sd) {
		enc, _ := dm[k].(string)
		dec, err := base64.StdEncoding.DecodeString(enc)
		if want, _ := sd[k].(string); err != nil || string(dec) != want {
			diffs = append(diffs, fmt.Sprintf(".stringData.%s: data.%s is %q, want base64 of %q", k, k, enc, want))
		}
	}
	return diffs
}

func scalarEqual(in, out any) bool {
	if reflect.DeepEqual(in, out) {
		return true
	}
	a, aok := scalarText(in)
	b, bok := scalarText(out)
	if !aok || !bok {
		return false
	}
	if a == b {
		return true
	}
	qa, errA := resource.ParseQuantity(a)
	qb, errB := resource.ParseQuantity(b)
	return errA == nil && errB == nil && qa.Cmp(qb) == 0
}

func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	}
	return "", false
}

func isZero(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	case bool:
		return !v
	case string:
		return v == ""
	case json.Number:
		f, err := v.Float64()
		return err == nil && f == 0
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func orRoot(path string) string {
	if path == "" {
		return "."
	}
	return path
}

// The corpus comparison itself: what it lets pass (defaults, quantities
// in another form, a zero the type omits, stringData folded into data)
// and what it catches.
func TestCorpusSubsetComparison(t *testing.T) {
	cases := []struct {
		name, in, out, canon string
		diffs                int
	}{
		{"defaults added", `{"a":{"b":1}}`, `{"a":{"b":1,"c":2},"d":3}`, `{"a":{"b":1}}`, 0},
		{"quantity forms", `{"cpu":"0.5","mem":"1Gi","n":1}`, `{"cpu":"500m","mem":"1073741824","n":"1"}`, `{}`, 0},
		{"zero the type omits", `{"flag":false,"s":""}`, `{}`, `{}`, 0},
		{"zero the type keeps", `{"flag":false}`, `{}`, `{"flag":false}`, 1},
		{"changed value", `{"a":{"b":"x"}}`, `{"a":{"b":"y"}}`, `{}`, 1},
		{"missing key", `{"a":{"b":"x"}}`, `{"a":{}}`, `{}`, 1},
		{"list length", `{"l":[1,2]}`, `{"l":[1,2,3]}`, `{}`, 1},
		{"list element", `{"l":[{"k":"a"}]}`, `{"l":[{"k":"b"}]}`, `{}`, 1},
		{"different quantity", `{"cpu":"0.5"}`, `{"cpu":"50m"}`, `{}`, 1},
		{"stringData in data", `{"stringData":{"k":"hi"}}`, `{"kind":"Secret","data":{"k":"aGk="}}`, `{}`, 0},
		{"stringData lost", `{"stringData":{"k":"hi"}}`, `{"kind":"Secret","data":{"k":"aG8="}}`, `{}`, 1},
	}
	for _, c := range cases {
		in, err1 := decodeJSON([]byte(c.in))
		out, err2 := decodeJSON([]byte(c.out))
		canon, err3 := decodeJSON([]byte(c.canon))
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if d := subsetDiffs(in, out, canon, ""); len(d) != c.diffs {
			t.Errorf("%s: %d differences %q, want %d", c.name, len(d), d, c.diffs)
		}
	}
}
