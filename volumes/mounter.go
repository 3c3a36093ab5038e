package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// Tmpfs mounts the memory-backed file systems of emptyDir volumes with
// medium Memory. Safe for concurrent use on different directories.
type Tmpfs interface {
	// Mount mounts a tmpfs of at most sizeBytes (0: the kernel's default,
	// half the memory) on dir, unless one is mounted there already.
	Mount(dir string, sizeBytes int64) error
	// Unmount unmounts what is mounted on dir; nothing when nothing is.
	Unmount(dir string) error
}

// NFS mounts NFS exports for nfs PersistentVolumes. Safe for concurrent
// use on different directories.
type NFS interface {
	// Mount mounts source ("server:/path") on dir with options ("ro",
	// the volume's mountOptions), unless something is mounted there.
	Mount(ctx context.Context, source, dir string, options []string) error
	// Unmount unmounts what is mounted on dir; nothing when nothing is.
	Unmount(dir string) error
}

// Sources gives a Mounter the objects that volumes are made from. Methods
// are called from many goroutines; a missing object is ErrNotFound. A
// Sources that is also a TokenSource serves projected volumes'
// serviceAccountToken files; one that is not fails those volumes.
type Sources interface {
	ConfigMap(ctx context.Context, namespace, name string) (*workload.ConfigMap, error)
	// Secret returns a secret opened (its values in Data).
	Secret(ctx context.Context, namespace, name string) (*workload.Secret, error)
	Claim(ctx context.Context, namespace, name string) (*workload.PersistentVolumeClaim, error)
	Volume(ctx context.Context, name string) (*workload.PersistentVolume, error)
}

// Mounter sets up pods' volumes on a node, each pod's under
// Root/POD-UID/volumes. One pod's volumes must be set up and torn down by
// one goroutine at a time; different pods' may be handled concurrently.
type Mounter struct {
	Root  string
	Tmpfs Tmpfs // nil: emptyDir volumes with medium Memory are refused
	// NFS mounts nfs volumes; nil (a kernel without an NFS client) refuses
	// them.
	NFS NFS
	// Creating, when set, is told before the Mounter creates a
	// PersistentVolume's hostPath directory (type DirectoryOrCreate, and
	// missing): the volume's Delete reclaim policy empties only what Shoal
	// created. An error leaves the directory uncreated and the volume not
	// set up.
	Creating func(ctx context.Context, pv *workload.PersistentVolume, node string) error
	// Node is this node's name, for Creating.
	Node string
	// Allocatable is what this node offers pods (cpu, memory,
	// ephemeral-storage): a downwardAPI resourceFieldRef to a limit that
	// its container leaves out reads the node's amount, as in Kubernetes.
	// Empty: such a file reads 0.
	Allocatable workload.ResourceList
	// Now names projected files' directories; default time.Now.
	Now func() time.Time
}

// Mounted is one volume as set up on the node.
type Mounted struct {
	Path string // the host path to bind into containers
	// ReadOnly is set for volumes that are read-only by nature (configMap,
	// secret) or by their claim: containers get them read-only whatever
	// their mounts say, and a missing subPath is made only in the others.
	ReadOnly bool
}

// SetUp makes each of pod's volumes ready and returns them by name. It may
// be called again at any time: it then refreshes projected volumes
// (configMap, secret, downwardAPI, projected) to their objects' and the
// pod's current contents and leaves the rest as they are. It sets up every volume it can; the error names each volume
// that failed and why ("volume \"config\": configmap \"web\" not found"),
// wrapping ErrNotFound when an object is missing.
func (m *Mounter) SetUp(ctx context.Context, pod *workload.Pod, src Sources) (map[string]Mounted, error) {
	base, err := m.podDir(string(pod.ObjectMeta.UID))
	if err != nil {
		return nil, err
	}
	out := map[string]Mounted{}
	var errs []error
	for _, v := range pod.Spec.Volumes {
		mv, err := m.setUp(ctx, pod, v, filepath.Join(base, "volumes", v.Name), src)
		if err != nil {
			errs = append(errs, fmt.Errorf("volume %q: %w", v.Name, err))
			continue
		}
		out[v.Name] = mv
	}
	return out, errors.Join(errs...)
}

