package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/testimage"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime/runtimetest"
)

// Volumes and ConfigMaps on real containerd, one agent in a network
// namespace of its own: a ConfigMap as env, as envFrom and as files, whose
// update reaches the files in the running pod; a pod whose ConfigMap does
// not exist yet waits in ContainerCreating with a FailedMount event naming
// it, and starts once it exists; an emptyDir (on disk and in memory) and a
// hostPath written from a container, a read-only mount refusing a write,
// and the pod's volumes gone with the pod while the host path's file stays.
func TestVolumesAndConfigMapsOnContainerd(t *testing.T) {
	d, image, c := containerdHosts(t)
	flags := containerdFlags(t, c, d, 1)
	a := c.start(1, 0, flags...)
	testee := filepath.Join(t.TempDir(), "testee.tar")
	if err := os.WriteFile(testee, testimage.Cached(t, runtimetest.TesteeSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	c.mustCLI("image", "import", image)
	c.mustCLI("image", "import", testee)
	host := t.TempDir()
	cl := c.apiClient(a)
	get := func(name string) workload.Pod {
		var p workload.Pod
		_ = cl.Do(context.Background(), http.MethodGet, "/api/v1/namespaces/default/pods/"+name, nil, &p)
		return p
	}
	status := func(name string) string { p := get(name); return workload.PodDisplayStatus(&p).Status }
	configMap := func(greeting string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config}\ndata: {greeting: %s, mode: fast}\n", greeting)
	}
	c.apply("config", configMap("hello"))
	c.apply("pods", `apiVersion: v1
kind: Pod
metadata: {name: cfg}
spec:
  nodeName: p1
  terminationGracePeriodSeconds: 2
  volumes:
  - {name: config, configMap: {name: web-config}}
  containers:
  - name: web
    image: shoal.local/webapp:v1
    env:
    - {name: PORT, value: "9000"}
    - {name: CONTENT_FILE, value: /etc/web/greeting}
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: web-config, key: greeting}}}
    envFrom: [{prefix: CFG_, configMapRef: {name: web-config}}]
    volumeMounts: [{name: config, mountPath: /etc/web}]
---
apiVersion: v1
kind: Pod
metadata: {name: waiting}
spec:
  nodeName: p1
  terminationGracePeriodSeconds: 2
  volumes: [{name: config, configMap: {name: later}}]
  containers:
  - name: web
    image: shoal.local/webapp:v1
    volumeMounts: [{name: config, mountPath: /etc/later}]
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  nodeName: p1
  restartPolicy: Never
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 16Mi}}
  - {name: host, hostPath: {path: `+host+`, type: Directory}}
  containers:
  - name: w
    image: `+runtimetest.TesteeImage+`
    args: [write-file, /scratch/f, scratch, write-file, /mem/f, mem, write-file, /host/f, host, cat-file, /host/f, echo, "", write-file, /ro/f, nope]
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: mem, mountPath: /mem}
    - {name: host, mountPath: /host}
    - {name: host, mountPath: /ro, readOnly: true}
`)
	c.waitFor(60*time.Second, "cfg Running", func() bool { return status("cfg") == "Running" })
	ip := get("cfg").Status.PodIP
	body := func() string {
		out, _ := c.inHost("p1", "curl", "-sS", "--max-time", "5", "http://"+ip+":9000/")
		return out
	}
	c.waitFor(30*time.Second, "cfg serving its config map's file", func() bool { return strings.Contains(body(), "hello from cfg (v1)\nhello") })
	env := podEnv(t, ip)
	for _, want := range []string{"GREETING=hello", "CFG_greeting=hello", "CFG_mode=fast"} {
		if !slices.Contains(env, want) {
			t.Errorf("cfg's environment lacks %s: %q", want, env)
		}
	}
	// The update reaches the mounted file in the running pod.
	c.apply("config", configMap("bonjour"))
	updated := time.Now()
	c.waitFor(30*time.Second, "the update in cfg's file", func() bool { return strings.HasSuffix(body(), "bonjour") })
	t.Logf("a ConfigMap update reached the running pod's file %s after apply", time.Since(updated).Round(10*time.Millisecond))

	// A missing ConfigMap holds its pod in ContainerCreating, with an
	// event naming it, until it exists.
	c.waitFor(30*time.Second, "waiting: ContainerCreating with a FailedMount event", func() bool {
		out, err := c.cli("describe", "pod", "waiting")
		return err == nil && status("waiting") == "ContainerCreating" && strings.Contains(out, "FailedMount") &&
			strings.Contains(out, `configmap "later" not found`)
	})
	c.apply("later", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: later}\ndata: {key: value}\n")
	c.waitFor(60*time.Second, "waiting Running once its config map exists", func() bool { return status("waiting") == "Running" })

	// The writer: emptyDirs and the host path written, the read-only mount
	// refusing the last write.
	c.waitFor(60*time.Second, "writer to end", func() bool { s := status("writer"); return s == "Error" || s == "Completed" })
	logs := c.mustCLI("logs", "writer")
	if !strings.Contains(logs, "host\n") || !strings.Contains(strings.ToLower(logs), "read-only file system") {
		t.Errorf("writer's log: %q; want the host file's content and a read-only file system error", logs)
	}
	if st := status("writer"); st != "Error" {
		t.Errorf("writer ended %s, want Error (the write to the read-only mount)", st)
	}
	if b, err := os.ReadFile(filepath.Join(host, "f")); err != nil || string(b) != "host" {
		t.Errorf("the host path's file: %q, %v", b, err)
	}
	uid := get("writer").Metadata.UID
	vols := filepath.Join(a.dir, "pods", uid, "volumes")
	if b, err := os.ReadFile(filepath.Join(vols, "scratch", "f")); err != nil || string(b) != "scratch" {
		t.Errorf("the emptyDir's file on the host: %q, %v", b, err)
	}
	if mounts, _ := os.ReadFile("/proc/self/mounts"); !strings.Contains(string(mounts), "tmpfs "+filepath.Join(vols, "mem")+" tmpfs") {
		t.Errorf("no tmpfs on %s", filepath.Join(vols, "mem"))
	}
	c.mustCLI("delete", "pod", "writer")
	c.waitFor(30*time.Second, "writer's volumes gone with it", func() bool {
		_, err := os.Stat(filepath.Join(a.dir, "pods", uid))
		return os.IsNotExist(err)
	})
	if mounts, _ := os.ReadFile("/proc/self/mounts"); strings.Contains(string(mounts), uid) {
		t.Errorf("a mount of writer's outlived it")
	}
	if _, err := os.Stat(filepath.Join(host, "f")); err != nil {
		t.Errorf("deleting the pod touched its host path: %v", err)
	}
}
