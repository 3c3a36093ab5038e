package openapi_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/shoalproject/shoal/"

// deps lists what a package links, as `go list -deps` says.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// within says whether pkg is root or below it.
func within(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }

// TestPackageStaysLight: the server links this package, so it must not
// bring the generated definitions (a megabyte of Go that builds every
// schema), the builders, go-restful or client-go into the binary; nor
// anything of Shoal's beyond errdefs and its own layout.
func TestPackageStaysLight(t *testing.T) {
	for _, dep := range deps(t, module+"kubeapi/openapi") {
		for _, bad := range []string{
			module + "kubeapi/openapi/internal/definitions", module + "kubeapi/openapi/gen",
			"k8s.io/kube-openapi/pkg/builder", "k8s.io/kube-openapi/pkg/builder3", "k8s.io/kube-openapi/pkg/common",
			"github.com/emicklei/go-restful/v3", "k8s.io/client-go", "k8s.io/api",
		} {
			if within(dep, bad) {
				t.Errorf("kubeapi/openapi links %s", dep)
			}
		}
		if rel, ok := strings.CutPrefix(dep, module); ok && rel != "kubeapi/openapi" && rel != "kubeapi/openapi/internal/specfiles" && rel != "internal/errdefs" {
			t.Errorf("kubeapi/openapi imports %s", dep)
		}
	}
}

// TestGeneratorImportsNoLayerAbove: the generator and the definitions
// know the served resources (kubeapi) and nothing of the cluster.
func TestGeneratorImportsNoLayerAbove(t *testing.T) {
	for _, pkg := range []string{"kubeapi/openapi/gen", "kubeapi/openapi/internal/definitions"} {
		for _, dep := range deps(t, module+pkg) {
			for _, bad := range []string{"peer", "consensus", "gossip", "cmd"} {
				if within(dep, module+bad) {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
			if pkg == "kubeapi/openapi/internal/definitions" && strings.HasPrefix(dep, module) && dep != module+pkg {
				t.Errorf("%s imports %s", pkg, dep)
			}
		}
	}
}
