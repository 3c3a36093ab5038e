package printers

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ErrNotTabular is returned for an object that cannot be a table row: a
// list, a nil object, or one with no object metadata. kube-apiserver answers
// such a Table request with 406 Not Acceptable.
var ErrNotTabular = errors.New("object cannot be converted to a table row")

// columnsByKind are the kinds that have their own printer in kube-apiserver
// and here. Every other kind prints with genericColumns.
var columnsByKind = map[schema.GroupKind][]metav1.TableColumnDefinition{
	{Kind: "Pod"}:                                       podColumns,
	{Kind: "Node"}:                                      nodeColumns,
	{Kind: "Namespace"}:                                 namespaceColumns,
	{Kind: "ConfigMap"}:                                 configMapColumns,
	{Kind: "Secret"}:                                    secretColumns,
	{Kind: "Service"}:                                   serviceColumns,
	{Kind: "Endpoints"}:                                 endpointsColumns,
	{Kind: "Event"}:                                     eventColumns,
	{Kind: "PersistentVolume"}:                          persistentVolumeColumns,
	{Kind: "PersistentVolumeClaim"}:                     persistentVolumeClaimColumns,
	{Group: "apps", Kind: "Deployment"}:                 deploymentColumns,
	{Group: "apps", Kind: "ReplicaSet"}:                 replicaSetColumns,
	{Group: "apps", Kind: "StatefulSet"}:                statefulSetColumns,
	{Group: "apps", Kind: "DaemonSet"}:                  daemonSetColumns,
	{Group: "batch", Kind: "Job"}:                       jobColumns,
	{Group: "batch", Kind: "CronJob"}:                   cronJobColumns,
	{Group: "coordination.k8s.io", Kind: "Lease"}:       leaseColumns,
	{Kind: "ServiceAccount"}:                            serviceAccountColumns,
	{Kind: "ResourceQuota"}:                             resourceQuotaColumns,
	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}: priorityClassColumns,
	{Group: "discovery.k8s.io", Kind: "EndpointSlice"}:  endpointSliceColumns,
}

// Columns returns the column definitions of a kind's table, in cell order,
// as kube-apiserver gives them (the `-o wide` ones have Priority 1). A kind
// without a printer gets the default "Name", "Created At" table. The slice
// is the caller's to keep or change.
func Columns(gk schema.GroupKind) []metav1.TableColumnDefinition {
	if cols, ok := columnsByKind[gk]; ok {
		return slices.Clone(cols)
	}
	return slices.Clone(genericColumns)
}

// Cells returns one object's cells, in the order of its kind's Columns, with
// ages and durations measured to now. It fails with ErrNotTabular for an
// object that has no object metadata.
func Cells(obj runtime.Object, now time.Time) ([]any, error) {
	row, err := Row(obj, now)
	return row.Cells, err
}

// Row returns one object's table row: its Cells and the row conditions kube
// attaches to it (RowCompleted for a pod that Succeeded or Failed).
// Row.Object is left empty for the caller to fill as the request's
// includeObject asks.
//
// The printer is chosen by the object's Go type (*corev1.Pod, ...), so
// Columns(gk) matches only when obj is the typed object of kind gk; an
// Unstructured or any other type with object metadata gets the default
// table's cells.
func Row(obj runtime.Object, now time.Time) (metav1.TableRow, error) {
	if isNil(obj) {
		return metav1.TableRow{}, fmt.Errorf("nil object: %w", ErrNotTabular)
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		return metav1.TableRow{Cells: podCells(o, now), Conditions: podConditions(o)}, nil
	case *corev1.Node:
		return metav1.TableRow{Cells: nodeCells(o, now)}, nil
	case *corev1.Namespace:
		return metav1.TableRow{Cells: namespaceCells(o, now)}, nil
	case *corev1.ConfigMap:
		return metav1.TableRow{Cells: configMapCells(o, now)}, nil
	case *corev1.Secret:
		return metav1.TableRow{Cells: secretCells(o, now)}, nil
	case *corev1.Service:
		return metav1.TableRow{Cells: serviceCells(o, now)}, nil
	case *corev1.Endpoints:
		return metav1.TableRow{Cells: endpointsCells(o, now)}, nil
	case *corev1.Event:
		return metav1.TableRow{Cells: eventCells(o, now)}, nil
	case *corev1.PersistentVolume:
		return metav1.TableRow{Cells: persistentVolumeCells(o, now)}, nil
	case *corev1.PersistentVolumeClaim:
		return metav1.TableRow{Cells: persistentVolumeClaimCells(o, now)}, nil
	case *appsv1.Deployment:
		return metav1.TableRow{Cells: deploymentCells(o, now)}, nil
	case *appsv1.ReplicaSet:
		return metav1.TableRow{Cells: replicaSetCells(o, now)}, nil
	case *appsv1.StatefulSet:
		return metav1.TableRow{Cells: statefulSetCells(o, now)}, nil
	case *appsv1.DaemonSet:
		return metav1.TableRow{Cells: daemonSetCells(o, now)}, nil
	case *batchv1.Job:
		return metav1.TableRow{Cells: jobCells(o, now)}, nil
	case *batchv1.CronJob:
		return metav1.TableRow{Cells: cronJobCells(o, now)}, nil
	case *coordinationv1.Lease:
		return metav1.TableRow{Cells: leaseCells(o, now)}, nil
	case *corev1.ServiceAccount:
		return metav1.TableRow{Cells: serviceAccountCells(o, now)}, nil
	case *corev1.ResourceQuota:
		return metav1.TableRow{Cells: resourceQuotaCells(o, now)}, nil
	case *schedulingv1.PriorityClass:
		return metav1.TableRow{Cells: priorityClassCells(o, now)}, nil
	case *discoveryv1.EndpointSlice:
		return metav1.TableRow{Cells: endpointSliceCells(o, now)}, nil
	}
	if meta.IsListType(obj) {
		return metav1.TableRow{}, fmt.Errorf("%T is a list, print its items: %w", obj, ErrNotTabular)
	}
	cells, err := genericCells(obj)
	if err != nil {
		return metav1.TableRow{}, err
	}
	return metav1.TableRow{Cells: cells}, nil
}

// isNil reports whether obj is nil or a typed nil pointer.
func isNil(obj runtime.Object) bool {
	if obj == nil {
		return true
	}
	v := reflect.ValueOf(obj)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
