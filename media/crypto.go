package media

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

const (
	maxTag         = 999999999 // tag = 1*9DIGIT
	maxLifetimeExp = 48        // SRTP keys protect at most 2^48 packets (RFC 3711 §9.2)
	maxLifetime    = uint64(1) << maxLifetimeExp
	maxMKILen      = 128 // mki-length = 1*3DIGIT, range 1..128
	minWSH         = 64  // RFC 4568 §6.3.7
)

// CryptoAttr is one SDP a=crypto line (RFC 4568 §9.2):
//
//	a=crypto:<tag> <suite> inline:<base64(key||salt)>[|<lifetime>][|<mki>:<length>] [<param>...]
//
// Only the SRTP key method "inline" with a single key is supported.
//
// String() contains the key material: log Redacted() instead.
type CryptoAttr struct {
	// Tag identifies the line within the media section (0..999999999); the answer
	// repeats the tag of the offered line it accepts.
	Tag int
	// Suite is the crypto suite, canonically spelled.
	Suite Suite
	// Key and Salt are the master key and master salt (Suite.KeyLen and Suite.SaltLen
	// bytes).
	Key, Salt []byte
	// Lifetime is the number of packets the key may protect; 0 when the line has none
	// (the suite's maximum, 2^48, applies). It is recorded, not enforced: the sender of
	// the line rekeys through a new offer.
	Lifetime uint64
	// MKI is the master key identifier carried in every packet, MKILen bytes
	// (big-endian encoding of the decimal value on the line); empty and 0 when unused.
	MKI    []byte
	MKILen int
	// Params are the session parameters as written (e.g. "WSH=128", "UNENCRYPTED_SRTCP").
	// ParseCrypto checks their syntax; Validate reports the ones this package will not
	// honour.
	Params []string
}

// NewCryptoAttr returns a crypto line for suite s with the given tag and a fresh random
// master key and salt from crypto/rand.
func NewCryptoAttr(tag int, s Suite) (CryptoAttr, error) {
	if tag < 0 || tag > maxTag {
		return CryptoAttr{}, fmt.Errorf("%w: %d is outside 0..%d", ErrBadTag, tag, maxTag)
	}
	if !s.Supported() {
		return CryptoAttr{}, fmt.Errorf("%w: %q", ErrUnknownSuite, string(s))
	}
	buf := make([]byte, s.KeyLen()+s.SaltLen())
	if _, err := rand.Read(buf); err != nil {
		return CryptoAttr{}, fmt.Errorf("media: reading random key: %w", err)
	}

	return CryptoAttr{
		Tag:   tag,
		Suite: s,
		Key:   buf[:s.KeyLen():s.KeyLen()],
		Salt:  buf[s.KeyLen():],
	}, nil
}

// ParseCrypto parses the value of an a=crypto attribute (the text after "a=crypto:").
// Every malformed line gets an error that wraps ErrMalformedCrypto and a more specific
// sentinel (ErrBadTag, ErrBadKey, ErrBadLifetime, ErrBadMKI, ErrBadParam) and names the
// problem. A well-formed line with a suite this package does not implement returns an
// error wrapping ErrUnknownSuite only, so that callers can skip such lines of an offer.
// Session parameters are recorded in Params; use Validate to learn whether they can be
// honoured.
func ParseCrypto(value string) (CryptoAttr, error) {
	var c CryptoAttr
	fields := strings.FieldsFunc(value, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' })
	if len(fields) < 3 {
		return c, malformed(nil, "want \"<tag> <suite> inline:<key>\", got %d field(s)", len(fields))
	}

	tag, err := parseTag(fields[0])
	if err != nil {
		return c, err
	}
	c.Tag = tag

	suite, ok := parseSuite(fields[1])
	if !ok {
		if !isSuiteToken(fields[1]) {
			return c, malformed(nil, "crypto suite %q has characters other than letters, digits and '_'", fields[1])
		}

		return c, fmt.Errorf("%w: %q", ErrUnknownSuite, fields[1])
	}
	c.Suite = suite

	if err := c.parseKeyParams(fields[2]); err != nil {
		return CryptoAttr{}, err
	}

	for _, p := range fields[3:] {
		if _, err := checkParam(p); err != nil {
			return CryptoAttr{}, err
		}
		c.Params = append(c.Params, p)
	}

	return c, nil
}

// malformed builds an error wrapping ErrMalformedCrypto and, if non-nil, kind.
func malformed(kind error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if kind == nil {
		return fmt.Errorf("%w: %s", ErrMalformedCrypto, msg)
	}

	return fmt.Errorf("%w: %w: %s", ErrMalformedCrypto, kind, msg)
}

func parseTag(s string) (int, error) {
	if len(s) == 0 || len(s) > 9 || !allDigits(s) {
		return 0, malformed(ErrBadTag, "tag %q is not 1 to 9 decimal digits", s)
	}
	n, _ := strconv.Atoi(s) // cannot fail: at most 9 digits

	return n, nil
}

func isSuiteToken(s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_') {
			return false
		}
	}

	return s != ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}

	return s != ""
}

