package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
)

func createCommand() *cli.Command {
	return &cli.Command{
		Name:  "create",
		Usage: "create an object from flags (shoal create secret generic ...)",
		Subcommands: []*cli.Command{{
			Name:  "secret",
			Usage: "create a secret",
			Subcommands: []*cli.Command{{
				Name:      "generic",
				Usage:     "create an Opaque secret from literal values and files",
				ArgsUsage: "NAME",
				Description: "shoal create secret generic db --from-literal user=app --from-file password=./pw.txt\n" +
					"A file's key is its base name unless given as KEY=PATH. Values are sealed with the\n" +
					"cluster's key before they are stored, and shown redacted unless 'get --reveal'.",
				Flags: withClientFlags(
					&cli.StringSliceFlag{Name: "from-literal", Usage: "KEY=VALUE; repeatable"},
					&cli.StringSliceFlag{Name: "from-file", Usage: "[KEY=]PATH; repeatable"},
					&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: workload.DefaultNamespace, Usage: "namespace"},
				),
				Action: createSecret,
			}},
		}},
	}
}

func createSecret(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("create secret generic takes NAME")
	}
	s := &workload.Secret{ObjectMeta: workload.ObjectMeta{Name: c.Args().First(), Namespace: c.String("namespace")}, Data: map[string][]byte{}}
	add := func(key string, v []byte) error {
		if _, dup := s.Data[key]; dup {
			return usagef("key %q given twice", key)
		}
		s.Data[key] = v
		return nil
	}
	for i, l := range c.StringSlice("from-literal") {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return usagef("--from-literal number %d: want KEY=VALUE", i+1) // the text may be the value: not shown
		}
		if err := add(k, []byte(v)); err != nil {
			return err
		}
	}
	for _, f := range c.StringSlice("from-file") {
		k, path, ok := strings.Cut(f, "=")
		if !ok {
			k, path = filepath.Base(f), f
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("--from-file %s: %w", path, err)
		}
		if err := add(k, b); err != nil {
			return err
		}
	}
	info, _ := workload.LookupKind("Secret")
	workload.Defaults(s, info, s.ObjectMeta.Namespace)
	if errs := workload.Validate(s, info); errs != nil {
		return usageError{errors.Join(errs...)}
	}
	cl, err := client(c)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.Do(c.Context, http.MethodPost, objectPath(info, s.ObjectMeta.Namespace, ""), s, nil); err != nil {
		if errors.Is(err, errdefs.ErrAlreadyExists) {
			return fmt.Errorf("secret %q already exists in namespace %q: %w", s.ObjectMeta.Name, s.ObjectMeta.Namespace, err)
		}
		return err
	}
	fmt.Fprintf(c.App.Writer, "secret/%s created\n", s.ObjectMeta.Name)
	return nil
}

func secretsCommand() *cli.Command {
	return &cli.Command{
		Name:  "secrets",
		Usage: "manage how secrets are sealed",
		Subcommands: []*cli.Command{{
			Name:  "rotate-key",
			Usage: "add a new secret-sealing key and seal every secret again under it",
			Description: "The new key is kept in the store, sealed under the key before it, so every peer\n" +
				"gets it; secrets written from now on are sealed under it too.",
			Flags: withClientFlags(),
			Action: func(c *cli.Context) error {
				if c.NArg() != 0 {
					return usagef("secrets rotate-key takes no arguments")
				}
				cl, err := client(c)
				if err != nil {
					return err
				}
				defer cl.Close()
				var out api.KeyRotation
				if err := cl.Do(c.Context, http.MethodPost, api.PathRotateSecretKey, nil, &out); err != nil {
					return err
				}
				plural := "s"
				if out.Resealed == 1 {
					plural = ""
				}
				fmt.Fprintf(c.App.Writer, "new secret key %s; %d secret%s sealed again under it\n", out.Key, out.Resealed, plural)
				return nil
			},
		}},
	}
}
