package workload

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// Cases for the parts of a pod spec that Kubernetes accepts and Shoal used
// to refuse: each valid fragment is accepted, and an invalid variant is
// refused with Kubernetes' field path and message.

func projected(sources ...corev1.VolumeProjection) *Pod {
	return vol(Volume{Name: "p", VolumeSource: VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: sources}}})
}

func downward(items ...DownwardAPIVolumeFile) *Pod {
	return vol(Volume{Name: "info", VolumeSource: VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: items}}})
}

func fieldFile(file, fieldPath string) DownwardAPIVolumeFile {
	return DownwardAPIVolumeFile{Path: file, FieldRef: &ObjectFieldSelector{FieldPath: fieldPath}}
}

func env(src EnvVarSource) *Pod {
	return ctr(func(c *Container) { c.Env = []EnvVar{{Name: "V", ValueFrom: &src}} })
}

func resources(limits, requests ResourceList) *Pod {
	return ctr(func(c *Container) { c.Resources = ResourceRequirements{Limits: limits, Requests: requests} })
}

func sidecar(mut func(*Container)) *Pod {
	return pod(func(p *Pod) {
		always := corev1.ContainerRestartPolicyAlways
		c := Container{Name: "log-shipper", Image: "fluent-bit:3", RestartPolicy: &always}
		if mut != nil {
			mut(&c)
		}
		p.Spec.InitContainers = []Container{c}
	})
}

var execTrue = ProbeHandler{Exec: &ExecAction{Command: []string{"true"}}}

