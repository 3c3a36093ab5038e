package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/netproxy"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/controller"
)

// DefaultServiceCIDR is where cluster IPs come from, as Kubernetes' default.
const DefaultServiceCIDR = "10.96.0.0/12"

// A Service's cluster IP and NodePorts are claims in the meta shard: a
// ClusterSetting per address ("serviceip.10.96.0.10", "nodeport.30080"),
// created only if absent, so two services never share one whichever peers
// create them at once. The claim names its service's UID.
const (
	serviceIPClaim = "serviceip."
	nodePortClaim  = "nodeport."
	// allocateTries bounds the probing for a free address.
	allocateTries = 64
)

type addressClaim struct {
	Service string    `json:"service"` // namespace/name
	UID     string    `json:"uid"`
	At      time.Time `json:"at"` // when it was claimed, for the sweep
}

// claimSweepAge is how old a claim must be before the sweep may drop it
// for want of its service: older than any create still in flight.
const claimSweepAge = time.Minute

// allocateService gives a new Service its cluster IP and NodePorts: the
// ones its spec names, or free ones. On failure nothing stays claimed;
// on success the caller must call release if the Service is not stored.
func (p *Peer) allocateService(ctx context.Context, s *workload.Service) (release func(), err error) {
	var claimed []string
	release = func() {
		for _, name := range claimed {
			p.releaseClaim(context.WithoutCancel(ctx), name, string(s.ObjectMeta.UID))
		}
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	owner := addressClaim{Service: s.ObjectMeta.Namespace + "/" + s.ObjectMeta.Name, UID: string(s.ObjectMeta.UID), At: p.cfg.Now().UTC()}
	seed := hashOf(owner.Service)

	cidr, err := netip.ParsePrefix(p.cfg.ServiceCIDR)
	if err != nil {
		return release, fmt.Errorf("service CIDR %q: %v: %w", p.cfg.ServiceCIDR, err, errdefs.ErrInvalid)
	}
	switch ip := s.Spec.ClusterIP; {
	case s.Spec.Type == workload.ServiceTypeExternalName:
		// A DNS name only: no address, no port (as Kubernetes).
		return release, nil
	case ip == workload.ClusterIPNone:
		// Headless: DNS answers the pods' addresses.
	case ip != "":
		a, _ := netip.ParseAddr(ip) // validated
		if !cidr.Contains(a) {
			return release, errdefs.Newf(errdefs.ErrInvalid, "spec.clusterIP: Invalid value: %q: provided IP is not in the valid range. The range of valid IPs is %s", ip, cidr)
		}
		if err := p.claim(ctx, serviceIPClaim+ip, owner); err != nil {
			return release, claimError(err, "spec.clusterIP", ip, "provided IP is already allocated")
		}
		claimed = append(claimed, serviceIPClaim+ip)
	default:
		ip, err := p.claimFree(ctx, owner, seed, func(i uint64) string { return serviceIPClaim + nthAddr(cidr, i).String() }, cidrSize(cidr))
		if err != nil {
			return release, fmt.Errorf("spec.clusterIP: no free cluster IP in %s: %w", cidr, err)
		}
		claimed = append(claimed, ip)
		s.Spec.ClusterIP = ip[len(serviceIPClaim):]
	}
	s.Spec.ClusterIPs = []string{s.Spec.ClusterIP}
	if len(s.Spec.IPFamilies) == 0 {
		s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	}
	if s.Spec.IPFamilyPolicy == nil {
		single := corev1.IPFamilyPolicySingleStack
		s.Spec.IPFamilyPolicy = &single
	}
	if !workload.HasNodePorts(s) {
		return release, nil
	}
	for i := range s.Spec.Ports {
		port := &s.Spec.Ports[i]
		if port.NodePort != 0 {
			name := nodePortClaim + strconv.Itoa(int(port.NodePort))
			if err := p.claim(ctx, name, owner); err != nil {
				return release, claimError(err, fmt.Sprintf("spec.ports[%d].nodePort", i), port.NodePort, "provided port is already allocated")
			}
			claimed = append(claimed, name)
			continue
		}
		span := uint64(workload.NodePortMax - workload.NodePortMin + 1)
		name, err := p.claimFree(ctx, owner, seed+uint64(i)*7919, func(j uint64) string {
			return nodePortClaim + strconv.Itoa(workload.NodePortMin+int(j%span))
		}, span)
		if err != nil {
			return release, fmt.Errorf("spec.ports[%d].nodePort: no free NodePort: %w", i, err)
		}
		claimed = append(claimed, name)
		n, _ := strconv.Atoi(name[len(nodePortClaim):])
		port.NodePort = int32(n)
	}
	return release, nil
}

// releaseService drops the claims of a deleted Service.
func (p *Peer) releaseService(ctx context.Context, s *workload.Service) {
	if s.Spec.ClusterIP != "" {
		p.releaseClaim(ctx, serviceIPClaim+s.Spec.ClusterIP, string(s.ObjectMeta.UID))
	}
	for _, port := range s.Spec.Ports {
		if port.NodePort != 0 {
			p.releaseClaim(ctx, nodePortClaim+strconv.Itoa(int(port.NodePort)), string(s.ObjectMeta.UID))
		}
	}
}

// claimFree claims the first free name of a probe that starts at seed.
func (p *Peer) claimFree(ctx context.Context, owner addressClaim, seed uint64, name func(uint64) string, size uint64) (string, error) {
	for i := range uint64(min(allocateTries, size)) {
		n := name((seed + i) % size)
		err := p.claim(ctx, n, owner)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, errdefs.ErrAlreadyExists) {
			return "", err
		}
	}
	return "", errdefs.Newf(errdefs.ErrConflict, "the %d addresses tried are all taken", min(allocateTries, size))
}

