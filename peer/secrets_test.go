package peer

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
)

// A secret is sealed before it is stored: the stored object holds neither
// value nor its base64; the API shows it redacted, and with ?reveal=true
// its values; an update is sealed again; a pod's peer opens it.
func TestSecretsAreSealedAndShownRedacted(t *testing.T) {
	c := newTestCluster(t)
	c.startPeers(1)
	ctx := context.Background()
	cl := c.client("p1")
	body := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "db"},
		"data": map[string]any{"user": base64.StdEncoding.EncodeToString([]byte("app"))}, "stringData": map[string]any{"password": "hunter2-plain"}}
	if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/secrets", body, nil); err != nil {
		t.Fatal(err)
	}
	p := c.peers["p1"]
	raw := func() string {
		k := consensus.Key{Kind: "Secret", Namespace: "default", Name: "db"}
		so, err := p.store.Get(ctx, p.shardOf(k), k, true)
		if err != nil {
			t.Fatal(err)
		}
		return string(so.Data)
	}
	for _, v := range []string{"hunter2-plain", base64.StdEncoding.EncodeToString([]byte("hunter2-plain")), "stringData"} {
		if strings.Contains(raw(), v) {
			t.Fatalf("the stored secret holds %q: %s", v, raw())
		}
	}
	// The API gives a secret's values to whoever may read it, as
	// Kubernetes does (Helm keeps its releases in secrets); the shoal CLI
	// shows them redacted unless --reveal, and never is the sealed form
	// shown.
	var shown, revealed workload.Secret
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/secrets/db", nil, &revealed); err != nil {
		t.Fatal(err)
	}
	if string(revealed.Data["password"]) != "hunter2-plain" || string(revealed.Data["user"]) != "app" || revealed.Annotations[workload.AnnotationSealed] != "" {
		t.Errorf("read: data %q, annotations %v", revealed.Data, revealed.Annotations)
	}
	var list struct{ Items []workload.Secret }
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/secrets", nil, &list); err != nil || len(list.Items) != 1 || list.Items[0].Annotations[workload.AnnotationSealed] != "" {
		t.Errorf("a list shows %+v, %v; want the secret opened", list.Items, err)
	}
	// Writing a redacted copy (what `shoal get secret -o yaml` prints) back
	// would empty every value: refused.
	shown = *revealed.DeepCopy()
	for k := range shown.Data {
		shown.Data[k] = nil
	}
	shown.Annotations = map[string]string{workload.AnnotationRedacted: "true"}
	if err := cl.Do(ctx, http.MethodPut, "/api/v1/namespaces/default/secrets/db", &shown, nil); err == nil || !strings.Contains(err.Error(), "redacted copy") {
		t.Errorf("writing back a redacted copy: %v, want it refused", err)
	}
	// An update is sealed too, and what a pod's peer reads is opened.
	revealed.Data["password"] = []byte("rotated-plain")
	if err := cl.Do(ctx, http.MethodPut, "/api/v1/namespaces/default/secrets/db", &revealed, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw(), "rotated-plain") || strings.Contains(raw(), base64.StdEncoding.EncodeToString([]byte("rotated-plain"))) {
		t.Fatalf("the updated secret is stored in the clear: %s", raw())
	}
	s, err := podStore{p: p}.Secret(ctx, "default", "db")
	if err != nil || string(s.Data["password"]) != "rotated-plain" {
		t.Fatalf("podStore.Secret = %q, %v", s.Data, err)
	}
	// A user may not write the sealed form.
	body["metadata"] = map[string]any{"name": "forged", "annotations": map[string]any{workload.AnnotationSealed: `{"key":"x","box":"eA=="}`}}
	if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/secrets", body, nil); err == nil || !strings.Contains(err.Error(), "sealed]: Forbidden") {
		t.Errorf("a user's sealed field: %v, want Forbidden", err)
	}
}

// A rotation adds a key every peer learns through the store, and seals
// every secret again under it; secrets written afterwards use it too, and
// every peer opens them.
func TestRotatingTheSecretKey(t *testing.T) {
	c := newTestCluster(t)
	c.startPeers(3)
	c.waitReplicas(3)
	ctx := context.Background()
	put := func(name, value string) {
		t.Helper()
		body := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": name}, "stringData": map[string]any{"v": value}}
		if err := c.client("p1").Do(ctx, http.MethodPost, "/api/v1/namespaces/default/secrets", body, nil); err != nil {
			t.Fatal(err)
		}
	}
	sealedWith := func(name string) string {
		p := c.peers["p1"]
		k := consensus.Key{Kind: "Secret", Namespace: "default", Name: name}
		so, err := p.store.Get(ctx, p.shardOf(k), k, true)
		if err != nil {
			t.Fatal(err)
		}
		var s workload.Secret
		if err := decodeInto(so, &s); err != nil {
			t.Fatal(err)
		}
		sealed, err := workload.SealedOf(&s)
		if err != nil || sealed == nil {
			t.Fatalf("%s: %v, sealed %v", name, err, sealed)
		}
		return sealed.Key
	}
	put("a", "first-value")
	put("b", "second-value")
	old := sealedWith("a")
	if old != keyID(c.peers["p1"].encryptionKey()) {
		t.Fatalf("a is sealed with %s, want the cluster key's %s", old, keyID(c.peers["p1"].encryptionKey()))
	}
	var rot api.KeyRotation
	if err := c.client("p2").Do(ctx, http.MethodPost, api.PathRotateSecretKey, nil, &rot); err != nil {
		t.Fatal(err)
	}
	if rot.Resealed != 2 || rot.Key == old {
		t.Fatalf("rotation %+v, want 2 secrets sealed again under a new key", rot)
	}
	for _, name := range []string{"a", "b"} {
		if got := sealedWith(name); got != rot.Key {
			t.Errorf("%s is sealed with %s after the rotation, want %s", name, got, rot.Key)
		}
	}
	put("c", "third-value")
	if got := sealedWith("c"); got != rot.Key {
		t.Errorf("a secret written after the rotation is sealed with %s, want %s", got, rot.Key)
	}
	for _, peer := range []string{"p1", "p2", "p3"} {
		for name, want := range map[string]string{"a": "first-value", "c": "third-value"} {
			s, err := podStore{p: c.peers[peer]}.Secret(ctx, "default", name)
			if err != nil || string(s.Data["v"]) != want {
				t.Errorf("%s opening %s: %q, %v", peer, name, s.Data, err)
			}
		}
	}
}
