package workload

// DefaultTerminationGracePeriodSeconds is a pod's grace period when its
// spec names none.
const DefaultTerminationGracePeriodSeconds int64 = 30

// minMemoryLimit is the smallest memory limit a container may have: runc
// refuses less.
var minMemoryLimit = MustParseQuantity("4Mi")

// The probe defaults, as Kubernetes sets them.
const (
	DefaultProbeTimeoutSeconds   = 1
	DefaultProbePeriodSeconds    = 10
	DefaultProbeSuccessThreshold = 1
	DefaultProbeFailureThreshold = 3
)

// DefaultVolumeMode is the permission bits of projected ConfigMap and
// Secret files (0644).
const DefaultVolumeMode int32 = 0o644

// PodReasonNodeLost is a pod's status reason once its node is gone.
const PodReasonNodeLost = "NodeLost"

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
