// Package api is the wire contract of a peer's HTTPS API and the Go client
// for it: the request and response types, the client configuration file
// (admin.conf, SHOAL_CONFIG), and a Client that tries each server it knows.
//
// Errors travel as {"error": "...", "reason": "..."} bodies with an HTTP
// status; the client turns the status back into the internal/errdefs sentinel
// (a 401 is errdefs.ErrUnauthenticated, a 409 errdefs.ErrConflict), so callers
// test with errors.Is. The server side lives in package peer.
//
// api imports nothing of Shoal's but internal/errdefs and peer/pki.
package api
