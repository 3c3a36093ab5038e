package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/netproxy"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
)

// A terminating pod leaves every peer's service proxy before its
// containers get SIGTERM (nodeagent.Unrouter). The node agent that stops
// the pod waits, in two steps, for:
//
//  1. no Endpoints object in the pod's namespace to list its address as
//     ready (the endpoints controller drops a pod once it is terminating),
//     by a linearizable read;
//  2. every live peer's proxy to answer that none of its routes has an
//     endpoint at that address, asked over the API (PathProxyRoutes).
//
// A proxy builds each plan from a linearizable read, so a plan begun after
// step 1 cannot route to the pod; one begun before it may still be applied,
// so a proxy says it is routed while it is planning. Members without an API
// (hollow nodes) run no proxy and are not asked; a peer that cannot be
// reached is asked again until it answers, leaves the live members, or the
// node agent's bound (nodeagent.Config.UnrouteLimit) passes.

// routing is what a peer's service proxy publishes for PathProxyRoutes.
type routing struct {
	px       atomic.Pointer[netproxy.Proxy] // nil while no proxy runs
	planning atomic.Int32                   // plans being built
}

func (r *routing) routesTo(ip string) api.ProxyRoutes {
	out := api.ProxyRoutes{Planning: r.planning.Load() > 0}
	if px := r.px.Load(); px != nil {
		out.Routes = px.RoutesTo(ip)
	}
	return out
}

func (p *Peer) proxyRoutes(r *http.Request, _ principal) (any, error) {
	return p.routing.routesTo(r.URL.Query().Get("ip")), nil
}

// unrouter is the node agent's nodeagent.Unrouter.
type unrouter struct{ p *Peer }

// unrouteBackoff is how often a pod's routing is asked about again: from
// the first value, doubling up to the second.
var unrouteBackoff = [2]time.Duration{10 * time.Millisecond, 200 * time.Millisecond}

func (u unrouter) Unroute(ctx context.Context, pod *workload.Pod) error {
	p, ip := u.p, pod.Status.PodIP
	wait := unrouteBackoff[0]
	pause := func() bool {
		ok := sleepCtx(ctx, wait)
		wait = min(2*wait, unrouteBackoff[1])
		return ok
	}
	for {
		listed, err := p.endpointsListing(ctx, pod.ObjectMeta.Namespace, ip)
		if err == nil && !listed {
			break
		}
		if !pause() {
			return fmt.Errorf("%s still in the ready endpoints (%v): %w", ip, err, ctx.Err())
		}
	}
	// Every member whose proxy may still run is asked: alive, suspect (a
	// busy peer) or leaving; only a failed or departed one routes nothing.
	running := func(st gossip.Status) bool { return st != gossip.StatusFailed && st != gossip.StatusLeft }
	pending := map[string]string{} // member name -> API address
	for _, m := range p.gossip.Members() {
		if running(m.Status) && m.Tags.API != "" {
			pending[m.Name] = m.Tags.API
		}
	}
	var last error
	wait = unrouteBackoff[0]
	for {
		alive := map[string]bool{}
		for _, m := range p.gossip.Members() {
			alive[m.Name] = running(m.Status)
		}
		for name, addr := range pending {
			if !alive[name] {
				delete(pending, name) // a dead proxy routes nothing
				continue
			}
			var r api.ProxyRoutes
			if name == p.cfg.Name {
				r = p.routing.routesTo(ip)
			} else {
				cctx, cancel := context.WithTimeout(ctx, time.Second)
				err := p.peers.get(addr).Do(cctx, http.MethodGet, api.PathProxyRoutes+"?ip="+url.QueryEscape(ip), nil, &r)
				cancel()
				if err != nil {
					last = fmt.Errorf("%s: %w", name, err)
					continue
				}
			}
			if !r.Routed() {
				delete(pending, name)
			}
		}
		if len(pending) == 0 {
			return nil
		}
		if !pause() {
			names := make([]string, 0, len(pending))
			for name := range pending {
				names = append(names, name)
			}
			slices.Sort(names)
			return errors.Join(fmt.Errorf("the service proxies of %v may still route to %s: %w", names, ip, ctx.Err()), last)
		}
	}
}

// endpointsListing says whether an Endpoints object of namespace lists ip
// as a ready address.
func (p *Peer) endpointsListing(ctx context.Context, namespace, ip string) (bool, error) {
	info, _ := workload.LookupKind("Endpoints")
	objs, _, err := consensus.ListShards(ctx, p.store, p.shardsFor(info), consensus.Filter{Kind: "Endpoints", Namespace: namespace}, true)
	if err != nil {
		return false, err
	}
	for _, o := range objs {
		var e workload.Endpoints
		if json.Unmarshal(o.Data, &e) != nil {
			continue
		}
		for _, s := range e.Subsets {
			for _, a := range s.Addresses {
				if a.IP == ip {
					return true, nil
				}
			}
		}
	}
	return false, nil
}
