package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/pager"
	"k8s.io/client-go/util/retry"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/poll"
	"github.com/shoalproject/shoal/peer/api"
)

// client-go, as a controller or operator uses it, against a cluster of
// three agent processes: each peer serves the Kubernetes API over the
// sharded store, so a client may talk to any of them, and keeps working
// while the leader of a shard it reads is killed.
//
// The subtests share one cluster (starting three agents is most of the
// cost); each works in a namespace of its own, and the one that kills a
// peer runs last.

const protobuf = "application/vnd.kubernetes.protobuf"

// kubeCluster is a procCluster of three peers and client-go configs for
// each, every exchange recorded so a failure shows what went over the wire.
type kubeCluster struct {
	*procCluster
	peers  []*agent
	router consensus.Router
}

func newKubeCluster(t *testing.T) *kubeCluster {
	c := newProcCluster(t)
	k := &kubeCluster{procCluster: c}
	k.peers = append(k.peers, c.start(1, 0), c.start(2, 1), c.start(3, 1))
	c.waitFor(60*time.Second, "3 replicas of every shard", func() bool { return c.shardsSettled(3, "") })
	shards := k.shards(t, k.peers[0])
	n := 0
	for _, s := range shards {
		if s.Role == "objects" {
			n++
		}
	}
	if n < 2 {
		t.Fatalf("%d object shards: the suite needs objects spread over several", n)
	}
	k.router = consensus.Router{ObjectShards: n}
	return k
}

// shards is GET /v1/shards through a peer.
func (k *kubeCluster) shards(t *testing.T, via *agent) []api.ShardInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := k.apiClient(via).Shards(ctx)
	if err != nil {
		t.Fatalf("shards through %s: %v", via.name, err)
	}
	return s
}

// restConfig is client-go's config for one peer, from the first peer's
// admin.conf (a kubeconfig) with the server set to that peer. It keeps
// client-go's defaults (protobuf for the built-in kinds) but lifts the
// client-side rate limit, which would otherwise dominate the run time.
func (k *kubeCluster) restConfig(t *testing.T, a *agent, rec *recorder) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", k.config)
	if err != nil {
		t.Fatalf("admin.conf as a kubeconfig: %v", err)
	}
	cfg.Host = "https://" + a.api()
	cfg.QPS, cfg.Burst = 1000, 2000
	cfg.UserAgent = "clientgo-e2e/" + a.name
	cfg.WrapTransport = rec.wrap(a.name)
	return cfg
}

// clients returns a clientset per peer, in peer order, recording into rec.
func (k *kubeCluster) clients(t *testing.T, rec *recorder) []*kubernetes.Clientset {
	t.Helper()
	var out []*kubernetes.Clientset
	for _, a := range k.peers {
		cs, err := kubernetes.NewForConfig(k.restConfig(t, a, rec))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cs)
	}
	return out
}

// mkNamespace creates a namespace for one subtest.
func mkNamespace(t *testing.T, cs *kubernetes.Clientset, name string) {
	t.Helper()
	_, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

// recorder keeps every HTTP exchange of a subtest's clients; on failure the
// last ones are logged with their bodies decoded.
type recorder struct {
	mu  sync.Mutex
	all []exchange
}

type exchange struct {
	peer, method, url string
	reqType, accept   string
	reqBody           []byte
	status            int
	respType          string
	respBody          []byte // error answers only
	err               error
	start             time.Time
	took              time.Duration
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the last HTTP exchanges:\n%s", r.dump(25))
		}
	})
	return r
}

func (r *recorder) wrap(peer string) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			x := exchange{peer: peer, method: req.Method, url: req.URL.RequestURI(),
				reqType: req.Header.Get("Content-Type"), accept: req.Header.Get("Accept"), start: time.Now()}
			if req.Body != nil && req.GetBody != nil {
				if b, err := req.GetBody(); err == nil {
					x.reqBody, _ = io.ReadAll(io.LimitReader(b, 8<<10))
					b.Close()
				}
			}
			resp, err := next.RoundTrip(req)
			x.took, x.err = time.Since(x.start), err
			if resp != nil {
				x.status, x.respType = resp.StatusCode, resp.Header.Get("Content-Type")
				if resp.StatusCode >= 400 {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					x.respBody = body
					resp.Body = io.NopCloser(bytes.NewReader(body))
				}
			}
			r.mu.Lock()
			r.all = append(r.all, x)
			r.mu.Unlock()
			return resp, err
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// exchanges returns the recorded exchanges that pass keep.
func (r *recorder) exchanges(keep func(exchange) bool) []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []exchange
	for _, x := range r.all {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

func (r *recorder) dump(last int) string {
	r.mu.Lock()
	all := slices.Clone(r.all)
	r.mu.Unlock()
	if len(all) > last {
		all = all[len(all)-last:]
	}
	var b strings.Builder
	for _, x := range all {
		fmt.Fprintf(&b, "%s %s %s (Content-Type %q, Accept %q)", x.peer, x.method, x.url, x.reqType, x.accept)
		if len(x.reqBody) > 0 {
			fmt.Fprintf(&b, "\n    > %s", readable(x.reqType, x.reqBody))
		}
		if x.err != nil {
			fmt.Fprintf(&b, "\n    < error after %s: %v\n", x.took.Round(time.Millisecond), x.err)
			continue
		}
		fmt.Fprintf(&b, "\n    < %d %q after %s", x.status, x.respType, x.took.Round(time.Millisecond))
		if len(x.respBody) > 0 {
			fmt.Fprintf(&b, "\n    < %s", readable(x.respType, x.respBody))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// readable is a body as text: protobuf decoded and shown as JSON.
func readable(contentType string, body []byte) string {
	if strings.HasPrefix(contentType, protobuf) {
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
		if err == nil {
			if js, err := json.Marshal(obj); err == nil {
				return "(protobuf) " + string(js)
			}
		}
		return fmt.Sprintf("(protobuf, %d bytes)", len(body))
	}
	if len(body) > 2000 {
		return string(body[:2000]) + "..."
	}
	return string(body)
}

func TestClientGoAgainstAgentProcesses(t *testing.T) {
	k := newKubeCluster(t)
	t.Run("TypedCRUDThroughDifferentPeers", k.testCRUD)
	t.Run("PatchTypes", k.testPatches)
	t.Run("ServerSideApply", k.testApply)
	t.Run("StaleWritesAreConflicts", k.testStaleWrites)
	t.Run("RetryOnConflictUnderConcurrentWriters", k.testRetryOnConflict)
	t.Run("ListPaging", k.testPaging)
	t.Run("ListPagingAcrossWritesMissesNothing", k.testPagingSnapshot)
	t.Run("LabelAndFieldSelectors", k.testSelectors)
	t.Run("WatchFromAnObjectsResourceVersionIsGoneAndFromAListsIsWhole", k.testWatchFromObject)
	t.Run("LeaderElectionOverALease", k.testLeaderElection)
	t.Run("InformerStaysInSyncWhileAShardLeaderIsKilled", k.testInformerFailover) // kills a peer: last
}

// typedClient is the part of a client-go typed client the CRUD test uses.
type typedClient[T runtime.Object, L runtime.Object] interface {
	Create(context.Context, T, metav1.CreateOptions) (T, error)
	Get(context.Context, string, metav1.GetOptions) (T, error)
	Update(context.Context, T, metav1.UpdateOptions) (T, error)
	Delete(context.Context, string, metav1.DeleteOptions) error
	List(context.Context, metav1.ListOptions) (L, error)
}

type object interface {
	runtime.Object
	metav1.Object
}

// crudCase is one kind's create, read, update, list and delete.
type crudCase[T object, L runtime.Object] struct {
	client func(*kubernetes.Clientset) typedClient[T, L]
	obj    T
	// busy says the cluster writes the object too (a controller, the
	// scheduler): an update may then meet a conflict and is retried.
	busy bool
	// created checks what the server made of the create (its defaults).
	created func(t *testing.T, o T)
	// change is the update; changed checks it was kept.
	change  func(o T)
	changed func(t *testing.T, before, after T)
	// gradual says a delete is finished later (a namespace's contents).
	gradual bool
}

// runCRUD creates through the first peer, reads through the second,
// updates through the third, lists through the first and deletes through
// the second.
func runCRUD[T object, L runtime.Object](t *testing.T, cs []*kubernetes.Clientset, c crudCase[T, L]) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := c.obj.GetName()
	created, err := c.client(cs[0]).Create(ctx, c.obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("Create through p1: %v", err)
	}
	if created.GetUID() == "" || created.GetResourceVersion() == "" || ptr(created.GetCreationTimestamp()).IsZero() {
		t.Errorf("Create answered uid %q resourceVersion %q creationTimestamp %v: want all three set",
			created.GetUID(), created.GetResourceVersion(), created.GetCreationTimestamp())
	}
	if c.created != nil {
		c.created(t, created)
	}
	got, err := c.client(cs[1]).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Get through p2 of what p1 created: %v", err)
	}
	if got.GetUID() != created.GetUID() {
		t.Errorf("Get through p2: uid %s, Create said %s", got.GetUID(), created.GetUID())
	}
	if !c.busy && got.GetResourceVersion() != created.GetResourceVersion() {
		t.Errorf("Get through p2: resourceVersion %q, Create answered %q, and nothing changed it since", got.GetResourceVersion(), created.GetResourceVersion())
	}

	var updated T
	attempts := 0
	err = retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		cur := got
		if attempts > 0 {
			var err error
			if cur, err = c.client(cs[2]).Get(ctx, name, metav1.GetOptions{}); err != nil {
				return err
			}
		}
		attempts++
		cur = cur.DeepCopyObject().(T)
		c.change(cur)
		var err error
		updated, err = c.client(cs[2]).Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("Update through p3 (%d attempts): %v", attempts, err)
	}
	if !c.busy && attempts != 1 {
		t.Errorf("Update through p3 took %d attempts: a conflict with no other writer", attempts)
	}
	if updated.GetResourceVersion() == got.GetResourceVersion() {
		t.Errorf("Update kept resourceVersion %q", updated.GetResourceVersion())
	}
	if updated.GetUID() != created.GetUID() || !ptr(updated.GetCreationTimestamp()).Equal(ptr(created.GetCreationTimestamp())) {
		t.Errorf("Update changed uid or creationTimestamp: %s %v, created %s %v",
			updated.GetUID(), updated.GetCreationTimestamp(), created.GetUID(), created.GetCreationTimestamp())
	}
	c.changed(t, created, updated)

	list, err := c.client(cs[0]).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("List through p1: %v", err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		t.Fatal(err)
	}
	lm, _ := meta.ListAccessor(list)
	if lm.GetResourceVersion() == "" {
		t.Errorf("List through p1: no list resourceVersion")
	}
	found := 0
	for _, it := range items {
		m, _ := meta.Accessor(it)
		if m.GetName() != name {
			continue
		}
		found++
		if !c.busy && m.GetResourceVersion() != updated.GetResourceVersion() {
			t.Errorf("List through p1: %s at resourceVersion %q, Update answered %q", name, m.GetResourceVersion(), updated.GetResourceVersion())
		}
	}
	if found != 1 {
		t.Errorf("List through p1 has %s %d times, want once", name, found)
	}
	reread, err := c.client(cs[1]).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Get through p2 after the update: %v", err)
	}
	c.changed(t, created, reread)

	if err := c.client(cs[1]).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("Delete through p2: %v", err)
	}
	if c.gradual {
		var err error
		if !poll.Until(20*time.Second, 100*time.Millisecond, func() bool {
			_, err = c.client(cs[0]).Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}) {
			t.Errorf("Get through p1 20s after the delete: %v, want NotFound", err)
		}
		return
	}
	if _, err := c.client(cs[2]).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Get through p3 right after the delete: %v, want NotFound", err)
	}
	if err := c.client(cs[0]).Delete(ctx, name, metav1.DeleteOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a second Delete through p1: %v, want NotFound", err)
	}
}

