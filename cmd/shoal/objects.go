package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
)

// objectPath is the API path of a kind's collection (name "") or object.
func objectPath(info workload.KindInfo, ns, name string) string {
	p := info.PathPrefix() + "/" + info.Plural
	if info.Namespaced {
		p = info.PathPrefix() + "/namespaces/" + url.PathEscape(ns) + "/" + info.Plural
	}
	if name != "" {
		p += "/" + url.PathEscape(name)
	}
	return p
}

// readManifests decodes every -f source; any invalid document fails the
// whole apply before anything is sent.
func readManifests(files []string, stdin io.Reader) ([]workload.Document, error) {
	var docs []workload.Document
	var errs []error
	for _, f := range files {
		var paths []string
		switch fi, err := os.Stat(f); {
		case f == "-":
			paths = []string{"-"}
		case err != nil:
			return nil, fmt.Errorf("%s: %w", f, err)
		case fi.IsDir():
			entries, err := os.ReadDir(f)
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
					paths = append(paths, filepath.Join(f, e.Name()))
				}
			}
		default:
			paths = []string{f}
		}
		for _, p := range paths {
			var b []byte
			var err error
			if p == "-" {
				b, err = io.ReadAll(stdin)
			} else {
				b, err = os.ReadFile(p)
			}
			if err != nil {
				return nil, err
			}
			d, err := workload.Decode(p, b)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			docs = append(docs, d...)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return docs, nil
}

// manifestObjects reads the -f manifests of a verb ("apply", "delete"),
// as kubectl does: no object at all is an error, an object that names no
// namespace gets --namespace (default: "default"), and one that names
// another namespace than a --namespace given is refused.
func manifestObjects(c *cli.Context, verb string) ([]workload.Document, error) {
	docs, err := readManifests(c.StringSlice("filename"), os.Stdin)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("no objects passed to %s", verb)
	}
	ns := c.String("namespace")
	for _, d := range docs {
		if m := workload.MetaOf(d.Object); c.IsSet("namespace") && d.Info.Namespaced && m.Namespace != "" && m.Namespace != ns {
			return nil, fmt.Errorf("the namespace from the provided object %q does not match the namespace %q. You must pass '--namespace=%s' to perform this operation.",
				m.Namespace, ns, m.Namespace)
		}
		// Only what names the object: the server defaults the rest, and an
		// apply must send only the fields the manifest sets.
		workload.DefaultIdentity(d.Object, d.Info, ns)
	}
	return docs, nil
}

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:  "apply",
		Usage: "create or update objects from manifests (YAML or JSON, several documents, kind: List)",
		Description: "Every document is decoded and validated first: when any is invalid, nothing is stored.\n" +
			"Prints kind/name created, configured or unchanged, as kubectl does.",
		Flags: withClientFlags(
			&cli.StringSliceFlag{Name: "filename", Aliases: []string{"f"}, Usage: "file, directory or - (stdin); repeatable (required)"},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "namespace for objects that name none", Value: workload.DefaultNamespace},
		),
		Action: func(c *cli.Context) error {
			if len(c.StringSlice("filename")) == 0 {
				return usagef("must specify -f")
			}
			docs, err := manifestObjects(c, "apply")
			if err != nil {
				return err
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			defer cl.Close()
			return applyAll(c.Context, cl, docs, c.App.Writer)
		},
	}
}

// applyParallelism is how many objects an apply sends at once.
const applyParallelism = 16

