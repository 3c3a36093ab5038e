package peer

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/kubeapi"
	"github.com/shoalproject/shoal/workload"
)

// Service account tokens are Kubernetes' bound tokens: JWTs (ES256, signed
// with the cluster CA's key, which every peer holds) naming the account
// and, for a pod's projected token, the pod. Any peer issues them and any
// peer checks them; the API takes one as the bearer credential of
// system:serviceaccount:NAMESPACE:NAME, which may only read until the
// security issue brings authorisation.

// saIssuer is the tokens' issuer and their default audience, as a
// Kubernetes cluster's.
const saIssuer = "https://kubernetes.default.svc.cluster.local"

// saTokenMinTTL is the shortest lifetime a token may ask for, as
// Kubernetes' TokenRequest.
const saTokenMinTTL = 10 * time.Minute

// saClaims are the private claims Kubernetes puts in a bound token.
type saClaims struct {
	Kubernetes struct {
		Namespace      string `json:"namespace"`
		ServiceAccount struct {
			Name string `json:"name"`
			UID  string `json:"uid"`
		} `json:"serviceaccount"`
		Pod *struct {
			Name string `json:"name"`
			UID  string `json:"uid"`
		} `json:"pod,omitempty"`
		Node *struct {
			Name string `json:"name"`
		} `json:"node,omitempty"`
	} `json:"kubernetes.io"`
}

// serviceAccountName is the user a service account authenticates as.
func serviceAccountName(ns, name string) string {
	return "system:serviceaccount:" + ns + ":" + name
}

// issueServiceAccountToken signs a token for the service account ns/name,
// bound to pod when it is given, for audiences (none: the cluster's API),
// expiring after ttl (at least saTokenMinTTL). The account must exist.
func (p *Peer) issueServiceAccountToken(ctx context.Context, ns, name string, pod *workload.Pod, audiences []string, ttl time.Duration) (string, time.Time, error) {
	var sa workload.ServiceAccount
	k := consensus.Key{Kind: "ServiceAccount", Namespace: ns, Name: name}
	so, err := p.store.Get(ctx, p.shardOf(k), k, false)
	if err == nil {
		err = decodeInto(so, &sa)
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("serviceaccount %s/%s: %w", ns, name, err)
	}
	if len(audiences) == 0 {
		audiences = []string{saIssuer}
	}
	ttl = max(ttl, saTokenMinTTL)
	now := p.cfg.Now()
	exp := now.Add(ttl).Truncate(time.Second)
	p.mu.Lock()
	key := p.st.CA.Key
	p.mu.Unlock()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", time.Time{}, err
	}
	var priv saClaims
	priv.Kubernetes.Namespace = ns
	priv.Kubernetes.ServiceAccount.Name, priv.Kubernetes.ServiceAccount.UID = name, string(sa.UID)
	if pod != nil {
		priv.Kubernetes.Pod = &struct {
			Name string `json:"name"`
			UID  string `json:"uid"`
		}{pod.Name, string(pod.UID)}
		if pod.Spec.NodeName != "" {
			priv.Kubernetes.Node = &struct {
				Name string `json:"name"`
			}{pod.Spec.NodeName}
		}
	}
	std := jwt.Claims{Issuer: saIssuer, Subject: serviceAccountName(ns, name), Audience: audiences,
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(exp)}
	raw, err := jwt.Signed(signer).Claims(std).Claims(priv).Serialize()
	return raw, exp, err
}

// looksLikeJWT tells a JWT from Shoal's own "<id>.<secret>" API tokens.
func looksLikeJWT(raw string) bool {
	return strings.Count(raw, ".") == 2 && strings.HasPrefix(raw, "eyJ")
}

// authenticateServiceAccountToken checks a bearer JWT: signed by the
// cluster CA, issued for the cluster's API, not expired, for a service
// account that still exists with the same uid (a deleted and remade
// account's old tokens no longer work).
func (p *Peer) authenticateServiceAccountToken(ctx context.Context, raw string) (principal, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return principal{}, fmt.Errorf("bearer token: %v: %w", err, errdefs.ErrUnauthenticated)
	}
	p.mu.Lock()
	pub := p.st.CA.Key.Public()
	p.mu.Unlock()
	var std jwt.Claims
	var priv saClaims
	if err := tok.Claims(pub, &std, &priv); err != nil {
		return principal{}, fmt.Errorf("bearer token: %v: %w", err, errdefs.ErrUnauthenticated)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: saIssuer, AnyAudience: jwt.Audience{saIssuer}, Time: p.cfg.Now()}, time.Minute); err != nil {
		return principal{}, fmt.Errorf("service account token: %v: %w", err, errdefs.ErrUnauthenticated)
	}
	k8s := priv.Kubernetes
	k := consensus.Key{Kind: "ServiceAccount", Namespace: k8s.Namespace, Name: k8s.ServiceAccount.Name}
	so, err := p.store.Get(ctx, p.shardOf(k), k, false)
	var sa workload.ServiceAccount
	if err == nil {
		err = decodeInto(so, &sa)
	}
	if err != nil || string(sa.UID) != k8s.ServiceAccount.UID {
		return principal{}, fmt.Errorf("service account token: serviceaccount %s/%s is gone: %w", k8s.Namespace, k8s.ServiceAccount.Name, errdefs.ErrUnauthenticated)
	}
	return principal{kind: "serviceaccount", name: serviceAccountName(k8s.Namespace, k8s.ServiceAccount.Name)}, nil
}

