package peer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/kubeapi"
	"github.com/shoalproject/shoal/workload"
)

// kubeStore is the Kubernetes API's store on this peer: the sharded raft
// store, reached through any peer, with what Shoal adds on the way in and
// out (a Service's addresses, a Secret's sealing, a volume's binding kept
// across a user's update).
//
// Its resourceVersions are the API's, not the store's raw indexes: an
// object read by itself has "shard.index" (the index in its shard of the
// entry that last changed it), a list the index of every shard it read,
// and an object in a watch event both, "shard.index@vector", the vector
// being where to resume the watch after it. Each is base64url-encoded, so
// a client sees one opaque string, and any of them is a valid
// precondition for an update of that object (the object's own index). A
// bare decimal is taken as the index in the object's own shard, as
// Shoal's own components write it.
type kubeStore struct {
	p       *Peer
	decodes *watchDecodes // shared by the watches; nil decodes for each
}

var _ kubeapi.Store = kubeStore{}

// apiVersion is a resourceVersion as the API gives it out.
type apiVersion struct {
	own      bool   // an object's own version is known
	shard    uint64 // the object's shard, when own
	index    uint64 // the object's index in it, when own
	resume   consensus.Version
	isNumber bool // a bare decimal: an index in the object's shard
}

func (v apiVersion) String() string {
	var b strings.Builder
	if v.own {
		fmt.Fprintf(&b, "%d.%d", v.shard, v.index)
		if len(v.resume) > 0 {
			b.WriteByte('@')
		}
	}
	ids := make([]uint64, 0, len(v.resume))
	for id := range v.resume {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d.%d", id, v.resume[id])
	}
	return base64.RawURLEncoding.EncodeToString([]byte(b.String()))
}

func parseAPIVersion(s string) (apiVersion, error) {
	var v apiVersion
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		v.isNumber, v.index = true, n
		return v, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	bad := fmt.Errorf("resourceVersion %q: not one this cluster issued: %w", s, errdefs.ErrInvalid)
	if err != nil {
		return v, bad
	}
	text := string(raw)
	if own, rest, found := strings.Cut(text, "@"); found || !strings.Contains(text, ",") {
		if !found {
			own, rest = text, ""
		}
		sh, ix, ok := strings.Cut(own, ".")
		a, e1 := strconv.ParseUint(sh, 10, 64)
		b, e2 := strconv.ParseUint(ix, 10, 64)
		if !ok || e1 != nil || e2 != nil {
			return v, bad
		}
		v.own, v.shard, v.index = true, a, b
		text = rest
		if !found {
			v.resume = consensus.Version{a: b}
			return v, nil
		}
	}
	v.resume = consensus.Version{}
	for _, part := range strings.Split(text, ",") {
		if part == "" {
			continue
		}
		sh, ix, ok := strings.Cut(part, ".")
		a, e1 := strconv.ParseUint(sh, 10, 64)
		b, e2 := strconv.ParseUint(ix, 10, 64)
		if !ok || e1 != nil || e2 != nil {
			return v, bad
		}
		v.resume[a] = b
	}
	return v, nil
}

// precondition is the store index an update of an object in shard must
// find it at.
func (v apiVersion) precondition(shard uint64) (uint64, error) {
	switch {
	case v.isNumber:
		return v.index, nil
	case v.own && v.shard == shard:
		return v.index, nil
	case !v.own:
		if i, ok := v.resume[shard]; ok {
			return i, nil
		}
	}
	return 0, fmt.Errorf("resourceVersion: not a version of this object: %w", errdefs.ErrConflict)
}

func (s kubeStore) info(r *kubeapi.Resource) workload.KindInfo {
	info, _ := workload.LookupKind(r.GroupVersionKind.Kind)
	return info
}

func (s kubeStore) target(r *kubeapi.Resource, ns, name string) target {
	return target{info: s.info(r), ns: ns, name: name}
}

