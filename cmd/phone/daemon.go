package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/sipedge/sipedge/softphone"
	"github.com/sipedge/sipedge/softphone/control"
)

// defaultSocket is $XDG_RUNTIME_DIR/sipedge-phone.sock, else phone.sock in the data dir.
func defaultSocket() (string, error) {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "sipedge-phone.sock"), nil
	}
	d, err := softphone.DataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "phone.sock"), nil
}

func runDaemon(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("daemon", stderr)
	var af accountFlags
	af.register(fs)
	socket := fs.String("socket", "", "control socket path (default $XDG_RUNTIME_DIR/sipedge-phone.sock)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("daemon", pos); err != nil {
		return err
	}
	if *socket == "" {
		if *socket, err = defaultSocket(); err != nil {
			return err
		}
	}
	ln, err := listenSocket(*socket)
	if err != nil {
		return err
	}
	defer os.Remove(*socket)
	p, err := startPhone(ctx, &af, stderr, true)
	if p == nil {
		_ = ln.Close()
		return err
	}
	defer p.Close()
	if err != nil {
		fmt.Fprintf(stderr, "phone: first registration failed (retrying in the background): %v\n", err)
	}
	if af.json {
		printJSON(stdout, map[string]any{"ok": true, "socket": *socket, "account": p.Account().Name, "registration": p.Registration()})
	} else {
		fmt.Fprintf(stdout, "phone daemon for %s listening on %s\n", p.Account().Name, *socket)
	}
	srv := control.NewServer(p, nil)
	return srv.Serve(ctx, ln)
}

// listenSocket listens on a unix socket readable only by the user. A stale
// socket file is removed; a live one means another daemon runs.
func listenSocket(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("control socket directory: %w", err)
	}
	if _, err := os.Stat(path); err == nil {
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("another phone daemon is already listening on %s", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}
