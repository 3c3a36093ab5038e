package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/shoalproject/shoal/kubeapi"
)

func main() {
	dir := flag.String("dir", "spec", "the directory to write the documents into")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "openapi gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	docs, err := build(kubeapi.Resources())
	if err != nil {
		return err
	}
	files, err := encode(docs)
	if err != nil {
		return err
	}
	return write(dir, files)
}