// loadAPI turns a stored object into the API's: decoded, its secret
// values opened, its version the API's.
func (s kubeStore) loadAPI(ctx context.Context, info workload.KindInfo, so consensus.Object, shard uint64) (workload.Object, error) {
	o := info.New()
	if err := json.Unmarshal(so.Data, o); err != nil {
		return nil, fmt.Errorf("stored %s %s/%s: %v", so.Kind, so.Namespace, so.Name, err)
	}
	if sec, ok := o.(*workload.Secret); ok {
		if err := s.p.openSecret(ctx, sec); err != nil {
			return nil, err
		}
	}
	o.SetResourceVersion(apiVersion{own: true, shard: shard, index: so.ResourceVersion}.String())
	return o, nil
}

// loadWatched is loadAPI for a watch event, decoded once for every watch
// that delivers it (but a Secret, which each opens for itself).
func (s kubeStore) loadWatched(ctx context.Context, info workload.KindInfo, so consensus.Object, shard uint64) (workload.Object, error) {
	if s.decodes == nil || so.Kind == "Secret" {
		return s.loadAPI(ctx, info, so, shard)
	}
	return s.decodes.decode(shard, so, func() (workload.Object, error) { return s.loadAPI(ctx, info, so, shard) })
}

// Get implements kubeapi.Store.
func (s kubeStore) Get(ctx context.Context, r *kubeapi.Resource, ns, name string, o kubeapi.ReadOptions) (workload.Object, error) {
	t := s.target(r, ns, name)
	shard, so, err := s.p.locate(ctx, t, o.Consistent)
	if err != nil {
		return nil, err
	}
	return s.loadAPI(ctx, t.info, so, shard)
}

// List implements kubeapi.Store.
func (s kubeStore) List(ctx context.Context, r *kubeapi.Resource, ns string, o kubeapi.ListOptions) (kubeapi.ListResult, error) {
	info := s.info(r)
	sel := ""
	if o.Labels != nil && !o.Labels.Empty() {
		sel = o.Labels.String()
	}
	shards := s.p.shardsFor(info)
	f := consensus.Filter{Kind: info.Kind, Namespace: ns, Selector: sel, After: o.After, Limit: o.Limit}
	objs, v, more, err := listShardsWithShard(ctx, s.p.store, shards, f, o.Consistent)
	if err != nil {
		return kubeapi.ListResult{}, err
	}
	out := kubeapi.ListResult{ResourceVersion: apiVersion{resume: v}.String(), More: more}
	for _, so := range objs {
		obj, err := s.loadAPI(ctx, info, so.obj, so.shard)
		if err != nil {
			return kubeapi.ListResult{}, err
		}
		out.Items = append(out.Items, obj)
	}
	return out, nil
}

// shardObject is a stored object and the shard it was read from.
type shardObject struct {
	obj   consensus.Object
	shard uint64
}

// listShardsWithShard lists several shards at once and merges their
// objects in (namespace, name) order, remembering each one's shard. With
// f.After and f.Limit it is one page: each shard gives at most Limit
// objects after the key (a peer of an earlier release gives them all, so
// the page is cut here too), and more says objects are left.
func listShardsWithShard(ctx context.Context, st consensus.Store, shards []uint64, f consensus.Filter, lin bool) ([]shardObject, consensus.Version, bool, error) {
	type part struct {
		l   consensus.ListResult
		err error
	}
	parts := make([]part, len(shards))
	var wg sync.WaitGroup
	for i, sh := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i].l, parts[i].err = st.List(ctx, sh, f, lin)
		}()
	}
	wg.Wait()
	v := consensus.Version{}
	var out []shardObject
	more := false
	for i, p := range parts {
		if p.err != nil {
			return nil, nil, false, p.err
		}
		v[shards[i]] = p.l.Index
		more = more || p.l.More
		for _, o := range p.l.Objects {
			if f.After != "" && o.Namespace+"/"+o.Name <= f.After {
				continue
			}
			out = append(out, shardObject{obj: o, shard: shards[i]})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].obj, out[j].obj
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out, more = out[:f.Limit], true
	}
	return out, v, more, nil
}

