package kubeapi_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The kinds charts and tools assume a cluster has: ServiceAccount,
// LimitRange, ResourceQuota, PriorityClass and EndpointSlice, created and
// read back with client-go (protobuf), with kube-apiserver's defaults and
// refusals.
func TestClientGoPolicyKinds(t *testing.T) {
	cs, _ := newAPI(t)
	ctx := context.Background()
	mk := metav1.CreateOptions{}

	sa, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "app"}}, mk)
	if err != nil || sa.UID == "" {
		t.Fatalf("serviceaccount: %+v, %v", sa, err)
	}

	lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "limits"}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer,
		Max:  corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
		Min:  corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
	}}}}
	got, err := cs.CoreV1().LimitRanges("default").Create(ctx, lr, mk)
	if err != nil {
		t.Fatal(err)
	}
	// As Kubernetes defaults a Container item: default limit the max,
	// default request the default limit.
	item := got.Spec.Limits[0]
	if d, r := item.Default[corev1.ResourceCPU], item.DefaultRequest[corev1.ResourceCPU]; d.String() != "2" || r.String() != "2" {
		t.Errorf("defaulted item: default %s, defaultRequest %s; want 2 and 2", d.String(), r.String())
	}
	bad := lr.DeepCopy()
	bad.Name = "bad"
	bad.Spec.Limits[0].Min[corev1.ResourceCPU] = resource.MustParse("3")
	if _, err := cs.CoreV1().LimitRanges("default").Create(ctx, bad, mk); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.limits[0].min[cpu]: Invalid value: \"3\": min value 3 is greater than max value 2") {
		t.Errorf("min over max: %v", err)
	}

	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "compute"}, Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"pods": resource.MustParse("10"), "requests.cpu": resource.MustParse("4")}}}
	if _, err := cs.CoreV1().ResourceQuotas("default").Create(ctx, q, mk); err != nil {
		t.Fatal(err)
	}

	pc, err := cs.SchedulingV1().PriorityClasses().Create(ctx, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000}, mk)
	if err != nil || pc.PreemptionPolicy == nil || *pc.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Fatalf("priorityclass: %+v, %v", pc, err)
	}
	if _, err := cs.SchedulingV1().PriorityClasses().Create(ctx, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "huge"}, Value: 2000000000}, mk); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "maximum allowed value of a user defined priority is 1000000000") {
		t.Errorf("over the user maximum: %v", err)
	}

	port, proto := int32(80), corev1.ProtocolTCP
	es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "web-abc"}, AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.1.2.3"}}}, Ports: []discoveryv1.EndpointPort{{Port: &port, Protocol: &proto}}}
	if _, err := cs.DiscoveryV1().EndpointSlices("default").Create(ctx, es, mk); err != nil {
		t.Fatal(err)
	}
	es.Name, es.Endpoints[0].Addresses = "bad", []string{"not-an-ip"}
	if _, err := cs.DiscoveryV1().EndpointSlices("default").Create(ctx, es, mk); !apierrors.IsInvalid(err) {
		t.Errorf("a slice with a bad address: %v", err)
	}
}
