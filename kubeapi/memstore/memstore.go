// Package memstore is an in-memory kubeapi.Store: one map of objects, one
// counter of versions and a bounded history of changes for watches. It
// serves kubeapi's tests, and anyone who wants a Kubernetes API with no
// cluster behind it; it must not import peer, consensus or gossip.
package memstore

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/kubeapi"
	"github.com/shoalproject/shoal/workload"
)

// HistoryLimit is how many changes a Store remembers for watches to resume
// from; an older version is ErrGone.
const HistoryLimit = 10000

// Store is the in-memory store. The zero value is not ready: use New.
type Store struct {
	mu       sync.Mutex
	rv       uint64
	objects  map[string]workload.Object // key: plural/namespace/name
	history  []change                   // oldest first
	watchers map[*watcher]bool
}

type change struct {
	rv     uint64
	plural string
	event  kubeapi.Event
}

type watcher struct {
	plural, namespace string
	ch                chan kubeapi.Event
	done              chan struct{}
}

var _ kubeapi.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{objects: map[string]workload.Object{}, watchers: map[*watcher]bool{}}
}

func key(r *kubeapi.Resource, ns, name string) string { return r.Plural + "/" + ns + "/" + name }

func copyOf(o workload.Object) workload.Object { return o.DeepCopyObject().(workload.Object) }

func parseRV(rv string) (uint64, error) {
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("resourceVersion %q: not one this store issued: %w", rv, errdefs.ErrInvalid)
	}
	return n, nil
}

// Get implements kubeapi.Store.
func (s *Store) Get(_ context.Context, r *kubeapi.Resource, ns, name string, _ kubeapi.ReadOptions) (workload.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key(r, ns, name)]
	if !ok {
		return nil, fmt.Errorf("%s %q: %w", r.Plural, name, errdefs.ErrNotFound)
	}
	return copyOf(o), nil
}

// List implements kubeapi.Store.
func (s *Store) List(_ context.Context, r *kubeapi.Resource, ns string, o kubeapi.ListOptions) (kubeapi.ListResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []workload.Object
	prefix := r.Plural + "/"
	for k, obj := range s.objects {
		if !strings.HasPrefix(k, prefix) || (ns != "" && obj.GetNamespace() != ns) {
			continue
		}
		if o.Labels != nil && !o.Labels.Matches(labels.Set(obj.GetLabels())) {
			continue
		}
		if o.After != "" && obj.GetNamespace()+"/"+obj.GetName() <= o.After {
			continue
		}
		out = append(out, copyOf(obj))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GetNamespace() != out[j].GetNamespace() {
			return out[i].GetNamespace() < out[j].GetNamespace()
		}
		return out[i].GetName() < out[j].GetName()
	})
	res := kubeapi.ListResult{ResourceVersion: strconv.FormatUint(s.rv, 10)}
	if o.Limit > 0 && len(out) > o.Limit {
		out, res.More = out[:o.Limit], true
	}
	res.Items = out
	return res, nil
}

// Create implements kubeapi.Store.
func (s *Store) Create(_ context.Context, r *kubeapi.Resource, obj workload.Object, o kubeapi.WriteOptions) (workload.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(r, obj.GetNamespace(), obj.GetName())
	if _, ok := s.objects[k]; ok {
		return nil, fmt.Errorf("%s %q: %w", r.Plural, obj.GetName(), errdefs.ErrAlreadyExists)
	}
	c := copyOf(obj)
	if o.DryRun {
		return c, nil
	}
	s.rv++
	c.SetResourceVersion(strconv.FormatUint(s.rv, 10))
	s.objects[k] = c
	s.record(r, watch.Added, c)
	return copyOf(c), nil
}

// Update implements kubeapi.Store.
func (s *Store) Update(_ context.Context, r *kubeapi.Resource, obj workload.Object, o kubeapi.WriteOptions) (workload.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(r, obj.GetNamespace(), obj.GetName())
	cur, ok := s.objects[k]
	if !ok {
		return nil, fmt.Errorf("%s %q: %w", r.Plural, obj.GetName(), errdefs.ErrNotFound)
	}
	if rv := obj.GetResourceVersion(); rv != "" && rv != cur.GetResourceVersion() {
		return nil, fmt.Errorf("%s %q: %w", r.Plural, obj.GetName(), errdefs.ErrConflict)
	}
	c := copyOf(obj)
	if o.DryRun {
		c.SetResourceVersion(cur.GetResourceVersion())
		return c, nil
	}
	s.rv++
	c.SetResourceVersion(strconv.FormatUint(s.rv, 10))
	s.objects[k] = c
	s.record(r, watch.Modified, c)
	return copyOf(c), nil
}

