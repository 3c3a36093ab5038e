package workload

import (
	"errors"
	"fmt"
	"go/build"
	"strings"
	"testing"

	"github.com/shoalproject/shoal/internal/errdefs"
)

func TestLookupKindAliases(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"ConfigMap", "ConfigMap"}, {"configmap", "ConfigMap"}, {"configmaps", "ConfigMap"},
		{"cm", "ConfigMap"}, {"CM", "ConfigMap"}, {"ConfigMaps", "ConfigMap"},
		{"Namespace", "Namespace"}, {"namespace", "Namespace"}, {"namespaces", "Namespace"},
		{"ns", "Namespace"}, {"NS", "Namespace"},
		{"Pod", "Pod"}, {"pod", "Pod"}, {"pods", "Pod"}, {"po", "Pod"},
		{"Node", "Node"}, {"node", "Node"}, {"nodes", "Node"}, {"no", "Node"},
		{"Event", "Event"}, {"event", "Event"}, {"events", "Event"}, {"ev", "Event"},
	} {
		info, err := LookupKind(tc.name)
		if err != nil || info.Kind != tc.want {
			t.Errorf("LookupKind(%q) = %q, %v; want %q", tc.name, info.Kind, err, tc.want)
		}
		if info.New == nil || TypeMetaOf(info.New()) == nil {
			t.Errorf("LookupKind(%q): New is not usable", tc.name)
		}
	}
	if info, _ := LookupKind("cm"); !info.Namespaced || info.APIVersion != "v1" || info.Plural != "configmaps" {
		t.Errorf("ConfigMap info = %+v", info)
	}
	if info, _ := LookupKind("ns"); info.Namespaced || info.APIVersion != "v1" || info.Plural != "namespaces" {
		t.Errorf("Namespace info = %+v", info)
	}
	for _, tc := range []struct {
		name                    string
		namespaced, systemOwned bool
	}{{"cm", true, false}, {"ns", false, false}, {"po", true, false}, {"no", false, true}, {"ev", true, false}} {
		if info, _ := LookupKind(tc.name); info.Namespaced != tc.namespaced || info.SystemOwned != tc.systemOwned {
			t.Errorf("LookupKind(%q) = %+v; want Namespaced %v, SystemOwned %v", tc.name, info, tc.namespaced, tc.systemOwned)
		}
	}
}

func TestLookupKindErrors(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"widgets", `unknown kind "widgets"; served kinds: ConfigMap (configmaps, cm), Deployment (deployments, deploy), Endpoints (endpoints, ep), EndpointSlice (endpointslices), Event (events, ev), Lease (leases), LimitRange (limitranges, limits), Namespace (namespaces, ns), Node (nodes, no), PersistentVolume (persistentvolumes, pv), PersistentVolumeClaim (persistentvolumeclaims, pvc), Pod (pods, po), PriorityClass (priorityclasses, pc), ReplicaSet (replicasets, rs), ResourceQuota (resourcequotas, quota), Secret (secrets), Service (services, svc), ServiceAccount (serviceaccounts, sa)`},
		{"StatefulSet", `kind "StatefulSet" is not served by this build yet; served kinds: ConfigMap (configmaps, cm), Deployment (deployments, deploy), Endpoints (endpoints, ep), EndpointSlice (endpointslices), Event (events, ev), Lease (leases), LimitRange (limitranges, limits), Namespace (namespaces, ns), Node (nodes, no), PersistentVolume (persistentvolumes, pv), PersistentVolumeClaim (persistentvolumeclaims, pvc), Pod (pods, po), PriorityClass (priorityclasses, pc), ReplicaSet (replicasets, rs), ResourceQuota (resourcequotas, quota), Secret (secrets), Service (services, svc), ServiceAccount (serviceaccounts, sa)`},
		{"sts", `kind "sts" (StatefulSet) is not served by this build yet; served kinds: ConfigMap (configmaps, cm), Deployment (deployments, deploy), Endpoints (endpoints, ep), EndpointSlice (endpointslices), Event (events, ev), Lease (leases), LimitRange (limitranges, limits), Namespace (namespaces, ns), Node (nodes, no), PersistentVolume (persistentvolumes, pv), PersistentVolumeClaim (persistentvolumeclaims, pvc), Pod (pods, po), PriorityClass (priorityclasses, pc), ReplicaSet (replicasets, rs), ResourceQuota (resourcequotas, quota), Secret (secrets), Service (services, svc), ServiceAccount (serviceaccounts, sa)`},
	} {
		_, err := LookupKind(tc.name)
		if err == nil || err.Error() != tc.want || !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("LookupKind(%q) error = %v; want %q wrapping ErrInvalid", tc.name, err, tc.want)
		}
	}
	for _, name := range []string{"sts", "statefulsets", "DaemonSet", "ds", "ingresses", "sc"} {
		_, err := LookupKind(name)
		if err == nil || !strings.Contains(err.Error(), "is not served by this build yet") {
			t.Errorf("LookupKind(%q) error = %v; want not served yet", name, err)
		}
	}
}

