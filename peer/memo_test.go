package peer

import (
	"fmt"
	"testing"

	"github.com/shoalproject/shoal/consensus"
)

func podObject(name string, rv uint64, phase string) consensus.Object {
	return consensus.Object{Kind: "Pod", Namespace: "default", Name: name, ResourceVersion: rv,
		Data: []byte(fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q,"namespace":"default"},"status":{"phase":%q}}`, name, phase))}
}

func TestPodMemoDecodesOnlyWhatChanged(t *testing.T) {
	m := newPodMemo()
	first := m.decode([]consensus.Object{podObject("a", 1, "Pending"), podObject("b", 2, "Pending"), {Kind: "Pod", Name: "bad", Data: []byte("{")}})
	if len(first) != 2 || first[0].ObjectMeta.Name != "a" || first[0].ObjectMeta.ResourceVersion != "1" {
		t.Fatalf("first decode: %d pods, %+v", len(first), first)
	}
	again := m.decode([]consensus.Object{podObject("a", 1, "Pending"), podObject("b", 3, "Running")})
	if again[0] != first[0] {
		t.Error("an unchanged pod was decoded again")
	}
	if again[1] == first[1] || again[1].Status.Phase != "Running" || again[1].ObjectMeta.ResourceVersion != "3" {
		t.Errorf("a changed pod: %+v; want its new version decoded", again[1])
	}
	// Pods no list returns any more are forgotten once the memo is large.
	for i := range 3000 {
		m.decode([]consensus.Object{podObject(fmt.Sprintf("p%d", i), 1, "Pending")})
	}
	if n := len(m.byKey); n > 2*m.most+1024 {
		t.Errorf("the memo holds %d pods after lists of at most %d", n, m.most)
	}
}

func TestMemoRemembersWhatAWriterStored(t *testing.T) {
	m := newPodMemo()
	so := podObject("a", 5, "Pending")
	pod, err := decodePod(so)
	if err != nil {
		t.Fatal(err)
	}
	m.remember(so.Key(), 5, &pod)
	if got := m.decode([]consensus.Object{so}); len(got) != 1 || got[0] != &pod {
		t.Error("a remembered pod at its version was decoded again")
	}
	older := pod
	m.remember(so.Key(), 4, &older)
	if got := m.decode([]consensus.Object{so}); got[0] != &pod {
		t.Error("an older version replaced a newer one")
	}
	if got := m.decode([]consensus.Object{podObject("a", 6, "Running")}); got[0] == &pod || got[0].Status.Phase != "Running" {
		t.Error("a newer stored version did not replace the remembered one")
	}
}