func TestValidatePodVolumeSources(t *testing.T) {
	v0 := "spec.volumes[0]."
	token := func(path string, ttl int64) corev1.VolumeProjection {
		return corev1.VolumeProjection{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: path, ExpirationSeconds: &ttl, Audience: "vault"}}
	}
	cmItems := func(name string, paths ...string) corev1.VolumeProjection {
		var items []KeyToPath
		for _, p := range paths {
			items = append(items, KeyToPath{Key: p, Path: p})
		}
		return corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: LocalObjectReference{Name: name}, Items: items}}
	}
	bundle := "example.com/signer"
	runValidateCases(t, []validateCase{
		// Every member of VolumeSource is a source.
		{"in-tree and other sources/valid", pod(func(p *Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes,
				Volume{Name: "nfs", VolumeSource: VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.example.com", Path: "/exports"}}},
				Volume{Name: "csi", VolumeSource: VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "secrets-store.csi.k8s.io"}}},
				Volume{Name: "git", VolumeSource: VolumeSource{GitRepo: &corev1.GitRepoVolumeSource{Repository: "https://example.com/r.git", Directory: "."}}},
				Volume{Name: "ebs", VolumeSource: VolumeSource{AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "vol-1", FSType: "ext4"}}},
				Volume{Name: "pd", VolumeSource: VolumeSource{GCEPersistentDisk: &corev1.GCEPersistentDiskVolumeSource{PDName: "disk-1"}}},
				Volume{Name: "iscsi", VolumeSource: VolumeSource{ISCSI: &corev1.ISCSIVolumeSource{TargetPortal: "10.0.0.1:3260", IQN: "iqn.2001-04.com.example:storage", Lun: 0}}},
				Volume{Name: "cephfs", VolumeSource: VolumeSource{CephFS: &corev1.CephFSVolumeSource{Monitors: []string{"10.0.0.2:6789"}}}},
				Volume{Name: "azure", VolumeSource: VolumeSource{AzureFile: &corev1.AzureFileVolumeSource{SecretName: "az", ShareName: "share"}}},
				Volume{Name: "fc", VolumeSource: VolumeSource{FC: &corev1.FCVolumeSource{WWIDs: []string{"3600508b400105e210000900000490000"}}}},
				Volume{Name: "img", VolumeSource: VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "quay.io/crio/artifact:v2", PullPolicy: PullIfNotPresent}}},
			)
		}), ""},
		{"nfs server/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{NFS: &corev1.NFSVolumeSource{Path: "/exports"}}}),
			v0 + "nfs.server: Required value"},
		{"nfs path absolute/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs", Path: "exports"}}}),
			v0 + `nfs.path: Invalid value: "exports": must be an absolute path`},
		{"csi driver/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{CSI: &corev1.CSIVolumeSource{}}}), v0 + "csi.driver: Required value"},
		{"csi driver name/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "my_driver"}}}),
			v0 + `csi.driver: Invalid value: "my_driver"`},
		{"image reference/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{Image: &corev1.ImageVolumeSource{}}}), v0 + "image.reference: Required value"},
		{"image reference in a template/valid", &Deployment{
			TypeMeta:   TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: ObjectMeta{Name: "web"},
			Spec: DeploymentSpec{Selector: appSelector, Template: PodTemplateSpec{
				ObjectMeta: ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: PodSpec{
					Volumes:    []Volume{{Name: "v", VolumeSource: VolumeSource{Image: &corev1.ImageVolumeSource{}}}},
					Containers: []Container{{Name: "web", Image: "web:1"}},
				},
			}},
		}, ""},
		{"image volume subPath/invalid", pod(func(p *Pod) {
			p.Spec.Volumes = []Volume{{Name: "img", VolumeSource: VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "artifact:1"}}}}
			p.Spec.Containers[0].VolumeMounts = []VolumeMount{{Name: "img", MountPath: "/data", SubPath: "x"}}
		}), `spec.containers[0].volumeMounts[0].subPath: Invalid value: "x": not allowed in image volume sources`},
		{"gitRepo repository/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{GitRepo: &corev1.GitRepoVolumeSource{}}}),
			v0 + "gitRepo.repository: Required value"},
		{"awsElasticBlockStore volumeID/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{}}}),
			v0 + "awsElasticBlockStore.volumeID: Required value"},
		{"one source, the first checked/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{
			EmptyDir: &EmptyDirVolumeSource{}, NFS: &corev1.NFSVolumeSource{}}}),
			v0 + "nfs: Forbidden: may not specify more than 1 volume type"},

		// projected.
		{"projected/valid", projected(
			token("token", 3600),
			cmItems("kube-root-ca.crt", "ca.crt"),
			corev1.VolumeProjection{DownwardAPI: &corev1.DownwardAPIProjection{Items: []DownwardAPIVolumeFile{fieldFile("namespace", "metadata.namespace")}}},
			corev1.VolumeProjection{Secret: &corev1.SecretProjection{LocalObjectReference: LocalObjectReference{Name: "creds"}}},
			corev1.VolumeProjection{ClusterTrustBundle: &corev1.ClusterTrustBundleProjection{SignerName: &bundle, Path: "bundle.pem",
				LabelSelector: &LabelSelector{MatchLabels: map[string]string{"env": "prod"}}}},
		), ""},
		{"projected token expiration minimum/invalid", projected(token("token", 599)),
			v0 + "projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes"},
		{"projected token expiration maximum/invalid", projected(token("token", 1<<32+1)),
			v0 + "projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds"},
		{"projected token path/invalid", projected(token("", 3600)), v0 + "projected.path: Required value"},
		{"projected duplicate paths/invalid", projected(cmItems("a", "x"), cmItems("b", "x")),
			v0 + `projected: Invalid value: "b": conflicting duplicate paths`},
		{"projected one kind per source/invalid", projected(corev1.VolumeProjection{
			Secret: &corev1.SecretProjection{LocalObjectReference: LocalObjectReference{Name: "s"}}, ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: LocalObjectReference{Name: "c"}}}),
			v0 + "projected.sources[0]: Forbidden: may not specify more than 1 volume type per source"},
		{"projected defaultMode/invalid", vol(Volume{Name: "p", VolumeSource: VolumeSource{Projected: &corev1.ProjectedVolumeSource{DefaultMode: ptr[int32](0o1000)}}}),
			v0 + "projected.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive"},
		{"projected clusterTrustBundle name or signer/invalid", projected(corev1.VolumeProjection{ClusterTrustBundle: &corev1.ClusterTrustBundleProjection{Path: "b.pem"}}),
			v0 + "projected.sources[0].clusterTrustBundle: Required value: either name or signerName must be specified"},

		// downwardAPI.
		{"downwardAPI fields/valid", downward(
			fieldFile("labels", "metadata.labels"), fieldFile("annotations", "metadata.annotations"),
			fieldFile("name", "metadata.name"), fieldFile("uid", "metadata.uid"), fieldFile("app", "metadata.labels['app']"),
			fieldFile("owner", "metadata.annotations['example.com/owner']"),
			DownwardAPIVolumeFile{Path: "cpu_limit", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "web", Resource: "limits.cpu", Divisor: q("1m")}},
			DownwardAPIVolumeFile{Path: "huge", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "web", Resource: "requests.hugepages-2Mi"}},
		), ""},
		{"downwardAPI field for a volume/invalid", downward(fieldFile("node", "spec.nodeName")),
			v0 + `downwardAPI.fieldRef.fieldPath: Unsupported value: "spec.nodeName": supported values: "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"`},
		{"downwardAPI path required/invalid", downward(fieldFile("", "metadata.name")), v0 + "downwardAPI.path: Required value"},
		{"downwardAPI path relative/invalid", downward(fieldFile("/etc/name", "metadata.name")),
			v0 + `downwardAPI.path: Invalid value: "/etc/name": must be a relative path`},
		{"downwardAPI one ref/invalid", downward(DownwardAPIVolumeFile{Path: "x"}),
			v0 + "downwardAPI: Required value: one of fieldRef and resourceFieldRef is required"},
		{"downwardAPI resourceFieldRef containerName/invalid", downward(DownwardAPIVolumeFile{Path: "mem", ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory"}}),
			v0 + "downwardAPI.resourceFieldRef.containerName: Required value"},

		// ephemeral.
		{"ephemeral/valid", vol(Volume{Name: "scratch", VolumeSource: VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
			ObjectMeta: ObjectMeta{Labels: map[string]string{"type": "scratch"}},
			Spec: PersistentVolumeClaimSpec{AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}, StorageClassName: ptr("fast"),
				Resources: VolumeResourceRequirements{Requests: ResourceList{ResourceStorage: q("1Gi")}}},
		}}}}), ""},
		{"ephemeral template/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}}),
			v0 + "ephemeral.volumeClaimTemplate: Required value"},
		{"ephemeral access modes/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
			Spec: PersistentVolumeClaimSpec{Resources: VolumeResourceRequirements{Requests: ResourceList{ResourceStorage: q("1Gi")}}},
		}}}}), v0 + "ephemeral.volumeClaimTemplate.spec.accessModes: Required value: at least 1 access mode is required"},
		{"ephemeral storage request/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
			Spec: PersistentVolumeClaimSpec{AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}},
		}}}}), v0 + "ephemeral.volumeClaimTemplate.spec.resources[storage]: Required value"},
		{"ephemeral template metadata/invalid", vol(Volume{Name: "v", VolumeSource: VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
			ObjectMeta: ObjectMeta{Name: "claim"},
			Spec: PersistentVolumeClaimSpec{AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce},
				Resources: VolumeResourceRequirements{Requests: ResourceList{ResourceStorage: q("1Gi")}}},
		}}}}), v0 + "ephemeral.volumeClaimTemplate.metadata.name: Forbidden: cannot be set"},
	})
}

