package peer

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/workload"
)

func reqPod(name, node, cpu string) *workload.Pod {
	return &workload.Pod{
		ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: name, UID: workload.UID("uid-" + name)},
		Spec: workload.PodSpec{NodeName: node, Containers: []workload.Container{{Name: "c", Resources: workload.ResourceRequirements{
			Requests: workload.ResourceList{workload.ResourceCPU: workload.MustParseQuantity(cpu), workload.ResourceMemory: workload.MustParseQuantity("64Mi")},
		}}}},
	}
}

func TestClaimCommandsAreOneCompareAndSwapPerLedger(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	existing := map[string]*ledger{"n1": {Node: "n1", Claims: map[string]claim{"uid-old": {Pod: "default/old", MilliCPU: 500}}, rv: 42}}
	cmds, err := claimCommands(existing, []placement{
		{reqPod("a", "", "250m"), "n1"}, {reqPod("b", "", "100m"), "n2"}, {reqPod("c", "", "250m"), "n1"},
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 2 {
		t.Fatalf("%d commands, want one per node", len(cmds))
	}
	if cmds[0].Op != consensus.OpUpdate || cmds[0].Precondition != 42 || cmds[0].Object.Name != "capacity.n1" {
		t.Fatalf("n1: %+v, want an update on resourceVersion 42", cmds[0])
	}
	if cmds[1].Op != consensus.OpCreate || cmds[1].Object.Name != "capacity.n2" {
		t.Fatalf("n2: %+v, want a create", cmds[1])
	}
	l, err := decodeLedger(cmds[0].Object)
	if err != nil {
		t.Fatal(err)
	}
	if cpu, _ := l.sum(); cpu != 1000 || len(l.Claims) != 3 {
		t.Fatalf("n1 holds %dm in %d claims, want 1000m in 3", cpu, len(l.Claims))
	}
	if len(existing["n1"].Claims) != 1 {
		t.Fatal("claimCommands changed the ledger it read")
	}
}

func TestPruneLedger(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	finished := reqPod("done", "n1", "1")
	finished.Status.Phase = workload.PodSucceeded
	pods := map[string]*workload.Pod{
		"uid-running": reqPod("running", "n1", "1"),
		"uid-moved":   reqPod("moved", "n2", "1"),
		"uid-binding": reqPod("binding", "", "1"),
		"uid-stale":   reqPod("stale", "", "1"),
		"uid-done":    finished,
	}
	l := &ledger{Node: "n1", Claims: map[string]claim{
		"uid-running": {At: now}, "uid-moved": {At: now}, "uid-binding": {At: now.Add(-time.Second)},
		"uid-stale": {At: now.Add(-time.Minute)}, "uid-done": {At: now}, "uid-gone": {At: now},
	}}
	if !pruneLedger(l, pods, now) {
		t.Fatal("nothing pruned")
	}
	var kept []string
	for uid := range l.Claims {
		kept = append(kept, uid)
	}
	b, _ := json.Marshal(kept)
	if len(l.Claims) != 2 || l.Claims["uid-running"].At.IsZero() || l.Claims["uid-binding"].At.IsZero() {
		t.Fatalf("kept %s, want uid-running and uid-binding", b)
	}
	if pruneLedger(l, pods, now) {
		t.Fatal("a second prune changed something")
	}
}
