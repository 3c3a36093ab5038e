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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/kube-openapi/pkg/common"

	"github.com/shoalproject/shoal/kubeapi"
)

// The routes of a served resource, as k8s.io/apiserver's APIInstaller
// (pkg/endpoints/installer.go, registerResourceHandlers) registers them:
// which actions a storage's interfaces allow, on which paths, with which
// parameters, bodies and answers. Here the verbs of kubeapi.Resource say
// which interfaces the storage would have.

const (
	prettyDoc = "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."
	// The media types kube-apiserver serves objects and watch streams as.
	mediaJSON     = "application/json"
	mediaYAML     = "application/yaml"
	mediaProtobuf = "application/vnd.kubernetes.protobuf"
)

var (
	mediaTypes      = []string{mediaJSON, mediaYAML, mediaProtobuf}
	streamTypes     = []string{mediaJSON + ";stream=watch", mediaProtobuf + ";stream=watch"}
	allMediaTypes   = slices.Concat(mediaTypes, streamTypes)
	patchMediaTypes = []string{
		string(types.JSONPatchType), string(types.MergePatchType),
		string(types.StrategicMergePatchType), string(types.ApplyYAMLPatchType),
	}
)

// endpoint is a resource or subresource as the installer sees its
// storage: what it is, and which of rest.Lister, Creater, Getter... it
// implements.
type endpoint struct {
	resource    string // "deployments"
	subresource string // "scale", or ""
	// kind is the kind the storage holds: the resource's, or its
	// subresource's (autoscaling/v1 Scale, v1 PodExecOptions).
	kind schema.GroupVersionKind
	// parentKind names the routes and their docs: the resource's kind,
	// for a subresource too.
	parentKind string
	namespaced bool
	object     any // a sample of kind
	list       any // a sample of its list, for a lister

	lister, creater, collectionDeleter, getter, updater, patcher, deleter, watcher bool
	// deleteReturnsObject: a delete answers with the object (as a Pod's
	// does), not a Status.
	deleteReturnsObject bool
	// getOptions are the query parameters of a read (v1 PodLogOptions);
	// a read that has them answers text (textAnswer).
	getOptions any
	textAnswer bool
	// connectMethods are a connecter's (exec, attach, portforward) HTTP
	// methods; connectOptions its query parameters.
	connectMethods []string
	connectOptions any
}

// action is a verb on a path: the installer's action.
type action struct {
	verb          string // LIST POST DELETECOLLECTION WATCHLIST GET PUT PATCH DELETE WATCH CONNECT
	path          string // below the prefix: "namespaces/{namespace}/pods"
	params        []common.Parameter
	allNamespaces bool
}

// installer makes the routes of one group version.
type installer struct {
	prefix  string // "/api/v1", "/apis/apps/v1"
	gv      schema.GroupVersion
	catalog *runtime.Scheme
}

func (in *installer) newObject(gvk schema.GroupVersionKind) (any, error) {
	obj, err := in.catalog.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", gvk, err)
	}
	return reflect.Indirect(reflect.ValueOf(obj)).Interface(), nil
}

// options are the meta.k8s.io/v1 options every group takes.
var (
	listOptions   = &metav1.ListOptions{}
	createOptions = &metav1.CreateOptions{}
	updateOptions = &metav1.UpdateOptions{}
	patchOptions  = &metav1.PatchOptions{}
	deleteOptions = &metav1.DeleteOptions{}
)

// resourceEndpoint is a resource's storage.
func (in *installer) resourceEndpoint(r kubeapi.Resource) (endpoint, error) {
	ep := endpoint{
		resource:            r.Plural,
		kind:                r.GroupVersionKind,
		parentKind:          r.GroupVersionKind.Kind,
		namespaced:          r.Namespaced,
		lister:              r.Allows("list"),
		creater:             r.Allows("create"),
		collectionDeleter:   r.Allows("deletecollection"),
		getter:              r.Allows("get"),
		updater:             r.Allows("update"),
		patcher:             r.Allows("patch"),
		deleter:             r.Allows("delete"),
		watcher:             r.Allows("watch"),
		deleteReturnsObject: deleteReturnsObject[r.GroupVersionKind.GroupKind()],
	}
	var err error
	if ep.object, err = in.newObject(r.GroupVersionKind); err != nil {
		return ep, err
	}
	if ep.lister {
		if ep.list, err = in.newObject(r.GroupVersionKind.GroupVersion().WithKind(r.GroupVersionKind.Kind + "List")); err != nil {
			return ep, err
		}
	}
	return ep, nil
}

