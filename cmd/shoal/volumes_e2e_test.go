package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

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
	c.importTar(image)
	importImage(t, c, runtimetest.TesteeSpec)
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
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 16Mi}}
  - {name: host, hostPath: {path: `+host+`, type: Directory}}
  containers:
  - name: w
    image: `+runtimetest.TesteeImage+`
    args: [write-file, /scratch/f, scratch, write-file, /mem/f, mem, write-file, /host/f, host, cat-file, /host/f, echo, "", try-write-file, /ro/f, nope, wait]
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
	// refusing a write. It keeps running after: containerd 1.6's shim can
	// lose what a process writes just before it exits.
	c.waitFor(60*time.Second, "writer running", func() bool { return status("writer") == "Running" })
	dumpContainerLogs(t, c)
	c.waitFor(10*time.Second, "writer's log: the host file's content and a read-only file system error", func() bool {
		logs, _ := c.cli("logs", "writer")
		return strings.Contains(logs, "host\n") && strings.Contains(logs, "try-write-file: open /ro/f: read-only file system")
	})
	if b, err := os.ReadFile(filepath.Join(host, "f")); err != nil || string(b) != "host" {
		t.Errorf("the host path's file: %q, %v", b, err)
	}
	uid := get("writer").ObjectMeta.UID
	vols := filepath.Join(a.dir, "pods", string(uid), "volumes")
	if b, err := os.ReadFile(filepath.Join(vols, "scratch", "f")); err != nil || string(b) != "scratch" {
		t.Errorf("the emptyDir's file on the host: %q, %v", b, err)
	}
	if mounts, _ := os.ReadFile("/proc/self/mounts"); !strings.Contains(string(mounts), "tmpfs "+filepath.Join(vols, "mem")+" tmpfs") {
		t.Errorf("no tmpfs on %s", filepath.Join(vols, "mem"))
	}
	c.mustCLI("delete", "pod", "writer")
	c.waitFor(30*time.Second, "writer's volumes gone with it", func() bool {
		_, err := os.Stat(filepath.Join(a.dir, "pods", string(uid)))
		return os.IsNotExist(err)
	})
	if mounts, _ := os.ReadFile("/proc/self/mounts"); strings.Contains(string(mounts), string(uid)) {
		t.Errorf("a mount of writer's outlived it")
	}
	if _, err := os.Stat(filepath.Join(host, "f")); err != nil {
		t.Errorf("deleting the pod touched its host path: %v", err)
	}
}

// Claims on real containerd, three agents in network namespaces of their
// own: a ReadOnlyMany hostPath claim mounted by pods on all three peers,
// which all read its file while a write to it fails with EROFS; a pod
// writes into a local volume's claim and is deleted, and the pod that
// replaces it lands on that volume's node and reads the data; a
// ReadWriteOnce claim keeps all its pods on one node.
func TestClaimsOnContainerd(t *testing.T) {
	d, image, c := containerdHosts(t)
	startContainerdPeers(t, c, d)
	c.importTar(image)
	importImage(t, c, runtimetest.TesteeSpec)
	// The peers share this machine's file system: one directory stands in
	// for the copy the demo seeds on every peer.
	seed, disk, rwo := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(seed, "index.txt"), []byte("seeded\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.apply("storage", fmt.Sprintf(`apiVersion: v1
kind: PersistentVolume
metadata: {name: shared}
spec:
  capacity: {storage: 100Gi}
  accessModes: [ReadOnlyMany]
  hostPath: {path: %s, type: Directory}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: disk}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  local: {path: %s}
  nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [p2]}]}]}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: rwo}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: %s}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: shared}
