package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// LinuxNFS mounts NFS exports with the system's mount helper (`mount -t
// nfs`, from nfs-common), as the kubelet's nfs plugin does: the helper
// resolves the server and negotiates the version. It needs CAP_SYS_ADMIN
// and a kernel with an NFS client.
type LinuxNFS struct{}

var _ NFS = LinuxNFS{}

// Mount implements NFS.
func (LinuxNFS) Mount(ctx context.Context, source, dir string, options []string) error {
	if mounted(dir) {
		return nil
	}
	args := []string{"-t", "nfs"}
	if len(options) > 0 {
		args = append(args, "-o", strings.Join(options, ","))
	}
	args = append(args, source, dir)
	if out, err := exec.CommandContext(ctx, "mount", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("mount -t nfs %s: %v: %s", source, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Unmount implements NFS.
func (LinuxNFS) Unmount(dir string) error { return LinuxTmpfs{}.Unmount(dir) }

// UnmountUnder detaches every file system mounted below dir, deepest
// first (pods' volumes, containerd's snapshots): what a node, a test or
// the demo leaves mounted under a directory it is about to remove.
func UnmountUnder(dir string) error {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return err
	}
	var mounts []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], dir+"/") {
			mounts = append(mounts, f[1])
		}
	}
	var errs []error
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := unix.Unmount(mounts[i], unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", mounts[i], err))
		}
	}
	return errors.Join(errs...)
}
