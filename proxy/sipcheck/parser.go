package sipcheck

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// HeaderParsers returns a fresh copy of sipgo's default header parser map in
// which From, To and Contact (and their compact forms f, t, m) first check
// the raw header text for two faults that are lost once sipgo has parsed it:
//
//   - an unquoted display name with characters other than tokens and LWS
//     (RFC 4475 §3.1.2.15 baddn, `From: Bell, Alexander <sip:...>`), which
//     sipgo stores exactly like the quoted form; ErrDisplayName;
//   - an addr-spec (URI not in <>) containing '?' (escaped headers), or ','
//     in From/To (RFC 4475 §3.1.2.13 regbadct, RFC 3261 §20.10), or text
//     other than ;parameters after <URI>; ErrAddrSpec.
//
// Bytes >= 0x80 are tolerated in unquoted display names (UTF-8 names from
// phones); they cannot be confused with SIP separators.
//
// A fault makes the parser return a *Error (Status 400), so
// errors.As(err, &e) works on the parse error.
func HeaderParsers() sip.HeadersParser {
	def := sip.DefaultHeadersParser()
	m := make(sip.HeadersParser, len(def))
	for k, v := range def {
		m[k] = v
	}
	for n, canonical := range map[string]string{"from": "From", "f": "From", "to": "To", "t": "To",
		"contact": "Contact", "m": "Contact"} {
		if p := def[n]; p != nil {
			m[n] = strictAddress(p, canonical, canonical == "Contact")
		}
	}
	return m
}

// NewParser returns a sipgo parser using HeaderParsers; opts are applied
// after it (for example a MaxMessageLength). Install it with
// sipgo.WithUserAgentParser so the checks run on every received message.
// Over UDP sipgo drops a message that fails to parse; over TCP/TLS it closes
// the connection.
func NewParser(opts ...sip.ParserOption) *sip.Parser {
	all := make([]sip.ParserOption, 0, len(opts)+1)
	all = append(all, sip.WithHeadersParsers(HeaderParsers()))
	return sip.NewParser(append(all, opts...)...)
}

func strictAddress(next sip.HeaderParser, name string, contact bool) sip.HeaderParser {
	return func(raw []byte, text string) (sip.Header, error) {
		if e := checkNameAddr(name, text, contact); e != nil {
			return nil, e
		}
		return next(raw, text)
	}
}

// checkNameAddr inspects the first value of a From/To/Contact header in its
// raw form. It mirrors sipgo's choice between name-addr and addr-spec: the
// first of '"', '<' or ';' (and ',' for Contact, whose values sipgo splits
// at commas) decides.
func checkNameAddr(name, v string, contact bool) *Error {
	v = strings.TrimLeft(v, " \t")
	if v == "" || contact && v[0] == '*' {
		return nil // sipgo reports empty values itself; '*' is a Contact wildcard
	}
	if v[0] == '"' {
		lt, e := afterQuoted(name, v)
		if e != nil || lt < 0 {
			return e
		}
		return afterURI(name, v[lt+1:], contact)
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '<':
			if e := displayName(name, v[:i]); e != nil {
				return e
			}
			return afterURI(name, v[i+1:], contact)
		case c == '"':
			return badRequest(ErrDisplayName, name+": text "+quote(v[:i])+" before a quoted display name")
		case c == ';', contact && c == ',':
			return addrSpec(name, v[:i], contact)
		}
	}
	return addrSpec(name, v, contact)
}

// afterQuoted returns the index of the "<" that must follow (after optional
// LWS) the quoted display name opening v; sipgo ignores anything in between.
// It returns -1 when the quote is unterminated, which sipgo rejects itself
// (RFC 4475 quotbal).
func afterQuoted(name, v string) (int, *Error) {
	esc := false
	for i := 1; i < len(v); i++ {
		switch {
		case esc:
			esc = false
		case v[i] == '\\':
			esc = true
		case v[i] == '"':
			j := i + 1
			for j < len(v) && (v[j] == ' ' || v[j] == '\t') {
				j++
			}
			if j >= len(v) || v[j] != '<' {
				return -1, badRequest(ErrDisplayName, name+": "+quote(v[i+1:])+" follows the quoted display name instead of <URI>")
			}
			return j, nil
		}
	}
	return -1, nil
}

// afterURI requires that only parameters (or, in Contact, the next value)
// follow the ">" closing the URI; sipgo would read `<sip:a@b>tag=1` as
// having a tag. s starts after the "<".
func afterURI(name, s string, contact bool) *Error {
	gt := strings.IndexByte(s, '>')
	if gt < 0 {
		return nil // sipgo rejects a missing ">"
	}
	rest := strings.TrimLeft(s[gt+1:], " \t")
	if rest == "" || rest[0] == ';' || contact && rest[0] == ',' {
		return nil
	}
	return badRequest(ErrAddrSpec, name+": "+quote(rest)+" follows <URI> instead of ;parameters")
}

// displayName checks display-name = *(token LWS) for the unquoted form.
func displayName(name, dn string) *Error {
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		if tokenChars[c] || c == ' ' || c == '\t' || c >= 0x80 {
			continue
		}
		return badRequest(ErrDisplayName, name+": unquoted display name "+quote(strings.TrimSpace(dn))+" has non-token character "+quote(string(c)))
	}
	return nil
}

// addrSpec rejects a URI outside <> that holds '?' (or ',' in From/To).
func addrSpec(name, uri string, contact bool) *Error {
	for i := 0; i < len(uri); i++ {
		if uri[i] == '?' || !contact && uri[i] == ',' {
			return badRequest(ErrAddrSpec, name+": URI "+quote(uri)+" must be enclosed in <>")
		}
	}
	return nil
}
