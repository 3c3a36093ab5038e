package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// tokenSources is memSources that also issues service account tokens,
// recording what it was asked.
type tokenSources struct {
	memSources
	asked []string
}

func (s *tokenSources) ServiceAccountToken(_ context.Context, pod *workload.Pod, sa, audience string, expiration time.Duration) ([]byte, error) {
	s.asked = append(s.asked, fmt.Sprintf("%s/%s aud=%q for %s", pod.ObjectMeta.Namespace, sa, audience, expiration))
	return []byte("token-of-" + sa), nil
}

func projectedPod(sources ...corev1.VolumeProjection) *workload.Pod {
	p := downwardPod()
	p.Spec.Volumes = []workload.Volume{{Name: "all", VolumeSource: workload.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: sources, DefaultMode: i32(0o440),
	}}}}
	return p
}

// A projected volume merges config map, secret, downward API and token
// files into one directory on a tmpfs, with the volume's defaultMode
// unless an item says otherwise; an optional object that is missing adds
// nothing.
func TestMounterMergesProjectedSources(t *testing.T) {
	tmpfs := &memTmpfs{}
	m := &Mounter{Root: t.TempDir(), Tmpfs: tmpfs, Now: func() time.Time { return t0 }}
	memSecrets["default/db"] = &workload.Secret{Data: map[string][]byte{"password": []byte("s3cr3t"), "user": []byte("app")}}
	t.Cleanup(func() { clear(memSecrets) })
	src := &tokenSources{memSources: memSources{"default/web": {Data: map[string]string{"web.conf": "port=9000", "other": "x"}}}}
	expiry := int64(600)
	pod := projectedPod(
		corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: workload.LocalObjectReference{Name: "web"},
			Items: []workload.KeyToPath{{Key: "web.conf", Path: "conf/web.conf"}}}},
		corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: workload.LocalObjectReference{Name: "absent"}, Optional: yes()}},
		corev1.VolumeProjection{Secret: &corev1.SecretProjection{LocalObjectReference: workload.LocalObjectReference{Name: "db"},
			Items: []workload.KeyToPath{{Key: "password", Path: "db/password", Mode: i32(0o400)}}}},
		corev1.VolumeProjection{Secret: &corev1.SecretProjection{LocalObjectReference: workload.LocalObjectReference{Name: "absent"}, Optional: yes()}},
		corev1.VolumeProjection{DownwardAPI: &corev1.DownwardAPIProjection{Items: []workload.DownwardAPIVolumeFile{fieldFile("labels", "metadata.labels")}}},
		corev1.VolumeProjection{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "vault", ExpirationSeconds: &expiry}},
	)
	dir := setUpOnTmpfs(t, m, tmpfs, pod, src, "all")
	want := map[string]string{"conf/web.conf": "port=9000", "db/password": "s3cr3t", "labels": "app=\"web\"\ntier=\"front\"", "token": "token-of-default"}
	if files := readAll(t, dir); fmt.Sprint(files) != fmt.Sprint(want) {
		t.Errorf("files %q\nwant %q", files, want)
	}
	for path, mode := range map[string]os.FileMode{"conf/web.conf": 0o440, "db/password": 0o400, "labels": 0o440, "token": 0o440} {
		if fi, err := os.Stat(filepath.Join(dir, path)); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, %v; want mode %o", path, fi, err, mode)
		}
	}
	if fmt.Sprint(src.asked) != `[default/default aud="vault" for 10m0s]` {
		t.Errorf("tokens asked for: %q", src.asked)
	}
	// The volume follows its config map.
	src.memSources["default/web"] = &workload.ConfigMap{Data: map[string]string{"web.conf": "port=9001"}}
	if _, err := m.SetUp(context.Background(), pod, src); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "conf", "web.conf")); string(b) != "port=9001" {
		t.Errorf("after the config map changed: conf/web.conf = %q", b)
	}
}