func cm(mut func(*ConfigMap)) *ConfigMap {
	c := &ConfigMap{ObjectMeta: ObjectMeta{Name: "app-config"}, Data: map[string]string{"a.txt": "x"}}
	if mut != nil {
		mut(c)
	}
	return c
}

func ns(mut func(*Namespace)) *Namespace {
	n := &Namespace{ObjectMeta: ObjectMeta{Name: "team-a"}}
	if mut != nil {
		mut(n)
	}
	return n
}

func TestValidate(t *testing.T) {
	cmInfo, _ := LookupKind("cm")
	nsInfo, _ := LookupKind("ns")
	big := strings.Repeat("x", 256<<10)
	for _, tc := range []struct {
		rule string
		obj  Object
		want string // "" for valid; otherwise the first error's prefix
	}{
		{"name required/valid", cm(nil), ""},
		{"name required/invalid", cm(func(c *ConfigMap) { c.ObjectMeta.Name = "" }), "metadata.name: Required value"},
		{"configmap name subdomain/valid", cm(func(c *ConfigMap) { c.ObjectMeta.Name = "app.config-1" }), ""},
		{"configmap name subdomain/invalid", cm(func(c *ConfigMap) { c.ObjectMeta.Name = "App_Config" }), `metadata.name: Invalid value: "App_Config": a lowercase RFC 1123 subdomain`},
		{"namespace name label/valid", ns(nil), ""},
		{"namespace name label/invalid", ns(func(n *Namespace) { n.ObjectMeta.Name = "Team-A" }), `metadata.name: Invalid value: "Team-A": a lowercase RFC 1123 label`},
		{"namespace on cluster-scoped/invalid", ns(func(n *Namespace) { n.ObjectMeta.Namespace = "default" }), "metadata.namespace: Forbidden: not allowed on this type"},
		{"namespace on namespaced/valid", cm(func(c *ConfigMap) { c.ObjectMeta.Namespace = "team-a" }), ""},
		{"namespace on namespaced/invalid", cm(func(c *ConfigMap) { c.ObjectMeta.Namespace = "Team_A" }), `metadata.namespace: Invalid value: "Team_A"`},
		{"label key/valid", cm(func(c *ConfigMap) { c.ObjectMeta.Labels = map[string]string{"example.com/app": "web"} }), ""},
		{"label key/invalid", cm(func(c *ConfigMap) { c.ObjectMeta.Labels = map[string]string{"bad key": "web"} }), `metadata.labels: Invalid value: "bad key": name part must consist of`},
		{"label value/valid", cm(func(c *ConfigMap) { c.ObjectMeta.Labels = map[string]string{"app": ""} }), ""},
		{"label value/invalid", cm(func(c *ConfigMap) { c.ObjectMeta.Labels = map[string]string{"app": strings.Repeat("v", 64)} }), `metadata.labels[app]: Invalid value: "vvvv`},
		{"annotation key/valid", cm(func(c *ConfigMap) {
			c.ObjectMeta.Annotations = map[string]string{"Example.com/Note": "any text at all!"}
		}), ""},
		{"annotation key/invalid", cm(func(c *ConfigMap) { c.ObjectMeta.Annotations = map[string]string{"a/b/c": "x"} }), `metadata.annotations: Invalid value: "a/b/c"`},
		{"annotation size/valid", cm(func(c *ConfigMap) { c.ObjectMeta.Annotations = map[string]string{"n": big[:256<<10-1]} }), ""},
		{"annotation size/invalid", cm(func(c *ConfigMap) { c.ObjectMeta.Annotations = map[string]string{"n": big} }), "metadata.annotations: Too long: may not be more than 262144 bytes"},
		{"configmap key/valid", cm(func(c *ConfigMap) { c.Data = map[string]string{"KEY_name-1.conf": "v"} }), ""},
		{"configmap key/invalid", cm(func(c *ConfigMap) { c.Data = map[string]string{"a/b": "v"} }), `data[a/b]: Invalid value: "a/b": a valid config key`},
		{"binaryData key/invalid", cm(func(c *ConfigMap) { c.BinaryData = map[string][]byte{".": {1}} }), `binaryData[.]: Invalid value: "."`},
		{"duplicate key/valid", cm(func(c *ConfigMap) { c.BinaryData = map[string][]byte{"b.bin": {1}} }), ""},
		{"duplicate key/invalid", cm(func(c *ConfigMap) { c.BinaryData = map[string][]byte{"a.txt": {1}} }), `data[a.txt]: Invalid value: "a.txt": duplicate of key present in binaryData`},
		{"configmap size/valid", cm(func(c *ConfigMap) { c.Data = map[string]string{"a": strings.Repeat("x", 1<<20)} }), ""},
		{"configmap size/invalid", cm(func(c *ConfigMap) {
			c.Data = map[string]string{"a": strings.Repeat("x", 1<<19)}
			c.BinaryData = map[string][]byte{"b": make([]byte, 1<<19+1)}
		}), "data: Too long: may not be more than 1048576 bytes"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			info := cmInfo
			if _, ok := tc.obj.(*Namespace); ok {
				info = nsInfo
			}
			errs := Validate(tc.obj, info)
			if tc.want == "" {
				if len(errs) != 0 {
					t.Fatalf("Validate = %v; want no errors", errs)
				}
				return
			}
			if len(errs) == 0 {
				t.Fatalf("Validate = no errors; want %q", tc.want)
			}
			if !strings.HasPrefix(errs[0].Error(), tc.want) {
				t.Errorf("Validate()[0] = %q; want prefix %q", errs[0], tc.want)
			}
			for _, err := range errs {
				if !errors.Is(err, errdefs.ErrInvalid) {
					t.Errorf("%v does not wrap ErrInvalid", err)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	cmInfo, _ := LookupKind("cm")
	nsInfo, _ := LookupKind("ns")

	c := cm(nil)
	Defaults(c, cmInfo, "")
	if c.APIVersion != "v1" || c.Kind != "ConfigMap" || c.ObjectMeta.Namespace != "default" {
		t.Errorf("defaulted ConfigMap = %+v", c)
	}
	c = cm(nil)
	Defaults(c, cmInfo, "team-a")
	if c.ObjectMeta.Namespace != "team-a" {
		t.Errorf("namespace = %q; want team-a", c.ObjectMeta.Namespace)
	}
	c = cm(func(c *ConfigMap) { c.ObjectMeta.Namespace = "mine" })
	Defaults(c, cmInfo, "team-a")
	if c.ObjectMeta.Namespace != "mine" {
		t.Errorf("namespace = %q; want mine kept", c.ObjectMeta.Namespace)
	}
	n := ns(nil)
	Defaults(n, nsInfo, "team-a")
	if n.Kind != "Namespace" || n.ObjectMeta.Namespace != "" || n.Status.Phase != NamespaceActive {
		t.Errorf("defaulted Namespace = %+v", n)
	}
}

const goodCM = `apiVersion: v1
kind: ConfigMap
metadata:
  name: app
data:
  k: v
`

func TestDecodeValid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		want  []string // kind/name@document
	}{
		{"one yaml doc", goodCM, []string{"ConfigMap/app@1"}},
		{"leading separator and empty docs", "---\n" + goodCM + "---\n# nothing\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n",
			[]string{"ConfigMap/app@1", "Namespace/team-a@3"}},
		{"json stream", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"},"binaryData":{"x":"AAE="},"immutable":true}`,
			[]string{"Namespace/a@1", "ConfigMap/b@2"}},
		{"list", `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: a}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: a, creationTimestamp: "2024-01-02T03:04:05Z"}}
`, []string{"Namespace/a@1", "ConfigMap/b@1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := Decode("in.yaml", []byte(tc.input))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			var got []string
			for _, d := range docs {
				got = append(got, fmt.Sprintf("%s/%s@%d", d.Info.Kind, MetaOf(d.Object).Name, d.Index))
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("Decode = %v; want %v", got, tc.want)
			}
		})
	}

	docs, err := Decode("cm.yaml", []byte(goodCM))
	if err != nil {
		t.Fatal(err)
	}
	c := docs[0].Object.(*ConfigMap)
	if c.Data["k"] != "v" || c.APIVersion != "v1" || docs[0].Item != -1 {
		t.Errorf("decoded %+v item %d", c, docs[0].Item)
	}
}

func TestDecodeErrors(t *testing.T) {
	huge := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  a: " + strings.Repeat("x", 1<<20) + "\n"
	for _, tc := range []struct {
		name  string
		input string
		want  string // the whole error text
		is    error
	}{
		{"name required", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
			"cm.yaml: document 1: metadata.name: Required value", errdefs.ErrInvalid},
		{"unknown field", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  nmae: b\nspec: {}\n",
			"cm.yaml: document 1: configmap/a: metadata.nmae: unknown field\ncm.yaml: document 1: configmap/a: spec: unknown field", errdefs.ErrInvalid},
		{"wrong type", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  count: 3\n",
			"cm.yaml: document 1: configmap/a: data[count]: expected string, got number", errdefs.ErrInvalid},
		{"wrong type of metadata", "apiVersion: v1\nkind: ConfigMap\nmetadata: [a]\n",
			"cm.yaml: document 1: metadata: expected object, got array", errdefs.ErrInvalid},
		{"bad base64", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nbinaryData: {b: '!!'}\n",
			"cm.yaml: document 1: configmap/a: binaryData[b]: expected base64 string: illegal base64 data at input byte 0", errdefs.ErrInvalid},
		{"missing kind", "apiVersion: v1\nmetadata: {name: a}\n",
			"cm.yaml: document 1: kind: Required value", errdefs.ErrInvalid},
		{"missing apiVersion", "kind: ConfigMap\nmetadata: {name: a}\n",
			"cm.yaml: document 1: configmap/a: apiVersion: Required value", errdefs.ErrInvalid},
		{"unknown kind", "apiVersion: v1\nkind: Widget\nmetadata: {name: a}\n",
			`cm.yaml: document 1: widget/a: kind: Unsupported value: "Widget": supported values: "ConfigMap", "Deployment", "Endpoints", "EndpointSlice", "Event", "Lease", "LimitRange", "Namespace", "Node", "PersistentVolume", "PersistentVolumeClaim", "Pod", "PriorityClass", "ReplicaSet", "ResourceQuota", "Secret", "Service", "ServiceAccount"`, errdefs.ErrInvalid},
		{"kind in wrong case", "apiVersion: v1\nkind: configmap\nmetadata: {name: a}\n",
			`cm.yaml: document 1: configmap/a: kind: Unsupported value: "configmap": supported values: "ConfigMap", "Deployment", "Endpoints", "EndpointSlice", "Event", "Lease", "LimitRange", "Namespace", "Node", "PersistentVolume", "PersistentVolumeClaim", "Pod", "PriorityClass", "ReplicaSet", "ResourceQuota", "Secret", "Service", "ServiceAccount"`, errdefs.ErrInvalid},
		{"not yet served kind", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: a}\n",
			`cm.yaml: document 1: statefulset/a: kind: Invalid value: "StatefulSet": kind "StatefulSet" is not served by this build yet`, errdefs.ErrInvalid},
		{"wrong apiVersion", "apiVersion: apps/v1\nkind: ConfigMap\nmetadata: {name: a}\n",
			`cm.yaml: document 1: configmap/a: apiVersion: Unsupported value: "apps/v1": supported values: "v1"`, errdefs.ErrInvalid},
		{"oversized", goodCM + "---\n" + huge,
			"cm.yaml: document 2: Too long: object is 1048656 bytes of JSON, may not be more than 1048576 bytes", errdefs.ErrTooLarge},
		{"broken yaml", goodCM + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n   bad: indent\n",
			"cm.yaml: document 2: yaml: line 5: mapping values are not allowed in this context", errdefs.ErrInvalid},
		{"duplicate yaml key", "apiVersion: v1\nkind: ConfigMap\nkind: ConfigMap\n",
			`cm.yaml: document 1: yaml: unmarshal errors:
  line 3: key "kind" already set in map`, errdefs.ErrInvalid},
		{"not an object", "- a\n- b\n",
			"cm.yaml: document 1: expected an object, got array", errdefs.ErrInvalid},
		{"list with a bad item", goodCM + `---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: a}}
- {apiVersion: v1, kind: Namespace, metadata: {name: b}}
- {apiVersion: v1, kind: Namespace, metadata: {name: c}}
- {apiVersion: v1, kind: ConfigMap, metadata: {}}
`, "cm.yaml: document 2: items[3]: metadata.name: Required value", errdefs.ErrInvalid},
		{"list envelope", "apiVersion: v2\nkind: List\nextra: 1\nitems: {}\n",
			"cm.yaml: document 1: apiVersion: Unsupported value: \"v2\": supported values: \"v1\"\n" +
				"cm.yaml: document 1: extra: unknown field\n" +
				"cm.yaml: document 1: items: expected array, got object", errdefs.ErrInvalid},
		{"multi-doc, document 2 bad", goodCM + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n",
			`cm.yaml: document 2: configmap/Bad_Name: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`, errdefs.ErrInvalid},
		{"several bad documents", "kind: ConfigMap\n---\n" + goodCM + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a, namespace: b}\n",
			"cm.yaml: document 1: apiVersion: Required value\ncm.yaml: document 3: namespace/a: metadata.namespace: Forbidden: not allowed on this type", errdefs.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := Decode("cm.yaml", []byte(tc.input))
			if err == nil {
				t.Fatalf("Decode = %d documents, no error; want %q", len(docs), tc.want)
			}
			if docs != nil {
				t.Errorf("Decode returned %d documents beside an error", len(docs))
			}
			if err.Error() != tc.want {
				t.Errorf("error =\n%s\nwant\n%s", err, tc.want)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error does not wrap %v", tc.is)
			}
			var de *DocumentError
			if !errors.As(err, &de) || de.Source != "cm.yaml" {
				t.Errorf("error is not a *DocumentError for cm.yaml: %#v", err)
			}
		})
	}
}

func TestNoForbiddenImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range append(pkg.Imports, pkg.TestImports...) {
		for _, bad := range []string{"/peer", "/consensus", "/gossip", "/cmd"} {
			if strings.HasPrefix(imp, "github.com/shoalproject/shoal") && strings.Contains(imp, bad) {
				t.Errorf("workload imports %s", imp)
			}
		}
	}
}
