package sipcheck

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// hdr names the headers the checks look at.
type hdr uint8

const (
	hOther hdr = iota
	hCallID
	hCSeq
	hFrom
	hTo
	hVia
	hMaxForwards
	hContentLength
	hContentType
	hExpires
	hProxyRequire
	hCount
)

var hdrNames = [hCount]string{"", "Call-ID", "CSeq", "From", "To", "Via", "Max-Forwards",
	"Content-Length", "Content-Type", "Expires", "Proxy-Require"}

// singleValued are the headers that may appear at most once.
var singleValued = [...]hdr{hCallID, hCSeq, hFrom, hTo, hMaxForwards, hContentLength, hContentType, hExpires}

// classify maps a header to its kind; sipgo's typed headers by type, the
// rest (unknown headers, or known ones built with sip.NewHeader) by name,
// including RFC 3261 compact forms.
func classify(h sip.Header) hdr {
	switch h.(type) {
	case *sip.CallIDHeader:
		return hCallID
	case *sip.CSeqHeader:
		return hCSeq
	case *sip.FromHeader:
		return hFrom
	case *sip.ToHeader:
		return hTo
	case *sip.ViaHeader:
		return hVia
	case *sip.MaxForwardsHeader:
		return hMaxForwards
	case *sip.ContentLengthHeader:
		return hContentLength
	case *sip.ContentTypeHeader:
		return hContentType
	case *sip.ExpiresHeader:
		return hExpires
	case *sip.ContactHeader, *sip.RouteHeader, *sip.RecordRouteHeader, *sip.ReferToHeader, *sip.ReferredByHeader:
		return hOther
	}
	n := h.Name()
	if len(n) == 1 {
		switch n[0] | 0x20 {
		case 'i':
			return hCallID
		case 'f':
			return hFrom
		case 't':
			return hTo
		case 'v':
			return hVia
		case 'l':
			return hContentLength
		case 'c':
			return hContentType
		}
		return hOther
	}
	for k := hCallID; k < hCount; k++ {
		if strings.EqualFold(n, hdrNames[k]) {
			return k
		}
	}
	return hOther
}

// headerCTL reports whether a header value holds a control character outside
// a quoted-pair. Typed headers are checked field by field, which costs no
// allocation; other headers through Value().
func headerCTL(h sip.Header) bool {
	switch v := h.(type) {
	case *sip.CallIDHeader:
		return ctlAt(string(*v), false) >= 0
	case *sip.CSeqHeader:
		return ctlAt(string(v.MethodName), false) >= 0
	case *sip.MaxForwardsHeader, *sip.ContentLengthHeader, *sip.ExpiresHeader:
		return false
	case *sip.ContentTypeHeader:
		return ctlAt(string(*v), false) >= 0
	case *sip.ViaHeader:
		if ctlAt(v.ProtocolName, false) >= 0 || ctlAt(v.ProtocolVersion, false) >= 0 ||
			ctlAt(v.Transport, false) >= 0 || ctlAt(v.Host, false) >= 0 {
			return true
		}
		_, bad := paramsCTL(v.Params)
		return bad
	case *sip.FromHeader:
		return addrCTL(v.DisplayName, &v.Address, v.Params)
	case *sip.ToHeader:
		return addrCTL(v.DisplayName, &v.Address, v.Params)
	case *sip.ContactHeader:
		return addrCTL(v.DisplayName, &v.Address, v.Params)
	case *sip.ReferredByHeader:
		return addrCTL(v.DisplayName, &v.Address, v.Params)
	case *sip.RouteHeader:
		return uriCTL(&v.Address)
	case *sip.RecordRouteHeader:
		return uriCTL(&v.Address)
	case *sip.ReferToHeader:
		return uriCTL(&v.Address)
	}
	return ctlAt(h.Value(), false) >= 0
}

func addrCTL(display string, u *sip.Uri, p sip.HeaderParams) bool {
	if ctlAt(display, true) >= 0 || uriCTL(u) {
		return true
	}
	_, bad := paramsCTL(p)
	return bad
}

// scan is what one pass over the header list learns.
type scan struct {
	count  [hCount]int
	branch bool // some Via carries a non-empty branch
	maxFwd int  // -1 when absent
	clen   int  // -1 when absent
}

