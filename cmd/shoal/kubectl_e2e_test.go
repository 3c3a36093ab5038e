package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/shoalproject/shoal/internal/poll"
)

// The kubectl suite: stock kubectl, pointed at one peer or another of a
// cluster of three agent processes (no container runtime, so pods stay
// Pending), checked against what kubectl prints against Kubernetes: the
// lines it writes ("configmap/app configured"), the server-side columns of
// every served kind, jsonpath values, its exit codes. Each subtest makes
// the objects it reads, in a namespace of its own, so that one failing
// does not fail the next; they share the cluster to keep the suite fast.
//
// What needs running containers (logs, exec, port-forward, cp, wait for
// Available, rollout status to its end, top) is in
// TestKubectlStreamsOnContainerd, not here.
func TestKubectlAgainstAgentProcesses(t *testing.T) {
	kubectlForSuite(t)
	c := newProcCluster(t)
	p1 := c.start(1, 0)
	p2 := c.start(2, 1)
	p3 := c.start(3, 1)
	for _, a := range []*agent{p1, p2, p3} {
		c.waitStatus(a.name, "alive", p1, p2, p3)
	}
	k := &kcSuite{c: c, peers: []*agent{p1, p2, p3}, cache: t.TempDir(), home: t.TempDir(), files: t.TempDir()}
	c.waitFor(30*time.Second, "kubectl get nodes to list the three peers", func() bool {
		r := k.via(p1).run(t, "get", "nodes", "-o", "name")
		return r.code == 0 && r.stdout == "node/p1\nnode/p2\nnode/p3\n"
	})

	t.Run("version", k.testVersion)
	t.Run("cluster-info", k.testClusterInfo)
	t.Run("api-resources", k.testAPIResources)
	t.Run("api-versions", k.testAPIVersions)
	t.Run("explain", k.testExplain)
	t.Run("get", k.testGet)
	t.Run("describe", k.testDescribe)
	t.Run("create", k.testCreate)
	t.Run("apply", k.testApply)
	t.Run("apply-server-side", k.testServerSideApply)
	t.Run("diff", k.testDiff)
	t.Run("delete", k.testDelete)
	t.Run("delete-cascade", k.testDeleteCascade)
	t.Run("label-annotate", k.testLabelAnnotate)
	t.Run("patch", k.testPatch)
	t.Run("edit", k.testEdit)
	t.Run("scale", k.testScale)
	t.Run("set-image", k.testSetImage)
	t.Run("rollout", k.testRollout)
	t.Run("events", k.testEvents)
	t.Run("cordon-uncordon", k.testCordon)
	t.Run("drain", k.testDrain)
	t.Run("dry-run-server", k.testDryRun)
	t.Run("invalid", k.testInvalid)
}

// kubectlForSuite fails the test under CI when kubectl is missing, and
// skips it elsewhere, saying why.
func kubectlForSuite(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		msg := "kubectl is not on PATH: the kubectl suite runs stock kubectl (v1.32) against the peers"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// kcSuite is the shared cluster and kubectl's state: a discovery cache
// and a HOME of the test's own.
type kcSuite struct {
	c                  *procCluster
	peers              []*agent
	cache, home, files string
	next               int // round robin over the peers
}

// kcPeer runs kubectl against one peer, with env added to kubectl's.
type kcPeer struct {
	k   *kcSuite
	a   *agent
	env []string
}

// kcResult is what one kubectl run printed and its exit code (-1: it did
// not finish in time).
type kcResult struct {
	args           []string
	via            string
	stdout, stderr string
	code           int
}

func (r kcResult) String() string {
	return fmt.Sprintf("kubectl %s (via %s): exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.via, r.code, r.stdout, r.stderr)
}

// kcTimeout bounds one kubectl run: a command that hangs (a delete waiting
// for an object that never goes) fails the test rather than stalling it.
const kcTimeout = 30 * time.Second

func (k *kcSuite) via(a *agent) kcPeer { return kcPeer{k: k, a: a} }

// any is the next peer in turn: subtests talk to every peer.
func (k *kcSuite) any() kcPeer {
	a := k.peers[k.next%len(k.peers)]
	k.next++
	return k.via(a)
}

func (p kcPeer) with(env ...string) kcPeer {
	p.env = append(slices.Clip(p.env), env...)
	return p
}

func (p kcPeer) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append([]string{"--kubeconfig", p.k.c.config, "--server", "https://" + p.a.api(), "--cache-dir", p.k.cache}, args...)
	cmd := exec.CommandContext(ctx, "kubectl", full...)
	cmd.Env = append(os.Environ(), "HOME="+p.k.home, "KUBECONFIG=", "KUBE_EDITOR=", "KUBECTL_EXTERNAL_DIFF=")
	cmd.Env = append(cmd.Env, p.env...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (p kcPeer) run(t *testing.T, args ...string) kcResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kcTimeout)
	defer cancel()
	cmd := p.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := kcResult{args: args, via: p.a.name, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.code = -1
		r.stderr += fmt.Sprintf("\n[the test stopped kubectl: it had not finished after %s]", kcTimeout)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// ok runs kubectl and fails the test unless it exits 0; it returns stdout.
func (p kcPeer) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := p.run(t, args...)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	return r.stdout
}

// says runs kubectl, which must exit 0 and print exactly want.
func (p kcPeer) says(t *testing.T, want string, args ...string) {
	t.Helper()
	r := p.run(t, args...)
	if r.code != 0 || r.stdout != want {
		t.Fatalf("want exit 0 and stdout %q, got %s", want, r)
	}
}

// refused runs kubectl, which must exit code and say want (a substring)
// on stderr.
func (p kcPeer) refused(t *testing.T, code int, want string, args ...string) kcResult {
	t.Helper()
	r := p.run(t, args...)
	if r.code != code || !strings.Contains(r.stderr, want) {
		t.Fatalf("want exit %d and stderr containing %q, got %s", code, want, r)
	}
	return r
}

// file writes a manifest for kubectl -f and returns its path.
func (k *kcSuite) file(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(k.files, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// namespace makes a namespace for one subtest.
func (k *kcSuite) namespace(t *testing.T, name string) {
	t.Helper()
	k.any().says(t, "namespace/"+name+" created\n", "create", "namespace", name)
}

// eventually polls kubectl until check accepts what it printed, and fails
// the test with the last output when it never does.
func (p kcPeer) eventually(t *testing.T, d time.Duration, what string, check func(kcResult) bool, args ...string) kcResult {
	t.Helper()
	last, ok := p.settle(t, d, check, args...)
	if !ok {
		t.Fatalf("timed out after %s waiting for %s; last: %s", d, what, last)
	}
	return last
}

// settle polls kubectl until check accepts what it printed, or d has
// passed; it returns the last run and whether check accepted it.
func (p kcPeer) settle(t *testing.T, d time.Duration, check func(kcResult) bool, args ...string) (kcResult, bool) {
	t.Helper()
	var last kcResult
	ok := poll.Until(d, 200*time.Millisecond, func() bool { last = p.run(t, args...); return check(last) })
	return last, ok
}

// expect is says that lets the test go on when kubectl prints otherwise.
func (p kcPeer) expect(t *testing.T, want string, args ...string) {
	t.Helper()
	if r := p.run(t, args...); r.code != 0 || r.stdout != want {
		t.Errorf("want exit 0 and stdout %q, got %s", want, r)
	}
}

// jsonpath is one object's value at a jsonpath template.
func (p kcPeer) jsonpath(t *testing.T, tmpl string, args ...string) string {
	t.Helper()
	return p.ok(t, append(args, "-o", "jsonpath="+tmpl)...)
}

// kcTable is a table as kubectl prints it: the header's columns and the
// rows' cells, cut where the header's columns start (cells may hold
// spaces: "LAST SEEN", "<unknown> (amd64)").
type kcTable struct {
	header []string
	rows   []map[string]string
	text   string
}

var kcColumn = regexp.MustCompile(`\S+(?: \S+)*`)

func kcParseTable(t *testing.T, out string) kcTable {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	tb := kcTable{text: out}
	if len(lines) == 0 || lines[0] == "" {
		t.Fatalf("no table in %q", out)
	}
	locs := kcColumn.FindAllStringIndex(lines[0], -1)
	for _, l := range locs {
		tb.header = append(tb.header, lines[0][l[0]:l[1]])
	}
	for _, line := range lines[1:] {
		row := map[string]string{}
		for i, l := range locs {
			end := len(line)
			if i+1 < len(locs) {
				end = min(locs[i+1][0], len(line))
			}
			if l[0] < len(line) {
				row[tb.header[i]] = strings.TrimSpace(line[l[0]:end])
			} else {
				row[tb.header[i]] = ""
			}
		}
		tb.rows = append(tb.rows, row)
	}
	return tb
}

// wantHeader checks the table's columns, in order.
func (tb kcTable) wantHeader(t *testing.T, cols ...string) {
	t.Helper()
	if !slices.Equal(tb.header, cols) {
		t.Fatalf("columns %q, want %q in\n%s", tb.header, cols, tb.text)
	}
}

// row is the row whose column col is value.
func (tb kcTable) row(t *testing.T, col, value string) map[string]string {
	t.Helper()
	for _, r := range tb.rows {
		if r[col] == value {
			return r
		}
	}
	t.Fatalf("no row with %s %q in\n%s", col, value, tb.text)
	return nil
}

// column is one column's cells, top to bottom.
func (tb kcTable) column(col string) []string {
	var out []string
	for _, r := range tb.rows {
		out = append(out, r[col])
	}
	return out
}

var kcAge = regexp.MustCompile(`^[0-9]+[smhdy]`)

// kcWantCells checks cells of a row; a want of "AGE" is an age (5s, 3m2s).
func kcWantCells(t *testing.T, tb kcTable, row map[string]string, want map[string]string) {
	t.Helper()
	for col, w := range want {
		got, ok := row[col]
		switch {
		case !ok:
			t.Errorf("no column %s in\n%s", col, tb.text)
		case w == "AGE":
			if !kcAge.MatchString(got) {
				t.Errorf("%s is %q, want an age, in\n%s", col, got, tb.text)
			}
		case got != w:
			t.Errorf("%s is %q, want %q, in\n%s", col, got, w, tb.text)
		}
	}
}

// kcHasLine reports whether out has the line, trailing spaces aside.
func kcHasLine(out, line string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimRight(l, " ") == line {
			return true
		}
	}
	return false
}

// kcWantLines checks that out has every line.
func kcWantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !kcHasLine(out, l) {
			t.Errorf("no line %q in\n%s", l, out)
		}
	}
}

// kcWantMatch checks that out has a line matching the pattern.
func kcWantMatch(t *testing.T, out, pattern string) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	for _, l := range strings.Split(out, "\n") {
		if re.MatchString(l) {
			return
		}
	}
	t.Errorf("no line matching %q in\n%s", pattern, out)
}

