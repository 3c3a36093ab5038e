package workload

import (
	"encoding/json"
	"os"
	"testing"
)

// The cost of a stored pod's encodings: a running ReplicaSet pod with
// probes, resources, a volume and a full status (testdata/running-pod.json).
// docs/object-model.md compares these figures with Shoal's earlier
// hand-written types.
// Run: go test -run '^$' -bench PodEncoding -benchmem ./workload/

func runningPod(b *testing.B) *Pod {
	raw, err := os.ReadFile("testdata/running-pod.json")
	if err != nil {
		b.Fatal(err)
	}
	var p Pod
	if err := json.Unmarshal(raw, &p); err != nil {
		b.Fatal(err)
	}
	return &p
}

func BenchmarkPodEncodingJSONDecode(b *testing.B) {
	raw, _ := json.Marshal(runningPod(b))
	b.ReportMetric(float64(len(raw)), "bytes")
	b.ReportAllocs()
	for b.Loop() {
		var p Pod
		if err := json.Unmarshal(raw, &p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPodEncodingJSONEncode(b *testing.B) {
	p := runningPod(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPodEncodingProtobufDecode(b *testing.B) {
	raw, err := runningPod(b).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(raw)), "bytes")
	b.ReportAllocs()
	for b.Loop() {
		var p Pod
		if err := p.Unmarshal(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPodEncodingProtobufEncode(b *testing.B) {
	p := runningPod(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}
