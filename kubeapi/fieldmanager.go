package kubeapi

import (
	"errors"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/shoalproject/shoal/workload"
)

// Managed fields, as kube-apiserver keeps them: every write through the
// API records, in metadata.managedFields, which fields its manager set
// (an Update entry), and server-side apply merges a manager's apply
// configuration by them (an Apply entry), refusing with 409 to take a
// field another manager owns unless forced. The type information comes
// from the OpenAPI schemas of the served kinds (Config.Schemas), read on
// the first write that needs it.

// errNoSchemas says the server was built without OpenAPI schemas: writes
// then keep managedFields as they are, and apply patches are refused.
var errNoSchemas = errors.New("this server has no OpenAPI schemas: server-side apply is not available")

type fieldManagers struct {
	once sync.Once
	tc   managedfields.TypeConverter
	err  error
	mu   sync.Mutex
	by   map[string]*managedfields.FieldManager // "group/version/kind/subresource"
}

func (s *Server) fieldManager(r *Resource, subresource string) (*managedfields.FieldManager, error) {
	fms := &s.fms
	fms.once.Do(func() {
		if s.cfg.Schemas == nil {
			fms.err = errNoSchemas
			return
		}
		schemas, err := s.cfg.Schemas()
		if err != nil {
			fms.err = fmt.Errorf("openapi schemas: %w", err)
			return
		}
		fms.tc, fms.err = managedfields.NewTypeConverter(schemas, false)
		fms.by = map[string]*managedfields.FieldManager{}
	})
	if fms.err != nil {
		return nil, fms.err
	}
	key := r.GroupVersionKind.String() + "/" + subresource
	fms.mu.Lock()
	defer fms.mu.Unlock()
	if fm, ok := fms.by[key]; ok {
		return fm, nil
	}
	gv := r.GroupVersionKind.GroupVersion()
	sch := codecs().scheme
	fm, err := managedfields.NewDefaultFieldManager(fms.tc, sch, sch, sch, r.GroupVersionKind, gv, subresource, resetFields(r, subresource))
	if err != nil {
		return nil, err
	}
	fms.by[key] = fm
	return fm, nil
}

// resetFields are the fields a write may not set and its managers do not
// own: status through the resource itself, spec through its status.
func resetFields(r *Resource, subresource string) map[fieldpath.APIVersion]fieldpath.Filter {
	if !hasStatus(r) {
		return nil
	}
	path := "status"
	if subresource == "status" {
		path = "spec"
	}
	v := fieldpath.APIVersion(r.GroupVersionKind.GroupVersion().String())
	return map[fieldpath.APIVersion]fieldpath.Filter{
		v: fieldpath.NewExcludeSetFilter(fieldpath.NewSet(fieldpath.MakePathOrDie(path))),
	}
}

// trackUpdate records, in obj's managedFields, the fields manager changed
// from old (nil for a create).
func (s *Server) trackUpdate(q *request, obj, old workload.Object, manager string) error {
	fm, err := s.fieldManager(q.res, q.subresource)
	if errors.Is(err, errNoSchemas) {
		return nil
	}
	if err != nil {
		return err
	}
	live := old
	if live == nil {
		live = newObject(q.res)
	}
	if err := setKind(live, ""); err != nil {
		return err
	}
	if err := setKind(obj, ""); err != nil {
		return err
	}
	out := fm.UpdateNoErrors(live, obj, manager)
	if m, ok := out.(metav1.Object); ok && out != obj {
		obj.SetManagedFields(m.GetManagedFields())
	}
	return nil
}
