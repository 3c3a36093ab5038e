package runtime

import (
	"context"
	"io"
	"time"
)

// Runtime runs pods on one machine for one peer. It is the three services
// below together.
//
// All methods are safe for concurrent use. Each blocks until its work is
// done or ctx ends (then it returns an error wrapping ctx.Err(), and the
// work may be half done: the idempotent Stop and Remove methods clean up
// after it). No method keeps goroutines running after it returns, except
// that Exec may leave a read of ExecConfig.Stdin pending (see there).
type Runtime interface {
	SandboxService
	ContainerService
	ImageService
}

// SandboxService manages pod sandboxes: a network namespace attached to
// the peer's pod network, with the pod's identity.
type SandboxService interface {
	// RunSandbox creates a sandbox for a pod: a new network namespace with an
	// address from the peer's pod CIDR and the config's port mappings (or,
	// with HostNetwork, the host's network), and the pod's /etc/hosts,
	// /etc/hostname and /etc/resolv.conf, which every container of the
	// sandbox sees. It returns ErrInvalid when PodUID, Namespace or Name is
	// empty. Each call makes a new sandbox, even for a pod that already has
	// one: list first to adopt an existing one. On error nothing is left
	// behind, except after a crash, which ListSandboxes then shows.
	RunSandbox(ctx context.Context, cfg SandboxConfig) (Sandbox, error)
	// StopSandbox kills every container of the sandbox that still runs (no
	// grace: stop them with StopContainer first to shut down gracefully) and
	// releases its network (the IP address goes back to the pool, the host
	// ports are unmapped). The sandbox stays listed, NotReady, and no
	// container can be created in it. Stopping a stopped or unknown sandbox
	// returns nil.
	StopSandbox(ctx context.Context, id string) error
	// RemoveSandbox stops the sandbox, removes all its containers and their
	// logs, deletes its network namespace and forgets it. Removing an
	// unknown sandbox returns nil.
	RemoveSandbox(ctx context.Context, id string) error
	// SandboxStatus returns one sandbox, or ErrNotFound.
	SandboxStatus(ctx context.Context, id string) (Sandbox, error)
	// ListSandboxes returns every sandbox this runtime owns, ordered by ID.
	ListSandboxes(ctx context.Context) ([]Sandbox, error)
}

// ContainerService manages the containers of sandboxes.
type ContainerService interface {
	// CreateContainer creates a container in a sandbox from an image that is
	// already present (import or pull it first), without starting it. It
	// returns ErrNotFound for an unknown sandbox or image, ErrConflict when
	// the sandbox is not ready, ErrAlreadyExists when the sandbox already has
	// a container of that name, ErrInvalid for a bad config.
	CreateContainer(ctx context.Context, sandboxID string, cfg ContainerConfig) (string, error)
	// StartContainer starts a created or exited container and returns once
	// its process runs (it may exit at once: see ContainerStatus). Starting
	// an exited container restarts it: the last start's log becomes the
	// previous log. It returns ErrConflict when the container is running.
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends SIGTERM to a running container and waits for it to
	// exit; after grace it sends SIGKILL and waits again. A grace of zero
	// kills at once. Stopping a container that does not run returns nil; an
	// unknown one returns ErrNotFound.
	StopContainer(ctx context.Context, id string, grace time.Duration) error
	// RemoveContainer kills the container if it runs and deletes it with its
	// logs. Removing an unknown container returns nil.
	RemoveContainer(ctx context.Context, id string) error
	// ContainerStatus returns the container's state, or ErrNotFound.
	ContainerStatus(ctx context.Context, id string) (ContainerStatus, error)
	// ListContainers returns the containers this runtime owns that match
	// filter, ordered by ID.
	ListContainers(ctx context.Context, filter ContainerFilter) ([]ContainerStatus, error)
	// Exec runs a command in a running container and returns its exit code
	// once it has exited and all its output is written. Stdin, when set, is
	// read to EOF and then closed for the command. It returns ErrNotFound
	// for an unknown container, ErrConflict when it does not run. When ctx
	// ends first the command is killed.
	Exec(ctx context.Context, containerID string, cfg ExecConfig) (int, error)
	// Logs writes the container's output to w: stdout and stderr in one
	// stream, in the order the runtime read them (so output of one may come
	// a little before or after the other's than it was written). With Follow it keeps writing new output until the
	// container exits (returning nil) or ctx ends (returning ctx's error).
	// It returns ErrNotFound for an unknown container, and for Previous when
	// there was no earlier start. A container never started has no output.
	Logs(ctx context.Context, containerID string, opts LogOptions, w io.Writer) error
}

// ImageService manages the images containers are created from.
type ImageService interface {
	// ImportImage reads an image archive (a docker-archive tar as `docker
	// save` writes it, or an OCI image layout tar as ExportImage writes it)
	// and makes the images in it ready to run. It returns the images it
	// imported, by the names the archive gives them, or ErrInvalid when r is
	// not such an archive.
	ImportImage(ctx context.Context, r io.Reader) ([]Image, error)
	// PullImage fetches an image from a registry and makes it ready to run.
	// It returns ErrInvalid for a malformed reference, ErrNotFound when the
	// registry does not have it, ErrUnauthenticated when the registry
	// refuses the credentials, ErrUnavailable when the registry cannot be
	// reached.
	PullImage(ctx context.Context, ref string, opts PullOptions) (Image, error)
	// ImageStatus returns a present image, or ErrNotFound.
	ImageStatus(ctx context.Context, ref string) (Image, error)
	// ListImages returns the present images, ordered by name.
	ListImages(ctx context.Context) ([]Image, error)
	// ExportImage writes a present image to w as an archive that
	// ImportImage reads (so one peer can serve an image to another). It
	// returns ErrNotFound for an image that is not present.
	ExportImage(ctx context.Context, ref string, w io.Writer) error
	// RemoveImage forgets an image; containers created from it keep
	// running. Removing an absent image returns nil.
	RemoveImage(ctx context.Context, ref string) error
}
