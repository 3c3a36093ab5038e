package fake

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
)

// Config configures a fake runtime. The zero value works.
type Config struct {
	// PodCIDR is where sandbox addresses come from; default
	// "10.244.0.0/24". As with the bridge plugin, the first address (.1) is
	// the gateway's and sandboxes get .2 onwards.
	PodCIDR string
	// Now is the clock for timestamps; default time.Now.
	Now func() time.Time
	// Behave says what a container does; nil means every container runs
	// until stopped, prints nothing, and exits 0 on SIGTERM. It is called
	// once per CreateContainer, with the runtime's lock held: it must not
	// call the runtime.
	Behave func(sb runtime.Sandbox, c runtime.ContainerConfig) Behaviour
	// Pull decides a pull's outcome; nil means every pull succeeds. A
	// returned error is returned by PullImage.
	Pull func(ref string, opts runtime.PullOptions) error
	// HostName is the host's name, which host-network sandboxes take;
	// default the machine's (os.Hostname).
	HostName string
}

// Behaviour is what a fake container does.
type Behaviour struct {
	// Output is written to the container's log at each start.
	Output string
	// ExitOnStart makes each start end at once with ExitCode, after Output.
	ExitOnStart bool
	ExitCode    int
	// On SIGTERM the container writes TermOutput and exits with
	// TermExitCode, unless IgnoreTerm: then StopContainer kills it (137).
	TermOutput   string
	TermExitCode int
	IgnoreTerm   bool
	// OnTerm, when set, is called as the container gets SIGTERM, with the
	// runtime's lock held: it must not call the runtime.
	OnTerm func()
	// Exec runs an exec'd command and returns its exit code; nil answers
	// every command with exit code 0 and no output. It is called without
	// the runtime's lock held, and may block on stdin.
	Exec func(cmd []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// Runtime is the in-memory runtime. Safe for concurrent use.
type Runtime struct {
	cfg    Config
	prefix netip.Prefix

	mu         sync.Mutex
	sandboxes  map[string]*sandbox
	containers map[string]*container
	images     map[string]runtime.Image
	usedIPs    map[netip.Addr]bool
}

var _ runtime.Runtime = (*Runtime)(nil)

type sandbox struct {
	runtime.Sandbox
}

type container struct {
	status    runtime.ContainerStatus
	behaviour Behaviour
	log       []byte
	previous  []byte
	starts    int
	// changed is closed and replaced whenever the log or state changes, to
	// wake Logs followers.
	changed chan struct{}
}

// New returns an empty fake runtime.
func New(cfg Config) (*Runtime, error) {
	if cfg.PodCIDR == "" {
		cfg.PodCIDR = "10.244.0.0/24"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HostName == "" {
		cfg.HostName, _ = os.Hostname()
	}
	prefix, err := netip.ParsePrefix(cfg.PodCIDR)
	if err != nil || !prefix.Addr().Is4() {
		return nil, fmt.Errorf("fake runtime: PodCIDR %q: not an IPv4 CIDR: %w", cfg.PodCIDR, errdefs.ErrInvalid)
	}
	return &Runtime{
		cfg:        cfg,
		prefix:     prefix.Masked(),
		sandboxes:  map[string]*sandbox{},
		containers: map[string]*container{},
		images:     map[string]runtime.Image{},
		usedIPs:    map[netip.Addr]bool{},
	}, nil
}

// lastID numbers sandboxes and containers across all fakes of the process,
// so an id is never valid in two runtimes, as with containerd.
var lastID atomic.Uint64

func newID(kind string) string {
	return fmt.Sprintf("%s-%06d", kind, lastID.Add(1))
}

func copyLabels(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// allocIP returns the lowest free address from .2 up, like host-local.
func (r *Runtime) allocIP() (netip.Addr, error) {
	a := r.prefix.Addr().Next().Next()
	for ; r.prefix.Contains(a); a = a.Next() {
		if !r.usedIPs[a] && r.prefix.Contains(a.Next()) { // not the broadcast address
			r.usedIPs[a] = true
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("pod CIDR %s: no free address: %w", r.prefix, errdefs.ErrUnavailable)
}

// RunSandbox implements runtime.SandboxService.
func (r *Runtime) RunSandbox(ctx context.Context, cfg runtime.SandboxConfig) (runtime.Sandbox, error) {
	if err := runtime.ValidateSandboxConfig(cfg); err != nil {
		return runtime.Sandbox{}, err
	}
	if err := ctx.Err(); err != nil {
		return runtime.Sandbox{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	hostname := cfg.Hostname
	if hostname == "" {
		hostname = cfg.Name
	}
	// A host-network sandbox has the host's name and no address of its own.
	var ip string
	ports := slices.Clone(cfg.PortMappings)
	if cfg.HostNetwork {
		hostname, ports = r.cfg.HostName, nil
	} else {
		a, err := r.allocIP()
		if err != nil {
			return runtime.Sandbox{}, err
		}
		ip = a.String()
	}
	sb := &sandbox{runtime.Sandbox{
		ID:           newID("sb"),
		PodUID:       cfg.PodUID,
		Namespace:    cfg.Namespace,
		Name:         cfg.Name,
		Hostname:     hostname,
		IP:           ip,
		State:        runtime.SandboxReady,
		CreatedAt:    r.cfg.Now(),
		Labels:       copyLabels(cfg.Labels),
		HostNetwork:  cfg.HostNetwork,
		HostPID:      cfg.HostPID,
		HostIPC:      cfg.HostIPC,
		PortMappings: ports,
	}}
	r.sandboxes[sb.ID] = sb
	return sb.snapshot(), nil
}

func (s *sandbox) snapshot() runtime.Sandbox {
	out := s.Sandbox
	out.Labels = copyLabels(s.Labels)
	out.PortMappings = slices.Clone(s.PortMappings)
	return out
}

// StopSandbox implements runtime.SandboxService.
func (r *Runtime) StopSandbox(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopSandboxLocked(id)
	return nil
}

func (r *Runtime) stopSandboxLocked(id string) {
	sb, ok := r.sandboxes[id]
	if !ok {
		return
	}
	for _, c := range r.containers {
		if c.status.SandboxID == id && c.status.State == runtime.ContainerRunning {
			r.exitLocked(c, 137, runtime.ReasonError)
		}
	}
	if sb.IP != "" {
		delete(r.usedIPs, netip.MustParseAddr(sb.IP))
		sb.IP = ""
	}
	sb.State = runtime.SandboxNotReady
}

// RemoveSandbox implements runtime.SandboxService.
func (r *Runtime) RemoveSandbox(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopSandboxLocked(id)
	for cid, c := range r.containers {
		if c.status.SandboxID == id {
			r.removeContainerLocked(cid)
		}
	}
	delete(r.sandboxes, id)
	return nil
}

// SandboxStatus implements runtime.SandboxService.
func (r *Runtime) SandboxStatus(ctx context.Context, id string) (runtime.Sandbox, error) {
	if err := ctx.Err(); err != nil {
		return runtime.Sandbox{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, ok := r.sandboxes[id]
	if !ok {
		return runtime.Sandbox{}, fmt.Errorf("sandbox %q: %w", id, errdefs.ErrNotFound)
	}
	return sb.snapshot(), nil
}

// ListSandboxes implements runtime.SandboxService.
func (r *Runtime) ListSandboxes(ctx context.Context) ([]runtime.Sandbox, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]runtime.Sandbox, 0, len(r.sandboxes))
	for _, sb := range r.sandboxes {
		out = append(out, sb.snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// CreateContainer implements runtime.ContainerService.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg runtime.ContainerConfig) (string, error) {
	if err := runtime.ValidateContainerConfig(cfg); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	ref, _ := runtime.NormalizeImageRef(cfg.Image)
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, ok := r.sandboxes[sandboxID]
	if !ok {
		return "", fmt.Errorf("sandbox %q: %w", sandboxID, errdefs.ErrNotFound)
	}
	if sb.State != runtime.SandboxReady {
		return "", fmt.Errorf("sandbox %q is not ready: %w", sandboxID, errdefs.ErrConflict)
	}
	if _, ok := r.images[ref]; !ok {
		return "", fmt.Errorf("image %q: %w", ref, errdefs.ErrNotFound)
	}
	for _, c := range r.containers {
		if c.status.SandboxID == sandboxID && c.status.Name == cfg.Name {
			return "", fmt.Errorf("sandbox %q already has container %q (%s): %w", sandboxID, cfg.Name, c.status.ID, errdefs.ErrAlreadyExists)
		}
	}
	var b Behaviour
	if r.cfg.Behave != nil {
		b = r.cfg.Behave(sb.snapshot(), cfg)
	}
	c := &container{
		status: runtime.ContainerStatus{
			ID:        newID("ctr"),
			Name:      cfg.Name,
			SandboxID: sandboxID,
			Image:     ref,
			State:     runtime.ContainerCreated,
			CreatedAt: r.cfg.Now(),
			Labels:    copyLabels(cfg.Labels),
		},
		behaviour: b,
		changed:   make(chan struct{}),
	}
	r.containers[c.status.ID] = c
	return c.status.ID, nil
}

func (r *Runtime) lookup(id string) (*container, error) {
	c, ok := r.containers[id]
	if !ok {
		return nil, fmt.Errorf("container %q: %w", id, errdefs.ErrNotFound)
	}
	return c, nil
}

func (c *container) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (r *Runtime) exitLocked(c *container, code int, reason string) {
	c.status.State = runtime.ContainerExited
	c.status.ExitCode = code
	c.status.Reason = reason
	c.status.FinishedAt = r.cfg.Now()
	c.notify()
}

func exitReason(code int) string {
	if code == 0 {
		return runtime.ReasonCompleted
	}
	return runtime.ReasonError
}

// StartContainer implements runtime.ContainerService.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.lookup(id)
	if err != nil {
		return err
	}
	if c.status.State == runtime.ContainerRunning {
		return fmt.Errorf("container %q is running: %w", id, errdefs.ErrConflict)
	}
	if sb := r.sandboxes[c.status.SandboxID]; sb == nil || sb.State != runtime.SandboxReady {
		return fmt.Errorf("container %q: sandbox %q is not ready: %w", id, c.status.SandboxID, errdefs.ErrConflict)
	}
	if c.starts > 0 {
		c.previous = c.log
	}
	c.starts++
	c.log = []byte(c.behaviour.Output)
	c.status.State = runtime.ContainerRunning
	c.status.ExitCode = 0
	c.status.Reason = ""
	c.status.FinishedAt = time.Time{}
	c.status.StartedAt = r.cfg.Now()
	c.notify()
	if c.behaviour.ExitOnStart {
		r.exitLocked(c, c.behaviour.ExitCode, exitReason(c.behaviour.ExitCode))
	}
	return nil
}

// StopContainer implements runtime.ContainerService. The fake does not
// wait for grace: a container that ignores SIGTERM is killed at once.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.lookup(id)
	if err != nil {
		return err
	}
	if c.status.State != runtime.ContainerRunning {
		return nil
	}
	if grace > 0 && c.behaviour.OnTerm != nil {
		c.behaviour.OnTerm()
	}
	if grace <= 0 || c.behaviour.IgnoreTerm {
		r.exitLocked(c, 137, runtime.ReasonError)
		return nil
	}
	c.log = append(c.log, c.behaviour.TermOutput...)
	r.exitLocked(c, c.behaviour.TermExitCode, exitReason(c.behaviour.TermExitCode))
	return nil
}

// RemoveContainer implements runtime.ContainerService.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeContainerLocked(id)
	return nil
}

func (r *Runtime) removeContainerLocked(id string) {
	c, ok := r.containers[id]
	if !ok {
		return
	}
	if c.status.State == runtime.ContainerRunning {
		r.exitLocked(c, 137, runtime.ReasonError)
	}
	delete(r.containers, id)
	c.notify()
}

func (c *container) snapshot() runtime.ContainerStatus {
	out := c.status
	out.Labels = copyLabels(c.status.Labels)
	return out
}

// ContainerStatus implements runtime.ContainerService.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (runtime.ContainerStatus, error) {
	if err := ctx.Err(); err != nil {
		return runtime.ContainerStatus{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.lookup(id)
	if err != nil {
		return runtime.ContainerStatus{}, err
	}
	return c.snapshot(), nil
}

// ListContainers implements runtime.ContainerService.
func (r *Runtime) ListContainers(ctx context.Context, filter runtime.ContainerFilter) ([]runtime.ContainerStatus, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []runtime.ContainerStatus
	for _, c := range r.containers {
		if filter.SandboxID == "" || c.status.SandboxID == filter.SandboxID {
			out = append(out, c.snapshot())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Exec implements runtime.ContainerService with the container's
// Behaviour.Exec, called on the caller's goroutine.
func (r *Runtime) Exec(ctx context.Context, containerID string, cfg runtime.ExecConfig) (int, error) {
	if len(cfg.Cmd) == 0 {
		return 0, fmt.Errorf("exec in %q: Cmd: required: %w", containerID, errdefs.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r.mu.Lock()
	c, err := r.lookup(containerID)
	if err == nil && c.status.State != runtime.ContainerRunning {
		err = fmt.Errorf("exec in %q: container is %s: %w", containerID, c.status.State, errdefs.ErrConflict)
	}
	var exec func([]string, io.Reader, io.Writer, io.Writer) int
	if err == nil {
		exec = c.behaviour.Exec
	}
	r.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if exec == nil {
		return 0, nil
	}
	stdin := cfg.Stdin
	if stdin == nil {
		stdin = eofReader{}
	}
	stdout, stderr := cfg.Stdout, cfg.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	switch {
	case cfg.TTY:
		stderr = stdout
	case stderr == nil:
		stderr = io.Discard
	}
	return exec(slices.Clone(cfg.Cmd), stdin, stdout, stderr), nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Logs implements runtime.ContainerService. Follow waits on the caller's
// goroutine for WriteLog, Exit, OOMKill or a stop.
func (r *Runtime) Logs(ctx context.Context, containerID string, opts runtime.LogOptions, w io.Writer) error {
	r.mu.Lock()
	c, err := r.lookup(containerID)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	if opts.Previous {
		defer r.mu.Unlock()
		if c.starts < 2 {
			return fmt.Errorf("container %q: previous log: %w", containerID, errdefs.ErrNotFound)
		}
		_, err := w.Write(tail(c.previous, opts.TailLines))
		return err
	}
	starts := c.starts
	chunk := tail(c.log, opts.TailLines)
	offset := len(c.log)
	for {
		running := c.status.State == runtime.ContainerRunning && c.starts == starts && r.containers[containerID] == c
		changed := c.changed
		r.mu.Unlock()
		if len(chunk) > 0 {
			if _, err := w.Write(chunk); err != nil {
				return err
			}
		}
		if !opts.Follow || !running {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
		r.mu.Lock()
		chunk = nil
		if c.starts == starts && len(c.log) > offset {
			chunk = slices.Clone(c.log[offset:])
			offset = len(c.log)
		}
	}
}

// tail returns the last n lines of b (all of b for n < 0) as a copy.
func tail(b []byte, n int) []byte {
	if n < 0 {
		return slices.Clone(b)
	}
	if n == 0 {
		return nil
	}
	i := len(b)
	if i > 0 && b[i-1] == '\n' {
		i-- // the last line's own newline
	}
	for lines := 0; i > 0; i-- {
		if b[i-1] == '\n' {
			if lines++; lines == n {
				break
			}
		}
	}
	return slices.Clone(b[i:])
}

// Exit makes a running container exit with code (Reason Completed or
// Error), as if its process had ended. It returns ErrNotFound for an
// unknown container and ErrConflict for one that does not run.
func (r *Runtime) Exit(id string, code int) error {
	return r.end(id, code, exitReason(code))
}

// OOMKill makes a running container exit as the kernel's OOM killer would:
// code 137, Reason OOMKilled.
func (r *Runtime) OOMKill(id string) error {
	return r.end(id, 137, runtime.ReasonOOMKilled)
}

func (r *Runtime) end(id string, code int, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.lookup(id)
	if err != nil {
		return err
	}
	if c.status.State != runtime.ContainerRunning {
		return fmt.Errorf("container %q is %s: %w", id, c.status.State, errdefs.ErrConflict)
	}
	r.exitLocked(c, code, reason)
	return nil
}

// WriteLog appends text to a running container's log, as if it had printed
// it. It returns ErrNotFound for an unknown container and ErrConflict for
// one that does not run.
func (r *Runtime) WriteLog(id string, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.lookup(id)
	if err != nil {
		return err
	}
	if c.status.State != runtime.ContainerRunning {
		return fmt.Errorf("container %q is %s: %w", id, c.status.State, errdefs.ErrConflict)
	}
	c.log = append(c.log, text...)
	c.notify()
	return nil
}
