package containerd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/identifiers"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	cerrdefs "github.com/containerd/errdefs"
	gocni "github.com/containerd/go-cni"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
)

// Defaults for Config's optional fields.
const (
	DefaultAddress    = "/run/containerd/containerd.sock"
	DefaultBridgeName = "shoal0"
	DefaultCNIBinDir  = "/usr/lib/cni"
	DefaultNetNSDir   = "/var/run/netns"
)

// Config configures a Runtime.
type Config struct {
	// Address is containerd's gRPC socket; default DefaultAddress.
	Address string
	// Namespace is the containerd namespace this peer works in, one per
	// peer; it is also the owner label's value. Required.
	Namespace string
	// StateDir holds the runtime's files: container logs, the pods' hosts
	// files, host-local IPAM state, exec FIFOs. Required, absolute, and
	// kept across restarts of the agent.
	StateDir string
	// PodCIDR is the peer's pod network, e.g. "10.32.5.0/24"; the bridge
	// takes the first address, pods get the rest. Required.
	PodCIDR string
	// BridgeName is the Linux bridge the pods attach to (at most 15
	// bytes); default DefaultBridgeName. Peers on one machine need
	// different bridges.
	BridgeName string
	// CNIBinDir holds the CNI plugins (bridge, host-local, portmap,
	// loopback); default DefaultCNIBinDir. The portmap plugin needs
	// iptables on PATH for pods with port mappings.
	CNIBinDir string
	// NetNSDir is where network namespaces are bind-mounted; default
	// DefaultNetNSDir, where `ip netns` sees them.
	NetNSDir string
	// NetNSPrefix starts the name of each sandbox's network namespace;
	// default "shoal-" + Namespace + "-".
	NetNSPrefix string
	// Snapshotter is containerd's snapshotter; empty means the daemon's
	// default (overlayfs).
	Snapshotter string
	// SeccompProfileDir holds the seccomp profiles (JSON, as in the OCI
	// runtime spec) that a container's Localhost profile names, relative
	// to it, like the kubelet's <root-dir>/seccomp; default
	// StateDir/seccomp.
	SeccompProfileDir string
	// Logger receives the runtime's logs; default slog.Default(). The
	// runtime adds component=runtime.
	Logger *slog.Logger
}

// Runtime is the containerd runtime. Safe for concurrent use.
type Runtime struct {
	cfg    Config
	client *client.Client
	cni    gocni.CNI
	log    *slog.Logger
	locks  lockTable
}

var _ runtime.Runtime = (*Runtime)(nil)

// New connects to containerd and checks the configuration; it creates
// nothing on the host until the first sandbox. It returns ErrInvalid for a
// bad Config, ErrUnavailable when containerd does not answer before ctx
// ends (give it a deadline).
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	if cfg.Address == "" {
		cfg.Address = DefaultAddress
	}
	if cfg.BridgeName == "" {
		cfg.BridgeName = DefaultBridgeName
	}
	if cfg.CNIBinDir == "" {
		cfg.CNIBinDir = DefaultCNIBinDir
	}
	if cfg.NetNSDir == "" {
		cfg.NetNSDir = DefaultNetNSDir
	}
	if cfg.NetNSPrefix == "" {
		cfg.NetNSPrefix = "shoal-" + cfg.Namespace + "-"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SeccompProfileDir == "" && cfg.StateDir != "" {
		cfg.SeccompProfileDir = filepath.Join(cfg.StateDir, "seccomp")
	}
	if err := validateConfig(cfg); err != nil {
		return nil, err
	}
	for _, dir := range []string{cfg.StateDir, filepath.Join(cfg.StateDir, "sandboxes"), filepath.Join(cfg.StateDir, "containers"), filepath.Join(cfg.StateDir, "ipam")} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("containerd runtime: state dir: %w", err)
		}
	}
	cni, err := newCNI(cfg)
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg.Address, client.WithDefaultNamespace(cfg.Namespace))
	if err != nil {
		return nil, fmt.Errorf("containerd at %s: %v: %w", cfg.Address, err, errdefs.ErrUnavailable)
	}
	if _, err := c.Version(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("containerd at %s: %v: %w", cfg.Address, err, errdefs.ErrUnavailable)
	}
	return &Runtime{
		cfg:    cfg,
		client: c,
		cni:    cni,
		log:    cfg.Logger.With("component", "runtime", "namespace", cfg.Namespace),
	}, nil
}

func validateConfig(cfg Config) error {
	invalid := func(field, why string) error {
		return fmt.Errorf("containerd runtime config: %s: %s: %w", field, why, errdefs.ErrInvalid)
	}
	if cfg.Namespace == "" {
		return invalid("Namespace", "required")
	}
	if err := identifiers.Validate(cfg.Namespace); err != nil {
		return invalid("Namespace", err.Error())
	}
	if !filepath.IsAbs(cfg.StateDir) {
		return invalid("StateDir", "required, and absolute")
	}
	p, err := netip.ParsePrefix(cfg.PodCIDR)
	if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
		return invalid("PodCIDR", fmt.Sprintf("%q is not an IPv4 CIDR of /30 or wider", cfg.PodCIDR))
	}
	if len(cfg.BridgeName) > 15 {
		return invalid("BridgeName", fmt.Sprintf("%q is longer than 15 bytes", cfg.BridgeName))
	}
	for _, plugin := range []string{"bridge", "host-local", "portmap", "loopback"} {
		if _, err := os.Stat(filepath.Join(cfg.CNIBinDir, plugin)); err != nil {
			return invalid("CNIBinDir", fmt.Sprintf("no %s plugin in %s", plugin, cfg.CNIBinDir))
		}
	}
	return nil
}

