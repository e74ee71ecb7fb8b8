package sipcheck

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestRequestTable(t *testing.T) {
	tests := []struct {
		name   string
		start  string
		edits  []edit
		opts   Options
		status int
		kind   error
		detail string
	}{
		{name: "typical INVITE"},
		{name: "version", start: "INVITE sip:bob@example.com SIP/3.0", status: 505, kind: ErrVersion, detail: `"SIP/3.0"`},
		{name: "method not a token", start: "INV@ITE sip:bob@example.com SIP/2.0", status: 400, kind: ErrMethod},
		{name: "unknown method is fine", start: "FOO sip:bob@example.com SIP/2.0", edits: []edit{set("CSeq", "CSeq: 1 FOO")}},

		{name: "NUL in unknown header", edits: []edit{add("X-Note: a\x00b")}, status: 400, kind: ErrHeaderValue, detail: "X-Note"},
		{name: "LF in unknown header", edits: []edit{add("X-Note: a\nb")}, status: 400, kind: ErrHeaderValue},
		{name: "other CTL in header", edits: []edit{add("Subject: a\x07b")}, status: 400, kind: ErrHeaderValue},
		{name: "tab is LWS", edits: []edit{add("Subject: a\tb")}},
		{name: "NUL in Call-ID", edits: []edit{set("Call-ID", "Call-ID: ab\x00c@host")}, status: 400, kind: ErrHeaderValue, detail: "Call-ID"},
		{name: "NUL in Via param", edits: []edit{set("Via", "Via: SIP/2.0/UDP h;branch=z9hG4bKx;x=a\x00")}, status: 400, kind: ErrHeaderValue, detail: "Via"},
		{name: "escaped NUL in quoted display name", edits: []edit{set("From", "From: \"A\\\x00B\" <sip:a@example.com>;tag=1")}},
		{name: "bare NUL in quoted display name", edits: []edit{set("From", "From: \"A\x00B\" <sip:a@example.com>;tag=1")}, status: 400, kind: ErrHeaderValue, detail: "From"},
		{name: "NUL in quoted header param", edits: []edit{add("X-P: a;b=\"c\x00\"")}, status: 400, kind: ErrHeaderValue},

		{name: "empty header name", edits: []edit{add(": x")}, status: 400, kind: ErrHeaderName},
		{name: "header name with space", edits: []edit{add("X Foo: x")}, status: 400, kind: ErrHeaderName, detail: `"X Foo"`},
		{name: "no Call-ID", edits: []edit{set("Call-ID", "")}, status: 400, kind: ErrMissingHeader, detail: "Call-ID"},
		{name: "no CSeq", edits: []edit{set("CSeq", "")}, status: 400, kind: ErrMissingHeader, detail: "CSeq"},
		{name: "no From", edits: []edit{set("From", "")}, status: 400, kind: ErrMissingHeader, detail: "From"},
		{name: "no To", edits: []edit{set("To", "")}, status: 400, kind: ErrMissingHeader, detail: "To"},
		{name: "no Via", edits: []edit{set("Via", "")}, status: 400, kind: ErrMissingHeader, detail: "Via"},
		{name: "two Call-IDs, compact form", edits: []edit{add("i: other@host")}, status: 400, kind: ErrDuplicateHeader, detail: "Call-ID: appears 2"},
		{name: "two CSeqs", edits: []edit{add("CSeq: 2 INVITE")}, status: 400, kind: ErrDuplicateHeader, detail: "CSeq"},
		{name: "two Tos", edits: []edit{add("t: <sip:carol@example.com>")}, status: 400, kind: ErrDuplicateHeader, detail: "To"},
		{name: "two Froms", edits: []edit{add("From: <sip:x@example.com>;tag=2")}, status: 400, kind: ErrDuplicateHeader, detail: "From"},
		{name: "two Max-Forwards", edits: []edit{add("Max-Forwards: 70")}, status: 400, kind: ErrDuplicateHeader, detail: "Max-Forwards"},
		{name: "two Content-Types", edits: []edit{add("c: text/plain")}, status: 400, kind: ErrDuplicateHeader, detail: "Content-Type"},
		{name: "two Expires", edits: []edit{add("Expires: 60"), add("Expires: 60")}, status: 400, kind: ErrDuplicateHeader, detail: "Expires"},
		{name: "several Vias are fine", edits: []edit{add("Via: SIP/2.0/TCP 192.0.2.99;branch=z9hG4bKother")}},

		{name: "Call-ID with space", edits: []edit{set("Call-ID", "Call-ID: a b")}, status: 400, kind: ErrCallID},
		{name: "CSeq method mismatch", edits: []edit{set("CSeq", "CSeq: 1 BYE")}, status: 400, kind: ErrCSeq, detail: `"BYE" does not match`},
		{name: "CSeq method not a token", edits: []edit{set("CSeq", "CSeq: 1 IN<VITE")}, status: 400, kind: ErrCSeq, detail: "not a token"},
		{name: "CSeq max", edits: []edit{set("CSeq", "CSeq: 2147483647 INVITE")}},

		{name: "From without tag", edits: []edit{set("From", "From: <sip:alice@example.com>")}, status: 400, kind: ErrFromTag},
		{name: "From with empty tag", edits: []edit{set("From", "From: <sip:alice@example.com>;tag=")}, status: 400, kind: ErrFromTag},
		{name: "From tag with LWS", edits: []edit{set("From", "From: <sip:alice@example.com> ; tag = 77")}},
		{name: "From with other scheme", edits: []edit{set("From", "From: <urn:service:sos>;tag=1")}},
		{name: "To with other scheme", edits: []edit{set("To", "To: <tel:+15551234567>")}},

		{name: "no branch anywhere", edits: []edit{set("Via", "Via: SIP/2.0/UDP 192.0.2.10:5060")}, status: 400, kind: ErrVia, detail: "no branch"},
		{name: "empty branch", edits: []edit{set("Via", "Via: SIP/2.0/UDP 192.0.2.10;branch=")}, status: 400, kind: ErrVia, detail: "no branch"},
		{name: "bare magic cookie", edits: []edit{set("Via", "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK")}, status: 400, kind: ErrVia, detail: "magic cookie"},
		{name: "branch without cookie", edits: []edit{set("Via", "Via: SIP/2.0/UDP 192.0.2.10;branch=1234")}},
		{name: "top Via version", edits: []edit{set("Via", "Via: SIP/3.0/UDP 192.0.2.10;branch=z9hG4bKa")}, status: 400, kind: ErrVia, detail: "SIP/3.0"},

		{name: "Max-Forwards absent", edits: []edit{set("Max-Forwards", "")}},
		{name: "Max-Forwards 255", edits: []edit{set("Max-Forwards", "Max-Forwards: 255")}},
		{name: "Max-Forwards 256", edits: []edit{set("Max-Forwards", "Max-Forwards: 256")}, status: 400, kind: ErrMaxForwards, detail: "256"},
		{name: "Max-Forwards 1", edits: []edit{set("Max-Forwards", "Max-Forwards: 1")}},
		{name: "Max-Forwards 0 INVITE", edits: []edit{set("Max-Forwards", "Max-Forwards: 0")}, status: 483, kind: ErrTooManyHops},
		{name: "Max-Forwards 0 OPTIONS", start: "OPTIONS sip:bob@example.com SIP/2.0",
			edits: []edit{set("Max-Forwards", "Max-Forwards: 0"), set("CSeq", "CSeq: 1 OPTIONS")}, status: 483, kind: ErrOptionsMaxForwardsZero},
		{name: "large limit option is not a cap", opts: Options{MaxForwardsLimit: 10}},

		{name: "Expires numeric", edits: []edit{add("Expires: 3600")}},
		{name: "Expires huge", edits: []edit{add("Expires: 100000000000000000000000")}},
		{name: "Expires not numeric", edits: []edit{add("Expires: soon")}, status: 400, kind: ErrExpires, detail: `Expires: "soon"`},

		{name: "tel R-URI", start: "INVITE tel:+15551234567 SIP/2.0"},
		{name: "sips R-URI", start: "INVITE sips:bob@example.com SIP/2.0"},
		{name: "mailto R-URI", start: "INVITE mailto:bob@example.com SIP/2.0", status: 416, kind: ErrScheme, detail: `"mailto"`},
		{name: "custom schemes", opts: Options{AllowedSchemes: []string{"SIPS"}}, status: 416, kind: ErrScheme},
		{name: "custom schemes allow", start: "INVITE urn:service:sos SIP/2.0", opts: Options{AllowedSchemes: []string{"sip", "urn"}}},
		{name: "R-URI empty scheme", start: "INVITE :bob SIP/2.0", status: 400, kind: ErrRequestURI, detail: "scheme"},
		{name: "R-URI headers", start: "INVITE sip:bob@example.com?Subject=hi SIP/2.0", status: 400, kind: ErrRequestURI, detail: "escaped headers"},
		{name: "R-URI headers beat scheme", start: "INVITE sip:bob@example.com?Subject=hi SIP/2.0", opts: Options{AllowedSchemes: []string{"tel"}}, status: 400, kind: ErrRequestURI},

		{name: "Proxy-Require", edits: []edit{add("Proxy-Require: foo, bar"), add("Proxy-Require: baz")}, status: 420, kind: ErrBadExtension, detail: "foo, bar, baz"},
		{name: "Proxy-Require tag not a token", edits: []edit{add("Proxy-Require: a b")}, status: 400, kind: ErrBadExtension, detail: `"a b"`},
		{name: "Require is not ours", edits: []edit{add("Require: 100rel, timer")}},
		{name: "483 before 420", edits: []edit{add("Proxy-Require: foo"), set("Max-Forwards", "Max-Forwards: 0")}, status: 483, kind: ErrTooManyHops},
		{name: "416 before 483", start: "INVITE mailto:b@example.com SIP/2.0", edits: []edit{set("Max-Forwards", "Max-Forwards: 0")}, status: 416, kind: ErrScheme},
		{name: "400 before 416", start: "INVITE mailto:b@example.com SIP/2.0", edits: []edit{set("CSeq", "CSeq: 1 BYE")}, status: 400, kind: ErrCSeq},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(t, tt.start, tt.edits...)
			wantErr(t, Request(req, tt.opts), tt.status, tt.kind, tt.detail)
		})
	}
}

