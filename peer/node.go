package peer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"net/netip"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/kubeapi"
	"github.com/shoalproject/shoal/volumes"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/nodeagent"
)

// Every peer is a node: it registers a Node object (meta shard) with a pod
// CIDR of its own, and, when it has a container runtime, runs the pods
// bound to it through a node agent.

const (
	// DefaultClusterCIDR is split into a /24 per node: 4096 nodes.
	DefaultClusterCIDR = "10.32.0.0/12"
	// nodeHeartbeat is how often a node refreshes its Ready condition.
	nodeHeartbeat = 10 * time.Second
	// podCIDRClaim prefixes the ClusterSetting that claims a pod CIDR for
	// a node: creating it is what makes the CIDR that node's, atomically
	// with the Node, so two nodes never get the same one.
	podCIDRClaim   = "podcidr."
	maxPodsPerNode = 110
)

// nextPodCIDR returns the first /24 of cluster that is not in used. It is
// pure, for tests.
func nextPodCIDR(cluster netip.Prefix, used map[string]bool) (string, error) {
	if cluster.Bits() > 24 {
		return "", fmt.Errorf("cluster CIDR %s is smaller than one /24: %w", cluster, errdefs.ErrInvalid)
	}
	n := 1 << (24 - cluster.Bits())
	base := cluster.Masked().Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8
	for i := range n {
		a := start + uint32(i)<<8
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), 0}), 24)
		if !used[p.String()] {
			return p.String(), nil
		}
	}
	return "", fmt.Errorf("cluster CIDR %s: all %d pod CIDRs are taken: %w", cluster, n, errdefs.ErrUnavailable)
}

func claimName(cidr string) string {
	return podCIDRClaim + strings.NewReplacer(".", "-", "/", "-").Replace(cidr)
}

// registerNode makes sure this peer's Node exists with a pod CIDR, and
// returns the CIDR.
func (p *Peer) registerNode(ctx context.Context) (string, error) {
	key := consensus.Key{Kind: "Node", Name: p.cfg.Name}
	so, err := p.store.Get(ctx, consensus.MetaShard, key, true)
	if err == nil {
		var n workload.Node
		if err := json.Unmarshal(so.Data, &n); err != nil {
			return "", err
		}
		if n.Spec.PodCIDR != "" {
			return n.Spec.PodCIDR, nil
		}
	} else if !errors.Is(err, errdefs.ErrNotFound) {
		return "", err
	}
	cluster, err := netip.ParsePrefix(p.cfg.ClusterCIDR)
	if err != nil {
		return "", fmt.Errorf("cluster CIDR %q: %v: %w", p.cfg.ClusterCIDR, err, errdefs.ErrInvalid)
	}
	for range 20 {
		used, err := p.usedPodCIDRs(ctx)
		if err != nil {
			return "", err
		}
		cidr, err := nextPodCIDR(cluster, used)
		if err != nil {
			return "", err
		}
		node := p.nodeObject(cidr, nil)
		nso, err := stored(node)
		if err != nil {
			return "", err
		}
		claim := consensus.Object{Kind: "ClusterSetting", Name: claimName(cidr), Data: []byte(cidr)}
		_, err = p.store.Propose(ctx, consensus.MetaShard, consensus.Batch{Commands: []consensus.Command{
			{Op: consensus.OpCreate, Object: claim}, {Op: consensus.OpCreate, Object: nso},
		}})
		if err == nil {
			p.log.Info("registered node", "podCIDR", cidr)
			return cidr, nil
		}
		if !errors.Is(err, errdefs.ErrAlreadyExists) {
			return "", err
		}
		// Another node took that CIDR first, or this Node appeared
		// meanwhile: look again.
		if so, gerr := p.store.Get(ctx, consensus.MetaShard, key, true); gerr == nil {
			var n workload.Node
			if json.Unmarshal(so.Data, &n) == nil && n.Spec.PodCIDR != "" {
				return n.Spec.PodCIDR, nil
			}
		}
	}
	return "", fmt.Errorf("no pod CIDR after 20 tries: %w", errdefs.ErrConflict)
}

// usedPodCIDRs lists the pod CIDRs nodes have claimed.
func (p *Peer) usedPodCIDRs(ctx context.Context) (map[string]bool, error) {
	claims, err := p.store.List(ctx, consensus.MetaShard, consensus.Filter{Kind: "ClusterSetting"}, true)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, c := range claims.Objects {
		if strings.HasPrefix(c.Name, podCIDRClaim) {
			used[string(c.Data)] = true
		}
	}
	return used, nil
}