func (k *kcSuite) testVersion(t *testing.T) {
	p := k.any()
	out := p.ok(t, "version")
	kcWantMatch(t, out, `^Client Version: v1\.[0-9]+\.[0-9]+`)
	kcWantMatch(t, out, `^Server Version: v1\.[0-9]+\.[0-9]+`)
	var v struct {
		ServerVersion struct{ Major, Minor, GitVersion string } `json:"serverVersion"`
	}
	if err := json.Unmarshal([]byte(p.ok(t, "version", "-o", "json")), &v); err != nil {
		t.Fatal(err)
	}
	sv := v.ServerVersion
	if !strings.HasPrefix(sv.GitVersion, "v"+sv.Major+"."+sv.Minor+".") || sv.Major != "1" {
		t.Fatalf("serverVersion %+v: gitVersion does not begin with v<major>.<minor>.", sv)
	}
	if !kcHasLine(out, "Server Version: "+sv.GitVersion) {
		t.Fatalf("the Server Version line is not the server's gitVersion %q:\n%s", sv.GitVersion, out)
	}
}

func (k *kcSuite) testClusterInfo(t *testing.T) {
	for _, a := range k.peers {
		out := k.via(a).ok(t, "cluster-info")
		kcWantLines(t, out, "Kubernetes control plane is running at https://"+a.api())
	}
}

func (k *kcSuite) testAPIResources(t *testing.T) {
	tb := kcParseTable(t, k.any().ok(t, "api-resources"))
	tb.wantHeader(t, "NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND")
	want := [][5]string{
		{"configmaps", "cm", "v1", "true", "ConfigMap"},
		{"endpoints", "ep", "v1", "true", "Endpoints"},
		{"events", "ev", "v1", "true", "Event"},
		{"namespaces", "ns", "v1", "false", "Namespace"},
		{"nodes", "no", "v1", "false", "Node"},
		{"persistentvolumeclaims", "pvc", "v1", "true", "PersistentVolumeClaim"},
		{"persistentvolumes", "pv", "v1", "false", "PersistentVolume"},
		{"pods", "po", "v1", "true", "Pod"},
		{"secrets", "", "v1", "true", "Secret"},
		{"services", "svc", "v1", "true", "Service"},
		{"deployments", "deploy", "apps/v1", "true", "Deployment"},
		{"replicasets", "rs", "apps/v1", "true", "ReplicaSet"},
		{"leases", "", "coordination.k8s.io/v1", "true", "Lease"},
		{"limitranges", "limits", "v1", "true", "LimitRange"},
		{"resourcequotas", "quota", "v1", "true", "ResourceQuota"},
		{"serviceaccounts", "sa", "v1", "true", "ServiceAccount"},
		{"priorityclasses", "pc", "scheduling.k8s.io/v1", "false", "PriorityClass"},
		{"endpointslices", "", "discovery.k8s.io/v1", "true", "EndpointSlice"},
	}
	for _, w := range want {
		kcWantCells(t, tb, tb.row(t, "NAME", w[0]), map[string]string{"SHORTNAMES": w[1], "APIVERSION": w[2], "NAMESPACED": w[3], "KIND": w[4]})
	}
	if len(tb.rows) != len(want) {
		t.Errorf("%d resources, want the %d served:\n%s", len(tb.rows), len(want), tb.text)
	}

	wide := kcParseTable(t, k.any().ok(t, "api-resources", "-o", "wide", "--api-group=apps"))
	wide.wantHeader(t, "NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS", "CATEGORIES")
	kcWantCells(t, wide, wide.row(t, "NAME", "deployments"), map[string]string{
		"VERBS": "create,delete,deletecollection,get,list,patch,update,watch", "CATEGORIES": "all"})
	if names := wide.column("NAME"); !slices.Equal(names, []string{"deployments", "replicasets"}) {
		t.Errorf("--api-group=apps lists %q", names)
	}
	k.any().says(t, "namespaces\nnodes\npersistentvolumes\npriorityclasses.scheduling.k8s.io\n", "api-resources", "--namespaced=false", "-o", "name")
}

func (k *kcSuite) testAPIVersions(t *testing.T) {
	k.any().says(t, "apps/v1\ncoordination.k8s.io/v1\ndiscovery.k8s.io/v1\nscheduling.k8s.io/v1\nv1\n", "api-versions")
}

func (k *kcSuite) testExplain(t *testing.T) {
	out := k.any().ok(t, "explain", "deployment.spec.strategy")
	kcWantLines(t, out, "GROUP:      apps", "KIND:       Deployment", "VERSION:    v1", "FIELD: strategy <DeploymentStrategy>",
		"  rollingUpdate\t<RollingUpdateDeployment>", "  type\t<string>")
	out = k.any().ok(t, "explain", "pods.spec.containers.image")
	kcWantLines(t, out, "KIND:       Pod", "FIELD: image <string>")
}

// kcGetManifest is what the get subtests read: one object of every kind a
// user writes, in namespace kc-get, and a pod bound to p3.
const kcGetManifest = `apiVersion: v1
kind: ConfigMap
metadata: {name: app, namespace: kc-get, labels: {tier: front}}
data: {color: blue, size: L}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other, namespace: kc-get, labels: {tier: back}}
data: {color: red}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: kc-get}
stringData: {password: hunter2}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: kc-get}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: kc-get, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: "nginx:1.0"}]
---
apiVersion: v1
kind: Pod
metadata: {name: pinned, namespace: kc-get, labels: {app: pinned}}
spec:
  nodeName: p3
  containers: [{name: c, image: "nginx:1.0"}]
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: kc-get-pv}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/kc-get-pv}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: claim, namespace: kc-get}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: lock, namespace: kc-get}
spec: {holderIdentity: me, leaseDurationSeconds: 15}
`

