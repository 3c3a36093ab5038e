package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	clientopenapi "k8s.io/client-go/openapi"
	"k8s.io/client-go/openapi3"
	"k8s.io/client-go/rest"
	"k8s.io/kubectl/pkg/explain"
	explainv2 "k8s.io/kubectl/pkg/explain/v2"
	openapiutil "k8s.io/kubectl/pkg/util/openapi"
	"k8s.io/kubectl/pkg/validation"

	"github.com/shoalproject/shoal/kubeapi"
	"github.com/shoalproject/shoal/kubeapi/openapi"
)

// The documents as kubectl's and client-go's own code reads them, over
// HTTP from Handler: explain (v3, and v2 for -o plaintext-openapiv2),
// client-side validation (the v2 protobuf), the query-parameter checks
// that decide server-side dry-run and field validation (v3), and the
// type converter of server-side apply.

// clients are client-go's discovery and OpenAPI v3 clients of a server
// that serves only Handler.
func clients(t *testing.T) (*rest.Config, *discovery.DiscoveryClient, clientopenapi.Client) {
	t.Helper()
	srv := httptest.NewServer(&openapi.Handler{})
	t.Cleanup(srv.Close)
	cfg := &rest.Config{Host: srv.URL}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, dc, dc.OpenAPIV3()
}

var deployments = appsv1.SchemeGroupVersion.WithResource("deployments")

func TestKubectlExplainsDeploymentStrategy(t *testing.T) {
	_, _, v3 := clients(t)
	var out bytes.Buffer
	if err := explainv2.PrintModelDescription([]string{"spec", "strategy"}, &out, v3, deployments, false, 0, "plaintext"); err != nil {
		t.Fatalf("kubectl explain deployment.spec.strategy: %v", err)
	}
	t.Logf("kubectl explain deployment.spec.strategy:\n%s", out.String())
	for _, want := range []string{
		"GROUP:      apps", "KIND:       Deployment", "VERSION:    v1",
		"FIELD: strategy <DeploymentStrategy>",
		"DESCRIPTION:\n    The deployment strategy to use to replace existing pods with new ones.",
		"FIELDS:", "rollingUpdate\t<RollingUpdateDeployment>", "type\t<string>",
		"enum: Recreate, RollingUpdate",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain says nothing of %q", want)
		}
	}
}

func TestKubectlExplainsEveryServedKindRecursively(t *testing.T) {
	_, _, v3 := clients(t)
	for _, r := range kubeapi.Resources() {
		var out bytes.Buffer
		if err := explainv2.PrintModelDescription(nil, &out, v3, r.GroupVersionResource(), true, 3, "plaintext"); err != nil {
			t.Errorf("kubectl explain %s --recursive: %v", r.Plural, err)
			continue
		}
		if !strings.Contains(out.String(), "KIND:       "+r.GroupVersionKind.Kind) || !strings.Contains(out.String(), "metadata\t<ObjectMeta>") {
			t.Errorf("kubectl explain %s --recursive:\n%s", r.Plural, out.String())
		}
	}
	var out bytes.Buffer
	if err := explainv2.PrintModelDescription([]string{"spec", "containers", "ports"}, &out, v3, corev1.SchemeGroupVersion.WithResource("pods"), false, 0, "plaintext"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "containerPort\t<integer> -required-") {
		t.Errorf("kubectl explain pod.spec.containers.ports:\n%s", out.String())
	}
}

// v2Resources is kubectl's parse of the v2 protobuf, which client-go's
// discovery asks for.
func v2Resources(t *testing.T, dc *discovery.DiscoveryClient) openapiutil.Resources {
	t.Helper()
	resources, err := openapiutil.NewOpenAPIParser(dc).Parse()
	if err != nil {
		t.Fatalf("kubectl cannot parse the v2 protobuf: %v", err)
	}
	return resources
}