// nodeObject is this peer's Node as it reports itself; runtimeErr, when
// set, makes it NotReady with that message.
func (p *Peer) nodeObject(cidr string, runtimeErr error) *workload.Node {
	ready := workload.NodeCondition{Type: workload.NodeReady, Status: workload.ConditionTrue, Reason: "ShoalReady",
		Message: "shoal agent is posting ready status"}
	if p.cfg.Runtime == nil {
		ready.Status, ready.Reason, ready.Message = workload.ConditionFalse, "NoRuntime", "this peer runs no container runtime (start the agent with --runtime containerd)"
	} else if runtimeErr != nil {
		ready.Status, ready.Reason, ready.Message = workload.ConditionFalse, "RuntimeUnavailable", runtimeErr.Error()
	}
	return makeNode(nodeFacts{
		name: p.cfg.Name, addr: p.cfg.AdvertiseAddr, region: p.cfg.Region, zone: p.cfg.Zone, labels: p.cfg.Labels,
		milliCPU: int64(goruntime.NumCPU()) * 1000, memory: memTotal(), pods: maxPodsPerNode, ready: ready,
		extra: extraCapacity(p.cfg.Capacity, p.cfg.DataDir),
	}, cidr, p.cfg.Now())
}

// extraCapacity is what a node offers beside cpu, memory and pods: the
// configured resources, and ephemeral-storage, when not configured, the
// size of the file system that holds dir, as the kubelet reports its root
// file system (none when it cannot be read).
func extraCapacity(configured workload.ResourceList, dir string) workload.ResourceList {
	out := make(workload.ResourceList, len(configured)+1)
	for n, q := range configured {
		out[n] = q
	}
	if _, ok := out[corev1.ResourceEphemeralStorage]; !ok {
		if size := fsSize(dir); size > 0 {
			out[corev1.ResourceEphemeralStorage] = workload.NewQuantity(size, workload.BinarySI)
		}
	}
	return out
}

// fsSize is the size in bytes of the file system that holds dir, 0 when
// it cannot be read.
func fsSize(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0
	}
	return int64(st.Blocks) * int64(st.Bsize)
}

// nodeFacts is what a Node object says about its machine.
type nodeFacts struct {
	name, addr, region, zone string
	labels                   map[string]string // beyond the well-known ones
	milliCPU, memory, pods   int64
	// extra is the other resources the node offers (extended resources,
	// ephemeral-storage, huge pages), capacity and allocatable alike.
	extra workload.ResourceList
	ready workload.NodeCondition // type, status, reason and message; makeNode sets the times
}

// makeNode builds a Node object; pure.
func makeNode(f nodeFacts, cidr string, now time.Time) *workload.Node {
	now = now.UTC().Truncate(time.Second)
	labels := map[string]string{
		"kubernetes.io/hostname": f.name,
		"kubernetes.io/os":       goruntime.GOOS,
		"kubernetes.io/arch":     goruntime.GOARCH,
	}
	if f.region != "" {
		labels["topology.kubernetes.io/region"] = f.region
	}
	if f.zone != "" {
		labels["topology.kubernetes.io/zone"] = f.zone
	}
	for k, v := range f.labels {
		labels[k] = v
	}
	cpu := workload.NewMilliQuantity(f.milliCPU, workload.DecimalSI)
	mem := workload.NewQuantity(f.memory, workload.BinarySI)
	pods := workload.NewQuantity(f.pods, workload.DecimalSI)
	capacity := workload.ResourceList{workload.ResourceCPU: cpu, workload.ResourceMemory: mem, workload.ResourcePods: pods}
	allocatable := workload.ResourceList{workload.ResourceCPU: cpu, workload.ResourceMemory: mem, workload.ResourcePods: pods}
	for n, q := range f.extra {
		capacity[n], allocatable[n] = q, q
	}
	ready := f.ready
	ready.LastHeartbeatTime, ready.LastTransitionTime = workload.NewTime(now), workload.NewTime(now)
	return &workload.Node{
		TypeMeta:   workload.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: workload.ObjectMeta{Name: f.name, Labels: labels, UID: newUID(), CreationTimestamp: workload.NewTime(now)},
		Spec:       workload.NodeSpec{PodCIDR: cidr, PodCIDRs: []string{cidr}},
		Status: workload.NodeStatus{
			Capacity:    capacity,
			Allocatable: allocatable,
			Conditions:  []workload.NodeCondition{ready},
			Addresses: []workload.NodeAddress{
				{Type: workload.NodeInternalIP, Address: f.addr},
				{Type: workload.NodeHostName, Address: f.name},
			},
			NodeInfo: workload.NodeSystemInfo{KubeletVersion: kubeapi.NewVersionInfo(Version, "", "").GitVersion, OperatingSystem: goruntime.GOOS, Architecture: goruntime.GOARCH},
		},
	}
}

