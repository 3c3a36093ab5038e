// Command gen writes the OpenAPI documents kubeapi/openapi embeds: the
// OpenAPI v2 document and one OpenAPI v3 document per root path, made
// from the served resources (kubeapi.Resources) and the definitions
// openapi-gen generated from k8s.io/api's Go types
// (kubeapi/openapi/internal/definitions).
//
// # What it owns
//
// The shape of the documents: the routes kube-apiserver's installer would
// register for each resource and subresource its verbs allow (paths,
// operation ids, tags, query parameters, bodies, answers, media types,
// x-kubernetes-group-version-kind and x-kubernetes-action), discovery's
// routes, and the x-kubernetes-group-version-kind of every definition
// that is a kind. kube-openapi's builders (pkg/builder, pkg/builder3)
// turn those routes and the definitions into the documents; route.go
// implements their Route and RouteContainer without go-restful.
//
// # What it must not import
//
// It is a build tool, never linked into shoal: it may import the big
// generated definitions and the builders, which the shoal binary must
// not. It must not import peer, consensus, gossip or cmd; it reads the
// served resources from kubeapi only.
//
// # Running it
//
// `make openapi` (or `go generate ./kubeapi/openapi` after regenerating
// the definitions) runs it in kubeapi/openapi as
//
//	go run ./gen -dir spec
//
// TestCommittedDocumentsAreFresh fails when the committed documents are
// not what it would write.
package main
