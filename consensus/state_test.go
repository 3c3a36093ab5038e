package consensus

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/shoalproject/shoal/internal/errdefs"
)

func obj(kind, ns, name string, labels map[string]string, data string) Object {
	o := Object{Kind: kind, Namespace: ns, Name: name, Labels: labels}
	if data != "" {
		o.Data = []byte(data)
	}
	return o
}

func create(o Object) Command { return Command{Op: OpCreate, Object: o} }

func update(o Object, pre uint64) Command {
	return Command{Op: OpUpdate, Object: o, Precondition: pre}
}

func del(kind, ns, name string, pre uint64) Command {
	return Command{Op: OpDelete, Object: Object{Kind: kind, Namespace: ns, Name: name}, Precondition: pre}
}

// mustApply applies a batch that must succeed.
func mustApply(t testing.TB, s *State, index uint64, cmds ...Command) (Result, []Event) {
	t.Helper()
	res, events := s.Apply(index, Batch{Commands: cmds})
	if err := res.Error(); err != nil {
		t.Fatalf("apply at %d: %v", index, err)
	}
	return res, events
}

func snapshot(t testing.TB, s *State) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.WriteSnapshot(&buf); err != nil {
		t.Fatalf("write snapshot: %v", err)
	}
	return buf.Bytes()
}

var (
	appKey  = Key{Kind: "ConfigMap", Namespace: "default", Name: "app"}
	nodeKey = Key{Kind: "Node", Name: "n1"}
)

// seeded is a state with a ConfigMap default/app and a Node n1, both created
// at index 5.
func seeded(t testing.TB) *State {
	s := NewState(0)
	mustApply(t, s, 5,
		create(obj("ConfigMap", "default", "app", map[string]string{"app": "web"}, `{"v":1}`)),
		create(obj("Node", "", "n1", nil, `{}`)),
	)
	return s
}

