package kubeapi

import (
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shoalproject/shoal/workload"
)

// Resource is one served resource as discovery, OpenAPI and routing know
// it: kube-apiserver's names, verbs and subresources for the kind.
type Resource struct {
	GroupVersionKind schema.GroupVersionKind
	Plural           string // "deployments"
	Singular         string // "deployment"
	ShortNames       []string
	// Categories are the aliases a resource answers to besides its own
	// names: "all" for the workloads `kubectl get all` shows.
	Categories []string
	Namespaced bool
	// Verbs are what the collection and its items allow, in discovery's
	// words: create, delete, deletecollection, get, list, patch, update,
	// watch.
	Verbs        []string
	Subresources []Subresource
	// SystemOwned resources (Node, Endpoints) are written by Shoal itself:
	// users read them, and change only what kubectl's node commands do.
	SystemOwned bool
}

// Subresource is a part of a resource with its own verbs: status, scale,
// log, exec...
type Subresource struct {
	Name string // "status"
	// GroupVersionKind is the kind of the subresource's body: the
	// resource's own for status, autoscaling/v1 Scale for scale, policy/v1
	// Eviction for eviction; empty for the streaming ones (log, exec).
	GroupVersionKind schema.GroupVersionKind
	Verbs            []string
}

// GroupVersionResource is the resource's group, version and plural.
func (r Resource) GroupVersionResource() schema.GroupVersionResource {
	return r.GroupVersionKind.GroupVersion().WithResource(r.Plural)
}

// Subresource returns the named subresource.
func (r Resource) Subresource(name string) (Subresource, bool) {
	for _, s := range r.Subresources {
		if s.Name == name {
			return s, true
		}
	}
	return Subresource{}, false
}

// Allows says whether the resource (its collection or items) allows verb.
func (r Resource) Allows(verb string) bool { return slices.Contains(r.Verbs, verb) }

var (
	allVerbs         = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	namespaceVerbs   = []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	statusVerbs      = []string{"get", "patch", "update"}
	scaleVerbs       = []string{"get", "patch", "update"}
	scaleKind        = schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}
	evictionKind     = schema.GroupVersionKind{Group: "policy", Version: "v1", Kind: "Eviction"}
	bindingKind      = schema.GroupVersionKind{Version: "v1", Kind: "Binding"}
	tokenRequestKind = schema.GroupVersionKind{Group: "authentication.k8s.io", Version: "v1", Kind: "TokenRequest"}
)

// extras are what kube-apiserver says of each served kind beyond
// workload's registry: categories, verbs and subresources.
var extras = map[string]struct {
	categories   []string
	verbs        []string
	subresources func(self schema.GroupVersionKind) []Subresource
}{
	"Pod": {categories: []string{"all"}, subresources: func(self schema.GroupVersionKind) []Subresource {
		return []Subresource{
			{Name: "attach", Verbs: []string{"create", "get"}},
			{Name: "binding", GroupVersionKind: bindingKind, Verbs: []string{"create"}},
			{Name: "eviction", GroupVersionKind: evictionKind, Verbs: []string{"create"}},
			{Name: "exec", Verbs: []string{"create", "get"}},
			{Name: "log", Verbs: []string{"get"}},
			{Name: "portforward", Verbs: []string{"create", "get"}},
			{Name: "status", GroupVersionKind: self, Verbs: statusVerbs},
		}
	}},
	"Service": {categories: []string{"all"}, subresources: statusOnly},
	"Deployment": {categories: []string{"all"}, subresources: func(self schema.GroupVersionKind) []Subresource {
		return []Subresource{{Name: "scale", GroupVersionKind: scaleKind, Verbs: scaleVerbs}, {Name: "status", GroupVersionKind: self, Verbs: statusVerbs}}
	}},
	"ReplicaSet": {categories: []string{"all"}, subresources: func(self schema.GroupVersionKind) []Subresource {
		return []Subresource{{Name: "scale", GroupVersionKind: scaleKind, Verbs: scaleVerbs}, {Name: "status", GroupVersionKind: self, Verbs: statusVerbs}}
	}},
	"Namespace":             {verbs: namespaceVerbs, subresources: statusOnly},
	"Node":                  {subresources: statusOnly},
	"PersistentVolume":      {subresources: statusOnly},
	"PersistentVolumeClaim": {subresources: statusOnly},
	"ResourceQuota":         {subresources: statusOnly},
	"ServiceAccount": {subresources: func(schema.GroupVersionKind) []Subresource {
		return []Subresource{{Name: "token", GroupVersionKind: tokenRequestKind, Verbs: []string{"create"}}}
	}},
}

func statusOnly(self schema.GroupVersionKind) []Subresource {
	return []Subresource{{Name: "status", GroupVersionKind: self, Verbs: statusVerbs}}
}

// Resources lists every served resource, in workload.Kinds' order.
func Resources() []Resource {
	var out []Resource
	for _, info := range workload.Kinds() {
		gv, _ := schema.ParseGroupVersion(info.APIVersion)
		gvk := gv.WithKind(info.Kind)
		r := Resource{
			GroupVersionKind: gvk,
			Plural:           info.Plural,
			Singular:         info.Singular,
			ShortNames:       info.ShortNames,
			Namespaced:       info.Namespaced,
			Verbs:            allVerbs,
			SystemOwned:      info.SystemOwned,
		}
		if x, ok := extras[info.Kind]; ok {
			r.Categories = x.categories
			if x.verbs != nil {
				r.Verbs = x.verbs
			}
			if x.subresources != nil {
				r.Subresources = x.subresources(gvk)
			}
		}
		out = append(out, r)
	}
	return out
}
