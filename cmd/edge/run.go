package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// env carries the process's streams so commands can be tested without a real terminal.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// errSilent marks an error whose message has already been printed.
var errSilent = errors.New("failed")

// usageError is a command-line mistake (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

const usage = `Usage:
  edge [--config FILE]          run the edge (embedded defaults without --config)
  edge check-config FILE        validate a configuration file; every error with its field path
  edge config default           print the full default configuration, a comment on every field
  edge user add NAME [--role ROLE] [--password-stdin]
                                add a user (local auth); the password is generated and printed once
  edge user list                list users
  edge user remove NAME         remove a user
  edge version                  print the version
Common flag: --config FILE (for user commands: where auth.users_file and data_dir come from)
`

func run(ctx context.Context, args []string, e env) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "check-config":
			return checkConfigCmd(args[1:], e)
		case "config":
			return configCmd(args[1:], e)
		case "user":
			return userCmd(args[1:], e)
		case "version":
			return versionCmd(args[1:], e)
		case "help":
			fmt.Fprint(e.stdout, usage)
			return nil
		default:
			return usageError{fmt.Sprintf("unknown command %q\n%s", args[0], usage)}
		}
	}
	return serveCmd(ctx, args, e)
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, usage) }
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	return nil
}
