package shoalbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Run sets *path to the shoal binary, runs m, and returns its exit code
// for TestMain to exit with. A binary it built is removed afterwards.
func Run(m *testing.M, path *string) int {
	if *path = os.Getenv("SHOAL_BIN"); *path != "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "shoal-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "shoalbin:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	*path = filepath.Join(dir, "shoal")
	if out, err := exec.Command("go", "build", "-o", *path, "github.com/shoalproject/shoal/cmd/shoal").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build shoal: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}
