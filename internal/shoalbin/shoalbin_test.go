package shoalbin

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

var bin string

func TestMain(m *testing.M) { os.Exit(Run(m, &bin)) }

func TestTheBinaryRuns(t *testing.T) {
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "agent") {
		t.Fatalf("%s --help: %v\n%s", bin, err, out)
	}
}