// memTotal reads the machine's memory from /proc/meminfo, in bytes.
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// heartbeat refreshes this peer's Node: status, labels, Ready condition
// (keeping its transition time while it does not change).
func (p *Peer) heartbeat(ctx context.Context, cidr string, runtimeErr error) error {
	key := consensus.Key{Kind: "Node", Name: p.cfg.Name}
	so, err := p.store.Get(ctx, consensus.MetaShard, key, true)
	if err != nil {
		return err
	}
	var cur workload.Node
	if err := json.Unmarshal(so.Data, &cur); err != nil {
		return err
	}
	// The peer owns its node's status, its own labels and pod CIDR; what
	// an operator set (other labels, annotations, taints, cordon) stays.
	fresh := p.nodeObject(cidr, runtimeErr)
	n := cur.DeepCopy()
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	for k, v := range fresh.Labels {
		n.Labels[k] = v
	}
	n.Spec.PodCIDR, n.Spec.PodCIDRs = fresh.Spec.PodCIDR, fresh.Spec.PodCIDRs
	n.Status = fresh.Status
	for _, c := range cur.Status.Conditions {
		if c.Type == workload.NodeReady && c.Status == n.Status.Conditions[0].Status {
			n.Status.Conditions[0].LastTransitionTime = c.LastTransitionTime
		}
	}
	n.ResourceVersion = ""
	nso, err := stored(n)
	if err != nil {
		return err
	}
	_, err = p.store.Propose(ctx, consensus.MetaShard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpUpdate, Object: nso, Precondition: so.ResourceVersion}}})
	if err != nil {
		return err
	}
	if was, ok := p.nodeCordoned.Swap(n.Spec.Unschedulable), p.nodeSeen.Swap(true); ok && was != n.Spec.Unschedulable {
		// As the kubelet reports a cordon or an uncordon.
		reason := "NodeSchedulable"
		if n.Spec.Unschedulable {
			reason = "NodeNotSchedulable"
		}
		p.recordEvent(workload.NewEvent(n, workload.EventNormal, reason, "Node "+n.Name+" status is now: "+reason, p.cfg.Now().UTC(), workload.EventSource{Component: "kubelet", Host: n.Name}))
	}
	return p.renewNodeLease(ctx)
}

// nodeLeaseSeconds is the node Lease's duration, as the kubelet's.
const nodeLeaseSeconds = 40

// renewNodeLease writes this peer's Lease in kube-node-lease, as the
// kubelet does (kubectl describe node shows it): its holder is the node,
// its renew time the heartbeat's.
func (p *Peer) renewNodeLease(ctx context.Context) error {
	k := consensus.Key{Kind: "Lease", Namespace: corev1.NamespaceNodeLease, Name: p.cfg.Name}
	shard := p.shardOf(k)
	now := metav1.NewMicroTime(p.cfg.Now().UTC())
	dur := int32(nodeLeaseSeconds)
	l := &workload.Lease{TypeMeta: workload.TypeMeta{APIVersion: "coordination.k8s.io/v1", Kind: "Lease"},
		ObjectMeta: workload.ObjectMeta{Namespace: k.Namespace, Name: k.Name},
		Spec:       workload.LeaseSpec{HolderIdentity: &p.cfg.Name, LeaseDurationSeconds: &dur, RenewTime: &now}}
	op, pre := consensus.OpCreate, uint64(0)
	cur, err := p.store.Get(ctx, shard, k, true)
	switch {
	case err == nil:
		var old workload.Lease
		if err := decodeInto(cur, &old); err != nil {
			return err
		}
		l.UID, l.CreationTimestamp = old.UID, old.CreationTimestamp
		op, pre = consensus.OpUpdate, cur.ResourceVersion
	case errors.Is(err, errdefs.ErrNotFound):
		l.UID, l.CreationTimestamp = newUID(), metav1.NewTime(now.Truncate(time.Second))
	default:
		return err
	}
	so, err := stored(l)
	if err != nil {
		return err
	}
	_, err = p.store.Propose(ctx, shard, consensus.Batch{Commands: []consensus.Command{{Op: op, Object: so, Precondition: pre}}})
	if errors.Is(err, errdefs.ErrConflict) || errors.Is(err, errdefs.ErrAlreadyExists) {
		return nil // written meanwhile (a slow earlier attempt): the next heartbeat renews it
	}
	return err
}

// cordonSelf sets this peer's node's spec.unschedulable, retrying while a
// heartbeat comes between.
func (p *Peer) cordonSelf(ctx context.Context) error {
	key := consensus.Key{Kind: "Node", Name: p.cfg.Name}
	for range 5 {
		so, err := p.store.Get(ctx, consensus.MetaShard, key, true)
		if err != nil {
			return err
		}
		var n workload.Node
		if err := json.Unmarshal(so.Data, &n); err != nil {
			return err
		}
		if n.Spec.Unschedulable {
			return nil
		}
		n.Spec.Unschedulable = true
		nso, err := stored(&n)
		if err != nil {
			return err
		}
		_, err = p.store.Propose(ctx, consensus.MetaShard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpUpdate, Object: nso, Precondition: so.ResourceVersion}}})
		if errors.Is(err, errdefs.ErrConflict) || (errors.Is(err, errdefs.ErrUnavailable) && ctx.Err() == nil) {
			continue
		}
		return err
	}
	return fmt.Errorf("node %s keeps changing: %w", key.Name, errdefs.ErrConflict)
}

