package workload

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/shoalproject/shoal/internal/errdefs"
)

var q = MustParseQuantity

func ptr[T any](v T) *T { return &v }

// pod returns a valid pod, changed by mut.
func pod(mut func(*Pod)) *Pod {
	p := &Pod{
		ObjectMeta: ObjectMeta{Name: "web-0"},
		Spec: PodSpec{
			Volumes: []Volume{{Name: "config", VolumeSource: VolumeSource{ConfigMap: &ConfigMapVolumeSource{LocalObjectReference: LocalObjectReference{Name: "web-config"}}}}},
			Containers: []Container{{
				Name:  "web",
				Image: "registry.local/web:1.0",
				Ports: []ContainerPort{{Name: "http", ContainerPort: 8080}},
				Resources: ResourceRequirements{
					Requests: ResourceList{ResourceCPU: q("100m"), ResourceMemory: q("64Mi")},
					Limits:   ResourceList{ResourceCPU: q("500m"), ResourceMemory: q("128Mi")},
				},
				VolumeMounts:   []VolumeMount{{Name: "config", MountPath: "/etc/web"}},
				ReadinessProbe: &Probe{ProbeHandler: ProbeHandler{HTTPGet: &HTTPGetAction{Path: "/healthz", Port: IntOrStringFromString("http")}}},
			}},
		},
	}
	if mut != nil {
		mut(p)
	}
	return p
}

// ctr returns a valid pod whose first container is changed by mut.
func ctr(mut func(*Container)) *Pod {
	return pod(func(p *Pod) { mut(&p.Spec.Containers[0]) })
}

// vol returns a valid pod whose only volume is v.
func vol(v Volume) *Pod {
	return pod(func(p *Pod) {
		p.Spec.Volumes = []Volume{v}
		p.Spec.Containers[0].VolumeMounts = nil
	})
}

func nodeAffinity(reqs ...NodeSelectorRequirement) *Pod {
	return pod(func(p *Pod) {
		p.Spec.Affinity = &Affinity{NodeAffinity: &NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &NodeSelector{
			NodeSelectorTerms: []NodeSelectorTerm{{MatchExpressions: reqs}},
		}}}
	})
}

func antiAffinity(term PodAffinityTerm) *Pod {
	return pod(func(p *Pod) {
		p.Spec.Affinity = &Affinity{PodAntiAffinity: &PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []PodAffinityTerm{term}}}
	})
}

func spread(c TopologySpreadConstraint) *Pod {
	return pod(func(p *Pod) { p.Spec.TopologySpreadConstraints = []TopologySpreadConstraint{c} })
}

var appSelector = &LabelSelector{MatchLabels: map[string]string{"app": "web"}}

type validateCase struct {
	rule string
	obj  Object
	want string // "" for valid; otherwise the first error's prefix
}

func runValidateCases(t *testing.T, cases []validateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			info, err := LookupKind(TypeMetaOf(tc.obj).Kind)
			if TypeMetaOf(tc.obj).Kind == "" {
				info, err = kindOfObject(tc.obj)
			}
			if err != nil {
				t.Fatal(err)
			}
			errs := Validate(tc.obj, info)
			if tc.want == "" {
				if len(errs) != 0 {
					t.Fatalf("Validate = %v; want no errors", errs)
				}
				return
			}
			if len(errs) == 0 {
				t.Fatalf("Validate = no errors; want %q", tc.want)
			}
			if !strings.HasPrefix(errs[0].Error(), tc.want) {
				t.Errorf("Validate()[0] = %q; want prefix %q (all: %v)", errs[0], tc.want, errs)
			}
			for _, err := range errs {
				if !errors.Is(err, errdefs.ErrInvalid) {
					t.Errorf("%v does not wrap ErrInvalid", err)
				}
			}
		})
	}
}

// kindOfObject finds the served kind of a typed object.
func kindOfObject(o Object) (KindInfo, error) {
	switch o.(type) {
	case *Pod:
		return LookupKind("Pod")
	case *Node:
		return LookupKind("Node")
	case *Event:
		return LookupKind("Event")
	case *Namespace:
		return LookupKind("Namespace")
	}
	return LookupKind("ConfigMap")
}

