package main

import (
	"errors"
	"flag"
)

// errReported marks an error whose message was already printed (e.g. as JSON).
var errReported = errors.New("already reported")

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }
func (e *usageErr) Unwrap() error { return errUsage }

func usageError(msg string) error { return &usageErr{msg: msg} }

// reported wraps err so main does not print it again.
type reportedErr struct{ err error }

func (e *reportedErr) Error() string   { return e.err.Error() }
func (e *reportedErr) Unwrap() []error { return []error{e.err, errReported} }

// exitCode maps an error to the process exit status: 2 for usage errors, 1 otherwise.
func exitCode(err error) int {
	if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}
