package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Client calls a peer's API. It tries its servers in order and moves to the
// next one only when a server cannot be reached, never after a server has
// answered. Safe for concurrent use.
type Client struct {
	servers []string
	token   string
	http    *http.Client

	pipeMu sync.Mutex
	pipe   *pipeline // Propose's stream to the first server, opened on first use
}

// NewClient builds a client from a configuration; server, when not empty,
// replaces the configuration's server list (the CLI's --server).
func NewClient(cfg *Config, server string) (*Client, error) {
	tc, err := cfg.TLS()
	if err != nil {
		return nil, err
	}
	servers := cfg.Servers
	if server != "" {
		servers = []string{server}
	}
	return NewClientTLS(servers, tc, cfg.Token), nil
}

// NewClientTLS builds a client from parts: peers calling peers use it with
// their own certificate.
func NewClientTLS(servers []string, tc *tls.Config, token string) *Client {
	if tc != nil {
		// A transport edits its TLS config (it adds "h2" to NextProtos on
		// first use): clients that share one config must not share it.
		tc = tc.Clone()
	}
	tr := &http.Transport{
		TLSClientConfig:     tc,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	norm := make([]string, 0, len(servers))
	for _, s := range servers {
		if !strings.Contains(s, "://") {
			s = "https://" + s
		}
		norm = append(norm, strings.TrimRight(s, "/"))
	}
	return &Client{servers: norm, token: token, http: &http.Client{Transport: tr}}
}

// Close ends the proposal pipeline, if open, and releases idle connections.
func (c *Client) Close() {
	c.pipeMu.Lock()
	if c.pipe != nil {
		c.pipe.close()
		c.pipe = nil
	}
	c.pipeMu.Unlock()
	c.http.CloseIdleConnections()
}

// Do sends a JSON request and decodes a JSON answer into out (when not nil).
//
// A Raw in or *Raw out passes the body through as bytes instead of JSON
// (peers forward store batches in their binary encoding).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	contentType := "application/json"
	switch v := in.(type) {
	case nil:
	case Raw:
		body, contentType = v.Data, v.ContentType
	default:
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = b
	}
	var lastErr error
	for _, server := range c.servers {
		req, err := http.NewRequestWithContext(ctx, method, server+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		if in != nil {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("Accept", "application/json")
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			lastErr = unreachable(server, err)
			continue
		}
		return decode(resp, out)
	}
	return lastErr
}

func unreachable(server string, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if errors.Is(err, errdefs.ErrUnauthenticated) {
		return fmt.Errorf("%s: %w", server, err)
	}
	var cverr *tls.CertificateVerificationError
	if errors.As(err, &cverr) {
		return fmt.Errorf("%s: the server's certificate is not signed by this config's CA (%v): %w", server, cverr.Err, errdefs.ErrUnauthenticated)
	}
	return fmt.Errorf("%s: %v: %w", server, err, errdefs.ErrUnavailable)
}

func decode(resp *http.Response, out any) error {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read answer: %v: %w", err, errdefs.ErrUnavailable)
	}
	if resp.StatusCode >= 300 {
		var st Status
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &st) == nil {
			switch {
			case st.Error != "":
				msg = st.Error
			case st.Message != "":
				msg = st.Message
			}
		}
		sentinel := errdefs.FromHTTPStatus(resp.StatusCode)
		if sentinel == nil {
			return fmt.Errorf("%s (HTTP %d)", msg, resp.StatusCode)
		}
		return &RemoteError{Message: msg, Code: resp.StatusCode, Reason: st.Reason, sentinel: sentinel}
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*Raw); ok {
		raw.Data, raw.ContentType = b, resp.Header.Get("Content-Type")
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode answer: %v", err)
	}
	return nil
}

// Raw is a body that travels as bytes, not JSON.
type Raw struct {
	ContentType string
	Data        []byte
}

// ContentTypeBinary marks a store batch or result in its binary encoding.
const ContentTypeBinary = "application/octet-stream"

// RemoteError is an error the server answered with. Its text is the server's
// message alone; errors.Is matches the errdefs sentinel of its status.
type RemoteError struct {
	Message  string
	Code     int
	Reason   string // Kubernetes' StatusReason: NotFound, Conflict, ...
	sentinel error
}

func (e *RemoteError) Error() string { return e.Message }

// Unwrap lets errors.Is(err, errdefs.ErrNotFound) work.
func (e *RemoteError) Unwrap() error { return e.sentinel }

// Members lists the cluster's peers as the answering peer sees them.
func (c *Client) Members(ctx context.Context) (*MemberList, error) {
	var out MemberList
	return &out, c.Do(ctx, http.MethodGet, PathMembers, nil, &out)
}

// Version asks the answering peer who it is.
func (c *Client) Version(ctx context.Context) (*Version, error) {
	var out Version
	return &out, c.Do(ctx, http.MethodGet, PathVersion, nil, &out)
}

// CreateToken makes a join or API token.
func (c *Client) CreateToken(ctx context.Context, req TokenCreate) (*TokenCreated, error) {
	var out TokenCreated
	return &out, c.Do(ctx, http.MethodPost, PathTokens, req, &out)
}

// Tokens lists the cluster's tokens (never their secrets).
func (c *Client) Tokens(ctx context.Context) ([]TokenInfo, error) {
	var out []TokenInfo
	return out, c.Do(ctx, http.MethodGet, PathTokens, nil, &out)
}

// RevokeToken revokes a token by ID.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, PathTokens+"/"+url.PathEscape(id), nil, nil)
}

// Leave asks the answering peer to hand its replicas over, leave the
// cluster gracefully and stop. It answers once the handover is done.
func (c *Client) Leave(ctx context.Context) (*LeaveReport, error) {
	var out LeaveReport
	return &out, c.Do(ctx, http.MethodPost, PathLeave, nil, &out)
}

// Shards lists every shard with its replicas, leader and applied index.
func (c *Client) Shards(ctx context.Context) ([]ShardInfo, error) {
	var out []ShardInfo
	return out, c.Do(ctx, http.MethodGet, PathShards, nil, &out)
}

// Stream opens a long-lived GET (a watch) and returns its body; the caller
// reads it until it ends and closes it.
func (c *Client) Stream(ctx context.Context, path string) (io.ReadCloser, error) {
	return c.StreamBody(ctx, http.MethodGet, path, nil)
}

// StreamBody sends a request whose body (nil for none) streams while the
// answer streams back (HTTP/2 carries both at once: exec's stdin and its
// output). A body is sent to the first server only: it cannot be replayed.
func (c *Client) StreamBody(ctx context.Context, method, path string, body io.Reader) (io.ReadCloser, error) {
	var lastErr error
	servers := c.servers
	if body != nil {
		servers = servers[:1]
	}
	for _, server := range servers {
		req, err := http.NewRequestWithContext(ctx, method, server+path, body)
		if err != nil {
			return nil, err
		}
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			lastErr = unreachable(server, err)
			continue
		}
		if resp.StatusCode >= 300 {
			return nil, decode(resp, nil)
		}
		return resp.Body, nil
	}
	return nil, lastErr
}
