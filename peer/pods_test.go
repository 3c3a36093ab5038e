package peer

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
)

func TestNextPodCIDR(t *testing.T) {
	cluster := netip.MustParsePrefix("10.32.0.0/12")
	got, err := nextPodCIDR(cluster, map[string]bool{"10.32.0.0/24": true, "10.32.1.0/24": true})
	if err != nil || got != "10.32.2.0/24" {
		t.Fatalf("got %q, %v; want 10.32.2.0/24", got, err)
	}
	full := map[string]bool{}
	small := netip.MustParsePrefix("10.1.0.0/23")
	full["10.1.0.0/24"], full["10.1.1.0/24"] = true, true
	if _, err := nextPodCIDR(small, full); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("full cluster CIDR: %v, want unavailable", err)
	}
	if _, err := nextPodCIDR(netip.MustParsePrefix("10.1.0.0/25"), nil); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("a /25 cluster: %v, want invalid", err)
	}
	if claimName("10.32.5.0/24") != "podcidr.10-32-5-0-24" {
		t.Fatalf("claim name %q", claimName("10.32.5.0/24"))
	}
}

// A pod applied through one peer and bound to another runs on that peer's
// runtime, with an IP from that node's pod CIDR; deleting it through a
// third peer stops it and then removes it.
func TestPodBoundToAPeerRunsThereAndDeletesGracefully(t *testing.T) {
	c := newTestCluster(t)
	c.withRuntime = true
	c.startPeers(3)
	ctx := context.Background()
	cl1, cl3 := c.client("p1"), c.client("p3")

	var nodes struct{ Items []workload.Node }
	waitFor(t, 20*time.Second, "three nodes with pod CIDRs", func() bool {
		if err := cl1.Do(ctx, http.MethodGet, "/api/v1/nodes", nil, &nodes); err != nil {
			return false
		}
		cidrs := map[string]bool{}
		for _, n := range nodes.Items {
			cidrs[n.Spec.PodCIDR] = n.Spec.PodCIDR != ""
		}
		return len(nodes.Items) == 3 && len(cidrs) == 3 && !cidrs[""]
	})
	var p2CIDR netip.Prefix
	for _, n := range nodes.Items {
		if n.ObjectMeta.Name == "p2" {
			p2CIDR = netip.MustParsePrefix(n.Spec.PodCIDR)
			if n.ObjectMeta.Labels["topology.kubernetes.io/zone"] != "z-p2" || n.Status.Conditions[0].Status != workload.ConditionTrue {
				t.Errorf("node p2: labels %v, conditions %+v", n.ObjectMeta.Labels, n.Status.Conditions)
			}
		}
	}
	// Users do not write nodes.
	if err := cl1.Do(ctx, http.MethodDelete, "/api/v1/nodes/p2", nil, nil); !errors.Is(err, errdefs.ErrForbidden) {
		t.Errorf("deleting a node: %v, want forbidden", err)
	}

	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "web", "namespace": "default"},
		"spec": map[string]any{"nodeName": "p2", "containers": []any{map[string]any{
			"name": "web", "image": "shoal.local/webapp:v1", "imagePullPolicy": "IfNotPresent"}}},
	}
	if err := cl1.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/pods", pod, nil); err != nil {
		t.Fatal(err)
	}
	var got workload.Pod
	waitFor(t, 20*time.Second, "the pod to run on p2", func() bool {
		if err := cl3.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods/web", nil, &got); err != nil {
			return false
		}
		return got.Status.Phase == workload.PodRunning
	})
	ip, err := netip.ParseAddr(got.Status.PodIP)
	if err != nil || !p2CIDR.Contains(ip) {
		t.Fatalf("pod IP %q is not in p2's pod CIDR %s", got.Status.PodIP, p2CIDR)
	}
	if sbs, _ := c.runtime("p2").ListSandboxes(ctx); len(sbs) != 1 {
		t.Fatalf("p2 runs %d sandboxes, want 1", len(sbs))
	}
	for _, other := range []string{"p1", "p3"} {
		if sbs, _ := c.runtime(other).ListSandboxes(ctx); len(sbs) != 0 {
			t.Fatalf("%s runs a sandbox for a pod bound to p2", other)
		}
	}
	var events struct{ Items []workload.Event }
	waitFor(t, 10*time.Second, "a Started event", func() bool {
		if err := cl1.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/events", nil, &events); err != nil {
			return false
		}
		for _, e := range events.Items {
			if e.Reason == "Started" && e.InvolvedObject.Name == "web" && e.Source.Host == "p2" {
				return true
			}
		}
		return false
	})

	// Logs and exec through peers that do not run the pod.
	logs, err := cl1.Stream(ctx, "/api/v1/namespaces/default/pods/web/log")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(logs)
	logs.Close()
	if string(b) != "hello from web\n" {
		t.Fatalf("logs through p1: %q", b)
	}
	out, err := cl3.StreamBody(ctx, http.MethodPost, "/api/v1/namespaces/default/pods/web/exec?command=cat&command=-n&stdin=true", strings.NewReader("typed"))
	if err != nil {
		t.Fatal(err)
	}
	frames, _ := io.ReadAll(out)
	out.Close()
	if !bytes.Contains(frames, []byte(`ran cat -n with "typed"`)) || !bytes.HasSuffix(frames, []byte{ExecExit, 0, 0, 0, 1, '2'}) {
		t.Fatalf("exec through p3: %q", frames)
	}
	if _, err := cl1.Stream(ctx, "/api/v1/namespaces/default/pods/web/log?container=nope"); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("logs of an unknown container: %v", err)
	}

	var deleting workload.Pod
	if err := cl3.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/pods/web", nil, &deleting); err != nil {
		t.Fatal(err)
	}
	if deleting.ObjectMeta.DeletionTimestamp == nil {
		t.Fatalf("a bound pod was deleted at once, not marked terminating: %+v", deleting.ObjectMeta)
	}
	waitFor(t, 20*time.Second, "the pod to be gone", func() bool {
		err := cl1.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods/web", nil, nil)
		return errors.Is(err, errdefs.ErrNotFound)
	})
	if sbs, _ := c.runtime("p2").ListSandboxes(ctx); len(sbs) != 0 {
		t.Fatalf("p2 still runs the deleted pod's sandbox")
	}

	// An unbound pod is deleted at once (its nodeSelector keeps the
	// scheduler from binding it meanwhile).
	pod["metadata"] = map[string]any{"name": "unbound", "namespace": "default"}
	pod["spec"].(map[string]any)["nodeName"] = ""
	pod["spec"].(map[string]any)["nodeSelector"] = map[string]any{"disk": "none-has-this"}
	if err := cl1.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/pods", pod, nil); err != nil {
		t.Fatal(err)
	}
	if err := cl1.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/pods/unbound", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := cl1.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods/unbound", nil, nil); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("unbound pod after delete: %v", err)
	}
}