func (k *kcSuite) testGet(t *testing.T) {
	k.namespace(t, "kc-get")
	out := k.any().ok(t, "apply", "-f", k.file(t, "get.yaml", kcGetManifest))
	kcWantLines(t, out, "configmap/app created", "configmap/other created", "secret/creds created", "service/web created",
		"deployment.apps/web created", "pod/pinned created", "persistentvolume/kc-get-pv created",
		"persistentvolumeclaim/claim created", "lease.coordination.k8s.io/lock created")
	ns := []string{"-n", "kc-get"}
	get := func(t *testing.T, args ...string) kcTable {
		t.Helper()
		return kcParseTable(t, k.any().ok(t, append(append([]string{"get"}, args...), ns...)...))
	}

	t.Run("nodes", func(t *testing.T) {
		tb := get(t, "nodes")
		tb.wantHeader(t, "NAME", "STATUS", "ROLES", "AGE", "VERSION")
		if names := tb.column("NAME"); !slices.Equal(names, []string{"p1", "p2", "p3"}) {
			t.Fatalf("nodes %q", names)
		}
		wide := get(t, "nodes", "-o", "wide")
		wide.wantHeader(t, "NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME")
		for _, a := range k.peers {
			r := wide.row(t, "NAME", a.name)
			kcWantCells(t, wide, r, map[string]string{"ROLES": "<none>", "AGE": "AGE", "INTERNAL-IP": a.ip, "EXTERNAL-IP": "<none>"})
			if s := r["STATUS"]; s != "Ready" && s != "NotReady" {
				t.Errorf("%s STATUS %q", a.name, s)
			}
		}
	})
	t.Run("namespaces", func(t *testing.T) {
		tb := get(t, "namespaces")
		tb.wantHeader(t, "NAME", "STATUS", "AGE")
		kcWantCells(t, tb, tb.row(t, "NAME", "default"), map[string]string{"STATUS": "Active", "AGE": "AGE"})
		kcWantCells(t, tb, tb.row(t, "NAME", "kc-get"), map[string]string{"STATUS": "Active", "AGE": "AGE"})
	})
	t.Run("configmaps", func(t *testing.T) {
		tb := get(t, "configmaps")
		tb.wantHeader(t, "NAME", "DATA", "AGE")
		kcWantCells(t, tb, tb.row(t, "NAME", "app"), map[string]string{"DATA": "2", "AGE": "AGE"})
		kcWantCells(t, tb, tb.row(t, "NAME", "other"), map[string]string{"DATA": "1"})
	})
	t.Run("secrets", func(t *testing.T) {
		tb := get(t, "secrets")
		tb.wantHeader(t, "NAME", "TYPE", "DATA", "AGE")
		kcWantCells(t, tb, tb.row(t, "NAME", "creds"), map[string]string{"TYPE": "Opaque", "DATA": "1", "AGE": "AGE"})
	})
	t.Run("services", func(t *testing.T) {
		tb := get(t, "services", "-o", "wide")
		tb.wantHeader(t, "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR")
		r := tb.row(t, "NAME", "web")
		kcWantCells(t, tb, r, map[string]string{"TYPE": "ClusterIP", "EXTERNAL-IP": "<none>", "PORT(S)": "80/TCP", "AGE": "AGE", "SELECTOR": "app=web"})
		_, cidr, _ := net.ParseCIDR("10.96.0.0/12")
		if ip := net.ParseIP(r["CLUSTER-IP"]); ip == nil || !cidr.Contains(ip) {
			t.Errorf("CLUSTER-IP %q is not in the service CIDR 10.96.0.0/12", r["CLUSTER-IP"])
		}
	})
	t.Run("endpoints", func(t *testing.T) {
		r := k.any().eventually(t, 15*time.Second, "the service's endpoints", func(r kcResult) bool {
			return r.code == 0 && strings.Contains(r.stdout, "web")
		}, "get", "endpoints", "-n", "kc-get")
		tb := kcParseTable(t, r.stdout)
		tb.wantHeader(t, "NAME", "ENDPOINTS", "AGE")
		kcWantCells(t, tb, tb.row(t, "NAME", "web"), map[string]string{"ENDPOINTS": "<none>", "AGE": "AGE"}) // no pod is ready
	})
	t.Run("pods", func(t *testing.T) {
		tb := get(t, "pods")
		tb.wantHeader(t, "NAME", "READY", "STATUS", "RESTARTS", "AGE")
		kcWantCells(t, tb, tb.row(t, "NAME", "pinned"), map[string]string{"READY": "0/1", "STATUS": "Pending", "RESTARTS": "0", "AGE": "AGE"})
		wide := get(t, "pods", "-o", "wide", "-l", "app=pinned")
		wide.wantHeader(t, "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
		kcWantCells(t, wide, wide.row(t, "NAME", "pinned"), map[string]string{"IP": "<none>", "NODE": "p3", "NOMINATED NODE": "<none>", "READINESS GATES": "<none>"})
	})
	t.Run("deployments", func(t *testing.T) {
		r := k.any().eventually(t, 15*time.Second, "the deployment's two replicas to be created", func(r kcResult) bool {
			return r.code == 0 && strings.Contains(r.stdout, "0/2")
		}, "get", "deployments", "-n", "kc-get", "-o", "wide")
		tb := kcParseTable(t, r.stdout)
		tb.wantHeader(t, "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR")
		kcWantCells(t, tb, tb.row(t, "NAME", "web"), map[string]string{"READY": "0/2", "UP-TO-DATE": "2", "AVAILABLE": "0", "AGE": "AGE",
			"CONTAINERS": "nginx", "IMAGES": "nginx:1.0", "SELECTOR": "app=web"})
		get(t, "deployments").wantHeader(t, "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE")
	})
	t.Run("replicasets", func(t *testing.T) {
		tb := get(t, "replicasets", "-o", "wide")
		tb.wantHeader(t, "NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR")
		if len(tb.rows) != 1 {
			t.Fatalf("want the deployment's one replica set:\n%s", tb.text)
		}
		r := tb.rows[0]
		if !strings.HasPrefix(r["NAME"], "web-") || !strings.HasPrefix(r["SELECTOR"], "app=web,pod-template-hash=") {
			t.Errorf("replica set row %q", r)
		}
		kcWantCells(t, tb, r, map[string]string{"DESIRED": "2", "CURRENT": "2", "READY": "0", "AGE": "AGE", "CONTAINERS": "nginx", "IMAGES": "nginx:1.0"})
		get(t, "replicasets").wantHeader(t, "NAME", "DESIRED", "CURRENT", "READY", "AGE")
	})
	t.Run("persistentvolumes", func(t *testing.T) {
		r := k.any().eventually(t, 15*time.Second, "the claim to bind the volume", func(r kcResult) bool {
			return r.code == 0 && strings.Contains(r.stdout, "kc-get/claim")
		}, "get", "persistentvolumes", "-o", "wide")
		tb := kcParseTable(t, r.stdout)
		tb.wantHeader(t, "NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON", "AGE", "VOLUMEMODE")
		kcWantCells(t, tb, tb.row(t, "NAME", "kc-get-pv"), map[string]string{"CAPACITY": "1Gi", "ACCESS MODES": "RWO", "RECLAIM POLICY": "Retain",
			"STATUS": "Bound", "CLAIM": "kc-get/claim", "STORAGECLASS": "", "VOLUMEATTRIBUTESCLASS": "<unset>", "AGE": "AGE", "VOLUMEMODE": "Filesystem"})
	})
	t.Run("persistentvolumeclaims", func(t *testing.T) {
		r := k.any().eventually(t, 15*time.Second, "the claim to be bound", func(r kcResult) bool {
			return r.code == 0 && strings.Contains(r.stdout, "Bound")
		}, "get", "persistentvolumeclaims", "-n", "kc-get", "-o", "wide")
		tb := kcParseTable(t, r.stdout)
		tb.wantHeader(t, "NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE", "VOLUMEMODE")
		kcWantCells(t, tb, tb.row(t, "NAME", "claim"), map[string]string{"STATUS": "Bound", "VOLUME": "kc-get-pv", "CAPACITY": "1Gi",
			"ACCESS MODES": "RWO", "STORAGECLASS": "", "VOLUMEATTRIBUTESCLASS": "<unset>", "AGE": "AGE", "VOLUMEMODE": "Filesystem"})
	})
	t.Run("leases", func(t *testing.T) {
		tb := get(t, "leases")
		tb.wantHeader(t, "NAME", "HOLDER", "AGE")
		kcWantCells(t, tb, tb.row(t, "NAME", "lock"), map[string]string{"HOLDER": "me", "AGE": "AGE"})
	})
	t.Run("events", func(t *testing.T) {
		r := k.any().eventually(t, 20*time.Second, "the scheduler's FailedScheduling events", func(r kcResult) bool {
			return r.code == 0 && strings.Contains(r.stdout, "FailedScheduling")
		}, "get", "events", "-n", "kc-get")
		tb := kcParseTable(t, r.stdout)
		tb.wantHeader(t, "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")
		row := tb.row(t, "REASON", "FailedScheduling")
		kcWantCells(t, tb, row, map[string]string{"TYPE": "Warning", "LAST SEEN": "AGE"})
		if !strings.HasPrefix(row["OBJECT"], "pod/web-") || !strings.HasPrefix(row["MESSAGE"], "0/3 nodes are available") {
			t.Errorf("FailedScheduling row %q", row)
		}
		wide := get(t, "events", "-o", "wide")
		wide.wantHeader(t, "LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME")
	})
	t.Run("all", func(t *testing.T) {
		out := k.any().ok(t, "get", "all", "-n", "kc-get", "-o", "name")
		for _, prefix := range []string{"pod/pinned\n", "service/web\n", "deployment.apps/web\n", "replicaset.apps/web-"} {
			if !strings.Contains(out, prefix) {
				t.Errorf("get all has no %q:\n%s", prefix, out)
			}
		}
	})
	t.Run("all-namespaces", func(t *testing.T) {
		k.namespace(t, "kc-get-2")
		k.any().says(t, "configmap/app created\n", "create", "configmap", "app", "-n", "kc-get-2", "--from-literal=k=v")
		tb := kcParseTable(t, k.any().ok(t, "get", "configmaps", "-A", "--field-selector", "metadata.name=app"))
		tb.wantHeader(t, "NAMESPACE", "NAME", "DATA", "AGE")
		if got := tb.column("NAMESPACE"); !slices.Equal(got, []string{"kc-get", "kc-get-2"}) {
			t.Errorf("-A lists namespaces %q:\n%s", got, tb.text)
		}
		kcWantCells(t, tb, tb.row(t, "NAMESPACE", "kc-get-2"), map[string]string{"NAME": "app", "DATA": "1"})
		wide := kcParseTable(t, k.any().ok(t, "get", "pods", "-A", "-o", "wide", "--field-selector", "metadata.name=pinned"))
		wide.wantHeader(t, "NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
	})
	t.Run("label-selector", func(t *testing.T) {
		k.any().says(t, "configmap/app\n", append([]string{"get", "cm", "-l", "tier=front", "-o", "name"}, ns...)...)
		k.any().says(t, "configmap/other\n", append([]string{"get", "cm", "-l", "tier!=front,tier", "-o", "name"}, ns...)...)
		k.any().says(t, "configmap/app\nconfigmap/other\n", append([]string{"get", "cm", "-l", "tier in (front,back)", "-o", "name"}, ns...)...)
		r := k.any().run(t, append([]string{"get", "cm", "-l", "tier=none"}, ns...)...)
		if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "No resources found in kc-get namespace.") {
			t.Errorf("an empty selection: %s", r)
		}
	})
	t.Run("field-selector", func(t *testing.T) {
		k.any().says(t, "configmap/other\n", append([]string{"get", "cm", "--field-selector", "metadata.name=other", "-o", "name"}, ns...)...)
		k.any().says(t, "pod/pinned\n", append([]string{"get", "pods", "--field-selector", "spec.nodeName=p3", "-o", "name"}, ns...)...)
		tb := get(t, "pods", "--field-selector", "status.phase=Pending")
		if len(tb.rows) < 3 { // pinned and the deployment's two
			t.Errorf("status.phase=Pending lists %d pods, want 3:\n%s", len(tb.rows), tb.text)
		}
		for _, r := range tb.rows {
			if r["STATUS"] != "Pending" {
				t.Errorf("status.phase=Pending lists a %s pod:\n%s", r["STATUS"], tb.text)
			}
		}
		r := k.any().run(t, append([]string{"get", "pods", "--field-selector", "status.phase=Running"}, ns...)...)
		if r.code != 0 || !strings.Contains(r.stderr, "No resources found in kc-get namespace.") {
			t.Errorf("status.phase=Running: %s", r)
		}
		k.any().refused(t, 1, `field label not supported: data.color`, append([]string{"get", "cm", "--field-selector", "data.color=blue"}, ns...)...)
	})
	t.Run("output-yaml", func(t *testing.T) {
		var cm struct {
			APIVersion, Kind string
			Metadata         struct{ Name, Namespace, UID, ResourceVersion, CreationTimestamp string }
			Data             map[string]string
		}
		if err := yaml.Unmarshal([]byte(k.any().ok(t, append([]string{"get", "cm", "app", "-o", "yaml"}, ns...)...)), &cm); err != nil {
			t.Fatal(err)
		}
		if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" || cm.Metadata.Name != "app" || cm.Metadata.Namespace != "kc-get" ||
			cm.Metadata.UID == "" || cm.Metadata.ResourceVersion == "" || cm.Metadata.CreationTimestamp == "" || cm.Data["color"] != "blue" {
			t.Errorf("-o yaml: %+v", cm)
		}
	})
	t.Run("output-json", func(t *testing.T) {
		var list struct {
			APIVersion, Kind string
			Items            []struct {
				Kind     string
				Metadata struct{ Name string }
			}
		}
		if err := json.Unmarshal([]byte(k.any().ok(t, append([]string{"get", "cm", "-l", "tier", "-o", "json"}, ns...)...)), &list); err != nil {
			t.Fatal(err)
		}
		if list.Kind != "List" || list.APIVersion != "v1" || len(list.Items) != 2 || list.Items[0].Metadata.Name != "app" || list.Items[0].Kind != "ConfigMap" {
			t.Errorf("-o json: %+v", list)
		}
		var sec struct{ Data map[string]string }
		if err := json.Unmarshal([]byte(k.any().ok(t, append([]string{"get", "secret", "creds", "-o", "json"}, ns...)...)), &sec); err != nil {
			t.Fatal(err)
		}
		if got, _ := base64.StdEncoding.DecodeString(sec.Data["password"]); string(got) != "hunter2" {
			t.Errorf("secret data %q, want base64 of hunter2", sec.Data["password"])
		}
	})
	t.Run("output-jsonpath", func(t *testing.T) {
		p := k.any()
		if got := p.jsonpath(t, "{.data.color}", append([]string{"get", "cm", "app"}, ns...)...); got != "blue" {
			t.Errorf("jsonpath {.data.color}: %q", got)
		}
		if got := p.jsonpath(t, `{range .items[*]}{.metadata.name}={.data.color}{"\n"}{end}`, append([]string{"get", "cm", "-l", "tier"}, ns...)...); got != "app=blue\nother=red\n" {
			t.Errorf("jsonpath range: %q", got)
		}
		if got := p.jsonpath(t, "{.spec.replicas} {.spec.strategy.type} {.spec.template.spec.containers[0].image}", append([]string{"get", "deploy", "web"}, ns...)...); got != "2 RollingUpdate nginx:1.0" {
			t.Errorf("deployment jsonpath: %q", got)
		}
		if got := p.jsonpath(t, "{.items[*].metadata.name}", "get", "nodes"); got != "p1 p2 p3" {
			t.Errorf("nodes jsonpath: %q", got)
		}
	})
	t.Run("pod-defaults", func(t *testing.T) {
		// What kube-apiserver's defaulting gives a pod that says only its
		// containers' names and images, as -o jsonpath shows it.
		got := k.any().jsonpath(t, "{.spec.schedulerName} {.spec.restartPolicy} {.spec.dnsPolicy} {.spec.terminationGracePeriodSeconds} "+
			"{.spec.containers[0].terminationMessagePath} {.spec.containers[0].terminationMessagePolicy} {.spec.containers[0].imagePullPolicy}",
			append([]string{"get", "pod", "pinned"}, ns...)...)
		if want := "default-scheduler Always ClusterFirst 30 /dev/termination-log File IfNotPresent"; got != want {
			t.Errorf("pod defaults %q, want %q", got, want)
		}
	})
	t.Run("output-custom-columns", func(t *testing.T) {
		out := k.any().ok(t, append([]string{"get", "cm", "-l", "tier", "-o", "custom-columns=NAME:.metadata.name,COLOR:.data.color,TIER:.metadata.labels.tier"}, ns...)...)
		tb := kcParseTable(t, out)
		tb.wantHeader(t, "NAME", "COLOR", "TIER")
		kcWantCells(t, tb, tb.row(t, "NAME", "app"), map[string]string{"COLOR": "blue", "TIER": "front"})
		kcWantCells(t, tb, tb.row(t, "NAME", "other"), map[string]string{"COLOR": "red", "TIER": "back"})
	})
	t.Run("output-name", func(t *testing.T) {
		k.any().says(t, "configmap/app\nconfigmap/other\n", append([]string{"get", "cm", "-l", "tier", "-o", "name"}, ns...)...)
		k.any().says(t, "lease.coordination.k8s.io/lock\n", append([]string{"get", "leases", "-o", "name"}, ns...)...)
		k.any().says(t, "persistentvolume/kc-get-pv\n", "get", "pv", "kc-get-pv", "-o", "name")
	})
	t.Run("not-found", func(t *testing.T) {
		k.any().refused(t, 1, `Error from server (NotFound): configmaps "nope" not found`, append([]string{"get", "cm", "nope"}, ns...)...)
	})
	t.Run("watch", func(t *testing.T) {
		w := k.any().start(t, append([]string{"get", "cm", "-w"}, ns...)...)
		w.waitFor(t, "the initial list", func(out string) bool { return kcHasLine(kcNames(out), "other") })
		k.any().says(t, "configmap/watched created\n", append([]string{"create", "cm", "watched", "--from-literal=a=1", "--from-literal=b=2"}, ns...)...)
		out := w.waitFor(t, "the new configmap's row", func(out string) bool { return kcHasLine(kcNames(out), "watched") })
		tb := kcParseTable(t, out)
		tb.wantHeader(t, "NAME", "DATA", "AGE")
		kcWantCells(t, tb, tb.row(t, "NAME", "app"), map[string]string{"DATA": "2"})
		kcWantCells(t, tb, tb.row(t, "NAME", "watched"), map[string]string{"DATA": "2", "AGE": "AGE"})
	})
	t.Run("watch-only", func(t *testing.T) {
		k.any().says(t, "configmap/seen created\n", append([]string{"create", "cm", "seen", "--from-literal=a=1"}, ns...)...)
		w := k.any().start(t, append([]string{"get", "cm", "--watch-only", "-l", "watch=me"}, ns...)...)
		// kubectl prints nothing before the first event, so the test cannot
		// tell when its watch is open: it changes the object until the row
		// shows, each change an event (the first one brings it into the
		// selection).
		n := 0
		var last kcResult
		if !poll.Until(15*time.Second, 500*time.Millisecond, func() bool {
			n++
			last = k.any().run(t, append([]string{"label", "cm", "seen", "watch=me", fmt.Sprintf("n=%d", n), "--overwrite"}, ns...)...)
			return last.code == 0 && w.has(func(out string) bool { return kcHasLine(kcNames(out), "seen") })
		}) {
			t.Fatalf("kubectl get --watch-only printed no row for the labelled configmap; stdout:\n%s\nstderr:\n%s\nlast label: %s", w.out.String(), w.errb.String(), last)
		}
		out := w.out.String()
		tb := kcParseTable(t, out)
		tb.wantHeader(t, "NAME", "DATA", "AGE")
		for _, name := range tb.column("NAME") {
			if name != "seen" {
				t.Errorf("--watch-only printed %q, which did not change:\n%s", name, out)
			}
		}
	})
	t.Run("watch-deployment", func(t *testing.T) {
		w := k.any().start(t, append([]string{"get", "deploy", "web", "-w"}, ns...)...)
		w.waitFor(t, "the deployment's row", func(out string) bool { return kcHasLine(kcNames(out), "web") })
		k.any().says(t, "deployment.apps/web scaled\n", append([]string{"scale", "deploy", "web", "--replicas=3"}, ns...)...)
		w.waitFor(t, "the scaled deployment's row (READY 0/3)", func(out string) bool { return strings.Contains(out, "0/3") })
	})
}

// kcNames is out's lines cut to their first field: the NAME column.
func kcNames(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			b.WriteString(f[0])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// kcBackground is a kubectl that runs until the test stops it: get -w.
type kcBackground struct {
	cmd  *exec.Cmd
	out  *syncBuffer // stdout
	errb *syncBuffer
	done chan struct{}
}

func (p kcPeer) start(t *testing.T, args ...string) *kcBackground {
	t.Helper()
	b := &kcBackground{cmd: p.command(context.Background(), args...), out: &syncBuffer{}, errb: &syncBuffer{}, done: make(chan struct{})}
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.errb
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	t.Cleanup(b.stop)
	return b
}

// has reports whether what kubectl has printed so far satisfies cond.
func (b *kcBackground) has(cond func(string) bool) bool { return cond(b.out.String()) }

// waitFor waits until what kubectl printed satisfies cond, and returns it.
func (b *kcBackground) waitFor(t *testing.T, what string, cond func(string) bool) string {
	t.Helper()
	exited := false
	if !poll.Until(15*time.Second, 50*time.Millisecond, func() bool {
		select {
		case <-b.done:
			exited = true
		default:
		}
		return cond(b.out.String()) || exited
	}) || (exited && !cond(b.out.String())) {
		t.Fatalf("kubectl %s: waiting for %s (exited: %v); stdout:\n%s\nstderr:\n%s", strings.Join(b.cmd.Args[7:], " "), what, exited, b.out.String(), b.errb.String())
	}
	return b.out.String()
}

func (b *kcBackground) stop() {
	select {
	case <-b.done:
		return
	default:
	}
	_ = b.cmd.Process.Kill()
	<-b.done
}

func (k *kcSuite) testDescribe(t *testing.T) {
	k.namespace(t, "kc-describe")
	ns := []string{"-n", "kc-describe"}
	k.any().says(t, "deployment.apps/web created\n", append([]string{"create", "deployment", "web", "--image=nginx:1.0", "--replicas=2"}, ns...)...)
	k.any().says(t, "configmap/app created\n", append([]string{"create", "configmap", "app", "--from-literal=color=blue"}, ns...)...)

	t.Run("deployment", func(t *testing.T) {
		// The deployment controller's event says it scaled the new replica
		// set up; the rest of describe is checked either way.
		r, _ := k.any().settle(t, 10*time.Second, func(r kcResult) bool {
			return r.code == 0 && strings.Contains(r.stdout, "ScalingReplicaSet")
		}, append([]string{"describe", "deployment", "web"}, ns...)...)
		if r.code != 0 {
			t.Fatalf("%s", r)
		}
		out := r.stdout
		kcWantLines(t, out, "Name:                   web", "Namespace:              kc-describe", "Selector:               app=web",
			"Replicas:               2 desired | 2 updated | 2 total | 0 available | 2 unavailable",
			"StrategyType:           RollingUpdate", "RollingUpdateStrategy:  25% max unavailable, 25% max surge")
		kcWantMatch(t, out, `^NewReplicaSet:\s+web-\S+ \(2/2 replicas created\)$`)
		kcWantMatch(t, out, `^\s+Normal\s+ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set web-\S+ from 0 to 2$`)
	})
	t.Run("pod", func(t *testing.T) {
		pod := strings.TrimSpace(k.any().ok(t, append([]string{"get", "pods", "-o", "name", "-l", "app=web"}, ns...)...))
		pod, _, _ = strings.Cut(pod, "\n")
		if pod == "" {
			t.Fatal("the deployment has no pods")
		}
		r := k.any().eventually(t, 20*time.Second, "the pod's FailedScheduling event", func(r kcResult) bool {
			return r.code == 0 && strings.Contains(r.stdout, "FailedScheduling")
		}, append([]string{"describe", pod}, ns...)...)
		out := r.stdout
		kcWantMatch(t, out, `^Name:\s+`+strings.TrimPrefix(pod, "pod/")+`$`)
		kcWantMatch(t, out, `^Namespace:\s+kc-describe$`)
		kcWantMatch(t, out, `^Node:\s+<none>$`)
		kcWantMatch(t, out, `^Status:\s+Pending$`)
		kcWantMatch(t, out, `^Events:$`)
		kcWantMatch(t, out, `^Controlled By:\s+ReplicaSet/web-\S+$`)
		kcWantMatch(t, out, `^\s+Type\s+Reason\s+Age\s+From\s+Message$`)
		kcWantMatch(t, out, `^\s+Warning\s+FailedScheduling\s+\S+\s+\S+\s+0/3 nodes are available`)
	})
	t.Run("node", func(t *testing.T) {
		a := k.peers[0]
		out := k.any().ok(t, "describe", "node", a.name)
		kcWantMatch(t, out, `^Name:\s+`+a.name+`$`)
		kcWantMatch(t, out, `^\s+InternalIP:\s+`+regexp.QuoteMeta(a.ip)+`$`)
		kcWantMatch(t, out, `^Unschedulable:\s+false$`)
		kcWantMatch(t, out, `^Labels:\s+.*kubernetes\.io/arch=`)
		kcWantMatch(t, out, `^Events:`)
		// kube-node-lease holds every node's heartbeat Lease, which
		// describe shows.
		kcWantMatch(t, out, `^\s+HolderIdentity:\s+`+a.name+`$`)
	})
	t.Run("configmap", func(t *testing.T) {
		out := k.any().ok(t, append([]string{"describe", "configmap", "app"}, ns...)...)
		if want := "Name:         app\nNamespace:    kc-describe\nLabels:       <none>\nAnnotations:  <none>\n\nData\n====\ncolor:\n----\nblue\n\n\nBinaryData\n====\n\nEvents:  <none>\n"; out != want {
			t.Errorf("describe configmap:\n%s\nwant:\n%s", out, want)
		}
	})
}

func (k *kcSuite) testCreate(t *testing.T) {
	p := k.any()
	p.says(t, "namespace/kc-create created\n", "create", "namespace", "kc-create")
	if got := p.jsonpath(t, "{.status.phase} {.metadata.labels.kubernetes\\.io/metadata\\.name}", "get", "ns", "kc-create"); got != "Active kc-create" {
		t.Errorf("namespace phase and name label %q, want %q", got, "Active kc-create")
	}
	ns := []string{"-n", "kc-create"}
	k.any().says(t, "configmap/app created\n", append([]string{"create", "configmap", "app", "--from-literal=color=blue", "--from-literal=size=L"}, ns...)...)
	if got := k.any().jsonpath(t, "{.data.color} {.data.size}", append([]string{"get", "cm", "app"}, ns...)...); got != "blue L" {
		t.Errorf("configmap data %q", got)
	}
	k.any().says(t, "secret/creds created\n", append([]string{"create", "secret", "generic", "creds", "--from-literal=password=hunter2"}, ns...)...)
	if got := k.any().jsonpath(t, "{.type} {.data.password}", append([]string{"get", "secret", "creds"}, ns...)...); got != "Opaque "+base64.StdEncoding.EncodeToString([]byte("hunter2")) {
		t.Errorf("secret %q", got)
	}
	k.any().says(t, "deployment.apps/web created\n", append([]string{"create", "deployment", "web", "--image=nginx:1.0", "--replicas=3"}, ns...)...)
	if got := k.any().jsonpath(t, "{.spec.replicas} {.spec.selector.matchLabels.app} {.spec.template.spec.containers[0].name} {.spec.template.spec.containers[0].image}",
		append([]string{"get", "deploy", "web"}, ns...)...); got != "3 web nginx nginx:1.0" {
		t.Errorf("deployment %q", got)
	}
	k.any().refused(t, 1, `error: failed to create configmap: configmaps "app" already exists`, append([]string{"create", "configmap", "app", "--from-literal=a=b"}, ns...)...)
	k.any().refused(t, 1, `Error from server (AlreadyExists): error when creating "`, "create", "-f", k.file(t, "create-again.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: kc-create}\n"))
	k.any().refused(t, 1, `error: failed to create configmap: namespaces "kc-nowhere" not found`, "create", "configmap", "lost", "-n", "kc-nowhere", "--from-literal=a=b")
}

const kcApplyConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: app
  namespace: kc-apply
data:
  color: blue
`

func (k *kcSuite) testApply(t *testing.T) {
	k.namespace(t, "kc-apply")
	f := k.file(t, "apply.yaml", kcApplyConfigMap)
	k.any().says(t, "configmap/app created\n", "apply", "-f", f)
	k.any().says(t, "configmap/app unchanged\n", "apply", "-f", f)
	k.file(t, "apply.yaml", strings.Replace(kcApplyConfigMap, "blue", "red", 1))
	k.any().says(t, "configmap/app configured\n", "apply", "-f", f)
	if got := k.any().jsonpath(t, "{.data.color}", "get", "cm", "app", "-n", "kc-apply"); got != "red" {
		t.Errorf("after apply, color is %q", got)
	}
	last := k.any().jsonpath(t, `{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}`, "get", "cm", "app", "-n", "kc-apply")
	var cfg struct {
		Kind string
		Data map[string]string
	}
	if err := json.Unmarshal([]byte(last), &cfg); err != nil || cfg.Kind != "ConfigMap" || cfg.Data["color"] != "red" {
		t.Errorf("last-applied-configuration %q (%v)", last, err)
	}
	// A key taken out of the file is taken out of the object: apply's
	// three-way merge, through the last applied configuration.
	k.file(t, "apply.yaml", strings.Replace(kcApplyConfigMap, "color: blue", "size: L", 1))
	k.any().says(t, "configmap/app configured\n", "apply", "-f", f)
	if got := k.any().jsonpath(t, "{.data}", "get", "cm", "app", "-n", "kc-apply"); got != `{"size":"L"}` {
		t.Errorf("after taking color out, data is %q", got)
	}
	// A deployment applied twice, and once more with its image changed.
	dep := k.file(t, "apply-dep.yaml", kcDeploymentYAML("kc-apply", "web", 2, "nginx:1.0"))
	k.any().says(t, "deployment.apps/web created\n", "apply", "-f", dep)
	k.any().says(t, "deployment.apps/web unchanged\n", "apply", "-f", dep)
	k.file(t, "apply-dep.yaml", kcDeploymentYAML("kc-apply", "web", 2, "nginx:2.0"))
	k.any().says(t, "deployment.apps/web configured\n", "apply", "-f", dep)
	if got := k.any().jsonpath(t, "{.spec.template.spec.containers[0].image} {.metadata.generation}", "get", "deploy", "web", "-n", "kc-apply"); got != "nginx:2.0 2" {
		t.Errorf("deployment image and generation after apply %q, want %q", got, "nginx:2.0 2")
	}
}

func kcDeploymentYAML(ns, name string, replicas int, image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[2]s
  namespace: %[1]s
  labels: {app: %[2]s}
spec:
  replicas: %[3]d
  selector:
    matchLabels: {app: %[2]s}
  template:
    metadata:
      labels: {app: %[2]s}
    spec:
      containers:
      - name: nginx
        image: %[4]q
`, ns, name, replicas, image)
}

