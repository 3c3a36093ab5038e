package peer

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/poll"
	"github.com/shoalproject/shoal/volumes"
	"github.com/shoalproject/shoal/workload"
)

func pvBody(name, size, policy string, modes ...string) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "PersistentVolume", "metadata": map[string]any{"name": name},
		"spec": map[string]any{"capacity": map[string]any{"storage": size}, "accessModes": modes,
			"persistentVolumeReclaimPolicy": policy, "hostPath": map[string]any{"path": "/srv/shoal-test/" + name}}}
}

func pvcBody(name, size string, modes ...string) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": map[string]any{"name": name},
		"spec": map[string]any{"accessModes": modes, "resources": map[string]any{"requests": map[string]any{"storage": size}}}}
}

// Claims bind through the API as the binder says: the smallest volume that
// fits; two claims after one volume, exactly one gets it; an EBS volume is
// Failed with a message; deleting a claim releases its Retain volume and
// removes its Delete one; applying a bound volume's manifest again keeps
// its binding.
func TestClaimsBindToVolumesAndReleaseThem(t *testing.T) {
	c := newTestCluster(t)
	c.startPeers(1)
	ctx := context.Background()
	cl := c.client("p1")
	post := func(path string, body any) {
		t.Helper()
		if err := cl.Do(ctx, http.MethodPost, path, body, nil); err != nil {
			t.Fatal(err)
		}
	}
	pv := func(name string) (v workload.PersistentVolume) {
		_ = cl.Do(ctx, http.MethodGet, "/api/v1/persistentvolumes/"+name, nil, &v)
		return v
	}
	pvc := func(name string) (v workload.PersistentVolumeClaim) {
		_ = cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/persistentvolumeclaims/"+name, nil, &v)
		return v
	}
	post("/api/v1/persistentvolumes", pvBody("small", "5Gi", "Retain", "ReadWriteOnce"))
	post("/api/v1/persistentvolumes", pvBody("big", "100Gi", "Retain", "ReadOnlyMany", "ReadWriteOnce"))
	post("/api/v1/persistentvolumes", pvBody("medium", "20Gi", "Delete", "ReadWriteOnce", "ReadOnlyMany"))
	ebs := pvBody("ebs", "100Gi", "Retain", "ReadOnlyMany")
	spec := ebs["spec"].(map[string]any)
	delete(spec, "hostPath")
	spec["awsElasticBlockStore"] = map[string]any{"volumeID": "vol-0123", "fsType": "ext4"}
	post("/api/v1/persistentvolumes", ebs)
	nfs := pvBody("nfs", "1Gi", "Retain", "ReadWriteMany")
	spec = nfs["spec"].(map[string]any)
	delete(spec, "hostPath")
	spec["nfs"] = map[string]any{"server": "nfs.example", "path": "/exports/a"}
	post("/api/v1/persistentvolumes", nfs)
	nfsPhase := workload.VolumeFailed // this machine's kernel has no NFS client
	if kernelHasNFS() {
		nfsPhase = workload.VolumeAvailable
	}
	waitFor(t, 20*time.Second, "the volumes Available, EBS Failed, nfs "+string(nfsPhase), func() bool {
		return pv("small").Status.Phase == workload.VolumeAvailable && pv("big").Status.Phase == workload.VolumeAvailable &&
			pv("medium").Status.Phase == workload.VolumeAvailable && pv("ebs").Status.Phase == workload.VolumeFailed &&
			pv("nfs").Status.Phase == nfsPhase
	})
	if msg := pv("nfs").Status.Message; nfsPhase == workload.VolumeFailed && msg != "the nfs volume source needs the kernel's NFS client, and this cluster's kernel has none" {
		t.Errorf("the nfs volume's message: %q", msg)
	}
	if msg := pv("ebs").Status.Message; msg != "the awsElasticBlockStore volume source is not supported by Shoal: use hostPath, local or nfs" {
		t.Errorf("the EBS volume's message: %q", msg)
	}

	// 10Gi ReadOnlyMany: medium (20Gi) is the smallest that fits; two
	// claims then race for big, and one waits.
	post("/api/v1/namespaces/default/persistentvolumeclaims", pvcBody("data", "10Gi", "ReadOnlyMany"))
	post("/api/v1/namespaces/default/persistentvolumeclaims", pvcBody("one", "50Gi", "ReadOnlyMany"))
	post("/api/v1/namespaces/default/persistentvolumeclaims", pvcBody("two", "50Gi", "ReadOnlyMany"))
	waitFor(t, 20*time.Second, "data bound to medium", func() bool {
		c := pvc("data")
		return c.Status.Phase == workload.ClaimBound && c.Spec.VolumeName == "medium"
	})
	var winner, loser string
	waitFor(t, 20*time.Second, "one of the two claims bound to big", func() bool {
		one, two := pvc("one"), pvc("two")
		switch {
		case one.Status.Phase == workload.ClaimBound && two.Status.Phase == workload.ClaimPending:
			winner, loser = "one", "two"
		case two.Status.Phase == workload.ClaimBound && one.Status.Phase == workload.ClaimPending:
			winner, loser = "two", "one"
		default:
			return false
		}
		return true
	})
	waitFor(t, 20*time.Second, "a FailedBinding event for "+loser, func() bool {
		var evs struct{ Items []workload.Event }
		_ = cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/events", nil, &evs)
		for _, e := range evs.Items {
			if e.InvolvedObject.Name == loser && e.Reason == "FailedBinding" && e.Message == "no persistent volumes available for this claim" {
				return true
			}
		}
		return false
	})
	if v := pv("big"); v.Spec.ClaimRef == nil || v.Spec.ClaimRef.Name != winner || v.Status.Phase != workload.VolumeBound {
		t.Fatalf("big: claimRef %+v, phase %s; want %s's, Bound", v.Spec.ClaimRef, v.Status.Phase, winner)
	}
	if got := pvc(winner).Status.Capacity[workload.ResourceStorage]; got.String() != "100Gi" {
		t.Errorf("%s's capacity %s, want the volume's 100Gi", winner, got.String())
	}
	// Applying big's manifest again (no claimRef in it) keeps the binding.
	again := pvBody("big", "100Gi", "Retain", "ReadOnlyMany", "ReadWriteOnce")
	if err := cl.Do(ctx, http.MethodPut, "/api/v1/persistentvolumes/big", again, nil); err != nil {
		t.Fatal(err)
	}
	if v := pv("big"); v.Spec.ClaimRef == nil || v.Spec.ClaimRef.Name != winner {
		t.Fatalf("an update without claimRef unbound big: %+v", v.Spec.ClaimRef)
	}

	// Deleting the winner: big (Retain) is Released and not bound to the
	// loser; deleting data: medium (Delete) goes.
	for _, name := range []string{winner, "data"} {
		if err := cl.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/persistentvolumeclaims/"+name, nil, nil); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			t.Fatal(err)
		}
	}
	waitFor(t, 20*time.Second, "big Released and medium deleted", func() bool {
		err := cl.Do(ctx, http.MethodGet, "/api/v1/persistentvolumes/medium", nil, &workload.PersistentVolume{})
		return pv("big").Status.Phase == workload.VolumeReleased && errors.Is(err, errdefs.ErrNotFound)
	})
	if c := pvc(loser); c.Status.Phase != workload.ClaimPending {
		t.Errorf("%s: %s, want Pending (a Released volume is not bound again)", loser, c.Status.Phase)
	}
	// Its administrator clears the Released volume's claimRef (applies its
	// manifest again): Available, and the loser gets it.
	if err := cl.Do(ctx, http.MethodPut, "/api/v1/persistentvolumes/big", pvBody("big", "100Gi", "Retain", "ReadOnlyMany", "ReadWriteOnce"), nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, loser+" bound to big once big is free again", func() bool {
		c := pvc(loser)
		return c.Status.Phase == workload.ClaimBound && c.Spec.VolumeName == "big"
	})
}

