package kubeapi

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
)

// An object's spec and status, found by their field names, as every
// served kind names them (ConfigMap and Secret have neither; Event has no
// spec).

// hasStatus says whether the resource's writes keep status apart: those
// with a status subresource.
func hasStatus(r *Resource) bool {
	_, ok := r.Subresource("status")
	return ok
}

func fieldNamed(obj runtime.Object, name string) reflect.Value {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v.Elem().FieldByName(name)
}

// specOf is the object's spec (nil for kinds without one).
func specOf(obj runtime.Object) any {
	if f := fieldNamed(obj, "Spec"); f.IsValid() {
		return f.Interface()
	}
	return nil
}

// keepStatus sets obj's status to old's: a write to the resource itself
// does not change what the system observed.
func keepStatus(obj, old runtime.Object) {
	copyField(obj, old, "Status")
}

// keepSpec sets obj's spec to old's: a write to the status subresource
// changes only the status.
func keepSpec(obj, old runtime.Object) {
	copyField(obj, old, "Spec")
}

func copyField(obj, old runtime.Object, name string) {
	dst, src := fieldNamed(obj, name), fieldNamed(old, name)
	if dst.IsValid() && src.IsValid() && dst.CanSet() {
		dst.Set(src)
	}
}

// resetStatus empties a new object's status: the system writes it. A
// namespace starts Active and a claim or volume Pending, by defaults.
func resetStatus(obj runtime.Object) {
	f := fieldNamed(obj, "Status")
	if f.IsValid() && f.CanSet() {
		if _, isNode := obj.(*corev1.Node); !isNode {
			f.Set(reflect.Zero(f.Type()))
		}
	}
}

// setList fills a list object with items and its version.
func setList(list runtime.Object, items []runtime.Object, rv string) error {
	if err := meta.SetList(list, items); err != nil {
		return err
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return err
	}
	lm.SetResourceVersion(rv)
	return nil
}