// applyAll applies documents and prints one line per document, in document
// order, as each is done. Cluster-scoped objects (namespaces) go first, one
// at a time in order, so the objects inside them find them; the rest go
// applyParallelism at a time, unless a file names one object twice, when
// everything goes in order. Like kubectl, it carries on past a failed
// object and returns every error at the end.
func applyAll(ctx context.Context, cl *api.Client, docs []workload.Document, w io.Writer) error {
	type outcome struct {
		msg  string
		err  error
		done bool
	}
	out := make([]outcome, len(docs))
	var mu sync.Mutex
	next := 0 // the first document not printed yet
	var errs []error
	finish := func(i int, msg string, err error) {
		mu.Lock()
		defer mu.Unlock()
		out[i] = outcome{msg, err, true}
		for ; next < len(out) && out[next].done; next++ {
			d := docs[next]
			name := strings.ToLower(d.Info.Kind) + "/" + workload.MetaOf(d.Object).Name
			if o := out[next]; o.err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, o.err))
			} else {
				fmt.Fprintf(w, "%s %s\n", name, o.msg)
			}
		}
	}
	parallel := !duplicateObjects(docs)
	sem := make(chan struct{}, applyParallelism)
	var wg sync.WaitGroup
	for i, d := range docs {
		if !parallel || !d.Info.Namespaced {
			wg.Wait() // everything before a cluster-scoped object is done
			msg, err := applyOne(ctx, cl, d)
			finish(i, msg, err)
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			msg, err := applyOne(ctx, cl, d)
			finish(i, msg, err)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// duplicateObjects says whether documents name one object twice.
func duplicateObjects(docs []workload.Document) bool {
	seen := map[string]bool{}
	for _, d := range docs {
		m := workload.MetaOf(d.Object)
		k := d.Info.Kind + "/" + m.Namespace + "/" + m.Name
		if seen[k] {
			return true
		}
		seen[k] = true
	}
	return false
}

// applyOne applies one object as kubectl apply --server-side does: a
// server-side apply patch of the fields the manifest sets, owned by the
// field manager "shoal" (forced: the manifest wins over other writers of
// those fields, as a client-side apply would). Fields the manifest does not
// set are left to whoever set them (a rollout restart's annotation, a
// scale), and an apply that changes nothing leaves the object's version
// alone: "unchanged".
func applyOne(ctx context.Context, cl *api.Client, d workload.Document) (string, error) {
	meta := workload.MetaOf(d.Object)
	path := objectPath(d.Info, meta.Namespace, meta.Name)
	var cur struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	err := cl.Do(ctx, http.MethodGet, path, nil, &cur)
	created := errors.Is(err, errdefs.ErrNotFound)
	if err != nil && !created {
		return "", err
	}
	obj := d.Object
	if sec, ok := obj.(*workload.Secret); ok && len(sec.StringData) > 0 {
		// stringData is write-only: the server folds it into data, so an
		// apply of it would change the object (its managed fields) every
		// time. Folded here, the apply owns data's keys and a re-apply is
		// unchanged.
		sec = sec.DeepCopy()
		if sec.Data == nil {
			sec.Data = map[string][]byte{}
		}
		for k, v := range sec.StringData {
			sec.Data[k] = []byte(v)
		}
		sec.StringData, obj = nil, sec
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	var after struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	err = cl.Do(ctx, http.MethodPatch, path+"?fieldManager="+applyFieldManager+"&force=true",
		api.Raw{ContentType: "application/apply-patch+yaml", Data: body}, &after)
	switch {
	case err != nil:
		return "", err
	case created:
		return "created", nil
	case after.Metadata.ResourceVersion == cur.Metadata.ResourceVersion:
		return "unchanged", nil
	}
	return "configured", nil
}

// applyFieldManager is the field manager of shoal apply's server-side
// applies (kubectl's is "kubectl").
const applyFieldManager = "shoal"

// getObjects is `shoal get KIND[,KIND] [NAME]`.
func getObjects(c *cli.Context, kinds string) (err error) {
	out, err := parseOutput(c, "wide", "name")
	if err != nil {
		return err
	}
	cl, err := client(c)
	if err != nil {
		return err
	}
	defer cl.Close()
	ns := c.String("namespace")
	if c.Bool("all-namespaces") {
		ns = ""
	}
	var items []map[string]any
	var infos []workload.KindInfo
	var watchFrom, watchPath string
	var missing []error // named objects not found
	defer func() {
		if len(missing) > 0 {
			err = errors.Join(append(missing, err)...)
		}
	}()
	if c.Bool("watch") && (strings.Contains(kinds, ",") || c.NArg() > 1) {
		return usagef("--watch takes one kind and no name")
	}
	for _, k := range strings.Split(kinds, ",") {
		info, err := workload.LookupKind(k)
		if err != nil {
			return usageError{err}
		}
		redact := info.Kind == "Secret" && !c.Bool("reveal")
		if c.NArg() > 1 {
			// Named objects, each in turn; a missing one is reported after
			// the others are shown, as kubectl does.
			for _, name := range c.Args().Slice()[1:] {
				var o map[string]any
				if err := cl.Do(c.Context, http.MethodGet, objectPath(info, ns, name), nil, &o); err != nil {
					if !errors.Is(err, errdefs.ErrNotFound) {
						return err
					}
					missing = append(missing, err)
					continue
				}
				if redact {
					redactSecret(o)
				}
				items, infos = append(items, o), append(infos, info)
			}
			continue
		}
		path := objectPath(info, ns, "")
		if info.Namespaced && ns == "" {
			path = info.PathPrefix() + "/" + info.Plural
		}
		var query []string
		if sel := c.String("selector"); sel != "" {
			query = append(query, "labelSelector="+url.QueryEscape(sel))
		}
		if len(query) > 0 {
			path += "?" + strings.Join(query, "&")
		}
		var list struct {
			ObjectMeta struct {
				ResourceVersion string `json:"resourceVersion"`
			} `json:"metadata"`
			Items []map[string]any `json:"items"`
		}
		if err := cl.Do(c.Context, http.MethodGet, path, nil, &list); err != nil {
			return err
		}
		if c.Bool("watch") {
			watchFrom, watchPath = list.ObjectMeta.ResourceVersion, path
		}
		for _, o := range list.Items {
			if redact {
				redactSecret(o)
			}
			items, infos = append(items, o), append(infos, info)
		}
	}
	switch {
	case out.structured() && len(items) == 1 && c.NArg() > 1:
		return out.print(c.App.Writer, items[0])
	case out.structured():
		return out.print(c.App.Writer, map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	case out == "name":
		for i, o := range items {
			fmt.Fprintf(c.App.Writer, "%s/%s\n", strings.ToLower(infos[i].Kind), metaOf(o)["name"])
		}
		return nil
	}
	if len(items) == 0 && !c.Bool("watch") {
		if c.NArg() > 1 {
			return nil // what was named is missing: said by the errors
		}
		info, _ := workload.LookupKind(strings.Split(kinds, ",")[0])
		if info.Namespaced && ns != "" {
			fmt.Fprintf(c.App.ErrWriter, "No resources found in %s namespace.\n", ns)
		} else {
			fmt.Fprintf(c.App.ErrWriter, "No resources found\n")
		}
		return nil
	}
	// One table per kind, as kubectl prints them; with several kinds each
	// name reads KIND/NAME and a blank line parts the tables.
	var t *objTable
	several := strings.Contains(kinds, ",")
	for _, k := range strings.Split(kinds, ",") {
		info, _ := workload.LookupKind(k)
		var mine []map[string]any
		for i, o := range items {
			if infos[i].Kind == info.Kind {
				mine = append(mine, o)
			}
		}
		if len(mine) == 0 && (several || !c.Bool("watch")) {
			continue
		}
		if t != nil {
			fmt.Fprintln(c.App.Writer)
		}
		t = objectTable(c, info, ns == "" && info.Namespaced)
		if several {
			t.prefix = strings.ToLower(info.Kind) + "/"
		}
		for _, o := range sortedItems(mine) {
			t.object(o)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if watchPath == "" {
		return nil
	}
	return watchObjects(c, cl, watchPath, watchFrom, t)
}

// watchObjects prints a row for every change after a list, until ^C.
func watchObjects(c *cli.Context, cl *api.Client, path, from string, t *objTable) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	body, err := cl.Stream(c.Context, path+sep+"watch=true&resourceVersion="+url.QueryEscape(from))
	if err != nil {
		return err
	}
	defer body.Close()
	dec := json.NewDecoder(body)
	for {
		var e struct {
			Type   string         `json:"type"`
			Object map[string]any `json:"object"`
		}
		if err := dec.Decode(&e); err != nil {
			if c.Context.Err() != nil || errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		t.object(e.Object)
		if err := t.flush(); err != nil {
			return err
		}
	}
}

func sortedItems(items []map[string]any) []map[string]any {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := metaOf(items[i]), metaOf(items[j])
		return fmt.Sprint(a["namespace"], "/", a["name"]) < fmt.Sprint(b["namespace"], "/", b["name"])
	})
	return items
}

// waitGone polls an object until it is gone: a pod bound to a node goes
// once its node has stopped it.
func waitGone(c *cli.Context, cl *api.Client, path string) error {
	deadline := time.Now().Add(c.Duration("timeout"))
	for {
		err := cl.Do(c.Context, http.MethodGet, path, nil, nil)
		switch {
		case errors.Is(err, errdefs.ErrNotFound):
			return nil
		case err != nil:
			return err
		case time.Now().After(deadline):
			return fmt.Errorf("timed out after %s waiting for %s to be gone", c.Duration("timeout"), path)
		}
		select {
		case <-c.Context.Done():
			return c.Context.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// objTable prints objects of one kind as kubectl's table for it.
type objTable struct {
	*table
	info       workload.KindInfo
	showNS     bool
	wide       bool
	showLabels bool   // a LABELS column last (--show-labels)
	prefix     string // "service/" when a get lists several kinds
}

func objectTable(c *cli.Context, info workload.KindInfo, showNS bool) *objTable {
	wide := c.String("output") == "wide"
	head := append([]string{"NAME"}, kindColumns(info.Kind, wide)...)
	if info.Kind == "Event" {
		head = kindColumns(info.Kind, wide)
	}
	if showNS {
		head = append([]string{"NAMESPACE"}, head...)
	}
	showLabels := c.Bool("show-labels")
	if showLabels {
		head = append(head, "LABELS")
	}
	return &objTable{table: newTable(c.App.Writer, head...), info: info, showNS: showNS, wide: wide, showLabels: showLabels}
}

func (t *objTable) object(o map[string]any) {
	m := metaOf(o)
	row := []string{t.prefix + fmt.Sprint(m["name"])}
	if t.info.Kind == "Event" {
		row = nil
	}
	if t.showNS {
		row = append([]string{fmt.Sprint(m["namespace"])}, row...)
	}
	row = append(row, kindCells(t.info.Kind, o, t.wide, time.Now())...)
	if t.showLabels {
		row = append(row, labelsCell(m))
	}
	t.row(row...)
}

// labelsCell is kubectl's LABELS column: k=v pairs sorted by key, or <none>.
func labelsCell(meta map[string]any) string {
	l, _ := meta["labels"].(map[string]any)
	if len(l) == 0 {
		return "<none>"
	}
	pairs := make([]string, 0, len(l))
	for k, v := range l {
		pairs = append(pairs, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

func metaOf(o map[string]any) map[string]any {
	m, _ := o["metadata"].(map[string]any)
	return m
}

func deleteCommand() *cli.Command {
	return &cli.Command{
		Name:      "delete",
		Usage:     "delete objects: KIND NAME..., KIND/NAME..., or -f FILE",
		ArgsUsage: "[KIND NAME [NAME...] | KIND/NAME...]",
		Flags: withClientFlags(
			&cli.StringSliceFlag{Name: "filename", Aliases: []string{"f"}, Usage: "delete the objects a manifest names"},
			&cli.BoolFlag{Name: "ignore-not-found", Usage: "treat an object that is already gone as deleted"},
			&cli.BoolFlag{Name: "wait", Usage: "return once the objects are gone (a pod goes once its node has stopped it)", Value: true},
			&cli.DurationFlag{Name: "timeout", Usage: "how long --wait waits", Value: 2 * time.Minute},
			&cli.IntFlag{Name: "grace-period", Usage: "seconds a pod gets to stop; 0 removes it at once (its node then kills it)", Value: -1},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: workload.DefaultNamespace},
		),
		Action: func(c *cli.Context) error {
			type ref struct {
				info     workload.KindInfo
				ns, name string
			}
			var refs []ref
			if files := c.StringSlice("filename"); len(files) > 0 {
				docs, err := manifestObjects(c, "delete")
				if err != nil {
					return err
				}
				for _, d := range docs {
					refs = append(refs, ref{d.Info, workload.MetaOf(d.Object).Namespace, workload.MetaOf(d.Object).Name})
				}
			} else {
				// KIND NAME [NAME...], or KIND/NAME [KIND/NAME...].
				args := c.Args().Slice()
				bad := usagef("delete takes KIND NAME [NAME...], KIND/NAME [KIND/NAME...], or -f FILE")
				if len(args) == 0 {
					return bad
				}
				if !strings.Contains(args[0], "/") {
					if len(args) < 2 {
						return bad
					}
					info, err := workload.LookupKind(args[0])
					if err != nil {
						return usageError{err}
					}
					for _, name := range args[1:] {
						refs = append(refs, ref{info, c.String("namespace"), name})
					}
				} else {
					for _, a := range args {
						kind, name, ok := strings.Cut(a, "/")
						if !ok || name == "" {
							return usagef("%q: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form", a)
						}
						info, err := workload.LookupKind(kind)
						if err != nil {
							return usageError{err}
						}
						refs = append(refs, ref{info, c.String("namespace"), name})
					}
				}
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			defer cl.Close()
			var errs []error
			query := ""
			if c.IsSet("grace-period") {
				query = "?gracePeriodSeconds=" + strconv.Itoa(c.Int("grace-period"))
			}
			for _, r := range refs {
				err := cl.Do(c.Context, http.MethodDelete, objectPath(r.info, r.ns, r.name)+query, nil, nil)
				if err == nil && c.Bool("wait") {
					err = waitGone(c, cl, objectPath(r.info, r.ns, r.name))
				}
				switch {
				case errors.Is(err, errdefs.ErrNotFound) && c.Bool("ignore-not-found"):
				case err != nil:
					errs = append(errs, err) // go on with the others, as kubectl does
				default:
					fmt.Fprintf(c.App.Writer, "%s \"%s\" deleted\n", strings.ToLower(r.info.Kind), r.name)
				}
			}
			return errors.Join(errs...)
		},
	}
}

// redactSecret empties a secret's values for printing, and marks it so
// that writing the printed copy back is refused: the API gives values to
// whoever may read them, and the CLI shows them only with --reveal.
func redactSecret(o map[string]any) {
	if data, ok := o["data"].(map[string]any); ok {
		for k := range data {
			data[k] = ""
		}
	}
	meta, _ := o["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		o["metadata"] = meta
	}
	ann, _ := meta["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
		meta["annotations"] = ann
	}
	ann[workload.AnnotationRedacted] = "true"
}
