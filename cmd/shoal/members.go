package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoalproject/shoal/peer/api"
)

func membersCommand() *cli.Command {
	return &cli.Command{
		Name:  "members",
		Usage: "list the cluster's peers as the answering peer's gossip sees them",
		Description: "SHARDS lists the raft shards each peer holds a replica of: 3* means it leads\n" +
			"shard 3, 3~ that its replica of shard 3 is non-voting, still catching up.",
		Flags: withClientFlags(outputFlag("wide")),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("members takes no arguments")
			}
			return show(c, []string{"wide"}, (*api.Client).Members, func(out output, ml *api.MemberList) error {
				now := time.Now()
				t := newTable(c.App.Writer, "NAME", "ADDRESS", "STATUS", "REGION", "ZONE", "SINCE", "SHARDS")
				if out == outputWide {
					t = newTable(c.App.Writer, "NAME", "ADDRESS", "STATUS", "REGION", "ZONE", "SINCE", "SHARDS", "API", "RAFT", "TUNNEL", "VERSION")
				}
				for _, m := range ml.Members {
					row := []string{m.Name, m.Address, m.Status, dash(m.Region), dash(m.Zone), humanDuration(now.Sub(m.Since)), dash(strings.Join(m.Shards, ","))}
					if out == outputWide {
						row = append(row, m.API, m.Raft, m.Tunnel, m.Version)
					}
					t.row(row...)
				}
				return t.flush()
			})
		},
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// humanDuration prints a duration as kubectl's AGE column does.
func humanDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 10*time.Minute && int(d.Seconds())%60 == 0: // as kubectl: 2m, not 2m0s
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 10*time.Minute:
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 3*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 8*time.Hour && int(d.Minutes())%60 == 0:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d < 8*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}
