package volumes

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 27, 13, 10, 0, 0, time.UTC)

func readAll(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") {
			continue
		}
		real, err := filepath.EvalSymlinks(filepath.Join(dir, e.Name())) // through ..data
		if err != nil {
			t.Fatal(err)
		}
		_ = filepath.WalkDir(real, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(real, p)
			out[filepath.Join(e.Name(), rel)] = string(b)
			return nil
		})
	}
	return out
}

func TestWriteAtomic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config")
	changed, err := WriteAtomic(dir, []File{{Path: "greeting", Data: []byte("hello"), Mode: 0o644}, {Path: "etc/app.conf", Data: []byte("x=1"), Mode: 0o600}}, t0)
	if err != nil || !changed {
		t.Fatalf("first write: changed %v, err %v", changed, err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "greeting")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("greeting is not a symlink through ..data: %v %v", fi, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "etc", "app.conf"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("etc/app.conf: %v, %v; want mode 0600", fi, err)
	}
	if got := readAll(t, dir); len(got) != 2 || got["greeting"] != "hello" || got["etc/app.conf"] != "x=1" {
		t.Fatalf("after the first write: %v", got)
	}
	first, _ := os.Readlink(filepath.Join(dir, dataLink))
	if changed, err := WriteAtomic(dir, []File{{Path: "etc/app.conf", Data: []byte("x=1"), Mode: 0o600}, {Path: "greeting", Data: []byte("hello"), Mode: 0o644}}, t0.Add(time.Second)); err != nil || changed {
		t.Fatalf("the same files again: changed %v, err %v", changed, err)
	}
	// One file changes, one goes, one comes.
	if changed, err := WriteAtomic(dir, []File{{Path: "greeting", Data: []byte("bonjour"), Mode: 0o644}, {Path: "new", Data: []byte("n"), Mode: 0o644}}, t0.Add(2*time.Second)); err != nil || !changed {
		t.Fatalf("an update: changed %v, err %v", changed, err)
	}
	if got := readAll(t, dir); len(got) != 2 || got["greeting"] != "bonjour" || got["new"] != "n" {
		t.Fatalf("after the update: %v", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "etc")); !os.IsNotExist(err) {
		t.Errorf("etc, no longer projected, is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, first)); err != nil {
		t.Errorf("the version just replaced, %s, is gone already: %v", first, err)
	}
	if _, err := WriteAtomic(dir, []File{{Path: "greeting", Data: []byte("hallo"), Mode: 0o644}}, t0.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, first)); !os.IsNotExist(err) {
		t.Errorf("the version before the last, %s, is still there: %v", first, err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 4 { // two ..2026_... versions, ..data, greeting
		t.Errorf("dir holds %v", names)
	}
}

// A reader that goes through ..data once sees every file of one version,
// never a mix or a partial file, while a writer updates; a reader through
// a visible name finds the file unless two updates overtook it.
func TestWriteAtomicReadersNeverSeeAMix(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config")
	version := func(n int) []File {
		v := []byte(strings.Repeat(string(rune('a'+n%26)), 4096))
		return []File{{Path: "a", Data: v, Mode: 0o644}, {Path: "b", Data: v, Mode: 0o644}}
	}
	if _, err := WriteAtomic(dir, version(0), t0); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var reads, started, done atomic.Int64 // updates begun and finished
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1_000_000 && !stop.Load(); i++ {
				data, err := os.Readlink(filepath.Join(dir, dataLink))
				if err != nil {
					errs <- "readlink: " + err.Error()
					return
				}
				a, errA := os.ReadFile(filepath.Join(dir, data, "a"))
				b, errB := os.ReadFile(filepath.Join(dir, data, "b"))
				if errA != nil || errB != nil {
					continue // that version was removed after the readlink: look again
				}
				if string(a) != string(b) || len(a) != 4096 {
					errs <- "a mix of versions or a partial file"
					return
				}
				before := done.Load()
				if _, err := os.ReadFile(filepath.Join(dir, "a")); err != nil && started.Load()-before < 2 {
					errs <- "a through its visible name: " + err.Error()
					return
				}
				reads.Add(1)
			}
		}()
	}
	for n := 1; n <= 300; n++ {
		started.Add(1)
		if _, err := WriteAtomic(dir, version(n), t0.Add(time.Duration(n)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		done.Add(1)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	t.Logf("%d consistent reads during 300 updates", reads.Load())
}