func TestApply(t *testing.T) {
	const at = 10
	app := func(data string) Object {
		return obj("ConfigMap", "default", "app", map[string]string{"app": "web"}, data)
	}
	tests := []struct {
		name  string
		batch []Command
		// wantErr is the sentinel of a failing batch, failed the command that fails.
		wantErr error
		failed  int
		// On success: what each command stored (Kind/Namespace/Name/RV/CV and
		// Data are compared) and the events' types.
		want   []Object
		events []EventType
	}{
		{
			name:   "create sets both versions to the index",
			batch:  []Command{create(obj("ConfigMap", "default", "new", nil, "x"))},
			want:   []Object{{Kind: "ConfigMap", Namespace: "default", Name: "new", ResourceVersion: at, CreateVersion: at, Data: []byte("x")}},
			events: []EventType{Added},
		},
		{
			name: "create ignores versions in the command",
			batch: []Command{create(Object{Kind: "ConfigMap", Namespace: "default", Name: "new",
				ResourceVersion: 99, CreateVersion: 98})},
			want:   []Object{{Kind: "ConfigMap", Namespace: "default", Name: "new", ResourceVersion: at, CreateVersion: at}},
			events: []EventType{Added},
		},
		{
			name:    "create of an existing key",
			batch:   []Command{create(app("again"))},
			wantErr: errdefs.ErrAlreadyExists,
		},
		{
			name:   "create of a cluster-scoped object",
			batch:  []Command{create(obj("Node", "", "n2", nil, ""))},
			want:   []Object{{Kind: "Node", Name: "n2", ResourceVersion: at, CreateVersion: at}},
			events: []EventType{Added},
		},
		{
			name:    "create without kind",
			batch:   []Command{create(obj("", "default", "x", nil, ""))},
			wantErr: errdefs.ErrInvalid,
		},
		{
			name:    "create without name",
			batch:   []Command{create(obj("ConfigMap", "default", "", nil, ""))},
			wantErr: errdefs.ErrInvalid,
		},
		{
			name:   "update keeps CreateVersion and bumps ResourceVersion",
			batch:  []Command{update(app("v2"), 0)},
			want:   []Object{{Kind: "ConfigMap", Namespace: "default", Name: "app", ResourceVersion: at, CreateVersion: 5, Data: []byte("v2")}},
			events: []EventType{Modified},
		},
		{
			name:   "update with nothing changed still bumps ResourceVersion",
			batch:  []Command{update(app(`{"v":1}`), 0)},
			want:   []Object{{Kind: "ConfigMap", Namespace: "default", Name: "app", ResourceVersion: at, CreateVersion: 5, Data: []byte(`{"v":1}`)}},
			events: []EventType{Modified},
		},
		{
			name:    "update of a missing key",
			batch:   []Command{update(obj("ConfigMap", "default", "nope", nil, ""), 0)},
			wantErr: errdefs.ErrNotFound,
		},
		{
			name:    "update without name",
			batch:   []Command{update(obj("ConfigMap", "default", "", nil, ""), 0)},
			wantErr: errdefs.ErrInvalid,
		},
		{
			name:   "update whose precondition holds",
			batch:  []Command{update(app("v2"), 5)},
			want:   []Object{{Kind: "ConfigMap", Namespace: "default", Name: "app", ResourceVersion: at, CreateVersion: 5, Data: []byte("v2")}},
			events: []EventType{Modified},
		},
		{
			name:    "update whose precondition fails",
			batch:   []Command{update(app("v2"), 4)},
			wantErr: errdefs.ErrConflict,
		},
		{
			name:   "delete returns the last state at the delete's index",
			batch:  []Command{del("ConfigMap", "default", "app", 0)},
			want:   []Object{{Kind: "ConfigMap", Namespace: "default", Name: "app", ResourceVersion: at, CreateVersion: 5, Data: []byte(`{"v":1}`)}},
			events: []EventType{Deleted},
		},
		{
			name:    "delete of a missing key",
			batch:   []Command{del("ConfigMap", "other", "app", 0)},
			wantErr: errdefs.ErrNotFound,
		},
		{
			name:   "delete whose precondition holds",
			batch:  []Command{del("Node", "", "n1", 5)},
			want:   []Object{{Kind: "Node", Name: "n1", ResourceVersion: at, CreateVersion: 5, Data: []byte(`{}`)}},
			events: []EventType{Deleted},
		},
		{
			name:    "delete whose precondition fails",
			batch:   []Command{del("Node", "", "n1", 6)},
			wantErr: errdefs.ErrConflict,
		},
		{
			name:    "delete without kind",
			batch:   []Command{del("", "", "n1", 0)},
			wantErr: errdefs.ErrInvalid,
		},
		{
			name:    "unknown op",
			batch:   []Command{{Op: "patch", Object: app("x")}},
			wantErr: errdefs.ErrInvalid,
		},
		{
			name: "later commands see earlier ones: create then update",
			batch: []Command{
				create(obj("Secret", "default", "s", nil, "a")),
				update(obj("Secret", "default", "s", nil, "b"), at),
			},
			want: []Object{
				{Kind: "Secret", Namespace: "default", Name: "s", ResourceVersion: at, CreateVersion: at, Data: []byte("a")},
				{Kind: "Secret", Namespace: "default", Name: "s", ResourceVersion: at, CreateVersion: at, Data: []byte("b")},
			},
			events: []EventType{Added, Modified},
		},
		{
			name: "later commands see earlier ones: delete then create",
			batch: []Command{
				del("ConfigMap", "default", "app", 5),
				create(app("reborn")),
			},
			want: []Object{
				{Kind: "ConfigMap", Namespace: "default", Name: "app", ResourceVersion: at, CreateVersion: 5, Data: []byte(`{"v":1}`)},
				{Kind: "ConfigMap", Namespace: "default", Name: "app", ResourceVersion: at, CreateVersion: at, Data: []byte("reborn")},
			},
			events: []EventType{Deleted, Added},
		},
		{
			name: "later commands see earlier ones: a second create fails",
			batch: []Command{
				create(obj("Secret", "default", "s", nil, "a")),
				create(obj("Secret", "default", "s", nil, "b")),
			},
			wantErr: errdefs.ErrAlreadyExists,
			failed:  1,
		},
		{
			name: "later commands see earlier ones: the old precondition fails",
			batch: []Command{
				update(app("v2"), 5),
				update(app("v3"), 5),
			},
			wantErr: errdefs.ErrConflict,
			failed:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := seeded(t)
			before := s.List("", "", nil)
			res, events := s.Apply(at, Batch{Commands: tt.batch})
			if s.Index() != at || res.Index != at {
				t.Errorf("Index() = %d, Result.Index = %d; want %d", s.Index(), res.Index, at)
			}
			if tt.wantErr != nil {
				err := res.Error()
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v; want %v", err, tt.wantErr)
				}
				if res.Failed != tt.failed {
					t.Errorf("Failed = %d; want %d", res.Failed, tt.failed)
				}
				if events != nil || res.Objects != nil {
					t.Errorf("failed batch returned events %v, objects %v", events, res.Objects)
				}
				if after := s.List("", "", nil); !reflect.DeepEqual(after, before) {
					t.Errorf("failed batch changed the state:\n before %+v\n after  %+v", before, after)
				}
				return
			}
			if err := res.Error(); err != nil {
				t.Fatalf("error = %v", err)
			}
			if len(res.Objects) != len(tt.want) || len(events) != len(tt.events) {
				t.Fatalf("got %d objects, %d events; want %d, %d", len(res.Objects), len(events), len(tt.want), len(tt.events))
			}
			for i, want := range tt.want {
				got := res.Objects[i]
				got.Labels = nil
				if !reflect.DeepEqual(got, want) {
					t.Errorf("object %d = %+v; want %+v", i, got, want)
				}
				if e := events[i]; e.Type != tt.events[i] || !reflect.DeepEqual(e.Object, res.Objects[i]) {
					t.Errorf("event %d = %s %+v; want %s %+v", i, e.Type, e.Object, tt.events[i], res.Objects[i])
				}
			}
			// What the last command left is what Get sees.
			last := res.Objects[len(res.Objects)-1]
			got, ok := s.Get(last.Key())
			if events[len(events)-1].Type == Deleted {
				if ok {
					t.Errorf("Get(%s) found %+v after delete", last.Key(), got)
				}
			} else if !ok || !reflect.DeepEqual(got, last) {
				t.Errorf("Get(%s) = %+v, %v; want %+v", last.Key(), got, ok, last)
			}
			if since, _ := s.Since(5, "", "", nil); !reflect.DeepEqual(since, events) {
				t.Errorf("Since(5) = %+v; want the batch's events %+v", since, events)
			}
		})
	}
}

