// Package sipcheck validates SIP messages at the edge proxy before they are
// forwarded: RFC 3261 §16.3 request validation (with the §8.2 checks a proxy
// shares) and the RFC 4475 torture cases that sipgo v1.7.3's parser accepts
// but a proxy must refuse.
//
// Everything here is a pure function of an already parsed sipgo message;
// there is no I/O and no state.
//
//   - Request(req, opts) checks a received request; a non-nil *Error carries
//     the status to answer with (400, 416, 420, 483, 505), a reason phrase, a
//     detail for logs and, for 420, the option tags for an Unsupported header.
//     ErrOptionsMaxForwardsZero marks an OPTIONS with Max-Forwards 0 that the
//     proxy may answer itself.
//   - Response(res) checks a response received from a peer; failures are to
//     be dropped.
//   - NewParser / HeaderParsers give a sipgo parser that additionally rejects
//     what cannot be seen after parsing (unquoted display names with
//     separators, RFC 4475 baddn; URIs with headers outside <>, regbadct).
//     Install it with sipgo.WithUserAgentParser.
//
// testdata/rfc4475 holds the 49 RFC 4475 messages; rfc4475_test.go records,
// for each, what sipgo's parser, the strict parser and Request/Response do
// and where that departs from the RFC's suggestion.
//
// Known sipgo v1.7.3 behaviour the checks work around (worth knowing when
// forwarding): it upper-cases the request-line method but not the CSeq
// method; with LWS around ";" or "=" it keeps the spaces in parameter names
// and values (so Params.Get("tag") misses the tag of RFC 4475 wsinv, and its
// RFC 2543 transaction matching then fails); it mis-parses a Via with LWS
// between "/" and the transport (wsinv's second Via) and a To URI followed by
// " ;" keeps a trailing space in the host.
package sipcheck