func TestValidatePodResources(t *testing.T) {
	r0 := "spec.containers[0].resources."
	gpu := ResourceName("nvidia.com/gpu")
	runValidateCases(t, []validateCase{
		{"extended resource limit only/valid", ctr(func(c *Container) { c.Resources.Limits[gpu] = q("2") }), ""},
		{"extended resource request equals limit/valid", ctr(func(c *Container) {
			c.Resources.Limits[gpu], c.Resources.Requests[gpu] = q("1"), q("1")
		}), ""},
		{"extended resource request equals limit/invalid", ctr(func(c *Container) {
			c.Resources.Limits[gpu], c.Resources.Requests[gpu] = q("2"), q("1")
		}), r0 + `requests: Invalid value: "1": must be equal to nvidia.com/gpu limit of 2`},
		{"extended resource limit required/invalid", ctr(func(c *Container) { c.Resources.Requests[gpu] = q("1") }),
			r0 + "limits: Required value: Limit must be set for non overcommitable resources"},
		{"extended resource integer/invalid", ctr(func(c *Container) { c.Resources.Limits[gpu] = q("500m") }),
			r0 + `limits[nvidia.com/gpu]: Invalid value: "500m": must be an integer`},
		{"extended resource name/invalid", ctr(func(c *Container) { c.Resources.Limits["requests.example.com/foo"] = q("1") }),
			r0 + `limits[requests.example.com/foo]: Invalid value: "requests.example.com/foo": doesn't follow extended resource name standard`},
		{"native prefixed resource/valid", ctr(func(c *Container) { c.Resources.Limits["example.kubernetes.io/thing"] = q("1") }), ""},
		{"standard but not for containers/invalid", ctr(func(c *Container) { c.Resources.Limits[ResourcePods] = q("1") }),
			r0 + `limits[pods]: Invalid value: "pods": must be a standard resource for containers`},
		{"ephemeral-storage/valid", ctr(func(c *Container) {
			c.Resources.Limits[corev1.ResourceEphemeralStorage], c.Resources.Requests[corev1.ResourceEphemeralStorage] = q("2Gi"), q("1Gi")
		}), ""},
		{"hugepages/valid", ctr(func(c *Container) { c.Resources.Limits["hugepages-2Mi"] = q("4Mi") }), ""},
		{"hugepages limit required/invalid", ctr(func(c *Container) { c.Resources.Requests["hugepages-2Mi"] = q("4Mi") }),
			r0 + "limits: Required value: Limit must be set for non overcommitable resources"},
		{"hugepages whole pages/invalid", ctr(func(c *Container) { c.Resources.Limits["hugepages-2Mi"] = q("3Mi") }),
			r0 + `limits[hugepages-2Mi]: Invalid value: "3Mi": 3Mi is not positive integer multiple of hugepages-2Mi`},
		{"hugepages need cpu or memory/invalid", resources(ResourceList{"hugepages-1Gi": q("1Gi")}, nil),
			"spec.containers[0].resources: Forbidden: HugePages require cpu or memory"},
		{"resource claims/valid", pod(func(p *Pod) {
			p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimTemplateName: ptr("single-gpu")}}
			p.Spec.Containers[0].Resources.Claims = []corev1.ResourceClaim{{Name: "gpu"}}
		}), ""},
		{"resource claims name a pod claim/invalid", ctr(func(c *Container) { c.Resources.Claims = []corev1.ResourceClaim{{Name: "gpu"}} }),
			r0 + `claims[0]: Not found: "gpu": must be one of the names in pod.spec.resourceClaims which is empty`},
		{"pod resourceClaims one source/invalid", pod(func(p *Pod) { p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu"}} }),
			"spec.resourceClaims[0]: Invalid value: {\"name\":\"gpu\"}: must specify one of: `resourceClaimName`, `resourceClaimTemplateName`"},
		{"overhead/valid", pod(func(p *Pod) { p.Spec.Overhead = ResourceList{ResourceCPU: q("250m"), ResourceMemory: q("120Mi")} }), ""},
		{"overhead/invalid", pod(func(p *Pod) { p.Spec.Overhead = ResourceList{ResourceCPU: q("-1")} }),
			`spec.overhead.limits[cpu]: Invalid value: "-1": must be greater than or equal to 0`},
	})
}