// Close closes the connection to containerd. Sandboxes and containers keep
// running: a new Runtime with the same Config finds them.
func (r *Runtime) Close() error {
	return r.client.Close()
}

// Client returns the containerd client, for tests and diagnostics.
func (r *Runtime) Client() *client.Client { return r.client }

func (r *Runtime) ctx(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, r.cfg.Namespace)
}

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Runtime-private labels, under the reserved "shoal.io/runtime-" prefix.
const (
	labelHostname   = "shoal.io/runtime-hostname"
	labelIP         = "shoal.io/runtime-ip"
	labelNetNS      = "shoal.io/runtime-netns"
	labelState      = "shoal.io/runtime-state"
	labelStartedAt  = "shoal.io/runtime-started-at"
	labelExitCode   = "shoal.io/runtime-exit-code"
	labelFinishedAt = "shoal.io/runtime-finished-at"
	labelReason     = "shoal.io/runtime-reason"
	// labelSysctls is a sandbox's SandboxConfig.Sysctls, as JSON.
	labelSysctls = "shoal.io/runtime-sysctls"
	// labelHostNamespaces lists the host namespaces a sandbox's containers
	// join ("network,pid,ipc", or some of them); labelPorts is its
	// PortMappings as JSON; labelBootID is the kernel's boot id when a
	// host-network sandbox was made.
	labelHostNamespaces = "shoal.io/runtime-host-namespaces"
	labelPorts          = "shoal.io/runtime-ports"
	labelBootID         = "shoal.io/runtime-boot-id"
)

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// userLabels returns the caller's labels: all but the reserved ones.
func userLabels(all map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range all {
		if !runtime.ReservedLabel(k) {
			out[k] = v
		}
	}
	return out
}

// filter is a containerd list filter matching this runtime's objects of a
// kind, and the extra label equalities given as key, value pairs.
func (r *Runtime) filter(kind string, kv ...string) string {
	parts := []string{
		fmt.Sprintf("labels.%q==%s", runtime.LabelOwner, strconv.Quote(r.cfg.Namespace)),
		fmt.Sprintf("labels.%q==%s", runtime.LabelKind, strconv.Quote(kind)),
	}
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, fmt.Sprintf("labels.%q==%s", kv[i], strconv.Quote(kv[i+1])))
	}
	return strings.Join(parts, ",")
}

// mappedError keeps containerd's error and adds Shoal's sentinel.
type mappedError struct {
	err      error
	sentinel error
}

func (e *mappedError) Error() string   { return e.err.Error() }
func (e *mappedError) Unwrap() []error { return []error{e.err, e.sentinel} }

// wrap prefixes err with what and, when containerd's error says what kind
// it is, makes it match Shoal's sentinel too.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	var sentinel error
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
	case cerrdefs.IsNotFound(err):
		sentinel = errdefs.ErrNotFound
	case cerrdefs.IsAlreadyExists(err):
		sentinel = errdefs.ErrAlreadyExists
	case cerrdefs.IsInvalidArgument(err):
		sentinel = errdefs.ErrInvalid
	case cerrdefs.IsFailedPrecondition(err), cerrdefs.IsConflict(err):
		sentinel = errdefs.ErrConflict
	case cerrdefs.IsUnavailable(err):
		sentinel = errdefs.ErrUnavailable
	case cerrdefs.IsUnauthorized(err), cerrdefs.IsPermissionDenied(err):
		sentinel = errdefs.ErrUnauthenticated
	}
	if sentinel == nil || errors.Is(err, sentinel) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, &mappedError{err: err, sentinel: sentinel})
}

// lockTable hands out one RWMutex per id, dropped when unused. Sandbox
// ids take the write lock for changes to the sandbox or its set of
// containers, and the read lock around changes to one of its containers,
// which take their own id's lock.
type lockTable struct {
	mu sync.Mutex
	m  map[string]*lockEntry
}

type lockEntry struct {
	sync.RWMutex
	refs int
}

func (l *lockTable) entry(id string) *lockEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*lockEntry{}
	}
	e := l.m[id]
	if e == nil {
		e = &lockEntry{}
		l.m[id] = e
	}
	e.refs++
	return e
}

func (l *lockTable) release(id string, e *lockEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(l.m, id)
	}
}

// lock takes id's write lock and returns its unlock.
func (l *lockTable) lock(id string) func() {
	e := l.entry(id)
	e.Lock()
	return func() { e.Unlock(); l.release(id, e) }
}

// rlock takes id's read lock and returns its unlock.
func (l *lockTable) rlock(id string) func() {
	e := l.entry(id)
	e.RLock()
	return func() { e.RUnlock(); l.release(id, e) }
}

// tryLock takes id's write lock if it is free.
func (l *lockTable) tryLock(id string) (func(), bool) {
	e := l.entry(id)
	if !e.TryLock() {
		l.release(id, e)
		return nil, false
	}
	return func() { e.Unlock(); l.release(id, e) }, true
}

// Context returns ctx in this runtime's containerd namespace, for calls
// through Client.
func (r *Runtime) Context(ctx context.Context) context.Context { return r.ctx(ctx) }
