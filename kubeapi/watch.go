package kubeapi

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// Watch, as kube-apiserver serves it: a stream of {"type", "object"}
// events in the negotiated framing (JSON lines, or length-prefixed
// protobuf). A watch from "" or "0" starts with an ADDED event for every
// object there is; with sendInitialEvents=true, those events end with a
// BOOKMARK annotated k8s.io/initial-events-end (client-go's streaming
// list); allowWatchBookmarks adds a BOOKMARK every bookmarkEvery with the
// version to resume from. Selectors are applied here, to every event, so
// an object that stops matching is reported DELETED and one that starts
// matching ADDED, as the watch cache does.

// bookmarkEvery is how often an idle watch gets a bookmark; kube-apiserver
// sends one about every minute.
var bookmarkEvery = time.Minute

// defaultWatchTimeout is how long a watch that names no timeoutSeconds
// lasts at most, as kube-apiserver's 30 to 60 minutes.
func defaultWatchTimeout() time.Duration {
	return 30*time.Minute + rand.N(30*time.Minute)
}

func (s *Server) watch(w http.ResponseWriter, q *request) {
	lq, err := s.parseList(q)
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	o := lq.opts
	if o.Continue != "" || o.Limit != 0 {
		s.writeError(w, q.r, badRequest("a watch takes neither limit nor continue"))
		return
	}
	initial := o.ResourceVersion == "" || o.ResourceVersion == "0"
	if o.SendInitialEvents != nil {
		if o.ResourceVersionMatch != metav1.ResourceVersionMatchNotOlderThan || !o.AllowWatchBookmarks {
			s.writeError(w, q.r, apierrors.NewInvalid(metav1.SchemeGroupVersion.WithKind("ListOptions").GroupKind(), "",
				field.ErrorList{field.Forbidden(field.NewPath("sendInitialEvents"), "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan and allowWatchBookmarks to true")}))
			return
		}
		initial = *o.SendInitialEvents
	} else if o.ResourceVersionMatch != "" {
		s.writeError(w, q.r, badRequest("resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"))
		return
	}
	as, err := negotiate(q.r, true)
	if err != nil {
		s.writeError(w, q.r, err)
		return
	}
	timeout := defaultWatchTimeout()
	if o.TimeoutSeconds != nil {
		timeout = time.Duration(*o.TimeoutSeconds) * time.Second
	}
	ctx := q.ctx()
	stream := &watchStream{s: s, q: q, as: as, lq: lq, w: w, in: map[string]bool{}}

	wo := WatchOptions{ResourceVersion: o.ResourceVersion}
	if initial {
		wo = WatchOptions{Initial: true, ReadOptions: ReadOptions{Consistent: o.ResourceVersion != "0"}}
	}
	events, err := s.cfg.Store.Watch(ctx, q.res, q.namespace, wo)
	gone := errors.Is(err, errdefs.ErrGone)
	if err != nil && !gone {
		s.writeErrorFor(w, q, err)
		return
	}
	stream.begin()
	if gone {
		// As kube-apiserver: the stream opens, and its one event says the
		// version is too old, so the client relists.
		stream.sendError(apierrors.NewResourceExpired(err.Error()))
		return
	}
	stream.rv, stream.tracked = o.ResourceVersion, initial
	announce := o.SendInitialEvents != nil && *o.SendInitialEvents
	initialDone := !initial
	end := time.NewTimer(timeout)
	defer end.Stop()
	var tick <-chan time.Time
	if o.AllowWatchBookmarks {
		t := time.NewTicker(bookmarkEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-end.C:
			return
		case <-tick:
			stream.unmarked = false
			if !stream.bookmark(nil) {
				return
			}
		case e, ok := <-events:
			if !ok {
				return // the store ended it: the client resumes from the last version
			}
			if e.Type == watch.Bookmark { // the initial events' end
				stream.rv, stream.unmarked, initialDone = e.ResourceVersion, false, true
				if announce && !stream.bookmark(map[string]string{metav1.InitialEventsAnnotationKey: "true"}) {
					return
				}
				continue
			}
			if !stream.event(e) {
				return
			}
			if o.AllowWatchBookmarks && initialDone && stream.unmarked && len(events) == 0 {
				stream.unmarked = false
				if !stream.bookmark(nil) {
					return
				}
			}
		}
	}
}

// watchStream writes one watch's events.
type watchStream struct {
	s  *Server
	q  *request
	as answerAs
	lq listQuery
	w  http.ResponseWriter
	rc *http.ResponseController
	// framed encodes each event; embedded encodes the object inside it.
	framed  runtime.Encoder
	frames  interface{ Write([]byte) (int, error) }
	headers bool            // the next table carries column definitions
	in      map[string]bool // keys of objects the client has seen match
	rv      string          // the version to resume from
	// tracked says the watch began with the state (a list), so in says
	// exactly what the client has: a change that makes an object match
	// is then an ADDED.
	tracked bool
	// unmarked says events went out since the last bookmark: with
	// allowWatchBookmarks, a bookmark at the resume version follows as
	// soon as the store has nothing more to send, so a client resumes
	// from where its events really left it.
	unmarked bool
}

