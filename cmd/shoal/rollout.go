package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"sigs.k8s.io/yaml"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/controller"
)

// AnnotationRestartedAt is what `rollout restart` sets on the pod template,
// as kubectl does: a new template, so a new rollout.
const AnnotationRestartedAt = "kubectl.kubernetes.io/restartedAt"

func rolloutCommand() *cli.Command {
	nsFlag := &cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: workload.DefaultNamespace, Usage: "namespace"}
	// verb is a subcommand on deployment/NAME.
	verb := func(name, usage, description string, run func(c *cli.Context, cl *api.Client, ns, name string) error, flags ...cli.Flag) *cli.Command {
		return &cli.Command{
			Name: name, Usage: usage, Description: description, ArgsUsage: "deployment/NAME",
			Flags: withClientFlags(append([]cli.Flag{nsFlag}, flags...)...),
			Action: func(c *cli.Context) error {
				return withDeployment(c, func(cl *api.Client, d string) error { return run(c, cl, c.String("namespace"), d) })
			},
		}
	}
	edit := func(name, usage, done string, change func(*workload.Deployment) error) *cli.Command {
		return verb(name, usage, "", func(c *cli.Context, cl *api.Client, ns, d string) error {
			if err := updateDeployment(c.Context, cl, ns, d, change); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "deployment.apps/%s %s\n", d, done)
			return nil
		})
	}
	return &cli.Command{
		Name:  "rollout",
		Usage: "follow, list, undo, pause, resume or restart a Deployment's rollouts",
		Subcommands: []*cli.Command{
			verb("status", "wait for a rollout to finish, printing its progress",
				"Exits 0 once every replica runs the current template and is available, and 1 when\n"+
					"the Deployment's progress deadline passes (or --timeout does) first.",
				rolloutStatus, &cli.DurationFlag{Name: "timeout", Usage: "give up after this long (0: wait for the progress deadline)"}),
			verb("history", "list a Deployment's revisions and their change causes", "",
				rolloutHistory, &cli.IntFlag{Name: "revision", Usage: "show this revision's pod template"}),
			verb("undo", "go back to the previous revision (or --to-revision N)", "",
				rolloutUndo, &cli.IntFlag{Name: "to-revision", Usage: "the revision to go back to (default: the previous one)"}),
			edit("pause", "stop a Deployment's rollouts where they are", "paused", func(d *workload.Deployment) error {
				d.Spec.Paused = true
				return nil
			}),
			edit("resume", "let a paused Deployment roll out again", "resumed", func(d *workload.Deployment) error {
				d.Spec.Paused = false
				return nil
			}),
			edit("restart", "replace every pod of a Deployment with a rolling update", "restarted", func(d *workload.Deployment) error {
				if d.Spec.Template.ObjectMeta.Annotations == nil {
					d.Spec.Template.ObjectMeta.Annotations = map[string]string{}
				}
				d.Spec.Template.ObjectMeta.Annotations[AnnotationRestartedAt] = time.Now().UTC().Format(time.RFC3339)
				return nil
			}),
		},
	}
}

func setCommand() *cli.Command {
	return &cli.Command{
		Name:  "set",
		Usage: "change a Deployment's template (shoal set image ...)",
		Subcommands: []*cli.Command{{
			Name:      "image",
			Usage:     "set containers' images, which starts a rollout",
			ArgsUsage: "deployment/NAME CONTAINER=IMAGE...",
			Flags:     withClientFlags(&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: workload.DefaultNamespace, Usage: "namespace"}),
			Action: func(c *cli.Context) error {
				if c.NArg() < 2 {
					return usagef("set image takes deployment/NAME CONTAINER=IMAGE...")
				}
				kind, name, ok := strings.Cut(c.Args().First(), "/")
				if info, err := workload.LookupKind(kind); !ok || err != nil || info.Kind != "Deployment" {
					return usagef("set image takes deployment/NAME, not %q", c.Args().First())
				}
				images := map[string]string{}
				for _, a := range c.Args().Slice()[1:] {
					k, v, ok := strings.Cut(a, "=")
					if !ok || k == "" || v == "" {
						return usagef("%q: want CONTAINER=IMAGE", a)
					}
					images[k] = v
				}
				cl, err := client(c)
				if err != nil {
					return err
				}
				defer cl.Close()
				err = updateDeployment(c.Context, cl, c.String("namespace"), name, func(d *workload.Deployment) error {
					for cname, image := range images {
						found := false
						for i := range d.Spec.Template.Spec.Containers {
							if ct := &d.Spec.Template.Spec.Containers[i]; ct.Name == cname {
								ct.Image, found = image, true
							}
						}
						if !found {
							return fmt.Errorf("deployment %q has no container %q: %w", name, cname, errdefs.ErrNotFound)
						}
					}
					return nil
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "deployment.apps/%s image updated\n", name)
				return nil
			},
		}},
	}
}