// parseKeyParams parses "inline:<key||salt>[|lifetime][|mki:len]".
func (c *CryptoAttr) parseKeyParams(kp string) error {
	if n := strings.Count(kp, ";") + 1; n > 1 {
		return malformed(ErrBadKey, "%d keys in one line are not supported (only a single inline key)", n)
	}
	method, info, ok := strings.Cut(kp, ":")
	if !ok {
		return malformed(ErrBadKey, "key parameter has no \"inline:\" key method")
	}
	if !strings.EqualFold(method, "inline") {
		if len(method) > 16 {
			method = method[:16] + "..."
		}

		return malformed(ErrBadKey, "key method %q is not \"inline\"", method)
	}
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return malformed(ErrBadKey, "key parameter has %d '|'-separated parts, at most 3 allowed", len(parts))
	}
	if err := c.decodeKey(parts[0]); err != nil {
		return err
	}
	seenMKI := false
	for _, p := range parts[1:] {
		switch {
		case strings.Contains(p, ":"):
			if seenMKI {
				return malformed(ErrBadMKI, "more than one MKI")
			}
			seenMKI = true
			mki, n, err := parseMKI(p)
			if err != nil {
				return err
			}
			c.MKI, c.MKILen = mki, n
		case seenMKI:
			return malformed(ErrBadLifetime, "lifetime %q after the MKI", p)
		case c.Lifetime != 0:
			return malformed(ErrBadLifetime, "more than one lifetime")
		default:
			lt, err := parseLifetime(p)
			if err != nil {
				return err
			}
			c.Lifetime = lt
		}
	}

	return nil
}

func (c *CryptoAttr) decodeKey(b64 string) error {
	if b64 == "" {
		return malformed(ErrBadKey, "empty inline key")
	}
	enc := base64.StdEncoding
	if len(b64)%4 != 0 {
		enc = base64.RawStdEncoding // tolerate peers that omit the '=' padding
	}
	raw, err := enc.DecodeString(b64)
	if err != nil {
		return malformed(ErrBadKey, "inline key is not valid base64: %v", err)
	}
	kl, sl := c.Suite.KeyLen(), c.Suite.SaltLen()
	if len(raw) != kl+sl {
		return malformed(ErrBadKey, "inline key||salt is %d bytes, %s needs %d (%d-byte key, %d-byte salt)",
			len(raw), c.Suite, kl+sl, kl, sl)
	}
	c.Key, c.Salt = raw[:kl:kl], raw[kl:]

	return nil
}

