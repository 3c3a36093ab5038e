package workload

import "time"

// Pod is one or more containers that run together on one node, sharing a
// network namespace and volumes. Its JSON is Kubernetes' core/v1 Pod, for
// the subset of fields Shoal runs.
type Pod struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta `json:"metadata"`
	Spec     PodSpec    `json:"spec"`
	// Status is written by the scheduler and the node agent, not the user.
	Status PodStatus `json:"status,omitempty"`
}

// GetMeta returns the pod's metadata.
func (p *Pod) GetMeta() *ObjectMeta { return &p.Metadata }

// PodSpec is what a pod should run and where.
type PodSpec struct {
	Volumes []Volume `json:"volumes,omitempty"`
	// InitContainers run one at a time, in order, each to success, before
	// the containers start.
	InitContainers []Container `json:"initContainers,omitempty"`
	Containers     []Container `json:"containers"`
	// RestartPolicy applies to every container: Always (the default),
	// OnFailure or Never.
	RestartPolicy RestartPolicy `json:"restartPolicy,omitempty"`
	// TerminationGracePeriodSeconds is how long a container has between
	// SIGTERM and SIGKILL; 30 by default, 0 kills at once.
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
	// NodeSelector is labels the node must have, every one.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// NodeName binds the pod to a node; the scheduler sets it, or the
	// user to bypass the scheduler.
	NodeName                  string                     `json:"nodeName,omitempty"`
	Hostname                  string                     `json:"hostname,omitempty"`
	Affinity                  *Affinity                  `json:"affinity,omitempty"`
	TopologySpreadConstraints []TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	// ImagePullSecrets name Secrets in the pod's namespace holding
	// registry credentials.
	ImagePullSecrets []LocalObjectReference `json:"imagePullSecrets,omitempty"`
}

// RestartPolicy is when a pod's containers restart after they exit.
type RestartPolicy string

// The restart policies.
const (
	RestartPolicyAlways    RestartPolicy = "Always"
	RestartPolicyOnFailure RestartPolicy = "OnFailure"
	RestartPolicyNever     RestartPolicy = "Never"
)

// DefaultTerminationGracePeriodSeconds is a pod's grace period when its
// spec names none.
const DefaultTerminationGracePeriodSeconds int64 = 30

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	Name string `json:"name"`
}

// Container is one process tree of a pod, from one image.
type Container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	// Command replaces the image's entrypoint, Args its cmd.
	Command    []string        `json:"command,omitempty"`
	Args       []string        `json:"args,omitempty"`
	WorkingDir string          `json:"workingDir,omitempty"`
	Ports      []ContainerPort `json:"ports,omitempty"`
	// EnvFrom is applied first, then Env, which wins on a clash.
	EnvFrom        []EnvFromSource      `json:"envFrom,omitempty"`
	Env            []EnvVar             `json:"env,omitempty"`
	Resources      ResourceRequirements `json:"resources,omitempty"`
	VolumeMounts   []VolumeMount        `json:"volumeMounts,omitempty"`
	LivenessProbe  *Probe               `json:"livenessProbe,omitempty"`
	ReadinessProbe *Probe               `json:"readinessProbe,omitempty"`
	StartupProbe   *Probe               `json:"startupProbe,omitempty"`
	Lifecycle      *Lifecycle           `json:"lifecycle,omitempty"`
	// ImagePullPolicy defaults to Always for a :latest or untagged image,
	// else IfNotPresent.
	ImagePullPolicy PullPolicy `json:"imagePullPolicy,omitempty"`
}

// PullPolicy is when the node agent pulls a container's image.
type PullPolicy string

// The pull policies.
const (
	PullAlways       PullPolicy = "Always"
	PullIfNotPresent PullPolicy = "IfNotPresent"
	PullNever        PullPolicy = "Never"
)

// ContainerPort is a port a container listens on.
type ContainerPort struct {
	// Name, an IANA service name ("http"), lets probes and services
	// refer to the port.
	Name string `json:"name,omitempty"`
	// HostPort, when set, is also opened on the node's address.
	HostPort      int32    `json:"hostPort,omitempty"`
	ContainerPort int32    `json:"containerPort"`
	Protocol      Protocol `json:"protocol,omitempty"` // TCP by default
}

// Protocol is a port's transport protocol.
type Protocol string

// The protocols.
const (
	ProtocolTCP Protocol = "TCP"
	ProtocolUDP Protocol = "UDP"
)

// EnvVar is one environment variable: a literal value or one read from
// elsewhere.
type EnvVar struct {
	Name      string        `json:"name"`
	Value     string        `json:"value,omitempty"`
	ValueFrom *EnvVarSource `json:"valueFrom,omitempty"`
}