func TestApplyRefusesAnOldIndex(t *testing.T) {
	for _, index := range []uint64{4, 5} {
		t.Run(strconv.FormatUint(index, 10), func(t *testing.T) {
			s := seeded(t)
			want := snapshot(t, s)
			res, events := s.Apply(index, Batch{Commands: []Command{create(obj("Node", "", "n2", nil, ""))}})
			if !errors.Is(res.Error(), errdefs.ErrInvalid) || events != nil {
				t.Fatalf("Apply(%d) = %+v, %v; want ErrInvalid", index, res, events)
			}
			if s.Index() != 5 || !bytes.Equal(snapshot(t, s), want) {
				t.Errorf("Apply at an old index changed the state (index %d)", s.Index())
			}
		})
	}
	s := seeded(t)
	mustApply(t, s, 6, create(obj("Node", "", "n2", nil, "")))
}

func TestCompareAndSwapOneWinner(t *testing.T) {
	s := seeded(t)
	first, _ := s.Apply(10, Batch{Commands: []Command{update(obj("ConfigMap", "default", "app", nil, "a"), 5)}})
	second, _ := s.Apply(11, Batch{Commands: []Command{update(obj("ConfigMap", "default", "app", nil, "b"), 5)}})
	if err := first.Error(); err != nil {
		t.Fatalf("first update: %v", err)
	}
	if err := second.Error(); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("second update: %v; want ErrConflict", err)
	}
	got, _ := s.Get(appKey)
	if string(got.Data) != "a" || got.ResourceVersion != 10 {
		t.Errorf("stored %q at %d; want the first writer's %q at 10", got.Data, got.ResourceVersion, "a")
	}
	// The loser retries from what it reads.
	mustApply(t, s, 12, update(obj("ConfigMap", "default", "app", nil, "b"), got.ResourceVersion))
}

func TestBatchIsAtomic(t *testing.T) {
	tests := []struct {
		name  string
		batch []Command
	}{
		{"create then a failing update", []Command{
			create(obj("Secret", "default", "s", nil, "a")),
			update(obj("Secret", "default", "missing", nil, ""), 0),
		}},
		{"update then a failing delete", []Command{
			update(obj("ConfigMap", "default", "app", nil, "changed"), 5),
			del("Node", "", "n1", 4),
		}},
		{"deletes of the last objects then a failing create", []Command{
			del("ConfigMap", "default", "app", 0),
			del("Node", "", "n1", 0),
			create(obj("Pod", "default", "", nil, "")),
		}},
		{"create, update, delete, then a failure", []Command{
			create(obj("Pod", "kube", "p", nil, "1")),
			update(obj("Pod", "kube", "p", nil, "2"), 10),
			del("Pod", "kube", "p", 10),
			create(obj("ConfigMap", "default", "app", nil, "")),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := seeded(t)
			before := s.List("", "", nil)
			history, _ := s.Since(0, "", "", nil)
			res, events := s.Apply(10, Batch{Commands: tt.batch})
			if res.Error() == nil || res.Failed != len(tt.batch)-1 {
				t.Fatalf("result %+v; want the last command to fail", res)
			}
			if events != nil {
				t.Errorf("failed batch returned events %+v", events)
			}
			if s.Index() != 10 {
				t.Errorf("Index() = %d; want 10: a failed batch still consumes its index", s.Index())
			}
			if after := s.List("", "", nil); !reflect.DeepEqual(after, before) {
				t.Errorf("state changed:\n before %+v\n after  %+v", before, after)
			}
			if s.Count() != len(before) {
				t.Errorf("Count() = %d; want %d", s.Count(), len(before))
			}
			if got, _ := s.Since(0, "", "", nil); !reflect.DeepEqual(got, history) {
				t.Errorf("history changed: %+v", got)
			}
			// The state goes on normally afterwards.
			mustApply(t, s, 11, create(obj("Secret", "default", "s", nil, "")))
		})
	}
}