func TestValidatePod(t *testing.T) {
	c0 := "spec.containers[0]."
	runValidateCases(t, []validateCase{
		{"baseline/valid", pod(nil), ""},
		{"pod name subdomain/invalid", pod(func(p *Pod) { p.ObjectMeta.Name = "Web_0" }), `metadata.name: Invalid value: "Web_0": a lowercase RFC 1123 subdomain`},

		// Containers.
		{"at least one container/invalid", pod(func(p *Pod) { p.Spec.Containers = nil }), "spec.containers: Required value"},
		{"container name label/valid", ctr(func(c *Container) { c.Name = "web-2" }), ""},
		{"container name label/invalid", ctr(func(c *Container) { c.Name = "Web_2" }), c0 + `name: Invalid value: "Web_2": a lowercase RFC 1123 label`},
		{"container name required/invalid", ctr(func(c *Container) { c.Name = "" }), c0 + "name: Required value"},
		{"container names unique/valid", pod(func(p *Pod) {
			p.Spec.InitContainers = []Container{{Name: "setup", Image: "busybox"}}
			p.Spec.Containers = append(p.Spec.Containers, Container{Name: "sidecar", Image: "busybox"})
		}), ""},
		{"container names unique/invalid", pod(func(p *Pod) {
			p.Spec.Containers = append(p.Spec.Containers, Container{Name: "web", Image: "busybox"})
		}), `spec.containers[1].name: Duplicate value: "web"`},
		{"container names unique with init/invalid", pod(func(p *Pod) {
			p.Spec.InitContainers = []Container{{Name: "web", Image: "busybox"}}
		}), `spec.containers[0].name: Duplicate value: "web"`},
		{"image required/valid", ctr(func(c *Container) { c.Image = "busybox" }), ""},
		{"image required/invalid", ctr(func(c *Container) { c.Image = "" }), c0 + "image: Required value"},
		{"image whitespace/invalid", ctr(func(c *Container) { c.Image = " busybox" }), c0 + `image: Invalid value: " busybox": must not have leading or trailing whitespace`},
		{"imagePullPolicy enum/valid", ctr(func(c *Container) { c.ImagePullPolicy = PullNever }), ""},
		{"imagePullPolicy enum/invalid", ctr(func(c *Container) { c.ImagePullPolicy = "Sometimes" }),
			c0 + `imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"`},

		// Ports.
		{"containerPort range/valid", ctr(func(c *Container) { c.Ports[0].ContainerPort = 65535 }), ""},
		{"containerPort range/invalid", ctr(func(c *Container) { c.Ports[0].ContainerPort = 70000 }),
			c0 + "ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"},
		{"containerPort required/invalid", ctr(func(c *Container) { c.Ports[0].ContainerPort = 0 }), c0 + "ports[0].containerPort: Required value"},
		{"hostPort range/valid", ctr(func(c *Container) { c.Ports[0].HostPort = 80 }), ""},
		{"hostPort range/invalid", ctr(func(c *Container) { c.Ports[0].HostPort = 65536 }),
			c0 + "ports[0].hostPort: Invalid value: 65536: must be between 1 and 65535, inclusive"},
		{"hostPort unique/valid", pod(func(p *Pod) {
			p.Spec.Containers[0].Ports[0].HostPort = 53
			p.Spec.Containers = append(p.Spec.Containers, Container{Name: "dns", Image: "dns", Ports: []ContainerPort{{ContainerPort: 53, HostPort: 53, Protocol: ProtocolUDP}}})
		}), ""},
		{"hostPort unique/invalid", pod(func(p *Pod) {
			p.Spec.Containers[0].Ports[0].HostPort = 80
			p.Spec.Containers = append(p.Spec.Containers, Container{Name: "proxy", Image: "proxy", Ports: []ContainerPort{{ContainerPort: 80, HostPort: 80, Protocol: ProtocolTCP}}})
		}), `spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//80"`},
		{"protocol enum/valid", ctr(func(c *Container) { c.Ports[0].Protocol = ProtocolUDP }), ""},
		{"protocol enum/invalid", ctr(func(c *Container) { c.Ports[0].Protocol = "QUIC" }),
			c0 + `ports[0].protocol: Unsupported value: "QUIC": supported values: "TCP", "UDP", "SCTP"`},
		{"port name/valid", ctr(func(c *Container) { c.Ports = append(c.Ports, ContainerPort{Name: "metrics", ContainerPort: 9090}) }), ""},
		{"port name/invalid", ctr(func(c *Container) { c.Ports[0].Name = "HTTP_PORT" }), c0 + `ports[0].name: Invalid value: "HTTP_PORT"`},
		{"port name unique/invalid", ctr(func(c *Container) { c.Ports = append(c.Ports, ContainerPort{Name: "http", ContainerPort: 9090}) }),
			c0 + `ports[1].name: Duplicate value: "http"`},

		// Environment.
		{"env name/valid", ctr(func(c *Container) { c.Env = []EnvVar{{Name: "MY_VAR.x-1", Value: "v"}} }), ""},
		{"env name/invalid", ctr(func(c *Container) { c.Env = []EnvVar{{Name: "1BAD", Value: "v"}} }),
			c0 + `env[0].name: Invalid value: "1BAD": a valid environment variable name must consist of`},
		{"env name required/invalid", ctr(func(c *Container) { c.Env = []EnvVar{{Value: "v"}} }), c0 + "env[0].name: Required value"},
		{"env valueFrom one source/valid", ctr(func(c *Container) {
			c.Env = []EnvVar{
				{Name: "A", ValueFrom: &EnvVarSource{ConfigMapKeyRef: &ConfigMapKeySelector{LocalObjectReference: LocalObjectReference{Name: "cfg"}, Key: "a.txt"}}},
				{Name: "B", ValueFrom: &EnvVarSource{SecretKeyRef: &SecretKeySelector{LocalObjectReference: LocalObjectReference{Name: "creds"}, Key: "password", Optional: ptr(true)}}},
				{Name: "C", ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "status.podIP"}}},
				{Name: "D", ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
			}
		}), ""},
		{"env valueFrom one source/invalid", ctr(func(c *Container) {
			c.Env = []EnvVar{{Name: "A", ValueFrom: &EnvVarSource{
				ConfigMapKeyRef: &ConfigMapKeySelector{LocalObjectReference: LocalObjectReference{Name: "cfg"}, Key: "a"}, SecretKeyRef: &SecretKeySelector{LocalObjectReference: LocalObjectReference{Name: "s"}, Key: "b"},
			}}}
		}), c0 + `env[0].valueFrom: Invalid value: "": may not have more than one field specified at a time`},
		{"env valueFrom empty/invalid", ctr(func(c *Container) { c.Env = []EnvVar{{Name: "A", ValueFrom: &EnvVarSource{}}} }),
			c0 + "env[0].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"},
		{"env value and valueFrom/invalid", ctr(func(c *Container) {
			c.Env = []EnvVar{{Name: "A", Value: "x", ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "metadata.name"}}}}
		}), c0 + "env[0].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty"},
		{"env fieldRef path/invalid", ctr(func(c *Container) {
			c.Env = []EnvVar{{Name: "A", ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "spec.containers"}}}}
		}), c0 + `env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.containers": supported values: "metadata.name"`},
		{"env configMapKeyRef key/invalid", ctr(func(c *Container) {
			c.Env = []EnvVar{{Name: "A", ValueFrom: &EnvVarSource{ConfigMapKeyRef: &ConfigMapKeySelector{LocalObjectReference: LocalObjectReference{Name: "cfg"}}}}}
		}), c0 + "env[0].valueFrom.configMapKeyRef.key: Required value"},
		{"envFrom one source/valid", ctr(func(c *Container) {
			c.EnvFrom = []EnvFromSource{{ConfigMapRef: &ConfigMapEnvSource{LocalObjectReference: LocalObjectReference{Name: "cfg"}}, Prefix: "CFG_"}, {SecretRef: &SecretEnvSource{LocalObjectReference: LocalObjectReference{Name: "creds"}}}}
		}), ""},
		{"envFrom one source/invalid", ctr(func(c *Container) { c.EnvFrom = []EnvFromSource{{Prefix: "X_"}} }),
			c0 + "envFrom[0]: Invalid value: \"\": must specify one of: `configMapRef` or `secretRef`"},
		{"envFrom prefix/invalid", ctr(func(c *Container) {
			c.EnvFrom = []EnvFromSource{{Prefix: "1X", SecretRef: &SecretEnvSource{LocalObjectReference: LocalObjectReference{Name: "s"}}}}
		}),
			c0 + `envFrom[0].prefix: Invalid value: "1X"`},

		// Resources.
		{"requests within limits/valid", ctr(func(c *Container) { c.Resources.Requests[ResourceCPU] = q("0.5") }), ""},
		{"requests within limits/invalid", ctr(func(c *Container) { c.Resources.Requests[ResourceCPU] = q("1") }),
			c0 + `resources.requests[cpu]: Invalid value: "1": must be less than or equal to cpu limit of 500m`},
		{"memory request within limit/invalid", ctr(func(c *Container) { c.Resources.Requests[ResourceMemory] = q("1Gi") }),
			c0 + `resources.requests[memory]: Invalid value: "1Gi": must be less than or equal to memory limit of 128Mi`},
		{"memory limit at least 4Mi/valid", ctr(func(c *Container) {
			c.Resources = ResourceRequirements{Limits: ResourceList{ResourceMemory: q("4Mi")}}
		}), ""},
		{"memory limit at least 4Mi/invalid", ctr(func(c *Container) {
			c.Resources = ResourceRequirements{Limits: ResourceList{ResourceMemory: q("3Mi")}}
		}), c0 + `resources.limits[memory]: Invalid value: "3Mi": must be at least 4Mi`},
		{"cpu non-negative/valid", ctr(func(c *Container) { c.Resources.Requests[ResourceCPU] = q("0") }), ""},
		{"cpu non-negative/invalid", ctr(func(c *Container) { c.Resources.Requests[ResourceCPU] = q("-100m") }),
			c0 + `resources.requests[cpu]: Invalid value: "-100m": must be greater than or equal to 0`},
		{"memory non-negative/invalid", ctr(func(c *Container) { c.Resources.Requests[ResourceMemory] = q("-1Mi") }),
			c0 + `resources.requests[memory]: Invalid value: "-1Mi": must be greater than or equal to 0`},
		{"resource names/invalid", ctr(func(c *Container) { c.Resources.Limits["gpu"] = q("1") }),
			c0 + `resources.limits[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified`},

		// Probes.
		{"probe handlers/valid", ctr(func(c *Container) {
			c.LivenessProbe = &Probe{ProbeHandler: ProbeHandler{TCPSocket: &TCPSocketAction{Port: IntOrStringFromInt32(8080)}}}
			c.StartupProbe = &Probe{ProbeHandler: ProbeHandler{Exec: &ExecAction{Command: []string{"true"}}}}
		}), ""},
		{"probe one handler/invalid none", ctr(func(c *Container) { c.ReadinessProbe = &Probe{PeriodSeconds: 5} }),
			c0 + "readinessProbe: Required value: must specify a handler type"},
		{"probe one handler/invalid two", ctr(func(c *Container) {
			c.ReadinessProbe.TCPSocket = &TCPSocketAction{Port: IntOrStringFromInt32(8080)}
		}), c0 + "readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"},
		{"probe minimums/valid", ctr(func(c *Container) {
			p := c.ReadinessProbe
			p.InitialDelaySeconds, p.TimeoutSeconds, p.PeriodSeconds, p.SuccessThreshold, p.FailureThreshold = 0, 1, 1, 2, 1
		}), ""},
		{"probe periodSeconds minimum/invalid", ctr(func(c *Container) { c.ReadinessProbe.PeriodSeconds = -1 }),
			c0 + "readinessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 1"},
		{"probe timeoutSeconds minimum/invalid", ctr(func(c *Container) { c.ReadinessProbe.TimeoutSeconds = -1 }),
			c0 + "readinessProbe.timeoutSeconds: Invalid value: -1: must be greater than or equal to 1"},
		{"probe failureThreshold minimum/invalid", ctr(func(c *Container) { c.ReadinessProbe.FailureThreshold = -3 }),
			c0 + "readinessProbe.failureThreshold: Invalid value: -3: must be greater than or equal to 1"},
		{"probe initialDelaySeconds minimum/invalid", ctr(func(c *Container) { c.ReadinessProbe.InitialDelaySeconds = -5 }),
			c0 + "readinessProbe.initialDelaySeconds: Invalid value: -5: must be greater than or equal to 0"},
		{"liveness successThreshold 1/invalid", ctr(func(c *Container) {
			c.LivenessProbe = &Probe{ProbeHandler: ProbeHandler{Exec: &ExecAction{Command: []string{"true"}}}, SuccessThreshold: 2}
		}), c0 + "livenessProbe.successThreshold: Invalid value: 2: must be 1"},
		{"probe exec command/invalid", ctr(func(c *Container) { c.ReadinessProbe = &Probe{ProbeHandler: ProbeHandler{Exec: &ExecAction{}}} }),
			c0 + "readinessProbe.exec.command: Required value"},
		{"probe port by number/invalid", ctr(func(c *Container) { c.ReadinessProbe.HTTPGet.Port = IntOrStringFromInt32(0) }),
			c0 + "readinessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive"},
		{"probe port by name/invalid", ctr(func(c *Container) { c.ReadinessProbe.HTTPGet.Port = IntOrStringFromString("admin") }),
			c0 + `readinessProbe.httpGet.port: Invalid value: "admin": must be the name of one of the container's ports`},
		{"probe scheme/valid", ctr(func(c *Container) { c.ReadinessProbe.HTTPGet.Scheme = URISchemeHTTPS }), ""},
		{"probe scheme/invalid", ctr(func(c *Container) { c.ReadinessProbe.HTTPGet.Scheme = "FTP" }),
			c0 + `readinessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"`},
		{"probe header name/invalid", ctr(func(c *Container) {
			c.ReadinessProbe.HTTPGet.HTTPHeaders = []HTTPHeader{{Name: "Bad Header", Value: "x"}}
		}),
			c0 + `readinessProbe.httpGet.httpHeaders[0].name: Invalid value: "Bad Header"`},
		{"init container probe/invalid", pod(func(p *Pod) {
			p.Spec.InitContainers = []Container{{Name: "setup", Image: "busybox", ReadinessProbe: &Probe{ProbeHandler: ProbeHandler{Exec: &ExecAction{Command: []string{"true"}}}}}}
		}), "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers"},

		// Lifecycle.
		{"preStop/valid", ctr(func(c *Container) {
			c.Lifecycle = &Lifecycle{PreStop: &LifecycleHandler{Sleep: &SleepAction{Seconds: 5}}}
		}), ""},
		{"preStop one handler/invalid", ctr(func(c *Container) {
			c.Lifecycle = &Lifecycle{PreStop: &LifecycleHandler{Sleep: &SleepAction{Seconds: 5}, Exec: &ExecAction{Command: []string{"stop"}}}}
		}), c0 + "lifecycle.preStop.sleep: Forbidden: may not specify more than 1 handler type"},
		{"preStop sleep within grace/invalid", ctr(func(c *Container) {
			c.Lifecycle = &Lifecycle{PreStop: &LifecycleHandler{Sleep: &SleepAction{Seconds: 31}}}
		}),
			c0 + "lifecycle.preStop.sleep.seconds: Invalid value: 31: must be non-negative and at most terminationGracePeriodSeconds (30)"},

		// Pod-level fields.
		{"restartPolicy enum/valid", pod(func(p *Pod) { p.Spec.RestartPolicy = RestartPolicyOnFailure }), ""},
		{"restartPolicy enum/invalid", pod(func(p *Pod) { p.Spec.RestartPolicy = "Sometimes" }),
			`spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"`},
		{"terminationGracePeriodSeconds/valid", pod(func(p *Pod) { p.Spec.TerminationGracePeriodSeconds = ptr[int64](0) }), ""},
		{"terminationGracePeriodSeconds/invalid", pod(func(p *Pod) { p.Spec.TerminationGracePeriodSeconds = ptr[int64](-1) }),
			"spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0"},
		{"nodeSelector/valid", pod(func(p *Pod) {
			p.Spec.NodeSelector = map[string]string{"disktype": "ssd", "topology.kubernetes.io/zone": "a"}
		}), ""},
		{"nodeSelector key/invalid", pod(func(p *Pod) { p.Spec.NodeSelector = map[string]string{"bad key": "ssd"} }), `spec.nodeSelector: Invalid value: "bad key"`},
		{"nodeSelector value/invalid", pod(func(p *Pod) { p.Spec.NodeSelector = map[string]string{"disk": "not ok"} }), `spec.nodeSelector[disk]: Invalid value: "not ok"`},
		{"nodeName/valid", pod(func(p *Pod) { p.Spec.NodeName = "peer-1.example" }), ""},
		{"nodeName/invalid", pod(func(p *Pod) { p.Spec.NodeName = "Peer_1" }), `spec.nodeName: Invalid value: "Peer_1"`},
		{"hostname/invalid", pod(func(p *Pod) { p.Spec.Hostname = "a.b" }), `spec.hostname: Invalid value: "a.b": must not contain dots`},
		{"imagePullSecrets/valid", pod(func(p *Pod) { p.Spec.ImagePullSecrets = []LocalObjectReference{{Name: "regcred"}} }), ""},
		{"imagePullSecrets empty name/valid", pod(func(p *Pod) { p.Spec.ImagePullSecrets = []LocalObjectReference{{}} }), ""},

		// Volumes.
		{"volume sources/valid", pod(func(p *Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes,
				Volume{Name: "scratch", VolumeSource: VolumeSource{EmptyDir: &EmptyDirVolumeSource{Medium: StorageMediumMemory, SizeLimit: ptr(q("64Mi"))}}},
				Volume{Name: "creds", VolumeSource: VolumeSource{Secret: &SecretVolumeSource{SecretName: "creds", DefaultMode: ptr[int32](0o400), Items: []KeyToPath{{Key: "tls.crt", Path: "certs/tls.crt"}}}}},
				Volume{Name: "data", VolumeSource: VolumeSource{PersistentVolumeClaim: &PersistentVolumeClaimVolumeSource{ClaimName: "data-0"}}},
				Volume{Name: "logs", VolumeSource: VolumeSource{HostPath: &HostPathVolumeSource{Path: "/var/log", Type: ptr(HostPathDirectory)}}},
			)
		}), ""},
		{"volume names unique/invalid", pod(func(p *Pod) { p.Spec.Volumes = append(p.Spec.Volumes, p.Spec.Volumes[0]) }),
			`spec.volumes[1].name: Duplicate value: "config"`},
		{"volume name label/invalid", vol(Volume{Name: "My_Vol", VolumeSource: VolumeSource{EmptyDir: &EmptyDirVolumeSource{}}}),
			`spec.volumes[0].name: Invalid value: "My_Vol": a lowercase RFC 1123 label`},
		{"volume one source/invalid none", vol(Volume{Name: "v"}), "spec.volumes[0]: Required value: must specify a volume type"},
		{"volume one source/invalid two", vol(Volume{Name: "v", VolumeSource: VolumeSource{EmptyDir: &EmptyDirVolumeSource{}, ConfigMap: &ConfigMapVolumeSource{LocalObjectReference: LocalObjectReference{Name: "c"}}}}),
			"spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type"},
		{"configMap volume name/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{ConfigMap: &ConfigMapVolumeSource{}}}),
			"spec.volumes[0].configMap.name: Required value"},
		{"secret volume name/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{Secret: &SecretVolumeSource{}}}),
			"spec.volumes[0].secret.secretName: Required value"},
		{"pvc volume claimName/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{PersistentVolumeClaim: &PersistentVolumeClaimVolumeSource{}}}),
			"spec.volumes[0].persistentVolumeClaim.claimName: Required value"},
		{"hostPath absolute/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{HostPath: &HostPathVolumeSource{Path: "var/log"}}}),
			`spec.volumes[0].hostPath.path: Invalid value: "var/log": must be an absolute path`},
		{"hostPath type/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{HostPath: &HostPathVolumeSource{Path: "/x", Type: ptr(HostPathType("Pipe"))}}}),
			`spec.volumes[0].hostPath.type: Unsupported value: "Pipe"`},
		{"emptyDir medium/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{EmptyDir: &EmptyDirVolumeSource{Medium: "HugePages"}}}),
			`spec.volumes[0].emptyDir.medium: Unsupported value: "HugePages": supported values: "Memory"`},
		{"emptyDir sizeLimit/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{EmptyDir: &EmptyDirVolumeSource{SizeLimit: ptr(q("-1"))}}}),
			`spec.volumes[0].emptyDir.sizeLimit: Invalid value: "-1": must be greater than or equal to 0`},
		{"projection item path/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{ConfigMap: &ConfigMapVolumeSource{LocalObjectReference: LocalObjectReference{Name: "c"}, Items: []KeyToPath{{Key: "a", Path: "../a"}}}}}),
			`spec.volumes[0].configMap.items[0].path: Invalid value: "../a": must not contain '..'`},
		{"projection defaultMode/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{Secret: &SecretVolumeSource{SecretName: "s", DefaultMode: ptr[int32](0o1000)}}}),
			"spec.volumes[0].secret.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive"},

		// Volume mounts.
		{"volumeMount subPath/valid", ctr(func(c *Container) { c.VolumeMounts[0].SubPath = "web/app.conf"; c.VolumeMounts[0].ReadOnly = true }), ""},
		{"volumeMount declared volume/invalid", ctr(func(c *Container) { c.VolumeMounts[0].Name = "nope" }), c0 + `volumeMounts[0].name: Not found: "nope"`},
		{"volumeMount absolute path/invalid", ctr(func(c *Container) { c.VolumeMounts[0].MountPath = "etc/web" }),
			c0 + `volumeMounts[0].mountPath: Invalid value: "etc/web": must be an absolute path`},
		{"volumeMount unique path/invalid", ctr(func(c *Container) {
			c.VolumeMounts = append(c.VolumeMounts, VolumeMount{Name: "config", MountPath: "/etc/web/"})
		}), c0 + `volumeMounts[1].mountPath: Invalid value: "/etc/web/": must be unique`},
		{"volumeMount unique path across containers/valid", pod(func(p *Pod) {
			p.Spec.Containers = append(p.Spec.Containers, Container{Name: "side", Image: "side", VolumeMounts: []VolumeMount{{Name: "config", MountPath: "/etc/web"}}})
		}), ""},
		{"volumeMount subPath/invalid", ctr(func(c *Container) { c.VolumeMounts[0].SubPath = "/abs" }),
			c0 + `volumeMounts[0].subPath: Invalid value: "/abs": must be a relative path`},

		// Affinity.
		{"node affinity operators/valid", nodeAffinity(
			NodeSelectorRequirement{Key: "disk", Operator: NodeSelectorOpIn, Values: []string{"ssd", "nvme"}},
			NodeSelectorRequirement{Key: "gpu", Operator: NodeSelectorOpDoesNotExist},
			NodeSelectorRequirement{Key: "cores", Operator: NodeSelectorOpGt, Values: []string{"4"}},
		), ""},
		{"node affinity In needs values/invalid", nodeAffinity(NodeSelectorRequirement{Key: "disk", Operator: NodeSelectorOpIn}),
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"},
		{"node affinity Exists takes no values/invalid", nodeAffinity(NodeSelectorRequirement{Key: "gpu", Operator: NodeSelectorOpExists, Values: []string{"x"}}),
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"},
		{"node affinity Gt one value/invalid", nodeAffinity(NodeSelectorRequirement{Key: "cores", Operator: NodeSelectorOpGt, Values: []string{"4", "8"}}),
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified single value when `operator` is 'Lt' or 'Gt'"},
		{"node affinity Lt integer/invalid", nodeAffinity(NodeSelectorRequirement{Key: "cores", Operator: NodeSelectorOpLt, Values: []string{"four"}}),
			`spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values[0]: Invalid value: "four": must be an integer`},
		{"node affinity operator/invalid", nodeAffinity(NodeSelectorRequirement{Key: "disk", Operator: "Near", Values: []string{"x"}}),
			`spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: "Near": supported values: "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"`},
		{"node affinity key/invalid", nodeAffinity(NodeSelectorRequirement{Key: "bad key", Operator: NodeSelectorOpExists}),
			`spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key: Invalid value: "bad key"`},
		{"node affinity terms/invalid", pod(func(p *Pod) {
			p.Spec.Affinity = &Affinity{NodeAffinity: &NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &NodeSelector{}}}
		}), "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term"},
		{"node affinity preferred weight/valid", pod(func(p *Pod) {
			p.Spec.Affinity = &Affinity{NodeAffinity: &NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []PreferredSchedulingTerm{{Weight: 100, Preference: NodeSelectorTerm{
				MatchExpressions: []NodeSelectorRequirement{{Key: "zone", Operator: NodeSelectorOpNotIn, Values: []string{"a"}}},
			}}}}}
		}), ""},
		{"node affinity preferred weight/invalid", pod(func(p *Pod) {
			p.Spec.Affinity = &Affinity{NodeAffinity: &NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []PreferredSchedulingTerm{{Weight: 0}}}}
		}), "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100"},
		{"pod anti-affinity/valid", antiAffinity(PodAffinityTerm{LabelSelector: appSelector, TopologyKey: "kubernetes.io/hostname"}), ""},
		{"pod anti-affinity topologyKey/invalid", antiAffinity(PodAffinityTerm{LabelSelector: appSelector}),
			"spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty"},
		{"pod anti-affinity selector operator/invalid", antiAffinity(PodAffinityTerm{TopologyKey: "zone", LabelSelector: &LabelSelector{
			MatchExpressions: []LabelSelectorRequirement{{Key: "rank", Operator: "Gt", Values: []string{"1"}}},
		}}), `spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].operator: Unsupported value: "Gt": supported values: "In", "NotIn", "Exists", "DoesNotExist"`},
		{"pod affinity preferred/valid", pod(func(p *Pod) {
			p.Spec.Affinity = &Affinity{PodAffinity: &PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []WeightedPodAffinityTerm{{Weight: 10, PodAffinityTerm: PodAffinityTerm{
				TopologyKey: "topology.kubernetes.io/zone", LabelSelector: &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "app", Operator: LabelSelectorOpExists}}},
			}}}}}
		}), ""},
		{"pod affinity preferred weight/invalid", pod(func(p *Pod) {
			p.Spec.Affinity = &Affinity{PodAffinity: &PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []WeightedPodAffinityTerm{{Weight: 101, PodAffinityTerm: PodAffinityTerm{TopologyKey: "zone"}}}}}
		}), "spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 101: must be in the range 1-100"},
		{"pod affinity selector labels/invalid", pod(func(p *Pod) {
			p.Spec.Affinity = &Affinity{PodAffinity: &PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []PodAffinityTerm{{TopologyKey: "zone", LabelSelector: &LabelSelector{MatchLabels: map[string]string{"app": "a b"}}}}}}
		}), `spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels[app]: Invalid value: "a b"`},

		// Topology spread.
		{"topology spread/valid", spread(TopologySpreadConstraint{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: ScheduleAnyway, LabelSelector: appSelector}), ""},
		{"topology spread maxSkew/invalid", spread(TopologySpreadConstraint{MaxSkew: 0, TopologyKey: "zone", WhenUnsatisfiable: DoNotSchedule}),
			"spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero"},
		{"topology spread whenUnsatisfiable/invalid", spread(TopologySpreadConstraint{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: "Whatever"}),
			`spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: "Whatever": supported values: "DoNotSchedule", "ScheduleAnyway"`},
		{"topology spread topologyKey/invalid", spread(TopologySpreadConstraint{MaxSkew: 1, WhenUnsatisfiable: DoNotSchedule}),
			"spec.topologySpreadConstraints[0].topologyKey: Required value"},
		{"topology spread unique/invalid", pod(func(p *Pod) {
			c := TopologySpreadConstraint{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: DoNotSchedule}
			p.Spec.TopologySpreadConstraints = []TopologySpreadConstraint{c, c}
		}), `spec.topologySpreadConstraints[1]: Duplicate value: "{zone, DoNotSchedule}"`},

		// Status, as the node agent writes it.
		{"status/valid", pod(func(p *Pod) {
			p.Status = PodStatus{
				Phase: PodRunning, PodIP: "10.1.0.7", PodIPs: []PodIP{{IP: "10.1.0.7"}, {IP: "fd00::7"}}, HostIP: "192.168.1.2",
				Conditions: []PodCondition{{Type: PodReady, Status: ConditionTrue}},
				ContainerStatuses: []ContainerStatus{{Name: "web", RestartCount: 2,
					State:                ContainerState{Running: &ContainerStateRunning{}},
					LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 137, Reason: ReasonOOMKilled}}}},
			}
		}), ""},
		{"status phase/invalid", pod(func(p *Pod) { p.Status.Phase = "Sleeping" }),
			`status.phase: Unsupported value: "Sleeping": supported values: "Pending", "Running", "Succeeded", "Failed", "Unknown"`},
		{"status condition status/invalid", pod(func(p *Pod) { p.Status.Conditions = []PodCondition{{Type: PodReady, Status: "Yes"}} }),
			`status.conditions[0].status: Unsupported value: "Yes": supported values: "True", "False", "Unknown"`},
		{"status podIP/invalid", pod(func(p *Pod) { p.Status.PodIP = "10.1.0.300" }), `status.podIP: Invalid value: "10.1.0.300": must be a valid IP address`},
		{"status container state one/invalid", pod(func(p *Pod) {
			p.Status.ContainerStatuses = []ContainerStatus{{Name: "web", State: ContainerState{Waiting: &ContainerStateWaiting{}, Running: &ContainerStateRunning{}}}}
		}), "status.containerStatuses[0].state.running: Forbidden: may not specify more than 1 container state"},

		// Metadata fields later kinds need.
		{"ownerReferences/valid", pod(func(p *Pod) {
			p.ObjectMeta.OwnerReferences = []OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d8f", UID: "u1", Controller: ptr(true)}}
			p.ObjectMeta.Finalizers = []string{"shoal.dev/volumes"}
			p.ObjectMeta.GenerateName = "web-5d8f-"
			p.ObjectMeta.DeletionGracePeriodSeconds = ptr[int64](30)
		}), ""},
		{"ownerReferences one controller/invalid", pod(func(p *Pod) {
			ref := OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d8f", UID: "u1", Controller: ptr(true)}
			p.ObjectMeta.OwnerReferences = []OwnerReference{ref, ref}
		}), "metadata.ownerReferences[1].controller: Invalid value: true: only one reference may be the controller; ownerReferences[0] is too"},
		{"ownerReferences uid/invalid", pod(func(p *Pod) {
			p.ObjectMeta.OwnerReferences = []OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d8f"}}
		}), "metadata.ownerReferences[0].uid: Required value"},
		{"finalizers/invalid", pod(func(p *Pod) { p.ObjectMeta.Finalizers = []string{"bad finalizer"} }), `metadata.finalizers[0]: Invalid value: "bad finalizer"`},
		{"generateName/invalid", pod(func(p *Pod) { p.ObjectMeta.GenerateName = "Web-" }), `metadata.generateName: Invalid value: "Web-"`},
		{"deletionGracePeriodSeconds/invalid", pod(func(p *Pod) { p.ObjectMeta.DeletionGracePeriodSeconds = ptr[int64](-1) }),
			"metadata.deletionGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0"},
	})
}

