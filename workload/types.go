package workload

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The object model is Kubernetes' own: k8s.io/api's types, with their JSON
// and protobuf encodings, strategic-merge keys and OpenAPI names, so that
// every field of a manifest is kept as written (docs/object-model.md says
// why, with figures). The names below let Shoal's code speak of them in
// one vocabulary; they are aliases, not copies, so a workload.Pod is a
// corev1.Pod.

// Object is what every served kind is: a runtime.Object with metadata.
type Object interface {
	runtime.Object
	metav1.Object
	metav1.ObjectMetaAccessor
}

// MetaOf returns an object's metadata itself, for changing it in place.
func MetaOf(o Object) *ObjectMeta { return o.GetObjectMeta().(*ObjectMeta) }

// Metadata.
type (
	TypeMeta                 = metav1.TypeMeta
	ObjectMeta               = metav1.ObjectMeta
	OwnerReference           = metav1.OwnerReference
	LabelSelector            = metav1.LabelSelector
	LabelSelectorRequirement = metav1.LabelSelectorRequirement
	LabelSelectorOperator    = metav1.LabelSelectorOperator
	Time                     = metav1.Time
	ConditionStatus          = corev1.ConditionStatus
	ObjectReference          = corev1.ObjectReference
	LocalObjectReference     = corev1.LocalObjectReference
)

// Namespaces, config maps, secrets and events.
type (
	Namespace       = corev1.Namespace
	NamespaceStatus = corev1.NamespaceStatus
	NamespacePhase  = corev1.NamespacePhase
	ConfigMap       = corev1.ConfigMap
	Secret          = corev1.Secret
	SecretType      = corev1.SecretType
	Event           = corev1.Event
	EventSource     = corev1.EventSource
)

// Pods.
type (
	Pod                               = corev1.Pod
	PodSpec                           = corev1.PodSpec
	PodTemplateSpec                   = corev1.PodTemplateSpec
	RestartPolicy                     = corev1.RestartPolicy
	Container                         = corev1.Container
	PullPolicy                        = corev1.PullPolicy
	ContainerPort                     = corev1.ContainerPort
	Protocol                          = corev1.Protocol
	EnvVar                            = corev1.EnvVar
	EnvVarSource                      = corev1.EnvVarSource
	ObjectFieldSelector               = corev1.ObjectFieldSelector
	ConfigMapKeySelector              = corev1.ConfigMapKeySelector
	SecretKeySelector                 = corev1.SecretKeySelector
	EnvFromSource                     = corev1.EnvFromSource
	ConfigMapEnvSource                = corev1.ConfigMapEnvSource
	SecretEnvSource                   = corev1.SecretEnvSource
	ResourceName                      = corev1.ResourceName
	ResourceList                      = corev1.ResourceList
	ResourceRequirements              = corev1.ResourceRequirements
	VolumeMount                       = corev1.VolumeMount
	Probe                             = corev1.Probe
	ProbeHandler                      = corev1.ProbeHandler
	ExecAction                        = corev1.ExecAction
	HTTPGetAction                     = corev1.HTTPGetAction
	URIScheme                         = corev1.URIScheme
	HTTPHeader                        = corev1.HTTPHeader
	TCPSocketAction                   = corev1.TCPSocketAction
	Lifecycle                         = corev1.Lifecycle
	LifecycleHandler                  = corev1.LifecycleHandler
	SleepAction                       = corev1.SleepAction
	Volume                            = corev1.Volume
	VolumeSource                      = corev1.VolumeSource
	HostPathVolumeSource              = corev1.HostPathVolumeSource
	HostPathType                      = corev1.HostPathType
	EmptyDirVolumeSource              = corev1.EmptyDirVolumeSource
	StorageMedium                     = corev1.StorageMedium
	SecretVolumeSource                = corev1.SecretVolumeSource
	ConfigMapVolumeSource             = corev1.ConfigMapVolumeSource
	KeyToPath                         = corev1.KeyToPath
	PersistentVolumeClaimVolumeSource = corev1.PersistentVolumeClaimVolumeSource
	Affinity                          = corev1.Affinity
	NodeAffinity                      = corev1.NodeAffinity
	NodeSelector                      = corev1.NodeSelector
	NodeSelectorTerm                  = corev1.NodeSelectorTerm
	NodeSelectorRequirement           = corev1.NodeSelectorRequirement
	NodeSelectorOperator              = corev1.NodeSelectorOperator
	PreferredSchedulingTerm           = corev1.PreferredSchedulingTerm
	PodAffinity                       = corev1.PodAffinity
	PodAntiAffinity                   = corev1.PodAntiAffinity
	PodAffinityTerm                   = corev1.PodAffinityTerm
	WeightedPodAffinityTerm           = corev1.WeightedPodAffinityTerm
	TopologySpreadConstraint          = corev1.TopologySpreadConstraint
	UnsatisfiableConstraintAction     = corev1.UnsatisfiableConstraintAction
	PodStatus                         = corev1.PodStatus
	PodPhase                          = corev1.PodPhase
	PodIP                             = corev1.PodIP
	PodCondition                      = corev1.PodCondition
	PodConditionType                  = corev1.PodConditionType
	ContainerStatus                   = corev1.ContainerStatus
	ContainerState                    = corev1.ContainerState
	ContainerStateWaiting             = corev1.ContainerStateWaiting
	ContainerStateRunning             = corev1.ContainerStateRunning
	ContainerStateTerminated          = corev1.ContainerStateTerminated
)

