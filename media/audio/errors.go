package audio

import "errors"

// Sentinel errors returned by this package. Callers test them with errors.Is;
// the returned errors wrap them with the detail (path, value, field).
var (
	// ErrBadSpec is returned by ParseSpec and ParseSinkSpec for a malformed spec.
	ErrBadSpec = errors.New("audio: bad spec")
	// ErrBadRate is returned for a sample rate this package does not handle.
	ErrBadRate = errors.New("audio: unsupported sample rate")
	// ErrBadParam is returned for an out-of-range parameter (frequency, amplitude, ...).
	ErrBadParam = errors.New("audio: bad parameter")
	// ErrNotWAV is returned for a file that is not a RIFF/WAVE file.
	ErrNotWAV = errors.New("audio: not a WAV file")
	// ErrUnsupportedWAV is returned for a WAV file in a format this package cannot read.
	ErrUnsupportedWAV = errors.New("audio: unsupported WAV format")
	// ErrWAVTooLarge is returned when a WAV file would exceed the 4 GiB RIFF limit.
	ErrWAVTooLarge = errors.New("audio: WAV file too large")
	// ErrClosed is returned when a closed sink or source is used.
	ErrClosed = errors.New("audio: closed")
	// ErrDevicesUnsupported is returned by the device functions of a build
	// without cgo, which has no audio backend.
	ErrDevicesUnsupported = errors.New("audio: system audio devices are unavailable in this build (built without cgo, so without the malgo/miniaudio backend)")
	// ErrNoSuchDevice is returned when no device matches the requested name
	// (the message lists the available ones) or the backend has no device.
	ErrNoSuchDevice = errors.New("audio: no such audio device")
	// ErrDevice wraps a failure of the audio backend (initialisation, start).
	ErrDevice = errors.New("audio: audio device error")
)