// unschedulable keeps a pod Pending: no node has the label.
var unschedulable = map[string]string{"clientgo-e2e": "nowhere"}

func (k *kubeCluster) testCRUD(t *testing.T) {
	rec := newRecorder(t)
	cs := k.clients(t, rec)
	const ns = "cg-crud"
	mkNamespace(t, cs[0], ns)

	t.Run("ConfigMap", func(t *testing.T) {
		runCRUD(t, cs, crudCase[*corev1.ConfigMap, *corev1.ConfigMapList]{
			client: func(c *kubernetes.Clientset) typedClient[*corev1.ConfigMap, *corev1.ConfigMapList] {
				return c.CoreV1().ConfigMaps(ns)
			},
			obj: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app", Labels: map[string]string{"tier": "web"}},
				Data: map[string]string{"k": "v"}, BinaryData: map[string][]byte{"b": {0, 1, 2, 255}}},
			change: func(o *corev1.ConfigMap) { o.Data["k"] = "v2" },
			changed: func(t *testing.T, _, o *corev1.ConfigMap) {
				if o.Data["k"] != "v2" || !bytes.Equal(o.BinaryData["b"], []byte{0, 1, 2, 255}) || o.Labels["tier"] != "web" {
					t.Errorf("configmap after update: data %v binaryData %v labels %v", o.Data, o.BinaryData, o.Labels)
				}
			},
		})
	})
	t.Run("Secret", func(t *testing.T) {
		runCRUD(t, cs, crudCase[*corev1.Secret, *corev1.SecretList]{
			client: func(c *kubernetes.Clientset) typedClient[*corev1.Secret, *corev1.SecretList] {
				return c.CoreV1().Secrets(ns)
			},
			obj: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds"},
				Data: map[string][]byte{"password": []byte("s3cret")}, StringData: map[string]string{"token": "abc"}},
			created: func(t *testing.T, o *corev1.Secret) {
				// kube-apiserver folds stringData into data and defaults the type.
				if string(o.Data["token"]) != "abc" || len(o.StringData) != 0 || o.Type != corev1.SecretTypeOpaque {
					t.Errorf("created secret: data %q stringData %v type %q, want token in data, no stringData, type Opaque", o.Data, o.StringData, o.Type)
				}
			},
			change: func(o *corev1.Secret) { o.Data["password"] = []byte("n3w") },
			changed: func(t *testing.T, _, o *corev1.Secret) {
				if string(o.Data["password"]) != "n3w" || string(o.Data["token"]) != "abc" {
					t.Errorf("secret after update: %q", o.Data)
				}
			},
		})
	})
	t.Run("Service", func(t *testing.T) {
		runCRUD(t, cs, crudCase[*corev1.Service, *corev1.ServiceList]{
			client: func(c *kubernetes.Clientset) typedClient[*corev1.Service, *corev1.ServiceList] {
				return c.CoreV1().Services(ns)
			},
			obj: &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{
				Selector: map[string]string{"app": "web"},
				Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
			}},
			busy: true,
			created: func(t *testing.T, o *corev1.Service) {
				p := o.Spec.Ports[0]
				if o.Spec.ClusterIP == "" || o.Spec.Type != corev1.ServiceTypeClusterIP || p.Protocol != corev1.ProtocolTCP || p.TargetPort != intstr.FromInt32(80) {
					t.Errorf("created service: clusterIP %q type %q port %+v: want an address, ClusterIP, TCP, targetPort 80", o.Spec.ClusterIP, o.Spec.Type, p)
				}
			},
			change: func(o *corev1.Service) {
				o.Spec.Ports = append(o.Spec.Ports, corev1.ServicePort{Name: "https", Port: 443})
			},
			changed: func(t *testing.T, before, o *corev1.Service) {
				if len(o.Spec.Ports) != 2 || o.Spec.ClusterIP != before.Spec.ClusterIP {
					t.Errorf("service after update: ports %+v clusterIP %q (was %q)", o.Spec.Ports, o.Spec.ClusterIP, before.Spec.ClusterIP)
				}
			},
		})
	})
	t.Run("Deployment", func(t *testing.T) {
		runCRUD(t, cs, crudCase[*appsv1.Deployment, *appsv1.DeploymentList]{
			client: func(c *kubernetes.Clientset) typedClient[*appsv1.Deployment, *appsv1.DeploymentList] {
				return c.AppsV1().Deployments(ns)
			},
			obj:  deployment("web", 1, "web:v1"),
			busy: true,
			created: func(t *testing.T, o *appsv1.Deployment) {
				if o.Generation != 1 {
					t.Errorf("created deployment at generation %d, want 1", o.Generation)
				}
				if o.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || o.Spec.RevisionHistoryLimit == nil ||
					*o.Spec.RevisionHistoryLimit != 10 || o.Spec.ProgressDeadlineSeconds == nil || *o.Spec.ProgressDeadlineSeconds != 600 {
					t.Errorf("created deployment lacks Kubernetes' defaults: %+v", o.Spec)
				}
			},
			change: func(o *appsv1.Deployment) { o.Spec.Template.Spec.Containers[0].Image = "web:v2" },
			changed: func(t *testing.T, _, o *appsv1.Deployment) {
				if o.Spec.Template.Spec.Containers[0].Image != "web:v2" || o.Generation != 2 {
					t.Errorf("deployment after a template change: image %q generation %d, want web:v2 and 2", o.Spec.Template.Spec.Containers[0].Image, o.Generation)
				}
			},
		})
	})
	t.Run("Pod", func(t *testing.T) {
		runCRUD(t, cs, crudCase[*corev1.Pod, *corev1.PodList]{
			client: func(c *kubernetes.Clientset) typedClient[*corev1.Pod, *corev1.PodList] { return c.CoreV1().Pods(ns) },
			obj:    pod("solo", nil),
			busy:   true,
			created: func(t *testing.T, o *corev1.Pod) {
				if missing := missingPodDefaults(o); len(missing) > 0 {
					t.Errorf("created pod lacks kube-apiserver's defaults (SetDefaults_Pod and friends): %s", strings.Join(missing, "; "))
				}
			},
			change: func(o *corev1.Pod) { o.Labels = map[string]string{"changed": "yes"} },
			changed: func(t *testing.T, _, o *corev1.Pod) {
				if o.Labels["changed"] != "yes" {
					t.Errorf("pod after update: labels %v", o.Labels)
				}
			},
		})
	})
	t.Run("Lease", func(t *testing.T) {
		renew := metav1.NewMicroTime(time.Now().Truncate(time.Microsecond))
		runCRUD(t, cs, crudCase[*coordinationv1.Lease, *coordinationv1.LeaseList]{
			client: func(c *kubernetes.Clientset) typedClient[*coordinationv1.Lease, *coordinationv1.LeaseList] {
				return c.CoordinationV1().Leases(ns)
			},
			obj: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "lock"}, Spec: coordinationv1.LeaseSpec{
				HolderIdentity: ptr("a"), LeaseDurationSeconds: ptr(int32(15)), AcquireTime: &renew, RenewTime: &renew}},
			created: func(t *testing.T, o *coordinationv1.Lease) {
				if o.Spec.RenewTime == nil || !o.Spec.RenewTime.Equal(&renew) {
					t.Errorf("created lease: renewTime %v, sent %v (MicroTime keeps microseconds)", o.Spec.RenewTime, renew)
				}
			},
			change: func(o *coordinationv1.Lease) {
				later := metav1.NewMicroTime(renew.Add(1234567 * time.Microsecond))
				o.Spec.HolderIdentity, o.Spec.RenewTime, o.Spec.LeaseTransitions = ptr("b"), &later, ptr(int32(1))
			},
			changed: func(t *testing.T, _, o *coordinationv1.Lease) {
				want := metav1.NewMicroTime(renew.Add(1234567 * time.Microsecond))
				if o.Spec.HolderIdentity == nil || *o.Spec.HolderIdentity != "b" || o.Spec.RenewTime == nil || !o.Spec.RenewTime.Equal(&want) ||
					o.Spec.LeaseTransitions == nil || *o.Spec.LeaseTransitions != 1 {
					t.Errorf("lease after update: %+v, want holder b renewed at %v, 1 transition", o.Spec, want)
				}
			},
		})
	})
	t.Run("Namespace", func(t *testing.T) {
		runCRUD(t, cs, crudCase[*corev1.Namespace, *corev1.NamespaceList]{
			client: func(c *kubernetes.Clientset) typedClient[*corev1.Namespace, *corev1.NamespaceList] {
				return c.CoreV1().Namespaces()
			},
			obj:  &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cg-crud-ns"}},
			busy: true,
			created: func(t *testing.T, o *corev1.Namespace) {
				if o.Status.Phase != corev1.NamespaceActive || o.Labels[corev1.LabelMetadataName] != "cg-crud-ns" {
					t.Errorf("created namespace: phase %q labels %v, want Active and %s=cg-crud-ns", o.Status.Phase, o.Labels, corev1.LabelMetadataName)
				}
			},
			change: func(o *corev1.Namespace) {
				if o.Labels == nil {
					o.Labels = map[string]string{}
				}
				o.Labels["team"] = "a"
			},
			changed: func(t *testing.T, _, o *corev1.Namespace) {
				if o.Labels["team"] != "a" {
					t.Errorf("namespace after update: labels %v", o.Labels)
				}
			},
			gradual: true,
		})
	})

	// client-go's defaults: every body it sent was protobuf, and so was
	// every answer.
	writes := rec.exchanges(func(x exchange) bool { return x.method == http.MethodPost || x.method == http.MethodPut })
	if len(writes) == 0 {
		t.Fatal("no writes recorded")
	}
	for _, x := range writes {
		if x.reqType != protobuf {
			t.Errorf("%s %s sent %q, want client-go's default %s", x.method, x.url, x.reqType, protobuf)
		}
	}
	for _, x := range rec.exchanges(func(x exchange) bool { return x.err == nil }) {
		if !strings.HasPrefix(x.respType, protobuf) {
			t.Errorf("%s %s (Accept %q) answered %q, want protobuf", x.method, x.url, x.accept, x.respType)
		}
	}
}

