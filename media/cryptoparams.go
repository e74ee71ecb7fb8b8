package media

import (
	"strconv"
	"strings"
)

// checkParam checks the syntax of one session parameter and reports whether this
// package can honour it.
func checkParam(p string) (supported bool, err error) {
	for i := 0; i < len(p); i++ {
		if p[i] < 0x21 || p[i] > 0x7e {
			return false, malformed(ErrBadParam, "session parameter %q has a non-visible character", p)
		}
	}
	name, val, hasVal := strings.Cut(p, "=")
	switch {
	case strings.EqualFold(name, "UNENCRYPTED_SRTP"), strings.EqualFold(name, "UNENCRYPTED_SRTCP"),
		strings.EqualFold(name, "UNAUTHENTICATED_SRTP"):
		if hasVal {
			return false, malformed(ErrBadParam, "%s takes no value", name)
		}

		return false, nil
	case strings.EqualFold(name, "KDR"):
		if !allDigits(val) || len(val) > 2 {
			return false, malformed(ErrBadParam, "KDR %q is not a decimal number", val)
		}
		n, _ := strconv.Atoi(val)
		if n > 24 {
			return false, malformed(ErrBadParam, "KDR %d is outside 0..24", n)
		}

		return n == 0, nil // pion/srtp implements key derivation rate 0 only
	case strings.EqualFold(name, "FEC_ORDER"):
		if !strings.EqualFold(val, "FEC_SRTP") && !strings.EqualFold(val, "SRTP_FEC") {
			return false, malformed(ErrBadParam, "FEC_ORDER %q is neither FEC_SRTP nor SRTP_FEC", val)
		}

		return false, nil
	case strings.EqualFold(name, "FEC_KEY"):
		if val == "" {
			return false, malformed(ErrBadParam, "FEC_KEY has no key")
		}

		return false, nil
	case strings.EqualFold(name, "WSH"):
		if !allDigits(val) || len(val) < 2 || len(val) > 10 {
			return false, malformed(ErrBadParam, "WSH %q is not a decimal number of at least 2 digits", val)
		}
		n, _ := strconv.ParseUint(val, 10, 64)
		if n < minWSH || n > 1<<32-1 {
			return false, malformed(ErrBadParam, "WSH %d is outside %d..%d", n, minWSH, uint64(1<<32-1))
		}

		return true, nil
	case strings.HasPrefix(p, "-"):
		return true, nil // RFC 4568 §6.3.7: an extension starting with '-' may be ignored
	}

	return false, nil
}

// Param returns the value of session parameter name (case-insensitive) and whether it
// is present; a flag parameter such as UNENCRYPTED_SRTP has the value "".
func (c CryptoAttr) Param(name string) (string, bool) {
	for _, p := range c.Params {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(k, name) {
			return v, true
		}
	}

	return "", false
}

// WindowSizeHint returns the WSH session parameter (the replay window the sender of the
// line asks the receiver to use), or 0.
func (c CryptoAttr) WindowSizeHint() uint64 {
	v, ok := c.Param("WSH")
	if !ok {
		return 0
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0
	}

	return n
}
