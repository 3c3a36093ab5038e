package workload

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// NewEvent returns a new event about obj, which happened at now, reported
// by source. Its name is Kubernetes' "<obj-name>.<now in hex nanoseconds>",
// shortened if need be to stay a valid name; its namespace is obj's, or
// DefaultNamespace for a cluster-scoped obj such as a Node. obj's kind and
// apiVersion come from its TypeMeta, or from the registry of served kinds
// when that is empty.
func NewEvent(obj Object, eventType string, reason, message string, now time.Time, source EventSource) *Event {
	meta := MetaOf(obj)
	tm := *TypeMetaOf(obj)
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
		TypeMeta:   TypeMeta{APIVersion: "v1", Kind: "Event"},
		ObjectMeta: ObjectMeta{Name: eventName(meta.Name, now), Namespace: ns, CreationTimestamp: NewTime(now.UTC().Truncate(time.Second))},
		InvolvedObject: ObjectReference{
			Kind: tm.Kind, APIVersion: tm.APIVersion,
			Namespace: meta.Namespace, Name: meta.Name, UID: meta.UID, ResourceVersion: meta.ResourceVersion,
		},
		Reason:              reason,
		Message:             message,
		Source:              source,
		FirstTimestamp:      NewTime(now),
		LastTimestamp:       NewTime(now),
		Count:               1,
		Type:                eventType,
		ReportingController: source.Component,
		ReportingInstance:   source.Host,
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
	if ns := e.InvolvedObject.Namespace; ns != "" && e.ObjectMeta.Namespace != "" && ns != e.ObjectMeta.Namespace {
		errs = append(errs, field.Invalid(io.Child("namespace"), ns, "does not match event.namespace"))
	}
	errs = append(errs, validateEnum(field.NewPath("type"), e.Type, EventNormal, EventWarning)...)
	if e.Count < 0 {
		errs = append(errs, field.Invalid(field.NewPath("count"), e.Count, "must be greater than or equal to 0"))
	}
	return errs
}
