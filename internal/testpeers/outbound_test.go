package testpeers

import (
	"context"
	"testing"
	"time"
)

// TestNamedDomainThroughOutboundProxy: phones of a named domain (no DNS) reach the PBX through an
// outbound proxy, as they reach it through the edge; RFC 5626 phones register with instance and reg-id.
func TestNamedDomainThroughOutboundProxy(t *testing.T) {
	Require(t, "kamailio", "baresip")
	k := StartKamailio(t, KamailioOptions{Domain: "pbx.test", Users: map[string]string{"alice": "a", "bob": "b"}})
	a := StartBaresip(t, BaresipOptions{User: "alice", Password: "a", Domain: "pbx.test", Transport: "tcp",
		Outbound: k.URI("tcp"), SIPOutbound: true})
	b := StartBaresip(t, BaresipOptions{User: "bob", Password: "b", Domain: "pbx.test",
		Outbound: k.URI("udp"), AnswerMode: "auto"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waitRegistered(ctx, t, a, b)
	locs, err := k.Locations("alice")
	if err != nil || len(locs) != 1 || locs[0].RegID != 1 || locs[0].Instance == "" {
		t.Fatalf("Locations(alice) = %+v, %v; want one with reg-id 1 and an instance", locs, err)
	}
	if err := a.Dial("sip:bob@pbx.test"); err != nil {
		t.Fatal(err)
	}
	waitCall(ctx, t, a, EventCallEstablished, EventCallClosed)
	waitCall(ctx, t, b, EventCallEstablished, EventCallClosed)
	if err := b.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitCall(ctx, t, a, EventCallClosed)
}
