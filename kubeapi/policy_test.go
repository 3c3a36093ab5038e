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

// Admission on create, as kube-apiserver's plugins: a LimitRange's
// defaults land in a new pod (and its bounds refuse one), a PriorityClass
// gives the pod its priority, and a ResourceQuota refuses what goes over
// it with 403 Forbidden in Kubernetes' words, charging what it admits.
func TestClientGoAdmission(t *testing.T) {
	cs, _ := newAPI(t)
	ctx := context.Background()
	mk := metav1.CreateOptions{}
	lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "limits"}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer, Max: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
		DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m")},
	}}}}
	if _, err := cs.CoreV1().LimitRanges("default").Create(ctx, lr, mk); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.SchedulingV1().PriorityClasses().Create(ctx, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000}, mk); err != nil {
		t.Fatal(err)
	}
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "compute"}, Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"pods": resource.MustParse("1")}}}
	if _, err := cs.CoreV1().ResourceQuotas("default").Create(ctx, q, mk); err != nil {
		t.Fatal(err)
	}
	pod := func(name string, cpuLimit string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{PriorityClassName: "high",
			Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}}
		if cpuLimit != "" {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuLimit)}
		}
		return p
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod("big", "2"), mk); !apierrors.IsForbidden(err) ||
		err.Error() != `pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2` {
		t.Errorf("over the LimitRange: %v", err)
	}
	got, err := cs.CoreV1().Pods("default").Create(ctx, pod("web", ""), mk)
	if err != nil {
		t.Fatal(err)
	}
	r := got.Spec.Containers[0].Resources
	if l, req := r.Limits[corev1.ResourceCPU], r.Requests[corev1.ResourceCPU]; l.String() != "1" || req.String() != "200m" {
		t.Errorf("defaults: limit %s request %s, want 1 and 200m", l.String(), req.String())
	}
	if got.Spec.Priority == nil || *got.Spec.Priority != 1000 {
		t.Errorf("priority %v, want 1000 from class high", got.Spec.Priority)
	}
	if cur, _ := cs.CoreV1().ResourceQuotas("default").Get(ctx, "compute", metav1.GetOptions{}); cur.Status.Used.Pods().String() != "1" {
		t.Errorf("quota used %v, want pods 1", cur.Status.Used)
	}
	_, err = cs.CoreV1().Pods("default").Create(ctx, pod("web2", ""), mk)
	want := `pods "web2" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=1, limited: pods=1`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("over the quota: %v\nwant %s", err, want)
	}
	p3 := pod("other", "")
	p3.Spec.PriorityClassName = "missing"
	if _, err := cs.CoreV1().Pods("default").Create(ctx, p3, mk); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "no PriorityClass with name missing was found") {
		t.Errorf("a missing class: %v", err)
	}
}
