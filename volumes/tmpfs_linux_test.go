package volumes

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// A real tmpfs (root): mounted once however often asked, sized, gone after
// Unmount, and TearDown unmounts it before removing the pod's directory.
func TestLinuxTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root to mount tmpfs")
		}
		t.Skip("needs root to mount tmpfs")
	}
	m := &Mounter{Root: t.TempDir(), Tmpfs: LinuxTmpfs{}}
	dir := filepath.Join(m.Root, "uid-3", "volumes", "cache")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	for range 2 {
		if err := m.Tmpfs.Mount(dir, 8<<20); err != nil {
			t.Fatal(err)
		}
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != unix.TMPFS_MAGIC || st.Blocks*uint64(st.Bsize) != 8<<20 {
		t.Fatalf("on %s: fs type %#x, %d bytes; want tmpfs of 8 MiB", dir, st.Type, st.Blocks*uint64(st.Bsize))
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.TearDown("uid-3"); err != nil {
		t.Fatal(err)
	}
	if mounted(dir) {
		t.Fatal("still mounted after TearDown")
	}
	if _, err := os.Stat(filepath.Join(m.Root, "uid-3")); !os.IsNotExist(err) {
		t.Fatalf("the pod's directory outlived TearDown: %v", err)
	}
}
