package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shoalproject/shoal/workload"
)

// kindColumns are the columns kubectl's table shows for a kind, after NAME
// (events have no NAME column); wide adds -o wide's.
func kindColumns(kind string, wide bool) []string {
	switch kind {
	case "ConfigMap":
		return []string{"DATA", "AGE"}
	case "Secret":
		return []string{"TYPE", "DATA", "AGE"}
	case "Namespace":
		return []string{"STATUS", "AGE"}
	case "Pod":
		if wide {
			return []string{"READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"}
		}
		return []string{"READY", "STATUS", "RESTARTS", "AGE"}
	case "Node":
		if wide {
			return []string{"STATUS", "REGION", "ZONE", "AGE", "VERSION", "INTERNAL-IP", "POD-CIDR"}
		}
		return []string{"STATUS", "REGION", "ZONE", "AGE", "VERSION"}
	case "Event":
		return []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}
	case "Endpoints":
		return []string{"ENDPOINTS", "AGE"}
	case "PersistentVolume":
		return []string{"CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "AGE"}
	case "PersistentVolumeClaim":
		if wide {
			return []string{"STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "AGE", "VOLUMEMODE"}
		}
		return []string{"STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "AGE"}
	case "Service":
		if wide {
			return []string{"TYPE", "CLUSTER-IP", "PORT(S)", "AGE", "SELECTOR"}
		}
		return []string{"TYPE", "CLUSTER-IP", "PORT(S)", "AGE"}
	case "Deployment":
		if wide {
			return []string{"READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"}
		}
		return []string{"READY", "UP-TO-DATE", "AVAILABLE", "AGE"}
	case "ReplicaSet":
		if wide {
			return []string{"DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"}
		}
		return []string{"DESIRED", "CURRENT", "READY", "AGE"}
	}
	return []string{"AGE"}
}

// kindCells are one object's cells for kindColumns.
func kindCells(kind string, o map[string]any, wide bool, now time.Time) []string {
	age := ageOf(metaOf(o)["creationTimestamp"], now)
	switch kind {
	case "ConfigMap":
		data, _ := o["data"].(map[string]any)
		bin, _ := o["binaryData"].(map[string]any)
		return []string{fmt.Sprint(len(data) + len(bin)), age}
	case "Secret":
		data, _ := o["data"].(map[string]any)
		typ, _ := o["type"].(string)
		return []string{typ, fmt.Sprint(len(data)), age}
	case "Namespace":
		st, _ := o["status"].(map[string]any)
		return []string{fmt.Sprint(st["phase"]), age}
	case "Pod":
		var p workload.Pod
		if !typed(o, &p) {
			return []string{"?", "?", "?", age}
		}
		d := workload.PodDisplayStatus(&p)
		cells := []string{d.Ready(), d.Status, d.RestartsColumn(now), age}
		if wide {
			cells = append(cells, orNone(p.Status.PodIP), orNone(p.Spec.NodeName))
		}
		return cells
	case "Node":
		var n workload.Node
		if !typed(o, &n) {
			return []string{"?", "?", "?", age, "?"}
		}
		status := "NotReady"
		if workload.IsNodeReady(&n) {
			status = "Ready"
		}
		if n.Spec.Unschedulable {
			status += ",SchedulingDisabled"
		}
		cells := []string{status, orNone(n.ObjectMeta.Labels["topology.kubernetes.io/region"]), orNone(n.ObjectMeta.Labels["topology.kubernetes.io/zone"]),
			age, n.Status.NodeInfo.KubeletVersion}
		if wide {
			ip := "<none>"
			for _, a := range n.Status.Addresses {
				if a.Type == workload.NodeInternalIP {
					ip = a.Address
				}
			}
			cells = append(cells, ip, orNone(n.Spec.PodCIDR))
		}
		return cells
	case "Endpoints":
		var e workload.Endpoints
		if !typed(o, &e) {
			return []string{"?", age}
		}
		return []string{endpointsColumn(e), age}
	case "PersistentVolume":
		var v workload.PersistentVolume
		if !typed(o, &v) {
			return []string{"?", "?", "?", "?", "?", "?", age}
		}
		claim := ""
		if r := v.Spec.ClaimRef; r != nil {
			claim = r.Namespace + "/" + r.Name
		}
		return []string{storageOf(v.Spec.Capacity), accessModes(v.Spec.AccessModes), string(v.Spec.PersistentVolumeReclaimPolicy),
			string(v.Status.Phase), claim, v.Spec.StorageClassName, age}
	case "PersistentVolumeClaim":
		var c workload.PersistentVolumeClaim
		if !typed(o, &c) {
			return []string{"?", "?", "?", "?", "?", age}
		}
		cells := []string{string(c.Status.Phase), c.Spec.VolumeName, storageOf(c.Status.Capacity), accessModes(c.Status.AccessModes), workload.ClaimStorageClass(&c), age}
		if wide {
			mode := "Filesystem"
			if c.Spec.VolumeMode != nil {
				mode = string(*c.Spec.VolumeMode)
			}
			cells = append(cells, mode)
		}
		return cells
	case "Service":
		var s workload.Service
		if !typed(o, &s) {
			return []string{"?", "?", "?", age}
		}
		var ports []string
		for _, p := range s.Spec.Ports {
			if p.NodePort != 0 {
				ports = append(ports, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol))
			} else {
				ports = append(ports, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
			}
		}
		cells := []string{string(s.Spec.Type), orNone(s.Spec.ClusterIP), orNone(strings.Join(ports, ",")), age}
		if wide {
			cells = append(cells, orNone(workload.SelectorString(&workload.LabelSelector{MatchLabels: s.Spec.Selector})))
		}
		return cells
	case "Event":
		var e workload.Event
		if !typed(o, &e) {
			return []string{"?", "?", "?", "?", "?"}
		}
		seen := "<unknown>"
		if !e.LastTimestamp.IsZero() {
			seen = humanDuration(now.Sub(e.LastTimestamp.Time))
		}
		obj := strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name
		return []string{seen, string(e.Type), e.Reason, obj, e.Message}
	case "Deployment":
		var d workload.Deployment
		if !typed(o, &d) {
			return []string{"?", "?", "?", age}
		}
		cells := []string{fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicasOf(d.Spec.Replicas)), fmt.Sprint(d.Status.UpdatedReplicas), fmt.Sprint(d.Status.AvailableReplicas), age}
		if wide {
			cells = append(cells, templateColumns(d.Spec.Template, d.Spec.Selector)...)
		}
		return cells
	case "ReplicaSet":
		var r workload.ReplicaSet
		if !typed(o, &r) {
			return []string{"?", "?", "?", age}
		}
		cells := []string{fmt.Sprint(replicasOf(r.Spec.Replicas)), fmt.Sprint(r.Status.Replicas), fmt.Sprint(r.Status.ReadyReplicas), age}
		if wide {
			cells = append(cells, templateColumns(r.Spec.Template, r.Spec.Selector)...)
		}
		return cells
	}
	return []string{age}
}

// typed decodes a generic object into its Go type.
func typed(o map[string]any, into any) bool {
	b, err := json.Marshal(o)
	return err == nil && json.Unmarshal(b, into) == nil
}

func ageOf(ts any, now time.Time) string {
	if s, ok := ts.(string); ok {
		if at, err := time.Parse(time.RFC3339, s); err == nil {
			return humanDuration(now.Sub(at))
		}
	}
	return "<unknown>"
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func replicasOf(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// templateColumns are -o wide's CONTAINERS, IMAGES and SELECTOR.
func templateColumns(t workload.PodTemplateSpec, sel *workload.LabelSelector) []string {
	var names, images []string
	for _, c := range t.Spec.Containers {
		names = append(names, c.Name)
		images = append(images, c.Image)
	}
	return []string{strings.Join(names, ","), strings.Join(images, ","), workload.SelectorString(sel)}
}

// storageOf is a CAPACITY cell: the storage quantity, or "" (kubectl
// leaves an unbound claim's empty).
func storageOf(l workload.ResourceList) string {
	q, ok := l[workload.ResourceStorage]
	if !ok {
		return ""
	}
	return q.String()
}

// accessModes is an ACCESS MODES cell, kubectl's abbreviations in
// kubectl's order: "RWO,ROX".
func accessModes(modes []workload.PersistentVolumeAccessMode) string {
	short := map[workload.PersistentVolumeAccessMode]string{workload.ReadWriteOnce: "RWO", workload.ReadOnlyMany: "ROX",
		workload.ReadWriteMany: "RWX", workload.ReadWriteOncePod: "RWOP"}
	var out []string
	for _, m := range workload.AccessModes {
		if slices.Contains(modes, m) {
			out = append(out, short[m])
		}
	}
	return strings.Join(out, ",")
}

// endpointsColumn is kubectl's ENDPOINTS: the ready IP:port pairs, the
// first three and "+ N more...".
func endpointsColumn(e workload.Endpoints) string {
	var all []string
	for _, s := range e.Subsets {
		for _, a := range s.Addresses {
			for _, p := range s.Ports {
				all = append(all, fmt.Sprintf("%s:%d", a.IP, p.Port))
			}
		}
	}
	switch {
	case len(all) == 0:
		return "<none>"
	case len(all) > 3:
		return strings.Join(all[:3], ",") + fmt.Sprintf(" + %d more...", len(all)-3)
	}
	return strings.Join(all, ",")
}