func TestValidatePodDownwardEnv(t *testing.T) {
	e0 := "spec.containers[0].env[0].valueFrom."
	var cases []validateCase
	for _, path := range append([]string{"metadata.labels['app']", "metadata.annotations['example.com/owner']"}, EnvFieldPaths...) {
		cases = append(cases, validateCase{"env fieldRef " + path + "/valid", env(EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: path}}), ""})
	}
	cases = append(cases, []validateCase{
		{"env fieldRef all labels/invalid", env(EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "metadata.labels"}}),
			e0 + `fieldRef.fieldPath: Unsupported value: "metadata.labels": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"`},
		{"env fieldRef subscript/invalid", env(EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "spec.nodeSelector['zone']"}}),
			e0 + `fieldRef: Invalid value: "spec.nodeSelector": does not support subscript`},
		{"env fieldRef apiVersion/invalid", env(EnvVarSource{FieldRef: &ObjectFieldSelector{APIVersion: "v2", FieldPath: "metadata.name"}}),
			e0 + `fieldRef.apiVersion: Unsupported value: "v2": supported values: "v1"`},
		{"env resourceFieldRef/valid", pod(func(p *Pod) {
			p.Spec.Containers[0].Env = []EnvVar{
				{Name: "CPU", ValueFrom: &EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu", Divisor: q("1m")}}},
				{Name: "MEM", ValueFrom: &EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "setup", Resource: "requests.memory", Divisor: q("1Mi")}}},
				{Name: "DISK", ValueFrom: &EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.ephemeral-storage", Divisor: q("1G")}}},
				{Name: "HUGE", ValueFrom: &EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.hugepages-1Gi"}}},
			}
			p.Spec.InitContainers = []Container{{Name: "setup", Image: "busybox"}}
		}), ""},
		{"env resourceFieldRef resource/invalid", env(EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.nvidia.com/gpu"}}),
			e0 + `resourceFieldRef.resource: Unsupported value: "limits.nvidia.com/gpu": supported values: "limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"`},
		{"env resourceFieldRef resource required/invalid", env(EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{}}),
			e0 + "resourceFieldRef.resource: Required value"},
		{"env resourceFieldRef container/invalid", env(EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "nope", Resource: "limits.cpu"}}),
			e0 + `resourceFieldRef.containerName: Not found: "nope"`},
		{"env resourceFieldRef cpu divisor/invalid", env(EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu", Divisor: q("10m")}}),
			e0 + `resourceFieldRef.divisor: Invalid value: "limits.cpu": only divisor's values 1m and 1 are supported with the cpu resource`},
		{"env resourceFieldRef memory divisor/invalid", env(EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "requests.memory", Divisor: q("1m")}}),
			e0 + `resourceFieldRef.divisor: Invalid value: "requests.memory": only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource`},
	}...)
	runValidateCases(t, cases)
}

func TestValidatePodProbesAndHooks(t *testing.T) {
	c0 := "spec.containers[0]."
	runValidateCases(t, []validateCase{
		{"grpc probe/valid", ctr(func(c *Container) {
			c.LivenessProbe = &Probe{ProbeHandler: ProbeHandler{GRPC: &corev1.GRPCAction{Port: 2379}}, InitialDelaySeconds: 10}
			c.StartupProbe = &Probe{ProbeHandler: ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090, Service: ptr("health")}}}
		}), ""},
		{"grpc probe port/invalid", ctr(func(c *Container) { c.LivenessProbe = &Probe{ProbeHandler: ProbeHandler{GRPC: &corev1.GRPCAction{}}} }),
			c0 + "livenessProbe.grpc.port: Invalid value: 0: must be between 1 and 65535, inclusive"},
		{"grpc probe one handler/invalid", ctr(func(c *Container) { c.ReadinessProbe.GRPC = &corev1.GRPCAction{Port: 9090} }),
			c0 + "readinessProbe.grpc: Forbidden: may not specify more than 1 handler type"},
		{"probe terminationGracePeriodSeconds/valid", ctr(func(c *Container) {
			c.LivenessProbe = &Probe{ProbeHandler: execTrue, TerminationGracePeriodSeconds: ptr[int64](5)}
		}), ""},
		{"readiness terminationGracePeriodSeconds/invalid", ctr(func(c *Container) { c.ReadinessProbe.TerminationGracePeriodSeconds = ptr[int64](5) }),
			c0 + "readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes"},
		{"postStart/valid", ctr(func(c *Container) {
			c.Lifecycle = &Lifecycle{
				PostStart: &LifecycleHandler{Exec: &ExecAction{Command: []string{"/bin/sh", "-c", "echo started > /tmp/started"}}},
				PreStop:   &LifecycleHandler{HTTPGet: &HTTPGetAction{Path: "/drain", Port: IntOrStringFromString("http")}},
			}
		}), ""},
		{"postStart tcpSocket/valid", ctr(func(c *Container) {
			c.Lifecycle = &Lifecycle{PostStart: &LifecycleHandler{TCPSocket: &TCPSocketAction{Port: IntOrStringFromInt32(8080)}}}
		}), ""},
		{"postStart handler/invalid", ctr(func(c *Container) { c.Lifecycle = &Lifecycle{PostStart: &LifecycleHandler{}} }),
			c0 + "lifecycle.postStart: Required value: must specify a handler type"},
		{"postStart exec command/invalid", ctr(func(c *Container) {
			c.Lifecycle = &Lifecycle{PostStart: &LifecycleHandler{Exec: &ExecAction{}}}
		}), c0 + "lifecycle.postStart.exec.command: Required value"},
		{"postStart sleep within grace/invalid", ctr(func(c *Container) {
			c.Lifecycle = &Lifecycle{PostStart: &LifecycleHandler{Sleep: &SleepAction{Seconds: 60}}}
		}), c0 + "lifecycle.postStart.sleep.seconds: Invalid value: 60"},
	})
}

