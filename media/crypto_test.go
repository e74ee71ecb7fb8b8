package media

import (
	"bytes"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Lines from RFC 4568 (§4, §6.1, §9.2 examples) and realistic peers.
var validCryptoLines = []string{
	"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
	"1 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32",
	"1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32",
	"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4",
	"2 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", // Asterisk/baresip style
	"3 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31",
	"4 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|1000",
	"5 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|7:1 KDR=0 WSH=256",
	"6 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz UNENCRYPTED_SRTCP -X-VENDOR",
	"7 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCw==",
	"999999999 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCw==|2^48|340282366920938463463374607431768211455:16",
}

func TestParseCryptoRFC4568Example(t *testing.T) {
	c, err := ParseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString("PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR")
	wantMKI := make([]byte, 32)
	wantMKI[31] = 1
	switch {
	case c.Tag != 1, c.Suite != SuiteAES80:
		t.Errorf("tag/suite = %d/%s", c.Tag, c.Suite)
	case !bytes.Equal(c.Key, raw[:16]), !bytes.Equal(c.Salt, raw[16:]):
		t.Errorf("key/salt split wrong: %x %x", c.Key, c.Salt)
	case c.Lifetime != 1<<20:
		t.Errorf("lifetime = %d", c.Lifetime)
	case c.MKILen != 32, !bytes.Equal(c.MKI, wantMKI):
		t.Errorf("MKI = %x (len %d)", c.MKI, c.MKILen)
	case len(c.Params) != 0:
		t.Errorf("params = %v", c.Params)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestParseCryptoRoundTrip(t *testing.T) {
	for _, line := range validCryptoLines {
		c, err := ParseCrypto(line)
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		if got := c.String(); got != line {
			t.Errorf("String() = %q, want %q", got, line)
		}
		again, err := ParseCrypto(c.String())
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Errorf("%s: reparse = %+v, %v", line, again, err)
		}
	}
}

func TestParseCryptoTolerances(t *testing.T) {
	tests := []struct{ in, want string }{
		// whitespace, tabs and a trailing CRLF
		{"1\tAES_CM_128_HMAC_SHA1_80  inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n",
			"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"},
		// ABNF literals are case-insensitive
		{"1 aes_cm_128_hmac_sha1_80 INLINE:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
			"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"},
		// GCM key without '=' padding
		{"1 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCw",
			"1 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCw=="},
		// a decimal power of two is written back as 2^n
		{"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|1048576",
			"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20"},
		// MKI without lifetime
		{"01 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|0005:2",
			"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|5:2"},
	}
	for _, tt := range tests {
		c, err := ParseCrypto(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got := c.String(); got != tt.want {
			t.Errorf("%q: String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseCryptoMalformed(t *testing.T) {
	const key = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
	const pre = "1 AES_CM_128_HMAC_SHA1_80 "
	tests := []struct {
		name, in string
		kind     error
		msg      string
	}{
		{"empty", "", ErrMalformedCrypto, "field"},
		{"no key", "1 AES_CM_128_HMAC_SHA1_80", ErrMalformedCrypto, "field"},
		{"tag not digits", "x " + pre[2:] + "inline:" + key, ErrBadTag, "tag"},
		{"negative tag", "-1 " + pre[2:] + "inline:" + key, ErrBadTag, "tag"},
		{"tag too long", "1234567890 " + pre[2:] + "inline:" + key, ErrBadTag, "tag"},
		{"suite bad chars", "1 AES-CM-128 inline:" + key, ErrMalformedCrypto, "suite"},
		{"missing inline", pre + key, ErrBadKey, "inline"},
		{"other key method", pre + "srtp:" + key, ErrBadKey, "inline"},
		{"empty key", pre + "inline:", ErrBadKey, "empty"},
		{"empty key with lifetime", pre + "inline:|2^20", ErrBadKey, "empty"},
		{"bad base64", pre + "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVu!!!!", ErrBadKey, "base64"},
		{"key too short", pre + "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7", ErrBadKey, "needs 30"},
		{"key too long", pre + "inline:" + key + "AAAA", ErrBadKey, "needs 30"},
		{"AES key for GCM", "1 AEAD_AES_128_GCM inline:" + key, ErrBadKey, "needs 28"},
		{"two keys", pre + "inline:" + key + "|2^20|1:4;inline:" + key + "|2^20|2:4", ErrBadKey, "2 keys"},
		{"too many parts", pre + "inline:" + key + "|2^20|1:4|3", ErrBadKey, "parts"},
		{"lifetime empty exponent", pre + "inline:" + key + "|2^", ErrBadLifetime, "exponent"},
		{"lifetime long exponent", pre + "inline:" + key + "|2^020", ErrBadLifetime, "exponent"},
		{"lifetime exponent too big", pre + "inline:" + key + "|2^49", ErrBadLifetime, "exceeds"},
		{"lifetime not a number", pre + "inline:" + key + "|abc", ErrBadLifetime, "neither"},
		{"lifetime zero", pre + "inline:" + key + "|0", ErrBadLifetime, "is 0"},
		{"lifetime too big", pre + "inline:" + key + "|281474976710657", ErrBadLifetime, "exceeds"},
		{"lifetime overflow", pre + "inline:" + key + "|99999999999999999999999", ErrBadLifetime, "exceeds"},
		{"two lifetimes", pre + "inline:" + key + "|2^20|2^10", ErrBadLifetime, "more than one"},
		{"lifetime after MKI", pre + "inline:" + key + "|1:4|2^20", ErrBadLifetime, "after"},
		{"MKI length 0", pre + "inline:" + key + "|1:0", ErrBadMKI, "outside"},
		{"MKI length 129", pre + "inline:" + key + "|1:129", ErrBadMKI, "outside"},
		{"MKI length 4 digits", pre + "inline:" + key + "|1:0004", ErrBadMKI, "1 to 3"},
		{"MKI value not a number", pre + "inline:" + key + "|x:4", ErrBadMKI, "not a decimal"},
		{"MKI no length", pre + "inline:" + key + "|1:", ErrBadMKI, "1 to 3"},
		{"MKI value too big", pre + "inline:" + key + "|256:1", ErrBadMKI, "does not fit"},
		{"two MKIs", pre + "inline:" + key + "|1:4|2:4", ErrBadMKI, "more than one"},
		{"KDR not a number", pre + "inline:" + key + " KDR=x", ErrBadParam, "KDR"},
		{"KDR too big", pre + "inline:" + key + " KDR=25", ErrBadParam, "KDR"},
		{"WSH too small", pre + "inline:" + key + " WSH=10", ErrBadParam, "WSH"},
		{"WSH not a number", pre + "inline:" + key + " WSH=abc", ErrBadParam, "WSH"},
		{"FEC_ORDER bad", pre + "inline:" + key + " FEC_ORDER=foo", ErrBadParam, "FEC_ORDER"},
		{"FEC_KEY empty", pre + "inline:" + key + " FEC_KEY=", ErrBadParam, "FEC_KEY"},
		{"flag with value", pre + "inline:" + key + " UNENCRYPTED_SRTP=1", ErrBadParam, "no value"},
		{"non-visible param", pre + "inline:" + key + " A\x01B", ErrBadParam, "non-visible"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCrypto(tt.in)
			if err == nil {
				t.Fatalf("ParseCrypto(%q) = %+v, want error", tt.in, c)
			}
			if !errors.Is(err, ErrMalformedCrypto) || !errors.Is(err, tt.kind) {
				t.Errorf("error %q does not wrap ErrMalformedCrypto and %v", err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
			if strings.Contains(err.Error(), key[:12]) {
				t.Errorf("error %q leaks key material", err)
			}
		})
	}
}

func TestParseCryptoUnknownSuite(t *testing.T) {
	for _, in := range []string{
		// RFC 4568 §9.2 example: F8 suite, two keys and an FEC parameter.
		"2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP",
		"1 AES_256_CM_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
		"1 AEAD_AES_256_GCM inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
	} {
		_, err := ParseCrypto(in)
		if !errors.Is(err, ErrUnknownSuite) || errors.Is(err, ErrMalformedCrypto) {
			t.Errorf("%q: err = %v, want ErrUnknownSuite only", in, err)
		}
	}
}

func TestCryptoParamsValidate(t *testing.T) {
	const pre = "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz "
	tests := []struct {
		params  string
		usable  bool
		wsh     uint64
		flagged string
	}{
		{"KDR=0", true, 0, ""},
		{"WSH=512", true, 512, ""},
		{"-X-VENDOR=1", true, 0, ""},
		{"UNENCRYPTED_SRTP", false, 0, "UNENCRYPTED_SRTP"},
		{"UNENCRYPTED_SRTCP", false, 0, "UNENCRYPTED_SRTCP"},
		{"UNAUTHENTICATED_SRTP", false, 0, "UNAUTHENTICATED_SRTP"},
		{"KDR=1", false, 0, "KDR"},
		{"FEC_ORDER=SRTP_FEC", false, 0, "FEC_ORDER"},
		{"FEC_KEY=inline:abc", false, 0, "FEC_KEY"},
		{"NEW_THING", false, 0, "NEW_THING"},
	}
	for _, tt := range tests {
		c, err := ParseCrypto(pre + tt.params)
		if err != nil {
			t.Errorf("%s: %v", tt.params, err)
			continue
		}
		if len(c.Params) != 1 || c.Params[0] != tt.params {
			t.Errorf("%s: Params = %v", tt.params, c.Params)
		}
		err = c.Validate()
		if tt.usable != (err == nil) {
			t.Errorf("%s: Validate = %v, want usable=%v", tt.params, err, tt.usable)
		}
		if !tt.usable && (!errors.Is(err, ErrUnsupportedParam) || !strings.Contains(err.Error(), tt.flagged)) {
			t.Errorf("%s: Validate = %v, want ErrUnsupportedParam naming %s", tt.params, err, tt.flagged)
		}
		if got := c.WindowSizeHint(); got != tt.wsh {
			t.Errorf("%s: WindowSizeHint = %d", tt.params, got)
		}
		if _, ok := SelectCrypto([]CryptoAttr{c}); ok != tt.usable {
			t.Errorf("%s: SelectCrypto ok = %v", tt.params, ok)
		}
	}
}

func TestValidateHandBuilt(t *testing.T) {
	good, err := NewCryptoAttr(1, SuiteAES80)
	if err != nil {
		t.Fatal(err)
	}
	mut := func(f func(*CryptoAttr)) CryptoAttr { c := good; f(&c); return c }
	tests := []struct {
		name string
		c    CryptoAttr
		kind error
	}{
		{"tag", mut(func(c *CryptoAttr) { c.Tag = -1 }), ErrBadTag},
		{"suite", mut(func(c *CryptoAttr) { c.Suite = "aes_cm_128_hmac_sha1_80" }), ErrUnknownSuite},
		{"key", mut(func(c *CryptoAttr) { c.Key = c.Key[:15] }), ErrBadKey},
		{"salt", mut(func(c *CryptoAttr) { c.Suite = SuiteGCM128 }), ErrBadKey},
		{"lifetime", mut(func(c *CryptoAttr) { c.Lifetime = 1<<48 + 1 }), ErrBadLifetime},
		{"mki", mut(func(c *CryptoAttr) { c.MKILen = 4 }), ErrBadMKI},
	}
	for _, tt := range tests {
		if err := tt.c.Validate(); !errors.Is(err, tt.kind) {
			t.Errorf("%s: Validate = %v, want %v", tt.name, err, tt.kind)
		}
		if _, err := NewEncryptor(tt.c); !errors.Is(err, tt.kind) {
			t.Errorf("%s: NewEncryptor = %v, want %v", tt.name, err, tt.kind)
		}
		if _, err := NewDecryptor(tt.c); !errors.Is(err, tt.kind) {
			t.Errorf("%s: NewDecryptor = %v, want %v", tt.name, err, tt.kind)
		}
	}
}

func TestNewCryptoAttr(t *testing.T) {
	for _, s := range SupportedSuites() {
		a, err := NewCryptoAttr(7, s)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewCryptoAttr(7, s)
		if len(a.Key) != s.KeyLen() || len(a.Salt) != s.SaltLen() || a.Tag != 7 || a.Suite != s {
			t.Errorf("%s: %d-byte key, %d-byte salt", s, len(a.Key), len(a.Salt))
		}
		if bytes.Equal(a.Key, b.Key) || bytes.Equal(a.Salt, b.Salt) {
			t.Errorf("%s: two fresh keys are equal", s)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("%s: Validate: %v", s, err)
		}
		back, err := ParseCrypto(a.String())
		if err != nil || !reflect.DeepEqual(back, a) {
			t.Errorf("%s: round trip = %+v, %v", s, back, err)
		}
		if r := a.Redacted(); strings.Contains(r, base64.StdEncoding.EncodeToString(a.Key)[:8]) || !strings.Contains(r, "<redacted>") {
			t.Errorf("Redacted() = %q", r)
		}
		if cap(a.Key) != len(a.Key) {
			t.Errorf("%s: appending to Key would overwrite Salt (cap %d)", s, cap(a.Key))
		}
	}
	if _, err := NewCryptoAttr(1, "AES_256_CM_HMAC_SHA1_80"); !errors.Is(err, ErrUnknownSuite) {
		t.Errorf("unknown suite: %v", err)
	}
	if _, err := NewCryptoAttr(1_000_000_000, SuiteAES80); !errors.Is(err, ErrBadTag) {
		t.Errorf("big tag: %v", err)
	}
}

func TestSupportedSuitesOrder(t *testing.T) {
	got := SupportedSuites()
	want := []Suite{SuiteGCM128, SuiteAES80, SuiteAES32}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SupportedSuites() = %v", got)
	}
	got[0] = "x" // a copy: must not change the package's order
	if SupportedSuites()[0] != SuiteGCM128 {
		t.Fatal("SupportedSuites returned the internal array")
	}
}

func FuzzParseCrypto(f *testing.F) {
	for _, l := range validCryptoLines {
		f.Add(l)
	}
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4;inline:x")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseCrypto(in)
		if err != nil {
			return
		}
		again, err := ParseCrypto(c.String())
		if err != nil {
			t.Fatalf("String() of a parsed line does not parse: %q: %v", c.String(), err)
		}
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip changed %+v to %+v", c, again)
		}
	})
}
