package peer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// The Kubernetes-shaped object API (/api/v1/...): any peer validates and
// stores any object in the shard that owns it. This first slice serves the
// kinds workload.Kinds lists (Namespace, ConfigMap).

func (p *Peer) objectRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/nodes/{name}/cordon", p.handle(anyone, p.cordon(true)))
	mux.Handle("POST /api/v1/nodes/{name}/uncordon", p.handle(anyone, p.cordon(false)))
	for _, prefix := range []string{"/api/v1", "/apis/{group}/{version}"} {
		mux.Handle("GET "+prefix+"/{resource}", p.listOrWatch())
		mux.Handle("POST "+prefix+"/{resource}", p.handle(anyone, p.createObject))
		mux.Handle("GET "+prefix+"/{resource}/{name}", p.handle(anyone, p.getObject))
		mux.Handle("PUT "+prefix+"/{resource}/{name}", p.handle(anyone, p.updateObject))
		mux.Handle("DELETE "+prefix+"/{resource}/{name}", p.handle(anyone, p.deleteObject))
		mux.Handle("GET "+prefix+"/namespaces/{ns}/{resource}", p.listOrWatch())
		mux.Handle("POST "+prefix+"/namespaces/{ns}/{resource}", p.handle(anyone, p.createObject))
		mux.Handle("GET "+prefix+"/namespaces/{ns}/{resource}/{name}", p.handle(anyone, p.getObject))
		mux.Handle("PUT "+prefix+"/namespaces/{ns}/{resource}/{name}", p.handle(anyone, p.updateObject))
		mux.Handle("DELETE "+prefix+"/namespaces/{ns}/{resource}/{name}", p.handle(anyone, p.deleteObject))
	}
}

// target is what a request's path names.
type target struct {
	info workload.KindInfo
	ns   string
	name string
}

func (p *Peer) target(r *http.Request) (target, error) {
	info, err := workload.LookupKind(r.PathValue("resource"))
	if err != nil {
		return target{}, err
	}
	if info.Plural != r.PathValue("resource") {
		return target{}, fmt.Errorf("path: use the plural %q, not %q: %w", info.Plural, r.PathValue("resource"), errdefs.ErrNotFound)
	}
	served := "/api/v1"
	if g := r.PathValue("group"); g != "" {
		served = "/apis/" + g + "/" + r.PathValue("version")
	}
	if served != info.PathPrefix() {
		return target{}, fmt.Errorf("%s are served under %s, not %s: %w", info.Plural, info.PathPrefix(), served, errdefs.ErrNotFound)
	}
	t := target{info: info, ns: r.PathValue("ns"), name: r.PathValue("name")}
	if info.Namespaced && t.ns == "" && (t.name != "" || r.Method != http.MethodGet) {
		return target{}, fmt.Errorf("%s is namespaced: use /api/v1/namespaces/NS/%s: %w", info.Plural, info.Plural, errdefs.ErrNotFound)
	}
	if !info.Namespaced && t.ns != "" {
		return target{}, fmt.Errorf("%s is cluster-scoped: use /api/v1/%s: %w", info.Plural, info.Plural, errdefs.ErrNotFound)
	}
	return t, nil
}

// worded words a store error about the target object as Kubernetes does:
// `configmaps "app" not found`.
func (t target) worded(err error) error {
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		return errdefs.Newf(errdefs.ErrNotFound, "%s %q not found", t.info.Plural, t.name)
	case errors.Is(err, errdefs.ErrAlreadyExists):
		return errdefs.Newf(errdefs.ErrAlreadyExists, "%s %q already exists", t.info.Plural, t.name)
	case errors.Is(err, errdefs.ErrConflict):
		return errdefs.Newf(errdefs.ErrConflict, "Operation cannot be fulfilled on %s %q: the object has been modified; please apply your changes to the latest version and try again", t.info.Plural, t.name)
	}
	return err
}

func (t target) key() consensus.Key {
	return consensus.Key{Kind: t.info.Kind, Namespace: t.ns, Name: t.name}
}