func TestRequestProxyRequireUnsupported(t *testing.T) {
	req := request(t, "", add("Proxy-Require: sec-agree , foo"), add("proxy-require: bar,"))
	e := Request(req, Options{})
	wantErr(t, e, 420, ErrBadExtension, "sec-agree")
	if want := []string{"sec-agree", "foo", "bar"}; !slices.Equal(e.Unsupported, want) {
		t.Fatalf("Unsupported = %q, want %q", e.Unsupported, want)
	}
}

func TestRequestOptionsZeroIsDistinct(t *testing.T) {
	req := request(t, "OPTIONS sip:bob@example.com SIP/2.0", set("Max-Forwards", "Max-Forwards: 0"), set("CSeq", "CSeq: 1 OPTIONS"))
	e := Request(req, Options{})
	if !errors.Is(e, ErrOptionsMaxForwardsZero) || errors.Is(e, ErrTooManyHops) || e.Status != 483 || e.Reason != "Too Many Hops" {
		t.Fatalf("got %+v", e)
	}
}

// Values that sipgo's parser never produces but code can build.
func TestRequestConstructed(t *testing.T) {
	base := func(t *testing.T) *sip.Request { return request(t, "", set("Max-Forwards", "")) }

	t.Run("Max-Forwards not a number", func(t *testing.T) {
		req := base(t)
		req.AppendHeader(sip.NewHeader("Max-Forwards", "abc"))
		e := Request(req, Options{})
		wantErr(t, e, 400, ErrMaxForwards, "")
		if e.Detail != `Max-Forwards: "abc" is not a number` {
			t.Fatalf("detail %q", e.Detail)
		}
	})
	t.Run("Max-Forwards generic 0", func(t *testing.T) {
		req := base(t)
		req.AppendHeader(sip.NewHeader("max-forwards", " 0 "))
		wantErr(t, Request(req, Options{}), 483, ErrTooManyHops, "")
	})
	t.Run("CSeq too large", func(t *testing.T) {
		req := base(t)
		req.ReplaceHeader(&sip.CSeqHeader{SeqNo: 1 << 31, MethodName: sip.INVITE})
		wantErr(t, Request(req, Options{}), 400, ErrCSeq, "2147483648")
	})
	t.Run("Content-Length mismatch", func(t *testing.T) {
		req := base(t)
		cl := sip.ContentLengthHeader(7)
		req.ReplaceHeader(&cl)
		wantErr(t, Request(req, Options{}), 400, ErrContentLength, "Content-Length: 7 but the body has")
	})
	t.Run("Content-Length without body", func(t *testing.T) {
		req := base(t)
		req.SetBody(nil)
		cl := sip.ContentLengthHeader(3)
		req.ReplaceHeader(&cl)
		wantErr(t, Request(req, Options{}), 400, ErrContentLength, "0 bytes")
	})
	t.Run("generic Content-Length not a number", func(t *testing.T) {
		req := base(t)
		req.RemoveHeader("Content-Length")
		req.AppendHeader(sip.NewHeader("l", "x"))
		wantErr(t, Request(req, Options{}), 400, ErrContentLength, `"x"`)
	})
	t.Run("generic Content-Length matches", func(t *testing.T) {
		req := base(t)
		req.RemoveHeader("Content-Length")
		req.AppendHeader(sip.NewHeader("Content-Length", "  "+strconv.Itoa(len(req.Body()))))
		wantErr(t, Request(req, Options{}), 0, nil, "")
	})
	t.Run("To without host", func(t *testing.T) {
		req := base(t)
		req.ReplaceHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "bob"}})
		wantErr(t, Request(req, Options{}), 400, ErrAddress, "To: URI has no host")
	})
	t.Run("From bad scheme", func(t *testing.T) {
		req := base(t)
		req.ReplaceHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "1x", Host: "h"}, Params: sip.HeaderParams{{K: "tag", V: "1"}}})
		wantErr(t, Request(req, Options{}), 400, ErrAddress, "From: URI scheme")
	})
	t.Run("Expires typed", func(t *testing.T) {
		req := base(t)
		exp := sip.ExpiresHeader(60)
		req.AppendHeader(&exp)
		wantErr(t, Request(req, Options{}), 0, nil, "")
	})
	t.Run("R-URI without host", func(t *testing.T) {
		req := base(t)
		req.Recipient = sip.Uri{Scheme: "sip", User: "bob"}
		wantErr(t, Request(req, Options{}), 400, ErrRequestURI, "no host")
	})
	t.Run("R-URI control character", func(t *testing.T) {
		req := base(t)
		req.Recipient.User = "bo\x00b"
		wantErr(t, Request(req, Options{}), 400, ErrRequestURI, "control")
	})
	t.Run("nil", func(t *testing.T) {
		if Request(nil, Options{}) == nil || Response(nil) == nil {
			t.Fatal("nil accepted")
		}
	})
}

