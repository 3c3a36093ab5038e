package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/nodeagent"
)

// podStore gives the node agent its pods, events and config maps from the
// replicated store: the agent's nodeagent.Pods, Recorder and ConfigMaps.
type podStore struct {
	p    *Peer
	node string // the node whose agent it serves, for events; "" is the peer's own
}

var (
	_ nodeagent.Pods       = podStore{}
	_ nodeagent.Recorder   = podStore{}
	_ nodeagent.ConfigMaps = podStore{}
)

// podShard is the shard a pod lives in: its Deployment's, or its own
// name's for a bare pod.
func (p *Peer) podShard(pod *workload.Pod) uint64 {
	return p.shardOfObject("Pod", &pod.ObjectMeta)
}

func decodePod(so consensus.Object) (workload.Pod, error) {
	var pod workload.Pod
	if err := json.Unmarshal(so.Data, &pod); err != nil {
		return pod, fmt.Errorf("pod %s/%s: stored form: %v: %w", so.Namespace, so.Name, err, errdefs.ErrInvalid)
	}
	pod.ObjectMeta.ResourceVersion = strconv.FormatUint(so.ResourceVersion, 10)
	return pod, nil
}

// Bound lists the pods bound to node, from this peer's replicas where it
// has them (a stale read: the agent looks again every second).
func (s podStore) Bound(ctx context.Context, node string) ([]workload.Pod, error) {
	info, err := workload.LookupKind("Pod")
	if err != nil {
		return nil, err
	}
	objs, _, err := consensus.ListShards(ctx, s.p.store, s.p.shardsFor(info), consensus.Filter{Kind: "Pod"}, false)
	if err != nil {
		return nil, err
	}
	var out []workload.Pod
	for _, so := range objs {
		pod, err := decodePod(so)
		if err != nil {
			s.p.log.Warn("skipping a pod that does not decode", "err", err)
			continue
		}
		if pod.Spec.NodeName == node {
			out = append(out, pod)
		}
	}
	return out, nil
}

// UpdateStatus replaces the stored pod's status, a compare-and-swap on the
// pod's resourceVersion.
func (s podStore) UpdateStatus(ctx context.Context, pod *workload.Pod) (*workload.Pod, error) {
	rv, err := strconv.ParseUint(pod.ObjectMeta.ResourceVersion, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s: resourceVersion %q: %w", pod.ObjectMeta.Namespace, pod.ObjectMeta.Name, pod.ObjectMeta.ResourceVersion, errdefs.ErrInvalid)
	}
	so, err := stored(pod)
	if err != nil {
		return nil, err
	}
	res, err := s.p.store.Propose(ctx, s.p.podShard(pod), consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpUpdate, Object: so, Precondition: rv}}})
	if err != nil {
		return nil, err
	}
	// What was stored is pod at its new version: no need to decode it back.
	out := *pod
	out.ObjectMeta.ResourceVersion = strconv.FormatUint(res.Objects[0].ResourceVersion, 10)
	return &out, nil
}

// Remove deletes a terminated pod, if the stored pod is still the one with
// pod's UID.
func (s podStore) Remove(ctx context.Context, pod *workload.Pod) error {
	key := consensus.Key{Kind: "Pod", Namespace: pod.ObjectMeta.Namespace, Name: pod.ObjectMeta.Name}
	shard := s.p.podShard(pod)
	for range 5 {
		so, err := s.p.store.Get(ctx, shard, key, true)
		if err != nil {
			return err
		}
		cur, err := decodePod(so)
		if err != nil {
			return err
		}
		if cur.ObjectMeta.UID != pod.ObjectMeta.UID {
			return nil // a new pod of that name: not ours to remove
		}
		_, err = s.p.store.Propose(ctx, shard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpDelete, Object: consensus.Object{Kind: "Pod", Namespace: key.Namespace, Name: key.Name}, Precondition: so.ResourceVersion}}})
		if !errors.Is(err, errdefs.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("remove pod %s/%s: it keeps changing: %w", key.Namespace, key.Name, errdefs.ErrConflict)
}

// Event records an event about a pod, written in the background
// (events.go): an event is worth less than the work it reports.
func (s podStore) Event(_ context.Context, pod *workload.Pod, eventType, reason, message string) {
	host := s.node
	if host == "" {
		host = s.p.cfg.Name
	}
	s.p.recordEvent(workload.NewEvent(pod, eventType, reason, message, s.p.cfg.Now().UTC(), workload.EventSource{Component: "kubelet", Host: host}))
}

// ConfigMap reads a config map for a pod's environment.
// Services lists a namespace's services (a local read: the environment of
// a container being started need not wait for a round with the leader).
func (s podStore) Services(ctx context.Context, namespace string) ([]*workload.Service, error) {
	info, err := workload.LookupKind("Service")
	if err != nil {
		return nil, err
	}
	objs, _, err := consensus.ListShards(ctx, s.p.store, s.p.shardsFor(info), consensus.Filter{Kind: "Service", Namespace: namespace}, false)
	if err != nil {
		return nil, err
	}
	out := make([]*workload.Service, 0, len(objs))
	for _, so := range objs {
		var svc workload.Service
		if json.Unmarshal(so.Data, &svc) == nil {
			out = append(out, &svc)
		}
	}
	return out, nil
}

// Claim implements volumes.Sources.
func (s podStore) Claim(ctx context.Context, namespace, name string) (*workload.PersistentVolumeClaim, error) {
	var c workload.PersistentVolumeClaim
	if err := s.get(ctx, consensus.Key{Kind: "PersistentVolumeClaim", Namespace: namespace, Name: name}, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Volume implements volumes.Sources.
func (s podStore) Volume(ctx context.Context, name string) (*workload.PersistentVolume, error) {
	var v workload.PersistentVolume
	if err := s.get(ctx, consensus.Key{Kind: "PersistentVolume", Name: name}, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// get reads one object linearizably into o.
func (s podStore) get(ctx context.Context, k consensus.Key, o workload.Object) error {
	so, err := s.p.store.Get(ctx, s.p.shardOf(k), k, true)
	if err != nil {
		return err
	}
	if err := decodeInto(so, o); err != nil {
		return fmt.Errorf("%s %s/%s: %v: %w", k.Kind, k.Namespace, k.Name, err, errdefs.ErrInvalid)
	}
	return nil
}

func (s podStore) ConfigMap(ctx context.Context, namespace, name string) (*workload.ConfigMap, error) {
	var cm workload.ConfigMap
	if err := s.get(ctx, consensus.Key{Kind: "ConfigMap", Namespace: namespace, Name: name}, &cm); err != nil {
		return nil, err
	}
	return &cm, nil
}
