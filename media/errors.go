package media

import "errors"

// Sentinel errors. Functions wrap them with details (fmt.Errorf("%w: ...")); check them
// with errors.Is.
var (
	// ErrMalformedCrypto is wrapped by every error that ParseCrypto returns for a line
	// that does not follow RFC 4568 (together with a more specific sentinel where one fits).
	ErrMalformedCrypto = errors.New("malformed crypto attribute")
	// ErrUnknownSuite is a crypto suite this package does not implement.
	ErrUnknownSuite = errors.New("unsupported crypto suite")
	// ErrBadKey is a key parameter that is not "inline:", not base64, or of the wrong
	// length for its suite.
	ErrBadKey = errors.New("bad key")
	// ErrBadLifetime is a key lifetime that is not "2^n" or a decimal number in range.
	ErrBadLifetime = errors.New("bad key lifetime")
	// ErrBadMKI is an MKI that is not "value:length" with length 1..128 and a value that fits.
	ErrBadMKI = errors.New("bad MKI")
	// ErrBadTag is a crypto tag that is not 1 to 9 decimal digits.
	ErrBadTag = errors.New("bad crypto tag")
	// ErrBadParam is a session parameter with a malformed value (e.g. "KDR=x", "WSH=10").
	ErrBadParam = errors.New("bad session parameter")
	// ErrUnsupportedParam is a well-formed session parameter this package will not honour
	// (UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP, UNAUTHENTICATED_SRTP, KDR other than 0,
	// FEC_ORDER, FEC_KEY, or an unknown parameter without a leading "-").
	ErrUnsupportedParam = errors.New("unsupported session parameter")
	// ErrNoCommonSuite means no offered crypto line is usable.
	ErrNoCommonSuite = errors.New("no acceptable crypto suite offered")
	// ErrAnswerMismatch means an answer's crypto line matches none of the offered lines.
	ErrAnswerMismatch = errors.New("crypto answer does not match the offer")

	// ErrAuth is an SRTP/SRTCP packet whose authentication tag does not verify (tampered,
	// wrong key, or an unknown MKI). Such a packet must not be used for anything,
	// including address latching.
	ErrAuth = errors.New("srtp authentication failed")
	// ErrReplay is an SRTP/SRTCP packet whose index was already received or lies behind
	// the replay window.
	ErrReplay = errors.New("srtp replayed packet")
	// ErrMalformedPacket is a packet too short or otherwise unparsable as (S)RTP/(S)RTCP.
	ErrMalformedPacket = errors.New("malformed packet")

	// ErrSDP is wrapped by the SDP helpers for a media section they cannot interpret.
	ErrSDP = errors.New("invalid SDP")
)