// Each source the node cannot serve fails the volume with a message naming
// it, and nothing is written.
func TestMounterSaysWhichProjectedSourceFailed(t *testing.T) {
	m := &Mounter{Root: t.TempDir(), Tmpfs: &memTmpfs{}, Now: func() time.Time { return t0 }}
	for _, tc := range []struct {
		name   string
		source corev1.VolumeProjection
		src    Sources
		want   string
		is     error
	}{
		{"a token without a token source", corev1.VolumeProjection{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}, memSources{},
			`volume "all": serviceAccountToken "token": this node cannot issue tokens for service account "default"`, errdefs.ErrUnavailable},
		{"a cluster trust bundle", corev1.VolumeProjection{ClusterTrustBundle: &corev1.ClusterTrustBundleProjection{Path: "ca.pem"}}, memSources{},
			`volume "all": clusterTrustBundle "ca.pem": cluster trust bundles are not available on this node`, errdefs.ErrUnavailable},
		{"a missing config map", corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: workload.LocalObjectReference{Name: "gone"}}}, memSources{},
			`volume "all": configmap "gone" not found`, errdefs.ErrNotFound},
		{"a missing secret", corev1.VolumeProjection{Secret: &corev1.SecretProjection{LocalObjectReference: workload.LocalObjectReference{Name: "gone"}}}, memSources{},
			`volume "all": secret "gone" not found`, errdefs.ErrNotFound},
		{"a missing key", corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: workload.LocalObjectReference{Name: "web"},
			Items: []workload.KeyToPath{{Key: "nope", Path: "n"}}}}, memSources{"default/web": {}},
			`volume "all": configmap "web": no key "nope"`, errdefs.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := projectedPod(corev1.VolumeProjection{DownwardAPI: &corev1.DownwardAPIProjection{Items: []workload.DownwardAPIVolumeFile{fieldFile("name", "metadata.name")}}}, tc.source)
			pod.ObjectMeta.UID = workload.UID("uid-" + strings.ReplaceAll(tc.name, " ", "-"))
			_, err := m.SetUp(context.Background(), pod, tc.src)
			if !errors.Is(err, tc.is) || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q (%v)", err, tc.want, tc.is)
			}
			if _, err := os.Stat(filepath.Join(m.Root, string(pod.ObjectMeta.UID), "volumes", "all", "name")); !os.IsNotExist(err) {
				t.Errorf("a failed projected volume was written: %v", err)
			}
		})
	}
	// Secrets and tokens never go to disk; the rest may.
	disk := &Mounter{Root: t.TempDir()}
	memSecrets["default/db"] = &workload.Secret{Data: map[string][]byte{"password": []byte("s3cr3t")}}
	t.Cleanup(func() { clear(memSecrets) })
	withSecret := projectedPod(corev1.VolumeProjection{Secret: &corev1.SecretProjection{LocalObjectReference: workload.LocalObjectReference{Name: "db"}}})
	if _, err := disk.SetUp(context.Background(), withSecret, memSources{}); !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), "never written to disk") {
		t.Errorf("a secret on a node without tmpfs: %v", err)
	}
	plain := projectedPod(corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: workload.LocalObjectReference{Name: "web"}}})
	if _, err := disk.SetUp(context.Background(), plain, memSources{"default/web": {Data: map[string]string{"k": "v"}}}); err != nil {
		t.Errorf("a config map on a node without tmpfs: %v", err)
	}
}

