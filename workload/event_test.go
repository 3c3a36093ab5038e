package workload

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

func event(mut func(*Event)) *Event {
	e := NewEvent(pod(func(p *Pod) { p.ObjectMeta.Namespace = "team-a" }), EventNormal, "Pulled", "pulled image", t0, EventSource{Component: "node-agent", Host: "peer-1"})
	if mut != nil {
		mut(e)
	}
	return e
}

func TestNewEvent(t *testing.T) {
	now := time.Unix(1700000000, 123456789)
	p := pod(func(p *Pod) {
		p.TypeMeta = TypeMeta{} // not defaulted: the kind comes from the registry
		p.ObjectMeta.Namespace, p.ObjectMeta.UID, p.ObjectMeta.ResourceVersion = "team-a", "u-1", "42"
	})
	e := NewEvent(p, EventWarning, "BackOff", "Back-off restarting failed container", now, EventSource{Component: "node-agent", Host: "peer-1"})
	want := &Event{
		TypeMeta:   TypeMeta{APIVersion: "v1", Kind: "Event"},
		ObjectMeta: ObjectMeta{Name: "web-0.17979cfe3d85cd15", Namespace: "team-a", CreationTimestamp: NewTime(time.Unix(1700000000, 0))},
		InvolvedObject: ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: "team-a", Name: "web-0", UID: "u-1", ResourceVersion: "42",
		},
		Reason: "BackOff", Message: "Back-off restarting failed container", Type: EventWarning, Count: 1,
		FirstTimestamp: NewTime(now), LastTimestamp: NewTime(now),
		Source:              EventSource{Component: "node-agent", Host: "peer-1"},
		ReportingController: "node-agent", ReportingInstance: "peer-1",
	}
	gotJSON, _ := jsonMarshal(e)
	wantJSON, _ := jsonMarshal(want)
	if gotJSON != wantJSON {
		t.Errorf("NewEvent =\n%s\nwant\n%s", gotJSON, wantJSON)
	}
	info, _ := LookupKind("ev")
	if errs := Validate(e, info); len(errs) != 0 {
		t.Errorf("NewEvent made an invalid event: %v", errs)
	}

	// A cluster-scoped object's events go to the default namespace.
	ne := NewEvent(node(nil), EventNormal, "NodeReady", "ready", now, EventSource{Component: "node-agent"})
	if ne.ObjectMeta.Namespace != DefaultNamespace || ne.InvolvedObject.Kind != "Node" || ne.InvolvedObject.Namespace != "" {
		t.Errorf("node event = %+v", ne)
	}
	if errs := Validate(ne, info); len(errs) != 0 {
		t.Errorf("node event is invalid: %v", errs)
	}

	// A name at the limit is shortened to leave a valid name.
	long := pod(func(p *Pod) { p.ObjectMeta.Name = strings.Repeat("a", 235) + "-" + strings.Repeat("b", 17) })
	le := NewEvent(long, EventNormal, "Scheduled", "", now, EventSource{})
	if msgs := validation.IsDNS1123Subdomain(le.ObjectMeta.Name); len(msgs) > 0 || !strings.HasSuffix(le.ObjectMeta.Name, ".17979cfe3d85cd15") {
		t.Errorf("long event name %q: %v", le.ObjectMeta.Name, msgs)
	}
}

func TestValidateEvent(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"baseline/valid", event(nil), ""},
		{"type enum/valid", event(func(e *Event) { e.Type = EventWarning }), ""},
		{"type enum/invalid", event(func(e *Event) { e.Type = "Error" }), `type: Unsupported value: "Error": supported values: "Normal", "Warning"`},
		{"type required/invalid", event(func(e *Event) { e.Type = "" }), "type: Required value"},
		{"involvedObject name/invalid", event(func(e *Event) { e.InvolvedObject.Name = "" }), "involvedObject.name: Required value"},
		{"involvedObject kind/invalid", event(func(e *Event) { e.InvolvedObject.Kind = "" }), "involvedObject.kind: Required value"},
		{"involvedObject namespace/invalid", event(func(e *Event) { e.InvolvedObject.Namespace = "other" }),
			`involvedObject.namespace: Invalid value: "other": does not match event.namespace`},
		{"count/invalid", event(func(e *Event) { e.Count = -1 }), "count: Invalid value: -1: must be greater than or equal to 0"},
		{"namespaced/valid", event(func(e *Event) { e.ObjectMeta.Namespace = "" }), ""},
	})
}

func TestDecodeNodeAndEvent(t *testing.T) {
	in := `apiVersion: v1
kind: Node
metadata: {name: peer-1}
spec: {podCIDR: 10.1.0.0/24}
status:
  capacity: {cpu: "4", memory: 8Gi, pods: "110"}
  allocatable: {cpu: 3800m, memory: 7Gi, pods: 110}
  conditions:
  - {type: Ready, status: "True", lastHeartbeatTime: "2025-03-01T12:00:00Z", lastTransitionTime: "2025-03-01T12:00:00Z"}
  addresses: [{type: InternalIP, address: 192.168.1.2}]
  nodeInfo: {kubeletVersion: v0.1.0, operatingSystem: linux, architecture: amd64}
---
apiVersion: v1
kind: Event
metadata: {name: web-0.17979cfe3d85cd15, namespace: default}
involvedObject: {kind: Pod, name: web-0, namespace: default, fieldPath: "spec.containers{web}"}
reason: Pulled
message: Successfully pulled image
type: Normal
count: 3
firstTimestamp: "2025-03-01T12:00:00Z"
lastTimestamp: "2025-03-01T12:05:00Z"
source: {component: node-agent, host: peer-1}
`
	docs, err := Decode("objs.yaml", []byte(in))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	n := docs[0].Object.(*Node)
	if got := MilliValueOf(n.Status.Allocatable[ResourceCPU]); got != 3800 || !IsNodeReady(n) || !docs[0].Info.SystemOwned {
		t.Errorf("node: allocatable cpu %d, ready %v, info %+v", got, IsNodeReady(n), docs[0].Info)
	}
	e := docs[1].Object.(*Event)
	if e.Count != 3 || e.InvolvedObject.FieldPath != "spec.containers{web}" || !e.LastTimestamp.Time.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("event = %+v", e)
	}
}
