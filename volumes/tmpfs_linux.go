package volumes

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// LinuxTmpfs mounts tmpfs with mount(2); it needs CAP_SYS_ADMIN.
type LinuxTmpfs struct{}

var _ Tmpfs = LinuxTmpfs{}

// Mount implements Tmpfs: nosuid, nodev, mode 0777.
func (LinuxTmpfs) Mount(dir string, sizeBytes int64) error {
	if mounted(dir) {
		return nil
	}
	opts := "mode=0777"
	if sizeBytes > 0 {
		opts += fmt.Sprintf(",size=%d", sizeBytes)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	return nil
}

// Unmount implements Tmpfs.
func (LinuxTmpfs) Unmount(dir string) error {
	if !mounted(dir) {
		return nil
	}
	if err := unix.Unmount(dir, 0); err != nil {
		return fmt.Errorf("unmount %s: %w", dir, err)
	}
	return nil
}

// mounted says whether a file system other than its parent's is mounted
// on dir.
func mounted(dir string) bool {
	a, err := os.Stat(dir)
	if err != nil {
		return false
	}
	b, err := os.Stat(filepath.Dir(dir))
	if err != nil {
		return false
	}
	return a.Sys().(*syscall.Stat_t).Dev != b.Sys().(*syscall.Stat_t).Dev
}