spec: {accessModes: [ReadOnlyMany], resources: {requests: {storage: 10Gi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: disk}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, volumeName: disk}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: rwo}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, volumeName: rwo}
`, seed, disk, rwo))
	c.waitFor(30*time.Second, "the three claims bound", func() bool {
		out, err := c.cli("get", "pvc")
		return err == nil && strings.Count(out, "Bound") == 3
	})
	if out := c.mustCLI("get", "pv"); !strings.Contains(out, "shared   100Gi      ROX            Retain           Bound    default/shared") {
		t.Errorf("get pv:\n%s", out)
	}
	deployment := func(name string, replicas int, claim, extra string) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s}
spec:
  replicas: %[2]d
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      terminationGracePeriodSeconds: 2
%[4]s      volumes: [{name: data, persistentVolumeClaim: {claimName: %[3]s}}]
      containers:
      - name: web
        image: shoal.local/webapp:v1
        env: [{name: PORT, value: "9000"}, {name: CONTENT_FILE, value: /data/index.txt}]
        volumeMounts: [{name: data, mountPath: /data}]
`, name, replicas, claim, extra)
	}
	spread := "      topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: readers}}}]\n"
	c.apply("readers", deployment("readers", 3, "shared", spread)+"---\n"+deployment("together", 3, "rwo", ""))
	cl := c.apiClient(c.agent(1))
	running := func(app string) map[string]workload.Pod { // by node
		var list struct{ Items []workload.Pod }
		_ = cl.Do(context.Background(), http.MethodGet, "/api/v1/namespaces/default/pods?labelSelector=app%3D"+app, nil, &list)
		out := map[string]workload.Pod{}
		for _, p := range list.Items {
			if p.Status.Phase == workload.PodRunning && p.ObjectMeta.DeletionTimestamp == nil {
				out[p.ObjectMeta.Name+"@"+p.Spec.NodeName] = p
			}
		}
		return out
	}
	c.waitFor(90*time.Second, "3 readers running on 3 peers", func() bool {
		nodes := map[string]bool{}
		for _, p := range running("readers") {
			nodes[p.Spec.NodeName] = true
		}
		return len(nodes) == 3
	})
	for _, p := range running("readers") {
		c.waitFor(30*time.Second, p.ObjectMeta.Name+" reading the seeded file", func() bool {
			out, _ := c.inHost(p.Spec.NodeName, "curl", "-sS", "--max-time", "5", "http://"+p.Status.PodIP+":9000/")
			return strings.HasSuffix(out, "seeded\n")
		})
	}
	c.waitFor(90*time.Second, "3 pods of a ReadWriteOnce claim running", func() bool { return len(running("together")) == 3 })
	nodes := map[string]bool{}
	for _, p := range running("together") {
		nodes[p.Spec.NodeName] = true
	}
	if len(nodes) != 1 {
		t.Errorf("the pods of a ReadWriteOnce claim run on %v, want one node", nodes)
	}

	// A write to the ReadOnlyMany claim fails; a pod writes into the local
	// volume's claim.
	c.apply("writers", `apiVersion: v1
kind: Pod
metadata: {name: rox-writer}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: data, persistentVolumeClaim: {claimName: shared}}]
  containers:
  - {name: w, image: `+runtimetest.TesteeImage+`, args: [try-write-file, /data/x, nope, wait], volumeMounts: [{name: data, mountPath: /data}]}
---
apiVersion: v1
kind: Pod
metadata: {name: first}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: data, persistentVolumeClaim: {claimName: disk}}]
  containers:
  - {name: w, image: `+runtimetest.TesteeImage+`, args: [write-file, /data/index.txt, "written by first", wait], volumeMounts: [{name: data, mountPath: /data}]}
`)
	status := func(name string) (string, string) {
		var p workload.Pod
		if err := cl.Do(context.Background(), http.MethodGet, "/api/v1/namespaces/default/pods/"+name, nil, &p); err != nil {
			return "", "" // gone (or not answered)
		}
		return workload.PodDisplayStatus(&p).Status, p.Spec.NodeName
	}
	c.waitFor(60*time.Second, "rox-writer running", func() bool { s, _ := status("rox-writer"); return s == "Running" })
	var lastLog string
	var lastErr error
	dumpContainerLogs(t, c)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("shoal logs rox-writer said %q, %v", lastLog, lastErr)
		}
	})
	c.waitFor(10*time.Second, "rox-writer's log to say read-only file system", func() bool {
		lastLog, lastErr = c.cli("logs", "rox-writer")
		return strings.Contains(lastLog, "try-write-file: open /data/x: read-only file system")
	})
	if _, err := os.Stat(filepath.Join(seed, "x")); !os.IsNotExist(err) {
		t.Errorf("a write through the ReadOnlyMany claim reached the volume: %v", err)
	}
	c.waitFor(60*time.Second, "first running, on p2", func() bool { s, n := status("first"); return s == "Running" && n == "p2" })
	c.waitFor(30*time.Second, "first's write on p2's disk", func() bool {
		b, _ := os.ReadFile(filepath.Join(disk, "index.txt"))
		return string(b) == "written by first"
	})
	c.mustCLI("delete", "pod", "first")
	c.waitFor(30*time.Second, "first gone", func() bool { s, _ := status("first"); return s == "" })
	c.apply("second", deployment("second", 1, "disk", ""))
	c.waitFor(90*time.Second, "second's pod reading first's data on p2", func() bool {
		for _, p := range running("second") {
			out, _ := c.inHost(p.Spec.NodeName, "curl", "-sS", "--max-time", "5", "http://"+p.Status.PodIP+":9000/")
			return p.Spec.NodeName == "p2" && strings.HasSuffix(out, "written by first")
		}
		return false
	})
}

// dumpContainerLogs logs, when the test fails, every container log file
// the agents' runtimes wrote (small ones whole), for the log-reading steps.
func dumpContainerLogs(t *testing.T, c *procCluster) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		out, _ := exec.Command("sh", "-c", "find "+c.base+" -name '*.log' -path '*containers*' | xargs -r ls -la; "+
			"for f in $(find "+c.base+" -name '*.log' -path '*containers*' -size -2k); do echo == $f; cat $f; done").CombinedOutput()
		t.Logf("container logs on disk:\n%s", out)
	})
}

