package main

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tarRun runs the tar applet as kubectl cp runs it in a container.
func tarRun(t *testing.T, stdin []byte, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"/tar"}, args...), bytes.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// A tree archived with kubectl cp's "from a pod" command line comes back
// whole from its "to a pod" command lines: files with their contents and
// modes, an empty directory, a symbolic and a hard link; names lose the
// leading "/" as GNU tar's do.
func TestTarRoundTripsATreeAsKubectlCpRunsIt(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	for p, body := range map[string]string{"a.txt": "alpha\n", "sub/b.txt": "beta\n", "sub/deeper/c.bin": "\x00\x01\x02"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, p), []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(src, "a.txt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(src, "empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(src, "sub/b.txt"), filepath.Join(src, "hard")); err != nil {
		t.Fatal(err)
	}

	archive, stderr, code := tarRun(t, nil, "cf", "-", src)
	if code != 0 {
		t.Fatalf("tar cf - %s: exit %d: %s", src, code, stderr)
	}
	if !strings.Contains(stderr, "Removing leading `/'") {
		t.Errorf("tar cf of an absolute path did not say it strips the /: %q", stderr)
	}
	list, _, code := tarRun(t, []byte(archive), "tf", "-")
	if code != 0 || strings.Contains(list, "\n/") || strings.HasPrefix(list, "/") {
		t.Fatalf("tar tf: exit %d, names:\n%s", code, list)
	}
	prefix := strings.TrimPrefix(src, "/")
	for _, want := range []string{prefix + "/", prefix + "/a.txt", prefix + "/empty/", prefix + "/sub/deeper/c.bin", prefix + "/link"} {
		if !strings.Contains(list, want+"\n") {
			t.Errorf("archive lacks %q:\n%s", want, list)
		}
	}

	for _, args := range [][]string{
		{"-xmf", "-", "-C"},
		{"--no-same-permissions", "--no-same-owner", "-xmf", "-", "-C"},
	} {
		dst := t.TempDir()
		if _, stderr, code := tarRun(t, []byte(archive), append(args, dst)...); code != 0 {
			t.Fatalf("tar %v: exit %d: %s", args, code, stderr)
		}
		got := filepath.Join(dst, prefix)
		for p, body := range map[string]string{"a.txt": "alpha\n", "sub/b.txt": "beta\n", "sub/deeper/c.bin": "\x00\x01\x02", "hard": "beta\n", "link": "alpha\n"} {
			if b, err := os.ReadFile(filepath.Join(got, p)); err != nil || string(b) != body {
				t.Errorf("tar %v: %s = %q, %v; want %q", args, p, b, err, body)
			}
		}
		if l, err := os.Readlink(filepath.Join(got, "link")); err != nil || l != "a.txt" {
			t.Errorf("tar %v: link -> %q, %v", args, l, err)
		}
		if st, err := os.Stat(filepath.Join(got, "empty")); err != nil || !st.IsDir() {
			t.Errorf("tar %v: the empty directory: %v", args, err)
		}
		if st, err := os.Stat(filepath.Join(got, "a.txt")); err != nil || st.Mode().Perm()&0o100 == 0 {
			t.Errorf("tar %v: a.txt lost its execute bit: %v %v", args, st.Mode(), err)
		}
	}
}

// kubectl cp to a pod sends its own archive: one file named as the
// destination's base name, extracted with -C the destination's directory.
func TestTarExtractsIntoTheDirectoryGiven(t *testing.T) {
	var archive bytes.Buffer
	src := filepath.Join(t.TempDir(), "note.txt")
	if err := os.WriteFile(src, []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := tarRun(t, nil, "cf", "-", "-C", filepath.Dir(src), "note.txt")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	archive.WriteString(out)
	dst := t.TempDir()
	if _, stderr, code := tarRun(t, archive.Bytes(), "-xmf", "-", "-C", dst); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "note.txt")); err != nil || string(b) != "hi\n" {
		t.Fatalf("note.txt = %q, %v", b, err)
	}
}

// Failures exit 2 as GNU tar's do: a path that is not there (after
// archiving the others), a member that climbs out with "..", bad options.
func TestTarFailsAsGNUTarDoes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "here"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	archive, stderr, code := tarRun(t, nil, "cf", "-", filepath.Join(dir, "missing"), filepath.Join(dir, "here"))
	if code != 2 || !strings.Contains(stderr, "missing: Cannot stat") || !strings.Contains(stderr, "Exiting with failure status") {
		t.Errorf("tar cf of a missing path: exit %d, stderr %q", code, stderr)
	}
	if list, _, _ := tarRun(t, []byte(archive), "tf", "-"); !strings.Contains(list, "here") {
		t.Errorf("the path that is there was not archived:\n%s", list)
	}

	var evil bytes.Buffer
	tw := tar.NewWriter(&evil)
	_ = tw.WriteHeader(&tar.Header{Name: "../escape", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3})
	_, _ = tw.Write([]byte("out"))
	_ = tw.Close()
	dst := filepath.Join(t.TempDir(), "in")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := tarRun(t, evil.Bytes(), "-xmf", "-", "-C", dst); code != 2 || !strings.Contains(stderr, "'..'") {
		t.Errorf("a member with ..: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dst), "escape")); err == nil {
		t.Error("a member with .. was written outside the directory")
	}

	for _, args := range [][]string{{"-q"}, {"cf", "-"}, {"-cx", "-"}, {"-xf"}} {
		if _, _, code := tarRun(t, nil, args...); code != 2 {
			t.Errorf("tar %v: exit %d, want 2", args, code)
		}
	}
}

func TestTestAnswersWithItsExitCode(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"-d", dir}, 0}, {[]string{"-d", file}, 1}, {[]string{"-d", filepath.Join(dir, "nope")}, 1},
		{[]string{"-f", file}, 0}, {[]string{"-f", dir}, 1}, {[]string{"-e", file}, 0}, {[]string{"-e", filepath.Join(dir, "nope")}, 1},
		{[]string{"-z", file}, 2}, {[]string{"-d"}, 2},
	} {
		var errb bytes.Buffer
		if got := run(append([]string{"test"}, c.args...), nil, &errb, &errb); got != c.want {
			t.Errorf("test %v: exit %d, want %d (%s)", c.args, got, c.want, errb.String())
		}
	}
}
