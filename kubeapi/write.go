package kubeapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// Writes, as kube-apiserver's generic registry makes them: the body is
// decoded (strictly, or with warnings, as fieldValidation says), its
// metadata prepared (uid, creationTimestamp, generation, status kept from
// the stored object), defaulted and validated by workload's rules, and
// only then given to the Store — or, with dryRun=All, given to it to
// check and not kept.

// writeQuery is a write's parsed parameters.
type writeQuery struct {
	dryRun     bool
	manager    string
	validation string // Strict, Warn or Ignore
	force      bool
	// applied says the object comes from a server-side apply, whose field
	// manager has already recorded the manager's fields (as an Apply).
	applied bool
}

func parseWrite(v url.Values, userAgent string) (writeQuery, error) {
	var wq writeQuery
	for _, d := range v["dryRun"] {
		if d != metav1.DryRunAll {
			return wq, apierrors.NewBadRequest(fmt.Sprintf("dryRun: Unsupported value: %q: supported values: \"All\"", d))
		}
		wq.dryRun = true
	}
	wq.manager = v.Get("fieldManager")
	if len(wq.manager) > 128 {
		return wq, apierrors.NewBadRequest("fieldManager: Too long: may not be more than 128 bytes")
	}
	if wq.manager == "" {
		wq.manager = defaultManager(userAgent)
	}
	wq.validation = v.Get("fieldValidation")
	switch wq.validation {
	case "":
		wq.validation = metav1.FieldValidationWarn
	case metav1.FieldValidationStrict, metav1.FieldValidationWarn, metav1.FieldValidationIgnore:
	default:
		return wq, apierrors.NewBadRequest(fmt.Sprintf("fieldValidation: Unsupported value: %q: supported values: \"Ignore\", \"Strict\", \"Warn\"", wq.validation))
	}
	if f := v.Get("force"); f != "" {
		b, err := strconv.ParseBool(f)
		if err != nil {
			return wq, apierrors.NewBadRequest(fmt.Sprintf("force: Invalid value: %q", f))
		}
		wq.force = b
	}
	return wq, nil
}

// defaultManager is the field manager of a write that names none: the
// client's program name, as kube-apiserver takes it from the User-Agent.
func defaultManager(ua string) string {
	name, _, _ := strings.Cut(ua, "/")
	if name == "" {
		name = "unknown"
	}
	if len(name) > 128 {
		name = name[:128]
	}
	return name
}

// decodeBody reads the request body as an object of the resource's kind.
// Unknown and duplicate fields fail it (Strict) or become warnings (Warn).
func (s *Server) decodeBody(w http.ResponseWriter, q *request, wq writeQuery, into runtime.Object, gvkName string) error {
	body, err := readBody(q.r)
	if err != nil {
		return err
	}
	strict := wq.validation != metav1.FieldValidationIgnore
	_, dec, err := bodySerializer(q.r, strict)
	if err != nil {
		return err
	}
	want := q.res.GroupVersionKind
	if gvkName != "" {
		want.Kind = gvkName
	}
	obj, gvk, err := dec.Decode(body, &want, into)
	if err != nil {
		if runtime.IsStrictDecodingError(err) && obj != nil {
			if wq.validation == metav1.FieldValidationStrict {
				return apierrors.NewBadRequest(err.Error())
			}
			if sde, ok := runtime.AsStrictDecodingError(err); ok {
				for _, e := range sde.Errors() {
					w.Header().Add("Warning", warning(e.Error()))
				}
			}
		} else {
			return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", want.Kind, want.Version, want.Kind, err))
		}
	}
	if gvk != nil && (gvk.GroupVersion() != want.GroupVersion() || gvk.Kind != want.Kind) {
		return apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", gvk.GroupVersion(), want.GroupVersion()))
	}
	return nil
}

// warning is a Warning header for a message, as kube-apiserver writes it.
func warning(msg string) string {
	return `299 - ` + strconv.Quote(msg)
}

