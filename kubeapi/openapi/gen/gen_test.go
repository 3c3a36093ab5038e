package main

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/common"

	"github.com/shoalproject/shoal/kubeapi"
)

// TestCommittedDocumentsAreFresh regenerates the documents into a
// temporary directory and compares them with the committed ones
// (../spec), so that a change to the served resources, to this generator
// or to the definitions cannot be merged without `make openapi`.
func TestCommittedDocumentsAreFresh(t *testing.T) {
	fresh := t.TempDir()
	if err := run(fresh); err != nil {
		t.Fatal(err)
	}
	want, got := readDir(t, fresh), readDir(t, filepath.Join("..", "spec"))
	var stale []string
	for name, data := range want {
		if old, ok := got[name]; !ok {
			stale = append(stale, name+" (missing)")
		} else if !bytes.Equal(old, data) {
			stale = append(stale, name+" (differs)")
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			stale = append(stale, name+" (no longer generated)")
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("the committed OpenAPI documents are stale; run `make openapi` and commit kubeapi/openapi/spec:\n  %v", stale)
	}
}

// readDir reads a spec directory, documents decompressed.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		data, err := readFile(path)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWriteLeavesUnchangedFilesAlone: regenerating the same documents
// rewrites nothing, so the committed gzip bytes do not churn.
func TestWriteLeavesUnchangedFilesAlone(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{"v2.json.gz": []byte(`{"swagger":"2.0"}`), "index.json": []byte(`{}`)}
	if err := write(dir, files); err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(dir, "v2.json.gz")
	if err := os.WriteFile(gz, otherGzip(t, []byte(`{"swagger":"2.0"}`)), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(gz)
	if err := write(dir, files); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(gz)
	if !bytes.Equal(before, after) {
		t.Error("write rewrote a file whose content had not changed")
	}
	if err := os.WriteFile(filepath.Join(dir, "v3__gone.json.gz"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := write(dir, files); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "v3__gone.json.gz")); !os.IsNotExist(err) {
		t.Error("write kept the document of a group version no longer served")
	}
}

// otherGzip compresses differently from write (fastest level, with a
// name in the header), so that a rewrite would show.
func otherGzip(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	w.Name = "other"
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestOperationIDAndTags(t *testing.T) {
	for _, tc := range []struct {
		path, operation, wantID, wantTag string
	}{
		{"/api/v1/namespaces/{namespace}/pods", "listNamespacedPod", "listCoreV1NamespacedPod", "core_v1"},
		{"/api/v1/namespaces/{namespace}/pods/{name}/exec", "connectGetNamespacedPodExec", "connectCoreV1GetNamespacedPodExec", "core_v1"},
		{"/apis/apps/v1/namespaces/{namespace}/deployments/{name}", "patchNamespacedDeployment", "patchAppsV1NamespacedDeployment", "apps_v1"},
		{"/apis/apps/v1/namespaces/{namespace}/deployments", "deletecollectionNamespacedDeployment", "deleteAppsV1CollectionNamespacedDeployment", "apps_v1"},
		{"/apis/coordination.k8s.io/v1/watch/leases", "watchLeaseListForAllNamespaces", "watchCoordinationV1LeaseListForAllNamespaces", "coordination_v1"},
		{"/apis/coordination.k8s.io/", "getAPIGroup", "getCoordinationAPIGroup", "coordination"},
		{"/api/", "getAPIVersions", "getCoreAPIVersions", "core"},
		{"/apis/", "getAPIVersions", "getAPIVersions", "apis"},
		{"/version/", "getCodeVersion", "getCodeVersion", "version"},
	} {
		id, tags, err := operationIDAndTags(&route{path: tc.path, operation: tc.operation})
		if err != nil {
			t.Errorf("%s %s: %v", tc.path, tc.operation, err)
			continue
		}
		if id != tc.wantID || !slices.Equal(tags, []string{tc.wantTag}) {
			t.Errorf("%s %s: got %s %v, want %s [%s]", tc.path, tc.operation, id, tags, tc.wantID, tc.wantTag)
		}
	}
	if _, _, err := operationIDAndTags(&route{path: "/api/v1/pods", operation: "frobPods"}); err == nil {
		t.Error("an operation without a verb was accepted")
	}
}

// TestObjectParams: query parameters come from the options' fields as
// kube-apiserver's AddObjectParams makes them.
func TestObjectParams(t *testing.T) {
	names := func(ps []common.Parameter) map[string]string {
		out := map[string]string{}
		for _, p := range ps {
			if p.Kind() != common.QueryParameterKind || p.Description() == "" {
				t.Errorf("%s: kind %v, description %q", p.Name(), p.Kind(), p.Description())
			}
			out[p.Name()] = p.DataType()
		}
		return out
	}
	list := names(objectParams(&metav1.ListOptions{}))
	for name, typ := range map[string]string{
		"labelSelector": "string", "fieldSelector": "string", "watch": "boolean", "allowWatchBookmarks": "boolean",
		"resourceVersion": "string", "resourceVersionMatch": "string", "timeoutSeconds": "integer",
		"limit": "integer", "continue": "string", "sendInitialEvents": "boolean",
	} {
		if list[name] != typ {
			t.Errorf("list parameter %s: type %q, want %q", name, list[name], typ)
		}
	}
	deleteCollection := names(objectParams(&metav1.ListOptions{}, "watch", "allowWatchBookmarks"))
	if _, ok := deleteCollection["watch"]; ok {
		t.Error("excluded parameter watch is there")
	}
	del := names(objectParams(&metav1.DeleteOptions{}))
	for name, typ := range map[string]string{"gracePeriodSeconds": "integer", "propagationPolicy": "string", "orphanDependents": "boolean", "dryRun": "string"} {
		if del[name] != typ {
			t.Errorf("delete parameter %s: type %q, want %q", name, del[name], typ)
		}
	}
	if _, ok := del["preconditions"]; ok {
		t.Error("a struct field (preconditions) became a query parameter")
	}
	patch := names(objectParams(&metav1.PatchOptions{}))
	for _, name := range []string{"dryRun", "fieldManager", "fieldValidation", "force"} {
		if _, ok := patch[name]; !ok {
			t.Errorf("patch has no %s parameter", name)
		}
	}
	exec := names(objectParams(&corev1.PodExecOptions{}))
	if exec["command"] != "string" || exec["tty"] != "boolean" {
		t.Errorf("exec parameters: %v", exec)
	}
	if _, ok := names(objectParams(&corev1.PodLogOptions{}))["sinceTime"]; ok {
		t.Error("log's sinceTime (a *metav1.Time, which kube-apiserver leaves out) became a parameter")
	}
}

func TestArticle(t *testing.T) {
	for noun, want := range map[string]string{"Pod": " a ", "Endpoints": " ", "Event": " an ", "Ingress": " an ", "ConfigMap": " a "} {
		if got := article(noun); got != want {
			t.Errorf("article(%q) = %q, want %q", noun, got, want)
		}
	}
}

// TestKindsToComeNeedNoCode: a kind added to the served resources gets
// its document, paths and definitions from the resource list alone.
func TestKindsToComeNeedNoCode(t *testing.T) {
	job := schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}
	resources := append(kubeapi.Resources(), kubeapi.Resource{
		GroupVersionKind: job, Plural: "jobs", Singular: "job", Namespaced: true,
		Verbs:        []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"},
		Subresources: []kubeapi.Subresource{{Name: "status", GroupVersionKind: job, Verbs: []string{"get", "patch", "update"}}},
	})
	docs, err := build(resources)
	if err != nil {
		t.Fatal(err)
	}
	batch, ok := docs.v3["apis/batch/v1"]
	if !ok {
		t.Fatalf("no apis/batch/v1 document (have %v)", maps.Keys(docs.v3))
	}
	for _, path := range []string{"/apis/batch/v1/", "/apis/batch/v1/namespaces/{namespace}/jobs", "/apis/batch/v1/namespaces/{namespace}/jobs/{name}/status", "/apis/batch/v1/watch/jobs"} {
		if _, ok := batch.Paths.Paths[path]; !ok {
			t.Errorf("no path %s", path)
		}
	}
	if op := batch.Paths.Paths["/apis/batch/v1/namespaces/{namespace}/jobs/{name}"].Patch; op == nil || op.OperationId != "patchBatchV1NamespacedJob" {
		t.Errorf("PATCH job: %+v", op)
	}
	if _, ok := docs.v3["apis/batch"]; !ok {
		t.Error("no apis/batch document")
	}
	if _, ok := docs.v2.Definitions["io.k8s.api.batch.v1.JobList"]; !ok {
		t.Error("no JobList definition")
	}
}

// TestAKindOpenAPIGenDidNotReadSaysWhatToDo: a served kind from a package
// not in openapi-gen's list fails the generator, which says where to add
// it.
func TestAKindOpenAPIGenDidNotReadSaysWhatToDo(t *testing.T) {
	ingress := schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}
	_, err := build([]kubeapi.Resource{{GroupVersionKind: ingress, Plural: "ingresses", Namespaced: true, Verbs: []string{"get", "list"}}})
	if err == nil || !strings.Contains(err.Error(), "io.k8s.api.networking.v1.Ingress") || !strings.Contains(err.Error(), "internal/definitions/doc.go") {
		t.Errorf("err = %v, want one naming the definition and internal/definitions/doc.go", err)
	}
}
