package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func storage(q string) corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(q)}
}

func modes(m ...corev1.PersistentVolumeAccessMode) []corev1.PersistentVolumeAccessMode { return m }

// TestPersistentVolume follows kube's TestPrintPersistentVolume.
func TestPersistentVolume(t *testing.T) {
	claimRef := &corev1.ObjectReference{Name: "test", Namespace: "default"}
	tests := []struct {
		name string
		pv   corev1.PersistentVolume
		want []any
	}{
		{"bound",
			corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "test1"},
				Spec:   corev1.PersistentVolumeSpec{ClaimRef: claimRef, AccessModes: modes(corev1.ReadOnlyMany), Capacity: storage("4Gi")},
				Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound}},
			[]any{"test1", "4Gi", "ROX", "", "Bound", "default/test", "", "<unset>", "", "<unknown>", "<unset>"}},
		{"failed",
			corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "test2"},
				Spec:   corev1.PersistentVolumeSpec{ClaimRef: claimRef, AccessModes: modes(corev1.ReadOnlyMany), Capacity: storage("4Gi")},
				Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeFailed}},
			[]any{"test2", "4Gi", "ROX", "", "Failed", "default/test", "", "<unset>", "", "<unknown>", "<unset>"}},
		{"pending",
			corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "test3"},
				Spec:   corev1.PersistentVolumeSpec{ClaimRef: claimRef, AccessModes: modes(corev1.ReadWriteMany), Capacity: storage("10Gi")},
				Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumePending}},
			[]any{"test3", "10Gi", "RWX", "", "Pending", "default/test", "", "<unset>", "", "<unknown>", "<unset>"}},
		{"storage class",
			corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "test4"},
				Spec:   corev1.PersistentVolumeSpec{ClaimRef: claimRef, StorageClassName: "my-scn", AccessModes: modes(corev1.ReadWriteOnce), Capacity: storage("10Gi")},
				Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumePending}},
			[]any{"test4", "10Gi", "RWO", "", "Pending", "default/test", "my-scn", "<unset>", "", "<unknown>", "<unset>"}},
		{"volume attributes class",
			corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "test4"},
				Spec: corev1.PersistentVolumeSpec{ClaimRef: claimRef, StorageClassName: "my-scn", VolumeAttributesClassName: ptr("my-vacn"),
					AccessModes: modes(corev1.ReadWriteOnce), Capacity: storage("10Gi")},
				Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumePending}},
			[]any{"test4", "10Gi", "RWO", "", "Pending", "default/test", "my-scn", "my-vacn", "", "<unknown>", "<unset>"}},
		{"available",
			corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "test5"},
				Spec:   corev1.PersistentVolumeSpec{ClaimRef: claimRef, StorageClassName: "my-scn", AccessModes: modes(corev1.ReadWriteOnce), Capacity: storage("10Gi")},
				Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeAvailable}},
			[]any{"test5", "10Gi", "RWO", "", "Available", "default/test", "my-scn", "<unset>", "", "<unknown>", "<unset>"}},
		{"released",
			corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "test6"},
				Spec:   corev1.PersistentVolumeSpec{ClaimRef: claimRef, StorageClassName: "my-scn", AccessModes: modes(corev1.ReadWriteOnce), Capacity: storage("10Gi")},
				Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeReleased}},
			[]any{"test6", "10Gi", "RWO", "", "Released", "default/test", "my-scn", "<unset>", "", "<unknown>", "<unset>"}},
		{"a Shoal local volume: reclaim policy, reason, mode, modes in kube's order",
			corev1.PersistentVolume{
				ObjectMeta: metav1.ObjectMeta{Name: "pv-data", CreationTimestamp: ago(6 * time.Hour)},
				Spec: corev1.PersistentVolumeSpec{
					AccessModes:                   modes(corev1.ReadWriteOncePod, corev1.ReadOnlyMany, corev1.ReadWriteOnce, corev1.ReadOnlyMany),
					Capacity:                      storage("500Mi"),
					PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
					VolumeMode:                    ptr(corev1.PersistentVolumeFilesystem),
				},
				Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeReleased, Reason: "Recycled"},
			},
			[]any{"pv-data", "500Mi", "RWO,ROX,RWOP", "Retain", "Released", "", "", "<unset>", "Recycled", "6h", "Filesystem"}},
		{"terminating, beta class annotation first, no capacity",
			corev1.PersistentVolume{
				ObjectMeta: metav1.ObjectMeta{Name: "going", DeletionTimestamp: agoPtr(0),
					Annotations: map[string]string{"volume.beta.kubernetes.io/storage-class": "old-class"}},
				Spec:   corev1.PersistentVolumeSpec{StorageClassName: "new-class", VolumeMode: ptr(corev1.PersistentVolumeBlock)},
				Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound},
			},
			[]any{"going", "0", "", "", "Terminating", "", "old-class", "<unset>", "", "<unknown>", "Block"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.pv, tt.want) })
	}
}

