package peer

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/pki"
	"github.com/shoalproject/shoal/kubeapi"
	"github.com/shoalproject/shoal/peer/api"
)

// principal is who made a request.
type principal struct {
	kind string // "peer", "admin", "token" or "serviceaccount"
	name string
}

func (p *Peer) serve() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+api.PathHealthz, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("POST "+api.PathJoin, p.handle(nil, func(r *http.Request, _ principal) (any, error) { return p.admit(r) }))
	mux.Handle("GET "+api.PathMetrics, p.authenticated(promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{})))
	mux.Handle("GET /debug/pprof/", p.authenticated(http.HandlerFunc(pprof.Index)))
	mux.Handle("GET /debug/pprof/profile", p.authenticated(http.HandlerFunc(pprof.Profile)))
	mux.Handle("GET /debug/pprof/heap", p.authenticated(pprof.Handler("heap")))
	mux.Handle("GET "+api.PathMembers, p.handle(anyone, p.members))
	mux.Handle("GET "+api.PathShards, p.handle(anyone, p.shards))
	mux.Handle("GET "+api.PathTokens, p.handle(anyone, p.listTokens))
	mux.Handle("POST "+api.PathTokens, p.handle(anyone, p.createToken))
	mux.Handle("DELETE "+api.PathTokens+"/{id}", p.handle(anyone, p.revokeToken))
	mux.Handle("POST "+api.PathLeave, p.handle(anyone, p.leave))
	mux.Handle("POST "+api.PathRotateSecretKey, p.handle(anyone, p.rotateSecretKey))
	p.imageRoutes(mux)
	mux.Handle("POST "+api.PathInternalTokens, p.handle(peersOnly, p.exchangeTokens))
	mux.Handle("GET "+api.PathProxyRoutes, p.handle(peersOnly, p.proxyRoutes))
	mux.HandleFunc("POST /v1/internal/shards/{shard}/propose", p.shardPropose)
	mux.HandleFunc("POST "+api.PipelinePath, p.proposeStream)
	mux.Handle("POST /v1/internal/shards/{shard}/get", p.handle(peersOnly, p.shardGet))
	mux.Handle("POST /v1/internal/shards/{shard}/list", p.handle(peersOnly, p.shardList))
	mux.Handle("POST /v1/internal/shards/{shard}/status", p.handle(peersOnly, p.shardStatus))
	mux.HandleFunc("POST /v1/internal/shards/{shard}/watch", p.shardWatch)

	kube := p.kubeAPI()
	p.srv = &http.Server{
		Handler:           p.metrics.instrument(p.authenticateFirst(mux, kube)),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{
			Certificates: p.peerTLS.Certificates,
			ClientAuth:   tls.VerifyClientCertIfGiven,
			ClientCAs:    p.st.CA.Pool(),
			MinVersion:   tls.VersionTLS12,
		},
		ErrorLog: slogErrorLog(p.log),
	}
	// Shutdown waits for handlers to end, and a pipeline's handler ends
	// only when its stream does: it watches this to end its stream.
	var stopping context.CancelFunc
	p.srvStopping, stopping = context.WithCancel(context.Background())
	p.srv.RegisterOnShutdown(stopping)
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		if err := p.srv.ServeTLS(p.ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("api server stopped", "err", err)
		}
	}()
}

// authorize decides whether a principal may call a route.
type authorize func(principal) error

func anyone(principal) error { return nil }

func peersOnly(who principal) error {
	if who.kind != "peer" {
		return fmt.Errorf("%s %q: only peers may call this: %w", who.kind, who.name, errdefs.ErrForbidden)
	}
	return nil
}

// identify says who made a request: a client certificate that the CA signed
// (the TLS handshake has verified it) or a bearer API token.
func (p *Peer) identify(r *http.Request) (principal, error) {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		c := r.TLS.PeerCertificates[0]
		if isPeer(r.TLS.PeerCertificates) {
			return principal{kind: "peer", name: c.Subject.CommonName}, nil
		}
		if len(c.Subject.Organization) > 0 && c.Subject.Organization[0] == pki.OrgAdmins {
			return principal{kind: "admin", name: c.Subject.CommonName}, nil
		}
		return principal{}, fmt.Errorf("certificate %q has no Shoal role: %w", c.Subject.CommonName, errdefs.ErrForbidden)
	}
	if raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && looksLikeJWT(raw) {
		return p.authenticateServiceAccountToken(r.Context(), raw)
	}
	id, secret, ok := bearer(r)
	if !ok {
		return principal{}, fmt.Errorf("no client certificate and no bearer token: %w", errdefs.ErrUnauthenticated)
	}
	p.mu.Lock()
	_, err := p.st.Tokens.Authenticate(id, secret, UsageAPI, p.cfg.Now())
	p.mu.Unlock()
	if err != nil {
		return principal{}, err
	}
	return principal{kind: "token", name: id}, nil
}

// bearer takes "<id>.<secret>" (or the full K10 form) out of the
// Authorization header.
func bearer(r *http.Request) (id, secret string, ok bool) {
	h := r.Header.Get("Authorization")
	raw, found := strings.CutPrefix(h, "Bearer ")
	if !found {
		return "", "", false
	}
	t, err := ParseToken(raw)
	if err != nil {
		return "", "", false
	}
	return t.ID, t.Secret, true
}

