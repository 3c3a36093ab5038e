package printers

import (
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestGenericTable checks kube-apiserver's default table, which kinds
// without a printer get: the name and the creation time as RFC 3339 UTC.
func TestGenericTable(t *testing.T) {
	created := metav1.NewTime(time.Date(2026, time.May, 30, 8, 15, 0, 0, time.FixedZone("CEST", 2*3600)))
	tests := []struct {
		name string
		obj  runtime.Object
		want []any
	}{
		{"typed kind without a printer", &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "default", CreationTimestamp: created}},
			[]any{"default", "2026-05-30T06:15:00Z"}},
		{"zero creation time", &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader"}},
			[]any{"reader", "0001-01-01T00:00:00Z"}},
		{"unstructured", &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "example.com/v1", "kind": "Widget",
			"metadata": map[string]any{"name": "w1", "creationTimestamp": "2026-06-01T11:00:00Z"},
		}}, []any{"w1", "2026-06-01T11:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, tt.obj, tt.want) })
	}

	want := []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
		{Name: "Created At", Type: "date", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
	}
	for _, gk := range []schema.GroupKind{{Kind: "LimitRange"}, {Group: "rbac.authorization.k8s.io", Kind: "Role"}, {Group: "example.com", Kind: "Widget"}, {Kind: "Deployment"}} {
		if got := Columns(gk); !equalColumns(got, want) {
			t.Errorf("Columns(%v) = %#v, want the default table", gk, got)
		}
	}
}

// TestNotTabular checks what cannot be a row fails as kube's 406 does.
func TestNotTabular(t *testing.T) {
	for name, obj := range map[string]runtime.Object{
		"nil":          nil,
		"typed nil":    (*corev1.Pod)(nil),
		"list":         &corev1.PodList{Items: []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "a"}}}},
		"no metadata":  &metav1.Status{Status: metav1.StatusFailure},
		"generic list": &metav1.List{},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Row(obj, now); !errors.Is(err, ErrNotTabular) {
				t.Errorf("Row error = %v, want ErrNotTabular", err)
			}
			if _, err := Cells(obj, now); !errors.Is(err, ErrNotTabular) {
				t.Errorf("Cells error = %v, want ErrNotTabular", err)
			}
		})
	}
}

func equalColumns(a, b []metav1.TableColumnDefinition) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
