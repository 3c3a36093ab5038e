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

// memSources serves config maps from a map, by namespace/name, and
// claims and volumes from the maps beside it.
type memSources map[string]*workload.ConfigMap

var (
	memClaims  = map[string]*workload.PersistentVolumeClaim{}
	memVolumes = map[string]*workload.PersistentVolume{}
	memSecrets = map[string]*workload.Secret{}
)

func (s memSources) ConfigMap(_ context.Context, ns, name string) (*workload.ConfigMap, error) {
	cm, ok := s[ns+"/"+name]
	if !ok {
		return nil, fmt.Errorf("configmap %s/%s: %w", ns, name, errdefs.ErrNotFound)
	}
	return cm, nil
}

func (s memSources) Secret(_ context.Context, ns, name string) (*workload.Secret, error) {
	sec, ok := memSecrets[ns+"/"+name]
	if !ok {
		return nil, fmt.Errorf("secret %s/%s: %w", ns, name, errdefs.ErrNotFound)
	}
	return sec, nil
}

func (s memSources) Claim(_ context.Context, ns, name string) (*workload.PersistentVolumeClaim, error) {
	c, ok := memClaims[ns+"/"+name]
	if !ok {
		return nil, fmt.Errorf("claim %s/%s: %w", ns, name, errdefs.ErrNotFound)
	}
	return c, nil
}

func (s memSources) Volume(_ context.Context, name string) (*workload.PersistentVolume, error) {
	v, ok := memVolumes[name]
	if !ok {
		return nil, fmt.Errorf("volume %s: %w", name, errdefs.ErrNotFound)
	}
	return v, nil
}

