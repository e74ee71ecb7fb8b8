package main

import (
	"errors"
	"fmt"

	"github.com/sipedge/sipedge/config"
)

func checkConfigCmd(args []string, e env) error {
	fs := newFlagSet("check-config", e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"usage: edge check-config FILE"}
	}
	path := fs.Arg(0)
	cfg, err := config.Load(path)
	if err != nil {
		var es config.Errors
		if errors.As(err, &es) {
			for _, fe := range es {
				fmt.Fprintf(e.stderr, "%s: %s\n", path, fe)
			}
			fmt.Fprintf(e.stderr, "%s: %d error(s)\n", path, len(es))
			return errSilent
		}
		return err
	}
	mode := "standalone registrar"
	if !cfg.Standalone() {
		mode = fmt.Sprintf("proxy to %d PBX target(s), %s", len(cfg.PBX.Targets), cfg.PBX.Mode)
	}
	fmt.Fprintf(e.stdout, "%s: ok (%s, auth %s)\n", path, mode, cfg.Auth.Mode)
	return nil
}