func TestErrorString(t *testing.T) {
	req := request(t, "", set("CSeq", "CSeq: 1 BYE"))
	var err error = Request(req, Options{})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrCSeq) {
		t.Fatalf("errors.As/Is failed on %v", err)
	}
	if got := err.Error(); !strings.HasPrefix(got, "sipcheck: 400 Bad Request: CSeq: method") {
		t.Fatalf("Error() = %q", got)
	}
	long := strings.Repeat("x", 200)
	if q := quote(long); len(q) > 80 || !strings.HasSuffix(q, "...") {
		t.Fatalf("quote did not truncate: %q", q)
	}
}

func TestNextMaxForwards(t *testing.T) {
	if got := NextMaxForwards(request(t, ""), Options{}); got != 69 {
		t.Fatalf("70 -> %d", got)
	}
	if got := NextMaxForwards(request(t, "", set("Max-Forwards", "Max-Forwards: 200")), Options{MaxForwardsLimit: 20}); got != 199 {
		t.Fatalf("200 -> %d (the limit is not a cap)", got)
	}
	noMF := request(t, "", set("Max-Forwards", ""))
	if got := NextMaxForwards(noMF, Options{}); got != DefaultMaxForwards {
		t.Fatalf("absent -> %d", got)
	}
	if got := NextMaxForwards(noMF, Options{MaxForwardsLimit: 16}); got != 16 {
		t.Fatalf("absent with limit 16 -> %d", got)
	}
	if got := NextMaxForwards(request(t, "", set("Max-Forwards", "Max-Forwards: 0")), Options{}); got != 0 {
		t.Fatalf("0 -> %d", got)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := (Options{}).Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Options{MaxForwardsLimit: 70, AllowedSchemes: []string{"sip", "urn"}}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{{MaxForwardsLimit: 256}, {MaxForwardsLimit: -1}, {AllowedSchemes: []string{"sip", "1bad"}}, {AllowedSchemes: []string{""}}} {
		err := o.Validate()
		if err == nil || !strings.Contains(err.Error(), "Options.") {
			t.Fatalf("%+v: %v", o, err)
		}
	}
}