func parseLifetime(s string) (uint64, error) {
	if exp, ok := strings.CutPrefix(s, "2^"); ok {
		if !allDigits(exp) || len(exp) > 2 {
			return 0, malformed(ErrBadLifetime, "lifetime %q: exponent is not 1 or 2 decimal digits", s)
		}
		n, _ := strconv.Atoi(exp)
		if n > maxLifetimeExp {
			return 0, malformed(ErrBadLifetime, "lifetime %q exceeds 2^%d packets", s, maxLifetimeExp)
		}

		return uint64(1) << n, nil
	}
	if !allDigits(s) {
		return 0, malformed(ErrBadLifetime, "lifetime %q is neither 2^n nor a decimal number", s)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > maxLifetime {
		return 0, malformed(ErrBadLifetime, "lifetime %q exceeds 2^%d packets", s, maxLifetimeExp)
	}
	if v == 0 {
		return 0, malformed(ErrBadLifetime, "lifetime is 0")
	}

	return v, nil
}

func parseMKI(s string) ([]byte, int, error) {
	val, ln, _ := strings.Cut(s, ":")
	if !allDigits(val) {
		return nil, 0, malformed(ErrBadMKI, "MKI value %q is not a decimal number", val)
	}
	if !allDigits(ln) || len(ln) > 3 {
		return nil, 0, malformed(ErrBadMKI, "MKI length %q is not 1 to 3 decimal digits", ln)
	}
	n, _ := strconv.Atoi(ln)
	if n < 1 || n > maxMKILen {
		return nil, 0, malformed(ErrBadMKI, "MKI length %d is outside 1..%d", n, maxMKILen)
	}
	v, ok := new(big.Int).SetString(val, 10)
	if !ok || v.BitLen() > 8*n {
		return nil, 0, malformed(ErrBadMKI, "MKI value %s does not fit in %d byte(s)", val, n)
	}

	return v.FillBytes(make([]byte, n)), n, nil
}

// Validate reports whether c can key an Encryptor or Decryptor: tag in range, a
// supported suite, key and salt of the suite's lengths, lifetime and MKI in range, and no
// session parameter this package will not honour (ErrUnsupportedParam: UNENCRYPTED_SRTP,
// UNENCRYPTED_SRTCP, UNAUTHENTICATED_SRTP, KDR other than 0, FEC_ORDER, FEC_KEY, unknown
// parameters without a leading "-").
func (c CryptoAttr) Validate() error {
	if c.Tag < 0 || c.Tag > maxTag {
		return fmt.Errorf("%w: %d is outside 0..%d", ErrBadTag, c.Tag, maxTag)
	}
	if !c.Suite.Supported() {
		return fmt.Errorf("%w: %q", ErrUnknownSuite, string(c.Suite))
	}
	if len(c.Key) != c.Suite.KeyLen() || len(c.Salt) != c.Suite.SaltLen() {
		return fmt.Errorf("%w: %s needs a %d-byte key and %d-byte salt, have %d and %d",
			ErrBadKey, c.Suite, c.Suite.KeyLen(), c.Suite.SaltLen(), len(c.Key), len(c.Salt))
	}
	if c.Lifetime > maxLifetime {
		return fmt.Errorf("%w: %d exceeds 2^%d packets", ErrBadLifetime, c.Lifetime, maxLifetimeExp)
	}
	if c.MKILen < 0 || c.MKILen > maxMKILen || len(c.MKI) != c.MKILen {
		return fmt.Errorf("%w: length %d with %d MKI byte(s)", ErrBadMKI, c.MKILen, len(c.MKI))
	}
	for _, p := range c.Params {
		ok, err := checkParam(p)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %s", ErrUnsupportedParam, p)
		}
	}

	return nil
}

// String formats c as the value of an a=crypto attribute (without "a=crypto:"), the
// inverse of ParseCrypto. A lifetime that is a power of two is written as "2^n". The
// result contains the key: never log it (use Redacted).
func (c CryptoAttr) String() string {
	return c.format(false)
}

// Redacted is String with the key material replaced by "<redacted>", for logs.
func (c CryptoAttr) Redacted() string {
	return c.format(true)
}

func (c CryptoAttr) format(redact bool) string {
	var b strings.Builder
	b.Grow(64)
	b.WriteString(strconv.Itoa(c.Tag))
	b.WriteByte(' ')
	b.WriteString(string(c.Suite))
	b.WriteString(" inline:")
	if redact {
		b.WriteString("<redacted>")
	} else {
		raw := make([]byte, 0, len(c.Key)+len(c.Salt))
		raw = append(append(raw, c.Key...), c.Salt...)
		b.WriteString(base64.StdEncoding.EncodeToString(raw))
	}
	if c.Lifetime != 0 {
		b.WriteByte('|')
		if bits.OnesCount64(c.Lifetime) == 1 {
			b.WriteString("2^")
			b.WriteString(strconv.Itoa(bits.TrailingZeros64(c.Lifetime)))
		} else {
			b.WriteString(strconv.FormatUint(c.Lifetime, 10))
		}
	}
	if c.MKILen > 0 {
		b.WriteByte('|')
		b.WriteString(new(big.Int).SetBytes(c.MKI).String())
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(c.MKILen))
	}
	for _, p := range c.Params {
		b.WriteByte(' ')
		b.WriteString(p)
	}

	return b.String()
}
