package sipcheck

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Response validates a response received from a peer before the proxy
// relays it: SIP/2.0, a status code in 100-699, a reason phrase without
// control characters, exactly one Call-ID, CSeq, From and To, at least one
// Via, a top Via with a branch (it is the proxy's own and names the client
// transaction), Content-Length equal to the body length, and no Via whose
// sent-by is a broadcast, multicast or unspecified address (RFC 4475 bcast:
// a stateless element would send the response there).
//
// Nobody answers a response: Error.Status only classifies the fault (400,
// or 505 for the version) and the caller drops the message.
func Response(res *sip.Response) *Error {
	if res == nil {
		return badRequest(ErrMissingHeader, "no response")
	}
	if res.SipVersion != "SIP/2.0" {
		return newError(505, ErrVersion, "status line: version "+quote(res.SipVersion)+" is not SIP/2.0")
	}
	if res.StatusCode < 100 || res.StatusCode > 699 {
		return badRequest(ErrStatusCode, "status line: code "+strconv.Itoa(res.StatusCode)+" is outside 100-699")
	}
	if ctlAt(res.Reason, false) >= 0 {
		return badRequest(ErrHeaderValue, "status line: control character in reason phrase")
	}
	var s scan
	hs := res.Headers()
	if e := s.collect(hs); e != nil {
		return e
	}
	if e := common(res, res.Body(), &s); e != nil {
		return e
	}
	if b, _ := param(res.Via().Params, "branch"); b == "" {
		return badRequest(ErrVia, "Via: top Via has no branch")
	}
	for _, h := range hs {
		v, ok := h.(*sip.ViaHeader)
		if !ok {
			continue
		}
		if a, err := netip.ParseAddr(strings.TrimSpace(v.Host)); err == nil && unroutable(a) {
			return badRequest(ErrBroadcastVia, "Via: sent-by "+quote(v.Host)+" is not a unicast address")
		}
		if m, ok := param(v.Params, "maddr"); ok {
			if a, err := netip.ParseAddr(m); err == nil && unroutable(a) {
				return badRequest(ErrBroadcastVia, "Via: maddr "+quote(m)+" is not a unicast address")
			}
		}
	}
	return nil
}

// unroutable reports addresses a response must never be sent to.
func unroutable(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}
