// Package api is the wire contract of a peer's HTTPS API and the Go client
// for it: the request and response types, the client configuration file
// (admin.conf, SHOAL_CONFIG), and a Client that tries each server it knows.
//
// The configuration file is a kubeconfig, so kubectl reads a peer's
// admin.conf as it is; the full list of servers, which kubectl ignores,
// travels in the cluster's ServersExtension. LoadConfig also reads the
// shoal.dev/v1 files peers wrote before; Save writes only kubeconfigs.
//
// Errors travel as {"error": "...", "reason": "..."} bodies with an HTTP
// status; the client turns the status back into the internal/errdefs sentinel
// (a 401 is errdefs.ErrUnauthenticated, a 409 errdefs.ErrConflict), so callers
// test with errors.Is. The server side lives in package peer.
//
// api imports nothing of Shoal's but internal/errdefs; of client-go, only
// the kubeconfig types (k8s.io/client-go/tools/clientcmd/api/v1), whose
// dependencies the shoal binary links already.
package api