// Nodes.
type (
	Node              = corev1.Node
	NodeSpec          = corev1.NodeSpec
	NodeStatus        = corev1.NodeStatus
	NodeCondition     = corev1.NodeCondition
	NodeConditionType = corev1.NodeConditionType
	NodeAddress       = corev1.NodeAddress
	NodeAddressType   = corev1.NodeAddressType
	NodeSystemInfo    = corev1.NodeSystemInfo
	Taint             = corev1.Taint
	TaintEffect       = corev1.TaintEffect
	Toleration        = corev1.Toleration
	PodSchedulingGate = corev1.PodSchedulingGate
)

// DefaultSchedulerName is Kubernetes' scheduler name, which Shoal's
// scheduler answers to (spec.schedulerName).
const DefaultSchedulerName = corev1.DefaultSchedulerName

// Taint effects.
const (
	TaintEffectNoSchedule       = corev1.TaintEffectNoSchedule
	TaintEffectPreferNoSchedule = corev1.TaintEffectPreferNoSchedule
	TaintEffectNoExecute        = corev1.TaintEffectNoExecute
	TolerationOpEqual           = corev1.TolerationOpEqual
	TolerationOpExists          = corev1.TolerationOpExists
)

// Services and endpoints.
type (
	Service                      = corev1.Service
	ServiceType                  = corev1.ServiceType
	ServiceSpec                  = corev1.ServiceSpec
	ServicePort                  = corev1.ServicePort
	SessionAffinityConfig        = corev1.SessionAffinityConfig
	ClientIPConfig               = corev1.ClientIPConfig
	ServiceStatus                = corev1.ServiceStatus
	ServiceInternalTrafficPolicy = corev1.ServiceInternalTrafficPolicy
	LoadBalancerStatus           = corev1.LoadBalancerStatus
	LoadBalancerIngress          = corev1.LoadBalancerIngress
	Endpoints                    = corev1.Endpoints
	EndpointSubset               = corev1.EndpointSubset
	EndpointAddress              = corev1.EndpointAddress
	EndpointPort                 = corev1.EndpointPort
)

// Volumes and claims.
type (
	PersistentVolume              = corev1.PersistentVolume
	PersistentVolumeSpec          = corev1.PersistentVolumeSpec
	PersistentVolumeSource        = corev1.PersistentVolumeSource
	PersistentVolumeStatus        = corev1.PersistentVolumeStatus
	PersistentVolumePhase         = corev1.PersistentVolumePhase
	PersistentVolumeAccessMode    = corev1.PersistentVolumeAccessMode
	PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimPolicy
	LocalVolumeSource             = corev1.LocalVolumeSource
	NFSVolumeSource               = corev1.NFSVolumeSource
	VolumeNodeAffinity            = corev1.VolumeNodeAffinity
	PersistentVolumeClaim         = corev1.PersistentVolumeClaim
	PersistentVolumeClaimSpec     = corev1.PersistentVolumeClaimSpec
	PersistentVolumeClaimStatus   = corev1.PersistentVolumeClaimStatus
	PersistentVolumeClaimPhase    = corev1.PersistentVolumeClaimPhase
	VolumeResourceRequirements    = corev1.VolumeResourceRequirements
)

// Deployments and replica sets.
type (
	ReplicaSet              = appsv1.ReplicaSet
	ReplicaSetSpec          = appsv1.ReplicaSetSpec
	ReplicaSetStatus        = appsv1.ReplicaSetStatus
	Deployment              = appsv1.Deployment
	DeploymentSpec          = appsv1.DeploymentSpec
	DeploymentStrategy      = appsv1.DeploymentStrategy
	DeploymentStrategyType  = appsv1.DeploymentStrategyType
	RollingUpdateDeployment = appsv1.RollingUpdateDeployment
	DeploymentStatus        = appsv1.DeploymentStatus
	DeploymentCondition     = appsv1.DeploymentCondition
	DeploymentConditionType = appsv1.DeploymentConditionType
)

