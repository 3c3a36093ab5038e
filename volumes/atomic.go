package volumes

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// dataLink names the directory that holds the current files.
const dataLink = "..data"

// WriteAtomic makes dir hold exactly files, all changing at once for a
// reader, and reports whether anything changed. now names the new files'
// directory ("..2026_11_27_13_10_00.RANDOM"). It must not run concurrently
// with itself on one dir.
//
// The files go into a new directory; a "..data_tmp" symlink to it is
// renamed over "..data" (one atomic step); each top-level name in dir is a
// symlink through "..data" and is made once; names no longer projected,
// and the directory before the old one, are removed after the switch.
// The old one stays until the next update: a reader that followed
// "..data" to it just before the switch still finds its files.
func WriteAtomic(dir string, files []File, now time.Time) (bool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	cur, err := os.Readlink(filepath.Join(dir, dataLink))
	if err == nil && holds(filepath.Join(dir, cur), files) {
		return false, nil
	}
	next, err := os.MkdirTemp(dir, now.UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return false, err
	}
	if err := writeFiles(next, files); err != nil {
		os.RemoveAll(next)
		return false, err
	}
	tmp := filepath.Join(dir, dataLink+"_tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(next), tmp); err != nil {
		os.RemoveAll(next)
		return false, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataLink)); err != nil {
		os.RemoveAll(next)
		return false, err
	}
	want := map[string]bool{}
	for _, f := range files {
		want[strings.SplitN(f.Path, "/", 2)[0]] = true
	}
	for name := range want {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			if err := os.Symlink(filepath.Join(dataLink, name), link); err != nil {
				return true, err
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return true, err
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "..") && !want[e.Name()] && e.Type()&fs.ModeSymlink != 0 {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	for _, e := range entries { // older versions; the one just replaced stays
		if n := e.Name(); e.IsDir() && strings.HasPrefix(n, "..") && n != filepath.Base(next) && n != cur {
			_ = os.RemoveAll(filepath.Join(dir, n))
		}
	}
	return true, nil
}

func writeFiles(root string, files []File) error {
	if err := os.Chmod(root, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		if !strings.HasPrefix(p, root+string(filepath.Separator)) {
			return fmt.Errorf("projected path %q leaves the volume", f.Path)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			return err
		}
		if err := os.Chmod(p, f.Mode); err != nil { // WriteFile's mode passes through the umask
			return err
		}
	}
	return nil
}

// holds says whether dir holds exactly files (paths, contents, modes).
func holds(dir string, files []File) bool {
	want := map[string]File{}
	for _, f := range files {
		want[filepath.FromSlash(f.Path)] = f
	}
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		f, ok := want[rel]
		info, ierr := d.Info()
		if !ok || ierr != nil || info.Mode().Perm() != f.Mode.Perm() {
			return fs.ErrInvalid
		}
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, f.Data) {
			return fs.ErrInvalid
		}
		n++
		return nil
	})
	return err == nil && n == len(want)
}
