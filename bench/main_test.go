package bench

import (
	"os"
	"testing"
)

// TestMain turns the test binary into a helper process when ChildEnv is set (see RunChild).
func TestMain(m *testing.M) {
	if mode := os.Getenv(ChildEnv); mode != "" {
		os.Exit(RunChild(mode, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
