package workload

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

const (
	gpu    ResourceName = "nvidia.com/gpu"
	dongle ResourceName = "example.com/dongle"
	eph                 = corev1.ResourceEphemeralStorage
	huge2M ResourceName = "hugepages-2Mi"
)

func TestPodRequests(t *testing.T) {
	res := func(cpu, mem string) ResourceRequirements {
		return ResourceRequirements{Requests: ResourceList{ResourceCPU: q(cpu), ResourceMemory: q(mem)}}
	}
	req := func(kv ...any) ResourceRequirements {
		l := ResourceList{}
		for i := 0; i+1 < len(kv); i += 2 {
			l[kv[i].(ResourceName)] = q(kv[i+1].(string))
		}
		return ResourceRequirements{Requests: l}
	}
	always := corev1.ContainerRestartPolicyAlways
	sidecar := func(name string, r ResourceRequirements) Container {
		return Container{Name: name, Resources: r, RestartPolicy: &always}
	}
	for _, tc := range []struct {
		name string
		spec PodSpec
		want ComputeResources
	}{
		{"nothing requested", PodSpec{Containers: []Container{{Name: "a"}}}, ComputeResources{}},
		{"containers add up", PodSpec{Containers: []Container{
			{Name: "a", Resources: res("100m", "64Mi")},
			{Name: "b", Resources: res("200m", "128Mi")},
		}}, ComputeResources{MilliCPU: 300, Memory: 192 << 20}},
		{"an init container may need more", PodSpec{
			InitContainers: []Container{{Name: "i1", Resources: res("500m", "32Mi")}, {Name: "i2", Resources: res("50m", "16Mi")}},
			Containers:     []Container{{Name: "a", Resources: res("100m", "64Mi")}, {Name: "b", Resources: res("200m", "128Mi")}},
		}, ComputeResources{MilliCPU: 500, Memory: 192 << 20}},
		{"a missing request is its limit", PodSpec{Containers: []Container{{Name: "a", Resources: ResourceRequirements{
			Requests: ResourceList{ResourceCPU: q("250m")},
			Limits:   ResourceList{ResourceCPU: q("1"), ResourceMemory: q("1Gi")},
		}}}}, ComputeResources{MilliCPU: 250, Memory: 1 << 30}},
		{"fractions round up", PodSpec{Containers: []Container{{Name: "a", Resources: res("0.0001", "100m")}}}, ComputeResources{MilliCPU: 1, Memory: 1}},
		{"extended resources, ephemeral storage and huge pages add up", PodSpec{Containers: []Container{
			{Name: "a", Resources: req(gpu, "1", eph, "1Gi", huge2M, "4Mi")},
			{Name: "b", Resources: req(gpu, "2", dongle, "1", eph, "512Mi")},
		}}, ComputeResources{EphemeralStorage: 3 << 29, Scalar: map[ResourceName]int64{gpu: 3, dongle: 1, huge2M: 4 << 20}}},
		{"an extended resource's limit alone is its request", PodSpec{Containers: []Container{{Name: "a", Resources: ResourceRequirements{
			Limits: ResourceList{dongle: q("2")},
		}}}}, ComputeResources{Scalar: map[ResourceName]int64{dongle: 2}}},
		{"a zero request is no entry", PodSpec{Containers: []Container{{Name: "a", Resources: req(gpu, "0")}}}, ComputeResources{}},
		{"names Kubernetes does not count are left out", PodSpec{Containers: []Container{{Name: "a", Resources: req(ResourceStorage, "1Gi", ResourcePods, "3")}}},
			ComputeResources{}},
		{"an init container's extended resources count by the most", PodSpec{
			InitContainers: []Container{{Name: "i", Resources: req(gpu, "4")}},
			Containers:     []Container{{Name: "a", Resources: req(gpu, "1", dongle, "1")}, {Name: "b", Resources: req(gpu, "1")}},
		}, ComputeResources{Scalar: map[ResourceName]int64{gpu: 4, dongle: 1}}},
		// Kubernetes 1.29+: a sidecar adds to the containers, and init
		// containers after it run beside it.
		{"sidecars add to the containers and to later init containers", PodSpec{
			InitContainers: []Container{
				{Name: "i1", Resources: res("300m", "10Mi")},
				sidecar("s1", res("100m", "20Mi")),
				{Name: "i2", Resources: res("350m", "10Mi")},
				sidecar("s2", req(gpu, "1")),
			},
			Containers: []Container{{Name: "a", Resources: res("200m", "100Mi")}},
		}, ComputeResources{MilliCPU: 450, Memory: 120 << 20, Scalar: map[ResourceName]int64{gpu: 1}}},
		{"an init container before the sidecars does not run beside them", PodSpec{
			InitContainers: []Container{{Name: "i1", Resources: res("500m", "1Mi")}, sidecar("s1", res("100m", "1Mi"))},
			Containers:     []Container{{Name: "a", Resources: res("100m", "1Mi")}},
		}, ComputeResources{MilliCPU: 500, Memory: 2 << 20}},
		{"overhead adds to every resource", PodSpec{
			Containers: []Container{{Name: "a", Resources: res("100m", "64Mi")}},
			Overhead:   ResourceList{ResourceCPU: q("50m"), eph: q("1Ki")},
		}, ComputeResources{MilliCPU: 150, Memory: 64 << 20, EphemeralStorage: 1024}},
	} {
		if got := PodRequests(&Pod{Spec: tc.spec}); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: PodRequests = %+v; want %+v", tc.name, got, tc.want)
		}
	}
}