// The Delete policy empties what Shoal made, and only that: a hostPath
// volume whose directory a node created for a pod is removed from that
// node with the volume; one whose directory was there before keeps it,
// even with a forged annotation claiming the node made it.
func TestDeleteReclaimEmptiesOnlyDirectoriesShoalCreated(t *testing.T) {
	c := newTestCluster(t)
	c.withRuntime = true
	c.startPeers(1)
	c.waitNodesReady(1)
	ctx := context.Background()
	cl := c.client("p1")
	base := t.TempDir()
	made, before := filepath.Join(base, "made-by-shoal"), filepath.Join(base, "there-before")
	if err := os.MkdirAll(before, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(before, "keep"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"made": made, "before": before} {
		body := pvBody(name, "1Gi", "Delete", "ReadWriteOnce")
		body["spec"].(map[string]any)["hostPath"] = map[string]any{"path": path, "type": "DirectoryOrCreate"}
		if err := cl.Do(ctx, http.MethodPost, "/api/v1/persistentvolumes", body, nil); err != nil {
			t.Fatal(err)
		}
		claim := pvcBody(name, "1Gi", "ReadWriteOnce")
		claim["spec"].(map[string]any)["volumeName"] = name
		if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/persistentvolumeclaims", claim, nil); err != nil {
			t.Fatal(err)
		}
		pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": name},
			"spec": map[string]any{"terminationGracePeriodSeconds": 0,
				"volumes":    []any{map[string]any{"name": "data", "persistentVolumeClaim": map[string]any{"claimName": name}}},
				"containers": []any{map[string]any{"name": "c", "image": "shoal.local/webapp:v1", "volumeMounts": []any{map[string]any{"name": "data", "mountPath": "/data"}}}}}}
		if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/pods", pod, nil); err != nil {
			t.Fatal(err)
		}
	}
	getPod := func(name string) (p workload.Pod, err error) {
		err = cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods/"+name, nil, &p)
		return p, err
	}
	waitFor(t, 30*time.Second, "both pods running", func() bool {
		a, _ := getPod("made")
		b, _ := getPod("before")
		return a.Status.Phase == workload.PodRunning && b.Status.Phase == workload.PodRunning
	})
	var pv workload.PersistentVolume
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/persistentvolumes/made", nil, &pv); err != nil || pv.ObjectMeta.Annotations[annotationCreatedOn+"p1"] != made {
		t.Fatalf("made's annotations %v, %v; want p1's record of %s", pv.ObjectMeta.Annotations, err, made)
	}
	var pv2 workload.PersistentVolume
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/persistentvolumes/before", nil, &pv2); err != nil || len(createdOn(&pv2)) != 0 {
		t.Fatalf("before's annotations %v, %v; want none", pv2.ObjectMeta.Annotations, err)
	}
	if _, err := os.Stat(made); err != nil {
		t.Fatalf("the node did not create %s: %v", made, err)
	}
	// A user's forged record on the other volume removes nothing: the node
	// keeps its own record of what it made.
	pv2.ObjectMeta.Annotations = map[string]string{annotationCreatedOn + "p1": before}
	if err := cl.Do(ctx, http.MethodPut, "/api/v1/persistentvolumes/before", &pv2, nil); err != nil {
		t.Fatal(err)
	}
	// The claim goes first, while its pod still runs: the volume stays
	// Bound, and its directory stays, until the pod is gone.
	if err := cl.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/persistentvolumeclaims/made", nil, nil); err != nil {
		t.Fatal(err)
	}
	if poll.Until(2*time.Second, 100*time.Millisecond, func() bool {
		var v workload.PersistentVolume
		_ = cl.Do(ctx, http.MethodGet, "/api/v1/persistentvolumes/made", nil, &v)
		return v.Status.Phase != workload.VolumeBound
	}) {
		t.Fatal("a volume whose claim went while a pod used it left Bound")
	}
	if _, err := os.Stat(made); err != nil {
		t.Fatalf("the directory of a volume in use went: %v", err)
	}
	for _, name := range []string{"made", "before"} {
		if err := cl.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/pods/"+name, nil, nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, name+"'s pod gone", func() bool { _, err := getPod(name); return errors.Is(err, errdefs.ErrNotFound) })
		if err := cl.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/persistentvolumeclaims/"+name, nil, nil); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "both volumes deleted", func() bool {
		e1 := cl.Do(ctx, http.MethodGet, "/api/v1/persistentvolumes/made", nil, &workload.PersistentVolume{})
		e2 := cl.Do(ctx, http.MethodGet, "/api/v1/persistentvolumes/before", nil, &workload.PersistentVolume{})
		return errors.Is(e1, errdefs.ErrNotFound) && errors.Is(e2, errdefs.ErrNotFound)
	})
	if _, err := os.Stat(made); !os.IsNotExist(err) {
		t.Errorf("the directory Shoal made is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(before, "keep")); err != nil {
		t.Errorf("the directory that was there before lost its file: %v", err)
	}
}

