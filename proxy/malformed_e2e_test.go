package proxy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/softphone"
)

// Done-when 9: malformed and oversized messages get 400 or are dropped, and the edge keeps serving
// other users (a registered phone calls before and after the barrage).
func TestMalformedAndOversizedInput(t *testing.T) {
	k := startPBX(t, "alice", "bob", "carol")
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	alice := startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	bob := deskPhone(t, k, "bob", 1000, "auto")
	call := func() {
		t.Helper()
		ctx := ctxT(t, 10*time.Second)
		c, err := alice.Dial(ctx, "sip:bob@pbx.test", softphone.DialOptions{MediaOptions: softphone.MediaOptions{Play: "silence"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.WaitAnswered(ctx); err != nil {
			t.Fatalf("call while/after bad input: %v", err)
		}
		if err := c.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
		waitB(t, bob, 5*time.Second, "CALL_CLOSED")
	}
	call()

	c := dialRaw(t, "tls", e.TLS)
	if res := c.Register("carol", "pw-carol", "pbx.test"); res == nil || res.StatusCode != 200 {
		t.Fatalf("register carol: %v", res)
	}
	good := c.Request("OPTIONS", "sip:bob@pbx.test", "sip:carol@pbx.test", "sip:bob@pbx.test", "", "")
	fresh := func() string { // a new branch and CSeq per message: each is its own transaction
		good = c.Request("OPTIONS", "sip:bob@pbx.test", "sip:carol@pbx.test", "sip:bob@pbx.test", "", "")
		return good
	}
	cases := []struct {
		name string
		msg  func() string
		want int
	}{
		{"no Call-ID", func() string { return dropHeader(fresh(), "Call-ID") }, 400},
		{"two CSeq", func() string {
			return strings.Replace(fresh(), "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nCSeq: 9 OPTIONS\r\n", 1)
		}, 400},
		{"CSeq method mismatch", func() string { return strings.Replace(fresh(), "OPTIONS\r\nContact", "INVITE\r\nContact", 1) }, 400},
		{"Max-Forwards not a number", func() string { return strings.Replace(fresh(), "Max-Forwards: 70", "Max-Forwards: lots", 1) }, 400},
		{"Max-Forwards zero", func() string {
			return strings.Replace(strings.Replace(fresh(), "Max-Forwards: 70", "Max-Forwards: 0", 1), "OPTIONS", "MESSAGE", -1)
		}, 483},
		{"bad scheme", func() string { return strings.Replace(fresh(), "OPTIONS sip:bob@pbx.test", "OPTIONS http://bob", 1) }, 416},
		{"bad version", func() string { return strings.Replace(fresh(), "SIP/2.0\r\n", "SIP/7.0\r\n", 1) }, 505},
		{"unbalanced quotes", func() string { return strings.Replace(fresh(), "From: <", "From: \"carol <", 1) }, 400},
		{"unquoted display name with a comma (RFC 4475 baddn)", func() string {
			return strings.Replace(fresh(), "From: <", "From: Carol, Ann <", 1)
		}, 400},
		{"Proxy-Require", func() string {
			return strings.Replace(fresh(), "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nProxy-Require: foo\r\n", 1)
		}, 420},
	}
	for _, tc := range cases {
		c.Send(tc.msg())
		res := c.ReadFinal(3 * time.Second)
		if res == nil || res.StatusCode != tc.want {
			t.Errorf("%s: got %v, want %d", tc.name, res, tc.want)
		}
	}
	// Oversized (above limits.max_message_size): the stream cannot be resynchronised, so the connection
	// is closed; a garbage stream likewise.
	big := dialRaw(t, "tls", e.TLS)
	big.Send(strings.Replace(fresh(), "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nX-Pad: "+strings.Repeat("a", 20000)+"\r\n", 1))
	if res := big.Read(3 * time.Second); res != nil {
		t.Errorf("oversized message answered %v; want the connection closed", res.StartLine())
	}
	junk := dialRaw(t, "tcp", e.TCP)
	junk.Send("HELLO WORLD\r\n\r\n\x00\x01\x02 not sip at all\r\n\r\n")
	if res := junk.Read(2 * time.Second); res != nil {
		t.Errorf("garbage answered %v", res.StartLine())
	}
	// UDP: oversized and garbage datagrams are dropped; a malformed parseable one gets 400.
	u := dialRaw(t, "udp", e.UDP)
	u.Send(strings.Repeat("x", 30000))
	u.Send("\x16\x03\x01 garbage")
	u.Send(strings.Replace(dropHeader(fresh(), "Call-ID"), "SIP/2.0/TLS", "SIP/2.0/UDP", 1))
	if res := u.ReadFinal(3 * time.Second); res == nil || res.StatusCode != 400 {
		t.Errorf("malformed UDP request: %v, want 400", res)
	}
	// The registered client's connection survived its own 400s, and calls still work.
	c.Send(fresh())
	if res := c.ReadFinal(3 * time.Second); res == nil || res.StatusCode >= 400 && res.StatusCode != 404 && res.StatusCode != 407 {
		t.Errorf("good OPTIONS after bad ones: %v", res)
	}
	call()
}

func dropHeader(msg, name string) string {
	var out []string
	for _, l := range strings.Split(msg, "\r\n") {
		if !strings.HasPrefix(l, name+":") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\r\n")
}
