package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoalproject/shoal/peer/api"
)

func tokenCommand() *cli.Command {
	return &cli.Command{
		Name:  "token",
		Usage: "create, list and revoke join and API tokens",
		Subcommands: []*cli.Command{
			{
				Name:  "create",
				Usage: "create a token and print it (it is shown once)",
				Description: "A join token (the default) lets a new peer join: shoal agent --join HOST:PORT --token TOKEN.\n" +
					"An API token (--usage api) is a bearer credential for every other command.",
				Flags: withClientFlags(
					&cli.DurationFlag{Name: "ttl", Usage: "how long the token is valid; 0 never expires", Value: 24 * time.Hour},
					&cli.StringFlag{Name: "usage", Usage: "join or api", Value: "join"},
					&cli.StringFlag{Name: "description", Usage: "a note for 'token list'"},
					outputFlag(),
				),
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return usagef("token create takes no arguments")
					}
					if c.Duration("ttl") < 0 {
						return usagef("--ttl %s: must not be negative", c.Duration("ttl"))
					}
					req := api.TokenCreate{Usage: c.String("usage"), TTL: c.Duration("ttl"), Description: c.String("description")}
					create := func(cl *api.Client, ctx context.Context) (*api.TokenCreated, error) { return cl.CreateToken(ctx, req) }
					return show(c, nil, create, func(_ output, t *api.TokenCreated) error {
						_, err := fmt.Fprintln(c.App.Writer, t.Token)
						return err
					})
				},
			},
			{
				Name:  "list",
				Usage: "list tokens (never their secrets)",
				Flags: withClientFlags(outputFlag()),
				Action: func(c *cli.Context) error {
					return show(c, nil, (*api.Client).Tokens, func(_ output, ts []api.TokenInfo) error {
						now := time.Now()
						t := newTable(c.App.Writer, "ID", "USAGE", "STATUS", "EXPIRES", "AGE", "DESCRIPTION")
						for _, tk := range ts {
							status, expires := "valid", "never"
							if !tk.Expires.IsZero() {
								expires = tk.Expires.Local().Format(time.RFC3339)
								if !now.Before(tk.Expires) {
									status = "expired"
								}
							}
							if tk.Revoked {
								status = "revoked"
							}
							t.row(tk.ID, tk.Usage, status, expires, humanDuration(now.Sub(tk.Created)), dash(tk.Description))
						}
						return t.flush()
					})
				},
			},
			{
				Name:      "revoke",
				Usage:     "revoke a token by ID: it admits no one from now on",
				ArgsUsage: "ID",
				Flags:     withClientFlags(),
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usagef("token revoke takes one token ID")
					}
					cl, err := client(c)
					if err != nil {
						return err
					}
					defer cl.Close()
					if err := cl.RevokeToken(c.Context, c.Args().First()); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "token/%s revoked\n", c.Args().First())
					return nil
				},
			},
		},
	}
}

func leaveCommand() *cli.Command {
	return &cli.Command{
		Name:  "leave",
		Usage: "ask a peer (--server, or the config's first) to hand its raft replicas over, leave gracefully and stop",
		Flags: withClientFlags(),
		Action: func(c *cli.Context) error {
			cl, err := client(c)
			if err != nil {
				return err
			}
			defer cl.Close()
			v, err := cl.Version(c.Context)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "peer/%s draining its pods and handing its replicas over...\n", v.Peer)
			rep, err := cl.Leave(c.Context)
			if err != nil {
				return err
			}
			if len(rep.Drained) > 0 {
				fmt.Fprintf(c.App.Writer, "peer/%s evicted %d pods for their controllers to place elsewhere\n", v.Peer, len(rep.Drained))
			}
			switch {
			case rep.TimedOut:
				fmt.Fprintf(c.App.Writer, "peer/%s leaving before its replicas of shards %v moved (timed out)\n", v.Peer, rep.Held)
			case len(rep.Short) > 0:
				fmt.Fprintf(c.App.Writer, "peer/%s leaving; no spare peer took its replicas, shards %v now run short\n", v.Peer, rep.Short)
			default:
				fmt.Fprintf(c.App.Writer, "peer/%s handed its replicas over in %s\n", v.Peer, dash(rep.Took))
			}
			fmt.Fprintf(c.App.Writer, "peer/%s leaving\n", v.Peer)
			return nil
		},
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the client's version and, when a cluster is reachable, the answering peer's",
		Flags: withClientFlags(),
		Action: func(c *cli.Context) error {
			fmt.Fprintf(c.App.Writer, "client: %s\n", c.App.Version)
			cl, err := client(c)
			if err != nil {
				return nil
			}
			defer cl.Close()
			if v, err := cl.Version(c.Context); err == nil {
				fmt.Fprintf(c.App.Writer, "peer %s: %s (%s), cluster %s\n", v.Peer, v.Version, v.GoVersion, v.Cluster)
			}
			return nil
		},
	}
}