// ociTar is an OCI layout archive holding only index.json, naming one
// image: all the in-memory runtime reads.
func ociTar(t *testing.T, name, digest string) []byte {
	t.Helper()
	index := fmt.Sprintf(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":100,"annotations":{"io.containerd.image.name":%q}}]}`, digest, name)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range map[string]string{"oci-layout": `{"imageLayoutVersion":"1.0.0"}`, "index.json": index} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(body))
	}
	_ = tw.Close()
	return buf.Bytes()
}

// An image imported into one peer runs on another: the second fetches it
// from the first, and image ls shows both holding it.
func TestImageImportedOnOnePeerRunsOnAnother(t *testing.T) {
	c := newTestCluster(t)
	c.withRuntime = true
	c.startPeers(3)
	ctx := context.Background()
	cl2, cl1 := c.client("p2"), c.client("p1")
	waitFor(t, 20*time.Second, "p2 and p3 runtimes", func() bool { return c.runtime("p2") != nil && c.runtime("p3") != nil })

	const ref = "shoal.local/only-on-p2:v1"
	digest := "sha256:" + strings.Repeat("ab", 32)
	body, err := cl2.StreamBody(ctx, http.MethodPost, "/v1/images", bytes.NewReader(ociTar(t, ref, digest)))
	if err != nil {
		t.Fatal(err)
	}
	var imported api.ImageList
	_ = json.NewDecoder(body).Decode(&imported)
	body.Close()
	if len(imported.Items) != 1 || imported.Items[0].Name != ref || imported.Items[0].Peers[0] != "p2" {
		t.Fatalf("imported %+v", imported)
	}
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "p2p", "namespace": "default"},
		"spec":     map[string]any{"nodeName": "p3", "containers": []any{map[string]any{"name": "app", "image": ref}}},
	}
	if err := cl1.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/pods", pod, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the pod to run on p3", func() bool {
		var got workload.Pod
		return cl1.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods/p2p", nil, &got) == nil && got.Status.Phase == workload.PodRunning
	})
	if im, err := c.runtime("p3").ImageStatus(ctx, ref); err != nil || im.Digest != digest {
		t.Fatalf("p3 holds %+v, %v; want digest %s", im, err, digest)
	}
	var all api.ImageList
	if err := cl1.Do(ctx, http.MethodGet, "/v1/images", nil, &all); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, im := range all.Items {
		if im.Name == ref {
			found = true
			if strings.Join(im.Peers, ",") != "p2,p3" {
				t.Errorf("%s is on %v, want p2 and p3", ref, im.Peers)
			}
		}
	}
	if !found {
		t.Errorf("image ls lacks %s: %+v", ref, all)
	}
}
