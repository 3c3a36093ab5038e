package kubeapi

import (
	"fmt"
	"mime"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/shoalproject/shoal/workload"
)

// Streams serves the streaming parts of pods: log, exec, attach and
// portforward (SPDY or WebSocket upgrades, as kubectl speaks them). The
// peer implements it; the request has been authenticated.
type Streams interface {
	ServePod(w http.ResponseWriter, r *http.Request, subresource, namespace, name string)
}

// serveSubresource serves a resource's subresource: status, scale,
// eviction, binding, or a pod's streams.
func (s *Server) serveSubresource(w http.ResponseWriter, q *request) {
	sub, ok := q.res.Subresource(q.subresource)
	if !ok || q.name == "" {
		s.writeError(w, q.r, apierrors.NewNotFound(q.gr(), q.name))
		return
	}
	verb := q.verb
	if !contains(sub.Verbs, verb) {
		s.writeError(w, q.r, apierrors.NewMethodNotSupported(q.gr(), verb))
		return
	}
	switch q.subresource {
	case "log", "exec", "attach", "portforward":
		if s.cfg.Streams == nil {
			s.writeError(w, q.r, apierrors.NewNotFound(q.gr(), q.name))
			return
		}
		s.cfg.Streams.ServePod(w, q.r, q.subresource, q.namespace, q.name)
	case "status":
		switch verb {
		case "get":
			s.get(w, q)
		case "update":
			s.update(w, q)
		case "patch":
			s.patch(w, q)
		}
	case "scale":
		s.serveScale(w, q)
	case "eviction":
		s.serveEviction(w, q)
	case "binding":
		s.serveBinding(w, q)
	case "token":
		s.serveTokenRequest(w, q)
	default:
		s.writeError(w, q.r, apierrors.NewNotFound(q.gr(), q.name))
	}
}

// scaleOf is a Deployment's or ReplicaSet's autoscaling/v1 Scale.
func scaleOf(obj workload.Object) (*autoscalingv1.Scale, error) {
	sc := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{
		Name: obj.GetName(), Namespace: obj.GetNamespace(), UID: obj.GetUID(),
		ResourceVersion: obj.GetResourceVersion(), CreationTimestamp: obj.GetCreationTimestamp(),
	}}
	var sel *metav1.LabelSelector
	switch o := obj.(type) {
	case *appsv1.Deployment:
		sc.Spec.Replicas = replicasOr1(o.Spec.Replicas)
		sc.Status.Replicas, sel = o.Status.Replicas, o.Spec.Selector
	case *appsv1.ReplicaSet:
		sc.Spec.Replicas = replicasOr1(o.Spec.Replicas)
		sc.Status.Replicas, sel = o.Status.Replicas, o.Spec.Selector
	default:
		return nil, fmt.Errorf("%T has no scale", obj)
	}
	if s, err := metav1.LabelSelectorAsSelector(sel); err == nil {
		sc.Status.Selector = s.String()
	}
	return sc, nil
}

func replicasOr1(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// setReplicas sets a Deployment's or ReplicaSet's spec.replicas.
func setReplicas(obj workload.Object, n int32) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		o.Spec.Replicas = &n
	case *appsv1.ReplicaSet:
		o.Spec.Replicas = &n
	}
}

// serveScale serves the scale subresource: GET reads replicas, PUT and
// PATCH set them (a patch applies to the Scale, as kubectl scale sends it).
func (s *Server) serveScale(w http.ResponseWriter, q *request) {
	v := q.r.URL.Query()
	allowed := getParams
	if q.verb != "get" {
		allowed = patchParams
	}
	if err := checkParams(v, allowed); err != nil {
		s.writeError(w, q.r, err)
		return
	}
	main := &request{r: q.r, res: q.res, verb: q.verb, namespace: q.namespace, name: q.name}
	cur, err := s.cfg.Store.Get(q.ctx(), q.res, q.namespace, q.name, ReadOptions{Consistent: v.Get("resourceVersion") != "0"})
	if err != nil {
		s.writeErrorFor(w, q, err)
		return
	}
	sc, err := scaleOf(cur)
	if err != nil {
		s.writeError(w, q.r, apierrors.NewInternalError(err))
		return
	}
	if q.verb == "get" {
		s.writeScale(w, q, http.StatusOK, sc)
		return
	}
	wq, err := parseWrite(v, q.r.UserAgent())
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	next := &autoscalingv1.Scale{}
	switch q.verb {
	case "update":
		if err := s.decodeScale(q, next); err != nil {
			s.writeError(w, q.r, err)
			return
		}
	case "patch":
		if err := s.patchScale(w, q, sc, next); err != nil {
			s.writeError(w, q.r, err)
			return
		}
	}
	if next.Spec.Replicas < 0 {
		s.writeErrorFor(w, q, apierrors.NewInvalid(autoscalingv1.SchemeGroupVersion.WithKind("Scale").GroupKind(), q.name,
			field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), next.Spec.Replicas, "must be greater than or equal to 0")}))
		return
	}
	if rv := next.ResourceVersion; rv != "" && rv != cur.GetResourceVersion() {
		s.writeErrorFor(w, q, apierrors.NewConflict(q.gr(), q.name, fmt.Errorf("%s", conflictMessage)))
		return
	}
	setReplicas(cur, next.Spec.Replicas)
	out, err := s.updateObject(main, cur, nil, wq)
	if err != nil {
		s.writeErrorFor(w, q, err)
		return
	}
	sc, _ = scaleOf(out)
	s.writeScale(w, q, http.StatusOK, sc)
}