// deleteReturnsObject are the kinds whose delete answers with the object
// in kube-apiserver's OpenAPI (their registries' ReturnDeletedObject);
// the others answer a Status. kubeapi.Resource does not say it (yet), and
// kubeapi's delete keeps a table of its own.
var deleteReturnsObject = map[schema.GroupKind]bool{
	{Kind: "Pod"}:                   true,
	{Kind: "Service"}:               true,
	{Kind: "PersistentVolume"}:      true,
	{Kind: "PersistentVolumeClaim"}: true,
}

// subresourceEndpoint is a subresource's storage. One with a body kind
// (status, scale, eviction, binding) reads and writes that kind. One
// without (log, exec, attach, portforward) streams: its options are the
// kind <Parent><Subresource>Options of the resource's group version
// (PodLogOptions); one that is only read (log) is a getter with those
// options answering text, the others connecters taking a connection for
// each of their verbs (get is GET, create is POST).
func (in *installer) subresourceEndpoint(r kubeapi.Resource, s kubeapi.Subresource) (endpoint, error) {
	ep := endpoint{
		resource:    r.Plural,
		subresource: s.Name,
		kind:        s.GroupVersionKind,
		parentKind:  r.GroupVersionKind.Kind,
		namespaced:  r.Namespaced,
		lister:      slices.Contains(s.Verbs, "list"),
		creater:     slices.Contains(s.Verbs, "create"),
		getter:      slices.Contains(s.Verbs, "get"),
		updater:     slices.Contains(s.Verbs, "update"),
		patcher:     slices.Contains(s.Verbs, "patch"),
		deleter:     slices.Contains(s.Verbs, "delete"),
		watcher:     slices.Contains(s.Verbs, "watch"),
	}
	if !s.GroupVersionKind.Empty() {
		var err error
		ep.object, err = in.newObject(s.GroupVersionKind)
		return ep, err
	}
	optionsKind, opts, err := in.streamOptions(r, s)
	if err != nil {
		return ep, err
	}
	if slices.Equal(s.Verbs, []string{"get"}) {
		ep.kind = r.GroupVersionKind
		ep.object, err = in.newObject(r.GroupVersionKind)
		ep.getOptions, ep.textAnswer = opts, true
		return ep, err
	}
	ep.kind = optionsKind
	// A connecter's verbs are its connections' methods, not the
	// storage's Getter, Creater... interfaces.
	ep.getter, ep.creater, ep.updater, ep.patcher, ep.deleter = false, false, false, false, false
	for _, verb := range s.Verbs {
		method, ok := connectMethod[verb]
		if !ok {
			return ep, fmt.Errorf("%s/%s: verb %q has no HTTP method", r.Plural, s.Name, verb)
		}
		ep.connectMethods = append(ep.connectMethods, method)
	}
	ep.object, ep.connectOptions = opts, opts
	return ep, nil
}

var connectMethod = map[string]string{
	"get": http.MethodGet, "create": http.MethodPost, "update": http.MethodPut,
	"patch": http.MethodPatch, "delete": http.MethodDelete,
}

// streamOptions finds a streaming subresource's options kind, and a
// sample of it.
func (in *installer) streamOptions(r kubeapi.Resource, s kubeapi.Subresource) (schema.GroupVersionKind, runtime.Object, error) {
	want := r.GroupVersionKind.Kind + s.Name + "Options"
	for kind := range in.catalog.KnownTypes(in.gv) {
		if strings.EqualFold(kind, want) {
			gvk := in.gv.WithKind(kind)
			obj, err := in.catalog.New(gvk)
			return gvk, obj, err
		}
	}
	return schema.GroupVersionKind{}, nil, fmt.Errorf("%s/%s: no kind %s in %v for its options", r.Plural, s.Name, want, in.gv)
}

// actions are the installer's: what the storage allows, where.
func (ep endpoint) actions() []action {
	var (
		resourcePath, itemPath string
		resourceParams         []common.Parameter
	)
	nameParam := pathParam("name", "name of the "+ep.kind.Kind)
	if ep.namespaced {
		namespaceParam := pathParam("namespace", "object name and auth scope, such as for teams and projects")
		resourcePath = "namespaces/{namespace}/" + ep.resource
		resourceParams = []common.Parameter{namespaceParam}
	} else {
		resourcePath = ep.resource
	}
	itemPath = resourcePath + "/{name}"
	nameParams := append(slices.Clip(resourceParams), nameParam)
	if ep.subresource != "" {
		itemPath += "/" + ep.subresource
		resourcePath, resourceParams = itemPath, nameParams
	}
	var out []action
	add := func(ok bool, a action) {
		if ok {
			out = append(out, a)
		}
	}
	add(ep.lister, action{verb: "LIST", path: resourcePath, params: resourceParams})
	add(ep.creater, action{verb: "POST", path: resourcePath, params: resourceParams})
	add(ep.collectionDeleter, action{verb: "DELETECOLLECTION", path: resourcePath, params: resourceParams})
	add(ep.lister && ep.watcher, action{verb: "WATCHLIST", path: "watch/" + resourcePath, params: resourceParams})
	add(ep.getter, action{verb: "GET", path: itemPath, params: nameParams})
	add(ep.updater, action{verb: "PUT", path: itemPath, params: nameParams})
	add(ep.patcher, action{verb: "PATCH", path: itemPath, params: nameParams})
	add(ep.deleter, action{verb: "DELETE", path: itemPath, params: nameParams})
	add(ep.watcher, action{verb: "WATCH", path: "watch/" + itemPath, params: nameParams})
	add(len(ep.connectMethods) > 0, action{verb: "CONNECT", path: itemPath, params: nameParams})
	if ep.namespaced && ep.subresource == "" {
		add(ep.lister, action{verb: "LIST", path: ep.resource, allNamespaces: true})
		add(ep.lister && ep.watcher, action{verb: "WATCHLIST", path: "watch/" + ep.resource, allNamespaces: true})
	}
	return out
}

