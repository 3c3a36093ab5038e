package consensus

import "bytes"

// Key names one object: its kind, its namespace ("" for cluster-scoped
// kinds) and its name.
type Key struct {
	Kind, Namespace, Name string
}

// String is "kind/namespace/name", or "kind/name" for a cluster-scoped key.
func (k Key) String() string {
	if k.Namespace == "" {
		return k.Kind + "/" + k.Name
	}
	return k.Kind + "/" + k.Namespace + "/" + k.Name
}

// Object is what the store keeps. The store reads only its key, its labels
// (for selectors) and its versions; Data is opaque to it.
//
// The objects the store hands out (reads, watch events, a batch's
// results) share Labels and Data with its state, as an informer's cache
// does: they are read-only. Copying them on every read was a tenth of a
// busy peer's CPU, where a list of 10,000 pods is mostly decoded from a
// memo and its bytes never looked at. A caller that wants to change one
// builds a new map or slice. The store itself never changes a stored
// object in place: a write replaces it. The objects of a caller's batch are
// copied on the way in; the results of its creates and updates share
// Labels and Data with the batch itself (the proposer rebuilds them from
// it rather than have every replica send them back).
type Object struct {
	Kind      string            `json:"kind"`
	Namespace string            `json:"namespace,omitempty"`
	Name      string            `json:"name"`
	Labels    map[string]string `json:"labels,omitempty"`
	// ResourceVersion is the raft index of the entry that last changed the
	// object. The store sets it; a value passed in a command is ignored.
	ResourceVersion uint64 `json:"resourceVersion"`
	// CreateVersion is the raft index of the entry that created the object.
	// The store sets it; a value passed in a command is ignored.
	CreateVersion uint64 `json:"createVersion"`
	// Data is the full object (JSON), opaque to the store.
	Data []byte `json:"data,omitempty"`
}

// Key returns the object's key.
func (o *Object) Key() Key {
	return Key{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}

// clone returns a deep copy that shares no memory with o. Empty labels and
// data become nil, so equal objects have one representation (and snapshots
// of equal states have equal bytes).
func (o *Object) clone() Object {
	c := *o
	c.Labels = nil
	if len(o.Labels) > 0 {
		// A loop into a sized map is cheaper than maps.Clone for the few
		// labels objects carry.
		c.Labels = make(map[string]string, len(o.Labels))
		for k, v := range o.Labels {
			c.Labels[k] = v
		}
	}
	c.Data = nil
	if len(o.Data) > 0 {
		c.Data = bytes.Clone(o.Data)
	}
	return c
}

// EventType says what happened to an object, in Kubernetes' watch words.
type EventType string

// The event types.
const (
	Added    EventType = "ADDED"
	Modified EventType = "MODIFIED"
	Deleted  EventType = "DELETED"
)

// Event is one change to one object. Object.ResourceVersion is the event's
// version: the raft index of the batch that made the change. For Deleted,
// Object is the object's last state with ResourceVersion set to the index of
// the delete.
//
// One entry can change several objects (a batch, or a group of batches),
// and its events then share a version. A watch delivers them back to back,
// each but the last with More set: a consumer that resumes from a version
// must have taken the entry's events as one, or resuming from the version
// of the first would skip the rest.
type Event struct {
	Type   EventType `json:"type"`
	Object Object    `json:"object"`
	More   bool      `json:"more,omitempty"`
}

// markEntries sets More on each event that the next one shares an entry
// with. events holds whole entries, in order.
func markEntries(events []Event) {
	for i := range events {
		events[i].More = i+1 < len(events) && events[i+1].Object.ResourceVersion == events[i].Object.ResourceVersion
	}
}