func (p *Peer) shardOf(k consensus.Key) uint64 { return p.router.ShardFor(k, "") }

// shardOfObject is the shard an object lives in: its Deployment's, for a
// ReplicaSet or Pod that one owns (see consensus.Router).
func (p *Peer) shardOfObject(kind string, meta *workload.ObjectMeta) uint64 {
	return p.router.ShardFor(consensus.Key{Kind: kind, Namespace: meta.Namespace, Name: meta.Name}, meta.Annotations[workload.AnnotationDeployment])
}

// locate reads a named object and says which shard holds it. A name alone
// does not tell the shard of a Deployment's ReplicaSet or Pod (it lives in
// its Deployment's), so those are looked for in every object shard after
// their own name's.
func (p *Peer) locate(ctx context.Context, t target, linearizable bool) (uint64, consensus.Object, error) {
	first := p.shardOf(t.key())
	so, err := p.store.Get(ctx, first, t.key(), linearizable)
	if err == nil || !errors.Is(err, errdefs.ErrNotFound) || (t.info.Kind != "Pod" && t.info.Kind != "ReplicaSet") {
		return first, so, err
	}
	for _, s := range p.router.Shards()[1:] {
		if s == first {
			continue
		}
		if o, gerr := p.store.Get(ctx, s, t.key(), linearizable); gerr == nil {
			return s, o, nil
		}
	}
	return first, so, err
}

// decodeObject reads one object from a request body, validated and
// defaulted for the path's namespace.
func (p *Peer) decodeObject(r *http.Request, t target) (workload.Object, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, workload.MaxObjectBytes+4096))
	if err != nil {
		return nil, fmt.Errorf("request body: %v: %w", err, errdefs.ErrTooLarge)
	}
	docs, err := workload.Decode("request", body)
	if err != nil {
		return nil, err
	}
	if len(docs) != 1 {
		return nil, fmt.Errorf("request: want one object, got %d: %w", len(docs), errdefs.ErrInvalid)
	}
	d := docs[0]
	if d.Info.Kind != t.info.Kind {
		return nil, fmt.Errorf("kind: %q does not match the path's %q: %w", d.Info.Kind, t.info.Kind, errdefs.ErrInvalid)
	}
	meta := workload.MetaOf(d.Object)
	if t.info.Namespaced && meta.Namespace != "" && meta.Namespace != t.ns {
		return nil, fmt.Errorf("metadata.namespace: Invalid value: %q: does not match the path's namespace %q: %w", meta.Namespace, t.ns, errdefs.ErrInvalid)
	}
	if t.name != "" && meta.Name != t.name {
		return nil, fmt.Errorf("metadata.name: Invalid value: %q: does not match the path's name %q: %w", meta.Name, t.name, errdefs.ErrInvalid)
	}
	workload.Defaults(d.Object, d.Info, t.ns)
	return d.Object, nil
}

// targetAndBody reads what a create or update names and carries.
func (p *Peer) targetAndBody(r *http.Request) (target, workload.Object, error) {
	t, err := p.target(r)
	if err != nil {
		return target{}, nil, err
	}
	if t.info.SystemOwned {
		return target{}, nil, errdefs.Newf(errdefs.ErrForbidden, "%s are written by Shoal itself, not by users", t.info.Plural)
	}
	o, err := p.decodeObject(r, t)
	return t, o, err
}

// stored turns an object into what the store keeps: its JSON without the
// resourceVersion, which the store owns.
func stored(o workload.Object) (consensus.Object, error) {
	meta := workload.MetaOf(o)
	rv := meta.ResourceVersion
	meta.ResourceVersion = ""
	b, err := json.Marshal(o)
	meta.ResourceVersion = rv
	if err != nil {
		return consensus.Object{}, err
	}
	return consensus.Object{Kind: workload.TypeMetaOf(o).Kind, Namespace: meta.Namespace, Name: meta.Name, Labels: meta.Labels, Data: b}, nil
}

