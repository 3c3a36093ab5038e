package printers

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var twoContainerTemplate = corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
	{Name: "fake-container1", Image: "fake-image1"},
	{Name: "fake-container2", Image: "fake-image2"},
}}}

var fooBar = &metav1.LabelSelector{MatchLabels: map[string]string{"foo": "bar"}}

// TestDeployment follows kube's TestPrintDeployment.
func TestDeployment(t *testing.T) {
	tests := []struct {
		name string
		d    appsv1.Deployment
		want []any
	}{
		{"replicas, updated, available; ready counts against desired",
			appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: "test1", CreationTimestamp: ago(-1900 * time.Millisecond)},
				Spec:       appsv1.DeploymentSpec{Replicas: ptr[int32](5), Template: twoContainerTemplate, Selector: fooBar},
				Status:     appsv1.DeploymentStatus{Replicas: 10, UpdatedReplicas: 2, AvailableReplicas: 1, UnavailableReplicas: 4},
			},
			[]any{"test1", "0/5", int64(2), int64(1), "0s", "fake-container1,fake-container2", "fake-image1,fake-image2", "foo=bar"}},
		{"rolled out",
			appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: "web", CreationTimestamp: ago(4*day + 20*time.Hour)},
				Spec: appsv1.DeploymentSpec{
					Replicas: ptr[int32](2),
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}, MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"front"}}}},
					Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.27"}}}},
				},
				Status: appsv1.DeploymentStatus{Replicas: 2, ReadyReplicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2},
			},
			[]any{"web", "2/2", int64(2), int64(2), "4d20h", "nginx", "nginx:1.27", "app=web,tier in (front)"}},
		{"no selector prints empty, nil replicas read zero",
			appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "bare"}},
			[]any{"bare", "0/0", int64(0), int64(0), "<unknown>", "", "", ""}},
		{"an empty selector selects everything and prints empty",
			appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "all"}, Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{}}},
			[]any{"all", "0/0", int64(0), int64(0), "<unknown>", "", "", ""}},
		{"an invalid selector",
			appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "bad"}, Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Near"}}},
			}},
			[]any{"bad", "0/0", int64(0), int64(0), "<unknown>", "", "", "<invalid>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.d, tt.want) })
	}
}

// TestReplicaSet follows kube's TestPrintReplicaSet and
// TestPrintReplicaSetList.
func TestReplicaSet(t *testing.T) {
	tests := []struct {
		name string
		rs   appsv1.ReplicaSet
		want []any
	}{
		{"desired, current, ready",
			appsv1.ReplicaSet{
				ObjectMeta: metav1.ObjectMeta{Name: "test1", CreationTimestamp: ago(-1900 * time.Millisecond)},
				Spec:       appsv1.ReplicaSetSpec{Replicas: ptr[int32](5), Template: twoContainerTemplate, Selector: fooBar},
				Status:     appsv1.ReplicaSetStatus{Replicas: 5, ReadyReplicas: 2},
			},
			[]any{"test1", int64(5), int64(5), int64(2), "0s", "fake-container1,fake-container2", "fake-image1,fake-image2", "foo=bar"}},
		{"no template, selector only",
			appsv1.ReplicaSet{
				ObjectMeta: metav1.ObjectMeta{Name: "replicaset2", CreationTimestamp: ago(-1900 * time.Millisecond)},
				Spec:       appsv1.ReplicaSetSpec{Replicas: ptr[int32](4), Selector: fooBar},
				Status:     appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1},
			},
			[]any{"replicaset2", int64(4), int64(3), int64(1), "0s", "", "", "foo=bar"}},
		{"scaled to zero, no selector",
			appsv1.ReplicaSet{
				ObjectMeta: metav1.ObjectMeta{Name: "old", CreationTimestamp: ago(40 * day)},
				Spec:       appsv1.ReplicaSetSpec{Replicas: ptr[int32](0), Template: twoContainerTemplate},
			},
			[]any{"old", int64(0), int64(0), int64(0), "40d", "fake-container1,fake-container2", "fake-image1,fake-image2", "<none>"}},
		{"nil replicas read zero",
			appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "nil"}},
			[]any{"nil", int64(0), int64(0), int64(0), "<unknown>", "", "", "<none>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.rs, tt.want) })
	}
}

// TestStatefulSet follows kube's TestPrintStatefulSet.
func TestStatefulSet(t *testing.T) {
	tests := []struct {
		name string
		ss   appsv1.StatefulSet
		want []any
	}{
		{"ready of desired",
			appsv1.StatefulSet{
				ObjectMeta: metav1.ObjectMeta{Name: "test1", CreationTimestamp: ago(-1900 * time.Millisecond)},
				Spec:       appsv1.StatefulSetSpec{Replicas: ptr[int32](5), Template: twoContainerTemplate},
				Status:     appsv1.StatefulSetStatus{Replicas: 5, ReadyReplicas: 2},
			},
			[]any{"test1", "2/5", "0s", "fake-container1,fake-container2", "fake-image1,fake-image2"}},
		{"nil replicas read zero",
			appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "nil"}},
			[]any{"nil", "0/0", "<unknown>", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.ss, tt.want) })
	}
}

// TestDaemonSet follows kube's TestPrintDaemonSet and
// TestPrintDaemonSetList.
func TestDaemonSet(t *testing.T) {
	tests := []struct {
		name string
		ds   appsv1.DaemonSet
		want []any
	}{
		{"counts, no node selector",
			appsv1.DaemonSet{
				ObjectMeta: metav1.ObjectMeta{Name: "test1", CreationTimestamp: ago(-1900 * time.Millisecond)},
				Spec:       appsv1.DaemonSetSpec{Template: twoContainerTemplate, Selector: fooBar},
				Status:     appsv1.DaemonSetStatus{CurrentNumberScheduled: 2, DesiredNumberScheduled: 3, NumberReady: 1, UpdatedNumberScheduled: 2},
			},
			[]any{"test1", int64(3), int64(2), int64(1), int64(2), int64(0), "<none>", "0s", "fake-container1,fake-container2", "fake-image1,fake-image2", "foo=bar"}},
		{"node selector, no pod selector",
			appsv1.DaemonSet{
				ObjectMeta: metav1.ObjectMeta{Name: "agent", CreationTimestamp: ago(9 * time.Minute)},
				Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
					Containers:   []corev1.Container{{Name: "agent", Image: "agent:2"}},
				}}},
				Status: appsv1.DaemonSetStatus{CurrentNumberScheduled: 4, DesiredNumberScheduled: 4, NumberReady: 4, UpdatedNumberScheduled: 4, NumberAvailable: 4},
			},
			[]any{"agent", int64(4), int64(4), int64(4), int64(4), int64(4), "kubernetes.io/os=linux", "9m", "agent", "agent:2", "<none>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.ds, tt.want) })
	}
}
