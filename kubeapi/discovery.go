package kubeapi

import (
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"sort"
	"strings"

	"github.com/munnerz/goautoneg"
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apidiscoveryv2beta1 "k8s.io/api/apidiscovery/v2beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
)

// Discovery, as kube-apiserver serves it: the legacy documents (/api,
// /apis, /apis/GROUP, /api/v1, /apis/GROUP/VERSION) and the aggregated
// one (apidiscovery.k8s.io/v2 APIGroupDiscoveryList on /api and /apis,
// which kubectl and client-go ask for first).

// VersionInfo is what /version answers: Kubernetes' fields (the API
// version Shoal serves, as kubectl compares it with its own) and Shoal's
// beside them.
type VersionInfo struct {
	version.Info
	// Shoal is Shoal's own version, Peer the answering peer, Cluster the
	// cluster's name.
	Shoal   string `json:"shoalVersion,omitempty"`
	Peer    string `json:"peer,omitempty"`
	Cluster string `json:"cluster,omitempty"`
}

// ServedKubernetesVersion is the Kubernetes API release whose types and
// semantics this build serves (k8s.io/api v0.37).
const ServedKubernetesVersion = "v1.37.0"

// NewVersionInfo is /version's answer for a Shoal build.
func NewVersionInfo(shoal, peer, cluster string) VersionInfo {
	return VersionInfo{
		Info: version.Info{
			Major: "1", Minor: "37", GitVersion: ServedKubernetesVersion + "+shoal-" + strings.TrimPrefix(shoal, "v"),
			GitTreeState: "clean", GoVersion: runtime.Version(), Compiler: runtime.Compiler,
			Platform: runtime.GOOS + "/" + runtime.GOARCH, GitCommit: shoal,
		},
		Shoal: shoal, Peer: peer, Cluster: cluster,
	}
}

func (s *Server) serveVersion(w http.ResponseWriter, r *http.Request) {
	writeJSONBody(w, r, http.StatusOK, s.cfg.Version)
}

// groupVersions lists the served group versions, the core group's first,
// then the others by name, as kube-apiserver orders them.
func (s *Server) groupVersions() []schema.GroupVersion {
	seen := map[schema.GroupVersion]bool{}
	var out []schema.GroupVersion
	for _, r := range s.resources {
		gv := r.GroupVersionKind.GroupVersion()
		if !seen[gv] {
			seen[gv] = true
			out = append(out, gv)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Group == "") != (out[j].Group == "") {
			return out[i].Group == ""
		}
		return out[i].Group < out[j].Group
	})
	return out
}

func (s *Server) serveLegacyVersions(w http.ResponseWriter, r *http.Request) {
	if v, ok := aggregatedAsked(r); ok {
		s.writeAggregated(w, r, v, true)
		return
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil && h != "" {
		host = r.Host
	}
	s.writeMeta(w, r, &metav1.APIVersions{
		Versions:                   []string{"v1"},
		ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: host}},
	})
}

func (s *Server) serveGroups(w http.ResponseWriter, r *http.Request) {
	if v, ok := aggregatedAsked(r); ok {
		s.writeAggregated(w, r, v, false)
		return
	}
	list := &metav1.APIGroupList{}
	for _, g := range s.groups() {
		list.Groups = append(list.Groups, g)
	}
	s.writeMeta(w, r, list)
}

// groups lists the named groups (not the core one) with their versions.
func (s *Server) groups() []metav1.APIGroup {
	var out []metav1.APIGroup
	index := map[string]int{}
	for _, gv := range s.groupVersions() {
		if gv.Group == "" {
			continue
		}
		v := metav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: gv.Version}
		i, ok := index[gv.Group]
		if !ok {
			index[gv.Group] = len(out)
			out = append(out, metav1.APIGroup{Name: gv.Group, PreferredVersion: v})
			i = len(out) - 1
		}
		out[i].Versions = append(out[i].Versions, v)
	}
	return out
}

