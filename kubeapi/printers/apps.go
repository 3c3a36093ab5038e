package printers

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

var (
	deploymentSpecDoc   = appsv1.DeploymentSpec{}.SwaggerDoc()
	deploymentStatusDoc = appsv1.DeploymentStatus{}.SwaggerDoc()
	replicaSetSpecDoc   = appsv1.ReplicaSetSpec{}.SwaggerDoc()
	replicaSetStatusDoc = appsv1.ReplicaSetStatus{}.SwaggerDoc()
	daemonSetStatusDoc  = appsv1.DaemonSetStatus{}.SwaggerDoc()
)

// kube declares a deployment's UP-TO-DATE and AVAILABLE as strings and
// sends int64s in them; kubectl prints either.
var deploymentColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Ready", Type: "string", Description: "Number of the pod with ready state"},
	{Name: "Up-to-date", Type: "string", Description: deploymentStatusDoc["updatedReplicas"]},
	{Name: "Available", Type: "string", Description: deploymentStatusDoc["availableReplicas"]},
	ageColumn,
	containersColumn,
	imagesColumn,
	{Name: "Selector", Type: "string", Priority: 1, Description: deploymentSpecDoc["selector"]},
}

var replicaSetColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Desired", Type: "integer", Description: replicaSetSpecDoc["replicas"]},
	{Name: "Current", Type: "integer", Description: replicaSetStatusDoc["replicas"]},
	{Name: "Ready", Type: "integer", Description: replicaSetStatusDoc["readyReplicas"]},
	ageColumn,
	containersColumn,
	imagesColumn,
	{Name: "Selector", Type: "string", Priority: 1, Description: replicaSetSpecDoc["selector"]},
}

var statefulSetColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Ready", Type: "string", Description: "Number of the pod with ready state"},
	ageColumn,
	containersColumn,
	imagesColumn,
}

var daemonSetColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Desired", Type: "integer", Description: daemonSetStatusDoc["desiredNumberScheduled"]},
	{Name: "Current", Type: "integer", Description: daemonSetStatusDoc["currentNumberScheduled"]},
	{Name: "Ready", Type: "integer", Description: daemonSetStatusDoc["numberReady"]},
	{Name: "Up-to-date", Type: "integer", Description: daemonSetStatusDoc["updatedNumberScheduled"]},
	{Name: "Available", Type: "integer", Description: daemonSetStatusDoc["numberAvailable"]},
	{Name: "Node Selector", Type: "string", Description: corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]},
	ageColumn,
	containersColumn,
	imagesColumn,
	{Name: "Selector", Type: "string", Priority: 1, Description: appsv1.DaemonSetSpec{}.SwaggerDoc()["selector"]},
}

// deploymentCells is a deployment's row: NAME, READY ("ready/desired"),
// UP-TO-DATE, AVAILABLE, AGE, CONTAINERS, IMAGES, SELECTOR.
func deploymentCells(d *appsv1.Deployment, now time.Time) []any {
	names, images := containerCells(d.Spec.Template.Spec.Containers)
	// Unlike the other workloads, a deployment prints its selector bare:
	// "" (not "<none>") when it has none, "<invalid>" when it cannot parse.
	selector := "<invalid>"
	if s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil {
		selector = s.String()
	}
	return []any{
		d.Name,
		fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas)),
		int64(d.Status.UpdatedReplicas),
		int64(d.Status.AvailableReplicas),
		age(d.CreationTimestamp, now),
		names,
		images,
		selector,
	}
}

// replicaSetCells is a replica set's row: NAME, DESIRED, CURRENT, READY,
// AGE, CONTAINERS, IMAGES, SELECTOR.
func replicaSetCells(rs *appsv1.ReplicaSet, now time.Time) []any {
	names, images := containerCells(rs.Spec.Template.Spec.Containers)
	return []any{
		rs.Name,
		replicas(rs.Spec.Replicas),
		int64(rs.Status.Replicas),
		int64(rs.Status.ReadyReplicas),
		age(rs.CreationTimestamp, now),
		names,
		images,
		metav1.FormatLabelSelector(rs.Spec.Selector),
	}
}

// statefulSetCells is a stateful set's row: NAME, READY ("ready/desired"),
// AGE, CONTAINERS, IMAGES.
func statefulSetCells(ss *appsv1.StatefulSet, now time.Time) []any {
	names, images := containerCells(ss.Spec.Template.Spec.Containers)
	return []any{
		ss.Name,
		fmt.Sprintf("%d/%d", ss.Status.ReadyReplicas, replicas(ss.Spec.Replicas)),
		age(ss.CreationTimestamp, now),
		names,
		images,
	}
}

// daemonSetCells is a daemon set's row: NAME, DESIRED, CURRENT, READY,
// UP-TO-DATE, AVAILABLE, NODE SELECTOR, AGE, CONTAINERS, IMAGES, SELECTOR.
func daemonSetCells(ds *appsv1.DaemonSet, now time.Time) []any {
	names, images := containerCells(ds.Spec.Template.Spec.Containers)
	return []any{
		ds.Name,
		int64(ds.Status.DesiredNumberScheduled),
		int64(ds.Status.CurrentNumberScheduled),
		int64(ds.Status.NumberReady),
		int64(ds.Status.UpdatedNumberScheduled),
		int64(ds.Status.NumberAvailable),
		labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector),
		age(ds.CreationTimestamp, now),
		names,
		images,
		metav1.FormatLabelSelector(ds.Spec.Selector),
	}
}
