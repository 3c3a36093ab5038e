package volumes

import (
	"fmt"
	"os"
	"path"
	"slices"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// File is one projected file.
type File struct {
	Path string // relative, slash-separated, validated: no "..", not absolute
	Data []byte
	Mode os.FileMode
}

// ConfigMapFiles projects cm as src says: every key of Data and BinaryData
// under its own name, or only src.Items, each under its path. Modes are
// the item's, else src.DefaultMode, else 0644. An item naming a key cm
// lacks is an error (ErrNotFound) unless src is optional; a nil cm (an
// optional config map that does not exist) projects nothing.
func ConfigMapFiles(src *workload.ConfigMapVolumeSource, cm *workload.ConfigMap) ([]File, error) {
	if cm == nil {
		return nil, nil
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	optional := src.Optional != nil && *src.Optional
	files, err := project(data, src.Items, src.DefaultMode, optional)
	if err != nil {
		return nil, fmt.Errorf("configmap %q: %w", src.Name, err)
	}
	return files, nil
}

// project maps keys to files, sorted by path.
func project(data map[string][]byte, items []workload.KeyToPath, defaultMode *int32, optional bool) ([]File, error) {
	mode := os.FileMode(workload.DefaultVolumeMode)
	if defaultMode != nil {
		mode = os.FileMode(*defaultMode)
	}
	var out []File
	if len(items) == 0 {
		for k, v := range data {
			out = append(out, File{Path: k, Data: v, Mode: mode})
		}
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf("no key %q: %w", it.Key, errdefs.ErrNotFound)
		}
		m := mode
		if it.Mode != nil {
			m = os.FileMode(*it.Mode)
		}
		out = append(out, File{Path: path.Clean(it.Path), Data: v, Mode: m})
	}
	slices.SortFunc(out, func(a, b File) int {
		switch {
		case a.Path < b.Path:
			return -1
		case a.Path > b.Path:
			return 1
		}
		return 0
	})
	return out, nil
}