func (s *Server) serveGroup(w http.ResponseWriter, r *http.Request, group string) {
	for _, g := range s.groups() {
		if g.Name == group {
			s.writeMeta(w, r, &g)
			return
		}
	}
	s.writeError(w, r, apierrors.NewNotFound(schema.GroupResource{}, ""))
}

func (s *Server) serveResourceList(w http.ResponseWriter, r *http.Request, gv schema.GroupVersion) {
	list := &metav1.APIResourceList{GroupVersion: gv.String()}
	for _, res := range s.resources {
		if res.GroupVersionKind.GroupVersion() != gv {
			continue
		}
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name: res.Plural, SingularName: res.Singular, Namespaced: res.Namespaced, Kind: res.GroupVersionKind.Kind,
			Verbs: res.Verbs, ShortNames: res.ShortNames, Categories: res.Categories,
		})
		for _, sub := range res.Subresources {
			ar := metav1.APIResource{Name: res.Plural + "/" + sub.Name, Namespaced: res.Namespaced, Verbs: sub.Verbs, Kind: sub.GroupVersionKind.Kind}
			if sub.GroupVersionKind.Group != gv.Group || sub.GroupVersionKind.Version != gv.Version {
				ar.Group, ar.Version = sub.GroupVersionKind.Group, sub.GroupVersionKind.Version
			}
			if sub.GroupVersionKind.Kind == "" {
				ar.Kind = subresourceKinds[sub.Name]
			}
			list.APIResources = append(list.APIResources, ar)
		}
	}
	if len(list.APIResources) == 0 {
		s.writeError(w, r, apierrors.NewNotFound(schema.GroupResource{}, ""))
		return
	}
	s.writeMeta(w, r, list)
}

// subresourceKinds are the kinds discovery gives the streaming
// subresources, as kube-apiserver does.
var subresourceKinds = map[string]string{
	"log": "Pod", "exec": "PodExecOptions", "attach": "PodAttachOptions", "portforward": "PodPortForwardOptions",
}

// aggregatedAsked reports whether the Accept header asks for aggregated
// discovery, and which version of it.
func aggregatedAsked(r *http.Request) (string, bool) {
	for _, a := range goautoneg.ParseAccept(r.Header.Get("Accept")) {
		if a.Params["g"] == "apidiscovery.k8s.io" && a.Params["as"] == "APIGroupDiscoveryList" &&
			(a.Params["v"] == "v2" || a.Params["v"] == "v2beta1") && (a.SubType == "json" || a.SubType == "vnd.kubernetes.protobuf") {
			return a.Params["v"] + "/" + a.SubType, true
		}
	}
	return "", false
}