// forbidUsers refuses a write to what Shoal itself writes.
func (s *Server) forbidUsers(q *request) error {
	if !q.res.SystemOwned {
		return nil
	}
	what := "Shoal's peers write them"
	if q.res.GroupVersionKind.Kind == "Node" {
		what = "each peer registers its own; cordon, label, annotate and taint them, and use `shoal leave` to take a peer out"
	}
	return apierrors.NewForbidden(q.gr(), q.name, fmt.Errorf("%s are not %sd by users: %s", q.res.Plural, q.verb, what))
}

// kindsWithGeneration are the kinds whose metadata.generation counts
// their spec's changes, as Kubernetes' strategies set it.
var kindsWithGeneration = map[string]bool{"Deployment": true, "ReplicaSet": true, "Pod": true,
	"StatefulSet": true, "DaemonSet": true, "Job": true, "CronJob": true}

func (s *Server) create(w http.ResponseWriter, q *request) {
	v := q.r.URL.Query()
	if err := checkParams(v, writeParams); err != nil {
		s.writeError(w, q.r, err)
		return
	}
	wq, err := parseWrite(v, q.r.UserAgent())
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	if q.res.GroupVersionKind.Kind == "Node" {
		s.writeErrorFor(w, q, s.forbidUsers(q))
		return
	}
	obj := newObject(q.res)
	if err := s.decodeBody(w, q, wq, obj, ""); err != nil {
		s.writeError(w, q.r, err)
		return
	}
	q.name = obj.GetName()
	out, err := s.createObject(q, obj, wq)
	if err != nil {
		s.writeErrorFor(w, q, err)
		return
	}
	s.writeObject(w, q, http.StatusCreated, out)
}

// createObject prepares, checks and stores a new object.
func (s *Server) createObject(q *request, obj workload.Object, wq writeQuery) (workload.Object, error) {
	if q.res.SystemOwned && q.res.GroupVersionKind.Kind != "Node" {
		return nil, s.forbidUsers(q)
	}
	if err := s.prepareCreate(q, obj); err != nil {
		return nil, err
	}
	if err := s.admit(q, obj, wq.dryRun); err != nil {
		return nil, err
	}
	q.name = obj.GetName()
	if err := s.trackUpdate(q, obj, nil, wq.manager); err != nil {
		return nil, err
	}
	return s.cfg.Store.Create(q.ctx(), q.res, obj, WriteOptions{DryRun: wq.dryRun})
}