func TestKubectlExplainsFromTheV2Protobuf(t *testing.T) {
	_, dc, _ := clients(t)
	resources := v2Resources(t, dc)
	gvk := appsv1.SchemeGroupVersion.WithKind("Deployment")
	s := resources.LookupResource(gvk)
	if s == nil {
		t.Fatal("the v2 document has no Deployment for kubectl")
	}
	var out bytes.Buffer
	if err := explain.PrintModelDescription([]string{"spec", "strategy"}, &out, s, gvk, false, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "RESOURCE: strategy <Object>") || !strings.Contains(out.String(), "rollingUpdate\t<Object>") {
		t.Errorf("kubectl explain deployment.spec.strategy --output=plaintext-openapiv2:\n%s", out.String())
	}
	for _, r := range kubeapi.Resources() {
		if resources.LookupResource(r.GroupVersionKind) == nil {
			t.Errorf("the v2 protobuf has no %v for kubectl", r.GroupVersionKind)
		}
		if consumes := resources.GetConsumes(r.GroupVersionKind, "PATCH"); r.Allows("patch") && !strings.Contains(strings.Join(consumes, ","), "application/apply-patch+yaml") {
			t.Errorf("%v: PATCH consumes %v", r.GroupVersionKind, consumes)
		}
	}
}

type resourcesGetter struct {
	p *openapiutil.CachedOpenAPIParser
}

func (g resourcesGetter) OpenAPISchema() (openapiutil.Resources, error) { return g.p.Parse() }

