package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/sipedge/sipedge/softphone"
)

func runHistory(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("history", stderr)
	var af accountFlags
	af.register(fs)
	limit := fs.Int("limit", 20, "show at most this many calls, newest last (0: all)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("history", pos); err != nil {
		return err
	}
	var file *softphone.File
	if af.config != "" {
		if file, err = softphone.LoadFile(af.config, false); err != nil {
			return err
		}
	} else if p, err := softphone.DefaultConfigPath(); err == nil {
		file, _ = softphone.LoadFile(p, true)
	}
	path, err := af.historyPath(file)
	if err != nil {
		return err
	}
	entries, bad, err := softphone.OpenHistory(path).Read()
	if err != nil {
		return err
	}
	if *limit > 0 && len(entries) > *limit {
		entries = entries[len(entries)-*limit:]
	}
	if af.json {
		for _, e := range entries {
			printJSON(stdout, e)
		}
		return nil
	}
	if len(entries) == 0 {
		fmt.Fprintf(stdout, "no calls in %s\n", path)
		return nil
	}
	for _, e := range entries {
		who := e.Remote
		if e.Name != "" {
			who = e.Name + " <" + e.Remote + ">"
		}
		result := "answered"
		if !e.Answered {
			result = strings.TrimSpace(fmt.Sprintf("%d %s", e.Code, e.Reason))
		}
		fmt.Fprintf(stdout, "%s  %-3s  %-40s  %7.1fs  %s\n", e.Time.Local().Format("2006-01-02 15:04:05"),
			e.Direction, who, e.Duration.D().Seconds(), result)
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "phone: %d unreadable line(s) skipped in %s\n", bad, path)
	}
	return nil
}
