package workload

import (
	"fmt"
	"strings"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// KindInfo describes one kind the API serves and the names it answers to.
type KindInfo struct {
	Kind       string // "ConfigMap"
	APIVersion string // "v1"
	Plural     string // "configmaps"
	Singular   string // "configmap"
	ShortNames []string
	Namespaced bool
	// SystemOwned kinds are written by Shoal itself (a Node by its peer's
	// node agent): the API refuses to create, update or delete them for a
	// user, who may still read them.
	SystemOwned bool
	New         func() Object // a fresh, empty object of this kind
}

// served is the registry of kinds this build serves, in the order Kinds
// lists them. It is never modified after initialisation.
var served = []KindInfo{
	{
		Kind: "ConfigMap", APIVersion: "v1", Plural: "configmaps", Singular: "configmap",
		ShortNames: []string{"cm"}, Namespaced: true,
		New: func() Object { return &ConfigMap{} },
	},
	{
		Kind: "Deployment", APIVersion: "apps/v1", Plural: "deployments", Singular: "deployment",
		ShortNames: []string{"deploy"}, Namespaced: true,
		New: func() Object { return &Deployment{} },
	},
	{
		Kind: "Endpoints", APIVersion: "v1", Plural: "endpoints", Singular: "endpoints",
		ShortNames: []string{"ep"}, Namespaced: true, SystemOwned: true,
		New: func() Object { return &Endpoints{} },
	},
	{
		Kind: "EndpointSlice", APIVersion: "discovery.k8s.io/v1", Plural: "endpointslices", Singular: "endpointslice",
		Namespaced: true,
		New:        func() Object { return &EndpointSlice{} },
	},
	{
		Kind: "Event", APIVersion: "v1", Plural: "events", Singular: "event",
		ShortNames: []string{"ev"}, Namespaced: true,
		New: func() Object { return &Event{} },
	},
	{
		Kind: "Lease", APIVersion: "coordination.k8s.io/v1", Plural: "leases", Singular: "lease",
		Namespaced: true,
		New:        func() Object { return &Lease{} },
	},
	{
		Kind: "LimitRange", APIVersion: "v1", Plural: "limitranges", Singular: "limitrange",
		ShortNames: []string{"limits"}, Namespaced: true,
		New: func() Object { return &LimitRange{} },
	},
	{
		Kind: "Namespace", APIVersion: "v1", Plural: "namespaces", Singular: "namespace",
		ShortNames: []string{"ns"}, Namespaced: false,
		New: func() Object { return &Namespace{} },
	},
	{
		Kind: "Node", APIVersion: "v1", Plural: "nodes", Singular: "node",
		ShortNames: []string{"no"}, Namespaced: false, SystemOwned: true,
		New: func() Object { return &Node{} },
	},
	{
		Kind: "PersistentVolume", APIVersion: "v1", Plural: "persistentvolumes", Singular: "persistentvolume",
		ShortNames: []string{"pv"}, Namespaced: false,
		New: func() Object { return &PersistentVolume{} },
	},
	{
		Kind: "PersistentVolumeClaim", APIVersion: "v1", Plural: "persistentvolumeclaims", Singular: "persistentvolumeclaim",
		ShortNames: []string{"pvc"}, Namespaced: true,
		New: func() Object { return &PersistentVolumeClaim{} },
	},
	{
		Kind: "Pod", APIVersion: "v1", Plural: "pods", Singular: "pod",
		ShortNames: []string{"po"}, Namespaced: true,
		New: func() Object { return &Pod{} },
	},
	{
		Kind: "PriorityClass", APIVersion: "scheduling.k8s.io/v1", Plural: "priorityclasses", Singular: "priorityclass",
		ShortNames: []string{"pc"}, Namespaced: false,
		New: func() Object { return &PriorityClass{} },
	},
	{
		Kind: "ReplicaSet", APIVersion: "apps/v1", Plural: "replicasets", Singular: "replicaset",
		ShortNames: []string{"rs"}, Namespaced: true,
		New: func() Object { return &ReplicaSet{} },
	},
	{
		Kind: "ResourceQuota", APIVersion: "v1", Plural: "resourcequotas", Singular: "resourcequota",
		ShortNames: []string{"quota"}, Namespaced: true,
		New: func() Object { return &ResourceQuota{} },
	},
	{
		Kind: "Secret", APIVersion: "v1", Plural: "secrets", Singular: "secret",
		Namespaced: true,
		New:        func() Object { return &Secret{} },
	},
	{
		Kind: "Service", APIVersion: "v1", Plural: "services", Singular: "service",
		ShortNames: []string{"svc"}, Namespaced: true,
		New: func() Object { return &Service{} },
	},
	{
		Kind: "ServiceAccount", APIVersion: "v1", Plural: "serviceaccounts", Singular: "serviceaccount",
		ShortNames: []string{"sa"}, Namespaced: true,
		New: func() Object { return &ServiceAccount{} },
	},
}

// notServed lists kinds Shoal knows about but this build does not serve
// yet, so that naming one gives a clearer error than "unknown kind".
var notServed = []struct{ kind, plural, short string }{
	{"StatefulSet", "statefulsets", "sts"},
	{"DaemonSet", "daemonsets", "ds"},
	{"Job", "jobs", "job"},
	{"CronJob", "cronjobs", "cj"},
	{"Ingress", "ingresses", "ing"},
	{"StorageClass", "storageclasses", "sc"},
}

// PathPrefix is where the API serves the kind: "/api/v1" for the core
// group, "/apis/GROUP/VERSION" for the others ("/apis/apps/v1").
func (k KindInfo) PathPrefix() string {
	if k.APIVersion == "v1" {
		return "/api/v1"
	}
	return "/apis/" + k.APIVersion
}

// Kinds returns the kinds this build serves.
func Kinds() []KindInfo {
	out := make([]KindInfo, len(served))
	copy(out, served)
	return out
}

// LookupKind finds a served kind by its kind, plural, singular or short
// name, case-insensitively ("ConfigMap", "configmaps", "configmap", "cm").
// A name it does not serve is an error wrapping errdefs.ErrInvalid that
// names the input and lists the served kinds.
func LookupKind(name string) (KindInfo, error) {
	if info, ok := lookupServed(name); ok {
		return info, nil
	}
	if kind, ok := lookupNotServed(name); ok {
		return KindInfo{}, &problem{msg: notServedMessage(name, kind) + "; served kinds: " + servedList(), cause: errdefs.ErrInvalid}
	}
	return KindInfo{}, &problem{msg: fmt.Sprintf("unknown kind %q; served kinds: %s", name, servedList()), cause: errdefs.ErrInvalid}
}

func lookupServed(name string) (KindInfo, bool) {
	for _, info := range served {
		if strings.EqualFold(name, info.Kind) || strings.EqualFold(name, info.Plural) || strings.EqualFold(name, info.Singular) {
			return info, true
		}
		for _, s := range info.ShortNames {
			if strings.EqualFold(name, s) {
				return info, true
			}
		}
	}
	return KindInfo{}, false
}

// lookupNotServed returns the canonical kind of a known but unserved name.
func lookupNotServed(name string) (string, bool) {
	for _, k := range notServed {
		if strings.EqualFold(name, k.kind) || strings.EqualFold(name, k.plural) || strings.EqualFold(name, k.short) {
			return k.kind, true
		}
	}
	return "", false
}

func notServedMessage(name, kind string) string {
	if name == kind {
		return fmt.Sprintf("kind %q is not served by this build yet", kind)
	}
	return fmt.Sprintf("kind %q (%s) is not served by this build yet", name, kind)
}

// servedList renders the served kinds with their aliases:
// "ConfigMap (configmaps, cm), Namespace (namespaces, ns)".
func servedList() string {
	parts := make([]string, 0, len(served))
	for _, info := range served {
		aliases := append([]string{info.Plural}, info.ShortNames...)
		parts = append(parts, fmt.Sprintf("%s (%s)", info.Kind, strings.Join(aliases, ", ")))
	}
	return strings.Join(parts, ", ")
}