// kcManagedFields is metadata.managedFields as -o json prints it.
type kcManagedFields struct {
	Metadata struct {
		ManagedFields []struct {
			Manager, Operation string
			FieldsV1           map[string]any
		}
	}
	Data map[string]string
}

func (k *kcSuite) managedFields(t *testing.T, args ...string) kcManagedFields {
	t.Helper()
	var mf kcManagedFields
	if err := json.Unmarshal([]byte(k.any().ok(t, append(args, "-o", "json", "--show-managed-fields")...)), &mf); err != nil {
		t.Fatal(err)
	}
	return mf
}

// owners are the managers (manager/operation) whose entries hold the
// field at path ("f:data", "f:owner").
func (mf kcManagedFields) owners(path ...string) []string {
	var out []string
	for _, e := range mf.Metadata.ManagedFields {
		var at any = e.FieldsV1
		for _, p := range path {
			m, _ := at.(map[string]any)
			at = m[p]
		}
		if at != nil {
			out = append(out, e.Manager+"/"+e.Operation)
		}
	}
	return out
}

func (k *kcSuite) testServerSideApply(t *testing.T) {
	k.namespace(t, "kc-ssa")
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: kc-ssa}\ndata: {owner: %s}\n"
	mine := k.file(t, "ssa-mine.yaml", fmt.Sprintf(cm, "mine", "me"))
	k.any().says(t, "configmap/mine serverside-applied\n", "apply", "--server-side", "-f", mine)
	mf := k.managedFields(t, "get", "cm", "mine", "-n", "kc-ssa")
	if got := mf.owners("f:data", "f:owner"); !slices.Equal(got, []string{"kubectl/Apply"}) {
		t.Errorf("data.owner is managed by %q, want kubectl/Apply (kubectl's manager): %+v", got, mf.Metadata.ManagedFields)
	}
	k.any().says(t, "configmap/mine serverside-applied\n", "apply", "--server-side", "-f", mine)

	alice := k.file(t, "ssa-alice.yaml", fmt.Sprintf(cm, "shared", "alice"))
	k.any().says(t, "configmap/shared serverside-applied\n", "apply", "--server-side", "--field-manager=alice", "-f", alice)
	// Another manager setting the same field to another value conflicts.
	bob := k.file(t, "ssa-bob.yaml", fmt.Sprintf(cm, "shared", "bob"))
	r := k.any().refused(t, 1, `Apply failed with 1 conflict: conflict with "alice": .data.owner`, "apply", "--server-side", "--field-manager=bob", "-f", bob)
	if !strings.Contains(r.stderr, "--force-conflicts") {
		t.Errorf("the conflict does not say how to force it: %s", r)
	}
	if got := k.any().jsonpath(t, "{.data.owner}", "get", "cm", "shared", "-n", "kc-ssa"); got != "alice" {
		t.Errorf("after a refused apply, owner is %q", got)
	}
	k.any().says(t, "configmap/shared serverside-applied\n", "apply", "--server-side", "--field-manager=bob", "--force-conflicts", "-f", bob)
	mf = k.managedFields(t, "get", "cm", "shared", "-n", "kc-ssa")
	if mf.Data["owner"] != "bob" || !slices.Equal(mf.owners("f:data", "f:owner"), []string{"bob/Apply"}) {
		t.Errorf("after --force-conflicts: owner %q managed by %q, want bob by bob/Apply", mf.Data["owner"], mf.owners("f:data", "f:owner"))
	}
	// A server-side apply that creates a deployment: its spec's fields are
	// the manager's.
	dep := k.file(t, "ssa-dep.yaml", kcDeploymentYAML("kc-ssa", "web", 1, "nginx:1.0"))
	k.any().says(t, "deployment.apps/web serverside-applied\n", "apply", "--server-side", "--field-manager=ci", "-f", dep)
	dmf := k.managedFields(t, "get", "deploy", "web", "-n", "kc-ssa")
	if got := dmf.owners("f:spec", "f:replicas"); !slices.Equal(got, []string{"ci/Apply"}) {
		t.Errorf("spec.replicas managed by %q, want ci/Apply", got)
	}
}