func deployment(name string, replicas int32, image string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{NodeSelector: unschedulable, Containers: []corev1.Container{
					{Name: "web", Image: image}, {Name: "side", Image: "side:v1"},
				}},
			},
		},
	}
}

// missingPodDefaults lists the defaults kube-apiserver gives a pod that
// names none of them (k8s.io/kubernetes pkg/apis/core/v1/defaults.go).
func missingPodDefaults(o *corev1.Pod) []string {
	var out []string
	want := func(field string, ok bool, got any, want any) {
		if !ok {
			out = append(out, fmt.Sprintf("%s is %v, want %v", field, got, want))
		}
	}
	s := o.Spec
	want("spec.restartPolicy", s.RestartPolicy == corev1.RestartPolicyAlways, s.RestartPolicy, corev1.RestartPolicyAlways)
	want("spec.dnsPolicy", s.DNSPolicy == corev1.DNSClusterFirst, fmt.Sprintf("%q", s.DNSPolicy), corev1.DNSClusterFirst)
	want("spec.schedulerName", s.SchedulerName == corev1.DefaultSchedulerName, fmt.Sprintf("%q", s.SchedulerName), corev1.DefaultSchedulerName)
	want("spec.terminationGracePeriodSeconds", s.TerminationGracePeriodSeconds != nil && *s.TerminationGracePeriodSeconds == 30, s.TerminationGracePeriodSeconds, 30)
	want("spec.securityContext", s.SecurityContext != nil, s.SecurityContext, "{}")
	want("spec.enableServiceLinks", s.EnableServiceLinks != nil && *s.EnableServiceLinks, s.EnableServiceLinks, true)
	for i, c := range s.Containers {
		p := fmt.Sprintf("spec.containers[%d].", i)
		want(p+"imagePullPolicy", c.ImagePullPolicy == corev1.PullIfNotPresent, c.ImagePullPolicy, corev1.PullIfNotPresent)
		want(p+"terminationMessagePath", c.TerminationMessagePath == corev1.TerminationMessagePathDefault, fmt.Sprintf("%q", c.TerminationMessagePath), corev1.TerminationMessagePathDefault)
		want(p+"terminationMessagePolicy", c.TerminationMessagePolicy == corev1.TerminationMessageReadFile, fmt.Sprintf("%q", c.TerminationMessagePolicy), corev1.TerminationMessageReadFile)
	}
	want("status.phase", o.Status.Phase == corev1.PodPending, o.Status.Phase, corev1.PodPending)
	return out
}

func pod(name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{NodeSelector: unschedulable, Containers: []corev1.Container{{Name: "c", Image: "img:v1"}}}}
}