// Create implements kubeapi.Store.
func (s kubeStore) Create(ctx context.Context, r *kubeapi.Resource, obj workload.Object, o kubeapi.WriteOptions) (workload.Object, error) {
	info := s.info(r)
	workload.TypeMetaOf(obj).APIVersion, workload.TypeMetaOf(obj).Kind = info.APIVersion, info.Kind
	release := func() {}
	if svc, ok := obj.(*workload.Service); ok && !o.DryRun {
		var err error
		if release, err = s.p.allocateService(ctx, svc); err != nil {
			return nil, err
		}
	}
	if o.DryRun {
		return obj, nil
	}
	plain := obj.DeepCopyObject().(workload.Object)
	if sec, ok := obj.(*workload.Secret); ok {
		if err := s.p.sealSecret(ctx, sec); err != nil {
			return nil, err
		}
	}
	so, err := stored(obj)
	if err != nil {
		release()
		return nil, err
	}
	shard := s.p.shardOfObject(info.Kind, workload.MetaOf(obj))
	res, err := s.p.store.Propose(ctx, shard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpCreate, Object: so}}})
	if err != nil {
		if !errors.Is(err, errdefs.ErrUnavailable) { // unavailable: it may yet be stored
			release()
		}
		return nil, err
	}
	plain.SetResourceVersion(apiVersion{own: true, shard: shard, index: res.Objects[0].ResourceVersion}.String())
	return plain, nil
}

// Update implements kubeapi.Store.
func (s kubeStore) Update(ctx context.Context, r *kubeapi.Resource, obj workload.Object, o kubeapi.WriteOptions) (workload.Object, error) {
	info := s.info(r)
	workload.TypeMetaOf(obj).APIVersion, workload.TypeMetaOf(obj).Kind = info.APIVersion, info.Kind
	t := s.target(r, obj.GetNamespace(), obj.GetName())
	shard, cur, err := s.p.locate(ctx, t, true)
	if err != nil {
		return nil, err
	}
	pre := cur.ResourceVersion
	if rv := obj.GetResourceVersion(); rv != "" {
		v, err := parseAPIVersion(rv)
		if err != nil {
			return nil, err
		}
		if pre, err = v.precondition(shard); err != nil {
			return nil, err
		}
	}
	if svc, ok := obj.(*workload.Service); ok {
		if err := keepServiceAddrs(svc, cur); err != nil {
			return nil, err
		}
	}
	keepBinding(obj, cur)
	if o.DryRun {
		if pre != cur.ResourceVersion {
			return nil, fmt.Errorf("%s %q: %w", info.Plural, obj.GetName(), errdefs.ErrConflict)
		}
		obj.SetResourceVersion(apiVersion{own: true, shard: shard, index: cur.ResourceVersion}.String())
		return obj, nil
	}
	plain := obj.DeepCopyObject().(workload.Object)
	if sec, ok := obj.(*workload.Secret); ok {
		if err := s.p.sealSecret(ctx, sec); err != nil {
			return nil, err
		}
	}
	so, err := stored(obj)
	if err != nil {
		return nil, err
	}
	res, err := s.p.store.Propose(ctx, shard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpUpdate, Object: so, Precondition: pre}}})
	if err != nil {
		return nil, err
	}
	plain.SetResourceVersion(apiVersion{own: true, shard: shard, index: res.Objects[0].ResourceVersion}.String())
	return plain, nil
}

// Delete implements kubeapi.Store.
func (s kubeStore) Delete(ctx context.Context, r *kubeapi.Resource, ns, name string, o kubeapi.DeleteOptions) (workload.Object, error) {
	t := s.target(r, ns, name)
	shard, cur, err := s.p.locate(ctx, t, true)
	if err != nil {
		return nil, err
	}
	last, err := s.loadAPI(ctx, t.info, cur, shard)
	if err != nil {
		return nil, err
	}
	var pre uint64
	if o.ResourceVersion != "" {
		v, err := parseAPIVersion(o.ResourceVersion)
		if err != nil {
			return nil, err
		}
		if pre, err = v.precondition(shard); err != nil {
			return nil, err
		}
	}
	if o.UID != "" && o.UID != string(last.GetUID()) {
		return nil, fmt.Errorf("%s %q: uid %s: %w", t.info.Plural, name, o.UID, errdefs.ErrConflict)
	}
	if o.DryRun {
		return last, nil
	}
	res, err := s.p.store.Propose(ctx, shard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpDelete, Object: consensus.Object{Kind: t.info.Kind, Namespace: ns, Name: name}, Precondition: pre}}})
	if err != nil {
		return nil, err
	}
	s.p.released(ctx, cur)
	last.SetResourceVersion(apiVersion{own: true, shard: shard, index: res.Objects[0].ResourceVersion}.String())
	return last, nil
}