func TestValidatePodSidecars(t *testing.T) {
	i0 := "spec.initContainers[0]."
	runValidateCases(t, []validateCase{
		{"sidecar with probes and hooks/valid", sidecar(func(c *Container) {
			c.Ports = []ContainerPort{{Name: "metrics", ContainerPort: 2020}}
			c.StartupProbe = &Probe{ProbeHandler: ProbeHandler{HTTPGet: &HTTPGetAction{Path: "/", Port: IntOrStringFromString("metrics")}}}
			c.LivenessProbe = &Probe{ProbeHandler: execTrue}
			c.ReadinessProbe = &Probe{ProbeHandler: ProbeHandler{GRPC: &corev1.GRPCAction{Port: 2021}}}
			c.Lifecycle = &Lifecycle{PreStop: &LifecycleHandler{Sleep: &SleepAction{Seconds: 2}}}
		}), ""},
		{"sidecar probe checked/invalid", sidecar(func(c *Container) { c.LivenessProbe = &Probe{ProbeHandler: execTrue, SuccessThreshold: 3} }),
			i0 + "livenessProbe.successThreshold: Invalid value: 3: must be 1"},
		{"init restartPolicy value/invalid", sidecar(func(c *Container) { c.RestartPolicy = ptr(corev1.ContainerRestartPolicy("OnFailure")) }),
			i0 + `restartPolicy: Unsupported value: "OnFailure": supported values: "Always"`},
		{"regular init container probe/invalid", pod(func(p *Pod) {
			p.Spec.InitContainers = []Container{{Name: "setup", Image: "busybox", LivenessProbe: &Probe{ProbeHandler: execTrue}}}
		}), i0 + "livenessProbe: Forbidden: may not be set for init containers"},
		{"regular init container lifecycle/invalid", pod(func(p *Pod) {
			p.Spec.InitContainers = []Container{{Name: "setup", Image: "busybox", Lifecycle: &Lifecycle{PostStart: &LifecycleHandler{Exec: &ExecAction{Command: []string{"x"}}}}}}
		}), i0 + "lifecycle: Forbidden: may not be set for init containers"},
		{"restartPolicy on an app container/invalid", ctr(func(c *Container) { c.RestartPolicy = ptr(corev1.ContainerRestartPolicyAlways) }),
			"spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"},
		{"init containers reuse host ports/valid", pod(func(p *Pod) {
			p.Spec.Containers[0].Ports[0].HostPort = 8080
			p.Spec.InitContainers = []Container{
				{Name: "a", Image: "a", Ports: []ContainerPort{{ContainerPort: 8080, HostPort: 8080}}},
				{Name: "b", Image: "b", Ports: []ContainerPort{{ContainerPort: 8080, HostPort: 8080}}},
			}
		}), ""},
	})
}

