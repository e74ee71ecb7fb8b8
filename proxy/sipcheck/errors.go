package sipcheck

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every *Error returned by this package wraps exactly one of
// them (see Error.Kind), so callers can branch with errors.Is.
var (
	// ErrVersion: the start line carries a SIP version other than SIP/2.0 (505).
	ErrVersion = errors.New("sipcheck: unsupported SIP version")
	// ErrMethod: the request method is not a token (400).
	ErrMethod = errors.New("sipcheck: invalid method")
	// ErrHeaderValue: a header value contains a control character (NUL, CR, LF, ...)
	// outside a quoted-pair (400).
	ErrHeaderValue = errors.New("sipcheck: control character in header value")
	// ErrHeaderName: a header name is not a token (sipgo accepts ": value") (400).
	ErrHeaderName = errors.New("sipcheck: invalid header name")
	// ErrMissingHeader: a mandatory header (Call-ID, CSeq, From, To, Via) is absent (400).
	ErrMissingHeader = errors.New("sipcheck: missing mandatory header")
	// ErrDuplicateHeader: a single-valued header appears more than once (400).
	ErrDuplicateHeader = errors.New("sipcheck: duplicate single-valued header")
	// ErrCallID: the Call-ID is empty or contains whitespace (400).
	ErrCallID = errors.New("sipcheck: invalid Call-ID")
	// ErrCSeq: the CSeq number is out of range, its method is not a token, or it
	// differs from the request method (400).
	ErrCSeq = errors.New("sipcheck: invalid CSeq")
	// ErrAddress: a From or To URI is unusable (400).
	ErrAddress = errors.New("sipcheck: invalid From/To address")
	// ErrFromTag: the From header of a request carries no tag (400).
	ErrFromTag = errors.New("sipcheck: missing From tag")
	// ErrVia: the top Via is malformed, no Via carries a branch, or a branch is
	// the bare RFC 3261 magic cookie (400).
	ErrVia = errors.New("sipcheck: invalid Via")
	// ErrMaxForwards: Max-Forwards is not a number in 0-255 (400).
	ErrMaxForwards = errors.New("sipcheck: invalid Max-Forwards")
	// ErrTooManyHops: Max-Forwards is 0 on a request other than OPTIONS (483).
	ErrTooManyHops = errors.New("sipcheck: too many hops")
	// ErrOptionsMaxForwardsZero: an OPTIONS request arrived with Max-Forwards 0.
	// It must not be forwarded; RFC 3261 §16.3 item 3 lets the proxy answer it
	// itself (200 with its capabilities) or reject it. Status is 483 so a caller
	// that only looks at Status still does the safe thing.
	ErrOptionsMaxForwardsZero = errors.New("sipcheck: OPTIONS with Max-Forwards 0")
	// ErrContentLength: Content-Length is malformed or differs from the body length (400).
	ErrContentLength = errors.New("sipcheck: Content-Length mismatch")
	// ErrExpires: Expires is not a delta-seconds number (400).
	ErrExpires = errors.New("sipcheck: invalid Expires")
	// ErrRequestURI: the Request-URI is malformed or carries escaped headers (400).
	ErrRequestURI = errors.New("sipcheck: invalid Request-URI")
	// ErrScheme: the Request-URI scheme is not allowed (416).
	ErrScheme = errors.New("sipcheck: unsupported URI scheme")
	// ErrBadExtension: Proxy-Require names option tags this proxy does not
	// support (420; Error.Unsupported lists them), or a tag is not a token (400).
	ErrBadExtension = errors.New("sipcheck: unsupported Proxy-Require extension")
	// ErrStatusCode: a response status code is outside 100-699.
	ErrStatusCode = errors.New("sipcheck: invalid status code")
	// ErrBroadcastVia: a response Via sent-by is a broadcast, multicast or
	// unspecified address (RFC 4475 bcast).
	ErrBroadcastVia = errors.New("sipcheck: broadcast address in Via")
	// ErrDisplayName: an unquoted display name contains non-token characters
	// (RFC 4475 baddn). Reported by the strict parser only.
	ErrDisplayName = errors.New("sipcheck: display name must be quoted")
	// ErrAddrSpec: a From/To/Contact URI containing '?' or ',' is not enclosed
	// in <> (RFC 4475 regbadct), or something other than ;parameters follows
	// the <URI>. Reported by the strict parser only.
	ErrAddrSpec = errors.New("sipcheck: URI with headers must be enclosed in <>")
)

// Error is a validation failure: the SIP status to answer with, its reason
// phrase, and a detail for logs naming the header or field at fault.
//
// For responses (see Response) there is nobody to answer: Status only
// classifies the fault and the caller drops the message.
type Error struct {
	// Status is the SIP status code to respond with (400, 416, 420, 483, 505).
	Status int
	// Reason is the reason phrase matching Status.
	Reason string
	// Detail says what is wrong, e.g. `Max-Forwards: "abc" is not a number`.
	// It is meant for logs; it may echo (truncated) peer input, so do not put
	// it in a response header unescaped.
	Detail string
	// Unsupported lists the Proxy-Require option tags behind a 420, for the
	// Unsupported header of the response. Nil otherwise.
	Unsupported []string
	// Kind is the sentinel this error wraps (ErrCSeq, ErrTooManyHops, ...).
	Kind error
}

// Error implements error.
func (e *Error) Error() string {
	return "sipcheck: " + strconv.Itoa(e.Status) + " " + e.Reason + ": " + e.Detail
}

// Unwrap returns the sentinel, so errors.Is(err, ErrCSeq) works.
func (e *Error) Unwrap() error { return e.Kind }

// reason maps the statuses this package produces to their RFC 3261 phrases.
func reason(status int) string {
	switch status {
	case 400:
		return "Bad Request"
	case 416:
		return "Unsupported URI Scheme"
	case 420:
		return "Bad Extension"
	case 483:
		return "Too Many Hops"
	case 505:
		return "Version Not Supported"
	}
	return ""
}

func newError(status int, kind error, detail string) *Error {
	return &Error{Status: status, Reason: reason(status), Detail: detail, Kind: kind}
}

func badRequest(kind error, detail string) *Error { return newError(400, kind, detail) }
