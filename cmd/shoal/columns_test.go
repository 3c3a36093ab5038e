package main

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
)

func TestNodeTableShowsRegionAndZoneAndNotReadyForUnknown(t *testing.T) {
	now := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	node := func(ready string, cordoned bool) map[string]any {
		var o map[string]any
		if err := json.Unmarshal([]byte(`{"kind":"Node","metadata":{"name":"p1","creationTimestamp":"2026-11-27T04:58:00Z",
			"labels":{"topology.kubernetes.io/region":"eu","topology.kubernetes.io/zone":"eu-1"}},
			"spec":{"podCIDR":"10.32.0.0/24","unschedulable":`+map[bool]string{true: "true", false: "false"}[cordoned]+`},
			"status":{"conditions":[{"type":"Ready","status":"`+ready+`"}],"nodeInfo":{"kubeletVersion":"v1"},
			"addresses":[{"type":"InternalIP","address":"10.0.0.1"}]}}`), &o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	if got, want := kindColumns("Node", false), []string{"STATUS", "REGION", "ZONE", "AGE", "VERSION"}; !reflect.DeepEqual(got, want) {
		t.Errorf("columns %v, want %v", got, want)
	}
	for _, tt := range []struct {
		ready    string
		cordoned bool
		wide     bool
		want     []string
	}{
		{"True", false, false, []string{"Ready", "eu", "eu-1", "2m", "v1"}},
		{"Unknown", false, false, []string{"NotReady", "eu", "eu-1", "2m", "v1"}},
		{"True", true, true, []string{"Ready,SchedulingDisabled", "eu", "eu-1", "2m", "v1", "10.0.0.1", "10.32.0.0/24"}},
	} {
		if got := kindCells("Node", node(tt.ready, tt.cordoned), tt.wide, now); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Ready=%s cordoned=%v wide=%v: cells %v, want %v", tt.ready, tt.cordoned, tt.wide, got, tt.want)
		}
		if n := len(kindColumns("Node", tt.wide)); n != len(tt.want) {
			t.Errorf("wide=%v: %d columns for %d cells", tt.wide, n, len(tt.want))
		}
	}
}

func TestServiceTableShowsTypeClusterIPAndPorts(t *testing.T) {
	now := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	var o map[string]any
	if err := json.Unmarshal([]byte(`{"kind":"Service","metadata":{"name":"web","creationTimestamp":"2026-11-27T04:00:00Z"},
		"spec":{"type":"NodePort","clusterIP":"10.96.0.10","selector":{"app":"web"},
		"ports":[{"name":"http","port":80,"protocol":"TCP","nodePort":30080},{"name":"admin","port":8080,"protocol":"TCP"}]}}`), &o); err != nil {
		t.Fatal(err)
	}
	want := []string{"NodePort", "10.96.0.10", "80:30080/TCP,8080/TCP", "60m", "app=web"}
	if got := kindCells("Service", o, true, now); !reflect.DeepEqual(got, want) {
		t.Errorf("cells %v, want %v", got, want)
	}
	if got := kindColumns("Service", false); !reflect.DeepEqual(got, []string{"TYPE", "CLUSTER-IP", "PORT(S)", "AGE"}) {
		t.Errorf("columns %v", got)
	}
}

func TestEndpointsColumnListsThreeAndCountsTheRest(t *testing.T) {
	e := workload.Endpoints{Subsets: []workload.EndpointSubset{{
		Addresses: []workload.EndpointAddress{{IP: "10.32.0.2"}, {IP: "10.32.1.2"}, {IP: "10.32.2.2"}, {IP: "10.32.3.2"}},
		Ports:     []workload.EndpointPort{{Port: 9000}},
	}}}
	if got, want := endpointsColumn(e), "10.32.0.2:9000,10.32.1.2:9000,10.32.2.2:9000 + 1 more..."; got != want {
		t.Errorf("ENDPOINTS %q, want %q", got, want)
	}
	if got := endpointsColumn(workload.Endpoints{}); got != "<none>" {
		t.Errorf("no endpoints: %q", got)
	}
}

func TestVolumeAndClaimTablesShowKubectlsColumns(t *testing.T) {
	now := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	var pv, pvc map[string]any
	if err := json.Unmarshal([]byte(`{"kind":"PersistentVolume","metadata":{"name":"data","creationTimestamp":"2026-11-27T04:59:00Z"},
		"spec":{"capacity":{"storage":"100Gi"},"accessModes":["ReadOnlyMany","ReadWriteOnce"],"persistentVolumeReclaimPolicy":"Retain",
		"claimRef":{"namespace":"default","name":"data","uid":"c-1"},"hostPath":{"path":"/srv/data"}},"status":{"phase":"Bound"}}`), &pv); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"kind":"PersistentVolumeClaim","metadata":{"name":"data","namespace":"default","creationTimestamp":"2026-11-27T04:59:00Z"},
		"spec":{"accessModes":["ReadOnlyMany"],"resources":{"requests":{"storage":"10Gi"}},"volumeName":"data"},
		"status":{"phase":"Bound","accessModes":["ReadOnlyMany","ReadWriteOnce"],"capacity":{"storage":"100Gi"}}}`), &pvc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind        string
		o           map[string]any
		cols, cells []string
	}{
		{"PersistentVolume", pv, []string{"CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "AGE"},
			[]string{"100Gi", "RWO,ROX", "Retain", "Bound", "default/data", "", "60s"}},
		{"PersistentVolumeClaim", pvc, []string{"STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "AGE"},
			[]string{"Bound", "data", "100Gi", "RWO,ROX", "", "60s"}},
	} {
		if got := kindColumns(tc.kind, false); !reflect.DeepEqual(got, tc.cols) {
			t.Errorf("%s columns %q, want %q", tc.kind, got, tc.cols)
		}
		if got := kindCells(tc.kind, tc.o, false, now); !reflect.DeepEqual(got, tc.cells) {
			t.Errorf("%s cells %q, want %q", tc.kind, got, tc.cells)
		}
	}
}
