package sipcheck

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// golden is the expected outcome for one RFC 4475 message.
type golden struct {
	section string
	// parseErr: sipgo v1.7.3's own parser (sip.NewParser) rejects the message.
	parseErr bool
	// strictErr: only NewParser (HeaderParsers) rejects it, with this sentinel.
	strictErr error
	// status/kind: what Request (or Response) returns on the message parsed
	// by sipgo's default parser; 0/nil means valid (forwarded).
	status      int
	kind        error
	unsupported []string
	// detail must appear in Error.Detail.
	detail string
	// comment: the RFC's verdict, and why we differ where we do.
	comment string
}

var rfc4475 = map[string]golden{
	// §3.1.1 valid messages: all must pass.
	"wsinv":      {section: "3.1.1.1", comment: "valid; top Via branch lacks the cookie, tolerated"},
	"intmeth":    {section: "3.1.1.2", comment: "valid; sipgo upper-cases the method, so CSeq is compared case-insensitively"},
	"esc01":      {section: "3.1.1.3", comment: "valid"},
	"escnull":    {section: "3.1.1.4", comment: "valid; %00 is escaped text, not a NUL byte"},
	"esc02":      {section: "3.1.1.5", comment: "valid; RE%47IST%45R is an unknown method, forwarded"},
	"lwsdisp":    {section: "3.1.1.6", comment: "valid"},
	"longreq":    {section: "3.1.1.7", comment: "valid; top Via has no branch, a lower one has"},
	"dblreq":     {section: "3.1.1.8", comment: "valid; the second request after Content-Length is ignored"},
	"semiuri":    {section: "3.1.1.9", comment: "valid"},
	"transports": {section: "3.1.1.10", comment: "valid"},
	"mpart01":    {section: "3.1.1.11", comment: "valid"},
	"unreason":   {section: "3.1.1.12", comment: "valid response"},
	"noreason":   {section: "3.1.1.13", comment: "valid response"},

	// §3.1.2 invalid messages.
	"badinv01": {section: "3.1.2.1", parseErr: true, comment: "RFC: 400"},
	"clerr":    {section: "3.1.2.2", parseErr: true, comment: "RFC: 400 over UDP; body shorter than Content-Length"},
	"ncl":      {section: "3.1.2.3", parseErr: true, comment: "RFC: 400"},
	"scalar02": {section: "3.1.2.4", parseErr: true, comment: "RFC: 400 for the CSeq overflow"},
	"scalarlg": {section: "3.1.2.5", parseErr: true, comment: "response; RFC: discard"},
	"quotbal":  {section: "3.1.2.6", parseErr: true, comment: "RFC: 400"},
	"ltgtruri": {section: "3.1.2.7", parseErr: true, comment: "RFC: 400"},
	"lwsruri":  {section: "3.1.2.8", parseErr: true, comment: "RFC: 400"},
	"lwsstart": {section: "3.1.2.9", parseErr: true, comment: "RFC: 400 (may be liberal)"},
	"trws":     {section: "3.1.2.10", parseErr: true, comment: "RFC: 400 (may be liberal)"},
	"escruri": {section: "3.1.2.11", status: 400, kind: ErrRequestURI, detail: "Request-URI",
		comment: "RFC: may reject with 400; a liberal proxy must strip the headers — we reject"},
	"baddate": {section: "3.1.2.12",
		comment: "RFC: may reject; a proxy need not parse Date — forwarded (Date is not our job)"},
	"regbadct": {section: "3.1.2.13", strictErr: ErrAddrSpec,
		comment: "RFC: reasonable to 400, a liberal element may infer <>; only the strict parser can tell it from regescrt"},
	"badaspec": {section: "3.1.2.14", parseErr: true, comment: "RFC: 400 (may be liberal)"},
	"baddn": {section: "3.1.2.15", strictErr: ErrDisplayName,
		comment: "RFC: 400; after sipgo's parse it is indistinguishable from a quoted name, so only the strict parser rejects it"},
	"badvers":    {section: "3.1.2.16", status: 505, kind: ErrVersion, detail: "SIP/7.0", comment: "RFC: 505"},
	"mismatch01": {section: "3.1.2.17", status: 400, kind: ErrCSeq, detail: "does not match", comment: "RFC: 400"},
	"mismatch02": {section: "3.1.2.18", status: 400, kind: ErrCSeq, detail: "does not match", comment: "RFC: 400"},
	"bigcode":    {section: "3.1.2.19", parseErr: true, comment: "response; RFC: discard"},

	// §3.2 transaction layer.
	"badbranch": {section: "3.2.1", status: 400, kind: ErrVia, detail: "magic cookie",
		comment: "RFC: may 400 or fall back to RFC 2543 matching — we reject"},

	// §3.3 application layer.
	"insuf":  {section: "3.3.1", status: 400, kind: ErrMissingHeader, detail: "Call-ID", comment: "RFC: 400"},
	"unkscm": {section: "3.3.2", status: 416, kind: ErrScheme, comment: "RFC: 416"},
	"novelsc": {section: "3.3.3", parseErr: true,
		comment: "RFC: 416 unless soap.beep is supported; sipgo already rejects the scheme while parsing"},
	"unksm2": {section: "3.3.4",
		comment: "RFC: proxies forward it as any other request; the registrar answers 400 — forwarded"},
	"bext01": {section: "3.3.5", status: 420, kind: ErrBadExtension,
		unsupported: []string{"noProxiesSupportThis", "norDoAnyProxiesSupportThis"},
		comment:     "RFC: a proxy answers 420 listing the Proxy-Require tags; Require is for the UAS"},
	"invut": {section: "3.3.6",
		comment: "RFC: the UAS answers 415; a proxy forwards it"},
	"regaut01": {section: "3.3.7",
		comment: "RFC: the registrar answers 401; a proxy forwards it"},
	"multi01": {section: "3.3.8", status: 400, kind: ErrDuplicateHeader, detail: "Call-ID", comment: "RFC: 400"},
	"mcl01":   {section: "3.3.9", status: 400, kind: ErrDuplicateHeader, detail: "Content-Length", comment: "RFC: 400"},
	"bcast": {section: "3.3.10", status: 400, kind: ErrBroadcastVia, detail: "255.255.255.255",
		comment: "response; RFC: a proxy need not look this far, a UAC discards it — we drop it"},
	"zeromf": {section: "3.3.11", status: 483, kind: ErrOptionsMaxForwardsZero,
		comment: "RFC 3261 §16.3: not forwarded; the proxy may answer the OPTIONS itself"},
	"cparam01": {section: "3.3.12", comment: "registrar semantics; a proxy forwards it"},
	"cparam02": {section: "3.3.13", comment: "registrar semantics; a proxy forwards it"},
	"regescrt": {section: "3.3.14", comment: "registrar semantics; a proxy forwards it"},
	"sdp01":    {section: "3.3.15", comment: "RFC: the UAS answers 406; a proxy forwards it"},

	// §3.4 backward compatibility.
	"inv2543": {section: "3.4.1", status: 400, kind: ErrVia, detail: "no branch",
		comment: "RFC: process as RFC 2543 — we deliberately reject requests without any Via branch"},
}

