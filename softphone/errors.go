package softphone

import (
	"errors"
	"fmt"

	"github.com/emiago/sipgo/sip"

	"github.com/sipedge/sipedge/media/audio"
)

// Sentinel errors returned by the softphone engine. Test them with errors.Is.
var (
	// ErrConfig is wrapped by every configuration error; the message names the field.
	ErrConfig = errors.New("softphone: invalid configuration")
	// ErrNoAccount is returned when no account is configured or the named one does not exist.
	ErrNoAccount = errors.New("softphone: no such account")
	// ErrFingerprintMismatch is returned when the edge presents a certificate whose
	// SHA-256 fingerprint differs from the pinned one.
	ErrFingerprintMismatch = errors.New("edge certificate fingerprint does not match the pinned fingerprint")
	// ErrUntrustedCertificate is returned when the edge certificate does not verify
	// against the system roots or the configured CA file.
	ErrUntrustedCertificate = errors.New("edge certificate is not trusted")
	// ErrNotRegistered is returned when an operation needs a registered flow.
	ErrNotRegistered = errors.New("softphone: not registered")
	// ErrClosed is returned after the phone was closed.
	ErrClosed = errors.New("softphone: phone is closed")
	// ErrNoSuchCall is returned for an unknown call ID.
	ErrNoSuchCall = errors.New("softphone: no such call")
	// ErrCallState is returned when an operation does not fit the call's current state.
	ErrCallState = errors.New("softphone: operation not allowed in this call state")
	// ErrNoCommonCodec is returned when offer and answer share no audio codec.
	ErrNoCommonCodec = errors.New("no common audio codec")
	// ErrSRTPRequired is returned when SRTP is required but the peer offered or answered plain RTP.
	ErrSRTPRequired = errors.New("SRTP is required but the peer did not offer a usable crypto suite")
	// ErrBadSDP is returned for SDP that cannot be parsed or has no usable audio stream.
	ErrBadSDP = errors.New("unusable SDP")
	// ErrBadURI is returned for a destination that is not a valid SIP URI, number or contact name.
	ErrBadURI = errors.New("invalid destination")
	// ErrBadDTMF is returned for characters that are not DTMF digits (0-9 * # A-D).
	ErrBadDTMF = errors.New("invalid DTMF digits")
	// ErrDeviceAudio is returned for the "device" audio source or sink by a
	// build without cgo, which has no audio backend (see AudioDevicesSupported).
	ErrDeviceAudio = errors.New("device audio is unavailable in this build (built without cgo, so without the malgo audio backend); use tone:FREQ, file:PATH.wav or silence")
	// ErrNoAudioDevice is returned (wrapped, with the list of available
	// devices) when no audio device matches "device:NAME" or the backend has none.
	ErrNoAudioDevice = audio.ErrNoSuchDevice
	// ErrAudioDevice wraps a failure of the audio backend: none usable, or
	// the device does not open.
	ErrAudioDevice = audio.ErrDevice
	// ErrTimeout is returned when a network operation does not finish in time.
	ErrTimeout = errors.New("softphone: timed out")
)

// StatusError is a SIP failure response (or a local failure mapped to a SIP status).
// It carries the status code and reason phrase so a CLI can print and exit with them.
type StatusError struct {
	// Method is the request that failed, e.g. "INVITE" or "REGISTER".
	Method string
	// Code is the SIP status code, e.g. 486.
	Code int
	// Reason is the reason phrase, e.g. "Busy Here".
	Reason string
}

// Error formats the failure as "INVITE failed: 486 Busy Here".
func (e *StatusError) Error() string {
	return fmt.Sprintf("%s failed: %d %s", e.Method, e.Code, e.Reason)
}

// IsStatus reports whether err is a StatusError with the given code.
func IsStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

// TLSError describes why the edge's certificate was refused. It wraps
// ErrFingerprintMismatch or ErrUntrustedCertificate.
type TLSError struct {
	// Kind is ErrFingerprintMismatch or ErrUntrustedCertificate.
	Kind error
	// Presented is the SHA-256 fingerprint of the certificate the edge presented.
	Presented string
	// Expected is the pinned fingerprint (mismatch only).
	Expected string
	// Cause is the x509 verification error (untrusted only).
	Cause error
}

// Error explains the refusal and what the user can do about it.
func (e *TLSError) Error() string {
	if errors.Is(e.Kind, ErrFingerprintMismatch) {
		return fmt.Sprintf("%v: the edge presented %s but --fingerprint pins %s (refusing to connect)",
			e.Kind, e.Presented, e.Expected)
	}
	return fmt.Sprintf("%v: %v; the edge presented %s: trust its CA with --ca-file, pin it with --fingerprint %s, or (unsafe) use --insecure",
		e.Kind, e.Cause, e.Presented, e.Presented)
}

// Unwrap returns the sentinel kind so errors.Is works.
func (e *TLSError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

// sendError maps a failure to send a request. A message over sipgo's UDP
// limit (see UDPMaxMessage) becomes 513 Message Too Large (RFC 3261) with a
// hint; other errors are returned unchanged.
func sendError(method string, err error) error {
	if errors.Is(err, sip.ErrUDPMTUCongestion) {
		return &StatusError{Method: method, Code: 513,
			Reason: fmt.Sprintf("Message Too Large (over sipgo's UDP limit of %d bytes; use a tcp:// or tls:// edge)", sip.UDPMTUSize-200)}
	}
	return err
}
