package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs lets flags stand anywhere, as kubectl allows:
//
//   - after positional arguments ("shoal token revoke abc123 --server
//     https://..."): urfave/cli stops at the first positional, so the leaf
//     command's flags are moved in front of its positionals;
//   - before the verb ("shoal --config F --server URL get ns", "shoal -n
//     kube-system get pods"): urfave/cli would keep them on the app, whose
//     value a command's own flag of that name hides, or refuse a flag only
//     the command has; so a leading flag that the leaf command accepts is
//     moved to it, ahead of its own flags (a flag after the verb wins).
//
// Everything after "--" is left alone.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	type leading struct {
		args  []string // the flag, and its value when separate
		level int      // how many command names came before it
	}
	var lead []leading
	var path []*cli.Command
	var names []string // the path's names as given
	flags := app.Flags
	var cmds []*cli.Command = app.Commands
	i := 1
	// Walk the command path: leading flags and command names.
	for i < len(args) {
		a := args[i]
		if strings.HasPrefix(a, "-") && a != "-" && a != "--" {
			l := leading{args: []string{a}, level: len(path)}
			if takesValue(flags, a) || (!defines(flags, a) && subtreeTakesValue(cmds, a)) {
				if i+1 < len(args) {
					l.args = append(l.args, args[i+1])
					i++
				}
			}
			lead = append(lead, l)
			i++
			continue
		}
		cmd := findCommand(cmds, a)
		if cmd == nil {
			if len(cmds) > 0 {
				// Not a command where one is wanted: left as given, so that
				// it is reported as an unknown command, not as its flags.
				return args
			}
			break
		}
		path, names = append(path, cmd), append(names, a)
		flags, cmds = cmd.Flags, cmd.Subcommands
		i++
		if len(cmds) == 0 {
			break
		}
	}
	// The command path, each leading flag where it goes: to the leaf when
	// the leaf has it, else where it stood.
	out := []string{args[0]}
	var toLeaf []string
	for level := 0; level <= len(path); level++ {
		for _, l := range lead {
			if l.level != level {
				continue
			}
			if len(path) > 0 && level < len(path) && defines(path[len(path)-1].Flags, l.args[0]) {
				toLeaf = append(toLeaf, l.args...)
			} else {
				out = append(out, l.args...)
			}
		}
		if level < len(path) {
			out = append(out, names[level])
		}
	}
	var flagArgs, positional []string
	for ; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			positional = append(positional, args[i:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && a != "-":
			flagArgs = append(flagArgs, a)
			if takesValue(flags, a) && i+1 < len(args) {
				flagArgs = append(flagArgs, args[i+1])
				i++
			}
		default:
			positional = append(positional, a)
		}
	}
	out = append(out, toLeaf...)
	out = append(out, flagArgs...)
	return append(out, positional...)
}

// defines says whether flags has the flag of arg ("--x", "-x", "--x=v").
func defines(flags []cli.Flag, arg string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// subtreeTakesValue is takesValue for a flag that some command below
// cmds defines: a flag before the verb that only the verb has.
func subtreeTakesValue(cmds []*cli.Command, arg string) bool {
	for _, c := range cmds {
		if defines(c.Flags, arg) {
			return takesValue(c.Flags, arg)
		}
		if subtreeTakesValue(c.Subcommands, arg) {
			return true
		}
	}
	return false
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// takesValue says whether a flag argument ("--x", "-x", not "--x=v") is
// followed by its value.
func takesValue(flags []cli.Flag, arg string) bool {
	if strings.Contains(arg, "=") {
		return false
	}
	name := strings.TrimLeft(arg, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}
