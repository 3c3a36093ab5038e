package volumes

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

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
	optional := src.Optional != nil && *src.Optional
	files, err := project(configMapData(cm), src.Items, src.DefaultMode, optional)
	if err != nil {
		return nil, fmt.Errorf("configmap %q: %w", src.Name, err)
	}
	return files, nil
}

// configMapData is cm's Data and BinaryData as one map.
func configMapData(cm *workload.ConfigMap) map[string][]byte {
	data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return data
}

// project maps keys to files, sorted by path.
func project(data map[string][]byte, items []workload.KeyToPath, defaultMode *int32, optional bool) ([]File, error) {
	mode := fileMode(nil, defaultMode)
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
		out = append(out, File{Path: path.Clean(it.Path), Data: v, Mode: fileMode(it.Mode, defaultMode)})
	}
	sortFiles(out)
	return out, nil
}

// fileMode is a projected file's mode: its item's, else the volume's
// default, else workload.DefaultVolumeMode (0644).
func fileMode(item, defaultMode *int32) os.FileMode {
	switch {
	case item != nil:
		return os.FileMode(*item)
	case defaultMode != nil:
		return os.FileMode(*defaultMode)
	}
	return os.FileMode(workload.DefaultVolumeMode)
}

func sortFiles(files []File) {
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
}