func TestDefaultsPod(t *testing.T) {
	info, _ := LookupKind("pod")
	p := &Pod{
		ObjectMeta: ObjectMeta{Name: "web"},
		Spec: PodSpec{
			Volumes:        []Volume{{Name: "c", VolumeSource: VolumeSource{ConfigMap: &ConfigMapVolumeSource{LocalObjectReference: LocalObjectReference{Name: "c"}}}}, {Name: "s", VolumeSource: VolumeSource{Secret: &SecretVolumeSource{SecretName: "s", DefaultMode: ptr[int32](0o400)}}}},
			InitContainers: []Container{{Name: "setup", Image: "busybox:1.36"}},
			Containers: []Container{{
				Name: "web", Image: "web",
				Ports: []ContainerPort{{ContainerPort: 80}, {ContainerPort: 53, Protocol: ProtocolUDP}},
				Env:   []EnvVar{{Name: "POD", ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "metadata.name"}}}},
				Resources: ResourceRequirements{
					Requests: ResourceList{ResourceCPU: q("100m")},
					Limits:   ResourceList{ResourceCPU: q("1"), ResourceMemory: q("256Mi")},
				},
				LivenessProbe:  &Probe{ProbeHandler: ProbeHandler{HTTPGet: &HTTPGetAction{Port: IntOrStringFromInt32(80)}}},
				ReadinessProbe: &Probe{ProbeHandler: ProbeHandler{TCPSocket: &TCPSocketAction{Port: IntOrStringFromInt32(80)}}, PeriodSeconds: 2, FailureThreshold: 1},
				Lifecycle:      &Lifecycle{PreStop: &LifecycleHandler{HTTPGet: &HTTPGetAction{Port: IntOrStringFromInt32(80), Path: "/quit"}}},
			}},
		},
	}
	Defaults(p, info, "")
	s := p.Spec
	c := s.Containers[0]
	for _, check := range []struct {
		what      string
		got, want any
	}{
		{"kind", p.Kind, "Pod"},
		{"namespace", p.ObjectMeta.Namespace, DefaultNamespace},
		{"restartPolicy", s.RestartPolicy, RestartPolicyAlways},
		{"terminationGracePeriodSeconds", *s.TerminationGracePeriodSeconds, int64(30)},
		{"untagged imagePullPolicy", c.ImagePullPolicy, PullAlways},
		{"tagged init imagePullPolicy", s.InitContainers[0].ImagePullPolicy, PullIfNotPresent},
		{"protocol", c.Ports[0].Protocol, ProtocolTCP},
		{"protocol kept", c.Ports[1].Protocol, ProtocolUDP},
		{"fieldRef apiVersion", c.Env[0].ValueFrom.FieldRef.APIVersion, "v1"},
		{"request kept", QuantityString(c.Resources.Requests[ResourceCPU]), "100m"},
		{"request from limit", QuantityString(c.Resources.Requests[ResourceMemory]), "256Mi"},
		{"probe periodSeconds", c.LivenessProbe.PeriodSeconds, int32(10)},
		{"probe timeoutSeconds", c.LivenessProbe.TimeoutSeconds, int32(1)},
		{"probe successThreshold", c.LivenessProbe.SuccessThreshold, int32(1)},
		{"probe failureThreshold", c.LivenessProbe.FailureThreshold, int32(3)},
		{"probe periodSeconds kept", c.ReadinessProbe.PeriodSeconds, int32(2)},
		{"probe failureThreshold kept", c.ReadinessProbe.FailureThreshold, int32(1)},
		{"httpGet path", c.LivenessProbe.HTTPGet.Path, "/"},
		{"httpGet scheme", c.LivenessProbe.HTTPGet.Scheme, URISchemeHTTP},
		{"preStop httpGet path kept", c.Lifecycle.PreStop.HTTPGet.Path, "/quit"},
		{"preStop httpGet scheme", c.Lifecycle.PreStop.HTTPGet.Scheme, URISchemeHTTP},
		{"configMap defaultMode", *s.Volumes[0].ConfigMap.DefaultMode, int32(0o644)},
		{"secret defaultMode kept", *s.Volumes[1].Secret.DefaultMode, int32(0o400)},
		{"phase", p.Status.Phase, PodPending},
	} {
		if check.got != check.want {
			t.Errorf("%s = %v; want %v", check.what, check.got, check.want)
		}
	}
	if errs := Validate(p, info); len(errs) != 0 {
		t.Errorf("defaulted pod is invalid: %v", errs)
	}

	running := pod(func(p *Pod) { p.Status.Phase = PodRunning; p.Spec.TerminationGracePeriodSeconds = ptr[int64](0) })
	Defaults(running, info, "team-a")
	if running.Status.Phase != PodRunning || *running.Spec.TerminationGracePeriodSeconds != 0 || running.ObjectMeta.Namespace != "team-a" {
		t.Errorf("Defaults changed set fields: phase %s grace %d", running.Status.Phase, *running.Spec.TerminationGracePeriodSeconds)
	}
}