// The volume plugins a Shoal node does not have fail SetUp with
// ErrUnavailable and a message naming the volume and the plugin; an
// inline nfs volume is mounted where the kernel has an NFS client.
func TestMounterRefusesPluginsThisNodeLacks(t *testing.T) {
	m := &Mounter{Root: t.TempDir()}
	for plugin, src := range map[string]workload.VolumeSource{
		"awsElasticBlockStore": {AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "vol-1"}},
		"gcePersistentDisk":    {GCEPersistentDisk: &corev1.GCEPersistentDiskVolumeSource{PDName: "pd"}},
		"azureDisk":            {AzureDisk: &corev1.AzureDiskVolumeSource{DiskName: "d"}},
		"azureFile":            {AzureFile: &corev1.AzureFileVolumeSource{ShareName: "s"}},
		"cinder":               {Cinder: &corev1.CinderVolumeSource{VolumeID: "v"}},
		"cephfs":               {CephFS: &corev1.CephFSVolumeSource{Monitors: []string{"m"}}},
		"rbd":                  {RBD: &corev1.RBDVolumeSource{RBDImage: "i"}},
		"iscsi":                {ISCSI: &corev1.ISCSIVolumeSource{TargetPortal: "t"}},
		"fc":                   {FC: &corev1.FCVolumeSource{}},
		"flexVolume":           {FlexVolume: &corev1.FlexVolumeSource{Driver: "d"}},
		"flocker":              {Flocker: &corev1.FlockerVolumeSource{DatasetName: "d"}},
		"glusterfs":            {Glusterfs: &corev1.GlusterfsVolumeSource{EndpointsName: "e"}},
		"portworxVolume":       {PortworxVolume: &corev1.PortworxVolumeSource{VolumeID: "v"}},
		"quobyte":              {Quobyte: &corev1.QuobyteVolumeSource{Volume: "v"}},
		"scaleIO":              {ScaleIO: &corev1.ScaleIOVolumeSource{VolumeName: "v"}},
		"storageos":            {StorageOS: &corev1.StorageOSVolumeSource{VolumeName: "v"}},
		"vsphereVolume":        {VsphereVolume: &corev1.VsphereVirtualDiskVolumeSource{VolumePath: "p"}},
		"photonPersistentDisk": {PhotonPersistentDisk: &corev1.PhotonPersistentDiskVolumeSource{PdID: "p"}},
		"nfs":                  {NFS: &workload.NFSVolumeSource{Server: "nfs.example", Path: "/exports/a"}},
		"csi":                  {CSI: &corev1.CSIVolumeSource{Driver: "d"}},
		"ephemeral":            {Ephemeral: &corev1.EphemeralVolumeSource{}},
		"gitRepo":              {GitRepo: &corev1.GitRepoVolumeSource{Repository: "https://example.com/r.git"}},
		"image":                {Image: &corev1.ImageVolumeSource{Reference: "example.com/data:1"}},
	} {
		pod := &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-8"}}
		pod.Spec.Volumes = []workload.Volume{{Name: "data", VolumeSource: src}}
		got, err := m.SetUp(context.Background(), pod, memSources{})
		want := fmt.Sprintf(`volume "data": the %s volume plugin is not available on this node`, plugin)
		if !errors.Is(err, errdefs.ErrUnavailable) || !strings.HasPrefix(fmt.Sprint(err), want) || len(got) != 0 {
			t.Errorf("%s: %v, %v; want %q (ErrUnavailable)", plugin, got, err, want)
		}
	}
	nfs := &memNFS{}
	withNFS := &Mounter{Root: t.TempDir(), NFS: nfs}
	pod := &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-9"}}
	pod.Spec.Volumes = []workload.Volume{{Name: "share", VolumeSource: workload.VolumeSource{NFS: &workload.NFSVolumeSource{Server: "nfs.example", Path: "/exports/a", ReadOnly: true}}}}
	got, err := withNFS.SetUp(context.Background(), pod, nil)
	dir := filepath.Join(withNFS.Root, "uid-9", "volumes", "share")
	if err != nil || got["share"] != (Mounted{Path: dir, ReadOnly: true}) || nfs.mounted[dir] != "nfs.example:/exports/a ro" {
		t.Errorf("inline nfs: %v, %v; mounts %v", got, err, nfs.mounted)
	}
}
