// Package kubeapi is the Kubernetes API every peer serves, for the kinds
// Shoal serves, so that stock kubectl, client-go and Helm work against any
// peer. It owns the HTTP contract as kube-apiserver keeps it, over a Store
// (store.go) that the peer implements on the sharded raft store and
// memstore implements in memory:
//
//   - discovery (discovery.go): /api, /apis, /apis/GROUP, the resource
//     lists, and aggregated discovery (apidiscovery.k8s.io/v2 and v2beta1),
//     all derived from Resources (resources.go); /version in Kubernetes'
//     shape with Shoal's fields beside it;
//   - content negotiation (negotiate.go): JSON, YAML, protobuf and CBOR
//     bodies and answers, Table (kubectl's server-side columns, from
//     kubeapi/printers) and PartialObjectMetadata(List) transformations;
//   - reads (read.go): get, list with label and field selectors (each
//     resource's supported fields, fields.go), limit and continue,
//     resourceVersion and resourceVersionMatch;
//   - watch (watch.go): Kubernetes' event framing, initial events for a
//     watch from "" or "0", sendInitialEvents with the initial-events-end
//     bookmark, periodic bookmarks, timeoutSeconds, 410 Gone as an ERROR
//     event, selectors turning objects that leave or join the selection
//     into DELETED and ADDED events;
//   - writes (write.go, patch.go): create, update, JSON, merge and
//     strategic merge patches, server-side apply with managed fields
//     (fieldmanager.go), dryRun=All, fieldValidation Strict, Warn (Warning
//     headers) and Ignore, fieldManager; workload's defaults and
//     validation, errors as Status objects naming the fields (status.go);
//   - deletes (delete.go): graceful pod deletion, finalizers, propagation
//     (Background, Foreground, Orphan) and garbage collection of owned
//     objects, a namespace's contents;
//   - subresources (subresource.go): status, scale, eviction, binding, and
//     the pod streams (log, exec, attach, portforward) handed to Streams.
//
// A query parameter a verb does not take is refused (400), never ignored.
// The server does not authenticate: the peer does, before any routing.
//
// kubeapi imports workload (the object model, its defaults and
// validation) and the k8s.io libraries; it must not import peer,
// consensus, gossip, netproxy, volumes or cmd.
package kubeapi