func (m *Mounter) setUp(ctx context.Context, pod *workload.Pod, v workload.Volume, dir string, src Sources) (Mounted, error) {
	switch {
	case v.EmptyDir != nil:
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return Mounted{}, err
		}
		if err := os.Chmod(dir, 0o777); err != nil { // any container user may write, as in Kubernetes
			return Mounted{}, err
		}
		if v.EmptyDir.Medium == workload.StorageMediumMemory {
			if m.Tmpfs == nil {
				return Mounted{}, fmt.Errorf("emptyDir medium Memory: this node cannot mount tmpfs: %w", errdefs.ErrUnavailable)
			}
			var size int64
			if v.EmptyDir.SizeLimit != nil {
				size = v.EmptyDir.SizeLimit.Value()
			}
			if err := m.Tmpfs.Mount(dir, size); err != nil {
				return Mounted{}, fmt.Errorf("emptyDir medium Memory: %w", err)
			}
		}
		return Mounted{Path: dir}, nil
	case v.HostPath != nil:
		if err := checkHostPath(v.HostPath); err != nil {
			return Mounted{}, err
		}
		return Mounted{Path: v.HostPath.Path}, nil
	case v.ConfigMap != nil:
		cm, err := configMap(ctx, src, pod.ObjectMeta.Namespace, v.ConfigMap.Name, v.ConfigMap.Optional)
		if err != nil {
			return Mounted{}, err
		}
		files, err := ConfigMapFiles(v.ConfigMap, cm)
		if err != nil {
			return Mounted{}, err
		}
		if _, err := WriteAtomic(dir, files, m.now()); err != nil {
			return Mounted{}, fmt.Errorf("configmap %q: %w", v.ConfigMap.Name, err)
		}
		return Mounted{Path: dir, ReadOnly: true}, nil
	case v.Secret != nil:
		return m.secretVolume(ctx, pod.ObjectMeta.Namespace, v.Secret, dir, src)
	case v.PersistentVolumeClaim != nil:
		if src == nil {
			return Mounted{}, fmt.Errorf("persistentvolumeclaim %q: claims are not available to this node: %w", v.PersistentVolumeClaim.ClaimName, errdefs.ErrUnavailable)
		}
		var creating func(context.Context, *workload.PersistentVolume) error
		if m.Creating != nil {
			creating = func(ctx context.Context, pv *workload.PersistentVolume) error { return m.Creating(ctx, pv, m.Node) }
		}
		return m.claimMount(ctx, pod.ObjectMeta.Namespace, v.PersistentVolumeClaim, dir, src, creating)
	case v.DownwardAPI != nil:
		files, err := DownwardAPIFiles(pod, v.DownwardAPI.Items, v.DownwardAPI.DefaultMode, m.Allocatable)
		if err != nil {
			return Mounted{}, err
		}
		return m.writeProjected(dir, files, false)
	case v.Projected != nil:
		return m.projectedVolume(ctx, pod, v, dir, src)
	case v.NFS != nil:
		if m.NFS == nil {
			return Mounted{}, fmt.Errorf("the nfs volume plugin is not available on this node: %w", errNoNFS)
		}
		return m.nfsMount(ctx, v.NFS.Server, v.NFS.Path, v.NFS.ReadOnly, nil, dir)
	}
	if name := pluginName(&v.VolumeSource); name != "" {
		return Mounted{}, fmt.Errorf("the %s volume plugin is not available on this node: %w", name, errdefs.ErrUnavailable)
	}
	return Mounted{}, fmt.Errorf("no volume source: %w", errdefs.ErrInvalid)
}

// configMap fetches a config map for a volume; nil for an optional one
// that does not exist.
func configMap(ctx context.Context, src Sources, namespace, name string, optional *bool) (*workload.ConfigMap, error) {
	if src == nil {
		return nil, fmt.Errorf("configmap %q: config maps are not available to this node: %w", name, errdefs.ErrUnavailable)
	}
	return fetch("configmap", name, optional, func() (*workload.ConfigMap, error) { return src.ConfigMap(ctx, namespace, name) })
}

