// Package openapi serves the OpenAPI documents of Shoal's Kubernetes API,
// /openapi/v2 and /openapi/v3, as kube-apiserver serves its own, so that
// kubectl explain, kubectl's validation and dry-run checks, server-side
// apply and Helm work against a peer.
//
// # What it owns
//
//   - The documents, embedded gzipped (spec/): the OpenAPI v2 document
//     (swagger 2.0) and one OpenAPI v3 document per root path ("api/v1",
//     "apis/apps/v1", "apis/coordination.k8s.io/v1", ..., plus discovery's
//     "api", "apis", "apis/<group>" and "version"), each as JSON and as
//     gnostic's protobuf, with an index of their ETags.
//   - Handler, which serves them: content negotiation (JSON, or protobuf
//     when asked), ETag and If-None-Match, v3 URLs carrying a hash
//     that make the answer cacheable forever, gzip as embedded.
//   - Schemas, the v3 definitions by name, for server-side apply's type
//     converter (kubeapi.Config.Schemas); V2, V3 and V3Paths, the
//     documents' JSON.
//
// Nothing is decoded at init. The binary carries 0.65 MB of compressed
// documents (2.4 MB of JSON and 2.2 MB of protobuf uncompressed), in
// read-only data that a peer nobody asks never touches. Serving decodes nothing either: a client
// that takes gzip (Go's, so kubectl's) gets the embedded bytes, and a
// server that has answered every document keeps about 6 KB more heap.
// Only Schemas decodes, once: about 50 ms and 1.8 MB of heap, kept for
// the type converter.
//
// # Where the documents come from
//
// One source of truth: k8s.io/api's Go types, their doc comments and
// markers. kube-openapi's openapi-gen turns them into
// internal/definitions (Go, about a megabyte, which only the generator
// links). The generator (./gen) makes the documents from those
// definitions and kubeapi.Resources(): every path, operation, parameter
// and extension kube-apiserver's installer would make for each served
// resource and subresource, as its verbs allow. Adding a kind to the
// served resources adds its paths and definitions at the next
// regeneration; a kind from a Go package openapi-gen did not read makes
// the generator fail, saying so.
//
// # Regenerating
//
//	make openapi
//
// runs openapi-gen (go generate ./kubeapi/openapi/internal/definitions),
// then the generator (go generate ./kubeapi/openapi). Commit what
// changed under spec/ and internal/definitions/.
// TestCommittedDocumentsAreFresh (in ./gen) fails when the committed
// documents are not what the generator makes of the current resources.
//
// # What it must not import
//
// The server imports it, so it stays light: the standard library,
// goautoneg, kube-openapi's spec types (for Schemas), and
// internal/specfiles. Not the generated definitions, the builders or
// go-restful (TestPackageStaysLight checks), nor peer, consensus, gossip
// or cmd: it knows nothing of the cluster, only of documents.
package openapi
