package main

import (
	"encoding/json"
	"fmt"

	"github.com/sipedge/sipedge/internal/buildinfo"
)

func versionCmd(args []string, e env) error {
	fs := newFlagSet("version", e)
	asJSON := fs.Bool("json", false, "machine-readable output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(buildinfo.Get())
	}
	fmt.Fprintln(e.stdout, "sipedge edge", buildinfo.Get())
	return nil
}