// routes are the endpoint's routes, one per action (a connecter's, one
// per method), each with its group-version-kind and action as metadata.
func (in *installer) routes(ep endpoint) ([]common.Route, error) {
	var out []common.Route
	kind, sub := ep.parentKind, ep.subresource
	pretty := queryParam("pretty", prettyDoc, "string")
	status := metav1.Status{}
	deleteAnswer := any(status)
	if ep.deleteReturnsObject {
		deleteAnswer = ep.object
	}
	for _, a := range ep.actions() {
		namespaced, suffix := "", ""
		if ep.namespaced {
			namespaced = "Namespaced"
		}
		if a.allNamespaces {
			namespaced, suffix = "", "ForAllNamespaces"
		}
		name := namespaced + kind + title(sub) + suffix // "NamespacedDeploymentScale"
		path := in.prefix + "/" + a.path
		var rs []*route
		switch a.verb {
		case "GET":
			doc := "read the specified " + kind
			if sub != "" {
				doc = "read " + sub + " of the specified " + kind
			}
			r := &route{method: http.MethodGet, path: path, operation: "read" + name, doc: doc, produces: mediaTypes}
			answer := ep.object
			if ep.textAnswer {
				answer = ""
				r.produces = slices.Concat([]string{"text/plain"}, mediaTypes)
			}
			r.param(pretty).returns(http.StatusOK, "OK", answer)
			r.writes = answer
			if ep.getOptions != nil {
				r.param(objectParams(ep.getOptions)...)
			}
			rs = append(rs, r)
		case "LIST":
			doc := "list objects of kind " + kind
			if ep.watcher {
				doc = "list or watch objects of kind " + kind
			}
			if sub != "" {
				doc = "list " + sub + " of objects of kind " + kind
				if ep.watcher {
					doc = "list or watch " + sub + " of objects of kind " + kind
				}
			}
			r := &route{method: http.MethodGet, path: path, operation: "list" + name, doc: doc, produces: allMediaTypes}
			r.param(pretty).returns(http.StatusOK, "OK", ep.list).param(objectParams(listOptions)...)
			rs = append(rs, r)
		case "PUT":
			doc := "replace the specified " + kind
			if sub != "" {
				doc = "replace " + sub + " of the specified " + kind
			}
			r := &route{method: http.MethodPut, path: path, operation: "replace" + name, doc: doc, produces: mediaTypes}
			r.param(pretty).returns(http.StatusOK, "OK", ep.object).returns(http.StatusCreated, "Created", ep.object).
				body(ep.object, true).param(objectParams(updateOptions)...)
			rs = append(rs, r)
		case "PATCH":
			doc := "partially update the specified " + kind
			if sub != "" {
				doc = "partially update " + sub + " of the specified " + kind
			}
			r := &route{method: http.MethodPatch, path: path, operation: "patch" + name, doc: doc, produces: mediaTypes, consumes: patchMediaTypes}
			r.param(pretty).returns(http.StatusOK, "OK", ep.object).returns(http.StatusCreated, "Created", ep.object).
				body(metav1.Patch{}, true).param(objectParams(patchOptions)...)
			rs = append(rs, r)
		case "POST":
			doc := "create" + article(kind) + kind
			if sub != "" {
				doc = "create " + sub + " of" + article(kind) + kind
			}
			r := &route{method: http.MethodPost, path: path, operation: "create" + name, doc: doc, produces: mediaTypes}
			r.param(pretty).returns(http.StatusOK, "OK", ep.object).returns(http.StatusCreated, "Created", ep.object).
				returns(http.StatusAccepted, "Accepted", ep.object).body(ep.object, true).param(objectParams(createOptions)...)
			rs = append(rs, r)
		case "DELETE":
			doc := "delete" + article(kind) + kind
			if sub != "" {
				doc = "delete " + sub + " of" + article(kind) + kind
			}
			r := &route{method: http.MethodDelete, path: path, operation: "delete" + name, doc: doc, produces: mediaTypes}
			r.param(pretty).returns(http.StatusOK, "OK", deleteAnswer).returns(http.StatusAccepted, "Accepted", deleteAnswer).
				body(metav1.DeleteOptions{}, false).param(objectParams(deleteOptions)...)
			rs = append(rs, r)
		case "DELETECOLLECTION":
			doc := "delete collection of " + kind
			if sub != "" {
				doc = "delete collection of " + sub + " of a " + kind
			}
			r := &route{method: http.MethodDelete, path: path, operation: "deletecollection" + name, doc: doc, produces: mediaTypes}
			r.param(pretty).returns(http.StatusOK, "OK", status).body(metav1.DeleteOptions{}, false).
				param(objectParams(deleteOptions)...).param(objectParams(listOptions, "watch", "allowWatchBookmarks")...)
			rs = append(rs, r)
		case "WATCH":
			doc := "watch changes to an object of kind " + kind
			if sub != "" {
				doc = "watch changes to " + sub + " of an object of kind " + kind
			}
			doc += ". deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter."
			r := &route{method: http.MethodGet, path: path, operation: "watch" + name, doc: doc, produces: allMediaTypes}
			r.param(pretty).returns(http.StatusOK, "OK", metav1.WatchEvent{}).param(objectParams(listOptions)...)
			rs = append(rs, r)
		case "WATCHLIST":
			doc := "watch individual changes to a list of " + kind
			if sub != "" {
				doc = "watch individual changes to a list of " + sub + " of " + kind
			}
			doc += ". deprecated: use the 'watch' parameter with a list operation instead."
			r := &route{method: http.MethodGet, path: path, operation: "watch" + namespaced + kind + title(sub) + "List" + suffix, doc: doc, produces: allMediaTypes}
			r.param(pretty).returns(http.StatusOK, "OK", metav1.WatchEvent{}).param(objectParams(listOptions)...)
			rs = append(rs, r)
		case "CONNECT":
			for _, method := range ep.connectMethods {
				doc := "connect " + method + " requests to " + kind
				if sub != "" {
					doc = "connect " + method + " requests to " + sub + " of " + kind
				}
				r := &route{method: method, path: path, operation: "connect" + title(method) + name, doc: doc,
					produces: []string{"*/*"}, consumes: []string{"*/*"}, writes: "string"}
				r.param(objectParams(ep.connectOptions)...)
				rs = append(rs, r)
			}
		default:
			return nil, fmt.Errorf("unknown action %s", a.verb)
		}
		for _, r := range rs {
			r.param(a.params...)
			if r.consumes == nil {
				r.consumes = []string{"*/*"} // the web service's default
			}
			r.metadata = map[string]any{
				"x-kubernetes-group-version-kind": metav1.GroupVersionKind{Group: ep.kind.Group, Version: ep.kind.Version, Kind: ep.kind.Kind},
				"x-kubernetes-action":             strings.ToLower(a.verb),
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// objectParams are the query parameters of an options struct, as the
// installer's AddObjectParams makes them: each top-level field that is
// not a struct, an interface or a pointer to one (but *metav1.Time), by
// its JSON name, described by the type's SwaggerDoc.
func objectParams(obj any, excluded ...string) []common.Parameter {
	t := reflect.TypeOf(obj)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var docs map[string]string
	if d, ok := obj.(interface{ SwaggerDoc() map[string]string }); ok {
		docs = d.SwaggerDoc()
	}
	var out []common.Parameter
	for i := range t.NumField() {
		f := t.Field(i)
		switch f.Type.Kind() {
		case reflect.Interface, reflect.Struct:
			continue
		case reflect.Pointer:
			if k := f.Type.Elem().Kind(); (k == reflect.Interface || k == reflect.Struct) && strings.TrimPrefix(f.Type.String(), "*") != "metav1.Time" {
				continue
			}
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || slices.Contains(excluded, name) {
			continue
		}
		out = append(out, queryParam(name, docs[name], jsonType(f.Type.String())))
	}
	return out
}

// jsonType is the installer's typeToJSON: the JSON type of a query
// parameter. Lists are strings or integers (a parameter repeated), since
// go-restful cannot say array.
func jsonType(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "bool":
		return "boolean"
	case "uint8", "int", "int32", "int64", "uint32", "uint64":
		return "integer"
	case "float64", "float32":
		return "number"
	case "metav1.Time", "byte", "string", "v1.DeletionPropagation", "v1.ResourceVersionMatch", "v1.IncludeObjectPolicy":
		return "string"
	case "[]string", "[]*string":
		return "string"
	case "[]int32", "[]*int32":
		return "integer"
	}
	return goType
}
