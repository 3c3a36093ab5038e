package openapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/shoalproject/shoal/kubeapi"
	"github.com/shoalproject/shoal/kubeapi/openapi"
)

func v2Document(t *testing.T) *spec.Swagger {
	t.Helper()
	data, err := openapi.V2()
	if err != nil {
		t.Fatal(err)
	}
	var doc spec.Swagger
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("the v2 document does not parse: %v", err)
	}
	return &doc
}

func v3Document(t *testing.T, path string) *spec3.OpenAPI {
	t.Helper()
	data, err := openapi.V3(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc spec3.OpenAPI
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("the v3 document %s does not parse: %v", path, err)
	}
	return &doc
}

// gvPath is a group version's document path: "api/v1", "apis/apps/v1".
func gvPath(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/" + gv.Version
	}
	return "apis/" + gv.String()
}

// definitionName is a kind's definition: "io.k8s.api.apps.v1.Deployment".
func definitionName(gvk schema.GroupVersionKind) string {
	group := strings.TrimSuffix(gvk.Group, ".k8s.io")
	if group == "" {
		group = "core"
	}
	return "io.k8s.api." + group + "." + gvk.Version + "." + gvk.Kind
}

// gvks reads an x-kubernetes-group-version-kind extension: a list on a
// definition, one on an operation.
func gvks(ext spec.Extensions) []schema.GroupVersionKind {
	raw, ok := ext["x-kubernetes-group-version-kind"]
	if !ok {
		return nil
	}
	data, _ := json.Marshal(raw)
	var list []map[string]string
	if json.Unmarshal(data, &list) != nil {
		var one map[string]string
		if json.Unmarshal(data, &one) != nil {
			return nil
		}
		list = append(list, one)
	}
	var out []schema.GroupVersionKind
	for _, m := range list {
		out = append(out, schema.GroupVersionKind{Group: m["group"], Version: m["version"], Kind: m["kind"]})
	}
	return out
}

func TestEveryServedKindHasItsDefinition(t *testing.T) {
	v2 := v2Document(t)
	for _, r := range kubeapi.Resources() {
		gvk := r.GroupVersionKind
		v3 := v3Document(t, gvPath(gvk.GroupVersion()))
		for _, kind := range []schema.GroupVersionKind{gvk, gvk.GroupVersion().WithKind(gvk.Kind + "List")} {
			name := definitionName(kind)
			d2, ok := v2.Definitions[name]
			if !ok {
				t.Errorf("v2 has no definition %s", name)
				continue
			}
			if got := gvks(d2.Extensions); !slices.Equal(got, []schema.GroupVersionKind{kind}) {
				t.Errorf("v2 %s: x-kubernetes-group-version-kind %v, want [%v]", name, got, kind)
			}
			d3, ok := v3.Components.Schemas[name]
			if !ok {
				t.Errorf("v3 %s has no schema %s", gvPath(gvk.GroupVersion()), name)
				continue
			}
			if got := gvks(d3.Extensions); !slices.Equal(got, []schema.GroupVersionKind{kind}) {
				t.Errorf("v3 %s: x-kubernetes-group-version-kind %v, want [%v]", name, got, kind)
			}
			if d3.Description == "" || len(d3.Properties) == 0 {
				t.Errorf("v3 %s: no description or properties (the Go doc comments should be there)", name)
			}
		}
		for _, sub := range r.Subresources {
			if sub.GroupVersionKind.Empty() || sub.GroupVersionKind == gvk {
				continue
			}
			name := definitionName(sub.GroupVersionKind)
			if got := gvks(v2.Definitions[name].Extensions); !slices.Contains(got, sub.GroupVersionKind) {
				t.Errorf("%s/%s: definition %s has x-kubernetes-group-version-kind %v", r.Plural, sub.Name, name, got)
			}
		}
	}
}

// operations are a path's operations by method.
func operations(p *spec3.Path) map[string]*spec3.Operation {
	out := map[string]*spec3.Operation{}
	for method, op := range map[string]*spec3.Operation{"get": p.Get, "put": p.Put, "post": p.Post, "delete": p.Delete, "patch": p.Patch} {
		if op != nil {
			out[method] = op
		}
	}
	return out
}

type wantOp struct {
	path, method, action string
	gvk                  schema.GroupVersionKind
}