// secret fetches a secret for a volume, opened; nil for an optional one
// that does not exist.
func secret(ctx context.Context, src Sources, namespace, name string, optional *bool) (*workload.Secret, error) {
	if src == nil {
		return nil, fmt.Errorf("secret %q: secrets are not available to this node: %w", name, errdefs.ErrUnavailable)
	}
	return fetch("secret", name, optional, func() (*workload.Secret, error) { return src.Secret(ctx, namespace, name) })
}

// fetch gets the object a volume is made from with get, and says which
// (kind "configmap", and name) when it cannot; nil for an optional one
// that does not exist.
func fetch[T any](kind, name string, optional *bool, get func() (*T, error)) (*T, error) {
	o, err := get()
	switch {
	case errors.Is(err, errdefs.ErrNotFound) && isTrue(optional):
		return nil, nil
	case errors.Is(err, errdefs.ErrNotFound):
		return nil, fmt.Errorf("%s %q %w", kind, name, errdefs.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("%s %q: %w", kind, name, err)
	}
	return o, nil
}

func (m *Mounter) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Mounter) podDir(uid string) (string, error) {
	if m.Root == "" {
		return "", fmt.Errorf("volumes: no root directory: %w", errdefs.ErrInvalid)
	}
	if uid == "" || uid == "." || uid == ".." || strings.ContainsRune(uid, filepath.Separator) {
		return "", fmt.Errorf("volumes: pod UID %q: %w", uid, errdefs.ErrInvalid)
	}
	return filepath.Join(m.Root, uid), nil
}

// secretVolume projects a secret into dir, a tmpfs (its values never
// touch the node's disk), with WriteAtomic.
func (m *Mounter) secretVolume(ctx context.Context, namespace string, ref *workload.SecretVolumeSource, dir string, src Sources) (Mounted, error) {
	if src != nil && m.Tmpfs == nil {
		return Mounted{}, fmt.Errorf("secret %q: %w", ref.SecretName, errNoSecretTmpfs)
	}
	s, err := secret(ctx, src, namespace, ref.SecretName, ref.Optional)
	if err != nil {
		return Mounted{}, err
	}
	var files []File
	if s != nil {
		if files, err = project(s.Data, ref.Items, ref.DefaultMode, ref.Optional != nil && *ref.Optional); err != nil {
			return Mounted{}, fmt.Errorf("secret %q: %w", ref.SecretName, err)
		}
	}
	mv, err := m.writeProjected(dir, files, true)
	if err != nil {
		return Mounted{}, fmt.Errorf("secret %q: %w", ref.SecretName, err)
	}
	return mv, nil
}

var errNoSecretTmpfs = fmt.Errorf("this node cannot mount tmpfs, and secrets are never written to disk: %w", errdefs.ErrUnavailable)

// writeProjected makes dir hold files with WriteAtomic, on a tmpfs as
// Kubernetes does for secret, downwardAPI and projected volumes. Without a
// Tmpfs, files holding secrets are refused and others written to disk.
func (m *Mounter) writeProjected(dir string, files []File, secrets bool) (Mounted, error) {
	if secrets && m.Tmpfs == nil {
		return Mounted{}, errNoSecretTmpfs
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Mounted{}, err
	}
	if m.Tmpfs != nil {
		if err := m.Tmpfs.Mount(dir, 0); err != nil {
			return Mounted{}, err
		}
	}
	if _, err := WriteAtomic(dir, files, m.now()); err != nil {
		return Mounted{}, err
	}
	return Mounted{Path: dir, ReadOnly: true}, nil
}

