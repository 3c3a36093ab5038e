package volumes

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

func downwardPod() *workload.Pod {
	p := &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-7",
		Labels:      map[string]string{"app": "web", "tier": "front"},
		Annotations: map[string]string{"note": `say "hi"`},
	}}
	p.Spec.Containers = []workload.Container{{Name: "web", Resources: workload.ResourceRequirements{
		Requests: workload.ResourceList{workload.ResourceCPU: workload.MustParseQuantity("250m")},
		Limits:   workload.ResourceList{workload.ResourceMemory: workload.MustParseQuantity("64Mi")},
	}}}
	return p
}

func fieldFile(path, fieldPath string) workload.DownwardAPIVolumeFile {
	return workload.DownwardAPIVolumeFile{Path: path, FieldRef: &workload.ObjectFieldSelector{FieldPath: fieldPath}}
}

func resourceFile(path, resource, divisor string) workload.DownwardAPIVolumeFile {
	r := &corev1.ResourceFieldSelector{ContainerName: "web", Resource: resource}
	if divisor != "" {
		r.Divisor = workload.MustParseQuantity(divisor)
	}
	return workload.DownwardAPIVolumeFile{Path: path, ResourceFieldRef: r}
}

func TestDownwardAPIFiles(t *testing.T) {
	alloc := workload.ResourceList{workload.ResourceCPU: workload.MustParseQuantity("8"), workload.ResourceMemory: workload.MustParseQuantity("16Gi")}
	withMode := fieldFile("uid", "metadata.uid")
	withMode.Mode = i32(0o400)
	items := []workload.DownwardAPIVolumeFile{
		fieldFile("labels", "metadata.labels"),
		fieldFile("annotations", "metadata.annotations"),
		fieldFile("meta/app", "metadata.labels['app']"),
		fieldFile("./name", "metadata.name"),
		withMode,
		resourceFile("cpu_limit", "limits.cpu", ""),        // no limit: the node's 8
		resourceFile("cpu_request", "requests.cpu", "1m"),  // 250
		resourceFile("mem_limit", "limits.memory", "1Mi"),  // 64
		resourceFile("mem_request", "requests.memory", ""), // none: 0
	}
	got, err := DownwardAPIFiles(downwardPod(), items, i32(0o440), alloc)
	if err != nil {
		t.Fatal(err)
	}
	want := []File{
		{Path: "annotations", Data: []byte(`note="say \"hi\""`), Mode: 0o440},
		{Path: "cpu_limit", Data: []byte("8"), Mode: 0o440},
		{Path: "cpu_request", Data: []byte("250"), Mode: 0o440},
		{Path: "labels", Data: []byte("app=\"web\"\ntier=\"front\""), Mode: 0o440},
		{Path: "mem_limit", Data: []byte("64"), Mode: 0o440},
		{Path: "mem_request", Data: []byte("0"), Mode: 0o440},
		{Path: "meta/app", Data: []byte("web"), Mode: 0o440},
		{Path: "name", Data: []byte("web"), Mode: 0o440},
		{Path: "uid", Data: []byte("uid-7"), Mode: 0o400},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("files\n%q\nwant\n%q", got, want)
	}
	if got, _ := DownwardAPIFiles(downwardPod(), items[3:4], nil, nil); len(got) != 1 || got[0].Mode != 0o644 {
		t.Errorf("no defaultMode: %+v, want mode 0644", got)
	}
	// A bad item is named; the good ones are still made.
	bad := []workload.DownwardAPIVolumeFile{fieldFile("name", "metadata.name"), fieldFile("phase", "status.phase"), resourceFile("x", "limits.cpu", "")}
	bad[2].ResourceFieldRef.ContainerName = "nope"
	got, err = DownwardAPIFiles(downwardPod(), bad, nil, alloc)
	if !errors.Is(err, errdefs.ErrInvalid) || !errors.Is(err, errdefs.ErrNotFound) ||
		!strings.Contains(err.Error(), `downwardAPI file "phase"`) || !strings.Contains(err.Error(), `downwardAPI file "x": resourceFieldRef: container nope not found`) {
		t.Errorf("error %v, want one naming phase (ErrInvalid) and x (ErrNotFound)", err)
	}
	if len(got) != 1 || got[0].Path != "name" {
		t.Errorf("files %+v, want name alone", got)
	}
}

// A downwardAPI volume is written atomically (the ..data scheme) on a
// tmpfs, read-only, and follows the pod's labels when they change.
func TestMounterRefreshesDownwardAPIVolumes(t *testing.T) {
	tmpfs := &memTmpfs{}
	now := t0
	m := &Mounter{Root: t.TempDir(), Tmpfs: tmpfs, Now: func() time.Time { return now },
		Allocatable: workload.ResourceList{workload.ResourceCPU: workload.MustParseQuantity("2")}}
	pod := downwardPod()
	pod.Spec.Volumes = []workload.Volume{{Name: "podinfo", VolumeSource: workload.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
		Items: []workload.DownwardAPIVolumeFile{fieldFile("labels", "metadata.labels"), resourceFile("cpu", "limits.cpu", "1m")},
	}}}}
	dir := setUpOnTmpfs(t, m, tmpfs, pod, nil, "podinfo")
	if link, err := os.Readlink(filepath.Join(dir, "labels")); err != nil || link != filepath.Join(dataLink, "labels") {
		t.Errorf("labels is %q, %v; want a symlink through %s", link, err, dataLink)
	}
	if files := readAll(t, dir); files["labels"] != "app=\"web\"\ntier=\"front\"" || files["cpu"] != "2000" {
		t.Errorf("files %q", files)
	}
	pod.ObjectMeta.Labels = map[string]string{"app": "web", "version": "v2"}
	now = now.Add(time.Minute)
	if _, err := m.SetUp(context.Background(), pod, nil); err != nil {
		t.Fatal(err)
	}
	if files := readAll(t, dir); files["labels"] != "app=\"web\"\nversion=\"v2\"" {
		t.Errorf("after the labels changed: %q", files)
	}
	fi, err := os.Stat(filepath.Join(dir, "labels"))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("labels: %v, %v; want mode 0644", fi, err)
	}
	// Without a tmpfs, files with nothing secret go to disk.
	disk := &Mounter{Root: t.TempDir()}
	if _, err := disk.SetUp(context.Background(), pod, nil); err != nil {
		t.Errorf("downwardAPI on a node without tmpfs: %v", err)
	}
}

// setUpOnTmpfs sets pod's volumes up and checks that the one named is
// read-only, on a tmpfs; it returns its directory.
func setUpOnTmpfs(t *testing.T, m *Mounter, tmpfs *memTmpfs, pod *workload.Pod, src Sources, name string) string {
	t.Helper()
	got, err := m.SetUp(context.Background(), pod, src)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(m.Root, string(pod.ObjectMeta.UID), "volumes", name)
	if got[name] != (Mounted{Path: dir, ReadOnly: true}) {
		t.Errorf("SetUp = %v, want %s read-only", got, dir)
	}
	if _, ok := tmpfs.mounted[dir]; !ok {
		t.Errorf("no tmpfs on %s: %v", dir, tmpfs.mounted)
	}
	return dir
}