func (k *kubeCluster) testPatches(t *testing.T) {
	rec := newRecorder(t)
	cs := k.clients(t, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const ns = "cg-patch"
	mkNamespace(t, cs[0], ns)
	if _, err := cs[0].AppsV1().Deployments(ns).Create(ctx, deployment("web", 0, "web:v1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Strategic merge through p2: containers merge by name, so side stays.
	got, err := cs[1].AppsV1().Deployments(ns).Patch(ctx, "web", types.StrategicMergePatchType,
		[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"web:v2"}]}}}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("strategic merge patch through p2: %v", err)
	}
	if c := got.Spec.Template.Spec.Containers; len(c) != 2 || c[0].Image != "web:v2" || c[1].Image != "side:v1" {
		t.Errorf("after a strategic merge patch: containers %+v, want web:v2 and side:v1", c)
	}
	if got.Generation != 2 {
		t.Errorf("generation %d after a template change, want 2", got.Generation)
	}
	// $patch: delete, a strategic merge directive, removes one container.
	got, err = cs[2].AppsV1().Deployments(ns).Patch(ctx, "web", types.StrategicMergePatchType,
		[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("strategic merge $patch: delete through p3: %v", err)
	}
	if c := got.Spec.Template.Spec.Containers; len(c) != 1 || c[0].Name != "web" {
		t.Errorf("after $patch: delete of side: containers %+v", c)
	}

	// Merge patch through p3: maps merge, a list is replaced whole.
	got, err = cs[2].AppsV1().Deployments(ns).Patch(ctx, "web", types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"tier":"front"}},"spec":{"replicas":0,"template":{"spec":{"containers":[{"name":"only","image":"only:v1"}]}}}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("merge patch through p3: %v", err)
	}
	if c := got.Spec.Template.Spec.Containers; got.Labels["tier"] != "front" || len(c) != 1 || c[0].Name != "only" {
		t.Errorf("after a merge patch: labels %v containers %+v", got.Labels, c)
	}

	// JSON patch through p1, with a test op.
	got, err = cs[0].AppsV1().Deployments(ns).Patch(ctx, "web", types.JSONPatchType,
		[]byte(`[{"op":"test","path":"/metadata/labels/tier","value":"front"},{"op":"add","path":"/metadata/annotations","value":{"a":"b"}},{"op":"replace","path":"/spec/minReadySeconds","value":5}]`), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("json patch through p1: %v", err)
	}
	if got.Annotations["a"] != "b" || got.Spec.MinReadySeconds != 5 {
		t.Errorf("after a json patch: annotations %v minReadySeconds %d", got.Annotations, got.Spec.MinReadySeconds)
	}
	// A JSON patch whose test fails changes nothing: 422 in Kubernetes.
	before := got.ResourceVersion
	_, err = cs[1].AppsV1().Deployments(ns).Patch(ctx, "web", types.JSONPatchType,
		[]byte(`[{"op":"test","path":"/metadata/labels/tier","value":"back"},{"op":"replace","path":"/spec/minReadySeconds","value":9}]`), metav1.PatchOptions{})
	if !apierrors.IsInvalid(err) {
		t.Errorf("json patch with a failing test: %v, want 422 Invalid", err)
	}
	if cur, err := cs[2].AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{}); err != nil || cur.Spec.MinReadySeconds != 5 {
		t.Errorf("after the failed json patch (was at %s): %v minReadySeconds %d", before, err, cur.Spec.MinReadySeconds)
	}

	// Patches of a ConfigMap, a kind in a shard of its own name's.
	cms := cs[0].CoreV1().ConfigMaps(ns)
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "conf"}, Data: map[string]string{"a": "1", "b": "2"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, p := range []struct {
		pt   types.PatchType
		body string
		want map[string]string
	}{
		{types.MergePatchType, `{"data":{"a":null,"c":"3"}}`, map[string]string{"b": "2", "c": "3"}},
		{types.StrategicMergePatchType, `{"data":{"d":"4"}}`, map[string]string{"b": "2", "c": "3", "d": "4"}},
		{types.JSONPatchType, `[{"op":"remove","path":"/data/b"}]`, map[string]string{"c": "3", "d": "4"}},
	} {
		got, err := cs[i%3].CoreV1().ConfigMaps(ns).Patch(ctx, "conf", p.pt, []byte(p.body), metav1.PatchOptions{})
		if err != nil {
			t.Errorf("%s of a configmap through p%d: %v", p.pt, i%3+1, err)
			continue
		}
		if fmt.Sprint(got.Data) != fmt.Sprint(p.want) {
			t.Errorf("%s %s: data %v, want %v", p.pt, p.body, got.Data, p.want)
		}
	}
	// A patch whose resourceVersion is stale is a Conflict, not retried.
	_, err = cs[1].CoreV1().ConfigMaps(ns).Patch(ctx, "conf", types.MergePatchType,
		[]byte(`{"metadata":{"resourceVersion":"`+before+`"},"data":{"e":"5"}}`), metav1.PatchOptions{})
	if !apierrors.IsConflict(err) {
		t.Errorf("merge patch with a stale resourceVersion: %v, want a Conflict", err)
	}
}

func (k *kubeCluster) testApply(t *testing.T) {
	rec := newRecorder(t)
	cs := k.clients(t, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const ns = "cg-apply"
	mkNamespace(t, cs[0], ns)

	// Apply creates: manager a owns data.x.
	cm, err := cs[0].CoreV1().ConfigMaps(ns).Apply(ctx, corev1ac.ConfigMap("applied", ns).WithData(map[string]string{"x": "1"}),
		metav1.ApplyOptions{FieldManager: "manager-a"})
	if err != nil {
		t.Fatalf("ConfigMaps.Apply (create) through p1: %v", err)
	}
	if cm.Data["x"] != "1" || !managedBy(cm.ManagedFields, "manager-a", metav1.ManagedFieldsOperationApply) {
		t.Errorf("applied configmap: data %v managedFields %+v", cm.Data, cm.ManagedFields)
	}
	// Manager b setting the same field conflicts...
	_, err = cs[1].CoreV1().ConfigMaps(ns).Apply(ctx, corev1ac.ConfigMap("applied", ns).WithData(map[string]string{"x": "2"}),
		metav1.ApplyOptions{FieldManager: "manager-b"})
	if !apierrors.IsConflict(err) {
		t.Errorf("apply by another manager of an owned field: %v, want a Conflict", err)
	}
	// ...unless it forces, and then it owns the field.
	cm, err = cs[1].CoreV1().ConfigMaps(ns).Apply(ctx, corev1ac.ConfigMap("applied", ns).WithData(map[string]string{"x": "2", "y": "b"}),
		metav1.ApplyOptions{FieldManager: "manager-b", Force: true})
	if err != nil {
		t.Fatalf("forced apply through p2: %v", err)
	}
	if cm.Data["x"] != "2" || cm.Data["y"] != "b" {
		t.Errorf("after the forced apply: data %v", cm.Data)
	}
	if !managedBy(cm.ManagedFields, "manager-b", metav1.ManagedFieldsOperationApply) {
		t.Errorf("managedFields after manager-b's forced apply: %s, want manager-b/Apply", managers(cm.ManagedFields))
	}
	ext, err := corev1ac.ExtractConfigMap(cm, "manager-b")
	if err != nil || ext.Data["x"] != "2" || ext.Data["y"] != "b" {
		t.Errorf("ExtractConfigMap for manager-b: %+v %v, want x and y", ext, err)
	}
	// Manager a applying without x gives up nothing it no longer owns; an
	// apply that drops a field the manager alone owns removes it.
	cm, err = cs[2].CoreV1().ConfigMaps(ns).Apply(ctx, corev1ac.ConfigMap("applied", ns).WithData(map[string]string{"x": "2"}),
		metav1.ApplyOptions{FieldManager: "manager-b"})
	if err != nil {
		t.Fatalf("apply through p3: %v", err)
	}
	if _, ok := cm.Data["y"]; ok || cm.Data["x"] != "2" {
		t.Errorf("after manager-b dropped y from its configuration: data %v, want y removed", cm.Data)
	}

	// A Deployment: containers are a list keyed by name, so two managers'
	// containers sit side by side.
	web := appsv1ac.Deployment("applied-web", ns).WithSpec(appsv1ac.DeploymentSpec().
		WithReplicas(0).
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{"app": "applied-web"})).
		WithTemplate(corev1ac.PodTemplateSpec().
			WithLabels(map[string]string{"app": "applied-web"}).
			WithSpec(corev1ac.PodSpec().WithNodeSelector(unschedulable).
				WithContainers(corev1ac.Container().WithName("web").WithImage("web:v1")))))
	d, err := cs[0].AppsV1().Deployments(ns).Apply(ctx, web, metav1.ApplyOptions{FieldManager: "manager-a"})
	if err != nil {
		t.Fatalf("Deployments.Apply through p1: %v", err)
	}
	side := appsv1ac.Deployment("applied-web", ns).WithSpec(appsv1ac.DeploymentSpec().
		WithTemplate(corev1ac.PodTemplateSpec().WithSpec(corev1ac.PodSpec().
			WithContainers(corev1ac.Container().WithName("side").WithImage("side:v1")))))
	d, err = cs[1].AppsV1().Deployments(ns).Apply(ctx, side, metav1.ApplyOptions{FieldManager: "manager-b"})
	if err != nil {
		t.Fatalf("second manager's Deployments.Apply through p2: %v", err)
	}
	var names []string
	for _, c := range d.Spec.Template.Spec.Containers {
		names = append(names, c.Name+"="+c.Image)
	}
	if strings.Join(names, ",") != "web=web:v1,side=side:v1" {
		t.Errorf("containers after two managers applied: %v, want web and side", names)
	}
	if d.Generation != 2 {
		t.Errorf("generation %d after the second apply changed the template, want 2", d.Generation)
	}
	if !managedBy(d.ManagedFields, "manager-a", metav1.ManagedFieldsOperationApply) || !managedBy(d.ManagedFields, "manager-b", metav1.ManagedFieldsOperationApply) {
		t.Errorf("managedFields after two managers applied: %s, want manager-a/Apply and manager-b/Apply", managers(d.ManagedFields))
	}
	// A plain update is an Update entry of its manager (retried: the
	// deployment controller writes the status meanwhile).
	if err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		cur, err := cs[2].AppsV1().Deployments(ns).Get(ctx, "applied-web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Spec.MinReadySeconds = 3
		d, err = cs[2].AppsV1().Deployments(ns).Update(ctx, cur, metav1.UpdateOptions{FieldManager: "updater"})
		return err
	}); err != nil {
		t.Fatalf("update after apply: %v", err)
	}
	if !managedBy(d.ManagedFields, "updater", metav1.ManagedFieldsOperationUpdate) || !managedBy(d.ManagedFields, "manager-a", metav1.ManagedFieldsOperationApply) {
		t.Errorf("managedFields after apply, apply, update: %s, want updater/Update beside manager-a/Apply", managers(d.ManagedFields))
	}
}

