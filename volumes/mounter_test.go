package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// memTmpfs records mounts instead of making them.
type memTmpfs struct {
	mu      sync.Mutex
	mounted map[string]int64
}

func (m *memTmpfs) Mount(dir string, size int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mounted == nil {
		m.mounted = map[string]int64{}
	}
	m.mounted[dir] = size
	return nil
}

func (m *memTmpfs) Unmount(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mounted, dir)
	return nil
}

// memSources serves config maps from a map, by namespace/name.
type memSources map[string]*workload.ConfigMap

func (s memSources) ConfigMap(_ context.Context, ns, name string) (*workload.ConfigMap, error) {
	cm, ok := s[ns+"/"+name]
	if !ok {
		return nil, fmt.Errorf("configmap %s/%s: %w", ns, name, errdefs.ErrNotFound)
	}
	return cm, nil
}

func TestMounterSetsUpAndTearsDownAPodsVolumes(t *testing.T) {
	root, host := t.TempDir(), t.TempDir()
	tmpfs := &memTmpfs{}
	m := &Mounter{Root: filepath.Join(root, "pods"), Tmpfs: tmpfs, Now: func() time.Time { return t0 }}
	dirOrCreate := workload.HostPathDirectoryOrCreate
	size := workload.MustParseQuantity("64Mi")
	pod := &workload.Pod{Metadata: workload.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-1"}}
	pod.Spec.Volumes = []workload.Volume{
		{Name: "scratch", VolumeSource: workload.VolumeSource{EmptyDir: &workload.EmptyDirVolumeSource{}}},
		{Name: "cache", VolumeSource: workload.VolumeSource{EmptyDir: &workload.EmptyDirVolumeSource{Medium: workload.StorageMediumMemory, SizeLimit: &size}}},
		{Name: "data", VolumeSource: workload.VolumeSource{HostPath: &workload.HostPathVolumeSource{Path: filepath.Join(host, "data"), Type: &dirOrCreate}}},
		{Name: "config", VolumeSource: workload.VolumeSource{ConfigMap: &workload.ConfigMapVolumeSource{Name: "web"}}},
	}
	src := memSources{"default/web": {Data: map[string]string{"greeting": "hello"}}}
	got, err := m.SetUp(context.Background(), pod, src)
	if err != nil {
		t.Fatal(err)
	}
	vols := filepath.Join(root, "pods", "uid-1", "volumes")
	want := map[string]Mounted{
		"scratch": {Path: filepath.Join(vols, "scratch"), Writable: true},
		"cache":   {Path: filepath.Join(vols, "cache"), Writable: true},
		"data":    {Path: filepath.Join(host, "data"), Writable: true},
		"config":  {Path: filepath.Join(vols, "config"), ReadOnly: true},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("SetUp = %v\nwant %v", got, want)
	}
	if fi, err := os.Stat(filepath.Join(host, "data")); err != nil || !fi.IsDir() {
		t.Errorf("DirectoryOrCreate did not make the directory: %v", err)
	}
	if tmpfs.mounted[filepath.Join(vols, "cache")] != 64<<20 {
		t.Errorf("tmpfs mounts %v, want cache with 64Mi", tmpfs.mounted)
	}
	if b, err := os.ReadFile(filepath.Join(vols, "config", "greeting")); err != nil || string(b) != "hello" {
		t.Errorf("config/greeting = %q, %v", b, err)
	}
	// A file in the host path and one in the emptyDir.
	for _, p := range []string{filepath.Join(host, "data", "keep"), filepath.Join(vols, "scratch", "tmp")} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Set up again: the config map's update reaches the file; the rest stays.
	src["default/web"] = &workload.ConfigMap{Data: map[string]string{"greeting": "bonjour"}}
	if _, err := m.SetUp(context.Background(), pod, src); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(vols, "config", "greeting")); string(b) != "bonjour" {
		t.Errorf("after the update config/greeting = %q", b)
	}
	if _, err := os.Stat(filepath.Join(vols, "scratch", "tmp")); err != nil {
		t.Errorf("the emptyDir lost its file on a refresh: %v", err)
	}
	if uids, err := m.PodUIDs(); err != nil || len(uids) != 1 || uids[0] != "uid-1" {
		t.Errorf("PodUIDs = %v, %v", uids, err)
	}
	if err := m.TearDown("uid-1"); err != nil {
		t.Fatal(err)
	}
	if len(tmpfs.mounted) != 0 {
		t.Errorf("still mounted after TearDown: %v", tmpfs.mounted)
	}
	if _, err := os.Stat(filepath.Join(root, "pods", "uid-1")); !os.IsNotExist(err) {
		t.Errorf("the pod's directory outlived TearDown: %v", err)
	}
	if _, err := os.Stat(filepath.Join(host, "data", "keep")); err != nil {
		t.Errorf("TearDown touched the host path: %v", err)
	}
}

func TestMounterSaysWhichVolumeFailedAndWhy(t *testing.T) {
	m := &Mounter{Root: t.TempDir()}
	dir := workload.HostPathDirectory
	pod := &workload.Pod{Metadata: workload.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-2"}}
	pod.Spec.Volumes = []workload.Volume{
		{Name: "config", VolumeSource: workload.VolumeSource{ConfigMap: &workload.ConfigMapVolumeSource{Name: "missing"}}},
		{Name: "maybe", VolumeSource: workload.VolumeSource{ConfigMap: &workload.ConfigMapVolumeSource{Name: "missing", Optional: yes()}}},
		{Name: "host", VolumeSource: workload.VolumeSource{HostPath: &workload.HostPathVolumeSource{Path: "/nonexistent/shoal", Type: &dir}}},
		{Name: "mem", VolumeSource: workload.VolumeSource{EmptyDir: &workload.EmptyDirVolumeSource{Medium: workload.StorageMediumMemory}}},
	}
	got, err := m.SetUp(context.Background(), pod, memSources{})
	if !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("err %v, want ErrNotFound", err)
	}
	for _, want := range []string{
		`volume "config": configmap "missing" not found`,
		`volume "host": hostPath type check failed: /nonexistent/shoal not found`,
		`volume "mem": emptyDir medium Memory: this node cannot mount tmpfs`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error %q does not say %q", err, want)
		}
	}
	if _, ok := got["maybe"]; !ok || len(got) != 1 {
		t.Errorf("set up %v, want only the optional one", got)
	}
}

func TestSubPath(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteAtomic(filepath.Join(root, "cfg"), []File{{Path: "app.conf", Data: []byte("x"), Mode: 0o644}}, t0); err != nil {
		t.Fatal(err)
	}
	realRoot, _ := filepath.EvalSymlinks(root)
	if p, err := SubPath(root, "logs/web", true); err != nil || p != filepath.Join(realRoot, "logs", "web") {
		t.Errorf("a new subPath: %q, %v", p, err)
	}
	if _, err := SubPath(root, "absent", false); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("a missing subPath in a read-only volume: %v, want ErrNotFound", err)
	}
	if _, err := SubPath(root, "escape", false); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("a subPath through a symlink out of the volume: %v, want ErrInvalid", err)
	}
	p, err := SubPath(filepath.Join(root, "cfg"), "app.conf", false)
	if b, _ := os.ReadFile(p); err != nil || string(b) != "x" || !strings.Contains(p, "..2026_11_27") {
		t.Errorf("a projected file's subPath: %q, %v (read %q)", p, err, b)
	}
}