// wantedOperations are the operations a resource's verbs call for, as
// kube-apiserver has them.
func wantedOperations(r kubeapi.Resource) (want []wantOp, unwanted []wantOp) {
	gvk := r.GroupVersionKind
	prefix := "/" + gvPath(gvk.GroupVersion()) + "/"
	collection := r.Plural
	if r.Namespaced {
		collection = "namespaces/{namespace}/" + r.Plural
	}
	item := collection + "/{name}"
	for verb, op := range map[string]wantOp{
		"list":             {path: collection, method: "get", action: "list"},
		"create":           {path: collection, method: "post", action: "post"},
		"deletecollection": {path: collection, method: "delete", action: "deletecollection"},
		"get":              {path: item, method: "get", action: "get"},
		"update":           {path: item, method: "put", action: "put"},
		"patch":            {path: item, method: "patch", action: "patch"},
		"delete":           {path: item, method: "delete", action: "delete"},
		"watch":            {path: "watch/" + item, method: "get", action: "watch"},
	} {
		op.path, op.gvk = prefix+op.path, gvk
		if r.Allows(verb) {
			want = append(want, op)
		} else {
			unwanted = append(unwanted, op)
		}
	}
	if r.Allows("list") && r.Allows("watch") {
		want = append(want, wantOp{path: prefix + "watch/" + collection, method: "get", action: "watchlist", gvk: gvk})
	}
	if r.Namespaced && r.Allows("list") {
		want = append(want, wantOp{path: prefix + r.Plural, method: "get", action: "list", gvk: gvk})
	}
	for _, sub := range r.Subresources {
		for _, verb := range sub.Verbs {
			op := wantOp{path: prefix + item + "/" + sub.Name, gvk: sub.GroupVersionKind}
			switch {
			case sub.GroupVersionKind.Empty() && slices.Equal(sub.Verbs, []string{"get"}): // log
				op.method, op.action, op.gvk = "get", "get", gvk
			case sub.GroupVersionKind.Empty(): // exec, attach, portforward
				op.method, op.action = map[string]string{"get": "get", "create": "post"}[verb], "connect"
				op.gvk = gvk.GroupVersion().WithKind("*") // an options kind
			default:
				op.method = map[string]string{"get": "get", "update": "put", "patch": "patch", "create": "post"}[verb]
				op.action = op.method
			}
			want = append(want, op)
		}
	}
	return want, unwanted
}

// TestEveryVerbHasItsOperations: each served resource and subresource
// has the operations its verbs allow, and no others, each with the
// x-kubernetes-action and x-kubernetes-group-version-kind clients read.
func TestEveryVerbHasItsOperations(t *testing.T) {
	for _, r := range kubeapi.Resources() {
		doc := v3Document(t, gvPath(r.GroupVersionKind.GroupVersion()))
		want, unwanted := wantedOperations(r)
		for _, w := range want {
			p, ok := doc.Paths.Paths[w.path]
			if !ok {
				t.Errorf("%s: no path %s", r.Plural, w.path)
				continue
			}
			op := operations(p)[w.method]
			if op == nil {
				t.Errorf("%s: no %s %s", r.Plural, strings.ToUpper(w.method), w.path)
				continue
			}
			if got := op.Extensions["x-kubernetes-action"]; got != w.action {
				t.Errorf("%s %s: x-kubernetes-action %v, want %s", strings.ToUpper(w.method), w.path, got, w.action)
			}
			got := gvks(op.Extensions)
			if len(got) != 1 || (w.gvk.Kind == "*" && got[0].GroupVersion() != w.gvk.GroupVersion()) || (w.gvk.Kind != "*" && got[0] != w.gvk) {
				t.Errorf("%s %s: x-kubernetes-group-version-kind %v, want %v", strings.ToUpper(w.method), w.path, got, w.gvk)
			}
			if op.OperationId == "" || len(op.Tags) != 1 {
				t.Errorf("%s %s: operationId %q, tags %v", strings.ToUpper(w.method), w.path, op.OperationId, op.Tags)
			}
		}
		for _, u := range unwanted {
			if p, ok := doc.Paths.Paths[u.path]; ok && operations(p)[u.method] != nil && operations(p)[u.method].Extensions["x-kubernetes-action"] == u.action {
				t.Errorf("%s: %s %s is described, but the resource does not allow it", r.Plural, strings.ToUpper(u.method), u.path)
			}
		}
	}
}

func TestOperationIDsAreKubeAPIServers(t *testing.T) {
	ids := map[string]bool{}
	v2 := v2Document(t)
	for _, p := range v2.Paths.Paths {
		for _, op := range []*spec.Operation{p.Get, p.Put, p.Post, p.Delete, p.Patch} {
			if op != nil {
				if ids[op.ID] {
					t.Errorf("operationId %s twice", op.ID)
				}
				ids[op.ID] = true
			}
		}
	}
	for _, id := range []string{
		"listCoreV1NamespacedPod", "listCoreV1PodForAllNamespaces", "readCoreV1NamespacedPodLog",
		"connectCoreV1GetNamespacedPodExec", "connectCoreV1PostNamespacedPodPortforward", "createCoreV1NamespacedPodEviction",
		"createCoreV1NamespacedPodBinding", "deleteCoreV1CollectionNamespacedConfigMap", "listCoreV1Node", "readCoreV1NamespaceStatus",
		"patchAppsV1NamespacedDeployment", "replaceAppsV1NamespacedDeploymentScale", "watchAppsV1NamespacedReplicaSetList",
		"watchCoordinationV1LeaseListForAllNamespaces", "getCoreV1APIResources", "getAppsAPIGroup", "getCodeVersion",
	} {
		if !ids[id] {
			t.Errorf("no operation %s", id)
		}
	}
	if ids["deleteCoreV1CollectionNamespace"] {
		t.Error("Namespace does not allow deletecollection, but the operation is described")
	}
}