func managedBy(mf []metav1.ManagedFieldsEntry, manager string, op metav1.ManagedFieldsOperationType) bool {
	for _, e := range mf {
		if e.Manager == manager && e.Operation == op {
			return true
		}
	}
	return false
}

func managers(mf []metav1.ManagedFieldsEntry) string {
	var out []string
	for _, e := range mf {
		out = append(out, e.Manager+"/"+string(e.Operation))
	}
	return strings.Join(out, ",")
}

func (k *kubeCluster) testStaleWrites(t *testing.T) {
	rec := newRecorder(t)
	cs := k.clients(t, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const ns = "cg-stale"
	mkNamespace(t, cs[0], ns)
	cm, err := cs[0].CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Data: map[string]string{"k": "v1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stale, err := cs[1].CoreV1().ConfigMaps(ns).Get(ctx, "c", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["k"] = "v2"
	if _, err := cs[2].CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	stale.Data["k"] = "v3"
	_, err = cs[1].CoreV1().ConfigMaps(ns).Update(ctx, stale, metav1.UpdateOptions{})
	if !apierrors.IsConflict(err) {
		t.Errorf("update at a stale resourceVersion through p2: %v, want a Conflict", err)
	}
	err = cs[0].CoreV1().ConfigMaps(ns).Delete(ctx, "c", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &stale.ResourceVersion}})
	if !apierrors.IsConflict(err) {
		t.Errorf("delete with a stale resourceVersion precondition: %v, want a Conflict", err)
	}
	err = cs[0].CoreV1().ConfigMaps(ns).Delete(ctx, "c", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: ptr(types.UID("not-the-uid"))}})
	if !apierrors.IsConflict(err) {
		t.Errorf("delete with another uid as precondition: %v, want a Conflict", err)
	}
	if got, err := cs[2].CoreV1().ConfigMaps(ns).Get(ctx, "c", metav1.GetOptions{}); err != nil || got.Data["k"] != "v2" {
		t.Errorf("after the refused writes: %v %v, want k=v2", err, got.Data)
	}

	// The same for a Deployment, whose shard is its own name's, and a pod
	// of a deployment's shard.
	d, err := cs[0].AppsV1().Deployments(ns).Create(ctx, deployment("d", 0, "img:v1"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := cs[1].AppsV1().Deployments(ns).Get(ctx, "d", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fresh.Labels = map[string]string{"v": "2"}
	if err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		_, err := cs[1].AppsV1().Deployments(ns).Update(ctx, fresh, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) { // the controller wrote its status
			cur, gerr := cs[1].AppsV1().Deployments(ns).Get(ctx, "d", metav1.GetOptions{})
			if gerr != nil {
				return gerr
			}
			cur.Labels = fresh.Labels
			fresh = cur
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	d.Labels = map[string]string{"v": "stale"}
	if _, err := cs[2].AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("stale deployment update through p3: %v, want a Conflict", err)
	}
}

func (k *kubeCluster) testRetryOnConflict(t *testing.T) {
	rec := newRecorder(t)
	cs := k.clients(t, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const ns = "cg-counter"
	mkNamespace(t, cs[0], ns)
	if _, err := cs[0].CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "counter"}, Data: map[string]string{"n": "0"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const writers, each = 6, 5
	// Enough steps that client-side exhaustion is not what fails the test.
	backoff := wait.Backoff{Steps: 100, Duration: 5 * time.Millisecond, Factor: 1.3, Jitter: 1, Cap: 200 * time.Millisecond}
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cms := cs[w%len(cs)].CoreV1().ConfigMaps(ns)
			for range each {
				err := retry.RetryOnConflict(backoff, func() error {
					cur, err := cms.Get(ctx, "counter", metav1.GetOptions{})
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(cur.Data["n"])
					if err != nil {
						return err
					}
					cur.Data["n"] = strconv.Itoa(n + 1)
					_, err = cms.Update(ctx, cur, metav1.UpdateOptions{})
					if apierrors.IsConflict(err) {
						conflicts.Add(1)
					}
					return err
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d through p%d: %w", w, w%len(cs)+1, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := cs[2].CoreV1().ConfigMaps(ns).Get(ctx, "counter", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Data["n"] != strconv.Itoa(writers*each) {
		t.Errorf("counter after %d increments by %d writers: %s", writers*each, writers, got.Data["n"])
	}
	t.Logf("%d conflicts retried", conflicts.Load())
}

// fillConfigMaps creates n configmaps cm-000... in ns, labelled mod=i%3,
// through every peer in turn, and returns their names.
func (k *kubeCluster) fillConfigMaps(t *testing.T, cs []*kubernetes.Clientset, ns string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	names := make([]string, n)
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: names[i], Labels: map[string]string{"mod": strconv.Itoa(i % 3)}}}
				if _, err := cs[(w+i)%len(cs)].CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("create %s: %w", names[i], err)
				}
			}
		}()
	}
	for i := range n {
		names[i] = fmt.Sprintf("cm-%03d", i)
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// The test is about lists across shards: the names must spread.
	spread := map[uint64]int{}
	for _, name := range names {
		spread[k.router.ShardFor(consensus.Key{Kind: "ConfigMap", Namespace: ns, Name: name}, "")]++
	}
	if len(spread) != k.router.ObjectShards {
		t.Fatalf("%d configmaps fall in %d of %d object shards", n, len(spread), k.router.ObjectShards)
	}
	return names
}

func (k *kubeCluster) testPaging(t *testing.T) {
	rec := newRecorder(t)
	cs := k.clients(t, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const ns, n, limit = "cg-page", 300, 37
	mkNamespace(t, cs[0], ns)
	names := k.fillConfigMaps(t, cs, ns, n)

	// Page by hand, each page through the next peer.
	seen := map[string]int{}
	var order []string
	cont, firstRV := "", ""
	for page := 0; ; page++ {
		if page > n/limit+2 {
			t.Fatalf("still paging after %d pages", page)
		}
		l, err := cs[page%3].CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{Limit: limit, Continue: cont})
		if err != nil {
			t.Fatalf("page %d through p%d: %v", page, page%3+1, err)
		}
		if len(l.Items) > limit {
			t.Errorf("page %d has %d items, limit %d", page, len(l.Items), limit)
		}
		if page == 0 {
			firstRV = l.ResourceVersion
		} else if l.ResourceVersion != firstRV {
			// Kubernetes: every page of a list is at the first page's version.
			t.Errorf("page %d at resourceVersion %q, the first page at %q", page, l.ResourceVersion, firstRV)
		}
		for _, it := range l.Items {
			seen[it.Name]++
			order = append(order, it.Name)
		}
		if l.Continue == "" {
			if len(l.Items) == 0 && page > 0 {
				t.Errorf("the last page (%d) is empty: the page before it should have had no continue", page)
			}
			break
		}
		if len(l.Items) != limit {
			t.Errorf("page %d has %d items and a continue token, want a full page of %d", page, len(l.Items), limit)
		}
		cont = l.Continue
	}
	for _, name := range names {
		if seen[name] != 1 {
			t.Errorf("%s listed %d times over the pages, want once", name, seen[name])
		}
	}
	if len(seen) != n {
		t.Errorf("the pages hold %d names, want %d", len(seen), n)
	}
	if !sort.StringsAreSorted(order) {
		t.Errorf("the pages are not in name order")
	}

	// client-go's pager, as kubectl and the reflector page.
	count := map[string]int{}
	p := pager.New(func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return cs[1].CoreV1().ConfigMaps(ns).List(ctx, o)
	})
	p.PageSize = 50
	if err := p.EachListItem(ctx, metav1.ListOptions{}, func(o runtime.Object) error {
		count[o.(*corev1.ConfigMap).Name]++
		return nil
	}); err != nil {
		t.Fatalf("pager through p2: %v", err)
	}
	for _, name := range names {
		if count[name] != 1 {
			t.Errorf("the pager gave %s %d times", name, count[name])
		}
	}
	// A continue token is good on any peer, and a bad one is a 400.
	if _, err := cs[0].CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{Limit: 5, Continue: "bm90LWEtdG9rZW4"}); !apierrors.IsBadRequest(err) {
		t.Errorf("list with a made-up continue token: %v, want BadRequest", err)
	}
}

