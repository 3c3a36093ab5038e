package printers

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestSmallKinds follows kube's TestPrintNamespace, TestPrintSecret,
// TestPrintConfigMap and TestPrintLease.
func TestSmallKinds(t *testing.T) {
	justNow := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, CreationTimestamp: ago(-1900 * time.Millisecond)}
	}
	tests := []struct {
		name string
		obj  runtime.Object
		want []any
	}{
		{"namespace", &corev1.Namespace{ObjectMeta: justNow("namespace1"), Status: corev1.NamespaceStatus{Phase: "FooStatus"}},
			[]any{"namespace1", "FooStatus", "0s"}},
		{"namespace without status or age", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "namespace2"}},
			[]any{"namespace2", "", "<unknown>"}},
		{"namespace terminating", &corev1.Namespace{
			ObjectMeta: metav1.ObjectMeta{Name: "old", CreationTimestamp: ago(400 * day)}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}},
			[]any{"old", "Terminating", "400d"}},

		{"secret with data", &corev1.Secret{ObjectMeta: justNow("secret1"), Type: "kubernetes.io/service-account-token",
			Data: map[string][]byte{"token": []byte("secret data")}},
			[]any{"secret1", "kubernetes.io/service-account-token", int64(1), "0s"}},
		{"secret without data", &corev1.Secret{ObjectMeta: justNow("secret1"), Type: "kubernetes.io/service-account-token"},
			[]any{"secret1", "kubernetes.io/service-account-token", int64(0), "0s"}},
		{"secret stringData merges into data", &corev1.Secret{ObjectMeta: justNow("mixed"), Type: corev1.SecretTypeOpaque,
			Data:       map[string][]byte{"user": []byte("a"), "pass": []byte("b")},
			StringData: map[string]string{"pass": "c", "host": "d"}},
			[]any{"mixed", "Opaque", int64(3), "0s"}},
		{"secret without a type", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "raw"}, StringData: map[string]string{"k": "v"}},
			[]any{"raw", "", int64(1), "<unknown>"}},

		{"config map without data", &corev1.ConfigMap{ObjectMeta: justNow("configmap1")},
			[]any{"configmap1", int64(0), "0s"}},
		{"config map with data", &corev1.ConfigMap{ObjectMeta: justNow("configmap2"), Data: map[string]string{"foo": "bar"}},
			[]any{"configmap2", int64(1), "0s"}},
		{"config map with data and binary data", &corev1.ConfigMap{ObjectMeta: justNow("configmap3"),
			Data: map[string]string{"foo": "bar"}, BinaryData: map[string][]byte{"bin": []byte("binary data")}},
			[]any{"configmap3", int64(2), "0s"}},

		{"lease", &coordinationv1.Lease{ObjectMeta: justNow("lease1"), Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("holder1")}},
			[]any{"lease1", "holder1", "0s"}},
		{"older lease", &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "lease2", CreationTimestamp: ago(5 * time.Minute)},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("holder2")}},
			[]any{"lease2", "holder2", "5m"}},
		{"lease nobody holds", &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "free"}},
			[]any{"free", "", "<unknown>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, tt.obj, tt.want) })
	}
}