// aggregated is the APIGroupDiscoveryList of the core group (legacy) or
// of the named groups.
func (s *Server) aggregated(legacy bool) *apidiscoveryv2.APIGroupDiscoveryList {
	out := &apidiscoveryv2.APIGroupDiscoveryList{}
	index := map[string]int{}
	for _, gv := range s.groupVersions() {
		if (gv.Group == "") != legacy {
			continue
		}
		vd := apidiscoveryv2.APIVersionDiscovery{Version: gv.Version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
		for _, res := range s.resources {
			if res.GroupVersionKind.GroupVersion() != gv {
				continue
			}
			scope := apidiscoveryv2.ScopeCluster
			if res.Namespaced {
				scope = apidiscoveryv2.ScopeNamespace
			}
			rd := apidiscoveryv2.APIResourceDiscovery{
				Resource: res.Plural, SingularResource: res.Singular, Scope: scope, Verbs: res.Verbs,
				ShortNames: res.ShortNames, Categories: res.Categories,
				ResponseKind: &metav1.GroupVersionKind{Group: gv.Group, Version: gv.Version, Kind: res.GroupVersionKind.Kind},
			}
			for _, sub := range res.Subresources {
				sd := apidiscoveryv2.APISubresourceDiscovery{Subresource: sub.Name, Verbs: sub.Verbs}
				k := sub.GroupVersionKind
				if k.Kind == "" {
					k = schema.GroupVersionKind{Version: "v1", Kind: subresourceKinds[sub.Name]}
				}
				sd.ResponseKind = &metav1.GroupVersionKind{Group: k.Group, Version: k.Version, Kind: k.Kind}
				rd.Subresources = append(rd.Subresources, sd)
			}
			vd.Resources = append(vd.Resources, rd)
		}
		i, ok := index[gv.Group]
		if !ok {
			index[gv.Group] = len(out.Items)
			g := apidiscoveryv2.APIGroupDiscovery{}
			g.Name = gv.Group
			out.Items = append(out.Items, g)
			i = len(out.Items) - 1
		}
		out.Items[i].Versions = append(out.Items[i].Versions, vd)
	}
	return out
}

func (s *Server) writeAggregated(w http.ResponseWriter, r *http.Request, asked string, legacy bool) {
	v, sub, _ := strings.Cut(asked, "/")
	list := s.aggregated(legacy)
	var obj k8sruntime.Object = list
	if v == "v2beta1" {
		obj = toV2beta1(list)
	}
	gvk := schema.GroupVersionKind{Group: "apidiscovery.k8s.io", Version: v, Kind: "APIGroupDiscoveryList"}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	media := mediaJSON
	if sub == "vnd.kubernetes.protobuf" {
		media = mediaProtobuf
	}
	for _, info := range codecs().codecs.SupportedMediaTypes() {
		if info.MediaType != media {
			continue
		}
		w.Header().Set("Content-Type", media+";g=apidiscovery.k8s.io;v="+v+";as=APIGroupDiscoveryList")
		w.Header().Set("Vary", "Accept")
		w.WriteHeader(http.StatusOK)
		_ = info.Serializer.Encode(obj, w)
		return
	}
}

// toV2beta1 is the same document in apidiscovery.k8s.io/v2beta1, which
// older clients ask for; the two versions have the same fields.
func toV2beta1(in *apidiscoveryv2.APIGroupDiscoveryList) *apidiscoveryv2beta1.APIGroupDiscoveryList {
	out := &apidiscoveryv2beta1.APIGroupDiscoveryList{}
	for _, g := range in.Items {
		og := apidiscoveryv2beta1.APIGroupDiscovery{}
		og.Name = g.Name
		for _, v := range g.Versions {
			ov := apidiscoveryv2beta1.APIVersionDiscovery{Version: v.Version, Freshness: apidiscoveryv2beta1.DiscoveryFreshness(v.Freshness)}
			for _, r := range v.Resources {
				or := apidiscoveryv2beta1.APIResourceDiscovery{
					Resource: r.Resource, ResponseKind: r.ResponseKind, Scope: apidiscoveryv2beta1.ResourceScope(r.Scope),
					SingularResource: r.SingularResource, Verbs: r.Verbs, ShortNames: r.ShortNames, Categories: r.Categories,
				}
				for _, sr := range r.Subresources {
					or.Subresources = append(or.Subresources, apidiscoveryv2beta1.APISubresourceDiscovery{
						Subresource: sr.Subresource, ResponseKind: sr.ResponseKind, AcceptedTypes: sr.AcceptedTypes, Verbs: sr.Verbs,
					})
				}
				ov.Resources = append(ov.Resources, or)
			}
			og.Versions = append(og.Versions, ov)
		}
		out.Items = append(out.Items, og)
	}
	return out
}

// writeMeta answers with a discovery document in JSON or protobuf.
func (s *Server) writeMeta(w http.ResponseWriter, r *http.Request, obj k8sruntime.Object) {
	as, err := negotiate(r, false)
	if err != nil || as.as != "" {
		as, _ = negotiate(&http.Request{Header: http.Header{}, URL: r.URL}, false)
	}
	s.encode(w, r, as, http.StatusOK, obj)
}

// writeJSONBody answers with v as JSON.
func writeJSONBody(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		WriteStatus(w, r, apierrors.NewInternalError(err))
		return
	}
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
