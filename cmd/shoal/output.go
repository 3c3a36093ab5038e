package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
	"sigs.k8s.io/yaml"
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