func (st *watchStream) begin() {
	h := st.w.Header()
	h.Set("Content-Type", st.as.info.MediaType)
	h.Set("Cache-Control", "no-cache, private")
	st.w.WriteHeader(http.StatusOK)
	st.rc = http.NewResponseController(st.w)
	_ = st.rc.Flush()
	st.frames = st.as.info.StreamSerializer.Framer.NewFrameWriter(st.w)
	st.framed = st.as.info.StreamSerializer.Serializer
	st.headers = true
}

// event passes on one change from the store, as the selectors make it.
func (st *watchStream) event(e Event) bool {
	key := keyOf(e.Object)
	matches := st.lq.labels.Matches(labels.Set(e.Object.GetLabels())) && st.lq.selected(st.q.res, e.Object)
	typ := e.Type
	switch {
	case typ == watch.Deleted:
		if !matches && !st.in[key] {
			st.rv = e.ResourceVersion
			return true
		}
		delete(st.in, key)
	case matches && typ == watch.Modified && st.tracked && !st.in[key]:
		typ = watch.Added
	case !matches && st.in[key]:
		typ = watch.Deleted
		delete(st.in, key)
	case !matches:
		st.rv = e.ResourceVersion
		return true
	}
	return st.send(typ, e.Object, e.ResourceVersion)
}

// send writes one event; rv is where the watch resumes after it. The
// object keeps its own resourceVersion (the one a get of it gives), which
// in a sharded store may not say where the other shards' changes stand:
// the bookmark that follows a burst of events does.
func (st *watchStream) send(typ watch.EventType, obj workload.Object, rv string) bool {
	if typ != watch.Deleted {
		st.in[keyOf(obj)] = true
	}
	st.rv, st.unmarked = rv, true
	return st.write(typ, obj)
}

// bookmark writes a BOOKMARK: an object of the kind with only its
// resourceVersion (and annotations) set.
func (st *watchStream) bookmark(annotations map[string]string) bool {
	obj := newObject(st.q.res)
	obj.SetResourceVersion(st.rv)
	obj.SetAnnotations(annotations)
	return st.write(watch.Bookmark, obj)
}

func (st *watchStream) sendError(se *apierrors.StatusError) {
	status := se.ErrStatus
	_ = setKind(&status, "")
	st.write(watch.Error, &status)
}

func (st *watchStream) write(typ watch.EventType, obj runtime.Object) bool {
	out, err := st.embed(typ, obj)
	if err != nil {
		st.s.log.Debug("watch event not encoded", "err", err)
		return false
	}
	if err := st.framed.Encode(&metav1.WatchEvent{Type: string(typ), Object: runtime.RawExtension{Raw: out}}, frameWriter{st.frames}); err != nil {
		return false
	}
	return st.rc.Flush() == nil
}

// embed encodes an event's object as the client asked: itself, a one-row
// table, or its metadata.
func (st *watchStream) embed(typ watch.EventType, obj runtime.Object) ([]byte, error) {
	if typ != watch.Error {
		switch st.as.as {
		case "Table":
			if typ == watch.Bookmark {
				break // a bookmark stays the kind's object, as kube sends it
			}
			t, err := st.s.table(st.q, obj, st.headers)
			if err != nil {
				return nil, err
			}
			st.headers = false
			obj = t
		case "PartialObjectMetadata", "PartialObjectMetadataList":
			pm, err := partialMetadata(obj)
			if err != nil {
				return nil, err
			}
			obj = pm
		}
	}
	if err := setKind(obj, st.as.version); err != nil {
		return nil, err
	}
	if t, ok := obj.(*metav1.Table); ok {
		if err := encodeRows(t, st.as.info.Serializer); err != nil {
			return nil, err
		}
	}
	return runtime.Encode(st.as.info.Serializer, obj)
}

// frameWriter hides the framer's other methods from the encoder.
type frameWriter struct {
	w interface{ Write([]byte) (int, error) }
}

func (f frameWriter) Write(p []byte) (int, error) { return f.w.Write(p) }

// encodeRows encodes a table's row objects with ser, for serializers that
// do not encode embedded objects themselves (protobuf).
func encodeRows(t *metav1.Table, ser runtime.Encoder) error {
	for i := range t.Rows {
		o := t.Rows[i].Object.Object
		if o == nil {
			continue
		}
		b, err := runtime.Encode(ser, o)
		if err != nil {
			return err
		}
		t.Rows[i].Object = runtime.RawExtension{Raw: b}
	}
	return nil
}
