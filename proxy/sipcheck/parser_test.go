package sipcheck

import (
	"errors"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestStrictParser(t *testing.T) {
	tests := []struct {
		name   string
		header string // replaces the header of the same name in the typical INVITE
		kind   error  // nil: accepted
		detail string
	}{
		{"token display name", "From: Alice Smith <sip:alice@example.com>;tag=1", nil, ""},
		{"no LWS before <", "From: Alice<sip:alice@example.com>;tag=1", nil, ""},
		{"quoted with comma", `From: "Bell, Alexander" <sip:a@example.com>;tag=1`, nil, ""},
		{"quoted with escapes", `From: "J \"R\" \\" <sip:a@example.com>;tag=1`, nil, ""},
		{"UTF-8 unquoted", "From: Jörg Müller <sip:j@example.com>;tag=1", nil, ""},
		{"addr-spec", "From: sip:a@example.com;tag=1", nil, ""},
		{"unknown scheme", "To: isbn:2983792873", nil, ""},
		{"comma in unquoted name", "From: Bell, Alexander <sip:a@example.com>;tag=1", ErrDisplayName, `"Bell, Alexander"`},
		{"compact form", "f: Bell, Alexander <sip:a@example.com>;tag=1", ErrDisplayName, "From:"},
		{"at sign in name", "To: Watson@Thomas <sip:t@example.org>", ErrDisplayName, "To:"},
		{"colon in name", "t: T:W <sip:t@example.org>", ErrDisplayName, "To:"},
		{"text before quote", `From: Mr "Bell" <sip:a@example.com>;tag=1`, ErrDisplayName, "before a quoted"},
		{"text after quote", `From: "Bell" junk <sip:a@example.com>;tag=1`, ErrDisplayName, "follows the quoted"},
		{"headers outside <>", "To: sip:bob@example.com?Subject=x", ErrAddrSpec, "enclosed in <>"},
		{"comma outside <>", "To: sip:bob,carol@example.com", ErrAddrSpec, "enclosed in <>"},
		{"headers inside <>", "To: <sip:bob@example.com?Subject=x>", nil, ""},
		{"contact headers outside <>", "Contact: sip:a@example.com?Route=%3Csip:x%3E", ErrAddrSpec, "Contact:"},
		{"contact headers inside <>", "Contact: <sip:a@example.com?Route=%3Csip:x%3E>", nil, ""},
		{"contact list", "Contact: <sip:a@example.com>, B <sip:b@example.com>;q=0.5", nil, ""},
		{"contact second value bad", "m: <sip:a@example.com>, B@C <sip:b@example.com>", ErrDisplayName, "Contact:"},
		{"contact wildcard", "Contact: *", nil, ""},
		{"text after <URI>", "From: <sip:a@example.com>tag=1", ErrAddrSpec, "follows <URI>"},
		{"text after quoted name and URI", `To: "B" <sip:b@example.com> x`, ErrAddrSpec, "follows <URI>"},
		{"LWS before params", "From: <sip:a@example.com>  ;tag=1", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := strings.TrimSpace(tt.header[:strings.IndexByte(tt.header, ':')])
			long := map[string]string{"f": "From", "t": "To", "m": "Contact"}[name]
			if long == "" {
				long = name
			}
			hs := set(long, tt.header)(inviteHeaders())
			data := rawMessage("INVITE sip:bob@example.com SIP/2.0", hs, testSDP)
			if _, err := sip.NewParser().ParseSIP(data); err != nil && tt.kind != nil {
				t.Fatalf("sipgo itself rejects it (%v); the strict check is not what is tested", err)
			}
			_, err := NewParser().ParseSIP(data)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("strict parser rejected: %v", err)
				}
				return
			}
			var e *Error
			if !errors.Is(err, tt.kind) || !errors.As(err, &e) || e.Status != 400 || !strings.Contains(e.Detail, tt.detail) {
				t.Fatalf("got %v, want %v with %q", err, tt.kind, tt.detail)
			}
		})
	}
}

func TestHeaderParsersIsACopy(t *testing.T) {
	m := HeaderParsers()
	delete(m, "via")
	m["x-test"] = nil
	def := sip.DefaultHeadersParser()
	if def["via"] == nil || def["x-test"] != nil {
		t.Fatal("HeaderParsers changed sipgo's default map")
	}
	if len(HeaderParsers()) != len(def) {
		t.Fatal("HeaderParsers lost entries")
	}
}

func TestNewParserOptions(t *testing.T) {
	data := rawMessage("INVITE sip:bob@example.com SIP/2.0", inviteHeaders(), testSDP)
	p := NewParser(func(p *sip.Parser) { p.MaxMessageLength = 100 })
	if _, err := p.ParseSIP(data); !errors.Is(err, sip.ErrMessageTooLarge) {
		t.Fatalf("option not applied: %v", err)
	}
	m, err := NewParser().ParseSIP(data)
	if err != nil {
		t.Fatal(err)
	}
	if e := Request(m.(*sip.Request), Options{}); e != nil {
		t.Fatal(e)
	}
}
