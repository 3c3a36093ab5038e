package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
	"sigs.k8s.io/yaml"

	"github.com/shoalproject/shoal/peer/api"
)

// output is a -o format.
type output string

const (
	outputTable output = ""
	outputWide  output = "wide"
	outputJSON  output = "json"
	outputYAML  output = "yaml"
)

func outputFlag(extra ...string) cli.Flag {
	formats := append([]string{"json", "yaml"}, extra...)
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output format: " + strings.Join(formats, "|")}
}

func parseOutput(c *cli.Context, extra ...string) (output, error) {
	o := output(c.String("output"))
	switch o {
	case outputTable, outputJSON, outputYAML:
		return o, nil
	}
	for _, e := range extra {
		if string(o) == e {
			return o, nil
		}
	}
	return "", usagef("--output %q: want one of json, yaml, %s", o, strings.Join(extra, ", "))
}

func (o output) structured() bool { return o == outputJSON || o == outputYAML }

func (o output) print(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if o == outputYAML {
		if b, err = yaml.JSONToYAML(b); err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// table prints aligned columns, as kubectl does.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, headers ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)}
	t.row(headers...)
	return t
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }

func (t *table) flush() error { return t.tw.Flush() }

// show is the shape of every read command: parse -o (json, yaml and the
// given extra formats), fetch through a client, print structured output
// as asked, else a table.
func show[T any](c *cli.Context, extra []string, fetch func(*api.Client, context.Context) (T, error), table func(output, T) error) error {
	out, err := parseOutput(c, extra...)
	if err != nil {
		return err
	}
	cl, err := client(c)
	if err != nil {
		return err
	}
	defer cl.Close()
	v, err := fetch(cl, c.Context)
	if err != nil {
		return err
	}
	if out.structured() {
		return out.print(c.App.Writer, v)
	}
	return table(out, v)
}
