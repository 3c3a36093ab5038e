package peer

import (
	"encoding/json"
	"reflect"
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
	if cpu := l.sum().MilliCPU; cpu != 1000 || len(l.Claims) != 3 {
		t.Fatalf("n1 holds %dm in %d claims, want 1000m in 3", cpu, len(l.Claims))
	}
	if len(existing["n1"].Claims) != 1 {
		t.Fatal("claimCommands changed the ledger it read")
	}
}

// A claim holds every resource the pod requests, through the ledger's
// JSON, and the stand-in a pass makes of it requests the same again.
func TestCapacityClaimsHoldExtendedResourcesAndEphemeralStorage(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	p := reqPod("gpu", "", "250m")
	c := &p.Spec.Containers[0]
	c.Resources.Requests["ephemeral-storage"] = workload.MustParseQuantity("2Gi")
	c.Resources.Requests["hugepages-2Mi"] = workload.MustParseQuantity("4Mi")
	c.Resources.Limits = workload.ResourceList{"nvidia.com/gpu": workload.MustParseQuantity("2"), "example.com/dongle": workload.MustParseQuantity("1")}
	cmds, err := claimCommands(nil, []placement{{p, "n1"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	l, err := decodeLedger(cmds[0].Object)
	if err != nil {
		t.Fatal(err)
	}
	want := workload.ComputeResources{MilliCPU: 250, Memory: 64 << 20, EphemeralStorage: 2 << 30,
		Scalar: map[workload.ResourceName]int64{"nvidia.com/gpu": 2, "example.com/dongle": 1, "hugepages-2Mi": 4 << 20}}
	if got := l.sum(); !reflect.DeepEqual(got, want) {
		t.Fatalf("the ledger holds %+v; want %+v", got, want)
	}
	if got := workload.PodRequests(standIn("n1", "uid-gpu", l.Claims["uid-gpu"])); !reflect.DeepEqual(got, want) {
		t.Errorf("the stand-in requests %+v; want %+v", got, want)
	}
	// A ledger written before claims held more than cpu and memory.
	old, err := decodeLedger(consensus.Object{Name: "capacity.n1", Data: []byte(`{"node":"n1","claims":{"u":{"pod":"default/x","milliCPU":100,"memory":1024,"at":"2026-11-27T00:00:00Z"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got := old.sum(); !reflect.DeepEqual(got, workload.ComputeResources{MilliCPU: 100, Memory: 1024}) {
		t.Errorf("an older ledger holds %+v; want 100m and 1024 bytes", got)
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
