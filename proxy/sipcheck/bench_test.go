package sipcheck

import (
	"testing"
)

// BenchmarkRequest measures Request on a typical INVITE with SDP. It is
// expected to allocate nothing on the success path.
func BenchmarkRequest(b *testing.B) {
	req := parseRequest(b, rawMessage("INVITE sip:bob@example.com SIP/2.0", inviteHeaders(), testSDP))
	if e := Request(req, Options{}); e != nil {
		b.Fatal(e)
	}
	b.ReportAllocs()
	for b.Loop() {
		if Request(req, Options{}) != nil {
			b.Fatal("rejected")
		}
	}
}

// BenchmarkResponse measures Response on a 200 OK.
func BenchmarkResponse(b *testing.B) {
	res := parseResponse(b, rawMessage("SIP/2.0 200 OK", okHeaders(), ""))
	b.ReportAllocs()
	for b.Loop() {
		if Response(res) != nil {
			b.Fatal("rejected")
		}
	}
}

func TestRequestDoesNotAllocate(t *testing.T) {
	req := parseRequest(t, rawMessage("INVITE sip:bob@example.com SIP/2.0", inviteHeaders(), testSDP))
	if n := testing.AllocsPerRun(100, func() { _ = Request(req, Options{}) }); n != 0 {
		t.Fatalf("Request allocates %.1f times per call", n)
	}
}
