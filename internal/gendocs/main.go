// Command gendocs regenerates docs/configuration.md from the config package (run by `make docs`).
package main

import (
	"fmt"
	"os"

	"github.com/sipedge/sipedge/config"
)

func main() {
	out := "docs/configuration.md"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	if err := os.WriteFile(out, []byte(config.MarkdownReference()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
