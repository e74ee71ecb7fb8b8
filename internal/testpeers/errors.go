package testpeers

import "errors"

// Sentinel errors returned by the harness. They are wrapped with %w; check them with errors.Is.
var (
	// ErrNotRunning means the peer process has exited or was stopped.
	ErrNotRunning = errors.New("testpeers: peer is not running")
	// ErrStartTimeout means a peer did not become ready in time.
	ErrStartTimeout = errors.New("testpeers: peer did not become ready in time")
	// ErrBadOption means an option passed to Start* is invalid; the message names the field.
	ErrBadOption = errors.New("testpeers: invalid option")
	// ErrRPC means Kamailio answered a JSON-RPC command with an error.
	ErrRPC = errors.New("testpeers: kamailio rpc error")
	// ErrCommand means baresip answered a control command with ok=false.
	ErrCommand = errors.New("testpeers: baresip command failed")
	// ErrNoRecording means baresip left no recording of the expected direction.
	ErrNoRecording = errors.New("testpeers: no recording found")
	// ErrNoPort means no free loopback port could be found.
	ErrNoPort = errors.New("testpeers: no free loopback port")
)