// collect walks the headers once: counts them, rejects control characters,
// bare magic-cookie branches and malformed numeric values.
func (s *scan) collect(hs []sip.Header) *Error {
	s.maxFwd, s.clen = -1, -1
	for _, h := range hs {
		if !isToken(h.Name()) {
			return badRequest(ErrHeaderName, "header name "+quote(h.Name())+" is not a token")
		}
		k := classify(h)
		s.count[k]++
		if headerCTL(h) {
			return badRequest(ErrHeaderValue, h.Name()+": control character in value")
		}
		switch k {
		case hVia:
			if e := s.via(h); e != nil {
				return e
			}
		case hMaxForwards:
			switch v := h.(type) {
			case *sip.MaxForwardsHeader:
				s.maxFwd = int(min(uint32(*v), 256))
			default:
				val := strings.TrimSpace(h.Value())
				n, ok := digits(val, 255)
				if !ok {
					return badRequest(ErrMaxForwards, "Max-Forwards: "+quote(val)+" is not a number")
				}
				s.maxFwd = int(min(n, 256))
			}
			if s.maxFwd > 255 {
				return badRequest(ErrMaxForwards, "Max-Forwards: "+strconv.Itoa(s.maxFwd)+" is greater than 255")
			}
		case hContentLength:
			switch v := h.(type) {
			case *sip.ContentLengthHeader:
				s.clen = int(*v)
			default:
				val := strings.TrimSpace(h.Value())
				n, ok := digits(val, 1<<31)
				if !ok {
					return badRequest(ErrContentLength, "Content-Length: "+quote(val)+" is not a number")
				}
				s.clen = int(n)
			}
		case hExpires:
			if _, typed := h.(*sip.ExpiresHeader); !typed {
				val := strings.TrimSpace(h.Value())
				if _, ok := digits(val, 1<<32); !ok {
					return badRequest(ErrExpires, "Expires: "+quote(val)+" is not a number")
				}
			}
		}
	}
	for _, k := range singleValued {
		if s.count[k] > 1 {
			return badRequest(ErrDuplicateHeader, hdrNames[k]+": appears "+strconv.Itoa(s.count[k])+" times")
		}
	}
	for _, k := range [...]hdr{hCallID, hCSeq, hFrom, hTo, hVia} {
		if s.count[k] == 0 {
			return badRequest(ErrMissingHeader, hdrNames[k]+": missing")
		}
	}
	return nil
}

// via notes whether this Via value carries a branch and rejects a branch
// that is the bare magic cookie (RFC 4475 §3.2.1 badbranch).
func (s *scan) via(h sip.Header) *Error {
	v, ok := h.(*sip.ViaHeader)
	if !ok {
		// Built with sip.NewHeader or left unparsed by a custom parser.
		if containsFold(h.Value(), "branch=") {
			s.branch = true
		}
		return nil
	}
	b, ok := param(v.Params, "branch")
	if !ok || b == "" {
		return nil
	}
	if b == magicCookie {
		return badRequest(ErrVia, "Via: branch "+quote(b)+" is the magic cookie with no transaction id")
	}
	s.branch = true
	return nil
}

// common runs the checks shared by requests and responses on the parsed
// mandatory headers; collect must have succeeded.
func common(m sip.Message, body []byte, s *scan) *Error {
	cid := m.CallID()
	if cid == nil {
		return badRequest(ErrCallID, "Call-ID: cannot be parsed")
	}
	if v := strings.TrimSpace(string(*cid)); v == "" || strings.ContainsAny(v, " \t") {
		return badRequest(ErrCallID, "Call-ID: "+quote(string(*cid))+" is empty or contains whitespace")
	}
	cseq := m.CSeq()
	if cseq == nil {
		return badRequest(ErrCSeq, "CSeq: cannot be parsed")
	}
	if cseq.SeqNo > maxCSeq {
		return badRequest(ErrCSeq, "CSeq: "+strconv.FormatUint(uint64(cseq.SeqNo), 10)+" exceeds 2**31-1")
	}
	if meth := strings.TrimSpace(string(cseq.MethodName)); !isToken(meth) {
		return badRequest(ErrCSeq, "CSeq: method "+quote(meth)+" is not a token")
	}
	from := m.From()
	if from == nil {
		return badRequest(ErrAddress, "From: cannot be parsed")
	}
	if e := checkAddress("From", &from.Address); e != nil {
		return e
	}
	to := m.To()
	if to == nil {
		return badRequest(ErrAddress, "To: cannot be parsed")
	}
	if e := checkAddress("To", &to.Address); e != nil {
		return e
	}
	top := m.Via()
	if top == nil {
		return badRequest(ErrVia, "Via: cannot be parsed")
	}
	if !strings.EqualFold(strings.TrimSpace(top.ProtocolName), "SIP") || strings.TrimSpace(top.ProtocolVersion) != "2.0" {
		return badRequest(ErrVia, "Via: protocol "+quote(top.ProtocolName+"/"+top.ProtocolVersion)+" is not SIP/2.0")
	}
	if t := strings.TrimSpace(top.Transport); !isToken(t) {
		return badRequest(ErrVia, "Via: transport "+quote(top.Transport)+" is not a token")
	}
	if host := strings.TrimSpace(top.Host); host == "" || strings.ContainsAny(host, " \t") {
		return badRequest(ErrVia, "Via: sent-by host "+quote(top.Host)+" is invalid")
	}
	if s.clen >= 0 && s.clen != len(body) {
		return badRequest(ErrContentLength, "Content-Length: "+strconv.Itoa(s.clen)+
			" but the body has "+strconv.Itoa(len(body))+" bytes")
	}
	return nil
}

// checkAddress requires a usable From/To URI. Any scheme is accepted
// (RFC 4475 unksm2: proxies forward unknown schemes in From/To).
func checkAddress(name string, u *sip.Uri) *Error {
	if !isScheme(u.Scheme) {
		return badRequest(ErrAddress, name+": URI scheme "+quote(u.Scheme)+" is invalid")
	}
	if isSIPScheme(u.Scheme) {
		if u.Wildcard || strings.TrimSpace(u.Host) == "" {
			return badRequest(ErrAddress, name+": URI has no host")
		}
		return nil
	}
	if strings.TrimSpace(u.Raw()) == "" {
		return badRequest(ErrAddress, name+": "+u.Scheme+" URI is empty")
	}
	return nil
}
