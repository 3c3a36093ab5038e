package runtime_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
)

func TestNormalizeImageRef(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":                 "docker.io/library/nginx:latest",
		"nginx:1.27":            "docker.io/library/nginx:1.27",
		"shoal.local/webapp:v1": "shoal.local/webapp:v1",
		"127.0.0.1:5000/a/b":    "127.0.0.1:5000/a/b:latest",
	} {
		got, err := runtime.NormalizeImageRef(in)
		if err != nil || got != want {
			t.Errorf("NormalizeImageRef(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := runtime.NormalizeImageRef("Bad Ref"); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("malformed ref: %v, want ErrInvalid", err)
	}
}

func TestValidateContainerConfigNamesTheField(t *testing.T) {
	ok := runtime.ContainerConfig{Name: "app", Image: "shoal.local/webapp:v1", Env: []string{"A=1", "B="},
		Mounts: []runtime.Mount{{HostPath: "/srv", ContainerPath: "/data"}}, Labels: map[string]string{"app": "web"}}
	if err := runtime.ValidateContainerConfig(ok); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for field, mutate := range map[string]func(*runtime.ContainerConfig){
		"Name":                    func(c *runtime.ContainerConfig) { c.Name = "" },
		"Image":                   func(c *runtime.ContainerConfig) { c.Image = "" },
		"Env[0]":                  func(c *runtime.ContainerConfig) { c.Env = []string{"=x"} },
		"Mounts[0].HostPath":      func(c *runtime.ContainerConfig) { c.Mounts[0].HostPath = "srv" },
		"Mounts[0].ContainerPath": func(c *runtime.ContainerConfig) { c.Mounts[0].ContainerPath = "data" },
		"MemoryBytes":             func(c *runtime.ContainerConfig) { c.MemoryBytes = -1 },
		"Labels":                  func(c *runtime.ContainerConfig) { c.Labels = map[string]string{runtime.LabelSandboxID: "x"} },
	} {
		c := ok
		c.Mounts = append([]runtime.Mount(nil), ok.Mounts...)
		mutate(&c)
		err := runtime.ValidateContainerConfig(c)
		if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), field) {
			t.Errorf("bad %s: %v, want ErrInvalid naming the field", field, err)
		}
	}
}

func TestValidateSandboxConfig(t *testing.T) {
	if err := runtime.ValidateSandboxConfig(runtime.SandboxConfig{PodUID: "u", Namespace: "n", Name: "p"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []runtime.SandboxConfig{
		{Namespace: "n", Name: "p"},
		{PodUID: "u", Name: "p"},
		{PodUID: "u", Namespace: "n"},
		{PodUID: "u", Namespace: "n", Name: "p", Labels: map[string]string{"shoal.io/runtime-ip": "x"}},
	} {
		if err := runtime.ValidateSandboxConfig(bad); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", bad, err)
		}
	}
}