// loaded turns a stored object back into the API's, with its version.
func loaded(so consensus.Object) (json.RawMessage, error) {
	info, err := workload.LookupKind(so.Kind)
	if err != nil {
		return nil, err
	}
	o := info.New()
	if err := json.Unmarshal(so.Data, o); err != nil {
		return nil, fmt.Errorf("stored %s/%s: %v", so.Kind, so.Name, err)
	}
	workload.MetaOf(o).ResourceVersion = strconv.FormatUint(so.ResourceVersion, 10)
	if sec, ok := o.(*workload.Secret); ok {
		redactSecret(sec)
	}
	return json.Marshal(o)
}

// shown is a stored object as a request asks to see it: loaded, or for a
// secret with ?reveal=true, with its values.
func (p *Peer) shown(r *http.Request, so consensus.Object) (json.RawMessage, error) {
	if so.Kind == "Secret" && r.URL.Query().Get("reveal") == "true" {
		return p.revealed(r.Context(), so)
	}
	return loaded(so)
}

func (p *Peer) createObject(r *http.Request, _ principal) (any, error) {
	t, o, err := p.targetAndBody(r)
	if err != nil {
		return nil, err
	}
	meta := workload.MetaOf(o)
	t.name = meta.Name
	if t.info.Namespaced {
		if err := p.namespaceExists(r.Context(), t.ns); err != nil {
			return nil, err
		}
	}
	if meta.UID == "" {
		meta.UID = newUID()
	}
	meta.Generation = 1
	now := p.cfg.Now().UTC().Truncate(1e9)
	meta.CreationTimestamp = workload.NewTime(now)
	release := func() {}
	if svc, ok := o.(*workload.Service); ok {
		if release, err = p.allocateService(r.Context(), svc); err != nil {
			return nil, err
		}
	}
	if sec, ok := o.(*workload.Secret); ok {
		if err := p.sealSecret(r.Context(), sec); err != nil {
			return nil, err
		}
	}
	so, err := stored(o)
	if err != nil {
		release()
		return nil, err
	}
	res, err := p.store.Propose(r.Context(), p.shardOfObject(t.info.Kind, meta), consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpCreate, Object: so}}})
	if err != nil {
		if !errors.Is(err, errdefs.ErrUnavailable) { // unavailable: it may yet be stored
			release()
		}
		return nil, t.worded(err)
	}
	return loaded(res.Objects[0])
}

func (p *Peer) updateObject(r *http.Request, _ principal) (any, error) {
	t, o, err := p.targetAndBody(r)
	if err != nil {
		return nil, err
	}
	meta := workload.MetaOf(o)
	var pre uint64
	if meta.ResourceVersion != "" {
		if pre, err = strconv.ParseUint(meta.ResourceVersion, 10, 64); err != nil {
			return nil, fmt.Errorf("metadata.resourceVersion: Invalid value: %q: %w", meta.ResourceVersion, errdefs.ErrInvalid)
		}
	}
	shard, cur, err := p.locate(r.Context(), t, true)
	if err != nil {
		return nil, t.worded(err)
	}
	var old struct {
		ObjectMeta workload.ObjectMeta `json:"metadata"`
	}
	_ = json.Unmarshal(cur.Data, &old)
	meta.UID, meta.CreationTimestamp = old.ObjectMeta.UID, old.ObjectMeta.CreationTimestamp // immutable
	meta.Generation = nextGeneration(o, cur.Data, old.ObjectMeta.Generation)
	meta.DeletionTimestamp, meta.DeletionGracePeriodSeconds = old.ObjectMeta.DeletionTimestamp, old.ObjectMeta.DeletionGracePeriodSeconds
	if svc, ok := o.(*workload.Service); ok {
		if err := keepServiceAddrs(svc, cur); err != nil {
			return nil, err
		}
	}
	keepBinding(o, cur)
	if sec, ok := o.(*workload.Secret); ok {
		if err := p.sealSecret(r.Context(), sec); err != nil {
			return nil, err
		}
	}
	if pre == 0 {
		pre = cur.ResourceVersion
	}
	so, err := stored(o)
	if err != nil {
		return nil, err
	}
	// Status belongs to the system (the node agent, controllers): a user's
	// update keeps what is stored, as Kubernetes' status subresource does.
	if so.Data, err = keepStatus(so.Data, cur.Data); err != nil {
		return nil, err
	}
	res, err := p.store.Propose(r.Context(), shard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpUpdate, Object: so, Precondition: pre}}})
	if err != nil {
		return nil, t.worded(err)
	}
	return loaded(res.Objects[0])
}