func (s *Server) writeScale(w http.ResponseWriter, q *request, status int, sc *autoscalingv1.Scale) {
	as, err := negotiate(q.r, false)
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	s.encode(w, q.r, as, status, sc)
}

func (s *Server) decodeScale(q *request, into *autoscalingv1.Scale) error {
	body, err := readBody(q.r)
	if err != nil {
		return err
	}
	_, dec, err := bodySerializer(q.r, false)
	if err != nil {
		return err
	}
	gvk := autoscalingv1.SchemeGroupVersion.WithKind("Scale")
	if _, _, err := dec.Decode(body, &gvk, into); err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("Scale in version \"v1\" cannot be handled as a Scale: %v", err))
	}
	return nil
}

// serveEviction evicts a pod: deletes it gracefully with the eviction's
// delete options. Shoal serves no PodDisruptionBudgets, so none refuses.
func (s *Server) serveEviction(w http.ResponseWriter, q *request) {
	if err := checkParams(q.r.URL.Query(), writeParams); err != nil {
		s.writeError(w, q.r, err)
		return
	}
	wq, err := parseWrite(q.r.URL.Query(), q.r.UserAgent())
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	ev := &policyv1.Eviction{}
	if err := decodeSubresourceBody(q.r, policyv1.SchemeGroupVersion.WithKind("Eviction"), ev); err != nil {
		s.writeError(w, q.r, err)
		return
	}
	if ev.Name != "" && ev.Name != q.name {
		s.writeError(w, q.r, apierrors.NewBadRequest("name in URL does not match name in Eviction object"))
		return
	}
	do := metav1.DeleteOptions{}
	if ev.DeleteOptions != nil {
		do = *ev.DeleteOptions
	}
	main := &request{r: q.r, res: q.res, verb: "delete", namespace: q.namespace, name: q.name}
	if _, _, err := s.deleteObject(main, q.name, do, wq); err != nil {
		s.writeErrorFor(w, q, err)
		return
	}
	st := &metav1.Status{Status: metav1.StatusSuccess, Code: http.StatusCreated}
	as, _ := negotiate(&http.Request{Header: http.Header{}, URL: q.r.URL}, false)
	s.encode(w, q.r, as, http.StatusCreated, st)
}

// serveBinding binds a pod to a node (what a scheduler other than Shoal's
// posts): it sets spec.nodeName once.
func (s *Server) serveBinding(w http.ResponseWriter, q *request) {
	wq, err := parseWrite(q.r.URL.Query(), q.r.UserAgent())
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	b := &corev1.Binding{}
	body, err := readBody(q.r)
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	_, dec, err := bodySerializer(q.r, false)
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	gvk := corev1.SchemeGroupVersion.WithKind("Binding")
	if _, _, err := dec.Decode(body, &gvk, b); err != nil {
		s.writeError(w, q.r, apierrors.NewBadRequest(err.Error()))
		return
	}
	cur, err := s.cfg.Store.Get(q.ctx(), q.res, q.namespace, q.name, ReadOptions{Consistent: true})
	if err != nil {
		s.writeErrorFor(w, q, err)
		return
	}
	pod := cur.(*corev1.Pod)
	if pod.Spec.NodeName != "" {
		s.writeErrorFor(w, q, apierrors.NewConflict(q.gr(), q.name, fmt.Errorf("pod %s is already assigned to node %q", q.name, pod.Spec.NodeName)))
		return
	}
	pod.Spec.NodeName = b.Target.Name
	if _, err := s.cfg.Store.Update(q.ctx(), q.res, pod, WriteOptions{DryRun: wq.dryRun}); err != nil {
		s.writeErrorFor(w, q, err)
		return
	}
	st := &metav1.Status{Status: metav1.StatusSuccess, Code: http.StatusCreated}
	as, _ := negotiate(&http.Request{Header: http.Header{}, URL: q.r.URL}, false)
	s.encode(w, q.r, as, http.StatusCreated, st)
}

