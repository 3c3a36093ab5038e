package nodeagent

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/volumes"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
	"github.com/shoalproject/shoal/workload/runtime/fake"
)

// envOf records the environment each container was created with.
type envOf struct {
	mu  sync.Mutex
	env map[string][]string // by container name
}

func (e *envOf) behave(_ runtime.Sandbox, c runtime.ContainerConfig) fake.Behaviour {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.env == nil {
		e.env = map[string][]string{}
	}
	e.env[c.Name] = c.Env
	return fake.Behaviour{}
}

func (e *envOf) of(name string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.env[name]
}

func fieldEnv(name, path string) workload.EnvVar {
	return workload.EnvVar{Name: name, ValueFrom: &workload.EnvVarSource{FieldRef: &workload.ObjectFieldSelector{FieldPath: path}}}
}

func resourceEnv(name, ctr, resource, divisor string) workload.EnvVar {
	r := &corev1.ResourceFieldSelector{ContainerName: ctr, Resource: resource}
	if divisor != "" {
		r.Divisor = workload.MustParseQuantity(divisor)
	}
	return workload.EnvVar{Name: name, ValueFrom: &workload.EnvVarSource{ResourceFieldRef: r}}
}

// Every fieldRef path Kubernetes allows in env, and resourceFieldRef
// variables (this container's by default, another's by name, a limit left
// out read as the node's allocatable), reach the container as the kubelet
// gives them, the pod's address included though no status was written
// yet.
func TestDownwardAPIEnv(t *testing.T) {
	rec := &envOf{}
	h := newHarness(t, fake.Config{PodCIDR: "10.32.9.0/24", Behave: rec.behave}, func(h *harness) {
		h.allocatable = workload.ResourceList{workload.ResourceCPU: workload.MustParseQuantity("4"), workload.ResourceMemory: workload.MustParseQuantity("8Gi")}
	})
	h.pods.put(pod("web", func(p *workload.Pod) {
		p.ObjectMeta.Labels = map[string]string{"app": "web"}
		p.ObjectMeta.Annotations = map[string]string{"example.com/owner": "ops"}
		p.Spec.ServiceAccountName = "builder"
		web := &p.Spec.Containers[0]
		web.Resources.Limits = workload.ResourceList{workload.ResourceMemory: workload.MustParseQuantity("128Mi")}
		web.Resources.Requests = workload.ResourceList{workload.ResourceCPU: workload.MustParseQuantity("250m")}
		web.Env = []workload.EnvVar{
			fieldEnv("NAME", "metadata.name"), fieldEnv("NS", "metadata.namespace"), fieldEnv("UID", "metadata.uid"),
			fieldEnv("APP", "metadata.labels['app']"), fieldEnv("OWNER", "metadata.annotations['example.com/owner']"),
			fieldEnv("NODE", "spec.nodeName"), fieldEnv("SA", "spec.serviceAccountName"),
			fieldEnv("HOST_IP", "status.hostIP"), fieldEnv("HOST_IPS", "status.hostIPs"),
			fieldEnv("POD_IP", "status.podIP"), fieldEnv("POD_IPS", "status.podIPs"),
			resourceEnv("CPU_LIMIT", "", "limits.cpu", ""),          // none: the node's 4 cores
			resourceEnv("CPU_REQUEST", "", "requests.cpu", "1m"),    // 250
			resourceEnv("MEM_LIMIT", "", "limits.memory", "1Mi"),    // 128
			resourceEnv("SIDE_MEM", "side", "limits.memory", "1Gi"), // none: the node's 8Gi
		}
		p.Spec.Containers = append(p.Spec.Containers, workload.Container{Name: "side", Image: web.Image, ImagePullPolicy: web.ImagePullPolicy})
	}))
	h.agent.Notify()
	h.await("web to run", func() bool { return running(h.status("web")) })
	env := rec.of("web")
	var ip string
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "POD_IP="); ok {
			ip = v
		}
	}
	if !strings.HasPrefix(ip, "10.32.9.") || ip != h.status("web").PodIP {
		t.Errorf("POD_IP=%q, want the sandbox's address %q", ip, h.status("web").PodIP)
	}
	for _, want := range []string{
		"NAME=web", "NS=default", "UID=uid-web", "APP=web", "OWNER=ops", "NODE=n1", "SA=builder",
		"HOST_IP=192.0.2.1", "HOST_IPS=192.0.2.1", "POD_IPS=" + ip,
		"CPU_LIMIT=4", "CPU_REQUEST=250", "MEM_LIMIT=128", "SIDE_MEM=8",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("env %q lacks %s", env, want)
		}
	}
}

