package kubeapi

import (
	"errors"
	"fmt"
	"mime"
	"net/http"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// Patches, of every type kube-apiserver takes: JSON patch (RFC 6902),
// JSON merge patch (RFC 7386), strategic merge patch (with the patch
// strategies and merge keys of k8s.io/api's types, as kubectl's
// client-side apply computes them) and server-side apply (structured merge
// with managed fields, conflicts and force). A patch is applied to the
// stored object and written with a compare-and-swap; when another write
// came between, it is applied again to the new state, as kube-apiserver
// retries.

// patchAttempts bounds those retries.
const patchAttempts = 5

func (s *Server) patch(w http.ResponseWriter, q *request) {
	v := q.r.URL.Query()
	if err := checkParams(v, patchParams); err != nil {
		s.writeError(w, q.r, err)
		return
	}
	wq, err := parseWrite(v, q.r.UserAgent())
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	ct, _, err := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	if err != nil {
		ct = ""
	}
	pt := types.PatchType(ct)
	switch pt {
	case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType, types.ApplyYAMLPatchType, types.ApplyCBORPatchType:
	default:
		s.writeError(w, q.r, unsupportedMediaType(q.r.Header.Get("Content-Type")))
		return
	}
	if pt != types.ApplyYAMLPatchType && pt != types.ApplyCBORPatchType && wq.force {
		s.writeError(w, q.r, apierrors.NewBadRequest("force: Invalid value: force flag can only be used with server-side apply"))
		return
	}
	if (pt == types.ApplyYAMLPatchType || pt == types.ApplyCBORPatchType) && v.Get("fieldManager") == "" {
		s.writeError(w, q.r, apierrors.NewBadRequest("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"))
		return
	}
	body, err := readBody(q.r)
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	out, created, err := s.patchObject(w, q, pt, body, wq)
	if err != nil {
		s.writeErrorFor(w, q, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	s.writeObject(w, q, status, out)
}

// patchObject applies a patch to the stored object and writes the
// result. created says an apply patch created the object.
func (s *Server) patchObject(w http.ResponseWriter, q *request, pt types.PatchType, body []byte, wq writeQuery) (workload.Object, bool, error) {
	apply := pt == types.ApplyYAMLPatchType || pt == types.ApplyCBORPatchType
	wq.applied = apply
	var lastErr error
	for range patchAttempts {
		cur, err := s.cfg.Store.Get(q.ctx(), q.res, q.namespace, q.name, ReadOptions{Consistent: true})
		if errors.Is(err, errdefs.ErrNotFound) && apply && q.subresource == "" {
			out, err := s.applyCreate(q, body, wq)
			return out, err == nil, err
		}
		if err != nil {
			return nil, false, err
		}
		var next workload.Object
		if apply {
			next, err = s.applied(q, cur, body, wq)
		} else {
			next, err = s.patched(w, q, cur, pt, body, wq)
		}
		if err != nil {
			return nil, false, err
		}
		// A patch that names a resourceVersion is the client's own
		// compare-and-swap; one that does not applies to whatever is
		// stored, so its conflict is retried.
		clientRV := next.GetResourceVersion() != cur.GetResourceVersion()
		if next.GetResourceVersion() == "" {
			next.SetResourceVersion(cur.GetResourceVersion())
		}
		out, err := s.updateObject(q, next, cur, wq)
		if err == nil {
			return out, false, nil
		}
		if !errors.Is(err, errdefs.ErrConflict) || clientRV {
			return nil, false, err
		}
		lastErr = err
	}
	return nil, false, lastErr
}

// patched applies a JSON, merge or strategic merge patch to cur.
func (s *Server) patched(w http.ResponseWriter, q *request, cur workload.Object, pt types.PatchType, patch []byte, wq writeQuery) (workload.Object, error) {
	js, err := runtime.Encode(jsonSerializer(), cur)
	if err != nil {
		return nil, err
	}
	var out []byte
	switch pt {
	case types.JSONPatchType:
		p, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		if out, err = p.Apply(js); err != nil {
			// kube-apiserver names no object here: "The request is invalid".
			return nil, apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", err.Error(), 0, false)
		}
	case types.MergePatchType:
		if out, err = jsonpatch.MergePatch(js, patch); err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
	case types.StrategicMergePatchType:
		if out, err = strategicpatch.StrategicMergePatch(js, patch, newObject(q.res)); err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
	}
	next := newObject(q.res)
	strict := wq.validation != metav1.FieldValidationIgnore
	dec := jsonSerializer()
	if strict {
		dec = strictJSONSerializer()
	}
	gvk := q.res.GroupVersionKind
	if _, _, err := dec.Decode(out, &gvk, next); err != nil {
		sde, strictErr := runtime.AsStrictDecodingError(err)
		switch {
		case strictErr && wq.validation == metav1.FieldValidationWarn:
			for _, e := range sde.Errors() {
				w.Header().Add("Warning", warning(e.Error()))
			}
		case strictErr:
			return nil, apierrors.NewBadRequest(err.Error())
		default:
			return nil, apierrors.NewBadRequest(fmt.Sprintf("the patched object cannot be read as a %s: %v", gvk.Kind, err))
		}
	}
	return next, nil
}

// applied is cur with a server-side apply configuration merged in, its
// managed fields updated for the manager.
func (s *Server) applied(q *request, cur workload.Object, body []byte, wq writeQuery) (workload.Object, error) {
	cfg, err := applyConfiguration(q, body)
	if err != nil {
		return nil, err
	}
	fm, err := s.fieldManager(q.res, q.subresource)
	if err != nil {
		return nil, err
	}
	if err := setKind(cur, ""); err != nil {
		return nil, err
	}
	out, err := fm.Apply(cur, cfg, wq.manager, wq.force)
	if err != nil {
		return nil, err
	}
	return out.(workload.Object), nil
}

// applyCreate creates the object an apply patch describes.
func (s *Server) applyCreate(q *request, body []byte, wq writeQuery) (workload.Object, error) {
	cfg, err := applyConfiguration(q, body)
	if err != nil {
		return nil, err
	}
	fm, err := s.fieldManager(q.res, "")
	if err != nil {
		return nil, err
	}
	empty := newObject(q.res)
	empty.SetName(q.name)
	empty.SetNamespace(q.namespace)
	if err := setKind(empty, ""); err != nil {
		return nil, err
	}
	out, err := fm.Apply(empty, cfg, wq.manager, wq.force)
	if err != nil {
		return nil, err
	}
	obj := out.(workload.Object)
	if err := s.prepareCreate(q, obj); err != nil {
		return nil, err
	}
	if err := s.admit(q, obj, wq.dryRun); err != nil {
		return nil, err
	}
	return s.cfg.Store.Create(q.ctx(), q.res, obj, WriteOptions{DryRun: wq.dryRun})
}

// applyConfiguration reads an apply patch: YAML (or JSON) of the kind, its
// name the URL's.
func applyConfiguration(q *request, body []byte) (*unstructured.Unstructured, error) {
	js, err := yaml.YAMLToJSON(body)
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding YAML: %v", err))
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding apply configuration: %v", err))
	}
	gvk := q.res.GroupVersionKind
	if u.GetAPIVersion() != gvk.GroupVersion().String() || u.GetKind() != gvk.Kind {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("apiVersion and kind of the apply configuration (%s %s) do not match the request's (%s %s)",
			u.GetAPIVersion(), u.GetKind(), gvk.GroupVersion(), gvk.Kind))
	}
	if u.GetName() != "" && u.GetName() != q.name {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", u.GetName(), q.name))
	}
	if ns := u.GetNamespace(); ns != "" && ns != q.namespace {
		return nil, apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	if len(u.GetManagedFields()) > 0 {
		return nil, apierrors.NewBadRequest("metadata.managedFields must be nil")
	}
	return u, nil
}

func jsonSerializer() runtime.Serializer {
	return infoFor(mediaJSON).Serializer
}

func strictJSONSerializer() runtime.Serializer {
	return infoFor(mediaJSON).StrictSerializer
}

func infoFor(media string) runtime.SerializerInfo {
	for _, info := range codecs().codecs.SupportedMediaTypes() {
		if info.MediaType == media {
			return info
		}
	}
	panic("no serializer for " + media)
}
