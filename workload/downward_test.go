package workload

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/internal/errdefs"
)

func TestPodFieldValueOfEveryDownwardPath(t *testing.T) {
	p := pod(func(p *Pod) {
		p.ObjectMeta.Namespace, p.ObjectMeta.UID = "team-a", "u-1"
		p.ObjectMeta.Labels = map[string]string{"tier": "front", "app": "web"}
		p.ObjectMeta.Annotations = map[string]string{"note": "say \"hi\"\n\tthen go", "example.com/owner": "ops"}
		p.Spec.NodeName, p.Spec.ServiceAccountName = "peer-1", "builder"
		p.Status.HostIP, p.Status.PodIP = "192.168.1.2", "10.1.0.7"
		p.Status.PodIPs = []PodIP{{IP: "10.1.0.7"}, {IP: "fd00::7"}}
	})
	dual := *p
	dual.Status.HostIPs = []corev1.HostIP{{IP: "192.168.1.2"}, {IP: "fd00::2"}}
	for _, tc := range []struct {
		pod        *Pod
		path, want string
	}{
		{p, "metadata.name", "web-0"},
		{p, "metadata.namespace", "team-a"},
		{p, "metadata.uid", "u-1"},
		{p, "metadata.labels", `app="web"` + "\n" + `tier="front"`},
		{p, "metadata.annotations", `example.com/owner="ops"` + "\n" + `note="say \"hi\"\n\tthen go"`},
		{p, "metadata.labels['app']", "web"},
		{p, "metadata.labels['missing']", ""},
		{p, "metadata.annotations['example.com/owner']", "ops"},
		{p, "spec.nodeName", "peer-1"},
		{p, "spec.serviceAccountName", "builder"},
		{p, "status.hostIP", "192.168.1.2"},
		{p, "status.hostIPs", "192.168.1.2"}, // no hostIPs in the status: hostIP
		{&dual, "status.hostIPs", "192.168.1.2,fd00::2"},
		{p, "status.podIP", "10.1.0.7"},
		{p, "status.podIPs", "10.1.0.7,fd00::7"},
	} {
		if got, err := PodFieldValue(tc.pod, tc.path); err != nil || got != tc.want {
			t.Errorf("PodFieldValue(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
	empty := pod(nil)
	if got, err := PodFieldValue(empty, "metadata.labels"); err != nil || got != "" {
		t.Errorf("labels of a pod without any = %q, %v; want empty", got, err)
	}
	for _, bad := range []string{"spec.containers", "metadata.generateName", "status.phase"} {
		if _, err := PodFieldValue(p, bad); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("PodFieldValue(%q): error = %v; want ErrInvalid", bad, err)
		}
	}
}

func TestContainerResourceValue(t *testing.T) {
	p := pod(func(p *Pod) {
		// web: requests 100m/64Mi, limits 500m/128Mi (the pod helper's).
		p.Spec.Containers[0].Resources.Limits[ResourceName("ephemeral-storage")] = q("1Gi")
		p.Spec.Containers[0].Resources.Limits[ResourceName("hugepages-2Mi")] = q("4Mi")
		p.Spec.Containers = append(p.Spec.Containers, Container{Name: "sidecar", Resources: ResourceRequirements{
			Requests: ResourceList{ResourceCPU: q("250m")},
			Limits:   ResourceList{ResourceCPU: q("0")},
		}})
		p.Spec.InitContainers = []Container{{Name: "migrate", Resources: ResourceRequirements{Limits: ResourceList{ResourceMemory: q("1500k")}}}}
	})
	alloc := ResourceList{ResourceCPU: q("4"), ResourceMemory: q("8Gi"), ResourceName("ephemeral-storage"): q("100Gi")}
	for _, tc := range []struct {
		ctr, resource, divisor string // divisor "": none
		want                   string
	}{
		{"web", "limits.cpu", "", "1"}, // 500m rounds up to a core
		{"web", "limits.cpu", "1m", "500"},
		{"web", "limits.cpu", "100m", "5"},
		{"web", "requests.cpu", "1m", "100"},
		{"web", "requests.cpu", "", "1"},
		{"web", "limits.memory", "", "134217728"},
		{"web", "limits.memory", "1Mi", "128"},
		{"web", "limits.memory", "1G", "1"}, // 0.134 G, rounded up
		{"web", "requests.memory", "1Mi", "64"},
		{"web", "limits.ephemeral-storage", "1Mi", "1024"},
		{"web", "requests.ephemeral-storage", "", "0"},
		{"web", "limits.hugepages-2Mi", "1Mi", "4"},
		// No limit, or a zero one: the node's allocatable.
		{"sidecar", "limits.cpu", "", "4"},
		{"sidecar", "limits.memory", "1Gi", "8"},
		{"sidecar", "limits.ephemeral-storage", "1Gi", "100"},
		{"sidecar", "requests.cpu", "1m", "250"},
		{"sidecar", "requests.memory", "", "0"}, // requests never come from the node
		{"migrate", "limits.memory", "1Ki", "1465"},
		{"migrate", "limits.cpu", "1m", "4000"},
	} {
		var div Quantity
		if tc.divisor != "" {
			div = q(tc.divisor)
		}
		got, err := ContainerResourceValue(p, tc.ctr, tc.resource, div, alloc)
		if err != nil || got != tc.want {
			t.Errorf("%s %s / %q = %q, %v; want %s", tc.ctr, tc.resource, tc.divisor, got, err, tc.want)
		}
	}
	if got, err := ContainerResourceValue(p, "sidecar", "limits.memory", Quantity{}, nil); err != nil || got != "0" {
		t.Errorf("no limit and no allocatable = %q, %v; want 0", got, err)
	}
	if _, err := ContainerResourceValue(p, "nope", "limits.cpu", Quantity{}, alloc); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("missing container: error = %v; want ErrNotFound", err)
	}
	for _, bad := range []string{"limits.pods", "requests", "capacity.cpu", "cpu"} {
		if _, err := ContainerResourceValue(p, "web", bad, Quantity{}, alloc); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("resource %q: error = %v; want ErrInvalid", bad, err)
		}
	}
	if _, err := ContainerResourceValue(p, "web", "limits.cpu", q("-1"), alloc); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("negative divisor: error = %v; want ErrInvalid", err)
	}
}