// TestPersistentVolumeClaim follows kube's TestPrintPersistentVolumeClaim.
func TestPersistentVolumeClaim(t *testing.T) {
	fs := ptr(corev1.PersistentVolumeFilesystem)
	tests := []struct {
		name string
		pvc  corev1.PersistentVolumeClaim
		want []any
	}{
		{"bound",
			corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "test1"},
				Spec:   corev1.PersistentVolumeClaimSpec{VolumeName: "my-volume", VolumeMode: fs},
				Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: modes(corev1.ReadOnlyMany), Capacity: storage("4Gi")}},
			[]any{"test1", "Bound", "my-volume", "4Gi", "ROX", "", "<unset>", "<unknown>", "Filesystem"}},
		{"lost: no volume, so no capacity or modes",
			corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "test2"},
				Spec:   corev1.PersistentVolumeClaimSpec{VolumeMode: fs},
				Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimLost, AccessModes: modes(corev1.ReadOnlyMany), Capacity: storage("4Gi")}},
			[]any{"test2", "Lost", "", "", "", "", "<unset>", "<unknown>", "Filesystem"}},
		{"pending",
			corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "test3"},
				Spec:   corev1.PersistentVolumeClaimSpec{VolumeName: "my-volume", VolumeMode: fs},
				Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending, AccessModes: modes(corev1.ReadWriteMany), Capacity: storage("10Gi")}},
			[]any{"test3", "Pending", "my-volume", "10Gi", "RWX", "", "<unset>", "<unknown>", "Filesystem"}},
		{"storage class",
			corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "test4"},
				Spec:   corev1.PersistentVolumeClaimSpec{VolumeName: "my-volume", StorageClassName: ptr("my-scn"), VolumeMode: fs},
				Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending, AccessModes: modes(corev1.ReadWriteOnce), Capacity: storage("10Gi")}},
			[]any{"test4", "Pending", "my-volume", "10Gi", "RWO", "my-scn", "<unset>", "<unknown>", "Filesystem"}},
		{"no volume mode",
			corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "test5"},
				Spec:   corev1.PersistentVolumeClaimSpec{VolumeName: "my-volume", StorageClassName: ptr("my-scn")},
				Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending, AccessModes: modes(corev1.ReadWriteOnce), Capacity: storage("10Gi")}},
			[]any{"test5", "Pending", "my-volume", "10Gi", "RWO", "my-scn", "<unset>", "<unknown>", "<unset>"}},
		{"volume attributes class",
			corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "test5"},
				Spec:   corev1.PersistentVolumeClaimSpec{VolumeName: "my-volume", StorageClassName: ptr("my-scn"), VolumeAttributesClassName: ptr("my-vacn")},
				Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending, AccessModes: modes(corev1.ReadWriteOnce), Capacity: storage("10Gi")}},
			[]any{"test5", "Pending", "my-volume", "10Gi", "RWO", "my-scn", "my-vacn", "<unknown>", "<unset>"}},
		{"requested but unbound: the request is not the capacity",
			corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", CreationTimestamp: ago(30 * time.Second)},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: modes(corev1.ReadWriteOnce), StorageClassName: ptr("local"),
					Resources: corev1.VolumeResourceRequirements{Requests: storage("1Gi")}},
				Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}},
			[]any{"data", "Pending", "", "", "", "local", "<unset>", "30s", "<unset>"}},
		{"terminating, beta class annotation over the field",
			corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "old", DeletionTimestamp: agoPtr(0),
				Annotations: map[string]string{"volume.beta.kubernetes.io/storage-class": "gold"}},
				Spec:   corev1.PersistentVolumeClaimSpec{VolumeName: "pv-1", StorageClassName: ptr("silver")},
				Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: modes(corev1.ReadWriteMany, corev1.ReadWriteOnce), Capacity: storage("2Gi")}},
			[]any{"old", "Terminating", "pv-1", "2Gi", "RWO,RWX", "gold", "<unset>", "<unknown>", "<unset>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCells(t, &tt.pvc, tt.want) })
	}
}
