package peer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"strconv"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// The Kubernetes-shaped object API (/api/v1/...): any peer validates and
// stores any object in the shard that owns it. This first slice serves the
// kinds workload.Kinds lists (Namespace, ConfigMap).

// target is what a request's path names.
type target struct {
	info workload.KindInfo
	ns   string
	name string
}

// worded words a store error about the target object as Kubernetes does:
// `configmaps "app" not found`.
func (t target) worded(err error) error {
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		return errdefs.Newf(errdefs.ErrNotFound, "%s %q not found", t.info.Plural, t.name)
	case errors.Is(err, errdefs.ErrAlreadyExists):
		return errdefs.Newf(errdefs.ErrAlreadyExists, "%s %q already exists", t.info.Plural, t.name)
	case errors.Is(err, errdefs.ErrConflict):
		return errdefs.Newf(errdefs.ErrConflict, "Operation cannot be fulfilled on %s %q: the object has been modified; please apply your changes to the latest version and try again", t.info.Plural, t.name)
	}
	return err
}

func (t target) key() consensus.Key {
	return consensus.Key{Kind: t.info.Kind, Namespace: t.ns, Name: t.name}
}

func (p *Peer) shardOf(k consensus.Key) uint64 { return p.router.ShardFor(k, "") }

// shardOfObject is the shard an object lives in: its Deployment's, for a
// ReplicaSet or Pod that one owns (see consensus.Router).
func (p *Peer) shardOfObject(kind string, meta *workload.ObjectMeta) uint64 {
	return p.router.ShardFor(consensus.Key{Kind: kind, Namespace: meta.Namespace, Name: meta.Name}, meta.Annotations[workload.AnnotationDeployment])
}

// locate reads a named object and says which shard holds it. A name alone
// does not tell the shard of a Deployment's ReplicaSet or Pod (it lives in
// its Deployment's), so those are looked for in every object shard after
// their own name's.
func (p *Peer) locate(ctx context.Context, t target, linearizable bool) (uint64, consensus.Object, error) {
	first := p.shardOf(t.key())
	so, err := p.store.Get(ctx, first, t.key(), linearizable)
	if err == nil || !errors.Is(err, errdefs.ErrNotFound) || (t.info.Kind != "Pod" && t.info.Kind != "ReplicaSet") {
		return first, so, err
	}
	for _, s := range p.router.Shards()[1:] {
		if s == first {
			continue
		}
		if o, gerr := p.store.Get(ctx, s, t.key(), linearizable); gerr == nil {
			return s, o, nil
		}
	}
	return first, so, err
}

// stored turns an object into what the store keeps: its JSON without the
// resourceVersion, which the store owns.
func stored(o workload.Object) (consensus.Object, error) {
	meta := workload.MetaOf(o)
	rv := meta.ResourceVersion
	meta.ResourceVersion = ""
	b, err := json.Marshal(o)
	meta.ResourceVersion = rv
	if err != nil {
		return consensus.Object{}, err
	}
	return consensus.Object{Kind: workload.TypeMetaOf(o).Kind, Namespace: meta.Namespace, Name: meta.Name, Labels: meta.Labels, Data: b}, nil
}

// loaded turns a stored object back into the API's, with its version.
func loaded(so consensus.Object) (json.RawMessage, error) {
	info, err := workload.LookupKind(so.Kind)
	if err != nil {
		return nil, err
	}
	o := info.New()
	if err := json.Unmarshal(so.Data, o); err != nil {
		return nil, fmt.Errorf("stored %s/%s: %v", so.Kind, so.Name, err)
	}
	workload.MetaOf(o).ResourceVersion = strconv.FormatUint(so.ResourceVersion, 10)
	if sec, ok := o.(*workload.Secret); ok {
		redactSecret(sec)
	}
	return json.Marshal(o)
}

// keepBinding keeps what the claim binder wrote in a volume's or claim's
// spec (claimRef, volumeName) when a user's update leaves it out: applying
// the manifest again must not unbind them.
func keepBinding(next workload.Object, cur consensus.Object) {
	switch o := next.(type) {
	case *workload.PersistentVolume:
		// A Released volume's claimRef may go: that is how its
		// administrator makes it Available again, as in Kubernetes.
		var old workload.PersistentVolume
		if o.Spec.ClaimRef == nil && json.Unmarshal(cur.Data, &old) == nil && old.Status.Phase != workload.VolumeReleased {
			o.Spec.ClaimRef = old.Spec.ClaimRef
		}
	case *workload.PersistentVolumeClaim:
		var old workload.PersistentVolumeClaim
		if o.Spec.VolumeName == "" && json.Unmarshal(cur.Data, &old) == nil {
			o.Spec.VolumeName = old.Spec.VolumeName
		}
	}
}