// Leases.
type (
	Lease     = coordinationv1.Lease
	LeaseSpec = coordinationv1.LeaseSpec
)

// Service accounts, limits, quotas, priorities and endpoint slices: the
// objects charts and tools expect a cluster to have.
type (
	ServiceAccount        = corev1.ServiceAccount
	LimitRange            = corev1.LimitRange
	LimitRangeItem        = corev1.LimitRangeItem
	LimitRangeSpec        = corev1.LimitRangeSpec
	LimitType             = corev1.LimitType
	ResourceQuota         = corev1.ResourceQuota
	ResourceQuotaSpec     = corev1.ResourceQuotaSpec
	ResourceQuotaStatus   = corev1.ResourceQuotaStatus
	PriorityClass         = schedulingv1.PriorityClass
	EndpointSlice         = discoveryv1.EndpointSlice
	EndpointSliceEndpoint = discoveryv1.Endpoint
	EndpointSlicePort     = discoveryv1.EndpointPort
	EndpointConditions    = discoveryv1.EndpointConditions
	AddressType           = discoveryv1.AddressType
)

// Limit types of a LimitRange.
const (
	LimitTypePod                   = corev1.LimitTypePod
	LimitTypeContainer             = corev1.LimitTypeContainer
	LimitTypePersistentVolumeClaim = corev1.LimitTypePersistentVolumeClaim
	PreemptLowerPriority           = corev1.PreemptLowerPriority
	PreemptNever                   = corev1.PreemptNever
)

// Amounts and ports.
type (
	Quantity       = resource.Quantity
	QuantityFormat = resource.Format
	IntOrString    = intstr.IntOrString
)

// Condition statuses and selector operators.
const (
	ConditionTrue               = corev1.ConditionTrue
	ConditionFalse              = corev1.ConditionFalse
	ConditionUnknown            = corev1.ConditionUnknown
	LabelSelectorOpIn           = metav1.LabelSelectorOpIn
	LabelSelectorOpNotIn        = metav1.LabelSelectorOpNotIn
	LabelSelectorOpExists       = metav1.LabelSelectorOpExists
	LabelSelectorOpDoesNotExist = metav1.LabelSelectorOpDoesNotExist
	NamespaceActive             = corev1.NamespaceActive
	NamespaceTerminating        = corev1.NamespaceTerminating
	SecretTypeOpaque            = corev1.SecretTypeOpaque
	EventNormal                 = corev1.EventTypeNormal
	EventWarning                = corev1.EventTypeWarning
)

// Pod enumerations.
const (
	RestartPolicyAlways        = corev1.RestartPolicyAlways
	RestartPolicyOnFailure     = corev1.RestartPolicyOnFailure
	RestartPolicyNever         = corev1.RestartPolicyNever
	PullAlways                 = corev1.PullAlways
	PullIfNotPresent           = corev1.PullIfNotPresent
	PullNever                  = corev1.PullNever
	ProtocolTCP                = corev1.ProtocolTCP
	ProtocolUDP                = corev1.ProtocolUDP
	ResourceCPU                = corev1.ResourceCPU
	ResourceMemory             = corev1.ResourceMemory
	ResourcePods               = corev1.ResourcePods
	ResourceStorage            = corev1.ResourceStorage
	URISchemeHTTP              = corev1.URISchemeHTTP
	URISchemeHTTPS             = corev1.URISchemeHTTPS
	HostPathUnset              = corev1.HostPathUnset
	HostPathDirectoryOrCreate  = corev1.HostPathDirectoryOrCreate
	HostPathDirectory          = corev1.HostPathDirectory
	HostPathFileOrCreate       = corev1.HostPathFileOrCreate
	HostPathFile               = corev1.HostPathFile
	HostPathSocket             = corev1.HostPathSocket
	HostPathCharDev            = corev1.HostPathCharDev
	HostPathBlockDev           = corev1.HostPathBlockDev
	StorageMediumDefault       = corev1.StorageMediumDefault
	StorageMediumMemory        = corev1.StorageMediumMemory
	NodeSelectorOpIn           = corev1.NodeSelectorOpIn
	NodeSelectorOpNotIn        = corev1.NodeSelectorOpNotIn
	NodeSelectorOpExists       = corev1.NodeSelectorOpExists
	NodeSelectorOpDoesNotExist = corev1.NodeSelectorOpDoesNotExist
	NodeSelectorOpGt           = corev1.NodeSelectorOpGt
	NodeSelectorOpLt           = corev1.NodeSelectorOpLt
	DoNotSchedule              = corev1.DoNotSchedule
	ScheduleAnyway             = corev1.ScheduleAnyway
	PodPending                 = corev1.PodPending
	PodRunning                 = corev1.PodRunning
	PodSucceeded               = corev1.PodSucceeded
	PodFailed                  = corev1.PodFailed
	PodUnknown                 = corev1.PodUnknown
	PodScheduled               = corev1.PodScheduled
	PodInitialized             = corev1.PodInitialized
	ContainersReady            = corev1.ContainersReady
	PodReady                   = corev1.PodReady
)

