package peer

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
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
	waitFor(t, 20*time.Second, "the volumes Available and EBS Failed", func() bool {
		return pv("small").Status.Phase == workload.VolumeAvailable && pv("big").Status.Phase == workload.VolumeAvailable &&
			pv("medium").Status.Phase == workload.VolumeAvailable && pv("ebs").Status.Phase == workload.VolumeFailed
	})
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
		if err := cl.Do(ctx, http.MethodDelete, "/api/v1/namespaces/default/persistentvolumeclaims/"+name, nil, nil); err != nil {
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
}