func (k *kcSuite) testDiff(t *testing.T) {
	k.namespace(t, "kc-diff")
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: kc-diff}\ndata: {color: %s}\n"
	f := k.file(t, "diff.yaml", fmt.Sprintf(cm, "blue"))
	k.any().says(t, "configmap/app created\n", "apply", "-f", f)
	r := k.any().run(t, "diff", "-f", f)
	if r.code != 0 || r.stdout != "" {
		t.Errorf("diff of what is there: want exit 0 and no output, got %s", r)
	}
	k.file(t, "diff.yaml", fmt.Sprintf(cm, "red"))
	r = k.any().run(t, "diff", "-f", f)
	if r.code != 1 {
		t.Fatalf("diff of a change: want exit 1, got %s", r)
	}
	kcWantLines(t, r.stdout, "-  color: blue", "+  color: red")
	kcWantMatch(t, r.stdout, `^diff -u -N \S+/v1\.ConfigMap\.kc-diff\.app \S+/v1\.ConfigMap\.kc-diff\.app$`)
	if got := k.any().jsonpath(t, "{.data.color}", "get", "cm", "app", "-n", "kc-diff"); got != "blue" {
		t.Errorf("diff changed the object: color %q", got)
	}
	// An object that is not there yet is all additions.
	r = k.any().run(t, "diff", "-f", k.file(t, "diff-new.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fresh, namespace: kc-diff}\ndata: {a: b}\n"))
	if r.code != 1 || !kcHasLine(r.stdout, "+  a: b") || !kcHasLine(r.stdout, "+  name: fresh") {
		t.Errorf("diff of a new object: %s", r)
	}
	k.any().refused(t, 1, `configmaps "fresh" not found`, "get", "cm", "fresh", "-n", "kc-diff")
}