func TestValidatePodSpecFields(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"SCTP port/valid", ctr(func(c *Container) { c.Ports[0].Protocol = corev1.ProtocolSCTP }), ""},
		{"host ports on different host IPs/valid", pod(func(p *Pod) {
			p.Spec.Containers[0].Ports[0].HostPort, p.Spec.Containers[0].Ports[0].HostIP = 80, "10.0.0.1"
			p.Spec.Containers = append(p.Spec.Containers, Container{Name: "b", Image: "b", Ports: []ContainerPort{{ContainerPort: 80, HostPort: 80, HostIP: "10.0.0.2"}}})
		}), ""},
		{"os/valid", pod(func(p *Pod) { p.Spec.OS = &corev1.PodOS{Name: corev1.Linux} }), ""},
		{"os name/invalid", pod(func(p *Pod) { p.Spec.OS = &corev1.PodOS{Name: "plan9"} }),
			`spec.os: Unsupported value: "plan9": supported values: "linux", "windows"`},
		{"os linux windowsOptions/invalid", pod(func(p *Pod) {
			p.Spec.OS = &corev1.PodOS{Name: corev1.Linux}
			p.Spec.SecurityContext = &corev1.PodSecurityContext{WindowsOptions: &corev1.WindowsSecurityContextOptions{}}
		}), "spec.securityContext.windowsOptions: Forbidden: windows options cannot be set for a linux pod"},
		{"hostNetwork ports/valid", pod(func(p *Pod) {
			p.Spec.HostNetwork, p.Spec.DNSPolicy = true, corev1.DNSClusterFirstWithHostNet
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, ContainerPort{Name: "metrics", ContainerPort: 9100, HostPort: 9100})
		}), ""},
		{"hostNetwork hostPort/invalid", pod(func(p *Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports[0].HostPort = 80
		}), "spec.containers[0].ports[0].hostPort: Invalid value: 80: must match `containerPort` when `hostNetwork` is true"},
		{"shareProcessNamespace/valid", pod(func(p *Pod) { p.Spec.ShareProcessNamespace = ptr(true) }), ""},
		{"shareProcessNamespace with hostPID/invalid", pod(func(p *Pod) { p.Spec.ShareProcessNamespace, p.Spec.HostPID = ptr(true), true }),
			"spec.securityContext.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled"},
		{"hostUsers/valid", pod(func(p *Pod) { p.Spec.HostUsers = ptr(false) }), ""},
		{"hostUsers with hostNetwork/invalid", pod(func(p *Pod) { p.Spec.HostUsers, p.Spec.HostNetwork = ptr(false), true }),
			"spec.hostNetwork: Forbidden: when `pod.Spec.HostUsers` is false"},
		{"securityContext/valid", pod(func(p *Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{
				RunAsUser: ptr[int64](1000), RunAsGroup: ptr[int64](3000), FSGroup: ptr[int64](2000), RunAsNonRoot: ptr(true),
				SupplementalGroups: []int64{4000}, FSGroupChangePolicy: ptr(corev1.FSGroupChangeOnRootMismatch),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
				Sysctls:        []corev1.Sysctl{{Name: "kernel.shm_rmid_forced", Value: "0"}, {Name: "net.core.somaxconn", Value: "1024"}, {Name: "net/ipv4/ip_local_port_range", Value: "1024 65535"}},
			}
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true),
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}, Drop: []corev1.Capability{"ALL"}}}
		}), ""},
		{"sysctl name/invalid", pod(func(p *Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: "Kernel.Foo", Value: "1"}}}
		}),
			`spec.securityContext.sysctls[0].name: Invalid value: "Kernel.Foo": must have at most 253 characters and match regex`},
		{"sysctl with hostNetwork/invalid", pod(func(p *Pod) {
			p.Spec.HostNetwork = true
			p.Spec.SecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: "net.core.somaxconn", Value: "1024"}}}
		}), `spec.securityContext.sysctls[0].name: Invalid value: "net.core.somaxconn": may not be specified when 'hostNetwork' is true`},
		{"runAsUser/invalid", pod(func(p *Pod) { p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr[int64](-1)} }),
			"spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive"},
		{"privilege escalation/invalid", ctr(func(c *Container) {
			c.SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr(false), Privileged: ptr(true)}
		}), "spec.containers[0].securityContext: Invalid value: "},
		{"dnsPolicy/valid", pod(func(p *Pod) { p.Spec.DNSPolicy = corev1.DNSDefault }), ""},
		{"dnsPolicy/invalid", pod(func(p *Pod) { p.Spec.DNSPolicy = "ClusterLast" }),
			`spec.dnsPolicy: Unsupported value: "ClusterLast": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"`},
		{"dnsConfig None/valid", pod(func(p *Pod) {
			p.Spec.DNSPolicy = corev1.DNSNone
			p.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"192.0.2.1"}, Searches: []string{"ns1.svc.cluster-domain.example", "_sip._tcp.example.com"},
				Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr("2")}, {Name: "edns0"}}}
		}), ""},
		{"dnsConfig None nameservers/invalid", pod(func(p *Pod) {
			p.Spec.DNSPolicy, p.Spec.DNSConfig = corev1.DNSNone, &corev1.PodDNSConfig{}
		}), "spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when `dnsPolicy` is None"},
		{"dnsConfig None required/invalid", pod(func(p *Pod) { p.Spec.DNSPolicy = corev1.DNSNone }),
			"spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"},
		{"dnsConfig nameservers at most 3/invalid", pod(func(p *Pod) {
			p.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"}}
		}), "spec.dnsConfig.nameservers: Invalid value: [\"1.1.1.1\",\"1.0.0.1\",\"8.8.8.8\",\"8.8.4.4\"]: must not have more than 3 nameservers"},
		{"dnsConfig searches at most 32/invalid", pod(func(p *Pod) {
			s := make([]string, 33)
			for i := range s {
				s[i] = "a.example"
			}
			p.Spec.DNSConfig = &corev1.PodDNSConfig{Searches: s}
		}), "spec.dnsConfig.searches: Invalid value: "},
		{"priority and preemption/valid", pod(func(p *Pod) {
			p.Spec.Priority, p.Spec.PriorityClassName, p.Spec.PreemptionPolicy = ptr[int32](1000), "high-priority", ptr(PreemptNever)
		}), ""},
		{"preemptionPolicy/invalid", pod(func(p *Pod) { p.Spec.PreemptionPolicy = ptr(corev1.PreemptionPolicy("Always")) }),
			`spec.preemptionPolicy: Unsupported value: "Always": supported values: "PreemptLowerPriority", "Never"`},
		{"readinessGates/valid", pod(func(p *Pod) {
			p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "www.example.com/feature-1"}}
		}), ""},
		{"readinessGates/invalid", pod(func(p *Pod) { p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "bad gate"}} }),
			`spec.readinessGates[0].conditionType: Invalid value: "bad gate"`},
		{"topology spread policies/valid", spread(TopologySpreadConstraint{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: DoNotSchedule, LabelSelector: appSelector,
			MinDomains: ptr[int32](3), NodeAffinityPolicy: ptr(corev1.NodeInclusionPolicyHonor), NodeTaintsPolicy: ptr(corev1.NodeInclusionPolicyIgnore),
			MatchLabelKeys: []string{"pod-template-hash"}}), ""},
		{"topology spread minDomains/invalid", spread(TopologySpreadConstraint{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: ScheduleAnyway, MinDomains: ptr[int32](2)}),
			"spec.topologySpreadConstraints[0].minDomains: Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway"},
		{"topology spread nodeAffinityPolicy/invalid", spread(TopologySpreadConstraint{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: DoNotSchedule,
			NodeAffinityPolicy: ptr(corev1.NodeInclusionPolicy("Sometimes"))}),
			`spec.topologySpreadConstraints[0].nodeAffinityPolicy: Unsupported value: "Sometimes": supported values: "Honor", "Ignore"`},
		{"topology spread matchLabelKeys in selector/invalid", spread(TopologySpreadConstraint{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: DoNotSchedule,
			LabelSelector: appSelector, MatchLabelKeys: []string{"app"}}),
			`spec.topologySpreadConstraints[0].matchLabelKeys[0]: Invalid value: "app": exists in both matchLabelKeys and labelSelector`},
		{"activeDeadlineSeconds/valid", pod(func(p *Pod) { p.Spec.ActiveDeadlineSeconds = ptr[int64](600) }), ""},
		{"activeDeadlineSeconds/invalid", pod(func(p *Pod) { p.Spec.ActiveDeadlineSeconds = ptr[int64](0) }),
			"spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"},
		{"enableServiceLinks/valid", pod(func(p *Pod) { p.Spec.EnableServiceLinks = ptr(false) }), ""},
		{"runtimeClassName/valid", pod(func(p *Pod) { p.Spec.RuntimeClassName = ptr("gvisor") }), ""},
		{"runtimeClassName/invalid", pod(func(p *Pod) { p.Spec.RuntimeClassName = ptr("G_Visor") }), `spec.runtimeClassName: Invalid value: "G_Visor"`},
		{"schedulingGates/valid", pod(func(p *Pod) { p.Spec.SchedulingGates = []PodSchedulingGate{{Name: "example.com/quota"}} }), ""},
		{"schedulingGates name/invalid", pod(func(p *Pod) { p.Spec.SchedulingGates = []PodSchedulingGate{{Name: "not a name"}} }),
			`spec.schedulingGates[0]: Invalid value: "not a name"`},
		{"schedulingGates unique/invalid", pod(func(p *Pod) { p.Spec.SchedulingGates = []PodSchedulingGate{{Name: "g"}, {Name: "g"}} }),
			`spec.schedulingGates[1]: Duplicate value: "g"`},
		{"tolerations/valid", pod(func(p *Pod) {
			p.Spec.Tolerations = []Toleration{{Key: "nvidia.com/gpu", Operator: TolerationOpExists, Effect: TaintEffectNoSchedule},
				{Key: "node.kubernetes.io/unreachable", Operator: TolerationOpExists, Effect: TaintEffectNoExecute, TolerationSeconds: ptr[int64](300)}, {Operator: TolerationOpExists}}
		}), ""},
		{"tolerations seconds need NoExecute/invalid", pod(func(p *Pod) {
			p.Spec.Tolerations = []Toleration{{Key: "k", Operator: TolerationOpExists, Effect: TaintEffectNoSchedule, TolerationSeconds: ptr[int64](1)}}
		}), `spec.tolerations[0].effect: Invalid value: "NoSchedule": effect must be 'NoExecute' when ` + "`tolerationSeconds` is set"},
		{"hostAliases/valid", pod(func(p *Pod) {
			p.Spec.HostAliases = []corev1.HostAlias{{IP: "127.0.0.1", Hostnames: []string{"foo.local", "bar.local"}}}
		}), ""},
		{"hostAliases ip/invalid", pod(func(p *Pod) { p.Spec.HostAliases = []corev1.HostAlias{{IP: "localhost"}} }),
			`spec.hostAliases[0].ip: Invalid value: "localhost"`},
		{"subdomain/invalid", pod(func(p *Pod) { p.Spec.Subdomain = "a.b" }), `spec.subdomain: Invalid value: "a.b"`},
	})
}

