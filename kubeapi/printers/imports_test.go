package printers

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportsOnlyKubeAPITypes holds the package to what doc.go promises:
// the standard library, k8s.io/api and k8s.io/apimachinery, nothing of
// Shoal's and nothing that does I/O on its behalf.
func TestImportsOnlyKubeAPITypes(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	allowedStd := map[string]bool{"errors": true, "fmt": true, "net": true, "reflect": true, "slices": true, "strconv": true, "strings": true, "time": true}
	fset := token.NewFileSet()
	docs := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, f, src, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if file.Doc != nil && strings.HasPrefix(file.Doc.Text(), "Package printers ") {
			docs++
		}
		for _, imp := range file.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			switch {
			case strings.HasPrefix(path, "k8s.io/api/"), strings.HasPrefix(path, "k8s.io/apimachinery/"):
			case allowedStd[path]:
			default:
				t.Errorf("%s imports %s: printers imports only k8s.io/api, k8s.io/apimachinery and pure standard packages", f, path)
			}
		}
	}
	if docs != 1 {
		t.Errorf("%d files carry the package doc comment, want exactly one (doc.go)", docs)
	}
}
