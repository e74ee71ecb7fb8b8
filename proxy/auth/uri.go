package auth

import (
	"slices"
	"strings"
)

// sameURI reports whether the digest uri parameter names the Request-URI. An exact match is the normal case;
// otherwise the URIs must agree on scheme and host:port (case-insensitively), on the user part and the
// ?headers part (exactly), and on the set of ;parameters (names case-insensitive, values case-insensitive,
// order ignored). The tolerance covers proxies and parsers that re-serialise the Request-URI, without
// letting credentials for one resource be used on another.
func sameURI(a, b string) bool {
	if a == b {
		return true
	}
	as, arest, ok1 := strings.Cut(a, ":")
	bs, brest, ok2 := strings.Cut(b, ":")
	if !ok1 || !ok2 || !strings.EqualFold(as, bs) {
		return false
	}
	arest, ahdr, _ := strings.Cut(arest, "?")
	brest, bhdr, _ := strings.Cut(brest, "?")
	if ahdr != bhdr {
		return false
	}
	aaddr, aparams, _ := strings.Cut(arest, ";")
	baddr, bparams, _ := strings.Cut(brest, ";")
	auser, ahost := splitUserHost(aaddr)
	buser, bhost := splitUserHost(baddr)
	if auser != buser || !strings.EqualFold(ahost, bhost) {
		return false
	}
	return sameParams(aparams, bparams)
}

// splitUserHost splits "user@host:port" at the last '@' (a user part may contain escaped or odd characters).
func splitUserHost(s string) (user, host string) {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return "", s
}

func sameParams(a, b string) bool {
	if a == b {
		return true
	}
	pa, pb := normParams(a), normParams(b)
	return slices.Equal(pa, pb)
}

func normParams(s string) []string {
	if s == "" {
		return nil
	}
	ps := strings.Split(strings.ToLower(s), ";")
	ps = slices.DeleteFunc(ps, func(p string) bool { return p == "" })
	slices.Sort(ps)
	return ps
}