func (k *kcSuite) testDelete(t *testing.T) {
	k.namespace(t, "kc-delete")
	ns := []string{"-n", "kc-delete"}
	f := k.file(t, "delete.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-file, namespace: kc-delete}\ndata: {a: b}\n")
	k.any().says(t, "configmap/from-file created\n", "create", "-f", f)
	k.any().says(t, "configmap \"from-file\" deleted\n", "delete", "-f", f)
	k.any().refused(t, 1, `configmaps "from-file" not found`, append([]string{"get", "cm", "from-file"}, ns...)...)

	k.any().says(t, "configmap/by-name created\n", append([]string{"create", "cm", "by-name", "--from-literal=a=b"}, ns...)...)
	k.any().says(t, "configmap \"by-name\" deleted\n", append([]string{"delete", "cm", "by-name"}, ns...)...)
	k.any().refused(t, 1, `Error from server (NotFound): configmaps "by-name" not found`, append([]string{"delete", "cm", "by-name"}, ns...)...)

	for _, n := range []string{"l1", "l2", "keep"} {
		k.any().says(t, "configmap/"+n+" created\n", append([]string{"create", "cm", n, "--from-literal=a=b"}, ns...)...)
	}
	k.any().says(t, "configmap/l1 labeled\nconfigmap/l2 labeled\n", append([]string{"label", "cm", "l1", "l2", "gone=yes"}, ns...)...)
	k.any().says(t, "configmap \"l1\" deleted\nconfigmap \"l2\" deleted\n", append([]string{"delete", "cm", "-l", "gone=yes"}, ns...)...)
	k.any().says(t, "configmap/keep\n", append([]string{"get", "cm", "-o", "name"}, ns...)...)

	// A namespace takes what is in it.
	k.namespace(t, "kc-delete-ns")
	k.any().says(t, "configmap/inside created\n", "create", "cm", "inside", "-n", "kc-delete-ns", "--from-literal=a=b")
	k.any().says(t, "namespace \"kc-delete-ns\" deleted\n", "delete", "namespace", "kc-delete-ns")
	k.any().refused(t, 1, `namespaces "kc-delete-ns" not found`, "get", "namespace", "kc-delete-ns")
	r := k.any().run(t, "get", "cm", "-A", "--field-selector", "metadata.namespace=kc-delete-ns", "-o", "name")
	if r.code != 0 || r.stdout != "" {
		t.Errorf("the deleted namespace's configmap: %s", r)
	}
}

func (k *kcSuite) testDeleteCascade(t *testing.T) {
	k.namespace(t, "kc-cascade")
	ns := []string{"-n", "kc-cascade"}
	rsOf := func(t *testing.T, dep string) string {
		t.Helper()
		r := k.any().eventually(t, 15*time.Second, dep+"'s replica set", func(r kcResult) bool {
			return r.code == 0 && strings.HasPrefix(r.stdout, dep+"-")
		}, append([]string{"get", "rs", "-l", "app=" + dep, "-o", "jsonpath={.items[*].metadata.name}"}, ns...)...)
		return r.stdout
	}
	gone := func(t *testing.T, what string, args ...string) {
		t.Helper()
		k.any().eventually(t, 15*time.Second, what+" to be gone", func(r kcResult) bool {
			return r.code == 1 && strings.Contains(r.stderr, "NotFound")
		}, append(args, ns...)...)
	}
	for _, mode := range []string{"foreground", "background", "orphan"} {
		t.Run(mode, func(t *testing.T) {
			dep := "d-" + mode
			k.any().says(t, "deployment.apps/"+dep+" created\n", append([]string{"create", "deployment", dep, "--image=nginx:1.0"}, ns...)...)
			rs := rsOf(t, dep)
			// kubectl waits for the deployment to be gone (foreground: after
			// its replica set).
			r := k.any().run(t, append([]string{"delete", "deployment", dep, "--cascade=" + mode, "--timeout=10s"}, ns...)...)
			if want := "deployment.apps \"" + dep + "\" deleted\n"; r.code != 0 || r.stdout != want {
				state := k.any().run(t, append([]string{"get", "deploy,rs,pods", "-l", "app=" + dep, "-o",
					"custom-columns=KIND:.kind,NAME:.metadata.name,DELETING:.metadata.deletionTimestamp,FINALIZERS:.metadata.finalizers,CREATED:.metadata.creationTimestamp"}, ns...)...)
				t.Fatalf("want exit 0 and stdout %q, got %s\nwhat is left:\n%s%s", want, r, state.stdout, state.stderr)
			}
			k.any().refused(t, 1, `deployments.apps "`+dep+`" not found`, append([]string{"get", "deployment", dep}, ns...)...)
			switch mode {
			case "foreground":
				k.any().refused(t, 1, `replicasets.apps "`+rs+`" not found`, append([]string{"get", "rs", rs}, ns...)...)
			case "background":
				gone(t, "replica set "+rs, "get", "rs", rs)
			case "orphan":
				if got := k.any().jsonpath(t, "{.metadata.name} owners={.metadata.ownerReferences}", append([]string{"get", "rs", rs}, ns...)...); got != rs+" owners=" {
					t.Errorf("the orphaned replica set: %q, want it with no ownerReferences", got)
				}
			}
		})
	}
}

func (k *kcSuite) testLabelAnnotate(t *testing.T) {
	k.namespace(t, "kc-label")
	ns := []string{"-n", "kc-label"}
	k.any().says(t, "configmap/app created\n", append([]string{"create", "cm", "app", "--from-literal=a=b"}, ns...)...)
	k.any().says(t, "configmap/app labeled\n", append([]string{"label", "cm", "app", "tier=front"}, ns...)...)
	k.any().says(t, "configmap/app\n", append([]string{"get", "cm", "-l", "tier=front", "-o", "name"}, ns...)...)
	k.any().refused(t, 1, "'tier' already has a value (front), and --overwrite is false", append([]string{"label", "cm", "app", "tier=back"}, ns...)...)
	k.any().says(t, "configmap/app labeled\n", append([]string{"label", "cm", "app", "tier=back", "--overwrite"}, ns...)...)
	k.any().says(t, "configmap/app unlabeled\n", append([]string{"label", "cm", "app", "tier-"}, ns...)...)
	if got := k.any().jsonpath(t, "{.metadata.labels}", append([]string{"get", "cm", "app"}, ns...)...); got != "" {
		t.Errorf("labels after removing tier: %q", got)
	}
	k.any().says(t, "configmap/app annotated\n", append([]string{"annotate", "cm", "app", "example.com/note=hello world"}, ns...)...)
	if got := k.any().jsonpath(t, `{.metadata.annotations.example\.com/note}`, append([]string{"get", "cm", "app"}, ns...)...); got != "hello world" {
		t.Errorf("annotation %q", got)
	}
	k.any().says(t, "configmap/app annotated\n", append([]string{"annotate", "cm", "app", "example.com/note-"}, ns...)...)
	// Nodes take labels too (their peers keep what an operator sets).
	k.any().says(t, "node/p3 labeled\n", "label", "node", "p3", "kc.example.com/disk=ssd")
	k.any().says(t, "node/p3\n", "get", "nodes", "-l", "kc.example.com/disk=ssd", "-o", "name")
	k.any().says(t, "node/p3 unlabeled\n", "label", "node", "p3", "kc.example.com/disk-")
}

func (k *kcSuite) testPatch(t *testing.T) {
	k.namespace(t, "kc-patch")
	ns := []string{"-n", "kc-patch"}
	k.any().says(t, "configmap/app created\n", append([]string{"create", "cm", "app", "--from-literal=a=1"}, ns...)...)
	k.any().says(t, "configmap/app patched\n", append([]string{"patch", "cm", "app", "--type", "strategic", "-p", `{"data":{"s":"1"}}`}, ns...)...)
	k.any().says(t, "configmap/app patched\n", append([]string{"patch", "cm", "app", "--type", "merge", "-p", `{"data":{"m":"1","a":null}}`}, ns...)...)
	k.any().says(t, "configmap/app patched\n", append([]string{"patch", "cm", "app", "--type", "json", "-p", `[{"op":"add","path":"/data/j","value":"1"}]`}, ns...)...)
	if got := k.any().jsonpath(t, "{.data}", append([]string{"get", "cm", "app"}, ns...)...); got != `{"j":"1","m":"1","s":"1"}` {
		t.Errorf("data after three patches: %q", got)
	}
	// A patch that changes nothing writes nothing: kubectl sees the object
	// come back as it was (the same resourceVersion).
	rv := k.any().jsonpath(t, "{.metadata.resourceVersion}", append([]string{"get", "cm", "app"}, ns...)...)
	k.any().expect(t, "configmap/app patched (no change)\n", append([]string{"patch", "cm", "app", "--type", "merge", "-p", `{"data":{"m":"1"}}`}, ns...)...)
	if got := k.any().jsonpath(t, "{.metadata.resourceVersion}", append([]string{"get", "cm", "app"}, ns...)...); got != rv {
		t.Errorf("a patch that changes nothing moved the resourceVersion from %s to %s", rv, got)
	}
	// A JSON patch whose test fails changes nothing.
	k.any().refused(t, 1, `The request is invalid: the server rejected our request due to an error in our request`, append([]string{"patch", "cm", "app", "--type", "json", "-p", `[{"op":"test","path":"/data/j","value":"2"},{"op":"remove","path":"/data/j"}]`}, ns...)...)
	if got := k.any().jsonpath(t, "{.data.j}", append([]string{"get", "cm", "app"}, ns...)...); got != "1" {
		t.Errorf("a failed JSON patch changed data.j to %q", got)
	}

	// A strategic merge patch merges a deployment's containers by name:
	// the one named is changed, the other kept.
	dep := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: kc-patch}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: "nginx:1.0"}
      - {name: sidecar, image: "busybox:1"}
