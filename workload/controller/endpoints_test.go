package controller

import (
	"reflect"
	"testing"

	"github.com/shoalproject/shoal/workload"
)

func TestPlanEndpoints(t *testing.T) {
	svc := &workload.Service{ObjectMeta: workload.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec: workload.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []workload.ServicePort{
			{Name: "http", Port: 80, TargetPort: workload.IntOrStringFromString("web"), Protocol: workload.ProtocolTCP},
			{Name: "admin", Port: 81, TargetPort: workload.IntOrStringFromInt32(9001), Protocol: workload.ProtocolTCP},
		}}}
	pod := func(name, ip, node string, ready bool, edit func(*workload.Pod)) *workload.Pod {
		p := &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "shop", Name: name, UID: workload.UID(name + "-uid"), Labels: map[string]string{"app": "web"}},
			Spec:   workload.PodSpec{NodeName: node, Containers: []workload.Container{{Name: "c", Ports: []workload.ContainerPort{{Name: "web", ContainerPort: 9000}}}}},
			Status: workload.PodStatus{Phase: workload.PodRunning, PodIP: ip}}
		st := workload.ConditionFalse
		if ready {
			st = workload.ConditionTrue
		}
		p.Status.Conditions = []workload.PodCondition{{Type: workload.PodReady, Status: st}}
		if edit != nil {
			edit(p)
		}
		return p
	}
	pods := []*workload.Pod{
		pod("b", "10.32.1.5", "p2", true, nil),
		pod("a", "10.32.0.7", "p1", true, nil),
		pod("starting", "10.32.2.3", "p3", false, nil),
		pod("no-ip", "", "p3", true, nil),
		pod("going", "10.32.0.9", "p1", true, func(p *workload.Pod) { now := t0; p.ObjectMeta.DeletionTimestamp = &workload.Time{Time: now} }),
		pod("other", "10.32.0.8", "p1", true, func(p *workload.Pod) { p.ObjectMeta.Labels = map[string]string{"app": "db"} }),
		pod("elsewhere", "10.32.0.6", "p1", true, func(p *workload.Pod) { p.ObjectMeta.Namespace = "dev" }),
		pod("unnamed-port", "10.32.1.9", "p2", true, func(p *workload.Pod) { p.Spec.Containers[0].Ports = nil }),
	}
	ep := PlanEndpoints(svc, pods)
	if len(ep.Subsets) != 2 {
		t.Fatalf("subsets %+v: want one for the pods with a port named web, one for the pod without", ep.Subsets)
	}
	// The pod without the named port serves only the numeric one.
	want := workload.EndpointSubset{
		Addresses: []workload.EndpointAddress{
			{IP: "10.32.0.7", NodeName: ptr("p1"), TargetRef: &workload.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "a", UID: "a-uid"}},
			{IP: "10.32.1.5", NodeName: ptr("p2"), TargetRef: &workload.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "b", UID: "b-uid"}},
		},
		NotReadyAddresses: []workload.EndpointAddress{
			{IP: "10.32.2.3", NodeName: ptr("p3"), TargetRef: &workload.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "starting", UID: "starting-uid"}},
		},
		Ports: []workload.EndpointPort{{Name: "http", Port: 9000, Protocol: workload.ProtocolTCP}, {Name: "admin", Port: 9001, Protocol: workload.ProtocolTCP}},
	}
	if !reflect.DeepEqual(ep.Subsets[0], want) {
		t.Errorf("first subset %+v\nwant %+v", ep.Subsets[0], want)
	}
	if s := ep.Subsets[1]; len(s.Addresses) != 1 || s.Addresses[0].IP != "10.32.1.9" || len(s.Ports) != 1 || s.Ports[0].Port != 9001 {
		t.Errorf("second subset %+v: want the pod without a port named web, on 9001 only", s)
	}
	if !reflect.DeepEqual(PlanEndpoints(svc, []*workload.Pod{pods[1], pods[0], pods[2]}), PlanEndpoints(svc, []*workload.Pod{pods[2], pods[0], pods[1]})) {
		t.Error("the same pods in another order give other endpoints")
	}
	if PlanEndpoints(&workload.Service{Spec: workload.ServiceSpec{Ports: svc.Spec.Ports}}, pods) != nil {
		t.Error("a service without a selector got endpoints")
	}
}

func ptr[T any](v T) *T { return &v }

// A headless service: without ports it takes every selected pod; a pod
// whose subdomain is the service gets its hostname; with
// publishNotReadyAddresses a pod that is not ready is an address too.
func TestPlanEndpointsHeadless(t *testing.T) {
	svc := &workload.Service{ObjectMeta: workload.ObjectMeta{Namespace: "db", Name: "pg"},
		Spec: workload.ServiceSpec{ClusterIP: workload.ClusterIPNone, Selector: map[string]string{"app": "pg"}, PublishNotReadyAddresses: true}}
	mk := func(name, ip, host, sub string) *workload.Pod {
		return &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "db", Name: name, Labels: map[string]string{"app": "pg"}},
			Spec:   workload.PodSpec{NodeName: "p1", Hostname: host, Subdomain: sub},
			Status: workload.PodStatus{Phase: workload.PodRunning, PodIP: ip}}
	}
	ep := PlanEndpoints(svc, []*workload.Pod{mk("pg-0", "10.32.0.5", "pg-0", "pg"), mk("other", "10.32.0.6", "x", "elsewhere")})
	if len(ep.Subsets) != 1 || len(ep.Subsets[0].Addresses) != 2 || len(ep.Subsets[0].Ports) != 0 {
		t.Fatalf("subsets %+v: want both pods, ready or not, with no ports", ep.Subsets)
	}
	if a := ep.Subsets[0].Addresses; a[0].Hostname != "pg-0" || a[1].Hostname != "" {
		t.Errorf("hostnames %q %q: want pg-0 (its subdomain is the service) and none", a[0].Hostname, a[1].Hostname)
	}
}

func TestLoadBalancerIngressIsTheReadyNodes(t *testing.T) {
	node := func(name, ip string, ready workload.ConditionStatus) *workload.Node {
		return &workload.Node{ObjectMeta: workload.ObjectMeta{Name: name}, Status: workload.NodeStatus{
			Addresses:  []workload.NodeAddress{{Type: workload.NodeInternalIP, Address: ip}},
			Conditions: []workload.NodeCondition{{Type: workload.NodeReady, Status: ready}}}}
	}
	got := LoadBalancerIngress([]*workload.Node{node("p2", "192.0.2.12", workload.ConditionTrue), node("p3", "192.0.2.13", workload.ConditionUnknown), node("p1", "192.0.2.11", workload.ConditionTrue)})
	if len(got) != 2 || got[0].IP != "192.0.2.11" || got[1].IP != "192.0.2.12" || got[0].IPMode == nil || *got[0].IPMode != "VIP" {
		t.Errorf("ingress %+v: want the two Ready nodes' addresses, sorted, ipMode VIP", got)
	}
}