// claimMount finds the volume a claim is bound to and where it is on this
// node. It is read-only when the pod says so, or when the claim asks for
// ReadOnlyMany and nothing more (a write then fails with EROFS).
func (m *Mounter) claimMount(ctx context.Context, namespace string, ref *workload.PersistentVolumeClaimVolumeSource, podDir string, src Sources, creating func(context.Context, *workload.PersistentVolume) error) (Mounted, error) {
	claim, err := src.Claim(ctx, namespace, ref.ClaimName)
	if errors.Is(err, errdefs.ErrNotFound) {
		return Mounted{}, fmt.Errorf("persistentvolumeclaim %q %w", ref.ClaimName, errdefs.ErrNotFound)
	}
	if err != nil {
		return Mounted{}, fmt.Errorf("persistentvolumeclaim %q: %w", ref.ClaimName, err)
	}
	if claim.Status.Phase != workload.ClaimBound || claim.Spec.VolumeName == "" {
		return Mounted{}, fmt.Errorf("persistentvolumeclaim %q is not bound: %w", ref.ClaimName, errdefs.ErrUnavailable)
	}
	pv, err := src.Volume(ctx, claim.Spec.VolumeName)
	if err != nil {
		return Mounted{}, fmt.Errorf("persistentvolumeclaim %q: volume %q: %w", ref.ClaimName, claim.Spec.VolumeName, err)
	}
	ro := ref.ReadOnly || len(claim.Spec.AccessModes) > 0 && !slices.ContainsFunc(claim.Spec.AccessModes, func(m workload.PersistentVolumeAccessMode) bool {
		return m != workload.ReadOnlyMany
	})
	var dir string
	switch s := pv.Spec; {
	case s.HostPath != nil:
		if creating != nil && s.HostPath.Type != nil && *s.HostPath.Type == workload.HostPathDirectoryOrCreate {
			if _, err := os.Stat(s.HostPath.Path); os.IsNotExist(err) {
				if err := creating(ctx, pv); err != nil {
					return Mounted{}, fmt.Errorf("volume %q: record that %s is Shoal's: %w", pv.ObjectMeta.Name, s.HostPath.Path, err)
				}
			}
		}
		if err := checkHostPath(s.HostPath); err != nil {
			return Mounted{}, fmt.Errorf("volume %q: %w", pv.ObjectMeta.Name, err)
		}
		dir = s.HostPath.Path
	case s.Local != nil:
		if fi, err := os.Stat(s.Local.Path); err != nil || !fi.IsDir() {
			return Mounted{}, fmt.Errorf("volume %q: local path %s is not a directory on this node: %w", pv.ObjectMeta.Name, s.Local.Path, errdefs.ErrNotFound)
		}
		dir = s.Local.Path
	case s.NFS != nil:
		mv, err := m.nfsMount(ctx, s.NFS.Server, s.NFS.Path, ro || s.NFS.ReadOnly, s.MountOptions, podDir)
		if err != nil {
			return Mounted{}, fmt.Errorf("volume %q: %w", pv.ObjectMeta.Name, err)
		}
		return mv, nil
	default:
		return Mounted{}, fmt.Errorf("volume %q: %s: %w", pv.ObjectMeta.Name, workload.UnsupportedSource(&s.PersistentVolumeSource), errdefs.ErrUnavailable)
	}
	return Mounted{Path: dir, ReadOnly: ro}, nil
}

var errNoNFS = fmt.Errorf("nfs needs the kernel's NFS client, and this node's kernel has none: %w", errdefs.ErrUnavailable)

// nfsMount mounts server:path on dir, read-only when ro, with options
// (a PersistentVolume's mountOptions).
func (m *Mounter) nfsMount(ctx context.Context, server, path string, ro bool, options []string, dir string) (Mounted, error) {
	if m.NFS == nil {
		return Mounted{}, errNoNFS
	}
	opts := slices.Clone(options)
	if ro {
		opts = append(opts, "ro")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Mounted{}, err
	}
	if err := m.NFS.Mount(ctx, server+":"+path, dir, opts); err != nil {
		return Mounted{}, err
	}
	return Mounted{Path: dir, ReadOnly: ro}, nil
}

