package sipcheck

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// FuzzRequest parses arbitrary bytes with sipgo's parser and with NewParser,
// then validates whatever parsed. Neither may panic, and every rejection must
// be a well-formed *Error. Seeds: the RFC 4475 messages and the corpus under
// testdata/fuzz/FuzzRequest.
func FuzzRequest(f *testing.F) {
	files, err := filepath.Glob("testdata/rfc4475/*.sip")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(rawMessage("INVITE sip:bob@example.com SIP/2.0", inviteHeaders(), testSDP))
	f.Add(rawMessage("SIP/2.0 200 OK", okHeaders(), ""))

	parsers := []*sip.Parser{sip.NewParser(), NewParser()}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range parsers {
			msg, err := p.ParseSIP(data)
			if err != nil || msg == nil {
				continue
			}
			var e *Error
			switch m := msg.(type) {
			case *sip.Request:
				e = Request(m, Options{})
				if e == nil {
					_ = NextMaxForwards(m, Options{})
				}
			case *sip.Response:
				e = Response(m)
			}
			if e == nil {
				continue
			}
			switch e.Status {
			case 400, 416, 420, 483, 505:
			default:
				t.Fatalf("unexpected status %d: %v", e.Status, e)
			}
			if e.Reason == "" || e.Detail == "" || e.Kind == nil {
				t.Fatalf("incomplete error %+v", e)
			}
			if (e.Status == 420) != (len(e.Unsupported) > 0) || slices.ContainsFunc(e.Unsupported, func(s string) bool { return !isToken(s) }) {
				t.Fatalf("Unsupported %q with status %d", e.Unsupported, e.Status)
			}
		}
	})
}
