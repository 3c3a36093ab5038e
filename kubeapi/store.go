package kubeapi

import (
	"context"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shoalproject/shoal/workload"
)

// Store keeps the served objects: the peer's sharded raft store in a
// cluster, memstore in tests. Objects cross it typed (k8s.io/api pointers);
// the store owns metadata.resourceVersion, an opaque string to the API.
// Errors wrap internal/errdefs sentinels (ErrNotFound, ErrAlreadyExists,
// ErrConflict, ErrInvalid, ErrGone, ErrUnavailable); the API words them.
//
// Every method may be called concurrently. Objects a Store returns are the
// caller's (it may change them); objects passed in are not kept.
type Store interface {
	// Get reads one object.
	Get(ctx context.Context, r *Resource, namespace, name string, o ReadOptions) (workload.Object, error)
	// List reads the objects of a resource in a namespace ("" for all),
	// in (namespace, name) order.
	List(ctx context.Context, r *Resource, namespace string, o ListOptions) (ListResult, error)
	// Create stores a new object; ErrAlreadyExists when its name is taken.
	Create(ctx context.Context, r *Resource, obj workload.Object, o WriteOptions) (workload.Object, error)
	// Update replaces an object. When obj's resourceVersion is set it is a
	// compare-and-swap: ErrConflict unless it is the stored one.
	Update(ctx context.Context, r *Resource, obj workload.Object, o WriteOptions) (workload.Object, error)
	// Delete removes an object and returns its last state. A non-empty
	// o.ResourceVersion or o.UID must match the stored object's
	// (ErrConflict otherwise).
	Delete(ctx context.Context, r *Resource, namespace, name string, o DeleteOptions) (workload.Object, error)
	// Watch streams the changes to a resource's objects after
	// o.ResourceVersion (a version List returned, or one an event carried).
	// The channel closes when ctx ends or the store ends the watch (the
	// client then resumes from the last event's version); a version older
	// than the store's history fails with ErrGone.
	Watch(ctx context.Context, r *Resource, namespace string, o WatchOptions) (<-chan Event, error)
}

// ReadOptions say how fresh a read must be.
type ReadOptions struct {
	// Consistent asks for the latest committed state (a linearizable
	// read); otherwise any replica's state will do (resourceVersion "0").
	Consistent bool
}

// ListOptions narrow and page a list.
type ListOptions struct {
	ReadOptions
	// Labels selects by label; nil selects everything.
	Labels labels.Selector
	// After, when set, is the "namespace/name" key the list continues
	// after; Limit, when positive, is the most objects to return.
	After string
	Limit int
}

// ListResult is a list's objects and the version they were read at.
type ListResult struct {
	Items []workload.Object
	// ResourceVersion is the list's version: a watch from it misses
	// nothing that changed after the list was read.
	ResourceVersion string
	// More says the list stopped at Limit with objects left.
	More bool
}

// WriteOptions qualify a create or an update.
type WriteOptions struct {
	// DryRun checks and prepares the write as a real one would, and
	// stores nothing: no allocation is kept, no object changes.
	DryRun bool
}

// DeleteOptions are a delete's preconditions and mode.
type DeleteOptions struct {
	WriteOptions
	ResourceVersion string
	UID             string
}

// WatchOptions say where a watch starts and what it selects.
type WatchOptions struct {
	// ResourceVersion is where the watch starts: after the version a
	// list or an event carried. A version the store cannot resume every
	// watched object from (one object's own, in a store that versions
	// its objects apart) is ErrGone, so the client relists.
	ResourceVersion string
	// Initial, instead, starts with an Added event for every object there
	// is (read as ReadOptions say), then a Bookmark event (no object)
	// whose ResourceVersion is the state they were read at, then the
	// changes after it. Every event's ResourceVersion resumes the watch.
	Initial bool
	ReadOptions
	Labels labels.Selector
}

// Event is one change a watch reports. The object carries its own
// resourceVersion, the one a get of it gives; ResourceVersion is the
// version to resume the watch from after this event (the object's own may
// not say where the rest of the collection stands, in a sharded store).
type Event struct {
	Type            watch.EventType // Added, Modified or Deleted
	Object          workload.Object
	ResourceVersion string
}
