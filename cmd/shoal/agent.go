package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoalproject/shoal/gossip"
	"github.com/shoalproject/shoal/peer"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime"
	"github.com/shoalproject/shoal/workload/runtime/containerd"
)

func agentCommand() *cli.Command {
	return &cli.Command{
		Name:  "agent",
		Usage: "run a peer: bootstrap a new cluster, or join one with --join and --token",
		Description: `Without --join, starts a new cluster: creates the cluster CA, the gossip key, the
encryption key for secrets at rest and a join token, and writes DIR/admin.conf (a client
config: export SHOAL_CONFIG=DIR/admin.conf) and DIR/join-token.

With --join HOST:APIPORT --token TOKEN, joins through any existing peer. The token pins
the cluster CA: nothing is trusted until the peer proves it holds that CA.

Restarted on the same --data-dir, a peer keeps its identity and rejoins. SIGTERM and
'shoal leave' leave the cluster gracefully.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "peer name, unique in the cluster (DNS-1123 label); default the host name"},
			&cli.StringFlag{Name: "data-dir", Usage: "where the peer keeps its identity and state", Value: "/var/lib/shoal"},
			&cli.StringFlag{Name: "bind", Usage: "IP address to listen on", Value: "0.0.0.0"},
			&cli.StringFlag{Name: "advertise", Usage: "IP address other peers reach this one at (default: --bind)"},
			&cli.IntFlag{Name: "gossip-port", Usage: "gossip port (UDP and TCP)", Value: peer.DefaultGossipPort},
			&cli.IntFlag{Name: "raft-port", Usage: "raft transport port", Value: peer.DefaultRaftPort},
			&cli.IntFlag{Name: "api-port", Usage: "HTTPS API port", Value: peer.DefaultAPIPort},
			&cli.IntFlag{Name: "tunnel-port", Usage: "service tunnel port", Value: peer.DefaultTunnelPort},
			&cli.StringFlag{Name: "region", Usage: "region label (topology.kubernetes.io/region)"},
			&cli.StringFlag{Name: "zone", Usage: "zone label (topology.kubernetes.io/zone)"},
			&cli.StringSliceFlag{Name: "label", Usage: "node label KEY=VALUE (repeatable)"},
			&cli.StringSliceFlag{Name: "capacity", Usage: "a resource this node offers besides the cpu, memory and pods it measures, NAME=QUANTITY (repeatable): an extended resource (nvidia.com/gpu=2, example.com/dongle=1), ephemeral-storage=50Gi (default: the size of --data-dir's file system) or hugepages-2Mi=1Gi"},
			&cli.StringFlag{Name: "join", Usage: "API address HOST:PORT of any peer of the cluster to join"},
			&cli.StringFlag{Name: "token", Usage: "join token (K10...), from DIR/join-token or 'shoal token create'", EnvVars: []string{"SHOAL_TOKEN"}},
			&cli.StringFlag{Name: "cluster-name", Usage: "name of a new cluster", Value: "shoal"},
			&cli.StringFlag{Name: "debug-addr", Usage: "serve Go's profiler (net/http/pprof) on this HOST:PORT, for performance work; keep it on loopback (off by default)"},
			&cli.StringFlag{Name: "service-cidr", Usage: "where Services' cluster IPs come from", Value: peer.DefaultServiceCIDR},
			&cli.BoolFlag{Name: "pod-dns", Usage: "answer this peer's pods' DNS queries for service names on the pod bridge's gateway, and give pods that nameserver with Kubernetes' search path (NAME, NAME.NAMESPACE, NAME.NAMESPACE.svc.cluster.local)", Value: true},
			&cli.BoolFlag{Name: "service-route", Usage: "make the service CIDR local to this host's network namespace (a local route on lo, added when the first service needs it; needs CAP_NET_ADMIN), so that cluster IPs are served here; with --service-route=false services are reached by NodePort", Value: true},
			&cli.IntFlag{Name: "object-shards", Usage: "object shards of a new cluster (fixed once created)", Value: 4},
			&cli.DurationFlag{Name: "pod-failover", Usage: "how long a peer may be failed (per gossip) before its pods are replaced elsewhere", Value: peer.DefaultPodFailover},
			&cli.DurationFlag{Name: "replica-repair-grace", Usage: "how long a peer may be failed before its raft replicas are rebuilt elsewhere", Value: 30 * time.Second},
			&cli.DurationFlag{Name: "raft-rtt", Usage: "round trip time raft plans around; elections take 10 (raise it on a WAN)", Value: 20 * time.Millisecond},
			&cli.StringFlag{Name: "gossip-profile", Usage: "failure-detection timing: lan (a dead peer is noticed in about 1 s) or wan", Value: "lan"},
			&cli.StringFlag{Name: "log-level", Usage: "debug, info, warn or error", Value: "info"},
			&cli.StringFlag{Name: "runtime", Usage: "container runtime: containerd, none (this peer runs no pods), or auto (containerd when its socket exists)", Value: "auto"},
			&cli.StringFlag{Name: "containerd-address", Usage: "containerd's socket", Value: containerd.DefaultAddress},
			&cli.StringFlag{Name: "containerd-namespace", Usage: "containerd namespace for this peer's pods (default: shoal-NAME)"},
			&cli.StringFlag{Name: "bridge", Usage: "Linux bridge this peer's pods attach to (peers on one machine need different ones)", Value: containerd.DefaultBridgeName},
			&cli.StringSliceFlag{Name: "insecure-registry", Usage: "registry HOST:PORT to pull from over plain HTTP (repeatable; loopback registries always are)"},
			&cli.StringFlag{Name: "cluster-cidr", Usage: "pod network of a new cluster, split into a /24 per node", Value: peer.DefaultClusterCIDR},
		},
		Action: runAgent,
	}
}

func runAgent(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("agent takes no arguments, got %q", c.Args().Slice())
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return usagef("--log-level %q: want debug, info, warn or error", c.String("log-level"))
	}
	profile, err := gossip.ParseProfile(c.String("gossip-profile"))
	if err != nil {
		return usagef("--gossip-profile: %v", err)
	}
	labels := map[string]string{}
	for _, l := range c.StringSlice("label") {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return usagef("--label %q: want KEY=VALUE", l)
		}
		labels[k] = v
	}
	capacity, err := parseCapacity(c.StringSlice("capacity"))
	if err != nil {
		return err
	}
	name := c.String("name")
	if name == "" {
		h, err := os.Hostname()
		if err != nil {
			return usagef("--name: Required value (no host name to default to: %v)", err)
		}
		name = strings.ToLower(h)
	}
	if err := execTuned(c.String("data-dir")); err != nil {
		return fmt.Errorf("agent %s: %w", name, err)
	}
	logger := slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)
	cfg := peer.Config{
		Name:          name,
		DataDir:       c.String("data-dir"),
		BindAddr:      c.String("bind"),
		AdvertiseAddr: c.String("advertise"),
		GossipPort:    c.Int("gossip-port"),
		RaftPort:      c.Int("raft-port"),
		APIPort:       c.Int("api-port"),
		TunnelPort:    c.Int("tunnel-port"),
		Region:        c.String("region"),
		Zone:          c.String("zone"),
		Labels:        labels,
		Capacity:      capacity,
		ClusterName:   c.String("cluster-name"),
		Join:          c.String("join"),
		Token:         c.String("token"),
		GossipProfile: profile,

		ObjectShards:       c.Int("object-shards"),
		ReplicaRepairGrace: c.Duration("replica-repair-grace"),
		PodFailover:        c.Duration("pod-failover"),
		RaftRTT:            c.Duration("raft-rtt"),
		ClusterCIDR:        c.String("cluster-cidr"),
		ServiceCIDR:        c.String("service-cidr"),
		ServiceRoute:       c.Bool("service-route"),
		PodDNS:             c.Bool("pod-dns"),
		InsecureRegistries: c.StringSlice("insecure-registry"),
		Logger:             logger,
	}
	rt, err := runtimeFactory(c, name, logger)
	if err != nil {
		return err
	}
	cfg.Runtime = rt
	if addr := c.String("debug-addr"); addr != "" {
		if err := serveProfiler(c.Context, addr, logger); err != nil {
			return err
		}
	}
	if err := peer.Run(c.Context, cfg); err != nil {
		return fmt.Errorf("agent %s: %w", name, err)
	}
	return nil
}

// parseCapacity reads --capacity NAME=QUANTITY flags: each a resource
// Kubernetes lets a node advertise besides what it measures
// (workload.ValidateExtraCapacity), once.
func parseCapacity(flags []string) (workload.ResourceList, error) {
	out := workload.ResourceList{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" || v == "" {
			return nil, usagef("--capacity %q: want NAME=QUANTITY, such as nvidia.com/gpu=2", f)
		}
		name := workload.ResourceName(k)
		if _, dup := out[name]; dup {
			return nil, usagef("--capacity %q: %s is given twice", f, k)
		}
		q, err := workload.ParseQuantity(v)
		if err != nil {
			return nil, usagef("--capacity %q: %q is not a quantity (such as 2, 500m, 50Gi)", f, v)
		}
		if err := workload.ValidateExtraCapacity(name, q); err != nil {
			return nil, usagef("--capacity %q: %v", f, err)
		}
		out[name] = q
	}
	return out, nil
}

// runtimeFactory picks the container runtime the agent's --runtime asks
// for; nil means this peer runs no pods.
func runtimeFactory(c *cli.Context, name string, logger *slog.Logger) (func(context.Context, string) (runtime.Runtime, error), error) {
	addr := c.String("containerd-address")
	switch c.String("runtime") {
	case "none":
		return nil, nil
	case "auto":
		if _, err := os.Stat(addr); err != nil {
			logger.Warn("no containerd socket: this peer runs no pods (install containerd, or pass --runtime none to silence this)", "address", addr)
			return nil, nil
		}
	case "containerd":
	default:
		return nil, usagef("--runtime: %q is not one of containerd, none, auto", c.String("runtime"))
	}
	ns := c.String("containerd-namespace")
	if ns == "" {
		ns = "shoal-" + name
	}
	dir, err := filepath.Abs(c.String("data-dir"))
	if err != nil {
		return nil, err
	}
	bridge := c.String("bridge")
	return func(ctx context.Context, podCIDR string) (runtime.Runtime, error) {
		return containerd.New(ctx, containerd.Config{
			Address: addr, Namespace: ns, StateDir: filepath.Join(dir, "runtime"), PodCIDR: podCIDR,
			BridgeName: bridge, Logger: logger,
		})
	}, nil
}