// Delete implements kubeapi.Store.
func (s *Store) Delete(_ context.Context, r *kubeapi.Resource, ns, name string, o kubeapi.DeleteOptions) (workload.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(r, ns, name)
	cur, ok := s.objects[k]
	if !ok {
		return nil, fmt.Errorf("%s %q: %w", r.Plural, name, errdefs.ErrNotFound)
	}
	if (o.ResourceVersion != "" && o.ResourceVersion != cur.GetResourceVersion()) || (o.UID != "" && o.UID != string(cur.GetUID())) {
		return nil, fmt.Errorf("%s %q: %w", r.Plural, name, errdefs.ErrConflict)
	}
	if o.DryRun {
		return copyOf(cur), nil
	}
	delete(s.objects, k)
	s.rv++
	c := copyOf(cur)
	c.SetResourceVersion(strconv.FormatUint(s.rv, 10))
	s.record(r, watch.Deleted, c)
	return copyOf(c), nil
}

// record keeps a change and hands it to the watchers of its resource. A
// watcher too slow to take it is ended (it resumes from its version).
func (s *Store) record(r *kubeapi.Resource, typ watch.EventType, obj workload.Object) {
	e := kubeapi.Event{Type: typ, Object: obj, ResourceVersion: obj.GetResourceVersion()}
	s.history = append(s.history, change{rv: s.rv, plural: r.Plural, event: e})
	if len(s.history) > HistoryLimit {
		s.history = s.history[len(s.history)-HistoryLimit:]
	}
	for w := range s.watchers {
		if w.plural != r.Plural || (w.namespace != "" && w.namespace != obj.GetNamespace()) {
			continue
		}
		select {
		case w.ch <- copyEvent(e):
		default:
			delete(s.watchers, w)
			close(w.ch)
		}
	}
}

func copyEvent(e kubeapi.Event) kubeapi.Event {
	e.Object = copyOf(e.Object)
	return e
}

// Watch implements kubeapi.Store.
func (s *Store) Watch(ctx context.Context, r *kubeapi.Resource, ns string, o kubeapi.WatchOptions) (<-chan kubeapi.Event, error) {
	if o.Initial {
		return s.watchWithState(ctx, r, ns)
	}
	from, err := parseRV(o.ResourceVersion)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.history) > 0 && from+1 < s.history[0].rv && from < s.rv {
		return nil, fmt.Errorf("resourceVersion %d is older than the store's history: %w", from, errdefs.ErrGone)
	}
	w := &watcher{plural: r.Plural, namespace: ns, ch: make(chan kubeapi.Event, 1024), done: make(chan struct{})}
	for _, c := range s.history {
		if c.rv > from && c.plural == r.Plural && (ns == "" || c.event.Object.GetNamespace() == ns) {
			select {
			case w.ch <- copyEvent(c.event):
			default:
				close(w.ch)
				return w.ch, nil
			}
		}
	}
	s.watchers[w] = true
	go func() {
		<-ctx.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.watchers[w] {
			delete(s.watchers, w)
			close(w.ch)
		}
	}()
	return w.ch, nil
}

// watchWithState is a watch that starts with the current objects (a list)
// and a bookmark at the list's version.
func (s *Store) watchWithState(ctx context.Context, r *kubeapi.Resource, ns string) (<-chan kubeapi.Event, error) {
	l, err := s.List(ctx, r, ns, kubeapi.ListOptions{})
	if err != nil {
		return nil, err
	}
	changes, err := s.Watch(ctx, r, ns, kubeapi.WatchOptions{ResourceVersion: l.ResourceVersion})
	if err != nil {
		return nil, err
	}
	out := make(chan kubeapi.Event, len(l.Items)+1)
	for _, it := range l.Items {
		out <- kubeapi.Event{Type: watch.Added, Object: it, ResourceVersion: it.GetResourceVersion()}
	}
	out <- kubeapi.Event{Type: watch.Bookmark, ResourceVersion: l.ResourceVersion}
	go func() {
		defer close(out)
		for e := range changes {
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
