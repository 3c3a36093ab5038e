package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v2"
)

func main() {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "dir", Usage: "directory for the cluster's state: containerd, the peers' data and logs", Value: ".demo"},
		&cli.StringFlag{Name: "name", Usage: "prefix of the network namespaces, links and containerd namespaces made (at most 10 characters)", Value: "shoal-demo"},
		&cli.StringFlag{Name: "subnet", Usage: "the peers' LAN, a /24: peer N at .N, this host at .254", Value: "10.198.0.0/24"},
	}
	upFlags := append(flags,
		&cli.StringFlag{Name: "shoal", Usage: "the shoal binary", Value: "bin/shoal"},
		&cli.StringFlag{Name: "image", Usage: "the example web service's image archive (make images)", Value: "bin/webapp.tar"},
		&cli.StringFlag{Name: "seed", Usage: "the seed example's manifests", Value: "examples/seed"},
		&cli.StringSliceFlag{Name: "agent-flag", Usage: "a flag to add to every agent's command line (repeat it; e.g. --agent-flag=--log-level=debug)"},
		&cli.StringFlag{Name: "content", Usage: "where the seed volume's content is written on every peer (the PersistentVolume's hostPath)", Value: seedContent},
	)
	app := &cli.App{
		Name:  "shoal-demo",
		Usage: "run the seed example on a local 3-peer Shoal cluster (make demo), and remove it (make demo-down)",
		Description: "Each peer runs in a network namespace of its own on a bridge, as a machine on a LAN, and runs pods on\n" +
			"a private containerd. up checks every step and fails, naming the step, when one does not reach its goal.\n" +
			"Needs root, containerd, runc, the CNI plugins and iproute2 (scripts/install-deps.sh installs them).",
		Commands: []*cli.Command{
			{
				Name:  "up",
				Usage: "start the cluster, apply the seed example, call it through every peer, take a peer down; leave it running",
				Flags: upFlags,
				Action: func(c *cli.Context) error {
					o, err := optionsFrom(c)
					if err != nil {
						return err
					}
					o.Shoal, o.Image, o.Seed, o.Content = c.String("shoal"), c.String("image"), c.String("seed"), c.String("content")
					o.AgentFlags = c.StringSlice("agent-flag")
					_, err = up(c.Context, o)
					return err
				},
			},
			{
				Name:  "down",
				Usage: "stop and remove everything up created (agents, pods, containerd, namespaces, links, the seeded content)",
				Flags: flags,
				Action: func(c *cli.Context) error {
					o, err := optionsFrom(c)
					if err != nil {
						return err
					}
					return down(c.Context, o)
				},
			},
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "shoal-demo:", err)
		os.Exit(1)
	}
}

func optionsFrom(c *cli.Context) (options, error) {
	if c.String("dir") == "" {
		return options{}, fmt.Errorf("--dir: want a directory for the demo's state")
	}
	dir, err := filepath.Abs(c.String("dir"))
	if err != nil {
		return options{}, err
	}
	subnet, err := netip.ParsePrefix(c.String("subnet"))
	if err != nil || subnet.Bits() != 24 || !subnet.Addr().Is4() {
		return options{}, fmt.Errorf("--subnet %q: want an IPv4 /24 such as 10.198.0.0/24", c.String("subnet"))
	}
	name := c.String("name")
	if len(name) == 0 || len(name) > 10 {
		return options{}, fmt.Errorf("--name %q: want 1 to 10 characters (link names are at most 15)", name)
	}
	return options{Dir: dir, Name: name, Subnet: subnet.Masked(), Peers: 3, Out: os.Stdout}, nil
}
