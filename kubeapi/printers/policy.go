package printers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var serviceAccountColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Secrets", Type: "string", Description: corev1.ServiceAccount{}.SwaggerDoc()["secrets"]},
	ageColumn,
}

// serviceAccountCells is a service account's row: NAME, SECRETS, AGE.
func serviceAccountCells(sa *corev1.ServiceAccount, now time.Time) []any {
	return []any{sa.Name, int64(len(sa.Secrets)), age(sa.CreationTimestamp, now)}
}

var resourceQuotaColumns = []metav1.TableColumnDefinition{
	nameColumn,
	ageColumn,
	{Name: "Request", Type: "string", Description: "Request represents a minimum amount of cpu/memory that a container may consume."},
	{Name: "Limit", Type: "string", Description: "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."},
}

// resourceQuotaCells is a quota's row: NAME, AGE, REQUEST, LIMIT, the last
// two "name: used/hard" for each resource of status.hard, limits.* in
// LIMIT and the rest in REQUEST.
func resourceQuotaCells(q *corev1.ResourceQuota, now time.Time) []any {
	names := make([]corev1.ResourceName, 0, len(q.Status.Hard))
	for n := range q.Status.Hard {
		names = append(names, n)
	}
	slices.Sort(names)
	var request, limit []string
	for _, n := range names {
		used, hard := q.Status.Used[n], q.Status.Hard[n]
		cell := fmt.Sprintf("%s: %s/%s", n, used.String(), hard.String())
		if strings.HasPrefix(string(n), "limits.") {
			limit = append(limit, cell)
		} else {
			request = append(request, cell)
		}
	}
	return []any{q.Name, age(q.CreationTimestamp, now), strings.Join(request, ", "), strings.Join(limit, ", ")}
}

var priorityClassColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Value", Type: "integer", Description: schedulingv1.PriorityClass{}.SwaggerDoc()["value"]},
	{Name: "Global-Default", Type: "boolean", Description: schedulingv1.PriorityClass{}.SwaggerDoc()["globalDefault"]},
	ageColumn,
	{Name: "PreemptionPolicy", Type: "string", Description: schedulingv1.PriorityClass{}.SwaggerDoc()["preemptionPolicy"]},
}

// priorityClassCells is a priority class's row: NAME, VALUE,
// GLOBAL-DEFAULT, AGE, PREEMPTIONPOLICY.
func priorityClassCells(pc *schedulingv1.PriorityClass, now time.Time) []any {
	policy := ""
	if pc.PreemptionPolicy != nil {
		policy = string(*pc.PreemptionPolicy)
	}
	return []any{pc.Name, int64(pc.Value), pc.GlobalDefault, age(pc.CreationTimestamp, now), policy}
}

var endpointSliceColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "AddressType", Type: "string", Description: discoveryv1.EndpointSlice{}.SwaggerDoc()["addressType"]},
	{Name: "Ports", Type: "string", Description: discoveryv1.EndpointSlice{}.SwaggerDoc()["ports"]},
	{Name: "Endpoints", Type: "string", Description: discoveryv1.EndpointSlice{}.SwaggerDoc()["endpoints"]},
	ageColumn,
}

// endpointSliceCells is a slice's row: NAME, ADDRESSTYPE, PORTS,
// ENDPOINTS, AGE; the lists show three entries and a count of the rest.
func endpointSliceCells(s *discoveryv1.EndpointSlice, now time.Time) []any {
	var ports []string
	for _, p := range s.Ports {
		switch {
		case p.Port != nil:
			ports = append(ports, strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			ports = append(ports, *p.Name)
		default:
			ports = append(ports, "*")
		}
	}
	var addrs []string
	for _, e := range s.Endpoints {
		addrs = append(addrs, e.Addresses...)
	}
	return []any{s.Name, string(s.AddressType), firstThree(ports), firstThree(addrs), age(s.CreationTimestamp, now)}
}

// firstThree lists up to maxEndpoints entries and "+ N more..." for the
// rest, "<unset>" for none, as kube's EndpointSlice printer does.
func firstThree(list []string) string {
	if len(list) == 0 {
		return "<unset>"
	}
	if len(list) > maxEndpoints {
		return fmt.Sprintf("%s + %d more...", strings.Join(list[:maxEndpoints], ","), len(list)-maxEndpoints)
	}
	return strings.Join(list, ",")
}