// A manifest as the Kubernetes documentation writes one (a sidecar, a
// projected and a downward API volume, a gRPC probe, an extended resource)
// decodes and validates.
func TestDecodeKubernetesPodManifest(t *testing.T) {
	const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: app
  labels: {app: web}
spec:
  initContainers:
  - name: logshipper
    image: alpine:latest
    restartPolicy: Always
    command: ['sh', '-c', 'tail -F /opt/logs.txt']
    volumeMounts: [{name: data, mountPath: /opt}]
    startupProbe:
      exec: {command: [test, -f, /opt/logs.txt]}
  containers:
  - name: web
    image: registry.k8s.io/etcd:3.5.1-0
    ports: [{containerPort: 2379}, {containerPort: 9999, protocol: SCTP}]
    env:
    - name: MY_CPU_LIMIT
      valueFrom: {resourceFieldRef: {containerName: web, resource: limits.cpu, divisor: 1m}}
    - name: MY_SA
      valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}
    resources:
      limits: {cpu: 500m, memory: 128Mi, example.com/dongle: 1}
    livenessProbe:
      grpc: {port: 2379}
      initialDelaySeconds: 10
    lifecycle:
      postStart:
        exec: {command: ["/bin/sh", "-c", "echo Hello > /usr/share/message"]}
    volumeMounts:
    - {name: data, mountPath: /opt}
    - {name: all-in-one, mountPath: /projected-volume, readOnly: true}
    - {name: podinfo, mountPath: /etc/podinfo}
  volumes:
  - name: data
    emptyDir: {}
  - name: all-in-one
    projected:
      sources:
      - secret: {name: mysecret, items: [{key: username, path: my-group/my-username}]}
      - downwardAPI:
          items:
          - path: labels
            fieldRef: {fieldPath: metadata.labels}
          - path: cpu_limit
            resourceFieldRef: {containerName: web, resource: limits.cpu}
      - configMap: {name: myconfigmap, items: [{key: config, path: my-group/my-config}]}
      - serviceAccountToken: {audience: api, expirationSeconds: 3600, path: token}
  - name: podinfo
    downwardAPI:
      items:
      - path: annotations
        fieldRef: {fieldPath: metadata.annotations}
