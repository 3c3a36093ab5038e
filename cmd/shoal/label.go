package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoalproject/shoal/workload"
)

// labelCommand is `shoal label` (field "labels") or `shoal annotate`
// ("annotations"), as kubectl's: KEY=VALUE sets, KEY- removes, and a key
// that has another value is changed only with --overwrite.
func labelCommand(name, field string) *cli.Command {
	past := map[string]string{"labels": "labeled", "annotations": "annotated"}[field]
	return &cli.Command{
		Name:      name,
		Usage:     fmt.Sprintf("set or remove an object's %s (KEY=VALUE, KEY-)", field),
		ArgsUsage: "KIND NAME KEY=VALUE... | KIND/NAME KEY=VALUE... (KEY- removes KEY)",
		Description: fmt.Sprintf("shoal %s node p1 disk=ssd\nshoal %s deployment/web team-\n", name, name) +
			"Operators' labels and annotations on a Node are kept: a peer's heartbeat does not undo them.",
		Flags: withClientFlags(
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: workload.DefaultNamespace},
			&cli.BoolFlag{Name: "overwrite", Usage: "change a key that already has another value"},
		),
		Action: func(c *cli.Context) error {
			info, objName, changes, err := targetAndChanges(c)
			if err != nil {
				return err
			}
			set, remove := map[string]string{}, []string{}
			for _, ch := range changes {
				if k, ok := strings.CutSuffix(ch, "-"); ok && !strings.Contains(ch, "=") {
					remove = append(remove, k)
					continue
				}
				k, v, ok := strings.Cut(ch, "=")
				if !ok || k == "" {
					return usagef("%q: want KEY=VALUE or KEY-", ch)
				}
				set[k] = v
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			defer cl.Close()
			path := objectPath(info, c.String("namespace"), objName)
			what := strings.ToLower(info.Kind) + "/" + objName
			err = updateRetrying(c.Context, cl, path, what, func(o *map[string]any) error {
				meta := metaOf(*o)
				cur, _ := meta[field].(map[string]any)
				if cur == nil {
					cur = map[string]any{}
				}
				for k, v := range set {
					if old, ok := cur[k]; ok && fmt.Sprint(old) != v && !c.Bool("overwrite") {
						return usagef("'%s' already has a value (%v), and --overwrite is false", k, old)
					}
					cur[k] = v
				}
				for _, k := range remove {
					delete(cur, k)
				}
				meta[field] = cur
				return nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "%s %s\n", what, past)
			return nil
		},
	}
}

// targetAndChanges reads KIND NAME ARGS... or KIND/NAME ARGS....
func targetAndChanges(c *cli.Context) (workload.KindInfo, string, []string, error) {
	args := c.Args().Slice()
	var kind, name string
	var rest []string
	switch {
	case len(args) >= 1 && strings.Contains(args[0], "/"):
		kind, name, _ = strings.Cut(args[0], "/")
		rest = args[1:]
	case len(args) >= 2:
		kind, name, rest = args[0], args[1], args[2:]
	}
	if name == "" || len(rest) == 0 {
		return workload.KindInfo{}, "", nil, usagef("want KIND NAME or KIND/NAME, then at least one change")
	}
	info, err := workload.LookupKind(kind)
	if err != nil {
		return workload.KindInfo{}, "", nil, usageError{err}
	}
	return info, name, rest, nil
}

// taintCommand is `shoal taint node NAME KEY[=VALUE]:EFFECT...`, as
// kubectl taint: KEY:EFFECT- or KEY- removes.
func taintCommand() *cli.Command {
	return &cli.Command{
		Name:      "taint",
		Usage:     "set or remove a node's taints (KEY=VALUE:EFFECT, KEY:EFFECT-, KEY-)",
		ArgsUsage: "node NAME KEY[=VALUE]:EFFECT... (EFFECT: NoSchedule, PreferNoSchedule, NoExecute)",
		Description: "shoal taint node p1 dedicated=gpu:NoSchedule\nshoal taint node p1 dedicated:NoSchedule-\n" +
			"A pod without a matching toleration is not scheduled on a NoSchedule node; NoExecute also evicts the pods that do not tolerate it.",
		Flags: withClientFlags(
			&cli.BoolFlag{Name: "overwrite", Usage: "change the value of a taint of the same key and effect"},
		),
		Action: func(c *cli.Context) error {
			info, name, changes, err := targetAndChanges(c)
			if err != nil {
				return err
			}
			if info.Kind != "Node" {
				return usagef("taint: only nodes have taints, not %s", info.Plural)
			}
			var add, remove []workload.Taint
			for _, ch := range changes {
				t, removal, err := parseTaint(ch)
				if err != nil {
					return usageError{err}
				}
				if removal {
					remove = append(remove, t)
				} else {
					add = append(add, t)
				}
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			defer cl.Close()
			now := time.Now()
			err = updateRetrying(c.Context, cl, "/api/v1/nodes/"+name, "node/"+name, func(n *workload.Node) error {
				taints, err := changeTaints(n.Spec.Taints, add, remove, c.Bool("overwrite"), now)
				if err != nil {
					return fmt.Errorf("node %s %w", name, err)
				}
				n.Spec.Taints = taints
				return nil
			})
			if err != nil {
				return err
			}
			verb := "tainted"
			if len(add) == 0 {
				verb = "untainted"
			}
			fmt.Fprintf(c.App.Writer, "node/%s %s\n", name, verb)
			return nil
		},
	}
}

// parseTaint reads KEY[=VALUE]:EFFECT, or a removal: KEY:EFFECT- or KEY-.
func parseTaint(s string) (workload.Taint, bool, error) {
	spec, removal := strings.CutSuffix(s, "-")
	kv, effect, hasEffect := strings.Cut(spec, ":")
	key, value, _ := strings.Cut(kv, "=")
	t := workload.Taint{Key: key, Value: value, Effect: workload.TaintEffect(effect)}
	switch {
	case key == "":
		return t, false, fmt.Errorf("invalid taint spec: %q: no key", s)
	case !hasEffect && !removal:
		return t, false, fmt.Errorf("invalid taint spec: %q: want KEY[=VALUE]:EFFECT", s)
	case hasEffect && !validEffect(t.Effect):
		return t, false, fmt.Errorf("invalid taint effect: %s, unsupported taint effect (NoSchedule, PreferNoSchedule or NoExecute)", effect)
	}
	return t, removal, nil
}

func validEffect(e workload.TaintEffect) bool {
	switch e {
	case workload.TaintEffectNoSchedule, workload.TaintEffectPreferNoSchedule, workload.TaintEffectNoExecute:
		return true
	}
	return false
}

// changeTaints is kubectl taint's decision: removals match a key, and an
// effect when given (one that matches nothing is an error); an added taint
// replaces one of the same key and effect only with overwrite. NoExecute
// taints get the time they were added.
func changeTaints(cur, add, remove []workload.Taint, overwrite bool, now time.Time) ([]workload.Taint, error) {
	out := append([]workload.Taint(nil), cur...)
	for _, r := range remove {
		kept := out[:0]
		found := false
		for _, t := range out {
			if t.Key == r.Key && (r.Effect == "" || t.Effect == r.Effect) {
				found = true
				continue
			}
			kept = append(kept, t)
		}
		if !found {
			return nil, fmt.Errorf("taint %q not found", r.Key+effectSuffix(r.Effect))
		}
		out = kept
	}
	for _, a := range add {
		if a.Effect == workload.TaintEffectNoExecute {
			added := workload.NewTime(now.UTC().Truncate(time.Second))
			a.TimeAdded = &added
		}
		replaced := false
		for i, t := range out {
			if t.Key == a.Key && t.Effect == a.Effect {
				if t.Value != a.Value && !overwrite {
					return nil, fmt.Errorf("already has %s taint(s) with same effect(s) and --overwrite is false", a.Key)
				}
				out[i], replaced = a, true
			}
		}
		if !replaced {
			out = append(out, a)
		}
	}
	return out, nil
}

func effectSuffix(e workload.TaintEffect) string {
	if e == "" {
		return ""
	}
	return ":" + string(e)
}
