package jitter

import "errors"

// Sentinel errors returned by this package. Callers test them with errors.Is.
var (
	// ErrBadConfig is returned by New and Config.Validate for an invalid
	// configuration; the message names the field.
	ErrBadConfig = errors.New("jitter: bad config")
	// ErrBadRate is returned by NewPLC for an unsupported sample rate.
	ErrBadRate = errors.New("jitter: unsupported sample rate")
)