// ServiceAccountToken serves projected volumes' token files (the
// volumes.TokenSource of this peer's node agent).
func (s podStore) ServiceAccountToken(ctx context.Context, pod *workload.Pod, serviceAccount, audience string, expiration time.Duration) ([]byte, error) {
	var auds []string
	if audience != "" {
		auds = []string{audience}
	}
	tok, _, err := s.p.issueServiceAccountToken(ctx, pod.Namespace, serviceAccount, pod, auds, expiration)
	return []byte(tok), err
}

// readOnly is what a service account may do until Shoal has
// authorisation: read the Kubernetes API (get, list, watch, logs), nothing
// else; a refusal is kube-apiserver's 403 ("User ... cannot create
// resource ...").
func readOnly(r *http.Request, user string) *apierrors.StatusError {
	path := r.URL.Path
	group, rest := "", ""
	switch {
	case strings.HasPrefix(path, "/api/v1/"):
		rest = strings.TrimPrefix(path, "/api/v1/")
	case strings.HasPrefix(path, "/apis/"):
		parts := strings.SplitN(strings.TrimPrefix(path, "/apis/"), "/", 3)
		if len(parts) == 3 {
			group, rest = parts[0], parts[2]
		}
	case kubeapi.Handles(path) && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		return nil // discovery, OpenAPI, /version
	default:
		return apierrors.NewForbidden(schema.GroupResource{}, "", fmt.Errorf("User %q cannot use the Shoal API at %s", user, path))
	}
	seg := strings.Split(rest, "/")
	ns := ""
	if len(seg) >= 2 && seg[0] == "namespaces" && len(seg) > 2 {
		ns, seg = seg[1], seg[2:]
	}
	resource, name, sub := seg[0], "", ""
	if len(seg) > 1 {
		name = seg[1]
	}
	if len(seg) > 2 {
		sub = seg[2]
	}
	reads := r.Method == http.MethodGet || r.Method == http.MethodHead
	if reads && sub != "exec" && sub != "attach" && sub != "portforward" && sub != "proxy" {
		return nil
	}
	verb := map[string]string{http.MethodPost: "create", http.MethodPut: "update", http.MethodPatch: "patch", http.MethodDelete: "delete"}[r.Method]
	if verb == "delete" && name == "" {
		verb = "deletecollection"
	}
	if verb == "" || sub == "exec" || sub == "attach" || sub == "portforward" || sub == "proxy" {
		verb = "create"
	}
	what := resource
	if sub != "" {
		what += "/" + sub
	}
	msg := fmt.Sprintf("User %q cannot %s resource %q in API group %q", user, verb, what, group)
	if ns != "" {
		msg += fmt.Sprintf(" in the namespace %q", ns)
	} else {
		msg += " at the cluster scope"
	}
	err := apierrors.NewForbidden(schema.GroupResource{Group: group, Resource: resource}, name, fmt.Errorf("%s", msg))
	// kube words it "<resource> "<name>" is forbidden: User ...".
	return err
}

// tokenIssuer serves the API's TokenRequests.
type tokenIssuer struct{ p *Peer }

func (t tokenIssuer) IssueToken(ctx context.Context, ns, name string, audiences []string, boundPod string, ttl time.Duration) (string, time.Time, error) {
	var pod *workload.Pod
	if boundPod != "" {
		info, _ := workload.LookupKind("Pod")
		_, so, err := t.p.locate(ctx, target{info: info, ns: ns, name: boundPod}, false)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("pod %s/%s: %w", ns, boundPod, err)
		}
		pod = &workload.Pod{}
		if err := decodeInto(so, pod); err != nil {
			return "", time.Time{}, err
		}
	}
	return t.p.issueServiceAccountToken(ctx, ns, name, pod, audiences, ttl)
}
