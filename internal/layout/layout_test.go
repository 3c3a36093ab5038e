package layout

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/shoalproject/shoal/"

// forbidden maps a package (and its sub-packages) to the Shoal packages it
// must not import.
var forbidden = map[string][]string{
	"gossip":    {"peer", "consensus", "workload", "netproxy", "volumes", "cmd"},
	"consensus": {"peer", "gossip", "workload", "netproxy", "volumes", "cmd"},
	"workload":  {"peer", "cmd"},
	"netproxy":  {"peer", "cmd"},
	"volumes":   {"peer", "cmd"},
	"kubeapi":   {"peer", "consensus", "gossip", "netproxy", "volumes", "cmd"},
	"internal":  {"peer", "consensus", "gossip", "workload", "netproxy", "volumes", "cmd"},
}

type pkg struct {
	dir     string
	imports map[string]bool
	doc     bool
}

func repoRoot(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..")
}

// packages parses every non-test Go file under the repository.
func packages(t *testing.T) map[string]*pkg {
	root := repoRoot(t)
	out := map[string]*pkg{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "bin") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		p := out[rel]
		if p == nil {
			p = &pkg{dir: rel, imports: map[string]bool{}}
			out[rel] = p
		}
		if f.Doc != nil && strings.HasPrefix(f.Doc.Text(), "Package "+f.Name.Name) || f.Doc != nil && f.Name.Name == "main" && strings.HasPrefix(f.Doc.Text(), "Command ") {
			p.doc = true
		}
		for _, imp := range f.Imports {
			p.imports[strings.Trim(imp.Path.Value, `"`)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLayersImportOnlyDownwards(t *testing.T) {
	for dir, p := range packages(t) {
		top := strings.SplitN(filepath.ToSlash(dir), "/", 2)[0]
		for imp := range p.imports {
			rel, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			for _, bad := range forbidden[top] {
				if rel == bad || strings.HasPrefix(rel, bad+"/") {
					t.Errorf("%s imports %s: %s must not import %s", dir, imp, top, bad)
				}
			}
		}
	}
}

func TestEveryPackageHasADocComment(t *testing.T) {
	pkgs := packages(t)
	for _, want := range []string{"gossip", "consensus", "peer", "peer/api", "cmd/shoal", "internal/pki"} {
		if _, ok := pkgs[want]; !ok {
			t.Fatalf("package %s not found: the walk is broken (found %d packages)", want, len(pkgs))
		}
	}
	for dir, p := range pkgs {
		if !p.doc {
			t.Errorf("%s: no package doc comment (\"Package x ...\", or \"Command x ...\" for a main package)", dir)
		}
	}
}
