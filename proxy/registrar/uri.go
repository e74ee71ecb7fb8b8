package registrar

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// SameURI reports whether two contact URIs are equivalent under RFC 3261 §19.1.4, as far as the registrar
// needs: scheme, host and parameters compare case-insensitively, user and password case-sensitively, the port
// must be equal (an omitted port does not match an explicit 5060), a user, ttl, method or maddr parameter present
// in only one URI prevents a match while other one-sided parameters are ignored, and URI headers must be the
// same set. URIs sipgo cannot parse, and non-SIP URIs, are compared as strings (scheme case-insensitively).
// Percent-escapes are not decoded.
func SameURI(a, b string) bool {
	if a == b {
		return true
	}
	var ua, ub sip.Uri
	if sip.ParseUri(a, &ua) != nil || sip.ParseUri(b, &ub) != nil {
		return false
	}
	if ua.Wildcard || ub.Wildcard {
		return false
	}
	if ua.Scheme != ub.Scheme {
		return false
	}
	if ua.Scheme != "sip" && ua.Scheme != "sips" {
		return ua.Raw() == ub.Raw()
	}
	if ua.User != ub.User || ua.Password != ub.Password || !strings.EqualFold(ua.Host, ub.Host) || ua.Port != ub.Port {
		return false
	}
	return sameParams(ua.UriParams, ub.UriParams) && sameHeaders(ua.Headers, ub.Headers)
}

// mustMatch are the URI parameters that prevent a match when present in only one URI.
var mustMatch = map[string]bool{"user": true, "ttl": true, "method": true, "maddr": true}

func sameParams(a, b sip.HeaderParams) bool {
	for _, kv := range a {
		v, ok := getFold(b, kv.K)
		if !ok {
			if mustMatch[strings.ToLower(kv.K)] {
				return false
			}
			continue
		}
		if !strings.EqualFold(v, kv.V) {
			return false
		}
	}
	for _, kv := range b {
		if _, ok := getFold(a, kv.K); !ok && mustMatch[strings.ToLower(kv.K)] {
			return false
		}
	}
	return true
}

func sameHeaders(a, b sip.HeaderParams) bool {
	if len(a) != len(b) {
		return false
	}
	for _, kv := range a {
		v, ok := getFold(b, kv.K)
		if !ok || v != kv.V {
			return false
		}
	}
	return true
}

// getFold is HeaderParams.Get with a case-insensitive name.
func getFold(hp sip.HeaderParams, key string) (string, bool) {
	for _, kv := range hp {
		if strings.EqualFold(kv.K, key) {
			return kv.V, true
		}
	}
	return "", false
}
