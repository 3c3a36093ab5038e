package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/shoalproject/shoal/workload"
)

func TestParseCapacity(t *testing.T) {
	got, err := parseCapacity([]string{"nvidia.com/gpu=2", "ephemeral-storage=50Gi", "example.com/dongle=1", "hugepages-2Mi=1Gi"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[workload.ResourceName]string{"nvidia.com/gpu": "2", "ephemeral-storage": "50Gi", "example.com/dongle": "1", "hugepages-2Mi": "1Gi"}
	if len(got) != len(want) {
		t.Fatalf("parseCapacity = %v; want %v", got, want)
	}
	for n, q := range want {
		if v, ok := got[n]; !ok || v.String() != q {
			t.Errorf("%s = %v; want %s", n, v.String(), q)
		}
	}
	if got, err := parseCapacity(nil); err != nil || len(got) != 0 {
		t.Errorf("no flags: %v, %v; want nothing", got, err)
	}

	for flag, msg := range map[string]string{
		"nvidia.com/gpu":        `--capacity "nvidia.com/gpu": want NAME=QUANTITY`,
		"=2":                    `--capacity "=2": want NAME=QUANTITY`,
		"nvidia.com/gpu=two":    `--capacity "nvidia.com/gpu=two": "two" is not a quantity`,
		"nvidia.com/gpu=0.5":    `--capacity "nvidia.com/gpu=0.5": 500m must be an integer`,
		"example.com/dongle=-1": `--capacity "example.com/dongle=-1": must be greater than or equal to 0`,
		"gpu=1":                 `--capacity "gpu=1": "gpu" is not an extended resource`,
		"kubernetes.io/x=1":     `--capacity "kubernetes.io/x=1": "kubernetes.io/x" is not an extended resource`,
		"cpu=4":                 `--capacity "cpu=4": cpu is measured on the machine, not given`,
		"hugepages-2Mi=3Mi":     `--capacity "hugepages-2Mi=3Mi": 3Mi is not a whole number of 2Mi pages`,
	} {
		_, err := parseCapacity([]string{flag})
		var u usageError
		if err == nil || !strings.HasPrefix(err.Error(), msg) || !errors.As(err, &u) {
			t.Errorf("--capacity %s: %v; want a usage error starting %q", flag, err, msg)
		}
	}
	if _, err := parseCapacity([]string{"example.com/dongle=1", "example.com/dongle=2"}); err == nil || !strings.Contains(err.Error(), "example.com/dongle is given twice") {
		t.Errorf("a name given twice: %v; want it refused", err)
	}
}
