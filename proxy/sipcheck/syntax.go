package sipcheck

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// magicCookie is the RFC 3261 §8.1.1.7 branch prefix.
const magicCookie = "z9hG4bK"

// maxCSeq is the largest CSeq number allowed (RFC 3261 §8.1.1.5: < 2**31).
const maxCSeq = 1<<31 - 1

// tokenChars marks the bytes allowed in an RFC 3261 token:
// alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
var tokenChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-.!%*_+`'~" {
		t[c] = true
	}
	return t
}()

// isToken reports whether s is a non-empty RFC 3261 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChars[s[i]] {
			return false
		}
	}
	return true
}

// isScheme reports whether s matches RFC 3986 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func isScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (s[i] >= '0' && s[i] <= '9' || s[i] == '+' || s[i] == '-' || s[i] == '.'):
		default:
			return false
		}
	}
	return true
}

// isCTL reports an RFC 2234 CTL other than HTAB (which is LWS).
func isCTL(c byte) bool { return c < 0x20 && c != '\t' || c == 0x7f }

// ctlAt returns the index of the first control character in s that is not
// the second half of a quoted-pair inside a quoted-string, or -1. quoted says
// s starts inside a quoted-string (a display name whose quotes sipgo strips).
// CR and LF are never allowed, not even escaped (RFC 3261 §25.1 quoted-pair).
func ctlAt(s string, quoted bool) int {
	esc := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if esc {
			esc = false
			if c == '\r' || c == '\n' {
				return i
			}
			continue
		}
		switch {
		case c == '\\' && quoted:
			esc = true
		case c == '"':
			quoted = !quoted
		case isCTL(c):
			return i
		}
	}
	return -1
}

// digits parses a non-empty all-digit string, saturating at limit+1 so that
// huge values compare as "too big" instead of overflowing.
func digits(s string, limit uint64) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n <= limit {
			n = n*10 + uint64(c-'0')
		}
	}
	return n, true
}

// param finds a header parameter by name, tolerating the stray whitespace
// sipgo leaves around names and values when the message used LWS around
// ";" and "=" (RFC 4475 wsinv: "; tag = 98asjd8" is stored as "tag "/" 98asjd8").
func param(p sip.HeaderParams, name string) (string, bool) {
	for _, kv := range p {
		if kv.K == name {
			return strings.TrimSpace(kv.V), true
		}
	}
	for _, kv := range p {
		if strings.EqualFold(strings.TrimSpace(kv.K), name) {
			return strings.TrimSpace(strings.Trim(strings.TrimSpace(kv.V), `"`)), true
		}
	}
	return "", false
}

// paramsCTL returns the first parameter holding a control character.
func paramsCTL(p sip.HeaderParams) (string, bool) {
	for _, kv := range p {
		if ctlAt(kv.K, false) >= 0 || ctlAt(kv.V, false) >= 0 {
			return kv.K, true
		}
	}
	return "", false
}

// uriCTL reports whether any part of u holds a control character.
func uriCTL(u *sip.Uri) bool {
	if ctlAt(u.User, false) >= 0 || ctlAt(u.Password, false) >= 0 ||
		ctlAt(u.Host, false) >= 0 || ctlAt(u.Raw(), false) >= 0 || ctlAt(u.Scheme, false) >= 0 {
		return true
	}
	_, bad := paramsCTL(u.UriParams)
	if !bad {
		_, bad = paramsCTL(u.Headers)
	}
	return bad
}

// isSIPScheme reports sip or sips (sipgo lower-cases schemes).
func isSIPScheme(s string) bool { return strings.EqualFold(s, "sip") || strings.EqualFold(s, "sips") }

// quote renders peer input for Detail: quoted and cut to a log-friendly size.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// containsFold reports whether s contains sub (ASCII, case-insensitive).
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
