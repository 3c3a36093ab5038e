package containerd

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cgroupRoot is where the cgroup file systems are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// oomKilled reports whether the kernel's OOM killer killed a process in
// the container's memory cgroup. It must be called before the task is
// deleted, while the cgroup still exists. It reads memory.oom_control
// (cgroup v1, oom_kill needs Linux 4.13) or memory.events (cgroup v2).
func oomKilled(cgroupsPath string) bool {
	if cgroupsPath == "" || strings.Contains(cgroupsPath, ":") { // systemd-style paths are not used here
		return false
	}
	v1 := filepath.Join(cgroupRoot, "memory", cgroupsPath, "memory.oom_control")
	if n, ok := readCounter(v1, "oom_kill"); ok {
		return n > 0
	}
	v2 := filepath.Join(cgroupRoot, cgroupsPath, "memory.events")
	if n, ok := readCounter(v2, "oom_kill"); ok {
		return n > 0
	}
	return false
}

// readCounter reads the "key value" line named key from a cgroup file.
func readCounter(path, key string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// swapAccounted reports whether the kernel accounts swap per cgroup, so a
// memory+swap limit may be set.
func swapAccounted() bool {
	if _, err := os.Stat(filepath.Join(cgroupRoot, "memory", "memory.memsw.limit_in_bytes")); err == nil {
		return true
	}
	_, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers"))
	return err == nil // cgroup v2 accounts swap (memory.swap.max)
}