func TestList(t *testing.T) {
	s := NewState(0)
	web := map[string]string{"app": "web", "tier": "front"}
	db := map[string]string{"app": "db", "tier": "back"}
	mustApply(t, s, 1,
		create(obj("Pod", "prod", "web-2", web, "")),
		create(obj("Pod", "dev", "web-1", web, "")),
		create(obj("Pod", "prod", "db-1", db, "")),
		create(obj("Pod", "prod", "web-1", web, "")),
		create(obj("Service", "prod", "web", web, "")),
		create(obj("Node", "", "n2", nil, "")),
		create(obj("Node", "", "n1", nil, "")),
	)
	tests := []struct {
		kind, namespace, selector string
		want                      []string
	}{
		{"Pod", "prod", "", []string{"Pod/prod/db-1", "Pod/prod/web-1", "Pod/prod/web-2"}},
		{"Pod", "", "", []string{"Pod/dev/web-1", "Pod/prod/db-1", "Pod/prod/web-1", "Pod/prod/web-2"}},
		{"Pod", "prod", "app=web", []string{"Pod/prod/web-1", "Pod/prod/web-2"}},
		{"Pod", "", "tier in (front,back),app!=db", []string{"Pod/dev/web-1", "Pod/prod/web-1", "Pod/prod/web-2"}},
		{"Pod", "", "app=cache", nil},
		{"Pod", "staging", "", nil},
		{"Deployment", "", "", nil},
		{"Node", "", "", []string{"Node/n1", "Node/n2"}},
		{"Node", "", "!app", []string{"Node/n1", "Node/n2"}},
		{"", "prod", "app=web", []string{"Pod/prod/web-1", "Pod/prod/web-2", "Service/prod/web"}},
		{"", "", "", []string{"Node/n1", "Node/n2", "Pod/dev/web-1", "Pod/prod/db-1", "Pod/prod/web-1", "Pod/prod/web-2", "Service/prod/web"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.namespace+"?"+tt.selector, func(t *testing.T) {
			sel, err := ParseSelector(tt.selector)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range s.List(tt.kind, tt.namespace, sel) {
				got = append(got, o.Key().String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("List = %v; want %v", got, tt.want)
			}
		})
	}
}

func eventKeys(events []Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, fmt.Sprintf("%d %s %s", e.Object.ResourceVersion, e.Type, e.Object.Key()))
	}
	return out
}

func TestSince(t *testing.T) {
	s := NewState(0)
	web := map[string]string{"app": "web"}
	mustApply(t, s, 1, create(obj("Pod", "prod", "a", web, "")), create(obj("Pod", "dev", "b", nil, "")))
	mustApply(t, s, 2, update(obj("Pod", "prod", "a", web, "x"), 1))
	s.Apply(3, Batch{Commands: []Command{del("Pod", "prod", "missing", 0)}}) // fails: no events
	mustApply(t, s, 4, create(obj("Service", "prod", "a", web, "")))
	mustApply(t, s, 5, del("Pod", "prod", "a", 0))

	tests := []struct {
		rv                        uint64
		kind, namespace, selector string
		want                      []string
	}{
		{0, "", "", "", []string{"1 ADDED Pod/prod/a", "1 ADDED Pod/dev/b", "2 MODIFIED Pod/prod/a", "4 ADDED Service/prod/a", "5 DELETED Pod/prod/a"}},
		{1, "", "", "", []string{"2 MODIFIED Pod/prod/a", "4 ADDED Service/prod/a", "5 DELETED Pod/prod/a"}},
		{2, "", "", "", []string{"4 ADDED Service/prod/a", "5 DELETED Pod/prod/a"}},
		{3, "", "", "", []string{"4 ADDED Service/prod/a", "5 DELETED Pod/prod/a"}},
		{4, "", "", "", []string{"5 DELETED Pod/prod/a"}},
		{5, "", "", "", nil},
		{9, "", "", "", nil},
		{0, "Pod", "", "", []string{"1 ADDED Pod/prod/a", "1 ADDED Pod/dev/b", "2 MODIFIED Pod/prod/a", "5 DELETED Pod/prod/a"}},
		{0, "Pod", "dev", "", []string{"1 ADDED Pod/dev/b"}},
		{0, "", "prod", "app=web", []string{"1 ADDED Pod/prod/a", "2 MODIFIED Pod/prod/a", "4 ADDED Service/prod/a", "5 DELETED Pod/prod/a"}},
		{0, "", "", "app", []string{"1 ADDED Pod/prod/a", "2 MODIFIED Pod/prod/a", "4 ADDED Service/prod/a", "5 DELETED Pod/prod/a"}},
		{0, "Pod", "", "!app", []string{"1 ADDED Pod/dev/b"}},
		{0, "Node", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%s/%s?%s", tt.rv, tt.kind, tt.namespace, tt.selector), func(t *testing.T) {
			sel, err := ParseSelector(tt.selector)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Since(tt.rv, tt.kind, tt.namespace, sel)
			if err != nil {
				t.Fatal(err)
			}
			if keys := eventKeys(got); !reflect.DeepEqual(keys, tt.want) {
				t.Errorf("Since = %v; want %v", keys, tt.want)
			}
		})
	}
	// The deleted event carries the object's last state.
	got, _ := s.Since(4, "", "", nil)
	if string(got[0].Object.Data) != "x" || got[0].Object.CreateVersion != 1 {
		t.Errorf("DELETED event object = %+v; want the last state (data x, created at 1)", got[0].Object)
	}
}