// runNode registers this peer's Node, starts the node agent when the peer
// has a runtime, and keeps the Node's heartbeat until ctx ends.
func (p *Peer) runNode(ctx context.Context) {
	var cidr string
	for {
		var err error
		if cidr, err = p.registerNode(ctx); err == nil {
			break
		}
		p.log.Warn("register node", "err", err)
		if !sleepCtx(ctx, time.Second) {
			return
		}
	}
	// A cluster made by an earlier release lacks some of them
	// (kube-node-lease holds the node Leases).
	if err := p.ensureNamespaces(ctx); err != nil {
		p.log.Warn("system namespaces", "err", err)
	}
	var runtimeErr error
	if p.cfg.Runtime != nil {
		rt, err := p.cfg.Runtime(ctx, cidr)
		if err != nil {
			runtimeErr = err
			p.log.Error("container runtime unavailable: this node runs no pods", "err", err)
		} else {
			ps := podStore{p: p}
			clusterDNS := p.podDNSAddr(cidr)
			// What the Node reports, for resourceFieldRef values of limits left out.
			allocatable := p.nodeObject(cidr, nil).Status.Allocatable
			mounter := &volumes.Mounter{Root: p.dir.path(dirPodVolumes), Tmpfs: volumes.LinuxTmpfs{}, Now: p.cfg.Now,
				Creating: p.markCreated, Node: p.cfg.Name, Allocatable: allocatable}
			if p.nfsClient {
				mounter.NFS = volumes.LinuxNFS{}
			}
			agent, err := nodeagent.New(nodeagent.Config{
				Node: p.cfg.Name, HostIP: p.cfg.AdvertiseAddr, Runtime: rt, Pods: ps, Events: ps, Config: ps, Secrets: ps, Services: ps,
				Images: imageFetcher{p: p, rt: rt}, InsecureRegistries: p.cfg.InsecureRegistries, ClusterDNS: clusterDNS,
				Unrouter: unrouter{p}, Now: p.cfg.Now, Logger: p.log,
				Volumes: mounter, VolumeSources: ps, Allocatable: allocatable,
			})
			if err != nil {
				runtimeErr = err
			} else {
				p.nodeMu.Lock()
				p.agent, p.runtime = agent, rt
				p.nodeMu.Unlock()
				p.bg.Add(4)
				go func() { defer p.bg.Done(); _ = agent.Run(ctx) }()
				go func() { defer p.bg.Done(); p.serveTunnel(ctx, cidr) }()
				go func() { defer p.bg.Done(); p.serveDNS(ctx, clusterDNS) }()
				go func() { defer p.bg.Done(); p.reclaimVolumes(ctx) }()
			}
		}
	}
	for {
		if err := p.heartbeat(ctx, cidr, runtimeErr); err != nil && ctx.Err() == nil {
			p.log.Debug("node heartbeat", "err", err)
		}
		if err := p.pruneOwnLedger(ctx); err != nil && ctx.Err() == nil {
			p.log.Debug("prune capacity claims", "err", err)
		}
		if !sleepCtx(ctx, nodeHeartbeat) {
			return
		}
	}
}

// watchPods wakes this peer's scheduler and node agent on every pod change
// anywhere, so a new pod is placed, and a pod bound here started, without
// waiting for their next look; and the controllers on every change of a
// pod, a ReplicaSet or a Deployment, so a new Deployment gets its
// ReplicaSet, and that its pods, without waiting out a control period each.
func (p *Peer) watchPods(ctx context.Context) {
	info, err := workload.LookupKind("Pod")
	if err != nil {
		return
	}
	from := consensus.Version{}
	for ctx.Err() == nil {
		events, err := consensus.WatchShards(ctx, p.store, p.shardsFor(info), from, consensus.Filter{Kinds: []string{"Deployment", "Pod", "ReplicaSet"}})
		if err != nil {
			from = consensus.Version{} // too old, or the store is not ready: from now
			if !sleepCtx(ctx, time.Second) {
				return
			}
			continue
		}
		for e := range events {
			from = e.Version
			p.wakeControllers()
			if e.Event.Object.Kind != "Pod" {
				continue
			}
			p.wakeScheduler()
			p.nodeMu.Lock()
			agent := p.agent
			p.nodeMu.Unlock()
			if agent != nil {
				agent.Notify()
			}
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
