package auth

import (
	"errors"
	"strings"
)

// credentials are the parameters of a Digest Authorization/Proxy-Authorization value. Values are unquoted
// and unescaped; they may share memory with the header string.
type credentials struct {
	username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc, userhash string
	seen                                                                                uint16
}

// Bits of credentials.seen.
const (
	pUsername uint16 = 1 << iota
	pRealm
	pNonce
	pURI
	pResponse
	pAlgorithm
	pCnonce
	pOpaque
	pQop
	pNC
	pUserhash
)

var (
	errNotDigest = errors.New("scheme is not Digest")
	errSyntax    = errors.New("syntax error")
	errDuplicate = errors.New("duplicate parameter")
	errControl   = errors.New("control character")
)

// field maps a parameter name (any case) to its slot and bit; nil for parameters we ignore.
func (c *credentials) field(name string) (*string, uint16) {
	switch {
	case strings.EqualFold(name, "username"):
		return &c.username, pUsername
	case strings.EqualFold(name, "realm"):
		return &c.realm, pRealm
	case strings.EqualFold(name, "nonce"):
		return &c.nonce, pNonce
	case strings.EqualFold(name, "uri"):
		return &c.uri, pURI
	case strings.EqualFold(name, "response"):
		return &c.response, pResponse
	case strings.EqualFold(name, "algorithm"):
		return &c.algorithm, pAlgorithm
	case strings.EqualFold(name, "cnonce"):
		return &c.cnonce, pCnonce
	case strings.EqualFold(name, "opaque"):
		return &c.opaque, pOpaque
	case strings.EqualFold(name, "qop"):
		return &c.qop, pQop
	case strings.EqualFold(name, "nc"):
		return &c.nc, pNC
	case strings.EqualFold(name, "userhash"):
		return &c.userhash, pUserhash
	}
	return nil, 0
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

func isCtl(b byte) bool { return (b < 0x20 && !isSpace(b)) || b == 0x7f }

// tchars marks the bytes that may appear in a token (RFC 3261 token, a superset of RFC 7230 tchar).
var tchars = func() (t [256]bool) {
	for _, b := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~#$&^|") {
		t[b] = true
	}
	return t
}()

func isTchar(b byte) bool { return tchars[b] }

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// parseCredentials parses `Digest k=v, k="v", ...`. Parameter names are case-insensitive and may come in any
// order; values may be tokens or quoted strings with backslash escapes. Unknown parameters are checked for
// syntax and ignored. A known parameter given twice is an error (RFC 7616 §3.4).
func parseCredentials(s string) (credentials, error) {
	var c credentials
	i := skipSpace(s, 0)
	start := i
	for i < len(s) && isTchar(s[i]) {
		i++
	}
	if !strings.EqualFold(s[start:i], "Digest") {
		return c, errNotDigest
	}
	if i < len(s) && !isSpace(s[i]) {
		return c, errNotDigest
	}
	for {
		// Skip empty list elements: "a=1, , b=2" is allowed by the #rule.
		for {
			i = skipSpace(s, i)
			if i < len(s) && s[i] == ',' {
				i++
				continue
			}
			break
		}
		if i >= len(s) {
			break
		}
		ns := i
		for i < len(s) && isTchar(s[i]) {
			i++
		}
		if i == ns {
			return c, errSyntax
		}
		name := s[ns:i]
		i = skipSpace(s, i)
		if i >= len(s) || s[i] != '=' {
			return c, errSyntax
		}
		i = skipSpace(s, i+1)
		var val string
		var err error
		val, i, err = parseValue(s, i)
		if err != nil {
			return c, err
		}
		i = skipSpace(s, i)
		if i < len(s) && s[i] != ',' {
			return c, errSyntax
		}
		if slot, bit := c.field(name); slot != nil {
			if c.seen&bit != 0 {
				return c, errDuplicate
			}
			c.seen |= bit
			*slot = val
		}
	}
	return c, nil
}

// parseValue reads a quoted string or a token starting at s[i] and returns it with the index after it.
func parseValue(s string, i int) (string, int, error) {
	if i >= len(s) {
		return "", i, errSyntax
	}
	if s[i] != '"' {
		// Token. Be lenient about the characters (some UAs send uri=sip:x@y unquoted) but stop at LWS, ','
		// and reject quotes and control characters.
		start := i
		for i < len(s) && !isSpace(s[i]) && s[i] != ',' {
			if s[i] == '"' || s[i] == '\\' || isCtl(s[i]) {
				return "", i, errSyntax
			}
			i++
		}
		if i == start {
			return "", i, errSyntax
		}
		return s[start:i], i, nil
	}
	i++
	start := i
	for i < len(s) {
		switch b := s[i]; {
		case b == '"':
			return s[start:i], i + 1, nil
		case b == '\\':
			return unescapeQuoted(s, start)
		case isCtl(b):
			return "", i, errControl
		}
		i++
	}
	return "", i, errSyntax // unterminated
}

// unescapeQuoted decodes a quoted string whose content starts at s[start] and contains a backslash.
func unescapeQuoted(s string, start int) (string, int, error) {
	var b strings.Builder
	for i := start; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"':
			return b.String(), i + 1, nil
		case ch == '\\':
			i++
			if i >= len(s) || (isCtl(s[i]) && s[i] != '\t') || s[i] == '\r' || s[i] == '\n' {
				return "", i, errSyntax
			}
			b.WriteByte(s[i])
		case isCtl(ch):
			return "", i, errControl
		default:
			b.WriteByte(ch)
		}
	}
	return "", len(s), errSyntax
}

// quote formats s as a quoted string, escaping '"' and '\'.
func quote(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return `"` + s + `"`
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
