package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoalproject/shoal/workload"
)

func describeCommand() *cli.Command {
	return &cli.Command{
		Name:      "describe",
		Usage:     "show one object in detail, as kubectl describe does",
		ArgsUsage: "KIND NAME",
		Flags: withClientFlags(
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: workload.DefaultNamespace},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usagef("describe takes KIND NAME")
			}
			info, err := workload.LookupKind(c.Args().Get(0))
			if err != nil {
				return usageError{err}
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			defer cl.Close()
			var o map[string]any
			if err := cl.Do(c.Context, http.MethodGet, objectPath(info, c.String("namespace"), c.Args().Get(1)), nil, &o); err != nil {
				return err
			}
			describe(c.App.Writer, info, o)
			return nil
		},
	}
}

// describe prints an object's fields in kubectl describe's layout.
func describe(w io.Writer, info workload.KindInfo, o map[string]any) {
	m := metaOf(o)
	field := func(k string, v any) { fmt.Fprintf(w, "%-14s%v\n", k+":", v) }
	field("Name", m["name"])
	if info.Namespaced {
		field("Namespace", m["namespace"])
	}
	field("Labels", keyValues(m["labels"], 14))
	field("Annotations", keyValues(m["annotations"], 14))
	if ts, ok := m["creationTimestamp"]; ok {
		field("Created", ts)
	}
	field("UID", m["uid"])
	field("Version", m["resourceVersion"])
	switch info.Kind {
	case "Namespace":
		st, _ := o["status"].(map[string]any)
		field("Status", st["phase"])
	case "ConfigMap":
		fmt.Fprintln(w, "\nData\n====")
		data, _ := o["data"].(map[string]any)
		for _, k := range sortedMapKeys(data) {
			fmt.Fprintf(w, "%s:\n----\n%v\n\n", k, data[k])
		}
		bin, _ := o["binaryData"].(map[string]any)
		if len(bin) > 0 {
			fmt.Fprintln(w, "BinaryData\n====")
			for _, k := range sortedMapKeys(bin) {
				fmt.Fprintf(w, "%s: %d bytes (base64)\n", k, len(fmt.Sprint(bin[k]))*3/4)
			}
		}
	}
	fmt.Fprintln(w, "\nEvents:       <none>")
}

func keyValues(v any, indent int) string {
	m, _ := v.(map[string]any)
	if len(m) == 0 {
		return "<none>"
	}
	var lines []string
	for _, k := range sortedMapKeys(m) {
		lines = append(lines, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(lines, "\n"+strings.Repeat(" ", indent))
}

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
