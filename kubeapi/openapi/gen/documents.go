package main

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/kube-openapi/pkg/builder"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/shoalproject/shoal/kubeapi"
	"github.com/shoalproject/shoal/kubeapi/openapi/internal/definitions"
)

// documents are what the API describes of itself: one OpenAPI v2
// document of everything, and an OpenAPI v3 document per root path, as
// kube-apiserver's /openapi/v3 lists them ("api", "api/v1", "apis",
// "apis/apps", "apis/apps/v1", ..., "version").
type documents struct {
	v2 *spec.Swagger
	v3 map[string]*spec3.OpenAPI
}

// bearerToken3 is how clients authenticate, as kube-apiserver describes
// it (v2's securityDefinitions, v3's securitySchemes).
var bearerToken3 = &spec3.SecurityScheme{SecuritySchemeProps: spec3.SecuritySchemeProps{
	Type: "apiKey", Name: "authorization", In: "header", Description: "Bearer Token authentication",
}}

// build makes the documents of the served resources from the generated
// definitions. It is a function of its input: the same resources make
// the same documents.
func build(resources []kubeapi.Resource) (*documents, error) {
	gvs := servedGroupVersions(resources)
	namer, err := newDefinitionNamer(knownKinds(clientscheme.Scheme, resources))
	if err != nil {
		return nil, err
	}
	containers, err := routeContainers(clientscheme.Scheme, resources, gvs)
	if err != nil {
		return nil, err
	}

	info := &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: "unversioned"}}
	v2, err := builder.BuildOpenAPISpecFromRoutes(containers, &common.Config{
		ProtocolList:    []string{"https"},
		Info:            info,
		DefaultResponse: &spec.Response{ResponseProps: spec.ResponseProps{Description: "Default Response."}},
		CommonResponses: map[int]spec.Response{
			http.StatusUnauthorized: {ResponseProps: spec.ResponseProps{Description: "Unauthorized"}},
		},
		GetDefinitions:                 definitions.GetOpenAPIDefinitions,
		GetDefinitionName:              namer.GetDefinitionName,
		GetOperationIDAndTagsFromRoute: operationIDAndTags,
		SecurityDefinitions: &spec.SecurityDefinitions{"BearerToken": &spec.SecurityScheme{SecuritySchemeProps: spec.SecuritySchemeProps{
			Type: bearerToken3.Type, Name: bearerToken3.Name, In: bearerToken3.In, Description: bearerToken3.Description,
		}}},
		DefaultSecurity: []map[string][]string{{"BearerToken": {}}},
	})
	if err != nil {
		return nil, explain(err)
	}

	v3Definitions := definitions.GetOpenAPIDefinitions(func(name string) spec.Ref {
		defName, _ := namer.GetDefinitionName(name)
		return spec.MustCreateRef("#/components/schemas/" + common.EscapeJsonPointer(defName))
	})
	docs := &documents{v2: v2, v3: map[string]*spec3.OpenAPI{}}
	for _, c := range containers {
		doc, err := builder3.BuildOpenAPISpecFromRoutes([]common.RouteContainer{c}, &common.OpenAPIV3Config{
			Info:            info,
			DefaultResponse: &spec3.Response{ResponseProps: spec3.ResponseProps{Description: "Default Response."}},
			CommonResponses: map[int]*spec3.Response{
				http.StatusUnauthorized: {ResponseProps: spec3.ResponseProps{Description: "Unauthorized"}},
			},
			SecuritySchemes:                spec3.SecuritySchemes{"BearerToken": bearerToken3},
			Definitions:                    v3Definitions,
			GetDefinitionName:              namer.GetDefinitionName,
			GetOperationIDAndTagsFromRoute: operationIDAndTags,
		})
		if err != nil {
			return nil, explain(err)
		}
		docs.v3[strings.TrimPrefix(c.RootPath(), "/")] = doc
	}
	return docs, nil
}

// explain adds what to do to the builders' error for a kind openapi-gen
// did not generate.
func explain(err error) error {
	if strings.Contains(err.Error(), "cannot find model definition") {
		return fmt.Errorf("%w\n(add the kind's Go package to openapi-gen's packages in kubeapi/openapi/internal/definitions/doc.go, then run `make openapi`)", err)
	}
	return err
}

