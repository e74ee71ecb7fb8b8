package main

import (
	"fmt"

	"github.com/sipedge/sipedge/config"
)

func configCmd(args []string, e env) error {
	if len(args) != 1 || args[0] != "default" {
		return usageError{"usage: edge config default"}
	}
	fmt.Fprint(e.stdout, config.DefaultYAML())
	return nil
}