// testPagingSnapshot: Kubernetes serves every page of a list from the
// first page's snapshot. Shoal's store keeps no old states, so its later
// pages are read at the latest state (docs/api.md says so); what the test
// holds it to is that no object there all along is missed.
func (k *kubeCluster) testPagingSnapshot(t *testing.T) {
	rec := newRecorder(t)
	cs := k.clients(t, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const ns, n = "cg-snapshot", 60
	mkNamespace(t, cs[0], ns)
	names := k.fillConfigMaps(t, cs, ns, n)
	first, err := cs[0].CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) != 20 || first.Continue == "" {
		t.Fatalf("first page: %d items, continue %q", len(first.Items), first.Continue)
	}
	last := names[n-1]
	if err := cs[1].CoreV1().ConfigMaps(ns).Delete(ctx, last, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs[1].CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm-new"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range first.Items {
		seen[it.Name] = true
	}
	cont := first.Continue
	for cont != "" {
		l, err := cs[2].CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{Limit: 20, Continue: cont})
		if err != nil {
			t.Fatalf("continue after writes: %v", err)
		}
		for _, it := range l.Items {
			seen[it.Name] = true
		}
		cont = l.Continue
	}
	// Shoal reads each page at the latest state, not at the first page's
	// (docs/api.md): an object written meanwhile may or may not show, but
	// none that was there all along is missed or listed twice (the pages'
	// keys only grow).
	_ = last
	for _, name := range names[:n-1] {
		if !seen[name] {
			t.Errorf("%s, there all along, missing from the pages", name)
		}
	}
}

func (k *kubeCluster) testSelectors(t *testing.T) {
	rec := newRecorder(t)
	cs := k.clients(t, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const ns, n = "cg-select", 90
	mkNamespace(t, cs[0], ns)
	names := k.fillConfigMaps(t, cs, ns, n)
	want := func(keep func(i int) bool) []string {
		var out []string
		for i, name := range names {
			if keep(i) {
				out = append(out, name)
			}
		}
		return out
	}
	listNames := func(via int, o metav1.ListOptions) ([]string, error) {
		var out []string
		for {
			l, err := cs[via].CoreV1().ConfigMaps(ns).List(ctx, o)
			if err != nil {
				return nil, err
			}
			for _, it := range l.Items {
				out = append(out, it.Name)
			}
			if l.Continue == "" {
				return out, nil
			}
			o.Continue = l.Continue
		}
	}
	for i, c := range []struct {
		labels, fields string
		limit          int64
		want           []string
	}{
		{labels: "mod=1", want: want(func(i int) bool { return i%3 == 1 })},
		{labels: "mod in (0,2)", want: want(func(i int) bool { return i%3 != 1 })},
		{labels: "mod!=0", limit: 7, want: want(func(i int) bool { return i%3 != 0 })},
		{labels: "mod", want: names},
		{labels: "!mod", want: nil},
		{labels: "mod=1,mod!=1", want: nil},
		{fields: "metadata.name=cm-007", want: []string{"cm-007"}},
		{fields: "metadata.name!=cm-007", limit: 10, want: want(func(i int) bool { return i != 7 })},
		{labels: "mod=2", fields: "metadata.name!=cm-002,metadata.namespace=" + ns, limit: 4, want: want(func(i int) bool { return i%3 == 2 && i != 2 })},
	} {
		got, err := listNames(i%3, metav1.ListOptions{LabelSelector: c.labels, FieldSelector: c.fields, Limit: c.limit})
		if err != nil {
			t.Errorf("list labelSelector %q fieldSelector %q limit %d through p%d: %v", c.labels, c.fields, c.limit, i%3+1, err)
			continue
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("list labelSelector %q fieldSelector %q limit %d: %d names %v, want %d", c.labels, c.fields, c.limit, len(got), abbrev(got), len(c.want))
		}
	}
	// All namespaces, narrowed to this one by field.
	all, err := cs[1].CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{FieldSelector: "metadata.namespace=" + ns, LabelSelector: "mod=0"})
	if err != nil || len(all.Items) != n/3 {
		t.Errorf("configmaps of every namespace by metadata.namespace=%s, mod=0: %v, %d items, want %d", ns, err, len(all.Items), n/3)
	}
	// Fields of their own: a pod's phase and node, a secret's type.
	for i := range 3 {
		if _, err := cs[i].CoreV1().Pods(ns).Create(ctx, pod(fmt.Sprintf("pending-%d", i), map[string]string{"sel": "yes"}), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pods, err := cs[2].CoreV1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: "status.phase=Pending,spec.nodeName=", LabelSelector: "sel=yes"})
	if err != nil || len(pods.Items) != 3 {
		t.Errorf("pods by status.phase=Pending,spec.nodeName=: %v, %d items, want 3", err, len(pods.Items))
	}
	if pods, err := cs[0].CoreV1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: "status.phase=Running"}); err != nil || len(pods.Items) != 0 {
		t.Errorf("pods by status.phase=Running: %v, %d items, want none", err, len(pods.Items))
	}
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: "plain"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "custom"}, Type: "example.com/custom"},
	} {
		if _, err := cs[0].CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	secs, err := cs[1].CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{FieldSelector: "type=example.com/custom"})
	if err != nil || len(secs.Items) != 1 || secs.Items[0].Name != "custom" {
		t.Errorf("secrets by type=example.com/custom: %v %+v", err, secs)
	}
	if _, err := cs[2].CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{FieldSelector: "data.k=v"}); !apierrors.IsBadRequest(err) {
		t.Errorf("a field a configmap is not selected by: %v, want BadRequest", err)
	}
	if _, err := cs[2].CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: "mod in (("}); !apierrors.IsBadRequest(err) {
		t.Errorf("a label selector that does not parse: %v, want BadRequest", err)
	}
}

// testWatchFromObject: in Kubernetes a watch from an object's
// resourceVersion sends every later change in the whole collection. In a
// store sharded by owner an object's version says where its own shard
// stood, not the others (docs/api.md), so a watch of a collection from it
// is 410 Gone (the client relists) rather than silently missing the other
// shards' changes; a watch from a list's version gets every change after
// the list, in every shard.
func (k *kubeCluster) testWatchFromObject(t *testing.T) {
	rec := newRecorder(t)
	cs := k.clients(t, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const ns = "cg-watchfrom"
	mkNamespace(t, cs[0], ns)
	anchor, err := cs[0].CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "anchor"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	list, err := cs[0].CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v, %d items", err, len(list.Items))
	}
	// One configmap in every object shard, written after the list.
	after := map[string]bool{}
	inShard := map[uint64]bool{}
	for i := 0; len(inShard) < k.router.ObjectShards; i++ {
		name := fmt.Sprintf("after-%02d", i)
		sh := k.router.ShardFor(consensus.Key{Kind: "ConfigMap", Namespace: ns, Name: name}, "")
		if inShard[sh] {
			continue
		}
		inShard[sh] = true
		if _, err := cs[1].CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		after[name] = true
	}
	// From the object's own version: an ERROR event, 410 Expired.
	w, err := cs[2].CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: anchor.ResourceVersion, TimeoutSeconds: ptr(int64(3))})
	if err != nil {
		t.Fatalf("Watch from the anchor's resourceVersion %q: %v", anchor.ResourceVersion, err)
	}
	e, ok := <-w.ResultChan()
	w.Stop()
	if st, isStatus := e.Object.(*metav1.Status); !ok || e.Type != "ERROR" || !isStatus || st.Code != 410 || st.Reason != metav1.StatusReasonExpired {
		t.Errorf("a watch from an object's own resourceVersion %q: event %v %#v, want an ERROR with a 410 Expired Status", anchor.ResourceVersion, e.Type, e.Object)
	}
	// From the list's version: every change after it.
	w, err = cs[2].CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion, TimeoutSeconds: ptr(int64(3))})
	if err != nil {
		t.Fatalf("Watch from the list's resourceVersion %q: %v", list.ResourceVersion, err)
	}
	defer w.Stop()
	got := map[string]bool{}
	for e := range w.ResultChan() {
		if cm, ok := e.Object.(*corev1.ConfigMap); ok && e.Type == "ADDED" {
			got[cm.Name] = true
		}
		if len(got) == len(after) {
			break
		}
	}
	if got["anchor"] {
		t.Errorf("the watch from the list's version replayed the anchor's create, which the list had")
	}
	var missing []string
	for name := range after {
		if !got[name] {
			missing = append(missing, fmt.Sprintf("%s (shard %d)", name, k.router.ShardFor(consensus.Key{Kind: "ConfigMap", Namespace: ns, Name: name}, "")))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("a watch from the list's resourceVersion %q missed configmaps created after it: %v", list.ResourceVersion, missing)
	}
}

func abbrev(s []string) []string {
	if len(s) > 8 {
		return append(slices.Clone(s[:8]), fmt.Sprintf("...(%d more)", len(s)-8))
	}
	return s
}

