package registrar

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors returned by Apply, ParseUpdate and New. Check them with errors.Is; Status maps them to the
// SIP response the caller should send.
var (
	// ErrBadRequest means the REGISTER is malformed (a bad q, expires or reg-id value, a missing To or
	// Call-ID...). The wrapped message names the field. SIP: 400 Bad Request.
	ErrBadRequest = errors.New("registrar: bad request")
	// ErrBadWildcard means a "Contact: *" came with other contacts or without "Expires: 0"
	// (RFC 3261 §10.3 step 6). SIP: 400 Bad Request.
	ErrBadWildcard = errors.New("registrar: wildcard contact needs Expires: 0 and no other contact")
	// ErrOutOfOrder means a binding with the same Call-ID already holds an equal or higher CSeq
	// (RFC 3261 §10.3 steps 6 and 7): a retransmission or a reordered request. SIP: 500 Server Internal Error.
	ErrOutOfOrder = errors.New("registrar: out-of-order REGISTER (same Call-ID, CSeq not higher)")
	// ErrIntervalTooBrief means a non-zero expiration is below Config.MinExpires. The error returned is an
	// *IntervalTooBriefError carrying the minimum for the Min-Expires header. SIP: 423 Interval Too Brief.
	ErrIntervalTooBrief = errors.New("registrar: interval too brief")
	// ErrTooManyBindings means the update would leave more than Config.MaxBindingsPerAOR bindings.
	// SIP: 503 Service Unavailable (as Kamailio and OpenSIPS do: the condition clears when bindings expire).
	ErrTooManyBindings = errors.New("registrar: too many bindings for this address-of-record")
	// ErrInvalidConfig wraps every Config.Validate failure.
	ErrInvalidConfig = errors.New("registrar: invalid config")
)

// IntervalTooBriefError is returned by Apply for ErrIntervalTooBrief; MinExpires goes in the 423's
// Min-Expires header (in whole seconds, see MinExpiresSeconds).
type IntervalTooBriefError struct {
	// Contact is the contact URI whose interval was too brief.
	Contact string
	// Requested is the interval asked for.
	Requested time.Duration
	// MinExpires is the registrar's minimum.
	MinExpires time.Duration
}

// Error implements error.
func (e *IntervalTooBriefError) Error() string {
	return fmt.Sprintf("%v: contact %q asked for %v, minimum is %v", ErrIntervalTooBrief, e.Contact,
		e.Requested, e.MinExpires)
}

// Unwrap makes errors.Is(err, ErrIntervalTooBrief) true.
func (e *IntervalTooBriefError) Unwrap() error { return ErrIntervalTooBrief }

// MinExpiresSeconds is the value for the Min-Expires header, rounded up to whole seconds.
func (e *IntervalTooBriefError) MinExpiresSeconds() int {
	return int((e.MinExpires + time.Second - 1) / time.Second)
}

// Status returns the SIP status code and reason phrase a registrar answers with for err
// (200 "OK" for nil, 500 for an error that is not one of this package's).
func Status(err error) (code int, reason string) {
	switch {
	case err == nil:
		return 200, "OK"
	case errors.Is(err, ErrBadRequest), errors.Is(err, ErrBadWildcard):
		return 400, "Bad Request"
	case errors.Is(err, ErrIntervalTooBrief):
		return 423, "Interval Too Brief"
	case errors.Is(err, ErrOutOfOrder):
		return 500, "Out of Order CSeq"
	case errors.Is(err, ErrTooManyBindings):
		return 503, "Too Many Registered Contacts"
	default:
		return 500, "Server Internal Error"
	}
}

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}
