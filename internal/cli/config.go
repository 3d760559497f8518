package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/layers"
)

func init() {
	register("config validate", "check a configuration file as serve does, without opening anything (all errors, with line numbers)", configValidate)
	register("config print", "print the effective configuration (file or defaults, env applied)", configPrint)
}

// loadConfig loads path ("" for the embedded defaults), with or without
// the process's RAMPART_* environment.
func loadConfig(path string, noEnv bool) (*config.Config, error) {
	if noEnv {
		return config.LoadEnv(path, nil)
	}
	return config.Load(path)
}

func configValidate(env *Env) int {
	fs := flag.NewFlagSet("config validate", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	noEnv := fs.Bool("no-env", false, "ignore RAMPART_* environment overrides (check the file alone)")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: rampart config validate [--no-env] FILE\n\nPrints \"ok\" (and warnings about deprecated settings on stderr), or every\nproblem found (exit status 1).")
		fs.PrintDefaults()
	}
	args, err := parseArgs(fs, env.Args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(args) != 1 {
		fs.Usage()
		return 2
	}
	if _, err := os.Stat(args[0]); err != nil {
		fmt.Fprintln(env.Stderr, "rampart config validate:", err)
		return 1
	}
	cfg, err := loadConfig(args[0], *noEnv)
	if err == nil {
		err = layers.Check(cfg)
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return 1
	}
	for _, w := range layers.Warnings(cfg) {
		fmt.Fprintln(env.Stderr, "warning:", w)
	}
	fmt.Fprintln(env.Stdout, "ok")
	return 0
}

func configPrint(env *Env) int {
	fs := flag.NewFlagSet("config print", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	noEnv := fs.Bool("no-env", false, "ignore RAMPART_* environment overrides")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: rampart config print [--no-env] [FILE]\n\nPrints the configuration rampart would run with (defaults filled in).\nIt holds no secrets: credentials are only named by environment variable.")
		fs.PrintDefaults()
	}
	args, err := parseArgs(fs, env.Args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(args) > 1 {
		fs.Usage()
		return 2
	}
	path := ""
	if len(args) == 1 {
		path = args[0]
	}
	cfg, err := loadConfig(path, *noEnv)
	if err == nil {
		err = layers.Check(cfg) // print nothing that serve would refuse
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return 1
	}
	enc := yaml.NewEncoder(env.Stdout)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		fmt.Fprintln(env.Stderr, "rampart config print:", err)
		return 1
	}
	if err := enc.Close(); err != nil {
		return 1
	}
	return 0
}
