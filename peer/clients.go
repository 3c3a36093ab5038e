package peer

import (
	"crypto/tls"
	"sync"

	"github.com/shoalproject/shoal/peer/api"
)

// peerClients keeps one API client per peer address, so that calls between
// peers (forwarded store calls, image lists, token exchanges) share one
// HTTP/2 connection per peer instead of paying a TLS handshake each.
type peerClients struct {
	tls *tls.Config

	mu     sync.Mutex
	byAddr map[string]*api.Client
}

func newPeerClients(tc *tls.Config) *peerClients {
	return &peerClients{tls: tc, byAddr: map[string]*api.Client{}}
}

// get returns the client for a peer's API address, making it on first use.
func (c *peerClients) get(addr string) *api.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.byAddr[addr]
	if !ok {
		cl = api.NewClientTLS([]string{addr}, c.tls, "")
		c.byAddr[addr] = cl
	}
	return cl
}

// close drops every client's idle connections.
func (c *peerClients) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for addr, cl := range c.byAddr {
		cl.Close()
		delete(c.byAddr, addr)
	}
}
