package bench

import "errors"

// Sentinel errors of the benchmark helpers.
var (
	// ErrBencode reports malformed or unsupported bencode data.
	ErrBencode = errors.New("bench: bencode")
	// ErrNG reports an ng control exchange that failed or was refused.
	ErrNG = errors.New("bench: ng control")
	// ErrProcess reports a helper process (anchor, edge, sipp) that did not start or became ready.
	ErrProcess = errors.New("bench: process")
	// ErrSDP reports an SDP body a relay returned that the harness cannot use.
	ErrSDP = errors.New("bench: sdp")
	// ErrSippStats reports a sipp statistics file that cannot be read.
	ErrSippStats = errors.New("bench: sipp statistics")
)
