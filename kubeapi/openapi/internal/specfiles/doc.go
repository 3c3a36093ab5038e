// Package specfiles is the layout of the OpenAPI documents kubeapi/openapi
// embeds, shared by the generator that writes them
// (kubeapi/openapi/gen) and the handler that serves them
// (kubeapi/openapi), so the two agree on names and hashes.
//
// Under the spec directory: v2.json.gz and v2.pb.gz, the OpenAPI v2
// document as JSON and as gnostic's protobuf; v3/<name>.json.gz and
// v3/<name>.pb.gz for each OpenAPI v3 document, <name> being its path
// with "/" as "__" ("apis__apps__v1"); and index.json, which gives each
// document's ETag. Everything but the index is gzipped.
//
// It imports only the standard library, and nothing of Shoal's.
package specfiles