// EnvVarSource is where an EnvVar's value comes from: exactly one of its
// fields.
type EnvVarSource struct {
	FieldRef        *ObjectFieldSelector  `json:"fieldRef,omitempty"`
	ConfigMapKeyRef *ConfigMapKeySelector `json:"configMapKeyRef,omitempty"`
	SecretKeyRef    *SecretKeySelector    `json:"secretKeyRef,omitempty"`
}

// ObjectFieldSelector names a field of the pod itself (PodFieldValue lists
// the supported paths).
type ObjectFieldSelector struct {
	APIVersion string `json:"apiVersion,omitempty"` // "v1"
	FieldPath  string `json:"fieldPath"`
}

// ConfigMapKeySelector names one key of a ConfigMap in the pod's namespace.
type ConfigMapKeySelector struct {
	Name string `json:"name"`
	Key  string `json:"key"`
	// Optional lets the pod start when the map or key is missing.
	Optional *bool `json:"optional,omitempty"`
}

// SecretKeySelector names one key of a Secret in the pod's namespace.
type SecretKeySelector struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Optional *bool  `json:"optional,omitempty"`
}

// EnvFromSource imports every key of a ConfigMap or a Secret (exactly one)
// as variables, each name prefixed with Prefix.
type EnvFromSource struct {
	Prefix       string              `json:"prefix,omitempty"`
	ConfigMapRef *ConfigMapEnvSource `json:"configMapRef,omitempty"`
	SecretRef    *SecretEnvSource    `json:"secretRef,omitempty"`
}

// ConfigMapEnvSource names a ConfigMap to import.
type ConfigMapEnvSource struct {
	Name     string `json:"name"`
	Optional *bool  `json:"optional,omitempty"`
}

// SecretEnvSource names a Secret to import.
type SecretEnvSource struct {
	Name     string `json:"name"`
	Optional *bool  `json:"optional,omitempty"`
}

// ResourceName names a resource: cpu, memory, pods.
type ResourceName string

// The resources Shoal accounts.
const (
	// ResourceCPU is in cores: "500m" is half a core.
	ResourceCPU ResourceName = "cpu"
	// ResourceMemory is in bytes: "128Mi".
	ResourceMemory ResourceName = "memory"
	// ResourcePods is a node's capacity in pods.
	ResourcePods ResourceName = "pods"
)

// ResourceList is an amount of each of some resources.
type ResourceList map[ResourceName]Quantity

// ResourceRequirements are what a container is guaranteed (Requests, what
// the scheduler counts) and what it may use at most (Limits, what the
// runtime enforces). A request left out defaults to its limit.
type ResourceRequirements struct {
	Limits   ResourceList `json:"limits,omitempty"`
	Requests ResourceList `json:"requests,omitempty"`
}

// minMemoryLimit is the smallest memory limit a container may have: runc
// refuses less.
var minMemoryLimit = MustParseQuantity("4Mi")

