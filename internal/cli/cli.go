// Package cli implements rampart's command line. Each subcommand lives in its
// own file and registers itself from init; cmd/rampart only calls Main.
package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Env is what a subcommand gets: its arguments (after the subcommand name)
// and the process's standard streams.
type Env struct {
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

type command struct {
	summary string
	run     func(env *Env) int
}

var commands = map[string]command{}

// register adds a subcommand; called from init in the subcommand's file.
// Nested commands use a space, e.g. "config validate", "audit tail".
func register(name, summary string, run func(env *Env) int) {
	if _, dup := commands[name]; dup {
		panic("cli: duplicate command " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

// Main runs the command line and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	// Longest match first: "mcp tools list" before "config validate"
	// before "config".
	if len(args) >= 3 {
		if c, ok := commands[args[0]+" "+args[1]+" "+args[2]]; ok {
			return c.run(&Env{Args: args[3:], Stdin: stdin, Stdout: stdout, Stderr: stderr})
		}
	}
	if len(args) >= 2 {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			return c.run(&Env{Args: args[2:], Stdin: stdin, Stdout: stdout, Stderr: stderr})
		}
	}
	if c, ok := commands[args[0]]; ok {
		return c.run(&Env{Args: args[1:], Stdin: stdin, Stdout: stdout, Stderr: stderr})
	}
	if group := subcommands(args[0]); len(group) > 0 {
		// A command group without (or with an unknown) subcommand.
		if len(args) >= 2 && args[1] != "-h" && args[1] != "--help" {
			fmt.Fprintf(stderr, "rampart: unknown command %q\n\n", args[0]+" "+args[1])
		}
		fmt.Fprintf(stderr, "Usage: rampart %s <command> [flags]\n\nCommands:\n", args[0])
		for _, n := range group {
			fmt.Fprintf(stderr, "  %-18s %s\n", n, commands[n].summary)
		}
		return 2
	}
	fmt.Fprintf(stderr, "rampart: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// subcommands lists the registered commands of a group ("keys create", ...).
func subcommands(group string) []string {
	var out []string
	for n := range commands {
		if strings.HasPrefix(n, group+" ") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "rampart - LLM security gateway\n\nUsage: rampart <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-18s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'rampart <command> -h' for a command's flags.")
}

// Run is Main with the process's own streams (for cmd/rampart).
func Run() int { return Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr) }
