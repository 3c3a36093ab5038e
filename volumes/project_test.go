package volumes

import (
	"errors"
	"reflect"
	"testing"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

func i32(v int32) *int32 { return &v }
func yes() *bool         { b := true; return &b }

func TestConfigMapFiles(t *testing.T) {
	cm := &workload.ConfigMap{Data: map[string]string{"greeting": "hello", "app.conf": "x=1"}, BinaryData: map[string][]byte{"logo.bin": {0, 1, 2}}}
	for _, tc := range []struct {
		name    string
		src     workload.ConfigMapVolumeSource
		cm      *workload.ConfigMap
		want    []File
		wantErr error
	}{
		{name: "every key, default mode", src: workload.ConfigMapVolumeSource{LocalObjectReference: workload.LocalObjectReference{Name: "web"}}, cm: cm, want: []File{
			{Path: "app.conf", Data: []byte("x=1"), Mode: 0o644},
			{Path: "greeting", Data: []byte("hello"), Mode: 0o644},
			{Path: "logo.bin", Data: []byte{0, 1, 2}, Mode: 0o644},
		}},
		{name: "defaultMode", src: workload.ConfigMapVolumeSource{LocalObjectReference: workload.LocalObjectReference{Name: "web"}, DefaultMode: i32(0o400)}, cm: &workload.ConfigMap{Data: map[string]string{"k": "v"}},
			want: []File{{Path: "k", Data: []byte("v"), Mode: 0o400}}},
		{name: "items pick keys, name paths, set modes", src: workload.ConfigMapVolumeSource{LocalObjectReference: workload.LocalObjectReference{Name: "web"}, DefaultMode: i32(0o600), Items: []workload.KeyToPath{
			{Key: "greeting", Path: "etc/hello.txt"}, {Key: "app.conf", Path: "app.conf", Mode: i32(0o444)},
		}}, cm: cm, want: []File{
			{Path: "app.conf", Data: []byte("x=1"), Mode: 0o444},
			{Path: "etc/hello.txt", Data: []byte("hello"), Mode: 0o600},
		}},
		{name: "an item naming a missing key", src: workload.ConfigMapVolumeSource{LocalObjectReference: workload.LocalObjectReference{Name: "web"}, Items: []workload.KeyToPath{{Key: "nope", Path: "n"}}}, cm: cm, wantErr: errdefs.ErrNotFound},
		{name: "optional: a missing key is left out", src: workload.ConfigMapVolumeSource{LocalObjectReference: workload.LocalObjectReference{Name: "web"}, Optional: yes(), Items: []workload.KeyToPath{{Key: "nope", Path: "n"}, {Key: "greeting", Path: "g"}}}, cm: cm,
			want: []File{{Path: "g", Data: []byte("hello"), Mode: 0o644}}},
		{name: "optional and absent: nothing", src: workload.ConfigMapVolumeSource{LocalObjectReference: workload.LocalObjectReference{Name: "web"}, Optional: yes()}, cm: nil, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ConfigMapFiles(&tc.src, tc.cm)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
