package main

import (
	"k8s.io/kube-openapi/pkg/common"
)

// The route model kube-openapi's builders read: what go-restful's
// WebService and Route hold in kube-apiserver, without go-restful.

// container is a root path ("/apis/apps/v1") and its routes, as a
// go-restful WebService. Each container is one OpenAPI v3 document.
type container struct {
	root   string
	routes []common.Route
}

var _ common.RouteContainer = (*container)(nil)

func (c *container) RootPath() string                   { return c.root }
func (c *container) PathParameters() []common.Parameter { return nil }
func (c *container) Routes() []common.Route             { return c.routes }

// route is one operation: a method on a full path.
type route struct {
	method    string
	path      string // full: "/apis/apps/v1/namespaces/{namespace}/deployments"
	operation string // kube-apiserver's, before the group and version go in: "listNamespacedDeployment"
	doc       string
	params    []common.Parameter
	consumes  []string
	produces  []string
	metadata  map[string]any
	// reads is a sample of the body (nil: no body); writes a sample of the
	// answer, used when responses is empty.
	reads     any
	writes    any
	responses []common.StatusCodeResponse
}

var _ common.Route = (*route)(nil)

func (r *route) Method() string                                   { return r.method }
func (r *route) Path() string                                     { return r.path }
func (r *route) OperationName() string                            { return r.operation }
func (r *route) Parameters() []common.Parameter                   { return r.params }
func (r *route) Description() string                              { return r.doc }
func (r *route) Consumes() []string                               { return r.consumes }
func (r *route) Produces() []string                               { return r.produces }
func (r *route) Metadata() map[string]any                         { return r.metadata }
func (r *route) RequestPayloadSample() any                        { return r.reads }
func (r *route) ResponsePayloadSample() any                       { return r.writes }
func (r *route) StatusCodeResponses() []common.StatusCodeResponse { return r.responses }

// returns adds a response, as go-restful's RouteBuilder.Returns.
func (r *route) returns(code int, message string, model any) *route {
	r.responses = append(r.responses, response{code: code, message: message, model: model})
	return r
}

// body sets the body, as go-restful's RouteBuilder.Reads: a required
// parameter named "body".
func (r *route) body(sample any, required bool) *route {
	r.reads = sample
	r.params = append(r.params, param{name: "body", kind: common.BodyParameterKind, required: required})
	return r
}

func (r *route) param(p ...common.Parameter) *route {
	r.params = append(r.params, p...)
	return r
}

type response struct {
	code    int
	message string
	model   any
}

var _ common.StatusCodeResponse = response{}

func (r response) Code() int       { return r.code }
func (r response) Message() string { return r.message }
func (r response) Model() any      { return r.model }

// param is a path, query or body parameter. dataType is a JSON type name
// ("string", "integer", "boolean"), as go-restful's Parameter.DataType.
type param struct {
	name        string
	description string
	dataType    string
	kind        common.ParameterKind
	required    bool
}

var _ common.Parameter = param{}

func (p param) Name() string               { return p.name }
func (p param) Description() string        { return p.description }
func (p param) Required() bool             { return p.required }
func (p param) Kind() common.ParameterKind { return p.kind }
func (p param) DataType() string           { return p.dataType }
func (p param) AllowMultiple() bool        { return false }

// pathParam and queryParam are go-restful's WebService.PathParameter and
// QueryParameter: strings unless told otherwise.
func pathParam(name, description string) param {
	return param{name: name, description: description, dataType: "string", kind: common.PathParameterKind, required: true}
}

func queryParam(name, description, dataType string) param {
	return param{name: name, description: description, dataType: dataType, kind: common.QueryParameterKind}
}