`
	k.any().says(t, "deployment.apps/web created\n", "create", "-f", k.file(t, "patch-dep.yaml", dep))
	k.any().says(t, "deployment.apps/web patched\n", append([]string{"patch", "deploy", "web", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:2"}]}}}}`}, ns...)...)
	if got := k.any().jsonpath(t, `{range .spec.template.spec.containers[*]}{.name}={.image} {end}`, append([]string{"get", "deploy", "web"}, ns...)...); got != "nginx=nginx:1.0 sidecar=busybox:2 " {
		t.Errorf("containers after a strategic patch: %q", got)
	}
	// A merge patch replaces the list.
	k.any().says(t, "deployment.apps/web patched\n", append([]string{"patch", "deploy", "web", "--type", "merge", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"nginx:3"}]}}}}`}, ns...)...)
	if got := k.any().jsonpath(t, `{range .spec.template.spec.containers[*]}{.name}={.image} {end}`, append([]string{"get", "deploy", "web"}, ns...)...); got != "only=nginx:3 " {
		t.Errorf("containers after a merge patch: %q", got)
	}
	k.any().says(t, "deployment.apps/web patched\n", append([]string{"patch", "deploy", "web", "--type", "json", "-p", `[{"op":"replace","path":"/spec/replicas","value":4}]`}, ns...)...)
	if got := k.any().jsonpath(t, "{.spec.replicas}", append([]string{"get", "deploy", "web"}, ns...)...); got != "4" {
		t.Errorf("replicas after a json patch: %q", got)
	}
}

func (k *kcSuite) testEdit(t *testing.T) {
	k.namespace(t, "kc-edit")
	ns := []string{"-n", "kc-edit"}
	k.any().says(t, "configmap/app created\n", append([]string{"create", "cm", "app", "--from-literal=version=v1"}, ns...)...)
	// kubectl runs an EDITOR with spaces through the shell, the file's
	// path last.
	k.any().with("EDITOR=sed -i 's/version: v1/version: v2/'").says(t, "configmap/app edited\n", append([]string{"edit", "cm", "app"}, ns...)...)
	if got := k.any().jsonpath(t, "{.data.version}", append([]string{"get", "cm", "app"}, ns...)...); got != "v2" {
		t.Errorf("after edit, version is %q", got)
	}
	// An editor that changes nothing.
	r := k.any().with("EDITOR=true").run(t, append([]string{"edit", "cm", "app"}, ns...)...)
	if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "Edit cancelled, no changes made.") {
		t.Errorf("an edit that changes nothing: %s", r)
	}
	k.any().says(t, "deployment.apps/web created\n", append([]string{"create", "deployment", "web", "--image=nginx:1.0"}, ns...)...)
	k.any().with("EDITOR=sed -i 's/image: nginx:1.0/image: nginx:1.1/'").says(t, "deployment.apps/web edited\n", append([]string{"edit", "deployment", "web"}, ns...)...)
	if got := k.any().jsonpath(t, "{.spec.template.spec.containers[0].image}", append([]string{"get", "deploy", "web"}, ns...)...); got != "nginx:1.1" {
		t.Errorf("after edit, image is %q", got)
	}
}

func (k *kcSuite) testScale(t *testing.T) {
	k.namespace(t, "kc-scale")
	ns := []string{"-n", "kc-scale"}
	k.any().says(t, "deployment.apps/web created\n", append([]string{"create", "deployment", "web", "--image=nginx:1.0", "--replicas=1"}, ns...)...)
	k.any().says(t, "deployment.apps/web scaled\n", append([]string{"scale", "deployment", "web", "--replicas=3"}, ns...)...)
	if got := k.any().jsonpath(t, "{.spec.replicas}", append([]string{"get", "deploy", "web"}, ns...)...); got != "3" {
		t.Errorf("replicas after scale: %q", got)
	}
	k.any().eventually(t, 15*time.Second, "the replica set to want 3 and have 3 pods", func(r kcResult) bool {
		return r.code == 0 && r.stdout == "3 3"
	}, append([]string{"get", "rs", "-l", "app=web", "-o", "jsonpath={.items[0].spec.replicas} {.items[0].status.replicas}"}, ns...)...)
	k.any().eventually(t, 15*time.Second, "three pods", func(r kcResult) bool {
		return r.code == 0 && strings.Count(r.stdout, "pod/") == 3
	}, append([]string{"get", "pods", "-l", "app=web", "-o", "name"}, ns...)...)
	k.any().refused(t, 1, "Expected replicas to be 2, was 3", append([]string{"scale", "deployment", "web", "--current-replicas=2", "--replicas=1"}, ns...)...)
	k.any().says(t, "deployment.apps/web scaled\n", append([]string{"scale", "deployment", "web", "--current-replicas=3", "--replicas=0"}, ns...)...)
	k.any().eventually(t, 15*time.Second, "no pods", func(r kcResult) bool {
		return r.code == 0 && r.stdout == ""
	}, append([]string{"get", "pods", "-l", "app=web", "-o", "name"}, ns...)...)
	k.any().refused(t, 1, `The Scale "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`,
		append([]string{"patch", "deployment", "web", "--subresource=scale", "--type=merge", "-p", `{"spec":{"replicas":-1}}`}, ns...)...)
}

func (k *kcSuite) testSetImage(t *testing.T) {
	k.namespace(t, "kc-image")
	ns := []string{"-n", "kc-image"}
	k.any().says(t, "deployment.apps/web created\n", append([]string{"create", "deployment", "web", "--image=nginx:1.0"}, ns...)...)
	k.any().says(t, "deployment.apps/web image updated\n", append([]string{"set", "image", "deployment/web", "nginx=nginx:2.0"}, ns...)...)
	if got := k.any().jsonpath(t, "{.spec.template.spec.containers[0].image}", append([]string{"get", "deploy", "web"}, ns...)...); got != "nginx:2.0" {
		t.Errorf("image after set image: %q", got)
	}
	k.any().eventually(t, 15*time.Second, "a replica set of nginx:2.0", func(r kcResult) bool {
		return r.code == 0 && strings.Contains(r.stdout, "nginx:2.0")
	}, append([]string{"get", "rs", "-l", "app=web", "-o", "jsonpath={.items[*].spec.template.spec.containers[0].image}"}, ns...)...)
	// Setting the image it has changes nothing.
	k.any().says(t, "", append([]string{"set", "image", "deployment/web", "nginx=nginx:2.0"}, ns...)...)
}

func (k *kcSuite) testRollout(t *testing.T) {
	k.namespace(t, "kc-rollout")
	ns := []string{"-n", "kc-rollout"}
	run := func(args ...string) []string { return append(args, ns...) }
	image := func(t *testing.T) string {
		t.Helper()
		return k.any().jsonpath(t, "{.spec.template.spec.containers[0].image}", run("get", "deploy", "web")...)
	}
	history := func(t *testing.T, revisions ...string) {
		t.Helper()
		want := "deployment.apps/web \nREVISION  CHANGE-CAUSE\n"
		for _, r := range revisions {
			want += r + "         <none>\n"
		}
		want += "\n"
		k.any().eventually(t, 15*time.Second, "rollout history to list revisions "+strings.Join(revisions, ","), func(r kcResult) bool {
			return r.code == 0 && r.stdout == want
		}, run("rollout", "history", "deployment/web")...)
	}
	k.any().says(t, "deployment.apps/web created\n", run("create", "deployment", "web", "--image=nginx:1.0")...)
	history(t, "1")
	k.any().says(t, "deployment.apps/web image updated\n", run("set", "image", "deployment/web", "nginx=nginx:2.0")...)
	history(t, "1", "2")
	out := k.any().ok(t, run("rollout", "history", "deployment/web", "--revision=1")...)
	kcWantLines(t, out, "deployment.apps/web with revision #1", "    Image:\tnginx:1.0")

	k.any().says(t, "deployment.apps/web rolled back\n", run("rollout", "undo", "deployment/web")...)
	if got := image(t); got != "nginx:1.0" {
		t.Errorf("image after undo: %q", got)
	}
	history(t, "2", "3")
	k.any().says(t, "deployment.apps/web rolled back\n", run("rollout", "undo", "deployment/web", "--to-revision=2")...)
	if got := image(t); got != "nginx:2.0" {
		t.Errorf("image after undo --to-revision=2: %q", got)
	}
	history(t, "3", "4")

	k.any().says(t, "deployment.apps/web restarted\n", run("rollout", "restart", "deployment/web")...)
	if got := k.any().jsonpath(t, `{.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}`, run("get", "deploy", "web")...); got == "" {
		t.Error("restart set no restartedAt annotation on the template")
	}
	history(t, "3", "4", "5")

	k.any().says(t, "deployment.apps/web paused\n", run("rollout", "pause", "deployment/web")...)
	if got := k.any().jsonpath(t, "{.spec.paused}", run("get", "deploy", "web")...); got != "true" {
		t.Errorf("spec.paused after pause: %q", got)
	}
	k.any().refused(t, 1, "deployments.apps \"web\" is already paused", run("rollout", "pause", "deployment/web")...)
	k.any().refused(t, 1, "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again", run("rollout", "undo", "deployment/web")...)
	// A paused deployment takes a new template and rolls out none of it.
	k.any().says(t, "deployment.apps/web image updated\n", run("set", "image", "deployment/web", "nginx=nginx:3.0")...)
	r := k.any().run(t, run("get", "rs", "-l", "app=web", "-o", "jsonpath={.items[*].spec.template.spec.containers[0].image}")...)
	if r.code != 0 || strings.Contains(r.stdout, "nginx:3.0") {
		t.Errorf("a paused deployment rolled out: %s", r)
	}
	k.any().says(t, "deployment.apps/web resumed\n", run("rollout", "resume", "deployment/web")...)
	if got := k.any().jsonpath(t, "{.spec.paused}", run("get", "deploy", "web")...); got != "" {
		t.Errorf("spec.paused after resume: %q", got)
	}
	history(t, "3", "4", "5", "6")
}