// Watch implements kubeapi.Store.
func (s kubeStore) Watch(ctx context.Context, r *kubeapi.Resource, ns string, o kubeapi.WatchOptions) (<-chan kubeapi.Event, error) {
	info := s.info(r)
	shards := s.p.shardsFor(info)
	if o.Initial {
		return s.watchWithState(ctx, info, ns, shards, o.Consistent)
	}
	from := consensus.Version{}
	if o.ResourceVersion != "" {
		v, err := parseAPIVersion(o.ResourceVersion)
		if err != nil {
			return nil, err
		}
		if v.isNumber {
			return nil, fmt.Errorf("resourceVersion %q: a watch resumes from a version the API gave out: %w", o.ResourceVersion, errdefs.ErrInvalid)
		}
		from = v.resume
		for _, sh := range shards {
			if _, ok := from[sh]; !ok {
				// One object's own version says nothing of the other
				// shards: watching them "from now" would miss what changed
				// since. The client relists, and watches from the list's.
				return nil, fmt.Errorf("resourceVersion %q: an object's version, not a list's: a watch of %s resumes from a list's or a watch event's version: %w", o.ResourceVersion, info.Plural, errdefs.ErrGone)
			}
		}
	}
	return s.watchFrom(ctx, info, ns, shards, from, nil)
}

// watchWithState starts with every object there is (a list), each as an
// Added event, then a Bookmark at the list's version, then the changes.
func (s kubeStore) watchWithState(ctx context.Context, info workload.KindInfo, ns string, shards []uint64, consistent bool) (<-chan kubeapi.Event, error) {
	objs, v, _, err := listShardsWithShard(ctx, s.p.store, shards, consensus.Filter{Kind: info.Kind, Namespace: ns}, consistent)
	if err != nil {
		return nil, err
	}
	var initial []kubeapi.Event
	for _, so := range objs {
		obj, err := s.loadAPI(ctx, info, so.obj, so.shard)
		if err != nil {
			return nil, err
		}
		rv := apiVersion{own: true, shard: so.shard, index: so.obj.ResourceVersion, resume: v}.String()
		initial = append(initial, kubeapi.Event{Type: watch.Added, Object: obj, ResourceVersion: rv})
	}
	initial = append(initial, kubeapi.Event{Type: watch.Bookmark, ResourceVersion: apiVersion{resume: v}.String()})
	return s.watchFrom(ctx, info, ns, shards, v, initial)
}

// watchFrom streams first the given events, then the shards' changes
// after from.
func (s kubeStore) watchFrom(ctx context.Context, info workload.KindInfo, ns string, shards []uint64, from consensus.Version, first []kubeapi.Event) (<-chan kubeapi.Event, error) {
	events, err := consensus.WatchShards(ctx, s.p.store, shards, from, consensus.Filter{Kind: info.Kind, Namespace: ns})
	if err != nil {
		return nil, err
	}
	out := make(chan kubeapi.Event, 64)
	go func() {
		defer close(out)
		for _, e := range first {
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
		for e := range events {
			obj, err := s.loadWatched(ctx, info, e.Event.Object, e.Shard)
			if err != nil {
				s.p.log.Warn("watch: an object that does not decode", "kind", info.Kind, "name", e.Event.Object.Name, "err", err)
				continue
			}
			rv := apiVersion{own: true, shard: e.Shard, index: e.Event.Object.ResourceVersion, resume: e.Version}.String()
			select {
			case out <- kubeapi.Event{Type: watch.EventType(e.Event.Type), Object: obj, ResourceVersion: rv}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