// TestKubectlValidatesAgainstTheV2Document: kubectl's client-side
// validation (what --validate does when the server cannot) accepts a
// good Deployment and names what is wrong in a bad one.
func TestKubectlValidatesAgainstTheV2Document(t *testing.T) {
	_, dc, _ := clients(t)
	v := validation.NewSchemaValidation(resourcesGetter{openapiutil.NewOpenAPIParser(dc)})
	good := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
		"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":1}},
		"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80}]}]}}}}`
	if err := v.ValidateBytes([]byte(good)); err != nil {
		t.Errorf("a good Deployment does not validate: %v", err)
	}
	bad := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":"two","strategy":{"kind":"Recreate"},
		"selector":{"matchLabels":{"app":"web"}},"template":{"spec":{"containers":[{"name":"web"}]}}}}`
	err := v.ValidateBytes([]byte(bad))
	if err == nil {
		t.Fatal("a bad Deployment validates")
	}
	for _, want := range []string{`unknown field "kind" in io.k8s.api.apps.v1.DeploymentStrategy`, `spec.replicas`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("validation error %q says nothing of %q", err, want)
		}
	}
}

// TestKubectlSeesServerSideFieldValidationAndDryRun: kubectl reads each
// kind's PATCH operation in the v3 document to decide whether the server
// validates fields and does dry runs itself.
func TestKubectlSeesServerSideFieldValidationAndDryRun(t *testing.T) {
	cfg, dc, v3 := clients(t)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, param := range []resource.VerifiableQueryParam{resource.QueryParamFieldValidation, "dryRun"} {
		verifier := resource.NewFallbackQueryParamVerifier(
			resource.NewQueryParamVerifierV3(dyn, v3, param),
			resource.NewQueryParamVerifier(dyn, dc, param))
		for _, r := range kubeapi.Resources() {
			if !r.Allows("patch") {
				continue
			}
			if err := verifier.HasSupport(r.GroupVersionKind); err != nil {
				t.Errorf("kubectl thinks %v does not take %s: %v", r.GroupVersionKind, param, err)
			}
		}
	}
	if err := resource.NewQueryParamVerifierV3(dyn, v3, "noSuchParam").HasSupport(appsv1.SchemeGroupVersion.WithKind("Deployment")); !resource.IsParamUnsupportedError(err) {
		t.Errorf("a parameter nobody takes: %v, want unsupported", err)
	}
}

func TestClientGoReadsEveryV3Document(t *testing.T) {
	_, _, v3 := clients(t)
	root := openapi3.NewRoot(v3)
	gvs, err := root.GroupVersions()
	if err != nil {
		t.Fatal(err)
	}
	want := map[schema.GroupVersion]bool{}
	for _, r := range kubeapi.Resources() {
		want[r.GroupVersionKind.GroupVersion()] = true
	}
	for _, gv := range gvs {
		delete(want, gv)
		doc, err := root.GVSpec(gv)
		if err != nil || doc.Components == nil || len(doc.Paths.Paths) == 0 {
			t.Errorf("%v: %v", gv, err)
		}
	}
	if len(want) > 0 {
		t.Errorf("client-go finds no v3 document for %v", want)
	}
}

// TestServerSideApplyTypeConverter: the schemas make the type converter
// server-side apply needs, whether from Schemas (the server's) or from
// the served documents (client-go's, as kubectl and Helm make it).
func TestServerSideApplyTypeConverter(t *testing.T) {
	schemas, err := openapi.Schemas()
	if err != nil {
		t.Fatal(err)
	}
	server, err := managedfields.NewTypeConverter(schemas, false)
	if err != nil {
		t.Fatalf("managedfields.NewTypeConverter(Schemas()): %v", err)
	}
	_, _, v3 := clients(t)
	client, err := clientopenapi.NewTypeConverter(v3, false)
	if err != nil {
		t.Fatalf("client-go's type converter: %v", err)
	}
	replicas := int32(3)
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}},
		},
	}
	for name, tc := range map[string]managedfields.TypeConverter{"server": server, "client": client} {
		typed, err := tc.ObjectToTyped(d)
		if err != nil {
			t.Errorf("%s: a Deployment to typed: %v", name, err)
			continue
		}
		set, err := typed.ToFieldSet()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.Contains(set.String(), `.spec.template.spec.containers[name="web"].image`) {
			t.Errorf("%s: containers are not a list keyed by name:\n%s", name, set)
		}
	}
	for _, r := range kubeapi.Resources() {
		obj := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: r.GroupVersionKind.GroupVersion().String(), Kind: r.GroupVersionKind.Kind}}
		if _, err := server.ObjectToTyped(obj); err != nil {
			t.Errorf("the type converter has no %v: %v", r.GroupVersionKind, err)
		}
	}
}

// TestRealKubectlExplains runs the kubectl on PATH against Handler and a
// tiny discovery made from the served resources. Discovery here is the
// test's own, not Shoal's.
func TestRealKubectlExplains(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl on PATH")
	}
	if testing.Short() {
		t.Skip("runs kubectl")
	}
	mux := http.NewServeMux()
	mux.Handle("/openapi/", &openapi.Handler{})
	serveFakeDiscovery(mux)
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()

	home := t.TempDir()
	kubeconfig := filepath.Join(home, "config")
	if err := os.WriteFile(kubeconfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for format, wants := range map[string][]string{
		"plaintext":           {"FIELD: strategy <DeploymentStrategy>", "rollingUpdate\t<RollingUpdateDeployment>", "enum: Recreate, RollingUpdate"}, // from /openapi/v3
		"plaintext-openapiv2": {"RESOURCE: strategy <Object>", "rollingUpdate\t<Object>"},                                                            // from /openapi/v2, protobuf
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, kubectl, "explain", "deployment.spec.strategy", "--output", format,
			"--server", srv.URL, "--insecure-skip-tls-verify", "--token", "test", // a token, or kubectl asks for a user name
			"--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(home, "cache-"+format))
		cmd.Env = append(os.Environ(), "HOME="+home)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		if err != nil {
			t.Errorf("kubectl explain --output %s: %v\n%s%s", format, err, stdout.String(), stderr.String())
			continue
		}
		t.Logf("kubectl explain deployment.spec.strategy --output %s (%s):\n%s", format, kubectl, stdout.String())
		for _, want := range wants {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("kubectl explain --output %s says nothing of %q", format, want)
			}
		}
	}
}

// serveFakeDiscovery serves legacy (unaggregated) discovery of the served
// resources, and /version, enough for kubectl to map "deployment" to a
// resource.
func serveFakeDiscovery(mux *http.ServeMux) {
	write := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	lists := map[schema.GroupVersion]*metav1.APIResourceList{}
	var groups metav1.APIGroupList
	for _, r := range kubeapi.Resources() {
		gv := r.GroupVersionKind.GroupVersion()
		l := lists[gv]
		if l == nil {
			l = &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
			lists[gv] = l
			if gv.Group != "" {
				v := metav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: gv.Version}
				groups.Groups = append(groups.Groups, metav1.APIGroup{Name: gv.Group, Versions: []metav1.GroupVersionForDiscovery{v}, PreferredVersion: v})
			}
		}
		l.APIResources = append(l.APIResources, metav1.APIResource{
			Name: r.Plural, SingularName: r.Singular, Namespaced: r.Namespaced, Kind: r.GroupVersionKind.Kind,
			Verbs: r.Verbs, ShortNames: r.ShortNames, Categories: r.Categories,
		})
	}
	groups.TypeMeta = metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		write(w, metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}})
	})
	mux.HandleFunc("/apis", func(w http.ResponseWriter, r *http.Request) { write(w, groups) })
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		write(w, map[string]string{"major": "1", "minor": "32", "gitVersion": "v1.32.4"})
	})
	for gv, l := range lists {
		path := "/apis/" + gv.String()
		if gv.Group == "" {
			path = "/api/v1"
		}
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { write(w, l) })
	}
}
