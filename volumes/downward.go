package volumes

import (
	"errors"
	"fmt"
	"path"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// DownwardAPIFiles makes the files of a downwardAPI volume or projection
// for pod, as the kubelet does: each item's fieldRef value
// (workload.PodFieldValue: metadata.labels as sorted `key="value"`
// lines...) or resourceFieldRef value (workload.ContainerResourceValue,
// a limit the container leaves out being allocatable's), at its path,
// with its mode, else defaultMode, else 0644. It makes the files it can;
// the error names each item that it could not.
func DownwardAPIFiles(pod *workload.Pod, items []workload.DownwardAPIVolumeFile, defaultMode *int32, allocatable workload.ResourceList) ([]File, error) {
	var out []File
	var errs []error
	for _, it := range items {
		var v string
		var err error
		switch {
		case it.FieldRef != nil:
			v, err = workload.PodFieldValue(pod, it.FieldRef.FieldPath)
		case it.ResourceFieldRef != nil:
			r := it.ResourceFieldRef
			v, err = workload.ContainerResourceValue(pod, r.ContainerName, r.Resource, r.Divisor, allocatable)
		default:
			err = fmt.Errorf("neither fieldRef nor resourceFieldRef: %w", errdefs.ErrInvalid)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("downwardAPI file %q: %w", it.Path, err))
			continue
		}
		out = append(out, File{Path: path.Clean(it.Path), Data: []byte(v), Mode: fileMode(it.Mode, defaultMode)})
	}
	sortFiles(out)
	return out, errors.Join(errs...)
}