func (p *Peer) claim(ctx context.Context, name string, owner addressClaim) error {
	data, err := json.Marshal(owner)
	if err != nil {
		return err
	}
	_, err = p.store.Propose(ctx, consensus.MetaShard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpCreate,
		Object: consensus.Object{Kind: "ClusterSetting", Name: name, Data: data}}}})
	return err
}

// releaseClaim deletes a claim if it is still uid's.
func (p *Peer) releaseClaim(ctx context.Context, name, uid string) {
	k := consensus.Key{Kind: "ClusterSetting", Name: name}
	so, err := p.store.Get(ctx, consensus.MetaShard, k, true)
	if err != nil {
		return
	}
	var c addressClaim
	if json.Unmarshal(so.Data, &c) != nil || c.UID != uid {
		return
	}
	_, err = p.store.Propose(ctx, consensus.MetaShard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpDelete,
		Object: consensus.Object{Kind: "ClusterSetting", Name: name}, Precondition: so.ResourceVersion}}})
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) && !errors.Is(err, errdefs.ErrConflict) {
		p.log.Warn("could not release a service address", "claim", name, "err", err)
	}
}

func claimError(err error, field string, value any, taken string) error {
	if errors.Is(err, errdefs.ErrAlreadyExists) {
		return errdefs.Newf(errdefs.ErrInvalid, "%s: Invalid value: %v: %s", field, value, taken)
	}
	return err
}

// cidrSize is how many addresses of a prefix can be handed out: all but the
// network address, the first host (Kubernetes keeps it for its API
// service) and the broadcast address, capped at 2^20.
func cidrSize(c netip.Prefix) uint64 {
	bits := min(32-c.Bits(), 20)
	return max(uint64(1)<<bits, 4) - 3
}

// nthAddr is the i-th address cidrSize counts: the prefix's third onwards.
func nthAddr(c netip.Prefix, i uint64) netip.Addr {
	b := c.Masked().Addr().As4()
	n := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	n += 2 + i
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

func hashOf(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// released gives back what a deleted object held: a Service's addresses,
// and its Endpoints go with it.
func (p *Peer) released(ctx context.Context, so consensus.Object) {
	if so.Kind != "Service" {
		return
	}
	var s workload.Service
	if decodeInto(so, &s) == nil {
		p.releaseService(ctx, &s)
	}
	k := consensus.Key{Kind: "Endpoints", Namespace: so.Namespace, Name: so.Name}
	_, err := p.store.Propose(ctx, p.shardOf(k), consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpDelete, Object: consensus.Object{Kind: k.Kind, Namespace: k.Namespace, Name: k.Name}}}})
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		p.log.Warn("could not delete a deleted service's endpoints", "service", so.Namespace+"/"+so.Name, "err", err)
	}
}