// patchScale applies a patch request's body to a Scale.
func (s *Server) patchScale(w http.ResponseWriter, q *request, cur, into *autoscalingv1.Scale) error {
	body, err := readBody(q.r)
	if err != nil {
		return err
	}
	_ = setKind(cur, "")
	js, err := runtime.Encode(jsonSerializer(), cur)
	if err != nil {
		return err
	}
	ct, _, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	var out []byte
	switch types.PatchType(ct) {
	case types.JSONPatchType:
		p, err := jsonpatch.DecodePatch(body)
		if err != nil {
			return apierrors.NewBadRequest(err.Error())
		}
		if out, err = p.Apply(js); err != nil {
			return apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", err.Error(), 0, false)
		}
	case types.MergePatchType:
		if out, err = jsonpatch.MergePatch(js, body); err != nil {
			return apierrors.NewBadRequest(err.Error())
		}
	case types.StrategicMergePatchType:
		if out, err = strategicpatch.StrategicMergePatch(js, body, &autoscalingv1.Scale{}); err != nil {
			return apierrors.NewBadRequest(err.Error())
		}
	default:
		return unsupportedMediaType(q.r.Header.Get("Content-Type"))
	}
	gvk := autoscalingv1.SchemeGroupVersion.WithKind("Scale")
	if _, _, err := jsonSerializer().Decode(out, &gvk, into); err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	return nil
}

// serveTokenRequest issues a service account's token (TokenRequest), as
// kube-apiserver's token subresource: spec.audiences, expirationSeconds
// (default an hour, at least 10 minutes), boundObjectRef to a Pod.
func (s *Server) serveTokenRequest(w http.ResponseWriter, q *request) {
	if s.cfg.Tokens == nil {
		s.writeError(w, q.r, apierrors.NewNotFound(q.gr(), q.name))
		return
	}
	tr := &authenticationv1.TokenRequest{}
	if err := decodeSubresourceBody(q.r, authenticationv1.SchemeGroupVersion.WithKind("TokenRequest"), tr); err != nil {
		s.writeError(w, q.r, err)
		return
	}
	ttl := int64(3600)
	if e := tr.Spec.ExpirationSeconds; e != nil {
		if *e < 600 {
			s.writeError(w, q.r, apierrors.NewInvalid(schema.GroupKind{Group: "authentication.k8s.io", Kind: "TokenRequest"}, q.name,
				field.ErrorList{field.Invalid(field.NewPath("spec", "expirationSeconds"), *e, "may not specify a duration less than 10 minutes")}))
			return
		}
		ttl = *e
	}
	pod := ""
	if ref := tr.Spec.BoundObjectRef; ref != nil {
		if ref.Kind != "Pod" {
			s.writeError(w, q.r, apierrors.NewBadRequest(fmt.Sprintf("cannot bind token to object of kind %q: only Pod is supported by Shoal", ref.Kind)))
			return
		}
		pod = ref.Name
	}
	tok, exp, err := s.cfg.Tokens.IssueToken(q.ctx(), q.namespace, q.name, tr.Spec.Audiences, pod, time.Duration(ttl)*time.Second)
	if err != nil {
		s.writeErrorFor(w, q, err)
		return
	}
	tr.Name, tr.Namespace = q.name, q.namespace
	tr.CreationTimestamp = s.now()
	tr.Spec.ExpirationSeconds = &ttl
	if len(tr.Spec.Audiences) == 0 {
		tr.Spec.Audiences = []string{"https://kubernetes.default.svc.cluster.local"}
	}
	tr.Status = authenticationv1.TokenRequestStatus{Token: tok, ExpirationTimestamp: metav1.NewTime(exp)}
	as, _ := negotiate(q.r, false)
	s.encode(w, q.r, as, http.StatusCreated, tr)
}

// decodeSubresourceBody reads r's body into into, an object of kind gvk in
// the body's content type; a body that does not decode is 400 "KIND cannot
// be handled", as kube-apiserver says.
func decodeSubresourceBody(r *http.Request, gvk schema.GroupVersionKind, into runtime.Object) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	_, dec, err := bodySerializer(r, false)
	if err != nil {
		return err
	}
	if _, _, err := dec.Decode(body, &gvk, into); err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("%s cannot be handled: %v", gvk.Kind, err))
	}
	return nil
}