// paramNames are an operation's parameters and its path's, by name.
func paramNames(path *spec3.Path, op *spec3.Operation) map[string]*spec3.Parameter {
	out := map[string]*spec3.Parameter{}
	for _, ps := range [][]*spec3.Parameter{path.Parameters, op.Parameters} {
		for _, p := range ps {
			out[p.Name] = p
		}
	}
	return out
}

// TestWritesTakeDryRunAndFieldValidation: kubectl reads the v3 document's
// PATCH operations to decide whether the server does server-side dry-run
// and field validation, so every write describes its query parameters.
func TestOperationsTakeKubeAPIServersQueryParameters(t *testing.T) {
	want := map[string][]string{
		"patch":            {"dryRun", "fieldManager", "fieldValidation", "force", "pretty"},
		"put":              {"dryRun", "fieldManager", "fieldValidation", "pretty"},
		"post":             {"dryRun", "fieldManager", "fieldValidation", "pretty"},
		"list":             {"labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "allowWatchBookmarks", "timeoutSeconds", "watch", "pretty"},
		"delete":           {"dryRun", "gracePeriodSeconds", "propagationPolicy", "orphanDependents", "pretty"},
		"deletecollection": {"dryRun", "gracePeriodSeconds", "propagationPolicy", "orphanDependents", "labelSelector", "fieldSelector", "limit", "continue"},
	}
	seen := map[string]int{}
	gvs, err := openapi.V3Paths()
	if err != nil {
		t.Fatal(err)
	}
	for _, gv := range gvs {
		doc := v3Document(t, gv)
		for path, p := range doc.Paths.Paths {
			for method, op := range operations(p) {
				action, _ := op.Extensions["x-kubernetes-action"].(string)
				names := want[action]
				if names == nil {
					continue
				}
				seen[action]++
				params := paramNames(p, op)
				for _, name := range names {
					q, ok := params[name]
					if !ok || q.In != "query" || q.Description == "" {
						t.Errorf("%s %s (%s): no described query parameter %s", strings.ToUpper(method), path, op.OperationId, name)
					}
				}
				if action == "deletecollection" {
					if _, ok := params["watch"]; ok {
						t.Errorf("%s %s: deletecollection takes watch", strings.ToUpper(method), path)
					}
				}
				if action == "patch" {
					var types []string
					for ct := range op.RequestBody.Content {
						types = append(types, ct)
					}
					slices.Sort(types)
					if fmt.Sprint(types) != "[application/apply-patch+yaml application/json-patch+json application/merge-patch+json application/strategic-merge-patch+json]" {
						t.Errorf("PATCH %s consumes %v", path, types)
					}
				}
			}
		}
	}
	for action := range want {
		if seen[action] == 0 {
			t.Errorf("no %s operation at all", action)
		}
	}
}

func TestV2PatchesConsumeThePatchTypes(t *testing.T) {
	v2 := v2Document(t)
	n := 0
	for path, p := range v2.Paths.Paths {
		if p.Patch == nil {
			continue
		}
		n++
		if !slices.Equal(p.Patch.Consumes, []string{"application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"}) {
			t.Errorf("PATCH %s consumes %v", path, p.Patch.Consumes)
		}
	}
	if n == 0 {
		t.Fatal("no PATCH in the v2 document")
	}
}

// TestDefinitionsCarryOpenAPIGensExtensions: the markers of k8s.io/api's
// types are there, as strategic merge patch and apply read them.
func TestDefinitionsCarryOpenAPIGensExtensions(t *testing.T) {
	v3 := v3Document(t, "api/v1")
	containers := v3.Components.Schemas["io.k8s.api.core.v1.PodSpec"].Properties["containers"]
	for k, v := range map[string]any{"x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "name", "x-kubernetes-list-type": "map"} {
		if containers.Extensions[k] != v {
			t.Errorf("PodSpec.containers: %s = %v, want %v", k, containers.Extensions[k], v)
		}
	}
	strategy := v3Document(t, "apis/apps/v1").Components.Schemas["io.k8s.api.apps.v1.DeploymentStrategy"].Properties["type"]
	if !slices.Contains(strategy.Enum, any("Recreate")) || !slices.Contains(strategy.Enum, any("RollingUpdate")) {
		t.Errorf("DeploymentStrategy.type: enum %v", strategy.Enum)
	}
}

// TestEachV3DocumentHoldsOnlyWhatItRefersTo: api/v1's document has no
// apps schema, apps/v1's no Pod.
func TestEachV3DocumentHoldsOnlyWhatItRefersTo(t *testing.T) {
	if _, ok := v3Document(t, "api/v1").Components.Schemas["io.k8s.api.apps.v1.Deployment"]; ok {
		t.Error("api/v1's document has Deployment")
	}
	if _, ok := v3Document(t, "apis/apps/v1").Components.Schemas["io.k8s.api.core.v1.Pod"]; ok {
		t.Error("apps/v1's document has Pod")
	}
	if _, ok := v3Document(t, "apis/apps/v1").Components.Schemas["io.k8s.api.autoscaling.v1.Scale"]; !ok {
		t.Error("apps/v1's document has no Scale, which its scale subresources read and write")
	}
}