// withDeployment reads deployment/NAME and runs f with a client.
func withDeployment(c *cli.Context, f func(*api.Client, string) error) error {
	kind, name, err := kindAndName(c)
	if err != nil {
		return err
	}
	if info, err := workload.LookupKind(kind); err != nil || info.Kind != "Deployment" {
		return usagef("%s: want deployment/NAME", kind)
	}
	cl, err := client(c)
	if err != nil {
		return err
	}
	defer cl.Close()
	return f(cl, name)
}

func deploymentPath(ns, name string) string {
	info, _ := workload.LookupKind("Deployment")
	return objectPath(info, ns, name)
}

// updateDeployment changes a Deployment with a compare-and-swap.
func updateDeployment(ctx context.Context, cl *api.Client, ns, name string, change func(*workload.Deployment) error) error {
	return updateRetrying(ctx, cl, deploymentPath(ns, name), fmt.Sprintf("deployment %q", name), change)
}

// updateRetrying reads the object at path, changes it and writes it back
// with a compare-and-swap, reading it again when it changed meanwhile (or
// a leader moved), 5 times at most; what names it in the error.
func updateRetrying[T any](ctx context.Context, cl *api.Client, path, what string, change func(*T) error) error {
	for range 5 {
		var o T
		if err := cl.Do(ctx, http.MethodGet, path, nil, &o); err != nil {
			return err
		}
		if err := change(&o); err != nil {
			return err
		}
		err := cl.Do(ctx, http.MethodPut, path, &o, nil)
		if errors.Is(err, errdefs.ErrConflict) || errors.Is(err, errdefs.ErrUnavailable) {
			continue
		}
		return err
	}
	return fmt.Errorf("%s keeps changing; try again", what)
}