// nextGeneration is an updated object's metadata.generation: one more
// when its spec changed, as in Kubernetes, so that a controller's
// status.observedGeneration says whether it has seen the change.
func nextGeneration(next workload.Object, cur []byte, gen int64) int64 {
	var a, b struct {
		Spec json.RawMessage `json:"spec"`
	}
	nb, err := json.Marshal(next)
	if err != nil || json.Unmarshal(nb, &b) != nil || json.Unmarshal(cur, &a) != nil {
		return gen + 1
	}
	if a.Spec == nil && b.Spec == nil {
		return gen
	}
	var x, y any
	_ = json.Unmarshal(a.Spec, &x)
	_ = json.Unmarshal(b.Spec, &y)
	if reflect.DeepEqual(x, y) {
		return gen
	}
	return gen + 1
}

// keepBinding keeps what the claim binder wrote in a volume's or claim's
// spec (claimRef, volumeName) when a user's update leaves it out: applying
// the manifest again must not unbind them.
func keepBinding(next workload.Object, cur consensus.Object) {
	switch o := next.(type) {
	case *workload.PersistentVolume:
		// A Released volume's claimRef may go: that is how its
		// administrator makes it Available again, as in Kubernetes.
		var old workload.PersistentVolume
		if o.Spec.ClaimRef == nil && json.Unmarshal(cur.Data, &old) == nil && old.Status.Phase != workload.VolumeReleased {
			o.Spec.ClaimRef = old.Spec.ClaimRef
		}
	case *workload.PersistentVolumeClaim:
		var old workload.PersistentVolumeClaim
		if o.Spec.VolumeName == "" && json.Unmarshal(cur.Data, &old) == nil {
			o.Spec.VolumeName = old.Spec.VolumeName
		}
	}
}

// keepStatus returns next with the "status" of prev.
func keepStatus(next, prev []byte) ([]byte, error) {
	var n, o map[string]json.RawMessage
	if err := json.Unmarshal(next, &n); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(prev, &o); err != nil {
		return nil, err
	}
	if st, ok := o["status"]; ok {
		n["status"] = st
	} else {
		delete(n, "status")
	}
	return json.Marshal(n)
}

func (p *Peer) getObject(r *http.Request, _ principal) (any, error) {
	t, err := p.target(r)
	if err != nil {
		return nil, err
	}
	_, so, err := p.locate(r.Context(), t, r.URL.Query().Get("consistency") != "local")
	if err != nil {
		return nil, t.worded(err)
	}
	return p.shown(r, so)
}

func (p *Peer) deleteObject(r *http.Request, _ principal) (any, error) {
	t, err := p.target(r)
	if err != nil {
		return nil, err
	}
	if t.info.SystemOwned {
		return nil, errdefs.Newf(errdefs.ErrForbidden, "%s %q: written by Shoal itself, not by users", t.info.Plural, t.name)
	}
	if t.info.Kind == "Namespace" {
		if err := p.deleteNamespaceContents(r.Context(), t.name); err != nil {
			return nil, err
		}
	}
	if t.info.Kind == "Pod" && r.URL.Query().Get("gracePeriodSeconds") != "0" {
		if out, done, err := p.deletePodGracefully(r.Context(), t); done {
			return out, err
		}
	}
	shard, cur, err := p.locate(r.Context(), t, true)
	if err != nil {
		return nil, t.worded(err)
	}
	res, err := p.store.Propose(r.Context(), shard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpDelete, Object: consensus.Object{Kind: t.info.Kind, Namespace: t.ns, Name: t.name}}}})
	if err != nil {
		return nil, t.worded(err)
	}
	p.released(r.Context(), cur)
	return loaded(res.Objects[0])
}