// servedGroupVersions are the resources' group versions, in their order.
func servedGroupVersions(resources []kubeapi.Resource) []schema.GroupVersion {
	var gvs []schema.GroupVersion
	for _, r := range resources {
		if gv := r.GroupVersionKind.GroupVersion(); !slices.Contains(gvs, gv) {
			gvs = append(gvs, gv)
		}
	}
	return gvs
}

// knownKinds is the scheme of what the server knows: every kind of the
// served group versions (their options, lists, WatchEvent...), and the
// kinds of subresource bodies from other groups (autoscaling/v1 Scale,
// policy/v1 Eviction). It gives definitions their
// x-kubernetes-group-version-kind.
func knownKinds(catalog *runtime.Scheme, resources []kubeapi.Resource) *runtime.Scheme {
	s := runtime.NewScheme()
	add := func(gvk schema.GroupVersionKind) {
		if t, ok := catalog.AllKnownTypes()[gvk]; ok && !s.Recognizes(gvk) {
			s.AddKnownTypeWithName(gvk, reflectNew(t))
		}
	}
	for _, gv := range servedGroupVersions(resources) {
		for kind := range catalog.KnownTypes(gv) {
			add(gv.WithKind(kind))
		}
	}
	for _, r := range resources {
		for _, sub := range r.Subresources {
			if !sub.GroupVersionKind.Empty() {
				add(sub.GroupVersionKind)
			}
		}
	}
	return s
}

// routeContainers are the routes of the API, by root path: discovery's
// (/api, /apis, /apis/<group>, /version) and each group version's (its
// resource list and every resource's routes).
func routeContainers(catalog *runtime.Scheme, resources []kubeapi.Resource, gvs []schema.GroupVersion) ([]common.RouteContainer, error) {
	var out []common.RouteContainer
	discovery := func(root, doc, operation string, answer any) {
		out = append(out, &container{root: root, routes: []common.Route{discoveryRoute(root, doc, operation, answer, mediaTypes)}})
	}
	var groups []string
	for _, gv := range gvs {
		if gv.Group == "" {
			discovery("/api", "get available API versions", "getAPIVersions", metav1.APIVersions{})
		} else if !slices.Contains(groups, gv.Group) {
			groups = append(groups, gv.Group)
		}
	}
	discovery("/apis", "get available API versions", "getAPIVersions", metav1.APIGroupList{})
	for _, g := range groups {
		discovery("/apis/"+g, "get information of a group", "getAPIGroup", metav1.APIGroup{})
	}
	for _, gv := range gvs {
		prefix := "/apis/" + gv.String()
		if gv.Group == "" {
			prefix = "/api/" + gv.Version
		}
		in := &installer{prefix: prefix, gv: gv, catalog: catalog}
		c := &container{root: prefix, routes: []common.Route{
			discoveryRoute(prefix, "get available resources", "getAPIResources", metav1.APIResourceList{}, mediaTypes),
		}}
		for _, r := range resources {
			if r.GroupVersionKind.GroupVersion() != gv {
				continue
			}
			eps := []func() (endpoint, error){func() (endpoint, error) { return in.resourceEndpoint(r) }}
			for _, s := range r.Subresources {
				eps = append(eps, func() (endpoint, error) { return in.subresourceEndpoint(r, s) })
			}
			for _, newEndpoint := range eps {
				ep, err := newEndpoint()
				if err != nil {
					return nil, err
				}
				routes, err := in.routes(ep)
				if err != nil {
					return nil, err
				}
				c.routes = append(c.routes, routes...)
			}
		}
		out = append(out, c)
	}
	out = append(out, &container{root: "/version", routes: []common.Route{
		discoveryRoute("/version", "get the version information for this server", "getCodeVersion", version.Info{}, []string{mediaJSON}),
	}})
	return out, nil
}

// discoveryRoute is a GET of a root path's discovery document.
func discoveryRoute(root, doc, operation string, answer any, media []string) *route {
	return &route{method: http.MethodGet, path: root + "/", operation: operation, doc: doc, produces: media, consumes: media, writes: answer}
}

func reflectNew(t reflect.Type) runtime.Object { return reflect.New(t).Interface().(runtime.Object) }
