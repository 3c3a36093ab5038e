package workload

import (
	"strings"
	"testing"
)

const pvYAML = `apiVersion: v1
kind: PersistentVolume
metadata: {name: data}
spec:
  capacity: {storage: 100Gi}
  accessModes: [ReadOnlyMany]
  hostPath: {path: /srv/shoal/data}
`

const pvcYAML = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadOnlyMany]
  resources: {requests: {storage: 10Gi}}
`

func TestStorageDecodesWithDefaults(t *testing.T) {
	docs, err := Decode("s.yaml", []byte(pvYAML+"---\n"+pvcYAML))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		Defaults(d.Object, d.Info, "")
		if errs := Validate(d.Object, d.Info); errs != nil {
			t.Fatalf("valid %s: %v", d.Info.Kind, errs)
		}
	}
	pv, pvc := docs[0].Object.(*PersistentVolume), docs[1].Object.(*PersistentVolumeClaim)
	if pv.Spec.PersistentVolumeReclaimPolicy != ReclaimRetain || pv.ObjectMeta.Namespace != "" || QuantityString(pv.Spec.Capacity[ResourceStorage]) != "100Gi" {
		t.Errorf("PV defaults: %+v", pv.Spec)
	}
	if pvc.ObjectMeta.Namespace != DefaultNamespace || ClaimStorageClass(pvc) != "" {
		t.Errorf("PVC defaults: %+v", pvc)
	}
	// A source Shoal cannot serve is accepted, and says so.
	docs, err = Decode("ebs.yaml", []byte(strings.Replace(pvYAML, "hostPath: {path: /srv/shoal/data}", "awsElasticBlockStore: {volumeID: vol-0123, fsType: ext4}", 1)))
	if err != nil {
		t.Fatal(err)
	}
	ebs := docs[0].Object.(*PersistentVolume)
	if errs := Validate(ebs, docs[0].Info); errs != nil {
		t.Fatalf("an EBS volume: %v", errs)
	}
	if got := UnsupportedSource(&ebs.Spec.PersistentVolumeSource); !strings.Contains(got, "awsElasticBlockStore volume source is not supported") {
		t.Errorf("Unsupported() = %q", got)
	}
	if got := UnsupportedSource(&pv.Spec.PersistentVolumeSource); got != "" {
		t.Errorf("a hostPath volume: Unsupported() = %q", got)
	}
}

func TestStorageValidation(t *testing.T) {
	for _, c := range []struct{ name, yaml, from, to, want string }{
		{"PV without capacity", pvYAML, "capacity: {storage: 100Gi}", "capacity: {}", "spec.capacity[storage]: Required value"},
		{"PV of zero size", pvYAML, "100Gi", "0", "spec.capacity[storage]: Invalid value: \"0\": must be greater than zero"},
		{"PV without modes", pvYAML, "accessModes: [ReadOnlyMany]", "accessModes: []", "spec.accessModes: Required value"},
		{"PV with a bad mode", pvYAML, "[ReadOnlyMany]", "[ReadSometimes]", "spec.accessModes[0]: Unsupported value: \"ReadSometimes\""},
		{"RWOP with another mode", pvYAML, "[ReadOnlyMany]", "[ReadWriteOncePod, ReadOnlyMany]", "spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"},
		{"PV with a bad reclaim policy", pvYAML, "accessModes:", "persistentVolumeReclaimPolicy: Recycle\n  accessModes:", "spec.persistentVolumeReclaimPolicy: Unsupported value: \"Recycle\""},
		{"PV without a source", pvYAML, "  hostPath: {path: /srv/shoal/data}\n", "", "spec: Required value: must specify a volume type"},
		{"PV with two sources", pvYAML, "hostPath: {path: /srv/shoal/data}", "hostPath: {path: /srv/shoal/data}\n  nfs: {server: nfs.example, path: /x}", "spec.nfs: Forbidden: may not specify more than 1 volume type"},
		{"relative hostPath", pvYAML, "/srv/shoal/data", "srv/data", "spec.hostPath.path: Invalid value: \"srv/data\": must be an absolute path"},
		{"local without node affinity", pvYAML, "hostPath: {path: /srv/shoal/data}", "local: {path: /mnt/disk1}", "spec.nodeAffinity: Required value: Local volume requires node affinity"},
		{"nfs without server", pvYAML, "hostPath: {path: /srv/shoal/data}", "nfs: {path: /exports/x}", "spec.nfs.server: Required value"},
		{"empty node affinity", pvYAML, "accessModes:", "nodeAffinity: {required: {nodeSelectorTerms: []}}\n  accessModes:", "spec.nodeAffinity.required.nodeSelectorTerms: Required value"},
		{"PVC without a size", pvcYAML, "resources: {requests: {storage: 10Gi}}", "resources: {}", "spec.resources.requests[storage]: Required value"},
		{"PVC without modes", pvcYAML, "accessModes: [ReadOnlyMany]", "accessModes: []", "spec.accessModes: Required value"},
		{"PVC with a bad selector", pvcYAML, "accessModes:", "selector: {matchLabels: {tier: \"no spaces\"}}\n  accessModes:", "spec.selector.matchLabels[tier]: Invalid value"},
		{"PVC with a bad volume mode", pvcYAML, "accessModes:", "volumeMode: Block\n  accessModes:", "spec.volumeMode: Unsupported value: \"Block\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := strings.Replace(c.yaml, c.from, c.to, 1)
			if text == c.yaml {
				t.Fatalf("%q is not in the manifest", c.from)
			}
			err := decodeErrors("s.yaml", text)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
