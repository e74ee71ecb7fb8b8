package media

import (
	"strings"

	"github.com/pion/srtp/v3"
)

// Suite is an SRTP crypto suite name as it appears in an SDP a=crypto line.
type Suite string

// The crypto suites this package implements.
const (
	// SuiteAES80 is AES-128 counter mode with an 80-bit HMAC-SHA1 tag (RFC 4568, RFC 3711).
	SuiteAES80 Suite = "AES_CM_128_HMAC_SHA1_80"
	// SuiteAES32 is AES-128 counter mode with a 32-bit HMAC-SHA1 tag on SRTP (SRTCP keeps
	// 80 bits).
	SuiteAES32 Suite = "AES_CM_128_HMAC_SHA1_32"
	// SuiteGCM128 is AES-128 in Galois/counter mode with a 128-bit tag (RFC 7714).
	SuiteGCM128 Suite = "AEAD_AES_128_GCM"
)

// supportedSuites is the preference order (see SupportedSuites).
var supportedSuites = [...]Suite{SuiteGCM128, SuiteAES80, SuiteAES32}

// SupportedSuites returns the implemented suites in our order of preference:
// AEAD_AES_128_GCM, AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32.
//
// GCM comes first because it authenticates with a 128-bit tag and is the fastest of the
// three on CPUs with AES and carry-less multiply instructions; _80 comes before _32
// because its 80-bit tag is the stronger one (RFC 4568 makes _80 the default).
// Peers that only know AES_CM (baresip, many desk phones) simply never offer or pick GCM.
// The returned slice is a fresh copy.
func SupportedSuites() []Suite {
	out := make([]Suite, len(supportedSuites))
	copy(out, supportedSuites[:])

	return out
}

// parseSuite maps a suite token to a known Suite. RFC 4568 registers the names in upper
// case; ABNF literals are case-insensitive, so any case is accepted.
func parseSuite(s string) (Suite, bool) {
	for _, k := range supportedSuites {
		if strings.EqualFold(s, string(k)) {
			return k, true
		}
	}

	return "", false
}

// Supported reports whether s is one of the suites this package implements (exact,
// canonical spelling; ParseCrypto canonicalises what it reads).
func (s Suite) Supported() bool {
	for _, k := range supportedSuites {
		if s == k {
			return true
		}
	}

	return false
}

// KeyLen is the master key length in bytes (0 for an unknown suite).
func (s Suite) KeyLen() int {
	switch s {
	case SuiteAES80, SuiteAES32, SuiteGCM128:
		return 16
	}

	return 0
}

// SaltLen is the master salt length in bytes: 14 for AES_CM, 12 for GCM (RFC 7714 §12),
// 0 for an unknown suite.
func (s Suite) SaltLen() int {
	switch s {
	case SuiteAES80, SuiteAES32:
		return 14
	case SuiteGCM128:
		return 12
	}

	return 0
}

// RTPOverhead is the number of bytes SRTP adds to an RTP packet (authentication tag;
// plus the MKI length if one is used).
func (s Suite) RTPOverhead() int {
	switch s {
	case SuiteAES80:
		return 10
	case SuiteAES32:
		return 4
	case SuiteGCM128:
		return 16
	}

	return 0
}

// RTCPOverhead is the number of bytes SRTCP adds to an RTCP packet: the 4-byte E flag and
// SRTCP index plus the tag (plus the MKI length if one is used).
func (s Suite) RTCPOverhead() int {
	switch s {
	case SuiteAES80, SuiteAES32:
		return 4 + 10
	case SuiteGCM128:
		return 4 + 16
	}

	return 0
}

// profile maps the suite to pion's protection profile.
func (s Suite) profile() (srtp.ProtectionProfile, bool) {
	switch s {
	case SuiteAES80:
		return srtp.ProtectionProfileAes128CmHmacSha1_80, true
	case SuiteAES32:
		return srtp.ProtectionProfileAes128CmHmacSha1_32, true
	case SuiteGCM128:
		return srtp.ProtectionProfileAeadAes128Gcm, true
	}

	return 0, false
}
