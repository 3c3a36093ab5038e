package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoalproject/shoal/peer/api"
)

func getCommand() *cli.Command {
	return &cli.Command{
		Name:      "get",
		Usage:     "show objects (namespaces, configmaps) or the raft shards",
		ArgsUsage: "KIND[,KIND...] [NAME...]",
		Description: "shoal get cm [NAME...] [-n NS | -A] [-l SELECTOR] [-o yaml|json|name|wide] [--show-labels] [-w]\n" +
			"shoal get shards: every raft shard, its leader, applied index and replicas\n" +
			"(peer/replica-ID; ~ marks a non-voting replica still catching up).",
		Flags: withClientFlags(
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output format: json|yaml|wide|name"},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: "default", Usage: "namespace"},
			&cli.BoolFlag{Name: "all-namespaces", Aliases: []string{"A"}, Usage: "every namespace"},
			&cli.StringFlag{Name: "selector", Aliases: []string{"l"}, Usage: "label selector (key=value, key!=value, key in (a,b), ...)"},
			&cli.BoolFlag{Name: "watch", Aliases: []string{"w"}, Usage: "after the list, print every change until interrupted"},
			&cli.BoolFlag{Name: "reveal", Usage: "show secrets' values (shown redacted otherwise)"},
			&cli.BoolFlag{Name: "show-labels", Usage: "a last column with each object's labels"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usagef("get takes KIND[,KIND...] [NAME...]")
			}
			switch c.Args().First() {
			case "shards", "shard":
			default:
				return getObjects(c, c.Args().First())
			}
			return show(c, []string{"wide"}, (*api.Client).Shards, func(out output, shards []api.ShardInfo) error {
				t := newTable(c.App.Writer, "SHARD", "ROLE", "LEADER", "APPLIED", "REPLICAS")
				if out == outputWide {
					t = newTable(c.App.Writer, "SHARD", "ROLE", "LEADER", "TERM", "APPLIED", "REPLICAS", "ADDRESSES")
				}
				for _, s := range shards {
					var reps, addrs []string
					for _, r := range s.Replicas {
						mark := ""
						if r.NonVoting {
							mark = "~"
						}
						reps = append(reps, fmt.Sprintf("%s/%d%s", r.Peer, r.ID, mark))
						addrs = append(addrs, r.Address)
					}
					row := []string{fmt.Sprint(s.ID), s.Role, dash(s.Leader)}
					if out == outputWide {
						row = append(row, fmt.Sprint(s.Term))
					}
					row = append(row, fmt.Sprint(s.Applied), strings.Join(reps, ","))
					if out == outputWide {
						row = append(row, strings.Join(addrs, ","))
					}
					t.row(row...)
				}
				return t.flush()
			})
		},
	}
}
