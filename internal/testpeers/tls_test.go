package testpeers

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestTLSPhonesCallEachOther: phones that trust Kamailio's self-signed certificate register over TLS
// and call each other with SRTP; Kamailio reaches the callee on the callee's own TLS connection (baresip
// has no server certificate, so a new connection toward it would fail).
func TestTLSPhonesCallEachOther(t *testing.T) {
	Require(t, "kamailio", "baresip")
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "a", "bob": "b"}, TLS: true})
	if k.Port("tls") == 0 || k.CACertFile() == "" || !strings.HasSuffix(k.URI("tls"), ";transport=tls") {
		t.Fatalf("TLS listener not reported: port %d, ca %q, uri %q", k.Port("tls"), k.CACertFile(), k.URI("tls"))
	}
	opts := func(user, pw string, tone int) BaresipOptions {
		return BaresipOptions{User: user, Password: pw, Domain: k.Addr("tls"), Transport: "tls",
			CAFile: k.CACertFile(), MediaEnc: "srtp-mand", ToneHz: tone}
	}
	a := StartBaresip(t, opts("alice", "a", 440))
	bo := opts("bob", "b", 1000)
	bo.AnswerMode = "auto"
	b := StartBaresip(t, bo)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
	defer cancel()
	waitRegistered(ctx, t, a, b)
	locs, err := k.Locations("bob")
	if err != nil || len(locs) != 1 || !strings.HasPrefix(locs[0].Socket, "tls:") {
		t.Fatalf("Locations(bob) = %+v, %v; want one over TLS", locs, err)
	}
	if err := a.Dial("sip:bob@" + k.Addr("tls")); err != nil {
		t.Fatal(err)
	}
	waitCall(ctx, t, a, EventCallEstablished, EventCallClosed)
	waitCall(ctx, t, b, EventCallEstablished, EventCallClosed)
	time.Sleep(2 * time.Second)
	if err := b.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitCall(ctx, t, a, EventCallClosed)
	waitCall(ctx, t, b, EventCallClosed)
	rec, err := a.Recordings()
	if err != nil {
		t.Fatal(err)
	}
	AssertTone(t, rec.Received, 1000)
}
