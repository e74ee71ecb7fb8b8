package proxy

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sipedge/sipedge/proxy/sipcheck"
)

const fOK = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP 1.2.3.4:5;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 4\r\n\r\nbody"
const fBad = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP 1.2.3.4:5;branch=z9hG4bKy\r\nFrom: Carol, Ann <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: d\r\nCSeq: 2 OPTIONS\r\nContent-Length: 0\r\n\r\n"

func TestFramer(t *testing.T) {
	newF := func() *framer { return &framer{max: 1000, parser: sipcheck.NewParser()} }
	// Split across reads at every position: the message comes out whole, once.
	for i := 1; i < len(fOK); i++ {
		f := newF()
		p1, b1, e1 := f.feed([]byte(fOK[:i]))
		p2, b2, e2 := f.feed([]byte(fOK[i:]))
		if e1 != nil || e2 != nil || len(b1)+len(b2) != 0 || string(p1)+string(p2) != fOK {
			t.Fatalf("split at %d: %q %q %v %v", i, p1, p2, e1, e2)
		}
	}
	f := newF()
	pass, bad, err := f.feed([]byte(fOK + "\r\n\r\n" + fBad + fOK))
	if err != nil || string(pass) != fOK+fOK || len(bad) != 1 {
		t.Fatalf("pass %q bad %d err %v", pass, len(bad), err)
	}
	res := string(badRequestFor(bad[0]))
	if !strings.HasPrefix(res, "SIP/2.0 400 ") || !strings.Contains(res, "branch=z9hG4bKy") || !strings.Contains(res, "CSeq: 2 OPTIONS") {
		t.Errorf("400 for the bad message:\n%s", res)
	}
	// A keepalive ping alone is passed through for sipgo's pong.
	if p, _, _ := newF().feed([]byte("\r\n\r\n")); string(p) != "\r\n\r\n" {
		t.Errorf("ping passed as %q", p)
	}
	// Unframeable input closes the connection.
	for name, in := range map[string]string{
		"not sip":         "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"huge header":     "OPTIONS sip:a@b SIP/2.0\r\nX: " + strings.Repeat("a", 2000),
		"huge body":       strings.Replace(fOK, "Content-Length: 4", "Content-Length: 5000", 1),
		"negative length": strings.Replace(fOK, "Content-Length: 4", "Content-Length: -1", 1),
	} {
		if _, _, err := newF().feed([]byte(in)); err == nil {
			t.Errorf("%s: framed", name)
		}
	}
	if badRequestFor([]byte("SIP/2.0 200 OK\r\nVia: x\r\n\r\n")) != nil {
		t.Error("a 400 for a response")
	}
}

// FuzzFramer: any byte stream, split anywhere, never panics; messages handed on parse, and the framer's
// buffer never exceeds the limit.
func FuzzFramer(f *testing.F) {
	f.Add([]byte(fOK), 7)
	f.Add([]byte(fOK+fBad+"\r\n\r\n"+fOK), 100)
	f.Add([]byte("\r\n\r\n"), 1)
	f.Add([]byte("INVITE sip:x SIP/2.0\r\nContent-Length: 99999\r\n\r\n"), 3)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		fr := &framer{max: 2000, parser: sipcheck.NewParser()}
		if split < 0 {
			split = -split
		}
		split %= len(data) + 1
		for _, chunk := range [][]byte{data[:split], data[split:]} {
			pass, bad, err := fr.feed(chunk)
			if err != nil {
				return
			}
			_ = bad
			if len(fr.buf) > fr.max+len(chunk) {
				t.Fatalf("buffer %d over the limit", len(fr.buf))
			}
			if len(pass) > 0 && len(bytes.Trim(pass, "\r\n")) > 0 {
				if _, err := sipcheck.NewParser().ParseSIP(firstMessage(pass)); err != nil {
					t.Fatalf("passed an unparseable message: %v\n%q", err, pass)
				}
			}
		}
	})
}

// firstMessage returns the first framed message of b (headers plus Content-Length body).
func firstMessage(b []byte) []byte {
	b = bytes.TrimLeft(b, "\r\n")
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return b
	}
	n, _ := contentLength(b[:end+4])
	if end+4+n > len(b) {
		return b
	}
	return b[:end+4+n]
}