func TestMounterSetsUpAndTearsDownAPodsVolumes(t *testing.T) {
	root, host := t.TempDir(), t.TempDir()
	tmpfs := &memTmpfs{}
	m := &Mounter{Root: filepath.Join(root, "pods"), Tmpfs: tmpfs, Now: func() time.Time { return t0 }}
	dirOrCreate := workload.HostPathDirectoryOrCreate
	size := workload.MustParseQuantity("64Mi")
	pod := &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-1"}}
	pod.Spec.Volumes = []workload.Volume{
		{Name: "scratch", VolumeSource: workload.VolumeSource{EmptyDir: &workload.EmptyDirVolumeSource{}}},
		{Name: "cache", VolumeSource: workload.VolumeSource{EmptyDir: &workload.EmptyDirVolumeSource{Medium: workload.StorageMediumMemory, SizeLimit: &size}}},
		{Name: "data", VolumeSource: workload.VolumeSource{HostPath: &workload.HostPathVolumeSource{Path: filepath.Join(host, "data"), Type: &dirOrCreate}}},
		{Name: "config", VolumeSource: workload.VolumeSource{ConfigMap: &workload.ConfigMapVolumeSource{LocalObjectReference: workload.LocalObjectReference{Name: "web"}}}},
	}
	src := memSources{"default/web": {Data: map[string]string{"greeting": "hello"}}}
	got, err := m.SetUp(context.Background(), pod, src)
	if err != nil {
		t.Fatal(err)
	}
	vols := filepath.Join(root, "pods", "uid-1", "volumes")
	want := map[string]Mounted{
		"scratch": {Path: filepath.Join(vols, "scratch")},
		"cache":   {Path: filepath.Join(vols, "cache")},
		"data":    {Path: filepath.Join(host, "data")},
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
	pod := &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-2"}}
	pod.Spec.Volumes = []workload.Volume{
		{Name: "config", VolumeSource: workload.VolumeSource{ConfigMap: &workload.ConfigMapVolumeSource{LocalObjectReference: workload.LocalObjectReference{Name: "missing"}}}},
		{Name: "maybe", VolumeSource: workload.VolumeSource{ConfigMap: &workload.ConfigMapVolumeSource{LocalObjectReference: workload.LocalObjectReference{Name: "missing"}, Optional: yes()}}},
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
	if _, err := SubPath(root, "escape/made/here", true); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("creating a subPath through a symlink out of the volume: %v, want ErrInvalid", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "made")); !os.IsNotExist(err) {
		t.Errorf("SubPath created a directory outside the volume: %v", err)
	}
	p, err := SubPath(filepath.Join(root, "cfg"), "app.conf", false)
	if b, _ := os.ReadFile(p); err != nil || string(b) != "x" || !strings.Contains(p, "..2026_11_27") {
		t.Errorf("a projected file's subPath: %q, %v (read %q)", p, err, b)
	}
}

// A claim's volume: its host path, read-only for a ReadOnlyMany claim or a
// readOnly volume; a claim not bound yet, or whose volume is nfs or EBS,
// says so.
func TestMounterMountsClaims(t *testing.T) {
	host := t.TempDir()
	m := &Mounter{Root: t.TempDir()}
	dirOrCreate := workload.HostPathDirectoryOrCreate
	data := pv("data", "100Gi")
	data.Spec.HostPath = &workload.HostPathVolumeSource{Path: filepath.Join(host, "data"), Type: &dirOrCreate}
	nfs := pv("nfs", "1Gi")
	nfs.Spec.HostPath, nfs.Spec.NFS = nil, &workload.NFSVolumeSource{Server: "nfs.example", Path: "/x"}
	memVolumes["data"], memVolumes["nfs"] = data, nfs
	bound := func(name, volume string, modes ...workload.PersistentVolumeAccessMode) *workload.PersistentVolumeClaim {
		c := claim("10Gi", wants(modes...))
		c.ObjectMeta.Name, c.Spec.VolumeName, c.Status.Phase = name, volume, workload.ClaimBound
		return c
	}
	memClaims["default/rox"] = bound("rox", "data", workload.ReadOnlyMany)
	memClaims["default/rwo"] = bound("rwo", "data", workload.ReadWriteOnce)
	memClaims["default/nfs"] = bound("nfs", "nfs", workload.ReadWriteMany)
	memClaims["default/pending"] = claim("1Gi")
	t.Cleanup(func() { clear(memClaims); clear(memVolumes) })
	pod := &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-4"}}
	vol := func(name, claim string, ro bool) workload.Volume {
		return workload.Volume{Name: name, VolumeSource: workload.VolumeSource{PersistentVolumeClaim: &workload.PersistentVolumeClaimVolumeSource{ClaimName: claim, ReadOnly: ro}}}
	}
	pod.Spec.Volumes = []workload.Volume{vol("rox", "rox", false), vol("rwo", "rwo", false), vol("rwo-ro", "rwo", true),
		vol("nfs", "nfs", false), vol("pending", "pending", false), vol("gone", "gone", false)}
	got, err := m.SetUp(context.Background(), pod, memSources{})
	path := filepath.Join(host, "data")
	want := map[string]Mounted{"rox": {Path: path, ReadOnly: true}, "rwo": {Path: path}, "rwo-ro": {Path: path, ReadOnly: true}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("SetUp = %v\nwant %v", got, want)
	}
	for _, msg := range []string{
		`volume "nfs": volume "nfs": nfs needs the kernel's NFS client`,
		`volume "pending": persistentvolumeclaim "pending" is not bound`,
		`volume "gone": persistentvolumeclaim "gone" not found`,
	} {
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("the error %v does not say %q", err, msg)
		}
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		t.Errorf("DirectoryOrCreate did not make %s: %v", path, err)
	}
}

