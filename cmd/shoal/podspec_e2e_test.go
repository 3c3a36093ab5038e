package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
)

// The pod spec fields of issue 21 on real containerd, seen from inside
// the containers (the webapp's /self, /file and /env): runAsUser,
// runAsGroup, supplementalGroups and readOnlyRootFilesystem; a dropped
// CHOWN capability; allowPrivilegeEscalation false and RuntimeDefault
// seccomp; a sidecar that starts before the main container and keeps
// running beside it; a postStart hook that runs before the pod is Ready;
// the downward API's files and env; and a pod with an in-tree volume
// plugin that waits in ContainerCreating with its FailedMount event.
func TestPodSpecFeaturesOnContainerd(t *testing.T) {
	d, image, c := containerdHosts(t)
	a := c.start(1, 0, containerdFlags(t, c, d, 1)...)
	c.importTar(image)
	c.apply("features", `apiVersion: v1
kind: Pod
metadata: {name: secure}
spec:
  nodeName: p1
  securityContext: {runAsUser: 1000, runAsGroup: 2000, supplementalGroups: [3000], seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: web
    image: shoal.local/webapp:v1
    securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}
---
apiVersion: v1
kind: Pod
metadata: {name: nochown}
spec:
  nodeName: p1
  containers:
  - name: web
    image: shoal.local/webapp:v1
    env: [{name: TMPDIR, value: /scratch}]
    securityContext: {capabilities: {drop: [CHOWN]}}
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes: [{name: scratch, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: chown}
spec:
  nodeName: p1
  containers:
  - name: web
    image: shoal.local/webapp:v1
    env: [{name: TMPDIR, value: /scratch}]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes: [{name: scratch, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: sidecar, labels: {app: demo, tier: web}}
spec:
  nodeName: p1
  initContainers:
  - name: side
    image: shoal.local/webapp:v1
    restartPolicy: Always
    env: [{name: PORT, value: "8081"}]
    startupProbe: {httpGet: {path: /healthz, port: 8081}, periodSeconds: 1, failureThreshold: 30}
  containers:
  - name: web
    image: shoal.local/webapp:v1
    lifecycle: {postStart: {httpGet: {path: /poststart-hook, port: 8081}}}
    readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
    resources: {limits: {memory: 64Mi}}
    env:
    - {name: MY_POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: MY_NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    - {name: MY_MEM_MI, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    volumeMounts: [{name: podinfo, mountPath: /etc/podinfo}]
  volumes:
  - name: podinfo
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: tier, fieldRef: {fieldPath: "metadata.labels['tier']"}}
---
apiVersion: v1
kind: Pod
metadata: {name: ebs}
spec:
  nodeName: p1
  containers:
  - name: web
    image: shoal.local/webapp:v1
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    awsElasticBlockStore: {volumeID: vol-0123456789abcdef0, fsType: ext4}
`)
	cl := c.apiClient(a)
	get := func(name string) workload.Pod {
		var p workload.Pod
		_ = cl.Do(context.Background(), http.MethodGet, "/api/v1/namespaces/default/pods/"+name, nil, &p)
		return p
	}
	fetch := func(name, port, path string) string {
		t.Helper()
		out, err := c.inHost("p1", "curl", "-sS", "--max-time", "5", "http://"+get(name).Status.PodIP+":"+port+path)
		if err != nil {
			t.Fatalf("%s %s: %v: %s", name, path, err, out)
		}
		return string(out)
	}
	for _, name := range []string{"secure", "nochown", "chown"} {
		c.waitFor(60*time.Second, name+" Running", func() bool { return workload.PodDisplayStatus(ptr(get(name))).Status == "Running" })
	}
	self := fetch("secure", "8080", "/self")
	for _, want := range []string{"uid: 1000\n", "gid: 2000\n", "3000", "rootWritable: false\n", "NoNewPrivs: 1\n", "Seccomp: 2\n"} {
		if !strings.Contains(self, want) {
			t.Errorf("secure pod's /self lacks %q:\n%s", want, self)
		}
	}
	if self := fetch("chown", "8080", "/self"); !strings.Contains(self, "chown: true\n") || !strings.Contains(self, "NoNewPrivs: 0\n") {
		t.Errorf("a root container may chown, and may gain privileges by default:\n%s", self)
	}
	if self := fetch("nochown", "8080", "/self"); !strings.Contains(self, "chown: false\n") {
		t.Errorf("a container without CAP_CHOWN could chown:\n%s", self)
	}

	// The sidecar: started (and its startup probe passed) before the main
	// container, still running beside it; the postStart hook reached the
	// sidecar before the pod was Ready.
	c.waitFor(60*time.Second, "sidecar Ready", func() bool { return workload.IsPodReady(ptr(get("sidecar"))) })
	p := get("sidecar")
	if len(p.Status.InitContainerStatuses) != 1 || p.Status.InitContainerStatuses[0].State.Running == nil ||
		p.Status.InitContainerStatuses[0].Started == nil || !*p.Status.InitContainerStatuses[0].Started {
		t.Fatalf("the sidecar is not running: %+v", p.Status.InitContainerStatuses)
	}
	side, web := p.Status.InitContainerStatuses[0].State.Running.StartedAt, p.Status.ContainerStatuses[0].State.Running.StartedAt
	if web.Before(&side) {
		t.Errorf("the main container started at %v, before its sidecar (%v)", web, side)
	}
	logs := c.mustCLI("logs", "sidecar", "-c", "side")
	if !strings.Contains(logs, "GET /poststart-hook") {
		t.Errorf("the postStart hook never reached the sidecar:\n%s", logs)
	}
	// The downward API, as files and as env.
	if got := fetch("sidecar", "8080", "/file?path=/etc/podinfo/labels"); got != "app=\"demo\"\ntier=\"web\"" {
		t.Errorf("labels file %q", got)
	}
	if got := fetch("sidecar", "8080", "/file?path=/etc/podinfo/tier"); got != "web" {
		t.Errorf("tier file %q", got)
	}
	for name, want := range map[string]string{"MY_POD": "sidecar", "MY_NODE": "p1", "MY_MEM_MI": "64"} {
		if got := fetch("sidecar", "8080", "/env?name="+name); got != want {
			t.Errorf("env %s = %q, want %q", name, got, want)
		}
	}

	// An in-tree plugin this node lacks: the pod waits, with the event.
	c.waitFor(60*time.Second, "ebs's FailedMount event", func() bool {
		out, _ := c.cli("describe", "pod", "ebs")
		return strings.Contains(out, "FailedMount") && strings.Contains(out, "awsElasticBlockStore")
	})
	if s := workload.PodDisplayStatus(ptr(get("ebs"))).Status; s != "ContainerCreating" {
		t.Errorf("ebs is %s, want ContainerCreating", s)
	}
}
