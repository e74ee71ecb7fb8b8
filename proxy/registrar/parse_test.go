package registrar

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// wire parses a REGISTER as received, with extra header lines.
func wire(t *testing.T, extra ...string) *sip.Request {
	t.Helper()
	lines := []string{
		"REGISTER sip:edge.example SIP/2.0",
		"Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK776asdhds",
		"Max-Forwards: 70",
		"To: <sip:alice@edge.example>",
		"From: <sip:alice@edge.example>;tag=456248",
		"Call-ID: 843817637684230@998sdasdh09",
		"CSeq: 1826 REGISTER",
	}
	lines = append(lines, extra...)
	lines = append(lines, "Content-Length: 0", "", "")
	msg, err := sip.ParseMessage([]byte(strings.Join(lines, "\r\n")))
	if err != nil {
		t.Fatalf("ParseMessage: %v", err)
	}
	return msg.(*sip.Request)
}

// built makes a REGISTER in code, with Contact headers added as generic headers.
func built(contacts ...string) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "edge.example"})
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "edge.example"}})
	callID := sip.CallIDHeader("abc")
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 7, MethodName: sip.REGISTER})
	for _, c := range contacts {
		req.AppendHeader(sip.NewHeader("Contact", c))
	}
	return req
}

func TestParseUpdateWire(t *testing.T) {
	const inst = `+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"`
	req := wire(t,
		"Contact: <sip:alice@192.0.2.4:5061;transport=tls;ob>;expires=600;q=0.7;"+inst+";reg-id=2",
		"Contact: \"Alice, desk\" <sip:alice@198.51.100.1>, <sip:alice@198.51.100.2>;q=1.000",
		"m: sip:alice@198.51.100.3;expires=0",
		"Expires: 300",
	)
	aor, u, err := ParseUpdate(req, "flow-7")
	if err != nil {
		t.Fatal(err)
	}
	if aor != "alice" || u.CallID != "843817637684230@998sdasdh09" || u.CSeq != 1826 || u.FlowID != "flow-7" ||
		u.Expires != 300 || u.Wildcard {
		t.Fatalf("aor %q update %+v", aor, u)
	}
	want := []ContactUpdate{
		{URI: "sip:alice@192.0.2.4:5061;transport=tls;ob", Expires: 600, Q: 0.7,
			Instance: "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", RegID: 2},
		{URI: "sip:alice@198.51.100.1", Expires: -1, Q: -1},
		{URI: "sip:alice@198.51.100.2", Expires: -1, Q: 1},
		{URI: "sip:alice@198.51.100.3", Expires: 0, Q: -1},
	}
	if fmt.Sprint(u.Contacts) != fmt.Sprint(want) {
		t.Fatalf("contacts\n got %+v\nwant %+v", u.Contacts, want)
	}

	// The parsed update goes through Apply end to end.
	r, _ := newReg(t, Config{})
	bs, err := r.Apply(aor, u)
	if err != nil {
		t.Fatal(err)
	}
	if got := contacts(bs); fmt.Sprint(got) != "[sip:alice@198.51.100.2 sip:alice@198.51.100.1 sip:alice@192.0.2.4:5061;transport=tls;ob]" {
		t.Fatalf("bindings %v", got)
	}
}

func TestParseUpdateGenericHeaders(t *testing.T) {
	req := built(`<sip:bob@192.0.2.1;transport=tcp>;expires=120, "B, the second" <sip:bob@192.0.2.2>;q=0.5`, "<sip:bob@192.0.2.3>")
	req.AppendHeader(sip.NewHeader("m", "sip:bob@192.0.2.4"))
	aor, u, err := ParseUpdate(req, "")
	if err != nil {
		t.Fatal(err)
	}
	if aor != "bob" || u.CallID != "abc" || u.CSeq != 7 || u.Expires != -1 {
		t.Fatalf("aor %q update %+v", aor, u)
	}
	want := "[{sip:bob@192.0.2.1;transport=tcp 120 -1  0} {sip:bob@192.0.2.2 -1 0.5  0} " +
		"{sip:bob@192.0.2.3 -1 -1  0} {sip:bob@192.0.2.4 -1 -1  0}]"
	if got := fmt.Sprint(u.Contacts); got != want {
		t.Fatalf("contacts\n got %s\nwant %s", got, want)
	}
}

