package workload

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Event is a report of something that happened to an object ("Pulled",
// "BackOff", "FailedScheduling"), for users reading `shoal describe`. Its
// JSON is Kubernetes' core/v1 Event.
type Event struct {
	TypeMeta       `json:",inline"`
	Metadata       ObjectMeta      `json:"metadata"`
	InvolvedObject ObjectReference `json:"involvedObject"`
	// Reason is a short UpperCamelCase word a program may match on;
	// Message is for people.
	Reason  string      `json:"reason,omitempty"`
	Message string      `json:"message,omitempty"`
	Source  EventSource `json:"source,omitempty"`
	// FirstTimestamp and LastTimestamp bound Count occurrences of the
	// same event.
	FirstTimestamp     time.Time `json:"firstTimestamp,omitzero"`
	LastTimestamp      time.Time `json:"lastTimestamp,omitzero"`
	Count              int32     `json:"count,omitempty"`
	Type               EventType `json:"type,omitempty"`
	ReportingComponent string    `json:"reportingComponent,omitempty"`
	ReportingInstance  string    `json:"reportingInstance,omitempty"`
}

// GetMeta returns the event's metadata.
func (e *Event) GetMeta() *ObjectMeta { return &e.Metadata }

// ObjectReference points at one object, and optionally at a part of it
// (FieldPath "spec.containers{web}").
type ObjectReference struct {
	Kind            string `json:"kind,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name,omitempty"`
	UID             string `json:"uid,omitempty"`
	APIVersion      string `json:"apiVersion,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	FieldPath       string `json:"fieldPath,omitempty"`
}

// EventSource is who reported an event: a component ("scheduler",
// "node-agent") on a host (a peer's node name).
type EventSource struct {
	Component string `json:"component,omitempty"`
	Host      string `json:"host,omitempty"`
}

// EventType is Normal or Warning.
type EventType string

// The event types.
const (
	EventNormal  EventType = "Normal"
	EventWarning EventType = "Warning"
)

// NewEvent returns a new event about obj, which happened at now, reported
// by source. Its name is Kubernetes' "<obj-name>.<now in hex nanoseconds>",
// shortened if need be to stay a valid name; its namespace is obj's, or
// DefaultNamespace for a cluster-scoped obj such as a Node. obj's kind and
// apiVersion come from its TypeMeta, or from the registry of served kinds
// when that is empty.
func NewEvent(obj Object, eventType EventType, reason, message string, now time.Time, source EventSource) *Event {
	meta := obj.GetMeta()
	tm := *obj.GetTypeMeta()
	if tm.Kind == "" || tm.APIVersion == "" {
		for _, info := range served {
			if reflect.TypeOf(info.New()) == reflect.TypeOf(obj) {
				tm = TypeMeta{APIVersion: info.APIVersion, Kind: info.Kind}
			}
		}
	}
	ns := meta.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return &Event{
		TypeMeta: TypeMeta{APIVersion: "v1", Kind: "Event"},
		Metadata: ObjectMeta{Name: eventName(meta.Name, now), Namespace: ns},
		InvolvedObject: ObjectReference{
			Kind: tm.Kind, APIVersion: tm.APIVersion,
			Namespace: meta.Namespace, Name: meta.Name, UID: meta.UID, ResourceVersion: meta.ResourceVersion,
		},
		Reason:             reason,
		Message:            message,
		Source:             source,
		FirstTimestamp:     now,
		LastTimestamp:      now,
		Count:              1,
		Type:               eventType,
		ReportingComponent: source.Component,
		ReportingInstance:  source.Host,
	}
}

// eventName is "<name>.<hex nanoseconds>", with name cut short enough for
// the whole to be a DNS-1123 subdomain.
func eventName(name string, now time.Time) string {
	suffix := fmt.Sprintf(".%x", now.UnixNano())
	if room := validation.DNS1123SubdomainMaxLength - len(suffix); len(name) > room {
		name = strings.TrimRight(name[:room], "-.")
	}
	return name + suffix
}

func validateEvent(e *Event) field.ErrorList {
	var errs field.ErrorList
	io := field.NewPath("involvedObject")
	if e.InvolvedObject.Kind == "" {
		errs = append(errs, field.Required(io.Child("kind"), ""))
	}
	if e.InvolvedObject.Name == "" {
		errs = append(errs, field.Required(io.Child("name"), ""))
	}
	if ns := e.InvolvedObject.Namespace; ns != "" && e.Metadata.Namespace != "" && ns != e.Metadata.Namespace {
		errs = append(errs, field.Invalid(io.Child("namespace"), ns, "does not match event.namespace"))
	}
	errs = append(errs, validateEnum(field.NewPath("type"), e.Type, EventNormal, EventWarning)...)
	if e.Count < 0 {
		errs = append(errs, field.Invalid(field.NewPath("count"), e.Count, "must be greater than or equal to 0"))
	}
	return errs
}
