package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
)

func scaleCommand() *cli.Command {
	return &cli.Command{
		Name:      "scale",
		Usage:     "set the replicas of a Deployment or ReplicaSet",
		ArgsUsage: "deployment/NAME | KIND NAME",
		Flags: withClientFlags(
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: workload.DefaultNamespace},
			&cli.IntFlag{Name: "replicas", Usage: "the new number of replicas (required)"},
		),
		Action: func(c *cli.Context) error {
			// Checked here, not by urfave/cli, which then takes the
			// positional argument for an unknown subcommand.
			if !c.IsSet("replicas") {
				return usagef(`required flag(s) "replicas" not set`)
			}
			kind, name, err := kindAndName(c)
			if err != nil {
				return err
			}
			info, err := workload.LookupKind(kind)
			if err != nil {
				return usageError{err}
			}
			if info.Kind != "Deployment" && info.Kind != "ReplicaSet" {
				return usagef("scale: %s cannot be scaled (deployments and replicasets can)", info.Plural)
			}
			if c.Int("replicas") < 0 {
				return usagef("--replicas: must be 0 or more")
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			defer cl.Close()
			path := objectPath(info, c.String("namespace"), name)
			what := strings.ToLower(info.Kind) + "/" + name
			err = updateRetrying(c.Context, cl, path, what, func(o *map[string]any) error {
				spec, _ := (*o)["spec"].(map[string]any)
				if spec == nil {
					return fmt.Errorf("%s has no spec", what)
				}
				spec["replicas"] = c.Int("replicas") // setting it twice is harmless
				return nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "%s.apps/%s scaled\n", strings.ToLower(info.Kind), name)
			return nil
		},
	}
}

// kindAndName reads "KIND/NAME" or "KIND NAME".
func kindAndName(c *cli.Context) (string, string, error) {
	switch c.NArg() {
	case 1:
		kind, name, ok := strings.Cut(c.Args().First(), "/")
		if !ok || name == "" {
			return "", "", usagef("want KIND/NAME or KIND NAME")
		}
		return kind, name, nil
	case 2:
		return c.Args().Get(0), c.Args().Get(1), nil
	}
	return "", "", usagef("want KIND/NAME or KIND NAME")
}

func cordonCommand(name string, unschedulable bool) *cli.Command {
	usage := "mark a node unschedulable: new pods go elsewhere, running ones stay"
	if !unschedulable {
		usage = "mark a node schedulable again"
	}
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "NODE",
		Flags:     clientFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("%s takes NODE", name)
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			defer cl.Close()
			if err := setUnschedulable(c.Context, cl, c.Args().First(), unschedulable); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "node/%s %sed\n", c.Args().First(), name)
			return nil
		},
	}
}

func drainCommand() *cli.Command {
	return &cli.Command{
		Name:      "drain",
		Usage:     "cordon a node and evict its pods (each stops within its grace period; their controllers place them elsewhere)",
		ArgsUsage: "NODE",
		Flags: withClientFlags(
			&cli.BoolFlag{Name: "force", Usage: "also delete pods no controller will replace"},
			&cli.DurationFlag{Name: "timeout", Usage: "how long to wait for the pods to go", Value: 5 * time.Minute},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("drain takes NODE")
			}
			node := c.Args().First()
			cl, err := client(c)
			if err != nil {
				return err
			}
			defer cl.Close()
			if err := setUnschedulable(c.Context, cl, node, true); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "node/%s cordoned\n", node)
			var pods struct{ Items []workload.Pod }
			if err := cl.Do(c.Context, http.MethodGet, "/api/v1/pods", nil, &pods); err != nil {
				return err
			}
			var evict []workload.Pod
			var bare []string
			for _, p := range pods.Items {
				if p.Spec.NodeName != node {
					continue
				}
				if len(p.ObjectMeta.OwnerReferences) == 0 && !c.Bool("force") {
					bare = append(bare, p.ObjectMeta.Namespace+"/"+p.ObjectMeta.Name)
					continue
				}
				evict = append(evict, p)
			}
			if len(bare) > 0 {
				return fmt.Errorf("cannot delete pods that no controller manages (use --force): %s", strings.Join(bare, ", "))
			}
			info, _ := workload.LookupKind("Pod")
			for _, p := range evict {
				path := objectPath(info, p.ObjectMeta.Namespace, p.ObjectMeta.Name)
				if err := cl.Do(c.Context, http.MethodDelete, path, nil, nil); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
					return err
				}
				fmt.Fprintf(c.App.Writer, "evicting pod %s/%s\n", p.ObjectMeta.Namespace, p.ObjectMeta.Name)
			}
			for _, p := range evict {
				if err := waitGone(c, cl, objectPath(info, p.ObjectMeta.Namespace, p.ObjectMeta.Name)); err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "pod/%s evicted\n", p.ObjectMeta.Name)
			}
			fmt.Fprintf(c.App.Writer, "node/%s drained\n", node)
			return nil
		},
	}
}

// setUnschedulable cordons or uncordons a node with a merge patch of its
// spec.unschedulable, as kubectl cordon does.
func setUnschedulable(ctx context.Context, cl *api.Client, node string, unschedulable bool) error {
	patch := fmt.Sprintf(`{"spec":{"unschedulable":%t}}`, unschedulable)
	return cl.Do(ctx, http.MethodPatch, "/api/v1/nodes/"+node, api.Raw{ContentType: "application/merge-patch+json", Data: []byte(patch)}, nil)
}