// checkHostPath checks, or makes, what a hostPath volume's type expects at
// its path.
func checkHostPath(h *workload.HostPathVolumeSource) error {
	typ := workload.HostPathUnset
	if h.Type != nil {
		typ = *h.Type
	}
	switch typ {
	case workload.HostPathDirectoryOrCreate:
		if err := os.MkdirAll(h.Path, 0o755); err != nil {
			return fmt.Errorf("hostPath %s: %w", h.Path, err)
		}
		return nil
	case workload.HostPathFileOrCreate:
		if err := os.MkdirAll(filepath.Dir(h.Path), 0o755); err != nil {
			return fmt.Errorf("hostPath %s: %w", h.Path, err)
		}
		f, err := os.OpenFile(h.Path, os.O_RDONLY|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("hostPath %s: %w", h.Path, err)
		}
		f.Close()
		return nil
	case workload.HostPathUnset:
		return nil
	}
	fi, err := os.Stat(h.Path)
	if err != nil {
		return fmt.Errorf("hostPath type check failed: %s %w", h.Path, errdefs.ErrNotFound)
	}
	mode := fi.Mode()
	ok := map[workload.HostPathType]bool{
		workload.HostPathDirectory: mode.IsDir(),
		workload.HostPathFile:      mode.IsRegular(),
		workload.HostPathSocket:    mode&os.ModeSocket != 0,
		workload.HostPathCharDev:   mode&os.ModeCharDevice != 0,
		workload.HostPathBlockDev:  mode&os.ModeDevice != 0 && mode&os.ModeCharDevice == 0,
	}[typ]
	if !ok {
		return fmt.Errorf("hostPath type check failed: %s is not a %s: %w", h.Path, typ, errdefs.ErrInvalid)
	}
	return nil
}

// TearDown removes what SetUp made for the pod with that UID: it unmounts
// its tmpfs and nfs volumes and removes its directory. What hostPath volumes name
// is never touched. A pod with nothing set up is not an error.
func (m *Mounter) TearDown(podUID string) error {
	base, err := m.podDir(podUID)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(filepath.Join(base, "volumes"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, e := range entries {
		dir := filepath.Join(base, "volumes", e.Name())
		var unmounters []interface{ Unmount(string) error }
		if m.NFS != nil {
			unmounters = append(unmounters, m.NFS)
		}
		if m.Tmpfs != nil {
			unmounters = append(unmounters, m.Tmpfs)
		}
		for _, u := range unmounters {
			if err := u.Unmount(dir); err != nil {
				return fmt.Errorf("pod %s: volume %q: %w", podUID, e.Name(), err)
			}
		}
	}
	return os.RemoveAll(base)
}

// PodUIDs lists the pods that have volumes set up under Root.
func (m *Mounter) PodUIDs() ([]string, error) {
	entries, err := os.ReadDir(m.Root)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// SubPath resolves sub inside a volume mounted at root, following
// symlinks, and refuses a path that leaves the volume (ErrInvalid). When
// create is set, a missing directory is made first (as Kubernetes does for
// writable volumes).
func SubPath(root, sub string, create bool) (string, error) {
	p := filepath.Join(root, filepath.FromSlash(sub))
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("subPath %q: %w", sub, err)
	}
	within := func(real string) bool {
		return real == realRoot || strings.HasPrefix(real, realRoot+string(filepath.Separator))
	}
	if create {
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			// Make nothing through a symlink that leads out of the volume
			// (one a container planted): the deepest existing ancestor
			// must resolve inside it first.
			anc := filepath.Dir(p)
			for {
				if _, err := os.Lstat(anc); err == nil || anc == root || len(anc) <= len(root) {
					break
				}
				anc = filepath.Dir(anc)
			}
			if real, err := filepath.EvalSymlinks(anc); err != nil || !within(real) {
				return "", fmt.Errorf("subPath %q leaves the volume: %w", sub, errdefs.ErrInvalid)
			}
			if err := os.MkdirAll(p, 0o777); err != nil {
				return "", fmt.Errorf("subPath %q: %w", sub, err)
			}
		}
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("subPath %q does not exist in the volume: %w", sub, errdefs.ErrNotFound)
	}
	if !within(real) {
		return "", fmt.Errorf("subPath %q leaves the volume: %w", sub, errdefs.ErrInvalid)
	}
	return real, nil
}