func TestPodLimits(t *testing.T) {
	lim := func(l ResourceList) ResourceRequirements { return ResourceRequirements{Limits: l} }
	p := &Pod{Spec: PodSpec{
		InitContainers: []Container{{Name: "i", Resources: lim(ResourceList{ResourceCPU: q("2")})}},
		Containers: []Container{
			{Name: "a", Resources: lim(ResourceList{ResourceCPU: q("500m"), ResourceMemory: q("1Gi"), gpu: q("1")})},
			{Name: "b", Resources: ResourceRequirements{Requests: ResourceList{ResourceMemory: q("5Gi")}}},
		},
		Overhead: ResourceList{ResourceMemory: q("1Mi"), eph: q("1Gi")},
	}}
	// b's request is no limit; the overhead adds to memory, which some
	// container limits, and not to ephemeral-storage, which none does.
	want := ComputeResources{MilliCPU: 2000, Memory: 1<<30 + 1<<20, Scalar: map[ResourceName]int64{gpu: 1}}
	if got := PodLimits(p); !reflect.DeepEqual(got, want) {
		t.Errorf("PodLimits = %+v; want %+v", got, want)
	}
}

func TestComputeResourcesAsAList(t *testing.T) {
	r := ResourcesOf(ResourceList{ResourceCPU: q("1500m"), ResourceMemory: q("1Gi"), ResourcePods: q("110"), eph: q("50Gi"), gpu: q("2"), huge2M: q("0")})
	want := ComputeResources{MilliCPU: 1500, Memory: 1 << 30, EphemeralStorage: 50 << 30, Scalar: map[ResourceName]int64{gpu: 2}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("ResourcesOf = %+v; want %+v", r, want)
	}
	if got := r.Names(); !reflect.DeepEqual(got, []ResourceName{ResourceCPU, eph, ResourceMemory, gpu}) {
		t.Errorf("Names = %v", got)
	}
	got := map[ResourceName]string{}
	for n, v := range r.List() {
		got[n] = v.String()
	}
	if w := map[ResourceName]string{ResourceCPU: "1500m", ResourceMemory: "1Gi", eph: "50Gi", gpu: "2"}; !reflect.DeepEqual(got, w) {
		t.Errorf("List = %v; want %v", got, w)
	}
}