// A secret volume is projected on a tmpfs, read-only, as its items say; a
// node that cannot mount tmpfs refuses it rather than write to disk.
func TestMounterProjectsSecretsOnTmpfs(t *testing.T) {
	tmpfs := &memTmpfs{}
	m := &Mounter{Root: t.TempDir(), Tmpfs: tmpfs, Now: func() time.Time { return t0 }}
	memSecrets["default/db"] = &workload.Secret{Data: map[string][]byte{"password": []byte("s3cr3t"), "user": []byte("app")}}
	t.Cleanup(func() { clear(memSecrets) })
	pod := &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-5"}}
	pod.Spec.Volumes = []workload.Volume{{Name: "creds", VolumeSource: workload.VolumeSource{Secret: &workload.SecretVolumeSource{
		SecretName: "db", DefaultMode: i32(0o400), Items: []workload.KeyToPath{{Key: "password", Path: "db/password"}}}}}}
	got, err := m.SetUp(context.Background(), pod, memSources{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(m.Root, "uid-5", "volumes", "creds")
	if fmt.Sprint(got) != fmt.Sprint(map[string]Mounted{"creds": {Path: dir, ReadOnly: true}}) {
		t.Errorf("SetUp = %v", got)
	}
	if _, ok := tmpfs.mounted[dir]; !ok {
		t.Errorf("no tmpfs on %s: %v", dir, tmpfs.mounted)
	}
	fi, err := os.Stat(filepath.Join(dir, "db", "password"))
	if b, _ := os.ReadFile(filepath.Join(dir, "db", "password")); err != nil || string(b) != "s3cr3t" || fi.Mode().Perm() != 0o400 {
		t.Errorf("db/password: %q, %v, %v", b, fi, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "user")); !os.IsNotExist(err) {
		t.Errorf("user was projected though items name only password: %v", err)
	}
	pod.Spec.Volumes[0].Secret.SecretName = "missing"
	if _, err := m.SetUp(context.Background(), pod, memSources{}); err == nil || !strings.Contains(err.Error(), `volume "creds": secret "missing" not found`) {
		t.Errorf("a missing secret: %v", err)
	}
	noTmpfs := &Mounter{Root: t.TempDir()}
	pod.Spec.Volumes[0].Secret.SecretName = "db"
	if _, err := noTmpfs.SetUp(context.Background(), pod, memSources{}); err == nil || !strings.Contains(err.Error(), "never written to disk") {
		t.Errorf("a node without tmpfs: %v", err)
	}
}

// memNFS records NFS mounts instead of making them.
type memNFS struct {
	mounted map[string]string // dir -> "source options"
}

func (m *memNFS) Mount(_ context.Context, source, dir string, options []string) error {
	if m.mounted == nil {
		m.mounted = map[string]string{}
	}
	m.mounted[dir] = source + " " + strings.Join(options, ",")
	return nil
}

func (m *memNFS) Unmount(dir string) error { delete(m.mounted, dir); return nil }

// On a node whose kernel has an NFS client, an nfs volume is mounted on
// the pod's volume directory with its mountOptions (and ro when it is
// read-only), and unmounted with the pod.
func TestMounterMountsNFSWhereTheKernelCan(t *testing.T) {
	nfs := &memNFS{}
	m := &Mounter{Root: t.TempDir(), NFS: nfs}
	v := pv("share", "10Gi", modes(workload.ReadWriteMany, workload.ReadOnlyMany))
	v.Spec.HostPath, v.Spec.NFS, v.Spec.MountOptions = nil, &workload.NFSVolumeSource{Server: "nfs.example", Path: "/exports/a"}, []string{"vers=4.1"}
	memVolumes["share"] = v
	c := claim("1Gi", wants(workload.ReadWriteMany))
	c.ObjectMeta.Name, c.Spec.VolumeName, c.Status.Phase = "share", "share", workload.ClaimBound
	memClaims["default/share"] = c
	t.Cleanup(func() { clear(memClaims); clear(memVolumes) })
	pod := &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-6"}}
	pod.Spec.Volumes = []workload.Volume{
		{Name: "rw", VolumeSource: workload.VolumeSource{PersistentVolumeClaim: &workload.PersistentVolumeClaimVolumeSource{ClaimName: "share"}}},
		{Name: "ro", VolumeSource: workload.VolumeSource{PersistentVolumeClaim: &workload.PersistentVolumeClaimVolumeSource{ClaimName: "share", ReadOnly: true}}},
	}
	got, err := m.SetUp(context.Background(), pod, memSources{})
	if err != nil {
		t.Fatal(err)
	}
	vols := filepath.Join(m.Root, "uid-6", "volumes")
	want := map[string]Mounted{"rw": {Path: filepath.Join(vols, "rw")}, "ro": {Path: filepath.Join(vols, "ro"), ReadOnly: true}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("SetUp = %v\nwant %v", got, want)
	}
	wantMounts := map[string]string{filepath.Join(vols, "rw"): "nfs.example:/exports/a vers=4.1", filepath.Join(vols, "ro"): "nfs.example:/exports/a vers=4.1,ro"}
	if fmt.Sprint(nfs.mounted) != fmt.Sprint(wantMounts) {
		t.Errorf("nfs mounts %v\nwant %v", nfs.mounted, wantMounts)
	}
	if err := m.TearDown("uid-6"); err != nil || len(nfs.mounted) != 0 {
		t.Errorf("after TearDown: %v, still mounted %v", err, nfs.mounted)
	}
}