// deletePodGracefully marks a pod bound to a node as terminating (its
// deletionTimestamp and grace period): the node agent stops it and then
// removes it. A pod bound nowhere is not handled here (done is false) and
// goes at once.
func (p *Peer) deletePodGracefully(ctx context.Context, t target) (out any, done bool, err error) {
	shard, so, err := p.locate(ctx, t, true)
	if err != nil {
		return nil, true, t.worded(err)
	}
	pod, err := decodePod(so)
	if err != nil {
		return nil, true, err
	}
	if pod.Spec.NodeName == "" {
		return nil, false, nil
	}
	if pod.ObjectMeta.DeletionTimestamp == nil {
		if so, err = p.markTerminating(ctx, shard, &pod, so.ResourceVersion); err != nil {
			return nil, true, t.worded(err)
		}
	}
	b, err := loaded(so)
	return b, true, err
}

// markTerminating sets a bound pod's deletionTimestamp and grace period
// (its spec's, or Kubernetes' default), with a compare-and-swap on rv.
func (p *Peer) markTerminating(ctx context.Context, shard uint64, pod *workload.Pod, rv uint64) (consensus.Object, error) {
	now := p.cfg.Now().UTC().Truncate(time.Second)
	grace := workload.DefaultTerminationGracePeriodSeconds
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	pod.ObjectMeta.DeletionTimestamp, pod.ObjectMeta.DeletionGracePeriodSeconds = &workload.Time{Time: now}, &grace
	nso, err := stored(pod)
	if err != nil {
		return consensus.Object{}, err
	}
	res, err := p.store.Propose(ctx, shard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpUpdate, Object: nso, Precondition: rv}}})
	if err != nil {
		return consensus.Object{}, err
	}
	return res.Objects[0], nil
}

// deleteNamespaceContents deletes every namespaced object in a namespace,
// before the namespace itself goes, as Kubernetes' namespace controller
// does (here synchronously, inside the delete call).
func (p *Peer) deleteNamespaceContents(ctx context.Context, ns string) error {
	for _, info := range workload.Kinds() {
		if !info.Namespaced {
			continue
		}
		objs, _, err := consensus.ListShards(ctx, p.store, p.shardsFor(info), consensus.Filter{Kind: info.Kind, Namespace: ns}, true)
		if err != nil {
			return err
		}
		for _, o := range objs {
			_, err := p.store.Propose(ctx, p.shardOf(o.Key()), consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpDelete, Object: consensus.Object{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}}}})
			if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
				return fmt.Errorf("namespace %q: delete %s/%s: %w", ns, o.Kind, o.Name, err)
			}
			p.released(ctx, o)
		}
	}
	return nil
}

// namespaceExists checks, for a namespaced create, that its namespace is
// there: Kubernetes answers 404 for an object in a missing namespace.
func (p *Peer) namespaceExists(ctx context.Context, ns string) error {
	k := consensus.Key{Kind: "Namespace", Name: ns}
	if _, err := p.store.Get(ctx, p.shardOf(k), k, true); err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			return fmt.Errorf("namespaces %q not found: %w", ns, errdefs.ErrNotFound)
		}
		return err
	}
	return nil
}