// rolloutLine is kubectl's view of a rollout: a line, and whether it is
// done; an error once the progress deadline passed.
func rolloutLine(d *workload.Deployment) (string, bool, error) {
	name := d.ObjectMeta.Name
	if d.ObjectMeta.Generation > d.Status.ObservedGeneration {
		return "Waiting for deployment spec update to be observed...", false, nil
	}
	for _, c := range d.Status.Conditions {
		if c.Type == "Progressing" && c.Reason == "ProgressDeadlineExceeded" {
			return "", false, fmt.Errorf("deployment %q exceeded its progress deadline", name)
		}
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	switch {
	case st.UpdatedReplicas < want:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d out of %d new replicas have been updated...", name, st.UpdatedReplicas, want), false, nil
	case st.Replicas > st.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...", name, st.Replicas-st.UpdatedReplicas), false, nil
	case st.AvailableReplicas < st.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...", name, st.AvailableReplicas, st.UpdatedReplicas), false, nil
	}
	return fmt.Sprintf("deployment %q successfully rolled out", name), true, nil
}

func rolloutStatus(c *cli.Context, cl *api.Client, ns, name string) error {
	ctx := c.Context
	if t := c.Duration("timeout"); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	said := ""
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		var d workload.Deployment
		err := cl.Do(ctx, http.MethodGet, deploymentPath(ns, name), nil, &d)
		if err != nil && ctx.Err() == nil && !errors.Is(err, errdefs.ErrUnavailable) {
			return err
		}
		if err == nil {
			msg, done, err := rolloutLine(&d)
			if err != nil {
				return err
			}
			if msg != said {
				fmt.Fprintln(c.App.Writer, msg)
				said = msg
			}
			if done {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			if c.Context.Err() == nil {
				return fmt.Errorf("timed out waiting for the rollout of deployment %q to finish", name)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// revisions lists a Deployment's ReplicaSets by revision, oldest first.
func revisions(ctx context.Context, cl *api.Client, ns, name string) ([]workload.ReplicaSet, error) {
	info, _ := workload.LookupKind("ReplicaSet")
	var list struct{ Items []workload.ReplicaSet }
	if err := cl.Do(ctx, http.MethodGet, objectPath(info, ns, ""), nil, &list); err != nil {
		return nil, err
	}
	var out []workload.ReplicaSet
	for _, rs := range list.Items {
		if rs.ObjectMeta.Annotations[workload.AnnotationDeployment] == name && rs.ObjectMeta.Annotations[workload.AnnotationRevision] != "" {
			out = append(out, rs)
		}
	}
	rev := func(rs workload.ReplicaSet) int {
		n, _ := strconv.Atoi(rs.ObjectMeta.Annotations[workload.AnnotationRevision])
		return n
	}
	sort.Slice(out, func(i, j int) bool { return rev(out[i]) < rev(out[j]) })
	return out, nil
}

func rolloutHistory(c *cli.Context, cl *api.Client, ns, name string) error {
	if err := cl.Do(c.Context, http.MethodGet, deploymentPath(ns, name), nil, &workload.Deployment{}); err != nil {
		return err
	}
	rss, err := revisions(c.Context, cl, ns, name)
	if err != nil {
		return err
	}
	if r := c.Int("revision"); r > 0 {
		for _, rs := range rss {
			if rs.ObjectMeta.Annotations[workload.AnnotationRevision] == strconv.Itoa(r) {
				t := rs.Spec.Template
				delete(t.ObjectMeta.Labels, controller.LabelTemplateHash)
				b, err := yaml.Marshal(t)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "deployment.apps/%s with revision #%d\nPod Template:\n%s", name, r, indent(string(b), "  "))
				return nil
			}
		}
		return fmt.Errorf("deployment %q has no revision %d: %w", name, r, errdefs.ErrNotFound)
	}
	fmt.Fprintf(c.App.Writer, "deployment.apps/%s\n", name)
	t := newTable(c.App.Writer, "REVISION", "CHANGE-CAUSE")
	for _, rs := range rss {
		cause := rs.ObjectMeta.Annotations[workload.AnnotationChangeCause]
		if cause == "" {
			cause = "<none>"
		}
		t.row(rs.ObjectMeta.Annotations[workload.AnnotationRevision], cause)
	}
	return t.flush()
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func rolloutUndo(c *cli.Context, cl *api.Client, ns, name string) error {
	to := c.Int("to-revision")
	if err := cl.Do(c.Context, http.MethodGet, deploymentPath(ns, name), nil, &workload.Deployment{}); err != nil {
		return err
	}
	rss, err := revisions(c.Context, cl, ns, name)
	if err != nil {
		return err
	}
	var target *workload.ReplicaSet
	switch {
	case to > 0:
		for i := range rss {
			if rss[i].ObjectMeta.Annotations[workload.AnnotationRevision] == strconv.Itoa(to) {
				target = &rss[i]
			}
		}
		if target == nil {
			return fmt.Errorf("unable to find specified revision %d in history of deployment %q: %w", to, name, errdefs.ErrNotFound)
		}
	case len(rss) >= 2:
		target = &rss[len(rss)-2]
	default:
		return fmt.Errorf("no rollout history found for deployment %q: there is no previous revision to go back to", name)
	}
	err = updateDeployment(c.Context, cl, ns, name, func(d *workload.Deployment) error {
		t := target.Spec.Template
		labels := map[string]string{}
		for k, v := range t.ObjectMeta.Labels {
			if k != controller.LabelTemplateHash {
				labels[k] = v
			}
		}
		t.ObjectMeta.Labels = labels
		d.Spec.Template = t
		if cause := target.ObjectMeta.Annotations[workload.AnnotationChangeCause]; cause != "" {
			if d.ObjectMeta.Annotations == nil {
				d.ObjectMeta.Annotations = map[string]string{}
			}
			d.ObjectMeta.Annotations[workload.AnnotationChangeCause] = cause
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "deployment.apps/%s rolled back\n", name)
	return nil
}