// keepServiceAddrs carries a stored Service's cluster IP and NodePorts
// into its update: they are the service's for life. Naming another one is
// refused, as Kubernetes refuses a changed clusterIP.
func keepServiceAddrs(next *workload.Service, cur consensus.Object) error {
	var old workload.Service
	if err := decodeInto(cur, &old); err != nil {
		return err
	}
	if next.Spec.Type != old.Spec.Type {
		return errdefs.Newf(errdefs.ErrInvalid, "spec.type: Invalid value: %q: changing a service's type is not supported yet; delete and create the service", next.Spec.Type)
	}
	if ip := next.Spec.ClusterIP; ip != "" && ip != old.Spec.ClusterIP {
		return errdefs.Newf(errdefs.ErrInvalid, "spec.clusterIP: Invalid value: %q: field is immutable", ip)
	}
	next.Spec.ClusterIP, next.Spec.ClusterIPs = old.Spec.ClusterIP, old.Spec.ClusterIPs
	if len(next.Spec.IPFamilies) == 0 {
		next.Spec.IPFamilies = old.Spec.IPFamilies
	}
	if next.Spec.IPFamilyPolicy == nil {
		next.Spec.IPFamilyPolicy = old.Spec.IPFamilyPolicy
	}
	held := map[int32]int32{} // port -> node port
	for _, p := range old.Spec.Ports {
		held[p.Port] = p.NodePort
	}
	for i := range next.Spec.Ports {
		np := &next.Spec.Ports[i]
		was := held[np.Port]
		switch {
		case np.NodePort == 0:
			np.NodePort = was
		case np.NodePort != was:
			return errdefs.Newf(errdefs.ErrInvalid, "spec.ports[%d].nodePort: Invalid value: %d: changing a NodePort is not supported; delete and create the service", i, np.NodePort)
		}
	}
	return nil
}

// endpointsPass keeps the Endpoints of a shard's Services: the pods their
// selectors pick, from every object shard, ready or not (the shard's leader
// runs it with the other controllers, woken by every pod change).
func (p *Peer) endpointsPass(ctx context.Context, services []*workload.Service) error {
	info, err := workload.LookupKind("Pod")
	if err != nil {
		return err
	}
	podsOf := map[string][]*workload.Pod{} // by namespace
	var errs []error
	for _, s := range services {
		ns := s.ObjectMeta.Namespace
		if _, ok := podsOf[ns]; !ok {
			objs, _, err := consensus.ListShards(ctx, p.store, p.shardsFor(info), consensus.Filter{Kind: "Pod", Namespace: ns}, true)
			if err != nil {
				return err
			}
			podsOf[ns] = p.pods.decode(objs)
		}
		want := controller.PlanEndpoints(s, podsOf[ns])
		if want == nil {
			continue
		}
		errs = append(errs, p.putEndpoints(ctx, want))
	}
	return errors.Join(errs...)
}

// putEndpoints stores e unless the stored Endpoints already say the same.
func (p *Peer) putEndpoints(ctx context.Context, e *workload.Endpoints) error {
	k := consensus.Key{Kind: "Endpoints", Namespace: e.ObjectMeta.Namespace, Name: e.ObjectMeta.Name}
	shard := p.shardOf(k)
	cur, err := p.store.Get(ctx, shard, k, true)
	op, pre := consensus.OpCreate, uint64(0)
	switch {
	case err == nil:
		var old workload.Endpoints
		if decodeInto(cur, &old) == nil && statusEqual(old.Subsets, e.Subsets) && statusEqual(old.ObjectMeta.Labels, e.ObjectMeta.Labels) {
			return nil
		}
		e.ObjectMeta.UID, e.ObjectMeta.CreationTimestamp = old.ObjectMeta.UID, old.ObjectMeta.CreationTimestamp
		op, pre = consensus.OpUpdate, cur.ResourceVersion
	case errors.Is(err, errdefs.ErrNotFound):
		now := p.cfg.Now().UTC().Truncate(time.Second)
		e.ObjectMeta.UID, e.ObjectMeta.CreationTimestamp = newUID(), workload.NewTime(now)
	default:
		return err
	}
	so, err := stored(e)
	if err != nil {
		return err
	}
	_, err = p.store.Propose(ctx, shard, consensus.Batch{Commands: []consensus.Command{{Op: op, Object: so, Precondition: pre}}})
	if errors.Is(err, errdefs.ErrConflict) || errors.Is(err, errdefs.ErrAlreadyExists) {
		return nil // another pass wrote first; the next one looks again
	}
	return err
}