// TestSinceGone checks the exact boundary of a bounded history: a watch is
// Gone exactly when an event after its version was dropped.
func TestSinceGone(t *testing.T) {
	// History of 3; one event at each of 10, 20, 30, 40, 50: 10 and 20 are
	// dropped, 30, 40, 50 retained.
	s := NewState(3)
	for i := uint64(1); i <= 5; i++ {
		kind := "Pod"
		if i > 2 {
			kind = "Service"
		}
		mustApply(t, s, i*10, create(obj(kind, "default", strconv.FormatUint(i, 10), nil, "")))
	}
	tests := []struct {
		rv   uint64
		kind string
		gone bool
		want []uint64
	}{
		{rv: 0, gone: true},
		{rv: 10, gone: true},
		{rv: 19, gone: true},
		{rv: 20, want: []uint64{30, 40, 50}},
		{rv: 29, want: []uint64{30, 40, 50}},
		{rv: 30, want: []uint64{40, 50}},
		{rv: 49, want: []uint64{50}},
		{rv: 50},
		{rv: 51},
		// A filter does not save a watch from a dropped event: it might have
		// matched. Here the dropped events were Pods, and a Service watch is
		// Gone all the same.
		{rv: 19, kind: "Service", gone: true},
		{rv: 20, kind: "Service", want: []uint64{30, 40, 50}},
		{rv: 20, kind: "Pod"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%s", tt.rv, tt.kind), func(t *testing.T) {
			got, err := s.Since(tt.rv, tt.kind, "", nil)
			if tt.gone {
				if !errors.Is(err, errdefs.ErrGone) {
					t.Fatalf("Since(%d) = %v, %v; want ErrGone", tt.rv, eventKeys(got), err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Since(%d): %v", tt.rv, err)
			}
			var rvs []uint64
			for _, e := range got {
				rvs = append(rvs, e.Object.ResourceVersion)
			}
			if !reflect.DeepEqual(rvs, tt.want) {
				t.Errorf("Since(%d) = %v; want %v", tt.rv, rvs, tt.want)
			}
		})
	}
}

// TestSinceGoneMidBatch: when the history cuts through a batch's events,
// the batch's version is gone for a watch from before it.
func TestSinceGoneMidBatch(t *testing.T) {
	s := NewState(3)
	mustApply(t, s, 10, create(obj("Pod", "d", "a", nil, "")), create(obj("Pod", "d", "b", nil, "")))
	if got, err := s.Since(0, "", "", nil); err != nil || len(got) != 2 {
		t.Fatalf("before overflow Since(0) = %v, %v; want both events", eventKeys(got), err)
	}
	mustApply(t, s, 20, create(obj("Pod", "d", "c", nil, "")), create(obj("Pod", "d", "e", nil, "")))
	// Retained: 10 Pod/d/b, 20 Pod/d/c, 20 Pod/d/e.
	if _, err := s.Since(9, "", "", nil); !errors.Is(err, errdefs.ErrGone) {
		t.Errorf("Since(9) = %v; want ErrGone (10 Pod/d/a was dropped)", err)
	}
	got, err := s.Since(10, "", "", nil)
	if want := []string{"20 ADDED Pod/d/c", "20 ADDED Pod/d/e"}; err != nil || !reflect.DeepEqual(eventKeys(got), want) {
		t.Errorf("Since(10) = %v, %v; want %v", eventKeys(got), err, want)
	}
}

// churn builds a state through creates, updates, deletes, a failed batch and
// a history overflow.
func churn(t testing.TB, historyLimit int) *State {
	s := NewState(historyLimit)
	index := uint64(0)
	next := func() uint64 { index++; return index }
	for i := range 20 {
		ns := []string{"a", "b", ""}[i%3]
		kind := "Pod"
		if ns == "" {
			kind = "Node"
		}
		labels := map[string]string{"i": strconv.Itoa(i), "even": strconv.FormatBool(i%2 == 0)}
		mustApply(t, s, next(), create(obj(kind, ns, fmt.Sprintf("o%02d", i), labels, fmt.Sprintf(`{"i":%d}`, i))))
	}
	for i := 0; i < 20; i += 3 {
		o, _ := s.Get(Key{Kind: "Pod", Namespace: "a", Name: fmt.Sprintf("o%02d", i)})
		mustApply(t, s, next(), update(obj("Pod", "a", o.Name, map[string]string{"updated": "yes"}, ""), o.ResourceVersion))
	}
	mustApply(t, s, next(), del("Pod", "b", "o01", 0), del("Node", "", "o02", 0))
	s.Apply(next(), Batch{Commands: []Command{del("Pod", "b", "o01", 0)}}) // fails
	return s
}

func TestSnapshotRoundTrip(t *testing.T) {
	for _, limit := range []int{5, 1000} {
		t.Run(strconv.Itoa(limit), func(t *testing.T) {
			s := churn(t, limit)
			snap := snapshot(t, s)
			if again := snapshot(t, s); !bytes.Equal(snap, again) {
				t.Fatal("two snapshots of one state differ")
			}
			r := NewState(limit)
			mustApply(t, r, 1, create(obj("Junk", "", "replaced", nil, "")))
			if err := r.ReadSnapshot(bytes.NewReader(snap)); err != nil {
				t.Fatal(err)
			}
			if got := snapshot(t, r); !bytes.Equal(got, snap) {
				t.Errorf("snapshot of the restored state differs:\n%s\n%s", snap, got)
			}
			assertSameState(t, s, r)
			// Both go on identically.
			b := Batch{Commands: []Command{update(obj("Pod", "a", "o00", nil, "z"), 0), create(obj("Pod", "c", "new", nil, ""))}}
			next := s.Index() + 1
			res1, ev1 := s.Apply(next, b)
			res2, ev2 := r.Apply(next, b)
			if !reflect.DeepEqual(res1, res2) || !reflect.DeepEqual(ev1, ev2) {
				t.Errorf("restored state applies differently:\n%+v %+v\n%+v %+v", res1, ev1, res2, ev2)
			}
			if !bytes.Equal(snapshot(t, s), snapshot(t, r)) {
				t.Error("snapshots differ after applying the same batch")
			}
		})
	}
}

func assertSameState(t *testing.T, want, got *State) {
	t.Helper()
	if got.Index() != want.Index() || got.Count() != want.Count() {
		t.Errorf("index, count = %d, %d; want %d, %d", got.Index(), got.Count(), want.Index(), want.Count())
	}
	if g, w := got.List("", "", nil), want.List("", "", nil); !reflect.DeepEqual(g, w) {
		t.Errorf("objects differ:\n got  %+v\n want %+v", g, w)
	}
	for rv := uint64(0); rv <= want.Index(); rv++ {
		we, werr := want.Since(rv, "", "", nil)
		ge, gerr := got.Since(rv, "", "", nil)
		if !reflect.DeepEqual(ge, we) || (gerr == nil) != (werr == nil) {
			t.Errorf("Since(%d) = %v, %v; want %v, %v", rv, eventKeys(ge), gerr, eventKeys(we), werr)
		}
	}
}

func TestReadSnapshotIntoSmallerHistory(t *testing.T) {
	s := churn(t, 1000)
	small := NewState(2)
	if err := small.ReadSnapshot(bytes.NewReader(snapshot(t, s))); err != nil {
		t.Fatal(err)
	}
	all, _ := s.Since(0, "", "", nil)
	lastTwo := all[len(all)-2:]
	// The newest dropped event is the third-newest; the last two are at one
	// newer version (the final successful batch).
	dropped := all[len(all)-3].Object.ResourceVersion
	if lastTwo[0].Object.ResourceVersion == dropped {
		t.Fatal("test assumes the third-newest event is older than the last two")
	}
	if got, err := small.Since(dropped-1, "", "", nil); !errors.Is(err, errdefs.ErrGone) {
		t.Errorf("Since(%d) = %v, %v; want ErrGone", dropped-1, eventKeys(got), err)
	}
	if got, err := small.Since(dropped, "", "", nil); err != nil || !reflect.DeepEqual(got, lastTwo) {
		t.Errorf("Since(%d) = %v, %v; want %v", dropped, eventKeys(got), err, eventKeys(lastTwo))
	}
}

func TestReadSnapshotRejectsGarbage(t *testing.T) {
	good := snapshot(t, churn(t, 100))
	tests := []struct {
		name string
		snap []byte
	}{
		{"empty", nil},
		{"unknown format", append([]byte{9}, good[1:]...)},
		{"truncated", good[:len(good)/2]},
		{"header only", good[:5]},
		{"binary dropped after index", []byte{2, 1, 2, 0, 0}},
		{"binary record too long", []byte{2, 1, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"binary object with trailing bytes", binarySnap(t, 1, 1, 0, func(w *wbuf) { w.object(&Object{Kind: "Pod", Name: "a", ResourceVersion: 1}); *w = append(*w, 7) })},
		{"binary object from the future", binarySnap(t, 1, 1, 0, func(w *wbuf) { w.object(&Object{Kind: "Pod", Name: "a", ResourceVersion: 2}) })},
		{"binary event of no type", binarySnap(t, 1, 0, 1, func(w *wbuf) { w.str("BOGUS"); w.object(&Object{Kind: "Pod", Name: "a", ResourceVersion: 1}) })},
		{"not json", []byte("\x01hello")},
		{"dropped after index", []byte("\x01{\"index\":1,\"dropped\":2,\"objects\":0,\"events\":0}\n")},
		{"object without name", []byte("\x01{\"index\":1,\"dropped\":0,\"objects\":1,\"events\":0}\n{\"kind\":\"Pod\"}\n")},
		{"object twice", []byte("\x01{\"index\":1,\"objects\":2,\"events\":0}\n{\"kind\":\"Pod\",\"name\":\"a\"}\n{\"kind\":\"Pod\",\"name\":\"a\"}\n")},
		{"event from the future", []byte("\x01{\"index\":1,\"objects\":0,\"events\":1}\n{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"name\":\"a\",\"resourceVersion\":2}}\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := seeded(t)
			want := snapshot(t, s)
			err := s.ReadSnapshot(bytes.NewReader(tt.snap))
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("ReadSnapshot = %v; want ErrInvalid", err)
			}
			if !bytes.Equal(snapshot(t, s), want) {
				t.Error("a failed ReadSnapshot changed the state")
			}
		})
	}
	// And the valid one reads.
	if err := NewState(0).ReadSnapshot(bytes.NewReader(good)); err != nil {
		t.Fatalf("good snapshot: %v", err)
	}
}

// binarySnap builds a snapshotFormatBinaryV2 snapshot with one record.
func binarySnap(t *testing.T, index uint64, objects, events int, record func(*wbuf)) []byte {
	t.Helper()
	w := wbuf{snapshotFormatBinaryV2}
	w.uvarint(index)
	w.uvarint(0)
	w.uvarint(uint64(objects))
	w.uvarint(uint64(events))
	var body wbuf
	record(&body)
	w.bytes(body)
	return w
}

// Snapshots written before the binary format still read.
func TestReadJSONSnapshot(t *testing.T) {
	v1 := "\x01{\"index\":7,\"dropped\":0,\"objects\":1,\"events\":1}\n" +
		"{\"kind\":\"ConfigMap\",\"namespace\":\"default\",\"name\":\"app\",\"labels\":{\"a\":\"b\"},\"resourceVersion\":7,\"createVersion\":7,\"data\":\"e30=\"}\n" +
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"namespace\":\"default\",\"name\":\"app\",\"resourceVersion\":7,\"createVersion\":7,\"data\":\"e30=\"}}\n"
	s := NewState(0)
	if err := s.ReadSnapshot(strings.NewReader(v1)); err != nil {
		t.Fatal(err)
	}
	got, ok := s.Get(Key{Kind: "ConfigMap", Namespace: "default", Name: "app"})
	if !ok || string(got.Data) != "{}" || got.Labels["a"] != "b" || got.ResourceVersion != 7 || s.Index() != 7 {
		t.Fatalf("Get = %+v, %v; index %d", got, ok, s.Index())
	}
	if ev, err := s.Since(6, "", "", nil); err != nil || len(ev) != 1 || ev[0].Type != Added {
		t.Fatalf("Since(6) = %v, %v", ev, err)
	}
}

// mutate scribbles over an object's labels and data.
func mutate(o *Object) {
	for k := range o.Labels {
		o.Labels[k] = "mutated"
	}
	if o.Labels != nil {
		o.Labels["extra"] = "x"
	}
	for i := range o.Data {
		o.Data[i] = '!'
	}
}

// Objects handed out share memory with the state and are read-only (see
// Object); a caller's batch is copied on the way in, and a write replaces
// a stored object rather than changing it, so what a reader holds stays
// as it was read.
func TestTheCallersBatchIsCopiedAndWritesReplaceObjects(t *testing.T) {
	s := NewState(0)
	in := obj("ConfigMap", "default", "app", map[string]string{"app": "web"}, "data")
	b := Batch{Commands: []Command{create(in)}}
	mustApply(t, s, 1, b.Commands...)
	want := snapshot(t, s)
	held, _ := s.Get(appKey)

	mutate(&b.Commands[0].Object) // the caller's batch

	if after := snapshot(t, s); !bytes.Equal(after, want) {
		t.Errorf("mutating the caller's batch changed the state:\n%s\n%s", want, after)
	}
	up := obj("ConfigMap", "default", "app", map[string]string{"app": "api"}, "other")
	mustApply(t, s, 2, Command{Op: OpUpdate, Object: up})
	if held.Labels["app"] != "web" || string(held.Data) != "data" || len(held.Labels) != 1 {
		t.Errorf("an update changed an object read before it: %+v", held)
	}
	if stored, _ := s.Get(appKey); stored.Labels["app"] != "api" || string(stored.Data) != "other" {
		t.Errorf("stored = %+v", stored)
	}
}

func TestEmptyLabelsAndDataAreNormalized(t *testing.T) {
	s := NewState(0)
	res, _ := mustApply(t, s, 1, create(Object{Kind: "Node", Name: "a", Labels: map[string]string{}, Data: []byte{}}))
	if res.Objects[0].Labels != nil || res.Objects[0].Data != nil {
		t.Errorf("stored %+v; want nil labels and data", res.Objects[0])
	}
	r := NewState(0)
	if err := r.ReadSnapshot(bytes.NewReader(snapshot(t, s))); err != nil {
		t.Fatal(err)
	}
	assertSameState(t, s, r)
}

func TestKeyString(t *testing.T) {
	for _, tt := range []struct {
		k    Key
		want string
	}{
		{appKey, "ConfigMap/default/app"},
		{nodeKey, "Node/n1"},
	} {
		if got := tt.k.String(); got != tt.want {
			t.Errorf("%#v.String() = %q; want %q", tt.k, got, tt.want)
		}
	}
	o := obj("ConfigMap", "default", "app", nil, "")
	if o.Key() != appKey {
		t.Errorf("Key() = %v", o.Key())
	}
}

func TestErrorsNameTheObject(t *testing.T) {
	s := seeded(t)
	res, _ := s.Apply(10, Batch{Commands: []Command{update(obj("ConfigMap", "default", "app", nil, ""), 3)}})
	for _, want := range []string{"ConfigMap/default/app", "5", "3"} {
		if !strings.Contains(res.Err, want) {
			t.Errorf("error %q does not mention %q", res.Err, want)
		}
	}
}

// BenchmarkApply measures Apply of one-command batches on 256-byte objects
// with two labels, in a shard holding 10,000 objects. The "encoded" cases
// add what the raft adapter does around it: DecodeBatch and EncodeResult.
func BenchmarkApply(b *testing.B) {
	data := bytes.Repeat([]byte("x"), 256)
	labels := map[string]string{"app": "web", "tier": "front"}
	const objects = 10000
	names := make([]string, objects)
	for i := range names {
		names[i] = "pod-" + strconv.Itoa(i)
	}
	seed := func(b *testing.B) (*State, uint64) {
		s := NewState(0)
		for i, name := range names {
			mustApply(b, s, uint64(i+1), create(Object{Kind: "Pod", Namespace: "default", Name: name, Labels: labels, Data: data}))
		}
		return s, objects
	}
	b.Run("update", func(b *testing.B) {
		s, index := seed(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			index++
			s.Apply(index, Batch{Commands: []Command{update(Object{Kind: "Pod", Namespace: "default", Name: names[i%objects], Labels: labels, Data: data}, 0)}})
		}
	})
	b.Run("create-delete", func(b *testing.B) {
		s, index := seed(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			index++
			o := Object{Kind: "Pod", Namespace: "other", Name: names[i%objects], Labels: labels, Data: data}
			if i/objects%2 == 0 {
				s.Apply(index, Batch{Commands: []Command{create(o)}})
			} else {
				s.Apply(index, Batch{Commands: []Command{del(o.Kind, o.Namespace, o.Name, 0)}})
			}
		}
	})
	b.Run("update-encoded", func(b *testing.B) {
		s, index := seed(b)
		entries := make([][]byte, 64)
		for i := range entries {
			p, err := EncodeBatch(Batch{Commands: []Command{update(Object{Kind: "Pod", Namespace: "default", Name: names[i], Labels: labels, Data: data}, 0)}})
			if err != nil {
				b.Fatal(err)
			}
			entries[i] = p
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			index++
			batch, err := DecodeBatch(entries[i%len(entries)])
			if err != nil {
				b.Fatal(err)
			}
			res, _ := s.Apply(index, batch)
			_ = encodeResultLean(res, batch)
		}
	})
}

func TestListAndWatchSeveralKinds(t *testing.T) {
	r := newReplicaSM(2, 0)
	mustApply(t, r.state, 1,
		create(obj("Pod", "prod", "web-1", nil, "")),
		create(obj("ConfigMap", "prod", "cfg", nil, "")),
		create(obj("ReplicaSet", "prod", "web", nil, "")),
		create(obj("Deployment", "prod", "web", nil, "")),
	)
	f := Filter{Kinds: []string{"ReplicaSet", "Pod", "Deployment", "Pod"}, Namespace: "prod"}
	v, err := r.Lookup(listQuery{filter: f})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range v.(ListResult).Objects {
		got = append(got, o.Key().String())
	}
	want := []string{"Deployment/prod/web", "Pod/prod/web-1", "ReplicaSet/prod/web"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("list of several kinds = %v; want %v (each once, by kind)", got, want)
	}
	sel := f.selector()
	if !f.matches(obj("Pod", "prod", "x", nil, ""), sel) || f.matches(obj("ConfigMap", "prod", "x", nil, ""), sel) {
		t.Error("a watch of several kinds matches by Kinds, not Kind")
	}
	w, backlog, err := r.watch(0, f, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer r.unwatch(w)
	got = nil
	for _, e := range backlog {
		got = append(got, e.Object.Key().String())
	}
	if want := []string{"Pod/prod/web-1", "ReplicaSet/prod/web", "Deployment/prod/web"}; !reflect.DeepEqual(got, want) {
		t.Errorf("a watch of several kinds from the start replays %v; want %v (not the ConfigMap)", got, want)
	}
}

// BenchmarkSnapshot writes and reads a snapshot of 100,000 256-byte
// objects, the size of a busy shard after a store benchmark.
func BenchmarkSnapshot(b *testing.B) {
	s := NewState(0)
	data := []byte(`{"v":"` + strings.Repeat("x", 248) + `"}`)
	for i := range 100_000 {
		o := Object{Kind: "ConfigMap", Namespace: "bench", Name: "c" + strconv.Itoa(i), Labels: map[string]string{"app": "bench"}, Data: data}
		if res, _ := s.Apply(uint64(i+1), Batch{Commands: []Command{create(o)}}); res.Error() != nil {
			b.Fatal(res.Error())
		}
	}
	var buf bytes.Buffer
	b.Run("write", func(b *testing.B) {
		for b.Loop() {
			buf.Reset()
			if err := s.WriteSnapshot(&buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len())/1e6, "MB")
	})
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			if err := NewState(0).ReadSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestListPagesAfterAKeyUpToALimit(t *testing.T) {
	var objs []Object
	for _, k := range []string{"a/x", "a/y", "b/x", "b/z", "c/a"} {
		ns, name, _ := strings.Cut(k, "/")
		objs = append(objs, Object{Kind: "Pod", Namespace: ns, Name: name})
	}
	names := func(os []Object) string {
		var out []string
		for _, o := range os {
			out = append(out, o.Namespace+"/"+o.Name)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		after string
		limit int
		want  string
		more  bool
	}{
		{"", 0, "a/x,a/y,b/x,b/z,c/a", false},
		{"", 2, "a/x,a/y", true},
		{"a/y", 2, "b/x,b/z", true},
		{"b/x", 0, "b/z,c/a", false},
		{"b/y", 2, "b/z,c/a", false},
		{"c/a", 2, "", false},
	} {
		got, more := page(objs, tc.after, tc.limit)
		if names(got) != tc.want || more != tc.more {
			t.Errorf("page(after %q, limit %d) = %s, more %v; want %s, %v", tc.after, tc.limit, names(got), more, tc.want, tc.more)
		}
	}
}