// ensureDefaultNamespace creates the "default" namespace once, as a new
// Kubernetes cluster has one. Any peer may try; the create is idempotent.
func (p *Peer) ensureDefaultNamespace(ctx context.Context) error {
	ns := &workload.Namespace{ObjectMeta: workload.ObjectMeta{Name: workload.DefaultNamespace, UID: newUID()}}
	info, _ := workload.LookupKind("Namespace")
	workload.Defaults(ns, info, "")
	now := p.cfg.Now().UTC().Truncate(time.Second)
	ns.ObjectMeta.CreationTimestamp = workload.NewTime(now)
	so, err := stored(ns)
	if err != nil {
		return err
	}
	_, err = p.store.Propose(ctx, p.shardOf(so.Key()), consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpCreate, Object: so}}})
	if err != nil && !errors.Is(err, errdefs.ErrAlreadyExists) {
		return err
	}
	return nil
}

// objectList is a Kubernetes list: {"apiVersion","kind":"XList","metadata":{"resourceVersion"},"items"}.
type objectList struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	ObjectMeta struct {
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Items []json.RawMessage `json:"items"`
}

func (p *Peer) listObjects(r *http.Request, _ principal) (any, error) {
	t, err := p.target(r)
	if err != nil {
		return nil, err
	}
	sel := r.URL.Query().Get("labelSelector")
	if _, err := consensus.ParseSelector(sel); err != nil {
		return nil, fmt.Errorf("labelSelector: %w", err)
	}
	objs, v, err := consensus.ListShards(r.Context(), p.store, p.shardsFor(t.info), consensus.Filter{Kind: t.info.Kind, Namespace: t.ns, Selector: sel}, r.URL.Query().Get("consistency") != "local")
	if err != nil {
		return nil, err
	}
	out := objectList{APIVersion: t.info.APIVersion, Kind: t.info.Kind + "List", Items: []json.RawMessage{}}
	out.ObjectMeta.ResourceVersion = v.String()
	for _, so := range objs {
		b, err := p.shown(r, so)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, b)
	}
	return out, nil
}

// listOrWatch serves a collection: a list, or with ?watch=true a stream of
// {"type": ADDED|MODIFIED|DELETED, "object": ...} lines from
// ?resourceVersion= (a list's composite version; empty means from now), as
// Kubernetes does. A version older than the store's history gets 410 Gone:
// the client relists.
func (p *Peer) listOrWatch() http.Handler {
	list := p.handle(anyone, p.listObjects)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") != "true" && r.URL.Query().Get("watch") != "1" {
			list.ServeHTTP(w, r)
			return
		}
		if _, err := p.identify(r); err != nil {
			writeError(w, err)
			return
		}
		t, err := p.target(r)
		if err != nil {
			writeError(w, err)
			return
		}
		from, err := consensus.ParseVersion(r.URL.Query().Get("resourceVersion"))
		if err != nil {
			writeError(w, err)
			return
		}
		sel := r.URL.Query().Get("labelSelector")
		if _, err := consensus.ParseSelector(sel); err != nil {
			writeError(w, fmt.Errorf("labelSelector: %w", err))
			return
		}
		events, err := consensus.WatchShards(r.Context(), p.store, p.shardsFor(t.info), from, consensus.Filter{Kind: t.info.Kind, Namespace: t.ns, Selector: sel})
		if err != nil {
			writeError(w, err)
			return
		}
		streamLines(w, "application/json", events, func(e consensus.ShardEvent) (any, bool) {
			obj, err := loaded(e.Event.Object)
			if err != nil {
				return nil, false
			}
			return watchEvent{Type: string(e.Event.Type), Object: obj, ResourceVersion: e.Version.String()}, true
		})
	})
}

// watchEvent is one line of a watch stream.
type watchEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
	// ResourceVersion resumes the watch after this event.
	ResourceVersion string `json:"resourceVersion"`
}

// shardsFor lists the shards objects of a kind may live in.
func (p *Peer) shardsFor(info workload.KindInfo) []uint64 {
	if !info.Namespaced || info.Kind == "Namespace" {
		return []uint64{p.router.ShardFor(consensus.Key{Kind: info.Kind, Name: "x"}, "")}
	}
	return p.router.Shards()[1:]
}

func newUID() workload.UID {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return workload.UID(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
}