func TestParseUpdateWildcard(t *testing.T) {
	aor, u, err := ParseUpdate(wire(t, "Contact: *", "Expires: 0"), "f")
	if err != nil || aor != "alice" || !u.Wildcard || len(u.Contacts) != 0 || u.Expires != 0 {
		t.Fatalf("aor %q update %+v err %v", aor, u, err)
	}
	// A wildcard mixed with a contact parses; Apply rejects it.
	_, u, err = ParseUpdate(built("*, <sip:bob@192.0.2.1>"), "f")
	if err != nil || !u.Wildcard || len(u.Contacts) != 1 {
		t.Fatalf("update %+v err %v", u, err)
	}
	r, _ := newReg(t, Config{})
	if _, err := r.Apply("bob", u); !errors.Is(err, ErrBadWildcard) {
		t.Fatalf("Apply: %v", err)
	}
}

func TestParseUpdateValues(t *testing.T) {
	tests := []struct {
		contact string
		expires string // Expires header, "" for none
		check   func(u Update) bool
	}{
		{contact: "<sip:a@h>;q=0", check: func(u Update) bool { return u.Contacts[0].Q == 0 }},
		{contact: "<sip:a@h>;q=1", check: func(u Update) bool { return u.Contacts[0].Q == 1 }},
		{contact: "<sip:a@h>;q=0.123", check: func(u Update) bool { return u.Contacts[0].Q == 0.123 }},
		{contact: "<sip:a@h>;Q=0.5;EXPIRES=90", check: func(u Update) bool { return u.Contacts[0].Q == 0.5 && u.Contacts[0].Expires == 90 }},
		{contact: "<sip:a@h>;expires=99999999999", check: func(u Update) bool { return u.Contacts[0].Expires == maxDelta }},
		{contact: "<sip:a@h>", expires: "99999999999999999999999", check: func(u Update) bool { return u.Expires == maxDelta }},
		{contact: "<sip:a@h>", expires: " 0 ", check: func(u Update) bool { return u.Expires == 0 }},
		{contact: `<sip:a@h>;+sip.instance="<urn:uuid:1>"`, check: func(u Update) bool {
			return u.Contacts[0].Instance == "urn:uuid:1" && u.Contacts[0].RegID == 0
		}},
		{contact: `<sip:a@h>;reg-id=2147483647;+sip.instance="<urn:uuid:1>"`, check: func(u Update) bool {
			return u.Contacts[0].RegID == 2147483647
		}},
	}
	for _, tc := range tests {
		t.Run(tc.contact+" "+tc.expires, func(t *testing.T) {
			req := built(tc.contact)
			if tc.expires != "" {
				req.AppendHeader(sip.NewHeader("Expires", tc.expires))
			}
			_, u, err := ParseUpdate(req, "f")
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(u) {
				t.Fatalf("unexpected update %+v", u)
			}
		})
	}
}

