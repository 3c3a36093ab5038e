// Package printers owns the server-side table columns of the kinds Shoal
// serves: what a Kubernetes API server answers to
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, which is what
// `kubectl get` asks for and prints. It reproduces kube-apiserver's
// pkg/printers/internalversion (v1.37 era) over the k8s.io/api v1 types, so
// that `kubectl get pods`, `-o wide` included, reads the same against a
// Shoal peer as against Kubernetes.
//
// The API is three functions:
//
//   - Columns(gk) is a kind's column definitions, names, types, formats,
//     descriptions and priorities exactly as kube-apiserver gives them.
//     Priority 1 columns are the `-o wide` ones; kubectl drops them itself
//     unless asked for wide output, so a server always sends them all.
//   - Cells(obj, now) is one object's row, in Columns' order: strings for
//     string columns, int64 for the integer ones (and for a few string
//     columns where kube also sends int64, such as a deployment's
//     UP-TO-DATE and an event's COUNT), as kube-apiserver produces them
//     with GenerateOptions{Wide: true}.
//   - Row(obj, now) is Cells plus the row conditions kube attaches (a
//     Succeeded or Failed pod is marked Completed). It leaves
//     TableRow.Object to the caller, which knows whether the request asked
//     for includeObject=None, Metadata or Object.
//
// Kinds covered: core/v1 Pod, Node, Namespace, ConfigMap, Secret, Service,
// Endpoints, Event, PersistentVolume, PersistentVolumeClaim; apps/v1
// Deployment, ReplicaSet, StatefulSet, DaemonSet; batch/v1 Job, CronJob;
// coordination.k8s.io/v1 Lease. Any other kind gets kube-apiserver's default
// table ("Name" and "Created At", the creation time as RFC 3339 UTC), as a
// resource without a printer does there. Objects that carry no object
// metadata (lists among them) cannot be rows: Row and Cells return
// ErrNotTabular, which the API layer answers as kube does, 406 Not
// Acceptable. A list is printed by calling Row on each item.
//
// kube's printers read internal types, which a v1 object reaches through
// conversion. Where that conversion changes what is printed, these functions
// apply it: a pod's IP is status.podIP before status.podIPs[0], a service's
// cluster IP is spec.clusterIPs[0] or else spec.clusterIP, a secret's
// stringData keys count as data, and a nil replica count reads 0. Defaulting
// is not applied: objects are printed as given, as kube prints what it has
// stored (already defaulted).
//
// Everything here is a pure function of the object and of now, the instant
// ages and durations are measured to (duration.HumanDuration, and
// "<unknown>" for a zero timestamp, as kube does). The package does no I/O,
// reads no clock and imports nothing from Shoal: only the standard library,
// k8s.io/api and k8s.io/apimachinery, which a test enforces.
package printers