func (p *Peer) authenticated(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := p.identify(r); err != nil {
			writeError(w, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// handle adapts a JSON handler: it authenticates (unless authz is nil, for
// the join route, which checks its own token), authorizes, calls fn and
// writes its answer or its error.
func (p *Peer) handle(authz authorize, fn func(*http.Request, principal) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var who principal
		if authz != nil {
			var err error
			if who, err = p.identify(r); err == nil {
				err = authz(who)
			}
			if err != nil {
				writeError(w, err)
				return
			}
		}
		out, err := fn(r, who)
		if err != nil {
			if errdefs.HTTPStatus(err) == http.StatusInternalServerError {
				p.log.Error("api call failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, err)
			return
		}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			status = http.StatusCreated
		}
		if out == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, status, out)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	status := errdefs.HTTPStatus(err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="shoal"`)
	}
	writeJSON(w, status, api.Status{Error: err.Error(), Reason: errdefs.Reason(err)})
}

// authenticateFirst answers 401 to any request that does not
// authenticate, known path or not, before routing (only /healthz and the
// join call, which checks its own token, are open), and sends the
// Kubernetes API's paths to kube.
func (p *Peer) authenticateFirst(mux *http.ServeMux, kube http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		open := r.URL.Path == api.PathHealthz || (r.URL.Path == api.PathJoin && r.Method == http.MethodPost)
		if !open {
			who, err := p.identify(r)
			if err == nil && who.kind == "serviceaccount" {
				if err := readOnly(r, who.name); err != nil {
					kubeapi.WriteStatus(w, r, err)
					return
				}
			}
			if err != nil {
				if kubeapi.Handles(r.URL.Path) || !strings.HasPrefix(r.URL.Path, "/v1/") {
					w.Header().Set("WWW-Authenticate", `Bearer realm="shoal"`)
					kubeapi.WriteStatus(w, r, apierrors.NewUnauthorized(err.Error()))
					return
				}
				writeError(w, err)
				return
			}
		}
		if kubeapi.Handles(r.URL.Path) {
			kube.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (p *Peer) members(r *http.Request, _ principal) (any, error) {
	held := map[string][]string{}
	if shards, err := p.shardInfos(r.Context()); err == nil {
		for _, s := range shards {
			for _, rep := range s.Replicas {
				mark := ""
				switch {
				case rep.Peer == s.Leader:
					mark = "*"
				case rep.NonVoting:
					mark = "~"
				}
				held[rep.Peer] = append(held[rep.Peer], fmt.Sprintf("%d%s", s.ID, mark))
			}
		}
	}
	out := api.MemberList{Self: p.cfg.Name}
	for _, m := range p.gossip.Members() {
		out.Members = append(out.Members, api.Member{
			Name:    m.Name,
			Address: m.GossipAddr(),
			Status:  string(m.Status),
			Since:   m.Since,
			Region:  m.Tags.Region,
			Zone:    m.Tags.Zone,
			API:     m.Tags.API,
			Raft:    m.Tags.Raft,
			Tunnel:  m.Tags.Tunnel,
			Version: m.Tags.Version,
			Shards:  held[m.Name],
		})
	}
	return out, nil
}

func (p *Peer) leave(r *http.Request, who principal) (any, error) {
	p.log.Info("leave requested through the API", "by", who.name)
	ctx, cancel := context.WithTimeout(r.Context(), leaveHandoverTimeout)
	defer cancel()
	report := p.handOver(ctx)
	report.Peer = p.cfg.Name
	select {
	case p.leaveReq <- struct{}{}:
	default:
	}
	return report, nil
}

// leaveHandoverTimeout bounds how long a leave waits for replicas to move.
const leaveHandoverTimeout = 2 * time.Minute

func (p *Peer) shards(r *http.Request, _ principal) (any, error) {
	return p.shardInfos(r.Context())
}

// shardInfos reads the shard map and asks each shard's replicas for its
// leader and applied index.
func (p *Peer) shardInfos(ctx context.Context) ([]api.ShardInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	recs, err := p.ctl.Records(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.ShardInfo, len(recs))
	var wg sync.WaitGroup
	for i, rec := range recs {
		info := api.ShardInfo{ID: rec.ID, Role: "objects"}
		if rec.ID == consensus.MetaShard {
			info.Role = "meta"
		}
		ids := make([]uint64, 0, len(rec.Replicas))
		for id := range rec.Replicas {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
		for _, id := range ids {
			rr := rec.Replicas[id]
			info.Replicas = append(info.Replicas, api.ReplicaInfo{ID: id, Peer: rr.Peer, Address: rr.Addr, NonVoting: rr.NonVoting})
		}
		out[i] = info
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := p.store.status(ctx, rec.ID)
			if err != nil {
				return
			}
			out[i].Term, out[i].Applied = st.Term, st.Applied
			if rr, ok := rec.Replicas[st.Leader]; ok {
				out[i].Leader = rr.Peer
			}
		}()
	}
	wg.Wait()
	return out, nil
}