func (k *kcSuite) testEvents(t *testing.T) {
	k.namespace(t, "kc-events")
	ns := []string{"-n", "kc-events"}
	k.any().says(t, "deployment.apps/web created\n", append([]string{"create", "deployment", "web", "--image=nginx:1.0"}, ns...)...)
	r := k.any().eventually(t, 20*time.Second, "a FailedScheduling event", func(r kcResult) bool {
		return r.code == 0 && strings.Contains(r.stdout, "FailedScheduling")
	}, append([]string{"get", "events", "--field-selector", "reason=FailedScheduling"}, ns...)...)
	tb := kcParseTable(t, r.stdout)
	tb.wantHeader(t, "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")
	for _, row := range tb.rows {
		if row["REASON"] != "FailedScheduling" {
			t.Errorf("reason=FailedScheduling lists a %s event:\n%s", row["REASON"], tb.text)
		}
	}
	pod := tb.rows[0]["OBJECT"]
	// kubectl events (the newer command) and its --for.
	out := k.any().ok(t, append([]string{"events", "--for", pod}, ns...)...)
	tb = kcParseTable(t, out)
	tb.wantHeader(t, "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")
	kcWantCells(t, tb, tb.row(t, "REASON", "FailedScheduling"), map[string]string{"TYPE": "Warning", "OBJECT": "Pod/" + strings.TrimPrefix(pod, "pod/")})
	out = k.any().ok(t, append([]string{"get", "events", "--field-selector", "involvedObject.name=" + strings.TrimPrefix(pod, "pod/"), "-o",
		"custom-columns=KIND:.involvedObject.kind,REASON:.reason,TYPE:.type"}, ns...)...)
	tb = kcParseTable(t, out)
	kcWantCells(t, tb, tb.row(t, "REASON", "FailedScheduling"), map[string]string{"KIND": "Pod", "TYPE": "Warning"})
	r = k.any().run(t, "events", "-n", "kc-events", "--types=Normal", "--for", pod)
	if r.code != 0 || strings.Contains(r.stdout, "FailedScheduling") {
		t.Errorf("events --types=Normal: %s", r)
	}
}

func (k *kcSuite) testCordon(t *testing.T) {
	p := k.any()
	p.says(t, "node/p2 cordoned\n", "cordon", "p2")
	t.Cleanup(func() { k.any().run(t, "uncordon", "p2") })
	if got := k.any().jsonpath(t, "{.spec.unschedulable}", "get", "node", "p2"); got != "true" {
		t.Errorf("spec.unschedulable after cordon: %q", got)
	}
	tb := kcParseTable(t, k.any().ok(t, "get", "node", "p2"))
	if s := tb.row(t, "NAME", "p2")["STATUS"]; !strings.HasSuffix(s, ",SchedulingDisabled") {
		t.Errorf("STATUS of a cordoned node: %q", s)
	}
	k.any().says(t, "node/p2\n", "get", "nodes", "--field-selector", "spec.unschedulable=true", "-o", "name")
	k.any().says(t, "node/p2 already cordoned\n", "cordon", "p2")
	// The node reports the change as an event (the kubelet's
	// NodeNotSchedulable), and its heartbeat keeps the cordon.
	r, _ := k.any().settle(t, 15*time.Second, func(r kcResult) bool {
		return r.code == 0 && strings.Contains(r.stdout, "NodeNotSchedulable")
	}, "describe", "node", "p2")
	kcWantMatch(t, r.stdout, `^\s+Normal\s+NodeNotSchedulable\s+\S+\s+\S+\s+Node p2 status is now: NodeNotSchedulable$`)
	if got := k.any().jsonpath(t, "{.spec.unschedulable}", "get", "node", "p2"); got != "true" {
		t.Errorf("spec.unschedulable a while after cordon: %q", got)
	}
	k.any().says(t, "node/p2 uncordoned\n", "uncordon", "p2")
	if got := k.any().jsonpath(t, "{.spec.unschedulable}", "get", "node", "p2"); got != "" {
		t.Errorf("spec.unschedulable after uncordon: %q", got)
	}
	k.any().says(t, "node/p2 already uncordoned\n", "uncordon", "p2")
	tb = kcParseTable(t, k.any().ok(t, "get", "node", "p2"))
	if s := tb.row(t, "NAME", "p2")["STATUS"]; strings.Contains(s, "SchedulingDisabled") {
		t.Errorf("STATUS of an uncordoned node: %q", s)
	}
}

func (k *kcSuite) testDrain(t *testing.T) {
	// p2 runs no pods (no runtime, and the pinned pod is on p3).
	if out := k.any().ok(t, "get", "pods", "-A", "--field-selector", "spec.nodeName=p2", "-o", "name"); out != "" {
		t.Fatalf("pods on p2 before drain: %s", out)
	}
	t.Cleanup(func() { k.any().run(t, "uncordon", "p2") })
	r := k.any().run(t, "drain", "p2", "--ignore-daemonsets", "--timeout=20s")
	if r.code != 0 || r.stdout != "node/p2 cordoned\nnode/p2 drained\n" {
		t.Fatalf("drain of a node with no pods: want exit 0 and %q, got %s", "node/p2 cordoned\nnode/p2 drained\n", r)
	}
	if got := k.any().jsonpath(t, "{.spec.unschedulable}", "get", "node", "p2"); got != "true" {
		t.Errorf("spec.unschedulable after drain: %q", got)
	}
	k.any().says(t, "node/p2 uncordoned\n", "uncordon", "p2")
}

func (k *kcSuite) testDryRun(t *testing.T) {
	k.namespace(t, "kc-dry")
	ns := []string{"-n", "kc-dry"}
	k.any().says(t, "configmap/app created (server dry run)\n", append([]string{"create", "cm", "app", "--from-literal=color=blue", "--dry-run=server"}, ns...)...)
	k.any().refused(t, 1, `configmaps "app" not found`, append([]string{"get", "cm", "app"}, ns...)...)
	// A server dry run answers with the object as the server would store
	// it: defaulted.
	out := k.any().ok(t, append([]string{"create", "deployment", "web", "--image=nginx:1.0", "--dry-run=server", "-o", "jsonpath={.spec.strategy.type} {.spec.progressDeadlineSeconds} {.metadata.uid}"}, ns...)...)
	if f := strings.Fields(out); len(f) != 3 || f[0] != "RollingUpdate" || f[1] != "600" {
		t.Errorf("a server dry run of a deployment answered %q, want it defaulted, with a uid", out)
	}
	k.any().refused(t, 1, `deployments.apps "web" not found`, append([]string{"get", "deploy", "web"}, ns...)...)

	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: kc-dry}\ndata: {color: %s}\n"
	f := k.file(t, "dry.yaml", fmt.Sprintf(cm, "blue"))
	k.any().says(t, "configmap/app created (server dry run)\n", "apply", "-f", f, "--dry-run=server")
	k.any().refused(t, 1, `configmaps "app" not found`, append([]string{"get", "cm", "app"}, ns...)...)
	k.any().says(t, "configmap/app created\n", "apply", "-f", f)
	k.file(t, "dry.yaml", fmt.Sprintf(cm, "red"))
	k.any().says(t, "configmap/app configured (server dry run)\n", "apply", "-f", f, "--dry-run=server")
	k.any().says(t, "configmap/app serverside-applied (server dry run)\n", "apply", "--server-side", "-f", f, "--dry-run=server")
	if got := k.any().jsonpath(t, "{.data.color}", append([]string{"get", "cm", "app"}, ns...)...); got != "blue" {
		t.Errorf("after dry-run applies, color is %q", got)
	}
	k.any().says(t, "configmap \"app\" deleted (server dry run)\n", append([]string{"delete", "cm", "app", "--dry-run=server"}, ns...)...)
	k.any().says(t, "configmap/app\n", append([]string{"get", "cm", "app", "-o", "name"}, ns...)...)
	k.any().says(t, "configmap/app labeled (server dry run)\n", append([]string{"label", "cm", "app", "x=y", "--dry-run=server"}, ns...)...)
	// kubectl patch names no dry run in what it prints.
	k.any().says(t, "configmap/app patched\n", append([]string{"patch", "cm", "app", "-p", `{"data":{"color":"green"}}`, "--dry-run=server"}, ns...)...)
	if got := k.any().jsonpath(t, "{.data.color} {.metadata.labels}", append([]string{"get", "cm", "app"}, ns...)...); got != "blue " {
		t.Errorf("after dry-run label and patch: %q", got)
	}
}

func (k *kcSuite) testInvalid(t *testing.T) {
	k.namespace(t, "kc-invalid")
	bad := k.file(t, "invalid.yaml", strings.Replace(kcDeploymentYAML("kc-invalid", "bad", 1, "nginx:1.0"), "replicas: 1", "replicas: -1", 1))
	want := `The Deployment "bad" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`
	k.any().refused(t, 1, want, "apply", "-f", bad)
	k.any().refused(t, 1, want, "create", "-f", bad)
	k.any().refused(t, 1, want, "apply", "--server-side", "-f", bad)
	k.any().refused(t, 1, `deployments.apps "bad" not found`, "get", "deploy", "bad", "-n", "kc-invalid")
	// A field the kind does not have is refused by the server's strict
	// field validation (kubectl's default, --validate=strict).
	unknown := k.file(t, "unknown.yaml", strings.Replace(kcDeploymentYAML("kc-invalid", "typo", 1, "nginx:1.0"), "replicas: 1", "replicaz: 1", 1))
	k.any().refused(t, 1, `strict decoding error: unknown field "spec.replicaz"`, "apply", "-f", unknown)
	// A name that is not a DNS subdomain.
	k.any().refused(t, 1, `error: failed to create configmap: ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain`, "create", "cm", "Bad_Name", "-n", "kc-invalid", "--from-literal=a=b")
}
