package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/shoalproject/shoal/peer"
	"github.com/shoalproject/shoal/workload"
)

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "print a container's output, through any peer, from the peer that runs the pod",
		ArgsUsage: "POD",
		Flags: withClientFlags(
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: workload.DefaultNamespace},
			&cli.StringFlag{Name: "container", Aliases: []string{"c"}, Usage: "the container (needed when the pod has several)"},
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new output until the container exits or ^C"},
			&cli.BoolFlag{Name: "previous", Aliases: []string{"p"}, Usage: "the output of the container's previous run"},
			&cli.IntFlag{Name: "tail", Value: -1, Usage: "only the last N lines (-1: all)"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("logs takes POD")
			}
			q := url.Values{}
			if v := c.String("container"); v != "" {
				q.Set("container", v)
			}
			if c.Bool("follow") {
				q.Set("follow", "true")
			}
			if c.Bool("previous") {
				q.Set("previous", "true")
			}
			if n := c.Int("tail"); n >= 0 {
				q.Set("tailLines", strconv.Itoa(n))
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			defer cl.Close()
			path := fmt.Sprintf("/api/v1/namespaces/%s/pods/%s/log?%s", url.PathEscape(c.String("namespace")), url.PathEscape(c.Args().First()), q.Encode())
			body, err := cl.Stream(c.Context, path)
			if err != nil {
				return err
			}
			defer body.Close()
			_, err = io.Copy(c.App.Writer, body)
			if c.Context.Err() != nil {
				return nil // ^C ends a follow
			}
			return err
		},
	}
}

// exitCodeError carries a command's exit code out of `shoal exec`.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string {
	return fmt.Sprintf("command terminated with exit code %d", e.code)
}
func (e exitCodeError) ExitCode() int { return e.code }

func execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command in a running container, through any peer",
		ArgsUsage: "POD -- COMMAND [ARG...]",
		Description: "The command's output streams back; its exit code becomes shoal's.\n" +
			"-i sends shoal's stdin to the command.",
		Flags: withClientFlags(
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: workload.DefaultNamespace},
			&cli.StringFlag{Name: "container", Aliases: []string{"c"}, Usage: "the container (needed when the pod has several)"},
			&cli.BoolFlag{Name: "stdin", Aliases: []string{"i"}, Usage: "pass stdin to the command"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the command a terminal"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 {
				return usagef("exec takes POD -- COMMAND [ARG...]")
			}
			command := c.Args().Slice()[1:]
			if command[0] == "--" { // flags stop at POD, so the "--" after it is still there
				command = command[1:]
			}
			if len(command) == 0 {
				return usagef("exec takes POD -- COMMAND [ARG...]")
			}
			q := url.Values{"command": command}
			if v := c.String("container"); v != "" {
				q.Set("container", v)
			}
			var stdin io.Reader = http.NoBody
			if c.Bool("stdin") {
				q.Set("stdin", "true")
				stdin = os.Stdin
			}
			if c.Bool("tty") {
				q.Set("tty", "true")
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			defer cl.Close()
			path := fmt.Sprintf("/api/v1/namespaces/%s/pods/%s/exec?%s", url.PathEscape(c.String("namespace")), url.PathEscape(c.Args().First()), q.Encode())
			body, err := cl.StreamBody(c.Context, http.MethodPost, path, stdin)
			if err != nil {
				return err
			}
			defer body.Close()
			return readExecFrames(body, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// readExecFrames copies an exec answer's frames to stdout and stderr and
// returns the command's exit code as an error when it is not zero.
func readExecFrames(r io.Reader, stdout, stderr io.Writer) error {
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return fmt.Errorf("exec: the answer ended before the command's exit code: %v", err)
		}
		data := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
		if _, err := io.ReadFull(r, data); err != nil {
			return fmt.Errorf("exec: %v", err)
		}
		switch hdr[0] {
		case peer.ExecStdout:
			_, _ = stdout.Write(data)
		case peer.ExecStderr:
			_, _ = stderr.Write(data)
		case peer.ExecError:
			return fmt.Errorf("exec: %s", data)
		case peer.ExecExit:
			code, _ := strconv.Atoi(string(data))
			if code != 0 {
				return exitCodeError{code}
			}
			return nil
		}
	}
}
