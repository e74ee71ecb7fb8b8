package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/sipedge/sipedge/softphone"
)

// runDevices lists the audio devices "device:NAME" can name.
func runDevices(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("devices", stderr)
	backend := fs.String("audio-backend", os.Getenv("PHONE_AUDIO_BACKEND"), "audio device backend (default: the system's; null: a silent virtual device)")
	asJSON := fs.Bool("json", false, "machine-readable JSON output")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("devices", pos); err != nil {
		return err
	}
	devs, err := softphone.AudioDevices(*backend)
	if err != nil {
		return err
	}
	if *asJSON {
		if devs == nil {
			devs = []softphone.AudioDevice{}
		}
		return json.NewEncoder(stdout).Encode(devs)
	}
	if len(devs) == 0 {
		fmt.Fprintln(stdout, "no audio devices")
		return nil
	}
	for _, d := range devs {
		def := ""
		if d.Default {
			def = " (default)"
		}
		fmt.Fprintf(stdout, "%-8s %s%s\n", d.Kind, d.Name, def)
	}
	return nil
}