// systemNamespaces are the namespaces a new Kubernetes cluster has.
var systemNamespaces = []string{workload.DefaultNamespace, "kube-system", "kube-public", corev1.NamespaceNodeLease}

// ensureNamespaces creates the namespaces a new Kubernetes cluster has,
// and its system PriorityClasses, where they are missing. Any peer may
// try; the creates are idempotent.
func (p *Peer) ensureNamespaces(ctx context.Context) error {
	for _, name := range systemNamespaces {
		if err := p.ensureObject(ctx, &workload.Namespace{TypeMeta: workload.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: workload.ObjectMeta{Name: name}}); err != nil {
			return fmt.Errorf("namespace %s: %w", name, err)
		}
	}
	for _, pc := range workload.SystemPriorityClasses() {
		if err := p.ensureObject(ctx, pc); err != nil {
			return fmt.Errorf("priorityclass %s: %w", pc.Name, err)
		}
	}
	return nil
}

// ensureObject creates o, with its defaults, a new uid and the time, unless
// an object of its name exists.
func (p *Peer) ensureObject(ctx context.Context, o workload.Object) error {
	info, err := workload.LookupKind(workload.TypeMetaOf(o).Kind)
	if err != nil {
		return err
	}
	workload.Defaults(o, info, "")
	meta := workload.MetaOf(o)
	meta.UID = newUID()
	meta.CreationTimestamp = workload.NewTime(p.cfg.Now().UTC().Truncate(time.Second))
	so, err := stored(o)
	if err != nil {
		return err
	}
	_, err = p.store.Propose(ctx, p.shardOf(so.Key()), consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpCreate, Object: so}}})
	if err != nil && !errors.Is(err, errdefs.ErrAlreadyExists) {
		return err
	}
	return nil
}

// shardsFor lists the shards objects of a kind may live in.
func (p *Peer) shardsFor(info workload.KindInfo) []uint64 {
	if !info.Namespaced || info.Kind == "Namespace" {
		return []uint64{p.router.ShardFor(consensus.Key{Kind: info.Kind, Name: "x"}, "")}
	}
	return p.router.Shards()[1:]
}

func newUID() workload.UID {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return workload.UID(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
}

// deletePodGracefully marks a pod bound to a node as terminating (its
// deletionTimestamp and grace period): the node agent stops it and then
// removes it. A pod bound nowhere is not handled here (done is false): the
// caller deletes it at once.
func (p *Peer) deletePodGracefully(ctx context.Context, t target) (done bool, err error) {
	shard, so, err := p.locate(ctx, t, true)
	if err != nil {
		return true, err
	}
	pod, err := decodePod(so)
	if err != nil {
		return true, err
	}
	if pod.Spec.NodeName == "" {
		return false, nil
	}
	if pod.ObjectMeta.DeletionTimestamp == nil {
		_, err = p.markTerminating(ctx, shard, &pod, so.ResourceVersion)
	}
	return true, err
}

// markTerminating sets a bound pod's deletionTimestamp (now plus its grace
// period, as Kubernetes sets it) and grace period (its spec's, or
// Kubernetes' default), with a compare-and-swap on rv.
func (p *Peer) markTerminating(ctx context.Context, shard uint64, pod *workload.Pod, rv uint64) (consensus.Object, error) {
	grace := workload.DefaultTerminationGracePeriodSeconds
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	at := p.cfg.Now().UTC().Truncate(time.Second).Add(time.Duration(grace) * time.Second)
	pod.ObjectMeta.DeletionTimestamp, pod.ObjectMeta.DeletionGracePeriodSeconds = &workload.Time{Time: at}, &grace
	nso, err := stored(pod)
	if err != nil {
		return consensus.Object{}, err
	}
	res, err := p.store.Propose(ctx, shard, consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpUpdate, Object: nso, Precondition: rv}}})
	if err != nil {
		return consensus.Object{}, err
	}
	return res.Objects[0], nil
}
