package registrar

import (
	"math"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// maxDelta is the largest delta-seconds value; larger ones are treated as this (RFC 3261 §20.19).
const maxDelta = math.MaxUint32

// ParseUpdate reads a REGISTER into the address-of-record (the To URI's user part) and an Update for Apply.
// flowID is the opaque id of the connection the request came on.
//
// Contacts come from every Contact (or compact "m") header in order. sipgo's parser already splits a received
// "Contact: <a>, <b>" line into one *sip.ContactHeader per value; a header added programmatically with
// sip.NewHeader is a generic header whose value may still hold several comma-separated contacts, so it is
// split with sipgo's own header parser. Errors wrap ErrBadRequest and name the field: a missing To user,
// Call-ID or CSeq, a method other than REGISTER, a malformed Contact, a bad expires, q, reg-id or +sip.instance
// parameter, a reg-id without +sip.instance, or a bad Expires header. The wildcard rule is Apply's.
func ParseUpdate(req *sip.Request, flowID string) (aor string, u Update, err error) {
	if req == nil {
		return "", Update{}, badRequest("nil request")
	}
	if req.Method != sip.REGISTER {
		return "", Update{}, badRequest("method %s is not REGISTER", req.Method)
	}
	to := req.To()
	if to == nil {
		return "", Update{}, badRequest("missing To header")
	}
	if to.Address.User == "" {
		return "", Update{}, badRequest("To URI %q has no user part", to.Address.String())
	}
	callID := req.CallID()
	if callID == nil || strings.TrimSpace(callID.Value()) == "" {
		return "", Update{}, badRequest("missing Call-ID header")
	}
	cseq := req.CSeq()
	if cseq == nil {
		return "", Update{}, badRequest("missing CSeq header")
	}
	if cseq.MethodName != sip.REGISTER {
		return "", Update{}, badRequest("CSeq method %s is not REGISTER", cseq.MethodName)
	}
	u = Update{Expires: -1, CallID: strings.TrimSpace(callID.Value()), CSeq: cseq.SeqNo, FlowID: flowID}
	if h := req.GetHeader("Expires"); h != nil {
		if u.Expires, err = parseDelta("Expires header", h.Value()); err != nil {
			return "", Update{}, err
		}
	}
	for _, h := range req.Headers() {
		name := strings.ToLower(h.Name())
		if name != "contact" && name != "m" {
			continue
		}
		values, err := contactValues(h)
		if err != nil {
			return "", Update{}, err
		}
		for _, ch := range values {
			if ch.Address.Wildcard {
				u.Wildcard = true
				continue
			}
			c, err := contactUpdate(ch)
			if err != nil {
				return "", Update{}, err
			}
			u.Contacts = append(u.Contacts, c)
		}
	}
	return to.Address.User, u, nil
}

// contactValues returns the contacts of one Contact header, splitting a generic header's comma list.
func contactValues(h sip.Header) ([]*sip.ContactHeader, error) {
	if ch, ok := h.(*sip.ContactHeader); ok {
		return []*sip.ContactHeader{ch}, nil
	}
	value := strings.TrimSpace(h.Value())
	parsed, err := sip.HeadersParser(sip.DefaultHeadersParser()).ParseHeader(nil, []byte("Contact: "+value))
	if err != nil {
		return nil, badRequest("Contact %q: %v", value, err)
	}
	out := make([]*sip.ContactHeader, 0, len(parsed))
	for _, p := range parsed {
		ch, ok := p.(*sip.ContactHeader)
		if !ok {
			return nil, badRequest("Contact %q: not a contact", value)
		}
		out = append(out, ch)
	}
	return out, nil
}

// contactUpdate reads one contact's URI and its expires, q, +sip.instance and reg-id parameters.
func contactUpdate(ch *sip.ContactHeader) (ContactUpdate, error) {
	c := ContactUpdate{URI: ch.Address.String(), Expires: -1, Q: -1}
	var err error
	if v, ok := getFold(ch.Params, "expires"); ok {
		if c.Expires, err = parseDelta("contact "+strconv.Quote(c.URI)+" expires parameter", v); err != nil {
			return c, err
		}
	}
	if v, ok := getFold(ch.Params, "q"); ok {
		var ok bool
		if c.Q, ok = parseQ(v); !ok {
			return c, badRequest("contact %q: q parameter %q is not a qvalue in 0..1 with at most 3 decimals", c.URI, v)
		}
	}
	if v, ok := getFold(ch.Params, "+sip.instance"); ok {
		c.Instance = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), `"`), `"`)
		c.Instance = strings.TrimSuffix(strings.TrimPrefix(c.Instance, "<"), ">")
		if c.Instance == "" {
			return c, badRequest("contact %q: empty +sip.instance parameter", c.URI)
		}
	}
	if v, ok := getFold(ch.Params, "reg-id"); ok {
		n, perr := strconv.ParseUint(v, 10, 31)
		if perr != nil || n == 0 || !allDigits(v) {
			return c, badRequest("contact %q: reg-id %q is not an integer in 1..2147483647", c.URI, v)
		}
		if c.Instance == "" {
			return c, badRequest("contact %q: reg-id without +sip.instance", c.URI)
		}
		c.RegID = int(n)
	}
	return c, nil
}

// parseDelta parses delta-seconds (1*DIGIT), treating values above 2^32-1 as 2^32-1.
func parseDelta(field, v string) (int64, error) {
	v = strings.TrimSpace(v)
	if !allDigits(v) {
		return 0, badRequest("%s %q is not a non-negative integer", field, v)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > maxDelta {
		return maxDelta, nil // only a range error is possible for 1*DIGIT
	}
	return int64(n), nil
}

// parseQ parses a qvalue: "0" ["." 0*3DIGIT] or "1" ["." 0*3("0")] (RFC 3261 §25.1).
func parseQ(v string) (float64, bool) {
	intPart, frac, hasDot := strings.Cut(v, ".")
	ok := (intPart == "0" || intPart == "1") && len(frac) <= 3 && (frac == "" || allDigits(frac))
	if intPart == "1" && strings.Trim(frac, "0") != "" {
		ok = false
	}
	if !ok {
		return 0, false
	}
	if !hasDot || frac == "" {
		return float64(intPart[0] - '0'), true
	}
	q, err := strconv.ParseFloat(v, 64)
	return q, err == nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
