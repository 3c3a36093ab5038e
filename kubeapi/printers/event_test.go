package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestEvent follows kube's TestPrintEvent: core events with timestamps and
// counts, events.k8s.io ones with an eventTime and a series, and the
// source taken from the reporting controller.
func TestEvent(t *testing.T) {
	deployment := corev1.ObjectReference{Kind: "Deployment", Name: "Deployment Name", FieldPath: "spec.containers{foo}"}
	kubeletOnNode1 := corev1.EventSource{Component: "kubelet", Host: "Node1"}
	tests := []struct {
		name  string
		event corev1.Event
		want  []any
	}{
		{"counted core event",
			corev1.Event{
				ObjectMeta:     metav1.ObjectMeta{Name: "event1"},
				Source:         corev1.EventSource{Component: "kubelet"},
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "Pod Name", FieldPath: "spec.containers{foo}"},
				Reason:         "Event Reason", Message: "Message Data",
				FirstTimestamp: ago(3 * day), LastTimestamp: ago(2 * day), Count: 6, Type: corev1.EventTypeNormal,
			},
			[]any{"2d", "Normal", "Event Reason", "pod/Pod Name", "spec.containers{foo}", "kubelet", "Message Data", "3d", int64(6), "event1"}},
		{"source with host",
			corev1.Event{
				ObjectMeta: metav1.ObjectMeta{Name: "event2"}, Source: kubeletOnNode1, InvolvedObject: deployment,
				Reason: "Event Reason", Message: "Message Data",
				FirstTimestamp: ago(3 * day), LastTimestamp: ago(2 * day), Count: 6, Type: corev1.EventTypeWarning,
			},
			[]any{"2d", "Warning", "Event Reason", "deployment/Deployment Name", "spec.containers{foo}", "kubelet, Node1", "Message Data", "3d", int64(6), "event2"}},
		{"no first timestamp: eventTime",
			corev1.Event{
				ObjectMeta: metav1.ObjectMeta{Name: "event3"}, Source: kubeletOnNode1, InvolvedObject: deployment,
				Reason: "Event Reason", Message: "Message Data",
				EventTime: microAgo(3 * day), LastTimestamp: ago(3 * day), Count: 1, Type: corev1.EventTypeWarning,
			},
			[]any{"3d", "Warning", "Event Reason", "deployment/Deployment Name", "spec.containers{foo}", "kubelet, Node1", "Message Data", "3d", int64(1), "event3"}},
		{"no last timestamp: the first",
			corev1.Event{
				ObjectMeta: metav1.ObjectMeta{Name: "event4"}, Source: kubeletOnNode1, InvolvedObject: deployment,
				Reason: "Event Reason", Message: "Message Data",
				EventTime: microAgo(3 * day), FirstTimestamp: ago(3 * day), Count: 1, Type: corev1.EventTypeWarning,
			},
			[]any{"3d", "Warning", "Event Reason", "deployment/Deployment Name", "spec.containers{foo}", "kubelet, Node1", "Message Data", "3d", int64(1), "event4"}},
		{"neither timestamp: eventTime for both",
			corev1.Event{
				ObjectMeta: metav1.ObjectMeta{Name: "event5"}, Source: kubeletOnNode1, InvolvedObject: deployment,
				Reason: "Event Reason", Message: "Message Data",
				EventTime: microAgo(3 * day), Count: 1, Type: corev1.EventTypeWarning,
			},
			[]any{"3d", "Warning", "Event Reason", "deployment/Deployment Name", "spec.containers{foo}", "kubelet, Node1", "Message Data", "3d", int64(1), "event5"}},
		{"series: its last observation and count",
			corev1.Event{
				ObjectMeta: metav1.ObjectMeta{Name: "event6"}, Source: kubeletOnNode1, InvolvedObject: deployment,
				Series: &corev1.EventSeries{Count: 2, LastObservedTime: microAgo(2 * day)},
				Reason: "Event Reason", Message: "Message Data", EventTime: microAgo(3 * day), Type: corev1.EventTypeWarning,
			},
			[]any{"2d", "Warning", "Event Reason", "deployment/Deployment Name", "spec.containers{foo}", "kubelet, Node1", "Message Data", "3d", int64(2), "event6"}},
		{"series overrides a core count",
			corev1.Event{
				ObjectMeta: metav1.ObjectMeta{Name: "both"}, Source: kubeletOnNode1, InvolvedObject: deployment,
				Series: &corev1.EventSeries{Count: 12, LastObservedTime: microAgo(30 * time.Second)},
				Reason: "BackOff", Message: "Back-off restarting failed container",
				FirstTimestamp: ago(time.Hour), LastTimestamp: ago(10 * time.Minute), Count: 4, Type: corev1.EventTypeWarning,
			},
			[]any{"30s", "Warning", "BackOff", "deployment/Deployment Name", "spec.containers{foo}", "kubelet, Node1", "Back-off restarting failed container", "60m", int64(12), "both"}},
		{"singleton without a count counts one",
			corev1.Event{
				ObjectMeta: metav1.ObjectMeta{Name: "event7"}, Source: kubeletOnNode1, InvolvedObject: deployment,
				Reason: "Event Reason", Message: "Message Data", EventTime: microAgo(3 * day), Type: corev1.EventTypeWarning,
			},
			[]any{"3d", "Warning", "Event Reason", "deployment/Deployment Name", "spec.containers{foo}", "kubelet, Node1", "Message Data", "3d", int64(1), "event7"}},
		{"source from the reporting controller and instance",
			corev1.Event{
				ObjectMeta: metav1.ObjectMeta{Name: "event2"}, ReportingController: "kubelet", ReportingInstance: "test", InvolvedObject: deployment,
				Reason: "Event Reason", Message: "Message Data",
				FirstTimestamp: ago(3 * day), LastTimestamp: ago(2 * day), Count: 6, Type: corev1.EventTypeWarning,
			},
			[]any{"2d", "Warning", "Event Reason", "deployment/Deployment Name", "spec.containers{foo}", "kubelet, test", "Message Data", "3d", int64(6), "event2"}},
		{"no timestamps at all, an object without a name, a message to trim",
			corev1.Event{
				ObjectMeta: metav1.ObjectMeta{Name: "bare"}, InvolvedObject: corev1.ObjectReference{Kind: "Node"},
				Reason: "Starting", Message: "  Starting kubelet.\n", Type: corev1.EventTypeNormal,
			},
			[]any{"<unknown>", "Normal", "Starting", "node", "", "", "Starting kubelet.", "<unknown>", int64(1), "bare"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.event, tt.want) })
	}
}