`
	docs, err := Decode("pod.yaml", []byte(manifest))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	p := docs[0].Object.(*Pod)
	info, err := LookupKind("Pod")
	if err != nil {
		t.Fatal(err)
	}
	Defaults(p, info, "default")
	if errs := Validate(p, info); len(errs) != 0 {
		t.Fatalf("Validate after Defaults = %v", errs)
	}
	sc := p.Spec.InitContainers[0]
	if sc.StartupProbe.PeriodSeconds != DefaultProbePeriodSeconds || sc.TerminationMessagePath == "" {
		t.Errorf("sidecar not defaulted: %+v", sc)
	}
	web := p.Spec.Containers[0]
	if lp := web.LivenessProbe; lp.TimeoutSeconds != DefaultProbeTimeoutSeconds || lp.FailureThreshold != DefaultProbeFailureThreshold {
		t.Errorf("grpc probe timings = %+v", lp)
	}
	if got := web.Resources.Requests["example.com/dongle"]; got.String() != "1" {
		t.Errorf("extended request = %s; want 1 (its limit)", got.String())
	}
	if pr := p.Spec.Volumes[1].Projected; *pr.DefaultMode != DefaultVolumeMode {
		t.Errorf("projected defaultMode = %o", *pr.DefaultMode)
	}
	if m := p.Spec.Volumes[2].DownwardAPI.DefaultMode; m == nil || *m != DefaultVolumeMode {
		t.Errorf("downwardAPI defaultMode = %v", m)
	}
}

func TestDefaultsPodHostNetworkAndHooks(t *testing.T) {
	p := pod(func(p *Pod) {
		p.Spec.HostNetwork = true
		p.Spec.Containers[0].Lifecycle = &Lifecycle{PostStart: &LifecycleHandler{HTTPGet: &HTTPGetAction{Port: IntOrStringFromInt32(8080)}}}
		p.Spec.Volumes = append(p.Spec.Volumes,
			Volume{Name: "tok", VolumeSource: VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}},
			Volume{Name: "img", VolumeSource: VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "artifact:v1"}}})
	})
	info, _ := LookupKind("Pod")
	if errs := Validate(p, info); len(errs) != 0 {
		t.Fatalf("Validate = %v", errs)
	}
	Defaults(p, info, "default")
	if got := p.Spec.Containers[0].Ports[0].HostPort; got != 8080 {
		t.Errorf("hostPort on the host network = %d; want the containerPort 8080", got)
	}
	if h := p.Spec.Containers[0].Lifecycle.PostStart.HTTPGet; h.Path != "/" || h.Scheme != URISchemeHTTP {
		t.Errorf("postStart httpGet = %+v; want path / and scheme HTTP", h)
	}
	if e := p.Spec.Volumes[1].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds; e == nil || *e != DefaultTokenExpirationSeconds {
		t.Errorf("token expirationSeconds = %v; want %d", e, DefaultTokenExpirationSeconds)
	}
	if got := p.Spec.Volumes[2].Image.PullPolicy; got != PullIfNotPresent {
		t.Errorf("image volume pullPolicy = %q; want IfNotPresent", got)
	}
	if errs := Validate(p, info); len(errs) != 0 {
		t.Fatalf("Validate after Defaults = %v", errs)
	}
}
