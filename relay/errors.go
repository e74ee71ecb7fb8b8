package relay

import (
	"errors"

	"github.com/sipedge/sipedge/media"
)

// Sentinel errors. The relay wraps them with details (fmt.Errorf("%w: ...")); check them
// with errors.Is. SIPStatus maps them to the response the proxy should send.
var (
	// ErrBadSDP is an SDP body that cannot be parsed or interpreted (no c= line, a port
	// out of range, fewer m= lines than before, an answer with a different number of m=
	// lines than the offer, ...).
	ErrBadSDP = errors.New("relay: invalid SDP")
	// ErrNoCrypto is an access-side offer or answer without usable SDES crypto while
	// media.srtp is "required" (or an RTP/SAVP stream while it is "off"): no stream of
	// the description could be set up. The proxy answers 488.
	ErrNoCrypto = errors.New("relay: no usable SDES crypto")
	// ErrBadCrypto is an a=crypto line that does not parse, or an answer whose crypto
	// line does not match what was offered. The proxy answers 488.
	ErrBadCrypto = errors.New("relay: invalid crypto attribute")
	// ErrNoOffer is an answer without a pending offer, or an answer whose direction
	// does not fit the pending offer.
	ErrNoOffer = errors.New("relay: answer without a matching offer")
	// ErrAmbiguousParty is an OfferTo between two parties on the same side (phone to
	// phone) whose sender the relay cannot tell from the o= line: use OfferBy.
	ErrAmbiguousParty = errors.New("relay: cannot tell which party sent the offer")
	// ErrSideMismatch is an offer whose sides do not fit the parties the session already
	// has (for example Offer(Core, ...) on a phone-to-phone session).
	ErrSideMismatch = errors.New("relay: sides do not match the session")
	// ErrNoPorts means the port range has no free RTP/RTCP pair left (or none could be
	// bound). The proxy answers 503.
	ErrNoPorts = errors.New("relay: no free media ports")
	// ErrNoAddress means neither Config.AccessIP nor the per-call access address is set.
	ErrNoAddress = errors.New("relay: no access-side media address")
	// ErrClosed is returned by a Session or Relay that has been closed.
	ErrClosed = errors.New("relay: closed")
	// ErrConfig is wrapped by New for an invalid Config; the message names the field.
	ErrConfig = errors.New("relay: invalid config")
)

// SIPStatus maps an error from Offer/Answer to the SIP response the proxy should send for
// a request (or, for an answer in a response, the reason to end the call): 488 Not
// Acceptable Here for SDP and crypto problems, 503 Service Unavailable when the relay is
// out of ports or closed, 500 for anything else, 0 for nil.
func SIPStatus(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrNoCrypto), errors.Is(err, ErrBadCrypto), errors.Is(err, ErrBadSDP),
		errors.Is(err, media.ErrSDP), errors.Is(err, ErrNoOffer):
		return 488
	case errors.Is(err, ErrNoPorts), errors.Is(err, ErrClosed):
		return 503
	}

	return 500
}