// validate runs Request or Response on a parsed message.
func validate(m sip.Message) *Error {
	switch v := m.(type) {
	case *sip.Request:
		return Request(v, Options{})
	case *sip.Response:
		return Response(v)
	}
	return nil
}

func checkOutcome(t *testing.T, want golden, got *Error) {
	t.Helper()
	if want.status == 0 {
		if got != nil {
			t.Fatalf("want valid, got %v", got)
		}
		return
	}
	if got == nil {
		t.Fatalf("want %d (%v), got valid", want.status, want.kind)
	}
	if got.Status != want.status || !errors.Is(got, want.kind) || got.Reason == "" {
		t.Fatalf("want %d %v, got %d %q kind=%v (%s)", want.status, want.kind, got.Status, got.Reason, got.Kind, got.Detail)
	}
	if !strings.Contains(got.Detail, want.detail) {
		t.Fatalf("detail %q does not mention %q", got.Detail, want.detail)
	}
	if !slices.Equal(got.Unsupported, want.unsupported) {
		t.Fatalf("unsupported = %q, want %q", got.Unsupported, want.unsupported)
	}
}

func TestRFC4475(t *testing.T) {
	files, err := filepath.Glob("testdata/rfc4475/*.sip")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sip")
		seen[name] = true
		want, ok := rfc4475[name]
		if !ok {
			t.Errorf("%s: no golden entry", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := sip.NewParser().ParseSIP(data)
			if want.parseErr != (err != nil) {
				t.Fatalf("sipgo parse error = %v, want error: %v", err, want.parseErr)
			}
			if err == nil {
				checkOutcome(t, want, validate(msg))
			}

			smsg, serr := NewParser().ParseSIP(data)
			switch {
			case want.strictErr != nil:
				var e *Error
				if !errors.Is(serr, want.strictErr) || !errors.As(serr, &e) || e.Status != 400 {
					t.Fatalf("strict parse error = %v, want %v", serr, want.strictErr)
				}
			case want.parseErr:
				if serr == nil {
					t.Fatal("strict parser accepted what sipgo rejects")
				}
			default:
				if serr != nil {
					t.Fatalf("strict parse error: %v", serr)
				}
				checkOutcome(t, want, validate(smsg))
			}
		})
	}
	for name := range rfc4475 {
		if !seen[name] {
			t.Errorf("golden entry %s has no testdata/rfc4475/%s.sip", name, name)
		}
	}
	if len(rfc4475) != 49 {
		t.Errorf("RFC 4475 has 49 messages, table has %d", len(rfc4475))
	}
}