func (k *kubeCluster) testLeaderElection(t *testing.T) {
	rec := newRecorder(t)
	cs := k.clients(t, rec)
	const ns, leaseName = "cg-election", "the-lock"
	mkNamespace(t, cs[0], ns)
	const leaseDuration = 6 * time.Second

	type candidate struct {
		id             string
		cancel         context.CancelFunc
		leading, ended chan struct{}
		stoppedLeading chan struct{}
	}
	start := func(id string, c *kubernetes.Clientset) *candidate {
		ctx, cancel := context.WithCancel(context.Background())
		cd := &candidate{id: id, cancel: cancel, leading: make(chan struct{}), ended: make(chan struct{}), stoppedLeading: make(chan struct{})}
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: &resourcelock.LeaseLock{
				LeaseMeta:  metav1.ObjectMeta{Name: leaseName, Namespace: ns},
				Client:     c.CoordinationV1(),
				LockConfig: resourcelock.ResourceLockConfig{Identity: id},
			},
			LeaseDuration:   leaseDuration,
			RenewDeadline:   4 * time.Second,
			RetryPeriod:     250 * time.Millisecond,
			ReleaseOnCancel: true,
			Name:            id,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(context.Context) { close(cd.leading) },
				OnStoppedLeading: func() { close(cd.stoppedLeading) },
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			defer close(cd.ended)
			le.Run(ctx)
		}()
		t.Cleanup(func() { cancel(); <-cd.ended })
		return cd
	}
	a := start("candidate-a", cs[0])
	b := start("candidate-b", cs[1])
	var leader, other *candidate
	select {
	case <-a.leading:
		leader, other = a, b
	case <-b.leading:
		leader, other = b, a
	case <-time.After(20 * time.Second):
		t.Fatal("no candidate leads after 20s")
	}
	holder := func() (*coordinationv1.Lease, error) {
		return cs[2].CoordinationV1().Leases(ns).Get(context.Background(), leaseName, metav1.GetOptions{})
	}
	l, err := holder()
	if err != nil {
		t.Fatal(err)
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != leader.id {
		t.Errorf("lease holder %v while %s leads", l.Spec.HolderIdentity, leader.id)
	}
	before := int32(0)
	if l.Spec.LeaseTransitions != nil {
		before = *l.Spec.LeaseTransitions
	}
	// A few renewals: the other candidate must not take over meanwhile.
	renewed := l.Spec.RenewTime
	if !poll.Until(10*time.Second, 100*time.Millisecond, func() bool {
		cur, err := holder()
		return err == nil && cur.Spec.RenewTime != nil && renewed != nil && cur.Spec.RenewTime.After(renewed.Time.Add(500*time.Millisecond))
	}) {
		t.Errorf("the leader did not renew its lease within 10s")
	}
	select {
	case <-other.leading:
		t.Fatalf("%s leads too, while %s holds the lease", other.id, leader.id)
	default:
	}

	stopped := time.Now()
	leader.cancel()
	select {
	case <-leader.stoppedLeading:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not stop leading 10s after its context ended", leader.id)
	}
	select {
	case <-other.leading:
	case <-time.After(3 * leaseDuration):
		t.Fatalf("%s did not take over within %s of %s stopping", other.id, 3*leaseDuration, leader.id)
	}
	took := time.Since(stopped)
	// ReleaseOnCancel hands the lease over: no waiting for it to expire.
	if took >= leaseDuration {
		t.Errorf("%s took over %s after %s released the lock: as long as an expiry (%s)", other.id, took.Round(time.Millisecond), leader.id, leaseDuration)
	}
	l, err = holder()
	if err != nil {
		t.Fatal(err)
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != other.id {
		t.Errorf("lease holder %v after the takeover, want %s", l.Spec.HolderIdentity, other.id)
	}
	if l.Spec.LeaseTransitions == nil || *l.Spec.LeaseTransitions <= before {
		t.Errorf("leaseTransitions %v after the takeover, was %d", l.Spec.LeaseTransitions, before)
	}
}

// seenPod is what an informer's handlers saw of one pod.
type seenPod struct {
	gens    []string // the gen label of each add and update, repeats folded
	deleted bool
}

func (k *kubeCluster) testInformerFailover(t *testing.T) {
	rec := newRecorder(t)
	cs := k.clients(t, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const ns, depName = "cg-informer", "inf-web"
	mkNamespace(t, cs[0], ns)

	// A Deployment's pods live in its shard; find that shard's leader.
	if _, err := cs[0].AppsV1().Deployments(ns).Create(ctx, deployment(depName, 2, "web:v1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	shard := k.router.ShardFor(consensus.Key{Kind: "Deployment", Namespace: ns, Name: depName}, "")
	depPods := func(c *kubernetes.Clientset) []corev1.Pod {
		l, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + depName})
		if err != nil {
			return nil
		}
		return l.Items
	}
	k.waitFor(30*time.Second, "the deployment's 2 pods", func() bool { return len(depPods(cs[0])) == 2 })
	for _, p := range depPods(cs[0]) {
		if !k.storedIn(t, k.peers[0], shard, consensus.Key{Kind: "Pod", Namespace: ns, Name: p.Name}) {
			t.Fatalf("the deployment's pod %s is not in its deployment's shard %d", p.Name, shard)
		}
	}
	var leader string
	k.waitFor(20*time.Second, fmt.Sprintf("a leader of shard %d", shard), func() bool {
		for _, s := range k.shards(t, k.peers[0]) {
			if s.ID == shard {
				leader = s.Leader
			}
		}
		return leader != ""
	})
	var victim *agent
	var survivors []int // indexes into k.peers and cs
	for i, a := range k.peers {
		if a.name == leader {
			victim = a
		} else {
			survivors = append(survivors, i)
		}
	}
	if victim == nil {
		t.Fatalf("shard %d's leader %q is none of the peers", shard, leader)
	}
	watchVia, writeVia := survivors[0], survivors[1]
	writer := cs[writeVia]
	t.Logf("deployment %s/%s is in shard %d, led by %s; the informer watches through %s, writes go through %s",
		ns, depName, shard, leader, k.peers[watchVia].name, k.peers[writeVia].name)

	// Bare pods whose own names hash to the same shard.
	var churn []string
	for i := 0; len(churn) < 10; i++ {
		name := fmt.Sprintf("churn-%03d", i)
		if k.router.ShardFor(consensus.Key{Kind: "Pod", Namespace: ns, Name: name}, "") == shard {
			churn = append(churn, name)
		}
	}

	// The informer, with client-go's defaults, through a survivor.
	var mu sync.Mutex
	seen := map[string]*seenPod{}
	saw := func(o any, deleted bool) {
		if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
			o = d.Obj
		}
		p, ok := o.(*corev1.Pod)
		if !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		s := seen[p.Name]
		if s == nil {
			s = &seenPod{}
			seen[p.Name] = s
		}
		if deleted {
			s.deleted = true
			return
		}
		if g := p.Labels["gen"]; len(s.gens) == 0 || s.gens[len(s.gens)-1] != g {
			s.gens = append(s.gens, g)
		}
	}
	var watchErrs []string
	informerRec := newRecorder(t)
	informerCS, err := kubernetes.NewForConfig(k.restConfig(t, k.peers[watchVia], informerRec))
	if err != nil {
		t.Fatal(err)
	}
	factory := informers.NewSharedInformerFactoryWithOptions(informerCS, 0, informers.WithNamespace(ns))
	inf := factory.Core().V1().Pods().Informer()
	if err := inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		mu.Lock()
		watchErrs = append(watchErrs, err.Error())
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { saw(o, false) },
		UpdateFunc: func(_, o any) { saw(o, false) },
		DeleteFunc: func(o any) { saw(o, true) },
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	syncCtx, syncCancel := context.WithTimeout(ctx, 20*time.Second)
	defer syncCancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), inf.HasSynced) {
		t.Fatal("the pod informer did not sync within 20s")
	}
	informerRequests := func() []exchange {
		return informerRec.exchanges(func(exchange) bool { return true })
	}
	if r := informerRequests(); len(r) == 0 || !strings.Contains(r[0].url, "sendInitialEvents=true") {
		var urls []string
		for _, x := range r {
			urls = append(urls, x.url)
		}
		t.Errorf("the informer's first request is not a streaming list (watch=true&sendInitialEvents=true): %v", urls)
	}

	// The writes, each retried through the survivor until it lands: the
	// shard has no leader for a while after the kill.
	written := map[string][]string{} // the gen values written, in order
	deleted := map[string]bool{}
	do := func(what string, op func() error) {
		t.Helper()
		var last error
		tried := false
		if !poll.Until(30*time.Second, 100*time.Millisecond, func() bool {
			err := op()
			switch {
			case err == nil:
				return true
			case tried && strings.HasPrefix(what, "create") && apierrors.IsAlreadyExists(err):
				return true // an earlier attempt whose answer was lost
			case tried && strings.HasPrefix(what, "delete") && apierrors.IsNotFound(err):
				return true
			}
			tried, last = true, err
			return false
		}) {
			t.Fatalf("%s through %s for 30s: %v", what, k.peers[writeVia].name, last)
		}
	}
	create := func(name string) {
		do("create "+name, func() error {
			_, err := writer.CoreV1().Pods(ns).Create(ctx, pod(name, map[string]string{"gen": "0", "churn": "yes"}), metav1.CreateOptions{})
			return err
		})
		written[name] = []string{"0"}
	}
	update := func(name, gen string) {
		do("update "+name, func() error {
			return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
				p, err := writer.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				if p.Labels["gen"] == gen {
					return nil // an earlier attempt landed
				}
				p.Labels["gen"] = gen
				_, err = writer.CoreV1().Pods(ns).Update(ctx, p, metav1.UpdateOptions{})
				return err
			})
		})
		written[name] = append(written[name], gen)
	}
	remove := func(name string) {
		do("delete "+name, func() error { return writer.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{}) })
		deleted[name] = true
	}

	for _, name := range churn[:5] {
		create(name)
	}
	for _, name := range churn[:5] {
		if !k.storedIn(t, k.peers[writeVia], shard, consensus.Key{Kind: "Pod", Namespace: ns, Name: name}) {
			t.Fatalf("bare pod %s is not in shard %d, its name's", name, shard)
		}
	}
	update(churn[0], "1")
	update(churn[1], "1")
	// A version from before the kill, and what each pod was at it, for a
	// watch that replays every change since.
	var beforeRV string
	beforeGen := map[string]string{}
	writtenBefore := map[string]int{}
	do("list before the kill", func() error {
		l, err := writer.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		beforeRV = l.ResourceVersion
		for _, p := range l.Items {
			beforeGen[p.Name] = p.Labels["gen"]
		}
		return nil
	})
	for name, w := range written {
		writtenBefore[name] = len(w)
	}

	t.Logf("kill -9 %s", victim.name)
	victim.kill()
	killed := time.Now()

	for round := 1; round <= 3; round++ {
		for _, name := range churn[:5] {
			if !deleted[name] {
				update(name, strconv.Itoa(round+1))
			}
		}
		create(churn[4+round])
		if round == 2 {
			remove(churn[2])
			remove(churn[5])
		}
	}
	remove(churn[3])
	do("scale the deployment to 3", func() error {
		s, err := writer.AppsV1().Deployments(ns).GetScale(ctx, depName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		s.Spec.Replicas = 3
		_, err = writer.AppsV1().Deployments(ns).UpdateScale(ctx, depName, s, metav1.UpdateOptions{})
		return err
	})
	t.Logf("the writes after the kill took %s", time.Since(killed).Round(time.Millisecond))
	var newLeader string
	k.waitFor(20*time.Second, fmt.Sprintf("a new leader of shard %d", shard), func() bool {
		for _, s := range k.shards(t, k.peers[writeVia]) {
			if s.ID == shard {
				newLeader = s.Leader
			}
		}
		return newLeader != "" && newLeader != victim.name
	})
	t.Logf("shard %d is now led by %s", shard, newLeader)
	k.waitFor(30*time.Second, "the deployment's 3 pods, its controller on a survivor", func() bool { return len(depPods(writer)) == 3 })

	// The informer's cache converges to what the API lists: names and
	// resourceVersions.
	apiState := func() (map[string]string, error) {
		l, err := writer.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, p := range l.Items {
			m[p.Name] = p.ResourceVersion
		}
		return m, nil
	}
	cacheState := func() map[string]string {
		m := map[string]string{}
		for _, o := range inf.GetStore().List() {
			p := o.(*corev1.Pod)
			m[p.Name] = p.ResourceVersion
		}
		return m
	}
	var listed, cached map[string]string
	var listErr error
	converged := poll.Until(20*time.Second, 100*time.Millisecond, func() bool {
		listed, listErr = apiState()
		cached = cacheState()
		return listErr == nil && fmt.Sprint(listed) == fmt.Sprint(cached)
	})
	if !converged {
		sameNames := len(listed) == len(cached)
		for n := range listed {
			if _, ok := cached[n]; !ok {
				sameNames = false
			}
		}
		var diff []string
		for n, rv := range listed {
			if cached[n] != rv {
				diff = append(diff, fmt.Sprintf("%s: listed at %q, cached at %q", n, rv, cached[n]))
			}
		}
		for n, rv := range cached {
			if _, ok := listed[n]; !ok {
				diff = append(diff, fmt.Sprintf("%s: cached at %q, not listed", n, rv))
			}
		}
		sort.Strings(diff)
		t.Errorf("the informer's cache (through %s) did not converge to the API's list within 20s (list error %v; same names: %v):\n  %s",
			k.peers[watchVia].name, listErr, sameNames, strings.Join(diff, "\n  "))
	}

	// No event lost: every create, update and delete reached the handlers,
	// in order.
	mu.Lock()
	defer mu.Unlock()
	for _, name := range churn {
		w, ok := written[name]
		if !ok {
			continue
		}
		s := seen[name]
		if s == nil {
			t.Errorf("%s: the informer's handlers never saw it (written gens %v)", name, w)
			continue
		}
		if strings.Join(s.gens, ",") != strings.Join(w, ",") {
			t.Errorf("%s: the handlers saw gens %v, written %v", name, s.gens, w)
		}
		if s.deleted != deleted[name] {
			t.Errorf("%s: the handlers saw a delete: %v; it was deleted: %v", name, s.deleted, deleted[name])
		}
	}
	for name, rv := range listed {
		if p, ok := seen[name]; !ok || p.deleted {
			t.Errorf("%s (listed at %s): the handlers saw no add, or saw it deleted", name, rv)
		}
	}
	mu.Unlock()
	k.checkReplay(t, cs[watchVia], ns, beforeRV, churn, beforeGen, written, writtenBefore, deleted)
	mu.Lock()

	var urls []string
	for _, x := range informerRequests() {
		urls = append(urls, fmt.Sprintf("%s -> %d after %s", x.url, x.status, x.took.Round(time.Millisecond)))
	}
	t.Logf("the informer's requests:\n  %s\nits watch errors: %v", strings.Join(urls, "\n  "), watchErrs)
}