func TestDefaultPullPolicy(t *testing.T) {
	for _, tc := range []struct {
		image string
		want  PullPolicy
	}{
		{"nginx", PullAlways},
		{"nginx:latest", PullAlways},
		{"nginx:1.25", PullIfNotPresent},
		{"localhost:5000/nginx", PullAlways},
		{"localhost:5000/nginx:1.25", PullIfNotPresent},
		{"nginx@sha256:0123abcd", PullIfNotPresent},
		{"nginx:latest@sha256:0123abcd", PullAlways},
	} {
		if got := defaultPullPolicy(tc.image); got != tc.want {
			t.Errorf("defaultPullPolicy(%q) = %s; want %s", tc.image, got, tc.want)
		}
	}
}

const goodPod = `apiVersion: v1
kind: Pod
metadata:
  name: web-0
  labels: {app: web}
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: web, uid: u1, controller: true}
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 10
  nodeSelector: {disktype: ssd}
  volumes:
  - name: config
    configMap: {name: web-config, items: [{key: app.conf, path: app.conf}]}
  - name: scratch
    emptyDir: {sizeLimit: 1Gi}
  initContainers:
  - name: migrate
    image: registry.local/web:1.0
    command: [/web, migrate]
  containers:
  - name: web
    image: registry.local/web:1.0
    args: [--listen=:8080]
    ports:
    - {name: http, containerPort: 8080}
    env:
    - {name: MODE, value: prod}
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    envFrom:
    - configMapRef: {name: web-env}
    resources:
      requests: {cpu: 0.25, memory: 64Mi}
      limits: {cpu: 1, memory: 134217728}
    readinessProbe:
      httpGet: {path: /healthz, port: http}
      periodSeconds: 5
    livenessProbe:
      tcpSocket: {port: 8080}
    lifecycle:
      preStop: {sleep: {seconds: 5}}
    volumeMounts:
    - {name: config, mountPath: /etc/web, readOnly: true}
  affinity:
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 50
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector: {matchLabels: {app: web}}
  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: web}}}
`

