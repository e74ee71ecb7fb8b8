package sipcheck

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

const testSDP = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\n" +
	"c=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"

// inviteHeaders is a typical INVITE from a phone (RFC 3665 style).
func inviteHeaders() []string {
	return []string{
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport",
		"Max-Forwards: 70",
		"To: Bob <sip:bob@example.com>",
		`From: "Alice" <sip:alice@example.com>;tag=1928301774`,
		"Call-ID: a84b4c76e66710@pc33.example.com",
		"CSeq: 314159 INVITE",
		"Contact: <sip:alice@192.0.2.10:5060>",
		"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS",
		"User-Agent: testphone/1.0",
		"Content-Type: application/sdp",
	}
}

// rawMessage joins a start line, headers and body; Content-Length is added
// unless the headers already carry one.
func rawMessage(start string, headers []string, body string) []byte {
	var b strings.Builder
	b.WriteString(start + "\r\n")
	hasCL := false
	for _, h := range headers {
		n := strings.ToLower(strings.TrimSpace(h[:strings.IndexByte(h, ':')]))
		hasCL = hasCL || n == "content-length" || n == "l"
		b.WriteString(h + "\r\n")
	}
	if !hasCL {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n" + body)
	return []byte(b.String())
}

// edit changes a header list.
type edit func([]string) []string

// set replaces every header whose name is name (case-insensitive) by line,
// or appends line when there is none; an empty line removes them.
func set(name, line string) edit {
	return func(hs []string) []string {
		var out []string
		done := false
		for _, h := range hs {
			if strings.EqualFold(strings.TrimSpace(h[:strings.IndexByte(h, ':')]), name) {
				if !done && line != "" {
					out = append(out, line)
				}
				done = true
				continue
			}
			out = append(out, h)
		}
		if !done && line != "" {
			out = append(out, line)
		}
		return out
	}
}

// add appends a header line.
func add(line string) edit { return func(hs []string) []string { return append(hs, line) } }

func parseRequest(t testing.TB, data []byte) *sip.Request {
	t.Helper()
	m, err := sip.NewParser().ParseSIP(data)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	r, ok := m.(*sip.Request)
	if !ok {
		t.Fatalf("not a request: %T", m)
	}
	return r
}

func parseResponse(t testing.TB, data []byte) *sip.Response {
	t.Helper()
	m, err := sip.NewParser().ParseSIP(data)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	r, ok := m.(*sip.Response)
	if !ok {
		t.Fatalf("not a response: %T", m)
	}
	return r
}

// request builds the typical INVITE (or another start line) with edits.
func request(t testing.TB, start string, edits ...edit) *sip.Request {
	t.Helper()
	hs := inviteHeaders()
	for _, e := range edits {
		hs = e(hs)
	}
	if start == "" {
		start = "INVITE sip:bob@example.com SIP/2.0"
	}
	return parseRequest(t, rawMessage(start, hs, testSDP))
}

// wantErr asserts the outcome of a check; status 0 means valid.
func wantErr(t *testing.T, got *Error, status int, kind error, detail string) {
	t.Helper()
	if status == 0 {
		if got != nil {
			t.Fatalf("want valid, got %v", got)
		}
		return
	}
	if got == nil {
		t.Fatalf("want %d %v, got valid", status, kind)
	}
	if got.Status != status || !errors.Is(got, kind) {
		t.Fatalf("want %d %v, got %d %v (%s)", status, kind, got.Status, got.Kind, got.Detail)
	}
	if got.Reason != reason(status) || got.Reason == "" {
		t.Fatalf("reason %q for %d", got.Reason, status)
	}
	if !strings.Contains(got.Detail, detail) {
		t.Fatalf("detail %q does not contain %q", got.Detail, detail)
	}
}
