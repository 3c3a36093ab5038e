package gossip

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestPackageImportsNothingOfShoalButErrdefs keeps gossip at the bottom
// of the layers (DESIGN.md): wiring happens in peer.
func TestPackageImportsNothingOfShoalButErrdefs(t *testing.T) {
	const module = "github.com/shoalproject/shoal"
	allowed := map[string]bool{module + "/internal/errdefs": true}
	for _, f := range parsePackage(t, parser.ImportsOnly) {
		for _, imp := range f.file.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if (path == module || strings.HasPrefix(path, module+"/")) && !allowed[path] {
				t.Errorf("%s imports %s; gossip may import only internal/errdefs of Shoal", f.name, path)
			}
		}
	}
}

// TestPackageHasManual checks that doc.go carries the package comment.
func TestPackageHasManual(t *testing.T) {
	for _, f := range parsePackage(t, parser.ParseComments|parser.PackageClauseOnly) {
		doc := f.file.Doc.Text()
		if f.name == "doc.go" {
			if !strings.HasPrefix(doc, "Package gossip ") || len(doc) < 2000 {
				t.Errorf("doc.go's package comment is missing or thin (%d bytes)", len(doc))
			}
		} else if doc != "" {
			t.Errorf("%s has a package comment; it belongs in doc.go only", f.name)
		}
	}
}

type parsed struct {
	name string
	file *ast.File
}

func parsePackage(t *testing.T, mode parser.Mode) []parsed {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var out []parsed
	fset := token.NewFileSet()
	for _, e := range entries {
		n := e.Name()
		if !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, mode)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, parsed{n, f})
	}
	if len(out) == 0 {
		t.Fatal("no Go files")
	}
	return out
}