// VolumeMount mounts a pod volume into a container.
type VolumeMount struct {
	Name      string `json:"name"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
	MountPath string `json:"mountPath"`
	// SubPath mounts this path inside the volume instead of its root.
	SubPath string `json:"subPath,omitempty"`
}

// Probe is a periodic check of a container: exactly one handler, run every
// PeriodSeconds after InitialDelaySeconds; FailureThreshold failures in a
// row make it fail, SuccessThreshold successes make it pass.
type Probe struct {
	ProbeHandler        `json:",inline"`
	InitialDelaySeconds int32 `json:"initialDelaySeconds,omitempty"`
	TimeoutSeconds      int32 `json:"timeoutSeconds,omitempty"`   // 1 by default
	PeriodSeconds       int32 `json:"periodSeconds,omitempty"`    // 10 by default
	SuccessThreshold    int32 `json:"successThreshold,omitempty"` // 1 by default
	FailureThreshold    int32 `json:"failureThreshold,omitempty"` // 3 by default
}

// The probe defaults, as Kubernetes sets them.
const (
	DefaultProbeTimeoutSeconds   = 1
	DefaultProbePeriodSeconds    = 10
	DefaultProbeSuccessThreshold = 1
	DefaultProbeFailureThreshold = 3
)

// ProbeHandler is how a probe checks: exactly one of its fields.
type ProbeHandler struct {
	Exec      *ExecAction      `json:"exec,omitempty"`
	HTTPGet   *HTTPGetAction   `json:"httpGet,omitempty"`
	TCPSocket *TCPSocketAction `json:"tcpSocket,omitempty"`
}

// ExecAction runs a command in the container; exit status 0 is success.
type ExecAction struct {
	Command []string `json:"command,omitempty"`
}

// HTTPGetAction gets a URL of the pod's IP; a status in [200, 400) is
// success.
type HTTPGetAction struct {
	Path string `json:"path,omitempty"` // "/" by default
	// Port is a number or the name of one of the container's ports.
	Port        IntOrString  `json:"port"`
	Scheme      URIScheme    `json:"scheme,omitempty"` // HTTP by default
	HTTPHeaders []HTTPHeader `json:"httpHeaders,omitempty"`
}

// URIScheme is HTTP or HTTPS.
type URIScheme string

// The URI schemes.
const (
	URISchemeHTTP  URIScheme = "HTTP"
	URISchemeHTTPS URIScheme = "HTTPS"
)

// HTTPHeader is one header of a probe's request.
type HTTPHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TCPSocketAction opens a connection to a port of the pod's IP; a
// connection is success.
type TCPSocketAction struct {
	Port IntOrString `json:"port"`
}

// Lifecycle holds actions the node agent takes around a container's life.
type Lifecycle struct {
	// PreStop runs before the container is sent SIGTERM; it counts against
	// the termination grace period.
	PreStop *LifecycleHandler `json:"preStop,omitempty"`
}

// LifecycleHandler is one lifecycle action: exactly one of its fields.
type LifecycleHandler struct {
	Exec    *ExecAction    `json:"exec,omitempty"`
	HTTPGet *HTTPGetAction `json:"httpGet,omitempty"`
	Sleep   *SleepAction   `json:"sleep,omitempty"`
}

// SleepAction waits before the container is stopped.
type SleepAction struct {
	Seconds int64 `json:"seconds"`
}

// Volume is storage a pod's containers may mount: exactly one source.
type Volume struct {
	Name         string `json:"name"`
	VolumeSource `json:",inline"`
}

// VolumeSource is where a volume's contents come from: exactly one of its
// fields.
type VolumeSource struct {
	HostPath              *HostPathVolumeSource              `json:"hostPath,omitempty"`
	EmptyDir              *EmptyDirVolumeSource              `json:"emptyDir,omitempty"`
	Secret                *SecretVolumeSource                `json:"secret,omitempty"`
	PersistentVolumeClaim *PersistentVolumeClaimVolumeSource `json:"persistentVolumeClaim,omitempty"`
	ConfigMap             *ConfigMapVolumeSource             `json:"configMap,omitempty"`
}

// HostPathVolumeSource is a path on the node.
type HostPathVolumeSource struct {
	Path string `json:"path"`
	// Type checks, or creates, what is at Path before the mount; empty
	// checks nothing.
	Type *HostPathType `json:"type,omitempty"`
}

// HostPathType is what a hostPath volume expects at its path.
type HostPathType string

// The host path types.
const (
	HostPathUnset             HostPathType = ""
	HostPathDirectoryOrCreate HostPathType = "DirectoryOrCreate"
	HostPathDirectory         HostPathType = "Directory"
	HostPathFileOrCreate      HostPathType = "FileOrCreate"
	HostPathFile              HostPathType = "File"
	HostPathSocket            HostPathType = "Socket"
	HostPathCharDev           HostPathType = "CharDevice"
	HostPathBlockDev          HostPathType = "BlockDevice"
)

// EmptyDirVolumeSource is a directory that lives and dies with the pod.
type EmptyDirVolumeSource struct {
	// Medium is "" (the node's disk) or "Memory" (a tmpfs).
	Medium    StorageMedium `json:"medium,omitempty"`
	SizeLimit *Quantity     `json:"sizeLimit,omitempty"`
}

// StorageMedium is what backs an emptyDir.
type StorageMedium string

// The storage media.
const (
	StorageMediumDefault StorageMedium = ""
	StorageMediumMemory  StorageMedium = "Memory"
)

// SecretVolumeSource projects a Secret's keys as files.
type SecretVolumeSource struct {
	SecretName string `json:"secretName"`
	// Items picks keys and names their files; empty projects every key
	// under its own name.
	Items []KeyToPath `json:"items,omitempty"`
	// DefaultMode is the files' permission bits, 0644 by default.
	DefaultMode *int32 `json:"defaultMode,omitempty"`
	Optional    *bool  `json:"optional,omitempty"`
}

// ConfigMapVolumeSource projects a ConfigMap's keys as files.
type ConfigMapVolumeSource struct {
	Name        string      `json:"name"`
	Items       []KeyToPath `json:"items,omitempty"`
	DefaultMode *int32      `json:"defaultMode,omitempty"`
	Optional    *bool       `json:"optional,omitempty"`
}

// DefaultVolumeMode is the permission bits of projected ConfigMap and
// Secret files (0644).
const DefaultVolumeMode int32 = 0o644

// KeyToPath projects one key to a relative path.
type KeyToPath struct {
	Key  string `json:"key"`
	Path string `json:"path"`
	Mode *int32 `json:"mode,omitempty"`
}

// PersistentVolumeClaimVolumeSource mounts the volume bound to a claim in
// the pod's namespace.
type PersistentVolumeClaimVolumeSource struct {
	ClaimName string `json:"claimName"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
}