func TestParseUpdateErrors(t *testing.T) {
	tests := []struct {
		name    string
		req     func() *sip.Request
		mention string
	}{
		{"q=abc", func() *sip.Request { return built("<sip:a@h>;q=abc") }, "q parameter"},
		{"q=1.5", func() *sip.Request { return built("<sip:a@h>;q=1.5") }, "q parameter"},
		{"q=0.1234", func() *sip.Request { return built("<sip:a@h>;q=0.1234") }, "q parameter"},
		{"q=NaN", func() *sip.Request { return built("<sip:a@h>;q=NaN") }, "q parameter"},
		{"q empty", func() *sip.Request { return built("<sip:a@h>;q") }, "q parameter"},
		{"expires=-5", func() *sip.Request { return built("<sip:a@h>;expires=-5") }, "expires parameter"},
		{"expires=1h", func() *sip.Request { return built("<sip:a@h>;expires=1h") }, "expires parameter"},
		{"Expires: -5", func() *sip.Request {
			r := built("<sip:a@h>")
			r.AppendHeader(sip.NewHeader("Expires", "-5"))
			return r
		}, "Expires header"},
		{"reg-id without instance", func() *sip.Request { return built("<sip:a@h>;reg-id=1") }, "reg-id without +sip.instance"},
		{"reg-id=0", func() *sip.Request { return built(`<sip:a@h>;reg-id=0;+sip.instance="<urn:uuid:1>"`) }, "reg-id"},
		{"reg-id=abc", func() *sip.Request { return built(`<sip:a@h>;reg-id=abc;+sip.instance="<urn:uuid:1>"`) }, "reg-id"},
		{"reg-id too big", func() *sip.Request { return built(`<sip:a@h>;reg-id=2147483648;+sip.instance="<urn:uuid:1>"`) }, "reg-id"},
		{"empty instance", func() *sip.Request { return built(`<sip:a@h>;+sip.instance="<>"`) }, "+sip.instance"},
		{"bad contact", func() *sip.Request { return built("<sip:a@h>,") }, "Contact"},
		{"not REGISTER", func() *sip.Request {
			r := built("<sip:a@h>")
			r.Method = sip.INVITE
			return r
		}, "REGISTER"},
		{"no To user", func() *sip.Request {
			req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "edge.example"})
			req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", Host: "edge.example"}})
			return req
		}, "To URI"},
		{"no Call-ID", func() *sip.Request {
			req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "edge.example"})
			req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "x", Host: "edge.example"}})
			return req
		}, "Call-ID"},
		{"no CSeq", func() *sip.Request {
			req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "edge.example"})
			req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "x", Host: "edge.example"}})
			id := sip.CallIDHeader("x")
			req.AppendHeader(&id)
			return req
		}, "CSeq"},
		{"nil", func() *sip.Request { return nil }, "nil"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseUpdate(tc.req(), "f")
			if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("err = %v, want ErrBadRequest mentioning %q", err, tc.mention)
			}
		})
	}
}

func TestSameURI(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"sip:alice@h.example", "sip:alice@h.example", true},
		{"SIP:alice@H.Example", "sip:alice@h.example", true},
		{"sip:Alice@h.example", "sip:alice@h.example", false},
		{"sip:alice@h.example", "sip:alice@h.example:5060", false},
		{"sip:alice@h.example;transport=TCP", "sip:alice@h.example;transport=tcp", true},
		{"sip:alice@h.example;transport=tcp", "sip:alice@h.example", true}, // one-sided params are ignored
		{"sip:alice@h.example;transport=tcp", "sip:alice@h.example;transport=udp", false},
		{"sip:alice@h.example;maddr=1.2.3.4", "sip:alice@h.example", false},
		{"sip:alice@h.example", "sip:alice@h.example;user=phone", false},
		{"sip:alice@h.example;ob;transport=tls", "sip:alice@h.example;transport=tls;ob", true},
		{"sip:alice@h.example?Subject=x", "sip:alice@h.example", false},
		{"sip:alice@h.example?subject=x", "sip:alice@h.example?Subject=x", true},
		{"sips:alice@h.example", "sip:alice@h.example", false},
		{"tel:+15551234", "TEL:+15551234", true},
		{"tel:+15551234", "tel:+15551235", false},
		{"*", "*", true},
		{"not a uri", "sip:alice@h", false},
	}
	for _, tc := range tests {
		if got := SameURI(tc.a, tc.b); got != tc.want {
			t.Errorf("SameURI(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := SameURI(tc.b, tc.a); got != tc.want {
			t.Errorf("SameURI(%q, %q) = %v, want %v (reversed)", tc.b, tc.a, got, tc.want)
		}
	}
}