// Two shard leaders placing the first two pods of one ReadWriteOnce claim
// at once read the same claim; each pins it to its node with a
// compare-and-swap, and only the first pin lands: the second pod is
// decided again, and then follows the pin.
func TestReadWriteOnceClaimIsPinnedByOneLeader(t *testing.T) {
	c := newTestCluster(t)
	c.startPeers(1)
	ctx := context.Background()
	cl := c.client("p1")
	if err := cl.Do(ctx, http.MethodPost, "/api/v1/persistentvolumes", pvBody("disk", "1Gi", "Retain", "ReadWriteOnce"), nil); err != nil {
		t.Fatal(err)
	}
	if err := cl.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/persistentvolumeclaims", pvcBody("disk", "1Gi", "ReadWriteOnce"), nil); err != nil {
		t.Fatal(err)
	}
	var claim workload.PersistentVolumeClaim
	p := c.peers["p1"]
	waitFor(t, 20*time.Second, "the claim bound", func() bool { // as the scheduler reads it, from the store
		k := consensus.Key{Kind: "PersistentVolumeClaim", Namespace: "default", Name: "disk"}
		so, err := p.store.Get(ctx, p.shardOf(k), k, true)
		return err == nil && decodeInto(so, &claim) == nil && claim.Status.Phase == workload.ClaimBound
	})
	pod := func(name string) *workload.Pod {
		p := &workload.Pod{ObjectMeta: workload.ObjectMeta{Namespace: "default", Name: name, UID: workload.UID("uid-" + name)}}
		p.Spec.Volumes = []workload.Volume{{Name: "d", VolumeSource: workload.VolumeSource{PersistentVolumeClaim: &workload.PersistentVolumeClaimVolumeSource{ClaimName: "disk"}}}}
		return p
	}
	state := func() *claimState { // what each leader read
		c := claim
		return &claimState{claims: map[string]*workload.PersistentVolumeClaim{"default/disk": &c}, users: map[string][]volumes.ClaimUser{}}
	}
	first, second := state(), state()
	if !p.pinClaims(ctx, first, pod("a"), "n1") {
		t.Fatal("the first pin failed")
	}
	if p.pinClaims(ctx, second, pod("b"), "n2") {
		t.Fatal("a second leader pinned the claim to another node on a stale read")
	}
	if err := cl.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/persistentvolumeclaims/disk", nil, &claim); err != nil {
		t.Fatal(err)
	}
	if got := claim.ObjectMeta.Annotations[volumes.AnnotationPinnedNode]; !strings.HasPrefix(got, "n1 ") {
		t.Fatalf("pin %q, want n1's", got)
	}
	// The next pass reads the pin and places b on n1.
	cs := state()
	pvs := map[string]*workload.PersistentVolume{"disk": {ObjectMeta: workload.ObjectMeta{Name: "disk"}}}
	if got := volumes.Placement(pod("b"), cs.claims, pvs, cs.users, p.cfg.Now()); got.Node != "n1" || got.Unschedulable != "" {
		t.Fatalf("b's constraint %+v, want n1", got)
	}
}
