package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/testimage"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
)

// A rolling update on real containerd, three agents: the image of a
// 3-replica Deployment behind a NodePort Service changes from v1 to v2
// while a client sends a steady stream of requests through every peer. No
// request fails; `rollout status` follows it to the end; and at every
// change the pod watch reports, no fewer than replicas-maxUnavailable pods
// are ready and no more than replicas+maxSurge exist (terminating ones
// included). Then `rollout undo --to-revision 1` brings v1 back as
// revision 3, and `rollout history` lists the revisions with their change
// causes; a paused Deployment holds a new image until resumed; restart
// rolls every pod again.
func TestRollingUpdateOnContainerdFailsNoRequest(t *testing.T) {
	d, image, c := containerdHosts(t)
	agents := startContainerdPeers(t, c, d)
	c.importTar(image)
	importImage(t, c, testimage.Webapp("v2"))
	nodePort := 30000 + rand.IntN(2700)
	c.apply("web", fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, annotations: {kubernetes.io/change-cause: "v1"}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: web
        image: shoal.local/webapp:v1
        env: [{name: PORT, value: "9000"}]
        ports: [{name: http, containerPort: 9000}]
        readinessProbe: {httpGet: {path: /healthz, port: 9000}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: http, nodePort: %d}]
`, nodePort))
	if out, err := c.cli("rollout", "status", "deployment/web", "--timeout", "120s"); err != nil {
		t.Fatalf("the first rollout: %v\n%s", err, out)
	}
	// Watch the pods: check the bounds at every change.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var violations []string
	changes := 0
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		err := watchPods(ctx, c.apiClient(c.agent(1)), "app=web", func(pods map[string]workload.Pod) bool {
			ready := 0
			for _, p := range pods {
				if p.ObjectMeta.DeletionTimestamp == nil && workload.IsPodReady(&p) {
					ready++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			changes++
			if len(pods) > 4 || ready < 3 {
				violations = append(violations, fmt.Sprintf("after change %d: %d pods, %d ready", changes, len(pods), ready))
			}
			return false
		})
		if err != nil && ctx.Err() == nil {
			mu.Lock()
			violations = append(violations, "list and watch: "+err.Error())
			mu.Unlock()
		}
	}()
	var all []string
	for _, n := range []string{"p1", "p2", "p3"} {
		all = append(all, fmt.Sprintf("%s:%d", agents[n].ip, nodePort))
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	// The claim is about the rollout: first every peer's NodePort must
	// answer (its proxy has the ready endpoints), or a stream begun while
	// the Service still spreads counts start-up as rollout failures.
	for _, addr := range all {
		c.waitFor(60*time.Second, "an answer from "+addr, func() bool {
			resp, err := client.Get("http://" + addr + "/")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	st := startStream(t, client, all)
	st.waitAnswers(t, 30)
	start := time.Now()
	c.mustCLI("set", "image", "deployment/web", "web=shoal.local/webapp:v2")
	out, err := c.cli("rollout", "status", "deployment/web", "--timeout", "180s")
	if err != nil || !strings.Contains(out, `deployment "web" successfully rolled out`) {
		t.Fatalf("rollout status: %v\n%s", err, out)
	}
	took := time.Since(start)
	c.waitFor(30*time.Second, "answers from v2", func() bool {
		resp, err := client.Get("http://" + all[0] + "/")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b := make([]byte, 256)
		n, _ := resp.Body.Read(b)
		return strings.Contains(string(b[:n]), "(v2)")
	})
	res := st.stop()
	cancel()
	<-watchDone
	mu.Lock()
	defer mu.Unlock()
	if len(res.failed) > 0 {
		t.Errorf("during the rollout (set image at +%.2fs, rolled out at +%.2fs of the stream) %d of %d requests failed; the first and the last: %v ... %v",
			start.Sub(st.began).Seconds(), start.Add(took).Sub(st.began).Seconds(), len(res.failed), res.sent,
			res.failed[:min(5, len(res.failed))], res.failed[max(0, len(res.failed)-5):])
	}
	if len(violations) > 0 {
		t.Errorf("bounds broken during the rollout: %v", violations)
	}
	t.Logf("v1 to v2 in %s under a stream: %d requests, %d failed; %d pod changes watched; rollout status said:\n%s",
		took.Round(100*time.Millisecond), res.sent, len(res.failed), changes, out)

	// Undo: back to v1, as revision 3.
	c.mustCLI("rollout", "undo", "deployment/web", "--to-revision", "1")
	if out, err := c.cli("rollout", "status", "deployment/web", "--timeout", "180s"); err != nil {
		t.Fatalf("rollout status after undo: %v\n%s", err, out)
	}
	hist := c.mustCLI("rollout", "history", "deployment/web")
	var revs []string
	for _, line := range strings.Split(hist, "\n")[2:] {
		if f := strings.Fields(line); len(f) == 2 {
			revs = append(revs, f[0]+":"+f[1])
		}
	}
	if strings.Join(revs, " ") != "2:v1 3:v1" { // v1's ReplicaSet came back as revision 3; the cause was never changed
		t.Errorf("rollout history:\n%s", hist)
	}
	if tmpl := c.mustCLI("rollout", "history", "deployment/web", "--revision", "2"); !strings.Contains(tmpl, "image: shoal.local/webapp:v2") {
		t.Errorf("rollout history --revision 2:\n%s", tmpl)
	}
	var dep workload.Deployment
	if err := c.apiClient(c.agent(1)).Do(context.Background(), http.MethodGet, "/apis/apps/v1/namespaces/default/deployments/web", nil, &dep); err != nil {
		t.Fatal(err)
	}
	if dep.ObjectMeta.Annotations[workload.AnnotationRevision] != "3" || dep.Spec.Template.Spec.Containers[0].Image != "shoal.local/webapp:v1" {
		t.Errorf("after undo: revision %q, image %s; want 3 and v1", dep.ObjectMeta.Annotations[workload.AnnotationRevision], dep.Spec.Template.Spec.Containers[0].Image)
	}

	// Pause: a new image waits, and Progressing says why; resume rolls it
	// out. Restart replaces every pod with a new revision.
	get := func() (dep workload.Deployment) {
		_ = c.apiClient(c.agent(1)).Do(context.Background(), http.MethodGet, "/apis/apps/v1/namespaces/default/deployments/web", nil, &dep)
		return dep
	}
	c.mustCLI("rollout", "pause", "deployment/web")
	c.mustCLI("set", "image", "deployment/web", "web=shoal.local/webapp:v2")
	c.waitFor(30*time.Second, "Progressing to say DeploymentPaused, for the new image", func() bool {
		d := get()
		if d.Status.ObservedGeneration != d.ObjectMeta.Generation {
			return false // the status is from before set image
		}
		for _, cd := range d.Status.Conditions {
			if cd.Type == "Progressing" && cd.Reason == "DeploymentPaused" {
				return true
			}
		}
		return false
	})
	if d := get(); d.Status.UpdatedReplicas != 0 || d.ObjectMeta.Annotations[workload.AnnotationRevision] != "3" {
		t.Errorf("paused with a new image: %d updated replicas, revision %q; want 0 and 3", d.Status.UpdatedReplicas, d.ObjectMeta.Annotations[workload.AnnotationRevision])
	}
	c.mustCLI("rollout", "resume", "deployment/web")
	if out, err := c.cli("rollout", "status", "deployment/web", "--timeout", "180s"); err != nil {
		t.Fatalf("rollout status after resume: %v\n%s", err, out)
	}
	if d := get(); d.ObjectMeta.Annotations[workload.AnnotationRevision] != "4" {
		t.Errorf("after resume: revision %q, want 4 (v2 again)", d.ObjectMeta.Annotations[workload.AnnotationRevision])
	}
	c.mustCLI("rollout", "restart", "deployment/web")
	if out, err := c.cli("rollout", "status", "deployment/web", "--timeout", "180s"); err != nil {
		t.Fatalf("rollout status after restart: %v\n%s", err, out)
	}
	if d := get(); d.ObjectMeta.Annotations[workload.AnnotationRevision] != "5" || d.Spec.Template.ObjectMeta.Annotations[AnnotationRestartedAt] == "" {
		t.Errorf("after restart: revision %q, template annotations %v; want 5 and restartedAt", d.ObjectMeta.Annotations[workload.AnnotationRevision], d.Spec.Template.ObjectMeta.Annotations)
	}
}

// Rollouts that go wrong, on real containerd: an image that cannot be
// pulled stalls its rollout with every old pod still serving, and `rollout
// status` exits non-zero at the progress deadline; with
// shoal.dev/auto-rollback the previous revision comes back by itself, with
// an event saying why. Recreate starts no new pod while an old one is
// left.
func TestRolloutsOnContainerdThatGoWrong(t *testing.T) {
	d, image, c := containerdHosts(t)
	startContainerdPeers(t, c, d)
	c.importTar(image)
	importImage(t, c, testimage.Webapp("v2"))
	deployment := func(name, extra string) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s%[2]s}
spec:
  replicas: 2
  progressDeadlineSeconds: 10
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: shoal.local/webapp:v1
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
`, name, extra)
	}
	c.apply("deployments", strings.Join([]string{
		deployment("stall", ""),
		deployment("auto", `, annotations: {shoal.dev/auto-rollback: "true"}`),
		strings.Replace(deployment("re", ""), "  progressDeadlineSeconds: 10\n", "  strategy: {type: Recreate}\n", 1),
	}, "---\n"))
	for _, name := range []string{"stall", "auto", "re"} {
		if out, err := c.cli("rollout", "status", "deployment/"+name, "--timeout", "120s"); err != nil {
			t.Fatalf("%s's first rollout: %v\n%s", name, err, out)
		}
	}
	cl := c.apiClient(c.agent(1))
	get := func(name string) workload.Deployment {
		var dep workload.Deployment
		_ = cl.Do(context.Background(), http.MethodGet, "/apis/apps/v1/namespaces/default/deployments/"+name, nil, &dep)
		return dep
	}
	// A missing image (a registry on loopback that refuses): the rollout
	// stalls and rollout status gives up at the deadline.
	missing := "127.0.0.1:1/webapp:missing"
	c.mustCLI("set", "image", "deployment/stall", "web="+missing)
	c.mustCLI("set", "image", "deployment/auto", "web="+missing)
	out, err := c.cli("rollout", "status", "deployment/stall", "--timeout", "90s")
	if err == nil || !strings.Contains(out+err.Error(), `deployment "stall" exceeded its progress deadline`) {
		t.Fatalf("rollout status of a stalled rollout: %v\n%s", err, out)
	}
	st := get("stall").Status
	if st.AvailableReplicas != 2 {
		t.Errorf("stalled: %d pods available, want both old ones (maxUnavailable 0)", st.AvailableReplicas)
	}
	var prog workload.DeploymentCondition
	for _, c := range st.Conditions {
		if c.Type == "Progressing" {
			prog = c
		}
	}
	if prog.Status != workload.ConditionFalse || prog.Reason != "ProgressDeadlineExceeded" {
		t.Errorf("stalled: Progressing %+v", prog)
	}
	// With auto-rollback, v1 comes back.
	c.waitFor(90*time.Second, "auto rolled back to v1", func() bool {
		dep := get("auto")
		return dep.Spec.Template.Spec.Containers[0].Image == "shoal.local/webapp:v1" && dep.ObjectMeta.Annotations[workload.AnnotationRevision] == "3"
	})
	if out, err := c.cli("rollout", "status", "deployment/auto", "--timeout", "60s"); err != nil {
		t.Fatalf("after the automatic rollback: %v\n%s", err, out)
	}
	said := "" // events are written in the background: wait for it
	c.waitFor(30*time.Second, "a DeploymentRollback event", func() bool {
		var evs struct{ Items []workload.Event }
		if err := cl.Do(context.Background(), http.MethodGet, "/api/v1/namespaces/default/events", nil, &evs); err != nil {
			return false
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.Name == "auto" && e.Reason == "DeploymentRollback" {
				said = e.Message
			}
		}
		return said != ""
	})
	if !strings.HasPrefix(said, `Rolled back deployment "auto" to revision 1: revision 2 `) {
		t.Errorf("the DeploymentRollback event says %q", said)
	}
	t.Logf("auto-rollback: %s", said)

	// Recreate: at no change the watch reports does a new pod run while an
	// old one exists.
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	started := make(chan struct{})
	go func() {
		<-started
		if out, err := c.cli("set", "image", "deployment/re", "web=shoal.local/webapp:v2"); err != nil {
			t.Errorf("set image: %v: %s", err, out)
			cancel()
		}
	}()
	var broken string
	done := false
	err = watchPods(ctx, cl, "app=re", func(pods map[string]workload.Pod) bool {
		select {
		case <-started:
		default:
			close(started) // watching: change the image now
		}
		var old, newRunning, newReady int
		for _, p := range pods {
			if p.Spec.Containers[0].Image == "shoal.local/webapp:v1" {
				old++
			} else if p.Status.Phase == workload.PodRunning {
				newRunning++
				if workload.IsPodReady(&p) {
					newReady++
				}
			}
		}
		if old > 0 && newRunning > 0 {
			broken = fmt.Sprintf("%d new pods run while %d old ones exist", newRunning, old)
			return true
		}
		done = newReady == 2 && old == 0
		return done
	})
	if broken != "" {
		t.Fatalf("Recreate: %s", broken)
	}
	if !done {
		t.Fatalf("Recreate: both v2 pods were not ready in time: %v", err)
	}
}

// watchPods lists the pods selector picks, then follows their watch from
// the list's version, calling f with all of them at first and after every
// change, until f returns true (nil), ctx ends or the watch fails.
func watchPods(ctx context.Context, cl *api.Client, selector string, f func(map[string]workload.Pod) bool) error {
	var list struct {
		ObjectMeta struct{ ResourceVersion string } `json:"metadata"`
		Items      []workload.Pod
	}
	q := url.QueryEscape(selector)
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods?labelSelector="+q, nil, &list); err != nil {
		return err
	}
	pods := map[string]workload.Pod{}
	for _, p := range list.Items {
		pods[p.ObjectMeta.Name] = p
	}
	if f(pods) {
		return nil
	}
	body, err := cl.Stream(ctx, "/api/v1/namespaces/default/pods?watch=true&labelSelector="+q+"&resourceVersion="+url.QueryEscape(list.ObjectMeta.ResourceVersion))
	if err != nil {
		return err
	}
	defer body.Close()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		var ev struct {
			Type   string
			Object workload.Pod
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if ev.Type == "DELETED" {
			delete(pods, ev.Object.ObjectMeta.Name)
		} else {
			pods[ev.Object.ObjectMeta.Name] = ev.Object
		}
		if f(pods) {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return ctx.Err()
}

// The seed example (examples/seed/), as users apply it, on real
// containerd, three agents: the claim binds ReadOnlyMany to the volume,
// three replicas spread over the peers, and every peer's NodePort reaches
// all three, each serving the volume's file (which the ConfigMap names)
// after its greeting. The Secret is shown redacted. Its volume's path is
// the test's own directory instead of /srv/shoal-seed/content.
func TestSeedExampleOnContainerd(t *testing.T) {
	d, image, c := containerdHosts(t)
	agents := startContainerdPeers(t, c, d)
	c.importTar(image)
	content := t.TempDir()
	if err := os.WriteFile(filepath.Join(content, "index.txt"), []byte("Hello from the seed example's volume.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	seed := t.TempDir()
	nodePort := 30000 + rand.IntN(2700) // not 30080: tests may run beside others
	for _, f := range []string{"storage.yaml", "config.yaml", "web.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "examples", "seed", f))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(b), "/srv/shoal-seed/content", content)
		text = strings.ReplaceAll(text, "nodePort: 30080", fmt.Sprintf("nodePort: %d", nodePort))
		if err := os.WriteFile(filepath.Join(seed, f), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c.mustCLI("apply", "-f", seed)
	if out, err := c.cli("rollout", "status", "deployment/web", "--timeout", "120s"); err != nil {
		t.Fatalf("rollout status: %v\n%s", err, out)
	}
	if out := c.mustCLI("get", "pvc"); !strings.Contains(out, "seed-content   Bound    seed-content   100Gi      ROX") {
		t.Errorf("get pvc:\n%s", out)
	}
	var pods struct{ Items []workload.Pod }
	if err := c.apiClient(c.agent(1)).Do(context.Background(), http.MethodGet, "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb", nil, &pods); err != nil {
		t.Fatal(err)
	}
	nodes := map[string]bool{}
	for _, p := range pods.Items {
		nodes[p.Spec.NodeName] = true
	}
	if len(nodes) != 3 {
		t.Errorf("the replicas run on %v, want one on each peer", nodes)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, name := range []string{"p1", "p2", "p3"} {
		seen := map[string]bool{}
		c.waitFor(60*time.Second, name+"'s NodePort reaching all 3 replicas with the volume's file", func() bool {
			resp, err := client.Get(fmt.Sprintf("http://%s:%d/", agents[name].ip, nodePort))
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			b := make([]byte, 512)
			n, _ := io.ReadFull(resp.Body, b)
			body := string(b[:n])
			if m := helloFrom.FindStringSubmatch(body); m != nil && strings.HasSuffix(body, "Hello from the seed example's volume.\n") {
				seen[m[1]] = true
			}
			return len(seen) == 3
		})
	}
	if out := c.mustCLI("get", "secret", "web-token", "-o", "yaml"); strings.Contains(out, "change-me") || !strings.Contains(out, "shoal.dev/redacted") {
		t.Errorf("the seed Secret is not redacted:\n%s", out)
	}
}