// sweepClaims drops the address claims of services that are gone: a peer
// that died between claiming and storing its service leaves one behind.
// The meta shard's leader runs it with the node lifecycle pass.
func (p *Peer) sweepClaims(ctx context.Context) error {
	lr, err := p.store.List(ctx, consensus.MetaShard, consensus.Filter{Kind: "ClusterSetting"}, true)
	if err != nil {
		return err
	}
	now := p.cfg.Now()
	var stale []consensus.Object
	var claims []addressClaim
	for _, so := range lr.Objects {
		var c addressClaim
		if !(strings.HasPrefix(so.Name, serviceIPClaim) || strings.HasPrefix(so.Name, nodePortClaim)) || json.Unmarshal(so.Data, &c) != nil || now.Sub(c.At) < claimSweepAge {
			continue
		}
		stale, claims = append(stale, so), append(claims, c)
	}
	if len(stale) == 0 {
		return nil
	}
	info, err := workload.LookupKind("Service")
	if err != nil {
		return err
	}
	objs, _, err := consensus.ListShards(ctx, p.store, p.shardsFor(info), consensus.Filter{Kind: "Service"}, true)
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, so := range objs {
		var s workload.Service
		if decodeInto(so, &s) == nil {
			live[string(s.ObjectMeta.UID)] = true
		}
	}
	var errs []error
	for i, so := range stale {
		if live[claims[i].UID] {
			continue
		}
		_, err := p.store.Propose(ctx, consensus.MetaShard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpDelete,
			Object: consensus.Object{Kind: "ClusterSetting", Name: so.Name}, Precondition: so.ResourceVersion}}})
		if err != nil && !errors.Is(err, errdefs.ErrNotFound) && !errors.Is(err, errdefs.ErrConflict) {
			errs = append(errs, err)
			continue
		}
		p.log.Info("dropped the address claim of a service that is gone", "claim", so.Name, "service", claims[i].Service)
	}
	return errors.Join(errs...)
}

// loadBalancerPass writes the status of a shard's LoadBalancer Services
// that Shoal serves (netproxy.ServedLoadBalancer): the Ready nodes'
// addresses, where every peer's proxy answers on the service's ports. A
// Service with another loadBalancerClass is left Pending, as Kubernetes
// leaves it for that implementation.
func (p *Peer) loadBalancerPass(ctx context.Context, shard uint64, services []*workload.Service) error {
	var lbs []*workload.Service
	for _, s := range services {
		if netproxy.ServedLoadBalancer(s) {
			lbs = append(lbs, s)
		}
	}
	if len(lbs) == 0 {
		return nil
	}
	lr, err := p.store.List(ctx, consensus.MetaShard, consensus.Filter{Kind: "Node"}, false)
	if err != nil {
		return err
	}
	var nodes []*workload.Node
	for _, so := range lr.Objects {
		var n workload.Node
		if decodeInto(so, &n) == nil {
			nodes = append(nodes, &n)
		}
	}
	ingress := controller.LoadBalancerIngress(nodes)
	var errs []error
	for _, s := range lbs {
		if statusEqual(s.Status.LoadBalancer.Ingress, ingress) {
			continue
		}
		s.Status.LoadBalancer.Ingress = ingress
		if err := p.updateIn(ctx, shard, s); err != nil && !errors.Is(err, errdefs.ErrConflict) && !errors.Is(err, errdefs.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
