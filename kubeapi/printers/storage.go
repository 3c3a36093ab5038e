package printers

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	pvSpecDoc    = corev1.PersistentVolumeSpec{}.SwaggerDoc()
	pvStatusDoc  = corev1.PersistentVolumeStatus{}.SwaggerDoc()
	pvcSpecDoc   = corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()
	pvcStatusDoc = corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()
)

var persistentVolumeColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Capacity", Type: "string", Description: pvSpecDoc["capacity"]},
	{Name: "Access Modes", Type: "string", Description: pvSpecDoc["accessModes"]},
	{Name: "Reclaim Policy", Type: "string", Description: pvSpecDoc["persistentVolumeReclaimPolicy"]},
	{Name: "Status", Type: "string", Description: pvStatusDoc["phase"]},
	{Name: "Claim", Type: "string", Description: pvSpecDoc["claimRef"]},
	{Name: "StorageClass", Type: "string", Description: "StorageClass of the pv"},
	{Name: "VolumeAttributesClass", Type: "string", Description: "VolumeAttributesClass of the pv"},
	{Name: "Reason", Type: "string", Description: pvStatusDoc["reason"]},
	ageColumn,
	{Name: "VolumeMode", Type: "string", Priority: 1, Description: pvSpecDoc["volumeMode"]},
}

var persistentVolumeClaimColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Status", Type: "string", Description: pvcStatusDoc["phase"]},
	{Name: "Volume", Type: "string", Description: pvcSpecDoc["volumeName"]},
	{Name: "Capacity", Type: "string", Description: pvcStatusDoc["capacity"]},
	{Name: "Access Modes", Type: "string", Description: pvcStatusDoc["accessModes"]},
	{Name: "StorageClass", Type: "string", Description: "StorageClass of the pvc"},
	{Name: "VolumeAttributesClass", Type: "string", Description: "VolumeAttributesClass of the pvc"},
	ageColumn,
	{Name: "VolumeMode", Type: "string", Priority: 1, Description: pvcSpecDoc["volumeMode"]},
}

// betaStorageClassAnnotation names a volume's or claim's class ahead of
// spec.storageClassName, as it did before that field existed.
const betaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class"

// persistentVolumeCells is a volume's row: NAME, CAPACITY, ACCESS MODES,
// RECLAIM POLICY, STATUS, CLAIM, STORAGECLASS, VOLUMEATTRIBUTESCLASS,
// REASON, AGE, VOLUMEMODE.
func persistentVolumeCells(pv *corev1.PersistentVolume, now time.Time) []any {
	claim := ""
	if ref := pv.Spec.ClaimRef; ref != nil {
		claim = ref.Namespace + "/" + ref.Name
	}
	capacity := pv.Spec.Capacity[corev1.ResourceStorage] // "0" when unset, as kube prints it
	phase := string(pv.Status.Phase)
	if pv.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	class, ok := pv.Annotations[betaStorageClassAnnotation]
	if !ok {
		class = pv.Spec.StorageClassName
	}
	return []any{
		pv.Name,
		capacity.String(),
		accessModes(pv.Spec.AccessModes),
		string(pv.Spec.PersistentVolumeReclaimPolicy),
		phase,
		claim,
		class,
		stringOrUnset(pv.Spec.VolumeAttributesClassName),
		pv.Status.Reason,
		age(pv.CreationTimestamp, now),
		volumeMode(pv.Spec.VolumeMode),
	}
}

// persistentVolumeClaimCells is a claim's row: NAME, STATUS, VOLUME,
// CAPACITY, ACCESS MODES, STORAGECLASS, VOLUMEATTRIBUTESCLASS, AGE,
// VOLUMEMODE. Capacity and access modes are the bound volume's, blank until
// the claim names a volume.
func persistentVolumeClaimCells(pvc *corev1.PersistentVolumeClaim, now time.Time) []any {
	phase := string(pvc.Status.Phase)
	if pvc.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	capacity, modes := "", ""
	if pvc.Spec.VolumeName != "" {
		q := pvc.Status.Capacity[corev1.ResourceStorage]
		capacity = q.String()
		modes = accessModes(pvc.Status.AccessModes)
	}
	class, ok := pvc.Annotations[betaStorageClassAnnotation]
	if !ok && pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	return []any{
		pvc.Name,
		phase,
		pvc.Spec.VolumeName,
		capacity,
		modes,
		class,
		stringOrUnset(pvc.Spec.VolumeAttributesClassName),
		age(pvc.CreationTimestamp, now),
		volumeMode(pvc.Spec.VolumeMode),
	}
}

// volumeMode prints an optional volume mode, "<unset>" when absent.
func volumeMode(m *corev1.PersistentVolumeMode) string {
	if m == nil {
		return "<unset>"
	}
	return string(*m)
}

// stringOrUnset prints an optional string, "<unset>" when absent.
func stringOrUnset(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return *s
}
