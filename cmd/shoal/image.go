package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoalproject/shoal/peer/api"
)

func imageCommand() *cli.Command {
	return &cli.Command{
		Name:  "image",
		Usage: "import images into a peer and list which peers hold which images",
		Description: "Peers share images: a pod on a peer that lacks its image fetches it from a peer\n" +
			"that has it (verified by digest), so an image imported once runs anywhere.",
		Subcommands: []*cli.Command{
			{
				Name:      "import",
				Usage:     "import an image archive (OCI layout or docker-archive tar) into the peer --server names (or the config's first)",
				ArgsUsage: "FILE.tar",
				Flags:     clientFlags(),
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usagef("image import takes FILE.tar")
					}
					f, err := os.Open(c.Args().First())
					if err != nil {
						return err
					}
					defer f.Close()
					cl, err := client(c)
					if err != nil {
						return err
					}
					defer cl.Close()
					body, err := cl.StreamBody(c.Context, http.MethodPost, "/v1/images", f)
					if err != nil {
						return err
					}
					defer body.Close()
					var l api.ImageList
					if err := json.NewDecoder(body).Decode(&l); err != nil {
						return fmt.Errorf("import answer: %v", err)
					}
					for _, im := range l.Items {
						fmt.Fprintf(c.App.Writer, "imported %s (%s) into %s\n", im.Name, shortDigest(im.Digest), strings.Join(im.Peers, ","))
					}
					return nil
				},
			},
			{
				Name:    "ls",
				Aliases: []string{"list"},
				Usage:   "list every live peer's images",
				Flags:   withClientFlags(outputFlag()),
				Action: func(c *cli.Context) error {
					return show(c, nil, func(cl *api.Client, ctx context.Context) (api.ImageList, error) {
						var l api.ImageList
						err := cl.Do(ctx, http.MethodGet, "/v1/images", nil, &l)
						return l, err
					}, func(o output, l api.ImageList) error {
						t := newTable(c.App.Writer, "IMAGE", "DIGEST", "SIZE", "PEERS")
						for _, im := range l.Items {
							t.row(im.Name, shortDigest(im.Digest), fmt.Sprintf("%.1fMB", float64(im.Size)/1e6), strings.Join(im.Peers, ","))
						}
						return t.flush()
					})
				},
			},
		},
	}
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