// prepareCreate is kube-apiserver's BeforeCreate: the namespace from the
// path, a generated name, a new uid and creation time, the status a new
// object starts with, defaults and validation.
func (s *Server) prepareCreate(q *request, obj workload.Object) error {
	m := workload.MetaOf(obj)
	if q.res.Namespaced {
		if m.Namespace != "" && m.Namespace != q.namespace {
			return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
		m.Namespace = q.namespace
		if err := s.namespaceOpen(q, q.namespace); err != nil {
			return err
		}
	} else if m.Namespace != "" {
		m.Namespace = ""
	}
	if m.ResourceVersion != "" {
		return apierrors.NewBadRequest("resourceVersion should not be set on objects to be created")
	}
	if m.Name == "" && m.GenerateName != "" {
		m.Name = m.GenerateName + utilrand.String(5)
	}
	if s.cfg.NewUID != nil {
		m.UID = s.cfg.NewUID()
	}
	m.CreationTimestamp = s.now()
	m.DeletionTimestamp, m.DeletionGracePeriodSeconds = nil, nil
	m.Generation = 0
	if kindsWithGeneration[q.res.GroupVersionKind.Kind] {
		m.Generation = 1
	}
	resetStatus(obj)
	return s.defaultAndValidate(q, obj)
}

// namespaceOpen checks that a namespace exists and is not being deleted,
// for an object to be created in it.
func (s *Server) namespaceOpen(q *request, ns string) error {
	nsRes := s.byPath["v1/namespaces"]
	o, err := s.cfg.Store.Get(q.ctx(), nsRes, "", ns, ReadOptions{Consistent: true})
	if errors.Is(err, errdefs.ErrNotFound) {
		return apierrors.NewNotFound(nsRes.GroupVersionResource().GroupResource(), ns)
	}
	if err != nil {
		return err
	}
	if o.GetDeletionTimestamp() != nil {
		return apierrors.NewForbidden(q.gr(), q.name, fmt.Errorf("unable to create new content in namespace %s because it is being terminated", ns))
	}
	return nil
}

// defaultAndValidate fills defaults and checks the object by workload's
// rules; a failure is 422 Invalid with one cause per field.
func (s *Server) defaultAndValidate(q *request, obj workload.Object) error {
	info, err := workload.LookupKind(q.res.GroupVersionKind.Kind)
	if err != nil {
		return err
	}
	workload.Defaults(obj, info, q.namespace)
	if errs := workload.ValidateFields(obj, info); len(errs) > 0 {
		return &invalidError{kind: q.res.GroupVersionKind.GroupKind(), name: obj.GetName(), errs: errs}
	}
	return nil
}

func (s *Server) update(w http.ResponseWriter, q *request) {
	v := q.r.URL.Query()
	if err := checkParams(v, writeParams); err != nil {
		s.writeError(w, q.r, err)
		return
	}
	wq, err := parseWrite(v, q.r.UserAgent())
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	obj := newObject(q.res)
	if err := s.decodeBody(w, q, wq, obj, ""); err != nil {
		s.writeError(w, q.r, err)
		return
	}
	if obj.GetName() != q.name {
		s.writeError(w, q.r, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", obj.GetName(), q.name)))
		return
	}
	out, err := s.updateObject(q, obj, nil, wq)
	if err != nil {
		s.writeErrorFor(w, q, err)
		return
	}
	s.writeObject(w, q, http.StatusOK, out)
}

// updateObject replaces the stored object with obj, whose resourceVersion,
// when set, must be the stored one. old is the stored object when the
// caller has read it (a patch), nil otherwise.
func (s *Server) updateObject(q *request, obj, old workload.Object, wq writeQuery) (workload.Object, error) {
	if q.res.SystemOwned && q.res.GroupVersionKind.Kind != "Node" {
		return nil, s.forbidUsers(q)
	}
	if old == nil {
		var err error
		if old, err = s.cfg.Store.Get(q.ctx(), q.res, q.namespace, q.name, ReadOptions{Consistent: true}); err != nil {
			return nil, err
		}
	}
	if err := s.prepareUpdate(q, obj, old); err != nil {
		return nil, err
	}
	if !wq.applied {
		if err := s.trackUpdate(q, obj, old, wq.manager); err != nil {
			return nil, err
		}
	}
	if unchanged(obj, old) && (obj.GetResourceVersion() == "" || obj.GetResourceVersion() == old.GetResourceVersion()) {
		// As kube-apiserver: a write that changes nothing is not made, and
		// the stored object comes back as it was (kubectl says "no change").
		return old, nil
	}
	if obj.GetDeletionTimestamp() != nil && len(obj.GetFinalizers()) == 0 && len(old.GetFinalizers()) > 0 {
		// The last finalizer is gone from an object being deleted: it goes.
		return s.cfg.Store.Delete(q.ctx(), q.res, q.namespace, q.name, DeleteOptions{WriteOptions: WriteOptions{DryRun: wq.dryRun}, ResourceVersion: obj.GetResourceVersion()})
	}
	return s.cfg.Store.Update(q.ctx(), q.res, obj, WriteOptions{DryRun: wq.dryRun})
}

// prepareUpdate is kube-apiserver's BeforeUpdate: what the user may not
// change is taken from the stored object (uid, creation and deletion,
// status — or, for the status subresource, everything but status), then
// defaults and validation, and the generation counts a changed spec.
func (s *Server) prepareUpdate(q *request, obj, old workload.Object) error {
	m, om := workload.MetaOf(obj), workload.MetaOf(old)
	if q.res.Namespaced {
		if m.Namespace != "" && m.Namespace != q.namespace {
			return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
		m.Namespace = q.namespace
	} else {
		m.Namespace = ""
	}
	if m.UID != "" && m.UID != om.UID {
		return apierrors.NewConflict(q.gr(), q.name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", m.UID, om.UID))
	}
	m.UID, m.CreationTimestamp = om.UID, om.CreationTimestamp
	m.DeletionTimestamp, m.DeletionGracePeriodSeconds = om.DeletionTimestamp, om.DeletionGracePeriodSeconds
	if q.subresource == "status" {
		metav1.ResetObjectMetaForStatus(m, om)
		keepSpec(obj, old)
	} else if hasStatus(q.res) {
		keepStatus(obj, old)
	}
	if om.DeletionTimestamp != nil && len(m.Finalizers) > len(om.Finalizers) {
		for _, f := range m.Finalizers {
			if !contains(om.Finalizers, f) {
				return &invalidError{kind: q.res.GroupVersionKind.GroupKind(), name: q.name, errs: field.ErrorList{
					field.Forbidden(field.NewPath("metadata", "finalizers"), fmt.Sprintf("no new finalizers can be added if the object is being deleted, found new finalizers %q", f))}}
			}
		}
	}
	if err := s.defaultAndValidate(q, obj); err != nil {
		return err
	}
	// After the defaults, as kube-apiserver decodes with them: a spec
	// that differs from the stored one only by what defaulting fills is
	// no new generation.
	m.Generation = om.Generation
	if kindsWithGeneration[q.res.GroupVersionKind.Kind] && !equality.Semantic.DeepEqual(specOf(obj), specOf(old)) {
		m.Generation++
	}
	if q.subresource == "" {
		if errs := workload.ValidateUpdate(obj, old); len(errs) > 0 {
			return &invalidError{kind: q.res.GroupVersionKind.GroupKind(), name: obj.GetName(), errs: errs}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Server) delete(w http.ResponseWriter, q *request) {
	do, wq, err := s.parseDelete(q)
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	if q.res.SystemOwned {
		s.writeErrorFor(w, q, s.forbidUsers(q))
		return
	}
	out, deleted, err := s.deleteObject(q, q.name, do, wq)
	if err != nil {
		s.writeErrorFor(w, q, err)
		return
	}
	if deleted && !returnsDeletedObject[q.res.GroupVersionKind.Kind] {
		s.encodeSuccess(w, q, out)
		return
	}
	s.writeObject(w, q, http.StatusOK, out)
}

// returnsDeletedObject are the kinds whose delete answers with the object
// rather than a Status, as in Kubernetes.
var returnsDeletedObject = map[string]bool{"Pod": true, "Service": true, "PersistentVolume": true, "PersistentVolumeClaim": true}

// encodeSuccess answers a finished delete with kube-apiserver's Status.
func (s *Server) encodeSuccess(w http.ResponseWriter, q *request, obj workload.Object) {
	st := &metav1.Status{Status: metav1.StatusSuccess, Details: &metav1.StatusDetails{
		Name: q.name, Group: q.res.GroupVersionKind.Group, Kind: q.res.Plural, UID: obj.GetUID()}}
	as, err := negotiate(q.r, false)
	if err != nil || as.as != "" {
		as, _ = negotiate(&http.Request{Header: http.Header{}, URL: q.r.URL}, false)
	}
	s.encode(w, q.r, as, http.StatusOK, st)
}

// parseDelete reads a delete's options from its query and its body
// (kubectl sends a DeleteOptions body).
func (s *Server) parseDelete(q *request) (metav1.DeleteOptions, writeQuery, error) {
	var do metav1.DeleteOptions
	v := q.r.URL.Query()
	if err := checkParams(v, deleteParams, listParamsFor(q)); err != nil {
		return do, writeQuery{}, err
	}
	if err := codecs().params.DecodeParameters(v, metav1.SchemeGroupVersion, &do); err != nil {
		return do, writeQuery{}, badRequest("%v", err)
	}
	if body, err := readBody(q.r); err != nil {
		return do, writeQuery{}, err
	} else if len(strings.TrimSpace(string(body))) > 0 {
		_, dec, err := bodySerializer(q.r, false)
		if err != nil {
			return do, writeQuery{}, err
		}
		dflt := metav1.SchemeGroupVersion.WithKind("DeleteOptions")
		if _, _, err := dec.Decode(body, &dflt, &do); err != nil {
			return do, writeQuery{}, badRequest("invalid DeleteOptions: %v", err)
		}
	}
	var wq writeQuery
	for _, d := range do.DryRun {
		if d != metav1.DryRunAll {
			return do, wq, apierrors.NewBadRequest(fmt.Sprintf("dryRun: Unsupported value: %q: supported values: \"All\"", d))
		}
		wq.dryRun = true
	}
	if do.OrphanDependents != nil && do.PropagationPolicy != nil {
		return do, wq, apierrors.NewBadRequest("orphanDependents: Invalid value: using both orphanDependents and propagationPolicy is not allowed")
	}
	if do.OrphanDependents != nil {
		p := metav1.DeletePropagationBackground
		if *do.OrphanDependents {
			p = metav1.DeletePropagationOrphan
		}
		do.PropagationPolicy = &p
	}
	if p := do.PropagationPolicy; p != nil {
		switch *p {
		case metav1.DeletePropagationOrphan, metav1.DeletePropagationBackground, metav1.DeletePropagationForeground:
		default:
			return do, wq, apierrors.NewBadRequest(fmt.Sprintf("propagationPolicy: Unsupported value: %q: supported values: \"Background\", \"Foreground\", \"Orphan\"", *p))
		}
	}
	if g := do.GracePeriodSeconds; g != nil && *g < 0 {
		return do, wq, apierrors.NewBadRequest("gracePeriodSeconds: Invalid value: must be greater than or equal to 0")
	}
	return do, wq, nil
}

func listParamsFor(q *request) []string {
	if q.verb == "deletecollection" {
		return listParams
	}
	return nil
}

func (s *Server) deleteCollection(w http.ResponseWriter, q *request) {
	do, wq, err := s.parseDelete(q)
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	if q.res.SystemOwned {
		s.writeErrorFor(w, q, s.forbidUsers(q))
		return
	}
	lq, err := s.parseList(&request{r: stripDeleteParams(q.r), res: q.res, namespace: q.namespace})
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	items, rv, _, err := s.listItems(q, lq)
	if err != nil {
		s.writeErrorFor(w, q, err)
		return
	}
	var gone []runtime.Object
	for _, it := range items {
		one := &request{r: q.r, res: q.res, verb: "delete", namespace: it.GetNamespace(), name: it.GetName()}
		out, _, err := s.deleteObject(one, it.GetName(), do, wq)
		if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			s.writeErrorFor(w, one, err)
			return
		}
		if out != nil {
			gone = append(gone, out)
		}
	}
	list := newList(q.res)
	_ = setList(list, gone, rv)
	s.writeObject(w, q, http.StatusOK, list)
}

// stripDeleteParams is r without the delete parameters, for reading the
// list a deletecollection selects.
func stripDeleteParams(r *http.Request) *http.Request {
	v := r.URL.Query()
	for _, p := range deleteParams {
		v.Del(p)
	}
	c := r.Clone(r.Context())
	c.URL.RawQuery = v.Encode()
	return c
}

// unchanged reports whether obj is old but for its resourceVersion and
// the times of its managedFields entries: as kube-apiserver's
// IgnoreManagedFieldsTimestampsTransformer, a re-apply that leaves the
// object as it was (a quantity written "0.5" and stored "500m") is no
// write, though server-side apply stamped its entry anew.
func unchanged(obj, old workload.Object) bool {
	a, b := obj.DeepCopyObject().(workload.Object), old.DeepCopyObject().(workload.Object)
	a.SetResourceVersion("")
	b.SetResourceVersion("")
	for _, o := range []workload.Object{a, b} {
		mf := o.GetManagedFields()
		for i := range mf {
			mf[i].Time = nil
		}
	}
	a.GetObjectKind().SetGroupVersionKind(b.GetObjectKind().GroupVersionKind())
	return equality.Semantic.DeepEqual(a, b)
}
