package sipcheck

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Request validates a request the proxy received, before it is forwarded,
// following RFC 3261 §16.3 (request validation) and the parts of §8.2 a
// proxy shares, plus the RFC 4475 torture cases that sipgo's parser lets
// through. It returns nil when the request may be forwarded.
//
// The checks run in the §16.3 order, so the first failure decides the status:
//
//  1. syntax (400, 505 for a version other than SIP/2.0): method token;
//     control characters in header values; exactly one Call-ID, CSeq, From
//     and To and at most one Max-Forwards, Content-Length, Content-Type and
//     Expires; at least one Via; CSeq number <= 2**31-1 and its method equal
//     to the request method; parseable From/To URIs; a From tag; a sane top
//     Via; some Via with a branch and no branch that is the bare magic
//     cookie; Max-Forwards 0-255; Expires numeric; Content-Length equal to
//     the body length; no escaped headers in a SIP Request-URI;
//  2. Request-URI scheme in opts.AllowedSchemes (416);
//  3. Max-Forwards 0 (483; ErrOptionsMaxForwardsZero for OPTIONS, which the
//     proxy may answer itself);
//  4. Proxy-Require: this proxy supports no extension, so any option tag
//     gives 420 with the tags in Error.Unsupported.
//
// Require is deliberately not checked: §16.3 leaves it to the UAS.
//
// Decisions:
//   - The From tag is required on every request. RFC 3261 §8.1.1.3 makes it a
//     MUST for every request; only RFC 2543 clients omit it, and those are
//     rejected anyway because they send no Via branch.
//   - A branch is required on at least one Via, not necessarily the top one:
//     RFC 4475 longreq is valid with a branchless top Via. A branch without
//     the z9hG4bK cookie is tolerated (RFC 4475 wsinv).
//   - Method names are compared case-insensitively with the CSeq method,
//     because sipgo upper-cases the request-line method while keeping the
//     CSeq method as sent (RFC 4475 intmeth).
//   - A display name that is unquoted but not made of tokens (RFC 4475
//     baddn) and a URI with '?' outside <> (regbadct) cannot be seen after
//     sipgo has parsed the message; NewParser rejects them while parsing.
//   - Date, Require, Accept, Content-Type values, Authorization schemes and
//     Contact contents are the UAS's or registrar's business and pass.
func Request(req *sip.Request, opts Options) *Error {
	if req == nil {
		return badRequest(ErrMissingHeader, "no request")
	}
	opts = opts.withDefaults()
	if req.SipVersion != "SIP/2.0" {
		return newError(505, ErrVersion, "request line: version "+quote(req.SipVersion)+" is not SIP/2.0")
	}
	method := string(req.Method)
	if !isToken(method) {
		return badRequest(ErrMethod, "request line: method "+quote(method)+" is not a token")
	}
	var s scan
	if e := s.collect(req.Headers()); e != nil {
		return e
	}
	if e := common(req, req.Body(), &s); e != nil {
		return e
	}
	if cm := strings.TrimSpace(string(req.CSeq().MethodName)); !strings.EqualFold(cm, method) {
		return badRequest(ErrCSeq, "CSeq: method "+quote(cm)+" does not match request method "+quote(method))
	}
	if !s.branch {
		return badRequest(ErrVia, "Via: no branch parameter (RFC 2543 transactions are not supported)")
	}
	if tag, _ := param(req.From().Params, "tag"); tag == "" {
		return badRequest(ErrFromTag, "From: no tag parameter")
	}
	if e := requestURI(&req.Recipient, opts.AllowedSchemes); e != nil {
		return e
	}
	if s.maxFwd == 0 {
		if req.Method == sip.OPTIONS {
			return newError(483, ErrOptionsMaxForwardsZero, "Max-Forwards: 0 on OPTIONS; answer it locally or reject it")
		}
		return newError(483, ErrTooManyHops, "Max-Forwards: 0")
	}
	if s.count[hProxyRequire] > 0 {
		tags := proxyRequire(req.Headers())
		for _, t := range tags {
			if !isToken(t) {
				return badRequest(ErrBadExtension, "Proxy-Require: option tag "+quote(t)+" is not a token")
			}
		}
		if len(tags) > 0 {
			e := newError(420, ErrBadExtension, "Proxy-Require: "+strings.Join(tags, ", ")+" not supported")
			e.Unsupported = tags
			return e
		}
	}
	return nil
}

// requestURI checks the Request-URI: control characters and escaped headers
// (RFC 4475 escruri) are syntax errors (400) and come first; then the scheme
// must be allowed (416).
func requestURI(u *sip.Uri, allowed []string) *Error {
	if uriCTL(u) {
		return badRequest(ErrRequestURI, "Request-URI: control character")
	}
	if !isScheme(u.Scheme) {
		return badRequest(ErrRequestURI, "Request-URI: scheme "+quote(u.Scheme)+" is invalid")
	}
	ok := false
	for _, a := range allowed {
		if strings.EqualFold(a, u.Scheme) {
			ok = true
			break
		}
	}
	if isSIPScheme(u.Scheme) {
		if u.Wildcard || strings.TrimSpace(u.Host) == "" {
			return badRequest(ErrRequestURI, "Request-URI: no host")
		}
		if len(u.Headers) > 0 {
			return badRequest(ErrRequestURI, "Request-URI: escaped headers are not allowed (RFC 3261 §19.1.5)")
		}
	}
	if !ok {
		return newError(416, ErrScheme, "Request-URI: scheme "+quote(u.Scheme)+" is not supported")
	}
	if !isSIPScheme(u.Scheme) && strings.TrimSpace(u.Raw()) == "" {
		return badRequest(ErrRequestURI, "Request-URI: empty "+u.Scheme+" URI")
	}
	return nil
}

// proxyRequire returns the option tags of all Proxy-Require headers.
func proxyRequire(hs []sip.Header) []string {
	var tags []string
	for _, h := range hs {
		if classify(h) != hProxyRequire {
			continue
		}
		for _, t := range strings.Split(h.Value(), ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return tags
}
