package printers

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// col is a column as kube's AddHandlers declares it. Priority 1 marks the
// `-o wide` columns.
type col struct {
	name, typ, format string
	priority          int32
	description       string
}

func strCol(name, description string) col {
	return col{name: name, typ: "string", description: description}
}
func intCol(name, description string) col {
	return col{name: name, typ: "integer", description: description}
}
func boolCol(name, description string) col {
	return col{name: name, typ: "boolean", description: description}
}
func nameCol(description string) col {
	return col{name: "Name", typ: "string", format: "name", description: description}
}
func wide(c col) col { c.priority = 1; return c }

// kubeColumns are kube-apiserver's column definitions for each kind, as
// pkg/printers/internalversion/printers.go (v1.37 era) declares them, the
// descriptions taken from the same API documentation it takes them from.
func kubeColumns() map[schema.GroupKind][]col {
	om := metav1.ObjectMeta{}.SwaggerDoc()
	name, age := nameCol(om["name"]), strCol("Age", om["creationTimestamp"])
	containers := wide(strCol("Containers", "Names of each container in the template."))
	images := wide(strCol("Images", "Images referenced by each container in the template."))
	podStatus, podSpec := corev1.PodStatus{}.SwaggerDoc(), corev1.PodSpec{}.SwaggerDoc()
	nodeStatus, sysInfo := corev1.NodeStatus{}.SwaggerDoc(), corev1.NodeSystemInfo{}.SwaggerDoc()
	event := corev1.Event{}.SwaggerDoc()
	svc := corev1.ServiceSpec{}.SwaggerDoc()
	pvSpec, pvStatus := corev1.PersistentVolumeSpec{}.SwaggerDoc(), corev1.PersistentVolumeStatus{}.SwaggerDoc()
	pvcSpec, pvcStatus := corev1.PersistentVolumeClaimSpec{}.SwaggerDoc(), corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()
	rsSpec, rsStatus := appsv1.ReplicaSetSpec{}.SwaggerDoc(), appsv1.ReplicaSetStatus{}.SwaggerDoc()
	dsStatus := appsv1.DaemonSetStatus{}.SwaggerDoc()
	cjSpec, cjStatus := batchv1.CronJobSpec{}.SwaggerDoc(), batchv1.CronJobStatus{}.SwaggerDoc()

	return map[schema.GroupKind][]col{
		{Kind: "Pod"}: {
			name,
			strCol("Ready", "The aggregate readiness state of this pod for accepting traffic."),
			strCol("Status", "The aggregate status of the containers in this pod."),
			strCol("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
			age,
			wide(strCol("IP", podStatus["podIP"])),
			wide(strCol("Node", podSpec["nodeName"])),
			wide(strCol("Nominated Node", podStatus["nominatedNodeName"])),
			wide(strCol("Readiness Gates", podSpec["readinessGates"])),
		},
		{Kind: "Node"}: {
			name,
			strCol("Status", "The status of the node"),
			strCol("Roles", "The roles of the node"),
			age,
			strCol("Version", sysInfo["kubeletVersion"]),
			wide(strCol("Internal-IP", nodeStatus["addresses"])),
			wide(strCol("External-IP", nodeStatus["addresses"])),
			wide(strCol("OS-Image", sysInfo["osImage"])),
			wide(strCol("Kernel-Version", sysInfo["kernelVersion"])),
			wide(strCol("Container-Runtime", sysInfo["containerRuntimeVersion"])),
		},
		{Kind: "Namespace"}: {name, strCol("Status", "The status of the namespace"), age},
		{Kind: "ConfigMap"}: {name, strCol("Data", corev1.ConfigMap{}.SwaggerDoc()["data"]), age},
		{Kind: "Secret"}: {
			name,
			strCol("Type", corev1.Secret{}.SwaggerDoc()["type"]),
			strCol("Data", corev1.Secret{}.SwaggerDoc()["data"]),
			age,
		},
		{Kind: "Service"}: {
			name,
			strCol("Type", svc["type"]),
			strCol("Cluster-IP", svc["clusterIP"]),
			strCol("External-IP", svc["externalIPs"]),
			strCol("Port(s)", svc["ports"]),
			age,
			wide(strCol("Selector", svc["selector"])),
		},
		{Kind: "Endpoints"}: {name, strCol("Endpoints", corev1.Endpoints{}.SwaggerDoc()["subsets"]), age},
		{Kind: "Event"}: {
			strCol("Last Seen", event["lastTimestamp"]),
			strCol("Type", event["type"]),
			strCol("Reason", event["reason"]),
			strCol("Object", event["involvedObject"]),
			wide(strCol("Subobject", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"])),
			wide(strCol("Source", event["source"])),
			strCol("Message", event["message"]),
			wide(strCol("First Seen", event["firstTimestamp"])),
			wide(strCol("Count", event["count"])),
			wide(nameCol(om["name"])),
		},
		{Kind: "PersistentVolume"}: {
			name,
			strCol("Capacity", pvSpec["capacity"]),
			strCol("Access Modes", pvSpec["accessModes"]),
			strCol("Reclaim Policy", pvSpec["persistentVolumeReclaimPolicy"]),
			strCol("Status", pvStatus["phase"]),
			strCol("Claim", pvSpec["claimRef"]),
			strCol("StorageClass", "StorageClass of the pv"),
			strCol("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
			strCol("Reason", pvStatus["reason"]),
			age,
			wide(strCol("VolumeMode", pvSpec["volumeMode"])),
		},
		{Kind: "PersistentVolumeClaim"}: {
			name,
			strCol("Status", pvcStatus["phase"]),
			strCol("Volume", pvcSpec["volumeName"]),
			strCol("Capacity", pvcStatus["capacity"]),
			strCol("Access Modes", pvcStatus["accessModes"]),
			strCol("StorageClass", "StorageClass of the pvc"),
			strCol("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
			age,
			wide(strCol("VolumeMode", pvcSpec["volumeMode"])),
		},
		{Group: "apps", Kind: "Deployment"}: {
			name,
			strCol("Ready", "Number of the pod with ready state"),
			strCol("Up-to-date", appsv1.DeploymentStatus{}.SwaggerDoc()["updatedReplicas"]),
			strCol("Available", appsv1.DeploymentStatus{}.SwaggerDoc()["availableReplicas"]),
			age, containers, images,
			wide(strCol("Selector", appsv1.DeploymentSpec{}.SwaggerDoc()["selector"])),
		},
		{Group: "apps", Kind: "ReplicaSet"}: {
			name,
			intCol("Desired", rsSpec["replicas"]),
			intCol("Current", rsStatus["replicas"]),
			intCol("Ready", rsStatus["readyReplicas"]),
			age, containers, images,
			wide(strCol("Selector", rsSpec["selector"])),
		},
		{Group: "apps", Kind: "StatefulSet"}: {
			name, strCol("Ready", "Number of the pod with ready state"), age, containers, images,
		},
		{Group: "apps", Kind: "DaemonSet"}: {
			name,
			intCol("Desired", dsStatus["desiredNumberScheduled"]),
			intCol("Current", dsStatus["currentNumberScheduled"]),
			intCol("Ready", dsStatus["numberReady"]),
			intCol("Up-to-date", dsStatus["updatedNumberScheduled"]),
			intCol("Available", dsStatus["numberAvailable"]),
			strCol("Node Selector", corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]),
			age, containers, images,
			wide(strCol("Selector", appsv1.DaemonSetSpec{}.SwaggerDoc()["selector"])),
		},
		{Group: "batch", Kind: "Job"}: {
			name,
			strCol("Status", "Status of the job."),
			strCol("Completions", batchv1.JobStatus{}.SwaggerDoc()["succeeded"]),
			strCol("Duration", "Time required to complete the job."),
			age, containers, images,
			wide(strCol("Selector", batchv1.JobSpec{}.SwaggerDoc()["selector"])),
		},
		{Group: "batch", Kind: "CronJob"}: {
			name,
			strCol("Schedule", cjSpec["schedule"]),
			strCol("Timezone", cjSpec["timeZone"]),
			boolCol("Suspend", cjSpec["suspend"]),
			intCol("Active", cjStatus["active"]),
			strCol("Last Schedule", cjStatus["lastScheduleTime"]),
			age, containers, images,
			wide(strCol("Selector", batchv1.JobSpec{}.SwaggerDoc()["selector"])),
		},
		{Group: "coordination.k8s.io", Kind: "Lease"}: {
			name, strCol("Holder", coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]), age,
		},
		{Kind: "ServiceAccount"}: {
			name, strCol("Secrets", corev1.ServiceAccount{}.SwaggerDoc()["secrets"]), age,
		},
		{Kind: "ResourceQuota"}: {
			name, age,
			strCol("Request", "Request represents a minimum amount of cpu/memory that a container may consume."),
			strCol("Limit", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
		},
		{Group: "scheduling.k8s.io", Kind: "PriorityClass"}: {
			name, intCol("Value", schedulingv1.PriorityClass{}.SwaggerDoc()["value"]),
			boolCol("Global-Default", schedulingv1.PriorityClass{}.SwaggerDoc()["globalDefault"]), age,
			strCol("PreemptionPolicy", schedulingv1.PriorityClass{}.SwaggerDoc()["preemptionPolicy"]),
		},
		{Group: "discovery.k8s.io", Kind: "EndpointSlice"}: {
			name, strCol("AddressType", discoveryv1.EndpointSlice{}.SwaggerDoc()["addressType"]),
			strCol("Ports", discoveryv1.EndpointSlice{}.SwaggerDoc()["ports"]),
			strCol("Endpoints", discoveryv1.EndpointSlice{}.SwaggerDoc()["endpoints"]), age,
		},
	}
}

func TestColumnsAreKubes(t *testing.T) {
	for gk, want := range kubeColumns() {
		t.Run(gk.String(), func(t *testing.T) {
			got := Columns(gk)
			if len(got) != len(want) {
				t.Fatalf("%d columns, want %d: %v", len(got), len(want), columnNames(got))
			}
			for n, w := range want {
				g := got[n]
				if g.Name != w.name || g.Type != w.typ || g.Format != w.format || g.Priority != w.priority {
					t.Errorf("column %d = {%q %q %q %d}, want {%q %q %q %d}", n, g.Name, g.Type, g.Format, g.Priority, w.name, w.typ, w.format, w.priority)
				}
				if w.description == "" {
					t.Errorf("column %q: the API documents nothing under the key kube reads", w.name)
				}
				if g.Description != w.description {
					t.Errorf("column %q description = %q, want %q", w.name, g.Description, w.description)
				}
			}
		})
	}
	if n, want := len(columnsByKind), len(kubeColumns()); n != want {
		t.Errorf("%d kinds have printers, the test knows %d", n, want)
	}
}

func TestColumnsAreTheCallersToChange(t *testing.T) {
	gk := schema.GroupKind{Kind: "Pod"}
	Columns(gk)[0].Name = "changed"
	if got := Columns(gk)[0].Name; got != "Name" {
		t.Errorf("after changing a returned slice, Columns gives %q", got)
	}
	Columns(schema.GroupKind{Kind: "Unknown"})[1].Type = "string"
	if got := Columns(schema.GroupKind{Kind: "Unknown"})[1].Type; got != "date" {
		t.Errorf("after changing a returned default table, Columns gives type %q", got)
	}
}

// TestCellsMatchColumns checks, for every kind, that an object's row has a
// cell per column, that the object's type is the kind whose columns are
// used, and that integer columns carry int64 as kube's do.
func TestCellsMatchColumns(t *testing.T) {
	objects := map[schema.GroupKind]runtime.Object{
		{Kind: "Pod"}:                                       &corev1.Pod{},
		{Kind: "Node"}:                                      &corev1.Node{},
		{Kind: "Namespace"}:                                 &corev1.Namespace{},
		{Kind: "ConfigMap"}:                                 &corev1.ConfigMap{},
		{Kind: "Secret"}:                                    &corev1.Secret{},
		{Kind: "Service"}:                                   &corev1.Service{},
		{Kind: "Endpoints"}:                                 &corev1.Endpoints{},
		{Kind: "Event"}:                                     &corev1.Event{},
		{Kind: "PersistentVolume"}:                          &corev1.PersistentVolume{},
		{Kind: "PersistentVolumeClaim"}:                     &corev1.PersistentVolumeClaim{},
		{Group: "apps", Kind: "Deployment"}:                 &appsv1.Deployment{},
		{Group: "apps", Kind: "ReplicaSet"}:                 &appsv1.ReplicaSet{},
		{Group: "apps", Kind: "StatefulSet"}:                &appsv1.StatefulSet{},
		{Group: "apps", Kind: "DaemonSet"}:                  &appsv1.DaemonSet{},
		{Group: "batch", Kind: "Job"}:                       &batchv1.Job{},
		{Group: "batch", Kind: "CronJob"}:                   &batchv1.CronJob{},
		{Group: "coordination.k8s.io", Kind: "Lease"}:       &coordinationv1.Lease{},
		{Kind: "ServiceAccount"}:                            &corev1.ServiceAccount{},
		{Kind: "ResourceQuota"}:                             &corev1.ResourceQuota{},
		{Group: "scheduling.k8s.io", Kind: "PriorityClass"}: &schedulingv1.PriorityClass{},
		{Group: "discovery.k8s.io", Kind: "EndpointSlice"}:  &discoveryv1.EndpointSlice{},
	}
	// Columns kube declares strings and fills with int64.
	int64Strings := map[string]bool{"Deployment/Up-to-date": true, "Deployment/Available": true, "ConfigMap/Data": true, "Secret/Data": true, "Event/Count": true, "ServiceAccount/Secrets": true}
	for gk, obj := range objects {
		t.Run(gk.String(), func(t *testing.T) {
			cols := Columns(gk)
			cells, err := Cells(obj, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(cells) != len(cols) {
				t.Fatalf("%d cells for %d columns %v: %#v", len(cells), len(cols), columnNames(cols), cells)
			}
			for n, c := range cols {
				_, isInt := cells[n].(int64)
				_, isString := cells[n].(string)
				_, isBool := cells[n].(bool)
				switch {
				case c.Type == "boolean" && (isBool || isString):
					// PriorityClass sends a bool, CronJob "True"/"False".
				case c.Type == "integer" && !isInt:
					t.Errorf("integer column %q holds %T", c.Name, cells[n])
				case c.Type != "integer" && int64Strings[gk.Kind+"/"+c.Name] && !isInt:
					t.Errorf("column %q holds %T, kube sends int64", c.Name, cells[n])
				case c.Type != "integer" && !int64Strings[gk.Kind+"/"+c.Name] && !isString:
					t.Errorf("column %q holds %T, kube sends a string", c.Name, cells[n])
				}
			}
		})
	}
}

func columnNames(cols []metav1.TableColumnDefinition) []string {
	names := make([]string, len(cols))
	for n, c := range cols {
		names[n] = fmt.Sprintf("%s(%d)", c.Name, c.Priority)
	}
	return names
}