// Node, service and volume enumerations.
const (
	NodeReady               = corev1.NodeReady
	NodeHostName            = corev1.NodeHostName
	NodeInternalIP          = corev1.NodeInternalIP
	NodeExternalIP          = corev1.NodeExternalIP
	ServiceTypeClusterIP    = corev1.ServiceTypeClusterIP
	ServiceTypeNodePort     = corev1.ServiceTypeNodePort
	ServiceTypeLoadBalancer = corev1.ServiceTypeLoadBalancer
	ServiceTypeExternalName = corev1.ServiceTypeExternalName
	// ClusterIPNone is the cluster IP of a headless Service.
	ClusterIPNone    = corev1.ClusterIPNone
	ReadWriteOnce    = corev1.ReadWriteOnce
	ReadOnlyMany     = corev1.ReadOnlyMany
	ReadWriteMany    = corev1.ReadWriteMany
	ReadWriteOncePod = corev1.ReadWriteOncePod
	ReclaimRetain    = corev1.PersistentVolumeReclaimRetain
	ReclaimDelete    = corev1.PersistentVolumeReclaimDelete
	VolumePending    = corev1.VolumePending
	VolumeAvailable  = corev1.VolumeAvailable
	VolumeBound      = corev1.VolumeBound
	VolumeReleased   = corev1.VolumeReleased
	VolumeFailed     = corev1.VolumeFailed
	ClaimPending     = corev1.ClaimPending
	ClaimBound       = corev1.ClaimBound
	ClaimLost        = corev1.ClaimLost
)

// Deployment strategies.
const (
	RecreateDeploymentStrategyType      = appsv1.RecreateDeploymentStrategyType
	RollingUpdateDeploymentStrategyType = appsv1.RollingUpdateDeploymentStrategyType
)

// Quantity formats.
const (
	DecimalExponent = resource.DecimalExponent
	BinarySI        = resource.BinarySI
	DecimalSI       = resource.DecimalSI
)

// The kinds of value an IntOrString holds.
const (
	IntOrStringInt    = intstr.Int
	IntOrStringString = intstr.String
)

// ParseQuantity reads "500m", "128Mi", "1e3": Kubernetes' quantity syntax.
func ParseQuantity(s string) (Quantity, error) { return resource.ParseQuantity(s) }

// MustParseQuantity is ParseQuantity for literals; it panics on bad input.
func MustParseQuantity(s string) Quantity { return resource.MustParse(s) }

// NewQuantity is value in the given format.
func NewQuantity(value int64, format QuantityFormat) Quantity {
	return *resource.NewQuantity(value, format)
}

// NewMilliQuantity is milli thousandths in the given format.
func NewMilliQuantity(milli int64, format QuantityFormat) Quantity {
	return *resource.NewMilliQuantity(milli, format)
}

// IntOrStringFromInt32 is an IntOrString holding v.
func IntOrStringFromInt32(v int32) IntOrString { return intstr.FromInt32(v) }

// IntOrStringFromString is an IntOrString holding s.
func IntOrStringFromString(s string) IntOrString { return intstr.FromString(s) }

// NewTime is t as an object's time field holds it.
func NewTime(t time.Time) Time { return metav1.NewTime(t) }

// TypeMetaOf returns an object's apiVersion and kind itself, for changing
// them in place.
func TypeMetaOf(o Object) *TypeMeta { return o.GetObjectKind().(*TypeMeta) }

// MilliValueOf is q in thousandths, rounded up (resource.Quantity's
// MilliValue, which needs an addressable value).
func MilliValueOf(q Quantity) int64 { return q.MilliValue() }

// ValueOf is q as a whole number, rounded up (resource.Quantity's Value).
func ValueOf(q Quantity) int64 { return q.Value() }

// QuantityString is q as Kubernetes writes it ("500m", "128Mi").
func QuantityString(q Quantity) string { return q.String() }

// UID is an object's unique id.
type UID = types.UID