// storedIn reports whether the shard holds the object, read through a
// peer's internal store route.
func (k *kubeCluster) storedIn(t *testing.T, via *agent, shard uint64, key consensus.Key) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var o consensus.Object
	err := k.peerClient(via, via).Do(ctx, http.MethodPost, fmt.Sprintf("/v1/internal/shards/%d/get", shard),
		map[string]any{"key": key, "linearizable": true}, &o)
	if errors.Is(err, errdefs.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatalf("read %s in shard %d: %v", key, shard, err)
	}
	return o.Name == key.Name
}

// checkReplay watches the pods from a version taken before the kill and
// checks that every change written since comes back, in order, each once:
// the store's history survives the leader's death.
func (k *kubeCluster) checkReplay(t *testing.T, cs *kubernetes.Clientset, ns, from string, churn []string,
	beforeGen map[string]string, written map[string][]string, writtenBefore map[string]int, deleted map[string]bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	want := map[string]string{} // name: gens after from, as "g1,g2", "+deleted"
	for _, name := range churn {
		w, ok := written[name]
		if !ok {
			continue
		}
		gens := []string{}
		if g, ok := beforeGen[name]; ok {
			gens = append(gens, g)
		}
		for _, g := range w[writtenBefore[name]:] {
			if len(gens) == 0 || gens[len(gens)-1] != g {
				gens = append(gens, g)
			}
		}
		want[name] = strings.Join(gens, ",")
		if deleted[name] {
			want[name] += ",+deleted"
		}
	}
	w, err := cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: from, LabelSelector: "churn=yes", TimeoutSeconds: ptr(int64(10))})
	if err != nil {
		t.Errorf("Watch pods from %q, a list version from before the kill: %v", from, err)
		return
	}
	defer w.Stop()
	got := map[string][]string{}
	for name, g := range beforeGen {
		if _, ok := want[name]; ok {
			got[name] = []string{g}
		}
	}
	render := func() map[string]string {
		out := map[string]string{}
		for n, g := range got {
			out[n] = strings.Join(g, ",")
		}
		return out
	}
	var bad []string
	for e := range w.ResultChan() {
		if e.Type == "ERROR" {
			bad = append(bad, fmt.Sprintf("an ERROR event: %v", apierrors.FromObject(e.Object)))
			break
		}
		p, ok := e.Object.(*corev1.Pod)
		if !ok {
			continue
		}
		if _, ok := want[p.Name]; !ok {
			continue
		}
		g := got[p.Name]
		switch {
		case e.Type == "DELETED":
			g = append(g, "+deleted")
		case len(g) > 0 && g[len(g)-1] == "+deleted":
			g = append(g, "(after its delete) "+p.Labels["gen"])
		case len(g) == 0 || g[len(g)-1] != p.Labels["gen"]:
			g = append(g, p.Labels["gen"])
		}
		got[p.Name] = g
		if fmt.Sprint(render()) == fmt.Sprint(want) {
			return
		}
	}
	t.Errorf("a watch from %q (before the kill) replayed, per pod (gen labels, +deleted):\n  got  %v\n  want %v\n  %v", from, render(), want, bad)
}
