package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/peer"
	"github.com/shoalproject/shoal/peer/api"
)

// Exit codes, as kubectl's.
const (
	exitError = 1
	exitUsage = 2
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := app.RunContext(ctx, reorderArgs(app, args))
	if err == nil {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "error: %v\n", ue.err)
		return exitUsage
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		fmt.Fprintln(stderr, "error:", err)
		return ec.ExitCode()
	}
	report(stderr, err)
	return exitError
}

// report prints an error as kubectl does: what a server refused as
// "Error from server (Reason): message", one line per error of a joined
// error (a delete of several objects), anything else as "error: ...".
func report(w io.Writer, err error) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			report(w, e)
		}
		return
	}
	var re *api.RemoteError
	if errors.As(err, &re) && re.Reason != "" && !errors.Is(err, errdefs.ErrUnauthenticated) {
		fmt.Fprintf(w, "Error from server (%s): %s\n", re.Reason, re.Message)
		return
	}
	fmt.Fprintln(w, "error:", explain(err))
}

// usageError marks a mistake in how a command was called (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// explain adds a hint to the errors a user can act on.
func explain(err error) string {
	switch {
	case errors.Is(err, errdefs.ErrUnauthenticated):
		return err.Error() + " (check that --config/SHOAL_CONFIG names this cluster's admin.conf)"
	default:
		return err.Error()
	}
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "shoal",
		Usage: "a container orchestrator with no control plane",
		Description: "Every machine runs 'shoal agent'; the first one starts a cluster and every other one\n" +
			"joins by naming any peer. Every other command talks to any peer's API.",
		Version:         peer.Version,
		Writer:          stdout,
		ErrWriter:       stderr,
		Flags:           clientFlags(),
		HideHelpCommand: true,
		Commands: []*cli.Command{
			agentCommand(),
			membersCommand(),
			getCommand(),
			applyCommand(),
			createCommand(),
			secretsCommand(),
			deleteCommand(),
			describeCommand(),
			logsCommand(),
			execCommand(),
			imageCommand(),
			scaleCommand(),
			rolloutCommand(),
			setCommand(),
			labelCommand("label", "labels"),
			labelCommand("annotate", "annotations"),
			taintCommand(),
			cordonCommand("cordon", true),
			cordonCommand("uncordon", false),
			drainCommand(),
			tokenCommand(),
			kubeconfigCommand(),
			leaveCommand(),
			versionCommand(),
		},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageError{err} },
		CommandNotFound: func(c *cli.Context, name string) {
			fmt.Fprintf(stderr, "error: unknown command %q; see 'shoal --help'\n", name)
			os.Exit(exitUsage)
		},
		ExitErrHandler: func(*cli.Context, error) {}, // run() decides exit codes
	}
	for _, c := range app.Commands {
		setUsageHandler(c)
	}
	return app
}

func setUsageHandler(c *cli.Command) {
	c.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return usageError{err} }
	for _, sub := range c.Subcommands {
		setUsageHandler(sub)
	}
}

// clientFlags are accepted by the app and by every client command, so they
// may stand before or after the verb.
func clientFlags() []cli.Flag {
	home, _ := os.UserHomeDir()
	return []cli.Flag{
		&cli.StringFlag{
			Name:    "config",
			Usage:   "client configuration file (a peer's admin.conf)",
			EnvVars: []string{"SHOAL_CONFIG"},
			Value:   filepath.Join(home, ".shoal", "config"),
		},
		&cli.StringFlag{
			Name:    "server",
			Usage:   "talk to this peer (https://HOST:PORT) instead of the config's servers",
			EnvVars: []string{"SHOAL_SERVER"},
		},
	}
}

// withClientFlags appends the client flags to a command's own.
func withClientFlags(flags ...cli.Flag) []cli.Flag { return append(flags, clientFlags()...) }

// client builds an API client from the --config and --server flags.
func client(c *cli.Context) (*api.Client, error) {
	cfg, err := api.LoadConfig(c.String("config"))
	if err != nil {
		return nil, err
	}
	return api.NewClient(cfg, c.String("server"))
}