func TestDecodePod(t *testing.T) {
	docs, err := Decode("pod.yaml", []byte(goodPod))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	p := docs[0].Object.(*Pod)
	c := p.Spec.Containers[0]
	if got := QuantityString(c.Resources.Requests[ResourceCPU]); got != "250m" {
		t.Errorf("cpu request = %q; want 250m", got)
	}
	if lim := c.Resources.Limits[ResourceMemory]; lim.String() != "134217728" || lim.Value() != 128<<20 {
		t.Errorf("memory limit (a number in YAML) = %q; want 134217728", lim.String())
	}
	if got := c.ReadinessProbe.HTTPGet.Port; got != IntOrStringFromString("http") {
		t.Errorf("readiness port = %+v", got)
	}
	if got := c.LivenessProbe.TCPSocket.Port; got != IntOrStringFromInt32(8080) {
		t.Errorf("liveness port = %+v", got)
	}
	if !*p.ObjectMeta.OwnerReferences[0].Controller || p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Weight != 50 {
		t.Errorf("decoded %+v", p.ObjectMeta.OwnerReferences)
	}
	if got := PodRequests(p); !reflect.DeepEqual(got, ComputeResources{MilliCPU: 250, Memory: 64 << 20}) {
		t.Errorf("PodRequests = %+v", got)
	}
}