// Affinity is where a pod would, or must, be placed relative to nodes'
// labels and to other pods.
type Affinity struct {
	NodeAffinity    *NodeAffinity    `json:"nodeAffinity,omitempty"`
	PodAffinity     *PodAffinity     `json:"podAffinity,omitempty"`
	PodAntiAffinity *PodAntiAffinity `json:"podAntiAffinity,omitempty"`
}

// NodeAffinity selects nodes by label: Required must hold, Preferred adds
// its weight to a node's score when it holds.
type NodeAffinity struct {
	Required  *NodeSelector             `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
	Preferred []PreferredSchedulingTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

// NodeSelector holds when any one of its terms holds.
type NodeSelector struct {
	NodeSelectorTerms []NodeSelectorTerm `json:"nodeSelectorTerms"`
}

// NodeSelectorTerm holds when all its expressions hold.
type NodeSelectorTerm struct {
	MatchExpressions []NodeSelectorRequirement `json:"matchExpressions,omitempty"`
}

// NodeSelectorRequirement is one test of a node label.
type NodeSelectorRequirement struct {
	Key      string               `json:"key"`
	Operator NodeSelectorOperator `json:"operator"`
	// Values: one or more for In and NotIn, none for Exists and
	// DoesNotExist, one integer for Gt and Lt.
	Values []string `json:"values,omitempty"`
}

// NodeSelectorOperator is how a NodeSelectorRequirement tests its key.
type NodeSelectorOperator string

// The node selector operators.
const (
	NodeSelectorOpIn           NodeSelectorOperator = "In"
	NodeSelectorOpNotIn        NodeSelectorOperator = "NotIn"
	NodeSelectorOpExists       NodeSelectorOperator = "Exists"
	NodeSelectorOpDoesNotExist NodeSelectorOperator = "DoesNotExist"
	NodeSelectorOpGt           NodeSelectorOperator = "Gt"
	NodeSelectorOpLt           NodeSelectorOperator = "Lt"
)

// PreferredSchedulingTerm is a node term worth Weight (1 to 100).
type PreferredSchedulingTerm struct {
	Weight     int32            `json:"weight"`
	Preference NodeSelectorTerm `json:"preference"`
}

// PodAffinity places a pod in the same topology domain (node, zone...) as
// pods its terms select.
type PodAffinity struct {
	Required  []PodAffinityTerm         `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
	Preferred []WeightedPodAffinityTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

// PodAntiAffinity keeps a pod out of the topology domains of pods its
// terms select.
type PodAntiAffinity struct {
	Required  []PodAffinityTerm         `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
	Preferred []WeightedPodAffinityTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

// PodAffinityTerm selects pods of the pod's namespace, and names the node
// label whose value is a topology domain ("kubernetes.io/hostname",
// "topology.kubernetes.io/zone").
type PodAffinityTerm struct {
	LabelSelector *LabelSelector `json:"labelSelector,omitempty"`
	TopologyKey   string         `json:"topologyKey"`
}

// WeightedPodAffinityTerm is a pod term worth Weight (1 to 100).
type WeightedPodAffinityTerm struct {
	Weight          int32           `json:"weight"`
	PodAffinityTerm PodAffinityTerm `json:"podAffinityTerm"`
}

// TopologySpreadConstraint spreads the pods LabelSelector selects across
// the domains of TopologyKey, so that no two domains differ by more than
// MaxSkew.
type TopologySpreadConstraint struct {
	MaxSkew           int32                         `json:"maxSkew"`
	TopologyKey       string                        `json:"topologyKey"`
	WhenUnsatisfiable UnsatisfiableConstraintAction `json:"whenUnsatisfiable"`
	LabelSelector     *LabelSelector                `json:"labelSelector,omitempty"`
}

// UnsatisfiableConstraintAction is what the scheduler does when a spread
// constraint cannot hold.
type UnsatisfiableConstraintAction string

// The unsatisfiable constraint actions.
const (
	DoNotSchedule  UnsatisfiableConstraintAction = "DoNotSchedule"
	ScheduleAnyway UnsatisfiableConstraintAction = "ScheduleAnyway"
)

// PodStatus is what the scheduler and the node agent observed of a pod.
type PodStatus struct {
	Phase      PodPhase       `json:"phase,omitempty"`
	Conditions []PodCondition `json:"conditions,omitempty"`
	// Message and Reason say why the pod is in its phase ("NodeLost").
	Message string  `json:"message,omitempty"`
	Reason  string  `json:"reason,omitempty"`
	HostIP  string  `json:"hostIP,omitempty"`
	PodIP   string  `json:"podIP,omitempty"`
	PodIPs  []PodIP `json:"podIPs,omitempty"`
	// StartTime is when the node agent accepted the pod.
	StartTime             *time.Time        `json:"startTime,omitempty"`
	InitContainerStatuses []ContainerStatus `json:"initContainerStatuses,omitempty"`
	ContainerStatuses     []ContainerStatus `json:"containerStatuses,omitempty"`
}

// PodPhase is where a pod is in its life.
type PodPhase string

// The pod phases.
const (
	PodPending   PodPhase = "Pending"
	PodRunning   PodPhase = "Running"
	PodSucceeded PodPhase = "Succeeded"
	PodFailed    PodPhase = "Failed"
	PodUnknown   PodPhase = "Unknown"
)

// PodReasonNodeLost is a pod's status reason once its node is gone.
const PodReasonNodeLost = "NodeLost"

// PodIP is one of a pod's addresses.
type PodIP struct {
	IP string `json:"ip"`
}

// PodCondition is one observed fact about a pod.
type PodCondition struct {
	Type               PodConditionType `json:"type"`
	Status             ConditionStatus  `json:"status"`
	LastTransitionTime time.Time        `json:"lastTransitionTime,omitzero"`
	Reason             string           `json:"reason,omitempty"`
	Message            string           `json:"message,omitempty"`
}

// PodConditionType names a pod condition.
type PodConditionType string

// The pod conditions.
const (
	PodScheduled    PodConditionType = "PodScheduled"
	PodInitialized  PodConditionType = "Initialized"
	ContainersReady PodConditionType = "ContainersReady"
	PodReady        PodConditionType = "Ready"
)

// ContainerStatus is what the node agent observed of one container.
type ContainerStatus struct {
	Name  string         `json:"name"`
	State ContainerState `json:"state,omitempty"`
	// LastTerminationState is how the previous run of the container
	// ended, once it has restarted.
	LastTerminationState ContainerState `json:"lastState,omitempty"`
	Ready                bool           `json:"ready"`
	RestartCount         int32          `json:"restartCount"`
	Image                string         `json:"image"`
	ImageID              string         `json:"imageID"`
	ContainerID          string         `json:"containerID,omitempty"`
	// Started is true once the startup probe (or, with none, the start)
	// succeeded.
	Started *bool `json:"started,omitempty"`
}

// ContainerState is a container's state: at most one field is set, none
// meaning Waiting.
type ContainerState struct {
	Waiting    *ContainerStateWaiting    `json:"waiting,omitempty"`
	Running    *ContainerStateRunning    `json:"running,omitempty"`
	Terminated *ContainerStateTerminated `json:"terminated,omitempty"`
}

// ContainerStateWaiting is a container that is not running yet, or again.
type ContainerStateWaiting struct {
	Reason  string `json:"reason,omitempty"` // ReasonContainerCreating...
	Message string `json:"message,omitempty"`
}

// ContainerStateRunning is a running container.
type ContainerStateRunning struct {
	StartedAt time.Time `json:"startedAt,omitzero"`
}

// ContainerStateTerminated is a container that exited.
type ContainerStateTerminated struct {
	ExitCode   int32     `json:"exitCode"`
	Signal     int32     `json:"signal,omitempty"`
	Reason     string    `json:"reason,omitempty"` // ReasonCompleted, ReasonError, ReasonOOMKilled
	Message    string    `json:"message,omitempty"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
}

// The reasons the node agent gives a container's state, as the kubelet
// does; PodDisplayStatus shows them as the pod's status.
const (
	// Waiting.
	ReasonContainerCreating = "ContainerCreating"
	ReasonPodInitializing   = "PodInitializing"
	ReasonCrashLoopBackOff  = "CrashLoopBackOff"
	ReasonErrImagePull      = "ErrImagePull"
	ReasonImagePullBackOff  = "ImagePullBackOff"
	ReasonErrImageNeverPull = "ErrImageNeverPull"
	// Terminated.
	ReasonCompleted = "Completed" // exit code 0
	ReasonError     = "Error"     // any other exit code
	ReasonOOMKilled = "OOMKilled"
)