// A variable that cannot be resolved keeps the container from being
// created, with a Failed event saying why.
func TestDownwardAPIEnvNamingAMissingContainer(t *testing.T) {
	h := newHarness(t, fake.Config{}, nil)
	h.pods.put(pod("web", func(p *workload.Pod) {
		p.Spec.Containers[0].Env = []workload.EnvVar{resourceEnv("X", "nope", "limits.cpu", "")}
	}))
	h.agent.Notify()
	h.await("a Failed event naming the container", func() bool {
		for _, e := range h.pods.eventsOf("Failed") {
			if strings.Contains(e, "env X: resourceFieldRef: container nope not found") {
				return true
			}
		}
		return false
	})
	st := h.status("web")
	if len(st.ContainerStatuses) != 1 || st.ContainerStatuses[0].State.Waiting == nil || st.ContainerStatuses[0].State.Waiting.Reason != "CreateContainerConfigError" {
		t.Errorf("status %+v, want CreateContainerConfigError", st.ContainerStatuses)
	}
}

// A downwardAPI volume follows the pod: a change of its labels reaches the
// file within a refresh.
func TestDownwardAPIVolumeFollowsLabels(t *testing.T) {
	h := newHarness(t, fake.Config{}, func(h *harness) {
		h.volumes = &volumes.Mounter{Root: filepath.Join(t.TempDir(), "pods"), Now: h.clock.Now}
	})
	h.pods.put(pod("web", func(p *workload.Pod) {
		p.ObjectMeta.Labels = map[string]string{"app": "web"}
		p.Spec.Volumes = []workload.Volume{{Name: "podinfo", VolumeSource: workload.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
			Items: []workload.DownwardAPIVolumeFile{{Path: "labels", FieldRef: &workload.ObjectFieldSelector{FieldPath: "metadata.labels"}}},
		}}}}
		p.Spec.Containers[0].VolumeMounts = []workload.VolumeMount{{Name: "podinfo", MountPath: "/etc/podinfo"}}
	}))
	h.agent.Notify()
	h.await("web to run", func() bool { return running(h.status("web")) })
	file := filepath.Join(h.volumes.Root, "uid-web", "volumes", "podinfo", "labels")
	if b, err := os.ReadFile(file); err != nil || string(b) != `app="web"` {
		t.Fatalf("labels = %q, %v", b, err)
	}
	p, _ := h.pods.get("web")
	p.ObjectMeta.Labels = map[string]string{"app": "web", "track": "canary"}
	h.pods.put(p)
	h.agent.Notify()
	h.await("the new labels in the file", func() bool {
		h.clock.Advance(time.Second)
		b, _ := os.ReadFile(file)
		return string(b) == "app=\"web\"\ntrack=\"canary\""
	})
}

// A volume whose plugin this node lacks holds the pod in
// ContainerCreating, with a FailedMount event naming the volume and the
// plugin, and no container is made.
func TestUnavailableVolumePluginIsFailedMount(t *testing.T) {
	var mu sync.Mutex
	created := 0
	h := newHarness(t, fake.Config{Behave: func(runtime.Sandbox, runtime.ContainerConfig) fake.Behaviour {
		mu.Lock()
		defer mu.Unlock()
		created++
		return fake.Behaviour{}
	}}, func(h *harness) {
		h.volumes = &volumes.Mounter{Root: filepath.Join(t.TempDir(), "pods"), Now: h.clock.Now}
	})
	h.pods.put(pod("web", func(p *workload.Pod) {
		p.Spec.Volumes = []workload.Volume{{Name: "data", VolumeSource: workload.VolumeSource{
			AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "vol-0123"}}}}
		p.Spec.Containers[0].VolumeMounts = []workload.VolumeMount{{Name: "data", MountPath: "/data"}}
	}))
	h.agent.Notify()
	want := `FailedMount: MountVolume.SetUp failed: volume "data": the awsElasticBlockStore volume plugin is not available on this node`
	h.await("a FailedMount event naming the volume and the plugin", func() bool {
		ev := h.pods.eventsOf("FailedMount")
		return len(ev) > 0 && strings.HasPrefix(ev[0], want)
	})
	h.await("web's status to say ContainerCreating", func() bool {
		st := h.status("web")
		return len(st.ContainerStatuses) == 1 && st.ContainerStatuses[0].State.Waiting != nil &&
			st.ContainerStatuses[0].State.Waiting.Reason == workload.ReasonContainerCreating
	})
	mu.Lock()
	defer mu.Unlock()
	if created != 0 {
		t.Errorf("%d containers created for a pod whose volume cannot be set up", created)
	}
	if h.status("web").Phase != workload.PodPending {
		t.Errorf("phase %s, want Pending", h.status("web").Phase)
	}
}