func TestDecodePodErrors(t *testing.T) {
	head := "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - name: web\n    image: web\n"
	for _, tc := range []struct {
		name, input, want string
	}{
		{"the brief's example", head + "    ports: [{containerPort: 70000}]\n",
			"pod.yaml: document 1: pod/a: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"},
		{"bad quantity", head + "    resources: {limits: {memory: 12x}}\n",
			`pod.yaml: document 1: pod/a: spec.containers[0].resources.limits[memory]: Invalid value: "12x": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`},
		{"quantity of the wrong type", head + "    resources: {requests: {cpu: [1]}}\n",
			"pod.yaml: document 1: pod/a: spec.containers[0].resources.requests[cpu]: expected string or number, got array"},
		{"port of the wrong type", head + "    livenessProbe: {tcpSocket: {port: true}}\n",
			"pod.yaml: document 1: pod/a: spec.containers[0].livenessProbe.tcpSocket.port: Invalid value: true: expected integer or string, got boolean"},
		{"port not an integer", head + "    livenessProbe: {tcpSocket: {port: 80.5}}\n",
			"pod.yaml: document 1: pod/a: spec.containers[0].livenessProbe.tcpSocket.port: Invalid value: 80.5: must be a 32-bit integer or a string"},
		{"int32 overflow", head + "    ports: [{containerPort: 99999999999}]\n",
			"pod.yaml: document 1: pod/a: spec.containers[0].ports[0].containerPort: Invalid value: 99999999999: out of range for int32"},
		{"unknown fields", head + "    imagePullPolicyy: Always\n  tolerationz: []\n",
			"pod.yaml: document 1: pod/a: spec.containers[0].imagePullPolicyy: unknown field\npod.yaml: document 1: pod/a: spec.tolerationz: unknown field"},
		{"bad timestamp", head + "status:\n  startTime: yesterday\n",
			`pod.yaml: document 1: pod/a: status.startTime: Invalid value: "yesterday": must be an RFC 3339 time`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode("pod.yaml", []byte(tc.input))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error =\n%v\nwant\n%s", err, tc.want)
			}
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid")
			}
		})
	}
}

func TestPodJSONShape(t *testing.T) {
	// A zero timestamp is null, as Kubernetes writes it; the pod round-trips.
	p := pod(func(p *Pod) {
		p.Status = PodStatus{Phase: PodPending, Conditions: []PodCondition{{Type: PodScheduled, Status: ConditionFalse}}}
	})
	info, _ := LookupKind("po")
	Defaults(p, info, "")
	b, err := jsonMarshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b, `"lastTransitionTime":null`) || strings.Contains(b, "0001-01-01") {
		t.Errorf("zero times are in the JSON: %s", b)
	}
	docs, err := Decode("pod.json", []byte(b))
	if err != nil {
		t.Fatalf("a marshalled pod does not decode: %v\n%s", err, b)
	}
	again, _ := jsonMarshal(docs[0].Object)
	if again != b {
		t.Errorf("round trip changed the pod:\n%s\n%s", b, again)
	}
}

func jsonMarshal(o any) (string, error) {
	b, err := json.Marshal(o)
	return string(b), err
}
