package dtmf

import "errors"

// Sentinel errors returned by this package. Callers test them with errors.Is.
var (
	// ErrShortPayload is returned for a telephone-event payload under 4 bytes.
	ErrShortPayload = errors.New("dtmf: telephone-event payload shorter than 4 bytes")
	// ErrBadDigit is returned for a character that is not a DTMF digit.
	ErrBadDigit = errors.New("dtmf: not a DTMF digit")
	// ErrBadEvent is returned for an event code that is not a DTMF digit.
	ErrBadEvent = errors.New("dtmf: not a DTMF event")
	// ErrBadVolume is returned for a volume above 63 (-63 dBm0).
	ErrBadVolume = errors.New("dtmf: volume out of range")
	// ErrBadDuration is returned for an event duration that is zero,
	// negative or too long for the 16-bit duration field.
	ErrBadDuration = errors.New("dtmf: bad duration")
	// ErrBadConfig is returned by NewSender for an invalid configuration.
	ErrBadConfig = errors.New("dtmf: bad config")
)
