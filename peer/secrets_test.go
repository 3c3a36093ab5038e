package peer

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/shoalproject/shoal/consensus"
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
	var shown, revealed workload.Secret
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/secrets/db", nil, &shown); err != nil {
		t.Fatal(err)
	}
	if len(shown.Data) != 2 || len(shown.Data["password"]) != 0 || shown.Sealed != nil || shown.Metadata.Annotations[workload.AnnotationRedacted] != "true" {
		t.Errorf("shown: data %q, sealed %v, annotations %v; want two keys without values, redacted", shown.Data, shown.Sealed, shown.Metadata.Annotations)
	}
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/secrets/db?reveal=true", nil, &revealed); err != nil {
		t.Fatal(err)
	}
	if string(revealed.Data["password"]) != "hunter2-plain" || string(revealed.Data["user"]) != "app" {
		t.Errorf("revealed: %q", revealed.Data)
	}
	var list struct{ Items []workload.Secret }
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/secrets", nil, &list); err != nil || len(list.Items) != 1 || len(list.Items[0].Data["password"]) != 0 {
		t.Errorf("a list shows %+v, %v; want the secret redacted", list.Items, err)
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
	body["sealed"] = map[string]any{"key": "x", "box": "eA=="}
	body["metadata"] = map[string]any{"name": "forged"}
	if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/secrets", body, nil); err == nil || !strings.Contains(err.Error(), "sealed: Forbidden") {
		t.Errorf("a user's sealed field: %v, want Forbidden", err)
	}
}
