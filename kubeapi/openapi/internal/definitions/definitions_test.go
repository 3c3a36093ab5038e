package definitions

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"k8s.io/kube-openapi/pkg/validation/spec"
)

// TestOpenAPIGenIsGoModsVersion: the openapi-gen that go:generate runs is
// the k8s.io/kube-openapi go.mod has, whose common and spec packages the
// generated code is compiled against.
func TestOpenAPIGenIsGoModsVersion(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`go run k8s\.io/kube-openapi/cmd/openapi-gen@(\S+)`).FindSubmatch(doc)
	if m == nil {
		t.Fatal("doc.go has no go:generate line running openapi-gen@<version>")
	}
	gomod, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`(?m)^\s*k8s\.io/kube-openapi (\S+)`).FindSubmatch(gomod)
	if want == nil {
		t.Fatal("go.mod does not require k8s.io/kube-openapi")
	}
	if string(m[1]) != string(want[1]) {
		t.Errorf("go:generate runs openapi-gen@%s, go.mod has k8s.io/kube-openapi %s: update doc.go and run `make openapi`", m[1], want[1])
	}
}

// TestDefinitionsHaveDescriptions: openapi-gen read the Go doc comments.
func TestDefinitionsHaveDescriptions(t *testing.T) {
	defs := GetOpenAPIDefinitions(func(name string) spec.Ref { return spec.MustCreateRef("#/definitions/" + name) })
	for _, name := range []string{"io.k8s.api.apps.v1.Deployment", "io.k8s.api.core.v1.Pod", "io.k8s.api.coordination.v1.Lease", "io.k8s.api.batch.v1.Job", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"} {
		d, ok := defs[name]
		if !ok {
			t.Errorf("no definition %s", name)
			continue
		}
		if d.Schema.Description == "" {
			t.Errorf("%s has no description", name)
		}
	}
}

// TestEveryReferenceIsDefined: each definition's dependencies are
// definitions too. A package openapi-gen did not read shows here as a
// Go name ("k8s.io/api/scheduling/v1alpha3.X") nothing defines: add the
// package to the go:generate line.
func TestEveryReferenceIsDefined(t *testing.T) {
	defs := GetOpenAPIDefinitions(func(name string) spec.Ref { return spec.MustCreateRef("#/definitions/" + name) })
	for name, d := range defs {
		for _, dep := range d.Dependencies {
			if _, ok := defs[dep]; !ok {
				t.Errorf("%s refers to %s, which is not defined", name, dep)
			}
		}
	}
}