// Secrets on real containerd, three agents: a secret made with `shoal
// create secret generic` reaches a pod as an env var and as a file on a
// tmpfs; `get -o yaml` shows it redacted and `--reveal` shows its values.
// Then every file in every peer's data directory (raft logs, snapshots,
// runtime state; tmpfs mounts aside, they are memory) and every line the
// peers logged are searched for the value and its base64 form: neither is
// there. A ConfigMap's value, written the same way, is found: the search
// reads what is stored, as stored (nothing is compressed away).
func TestSecretsOnContainerdAreNeverStoredInTheClear(t *testing.T) {
	d, _, c := containerdHosts(t)
	startContainerdPeers(t, c, d)
	importImage(t, c, runtimetest.TesteeSpec)
	value := fmt.Sprintf("s3cr3t-%d-%d", os.Getpid(), time.Now().UnixNano())
	control := fmt.Sprintf("not-secret-%d-%d", os.Getpid(), time.Now().UnixNano())
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(value), 0o600); err != nil {
		t.Fatal(err)
	}
	c.mustCLI("create", "secret", "generic", "db", "--from-literal", "user=app", "--from-file", pwFile)
	c.apply("consumer", `apiVersion: v1
kind: ConfigMap
metadata: {name: control}
data: {value: `+control+`}
---
apiVersion: v1
kind: Pod
metadata: {name: consumer}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: creds, secret: {secretName: db}}]
  containers:
  - name: c
    image: `+runtimetest.TesteeImage+`
    args: [env, DB_USER, cat-file, /creds/user, echo, "", wait]
    env: [{name: DB_USER, valueFrom: {secretKeyRef: {name: db, key: user}}}, {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}]
    volumeMounts: [{name: creds, mountPath: /creds}]
`)
	c.waitFor(60*time.Second, "the consumer printing the secret's user from env and file", func() bool {
		logs, _ := c.cli("logs", "consumer")
		return logs == "app\napp\n"
	})
	yaml := c.mustCLI("get", "secret", "db", "-o", "yaml")
	if strings.Contains(yaml, value) || strings.Contains(yaml, base64.StdEncoding.EncodeToString([]byte(value))) || !strings.Contains(yaml, "shoal.dev/redacted") {
		t.Errorf("get -o yaml is not redacted:\n%s", yaml)
	}
	revealed := c.mustCLI("get", "secret", "db", "-o", "yaml", "--reveal")
	if !strings.Contains(revealed, base64.StdEncoding.EncodeToString([]byte(value))) {
		t.Errorf("get --reveal does not show the value:\n%s", revealed)
	}
	if out := c.mustCLI("get", "secrets"); !strings.Contains(out, "db     Opaque   2") {
		t.Errorf("get secrets:\n%s", out)
	}
	// A rotation seals it again under a new key; it still opens.
	if out := c.mustCLI("secrets", "rotate-key"); !strings.Contains(out, "; 1 secret sealed again under it") {
		t.Errorf("secrets rotate-key: %s", out)
	}
	if again := c.mustCLI("get", "secret", "db", "-o", "yaml", "--reveal"); !strings.Contains(again, base64.StdEncoding.EncodeToString([]byte(value))) {
		t.Errorf("after the rotation, get --reveal does not show the value:\n%s", again)
	}
	// The pod's environment has the value (the runtime keeps it, as
	// Kubernetes' does); its peer's disk does not.
	var pod workload.Pod
	if err := c.apiClient(c.agent(1)).Do(context.Background(), http.MethodGet, "/api/v1/namespaces/default/pods/consumer", nil, &pod); err != nil {
		t.Fatal(err)
	}
	if env := podEnvWith(t, pod.Status.PodIP, "DB_USER=app"); !slices.Contains(env, "DB_PASSWORD="+value) {
		t.Errorf("the consumer's environment lacks DB_PASSWORD")
	}
	// Wait until every replica has the secret: the control, written after
	// it, is on every peer's disk.
	c.waitFor(30*time.Second, "the control value on every peer's disk", func() bool {
		for n := 1; n <= 3; n++ {
			if len(searchDir(t, c.agent(n).dir, control)) == 0 {
				return false
			}
		}
		return true
	})
	for _, needle := range []string{value, base64.StdEncoding.EncodeToString([]byte(value))} {
		for n := 1; n <= 3; n++ {
			a := c.agent(n)
			if hits := searchDir(t, a.dir, needle); len(hits) > 0 {
				t.Errorf("%s's data directory holds a secret value in %v", a.name, hits)
			}
			if strings.Contains(a.log.String(), needle) {
				t.Errorf("%s logged a secret value", a.name)
			}
		}
	}
}

// searchDir lists the files under dir that contain needle, skipping file
// systems mounted below it (a pod's tmpfs volumes: memory, not disk).
func searchDir(t *testing.T, dir, needle string) []string {
	var rootDev uint64
	if fi, err := os.Stat(dir); err == nil {
		rootDev = fi.Sys().(*syscall.Stat_t).Dev
	}
	var hits []string
	_ = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return nil // a file gone meanwhile
		}
		fi, err := e.Info()
		if err != nil {
			return nil
		}
		if fi.Sys().(*syscall.Stat_t).Dev != rootDev {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(needle)) {
			hits = append(hits, p)
		}
		return nil
	})
	return hits
}
