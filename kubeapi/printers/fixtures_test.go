package printers

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// now is the instant every test measures ages to.
var now = time.Date(2026, time.June, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// ago is a timestamp d before now (after it, for a negative d).
func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func agoPtr(d time.Duration) *metav1.Time { t := ago(d); return &t }

func microAgo(d time.Duration) metav1.MicroTime { return metav1.NewMicroTime(now.Add(-d)) }

func ptr[T any](v T) *T { return &v }

// checkCells fails the test unless obj's cells are want, value and type.
func checkCells(t *testing.T, obj runtime.Object, want []any) {
	t.Helper()
	got, err := Cells(obj, now)
	if err != nil {
		t.Fatalf("Cells: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cells:\n got %#v\nwant %#v", got, want)
	}
}
