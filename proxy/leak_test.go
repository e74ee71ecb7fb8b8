package proxy_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
)

// Everything the edge starts (listeners, flows, transactions, timers, janitor, probes) ends with it.
func TestEdgeLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := startEdge(t, func(c *config.Config) {
		edgetest.LocalUsers(t, c, "alice", "bob")
	})
	a, b := dialRaw(t, "tls", e.TLS), dialRaw(t, "tcp", e.TCP)
	for _, x := range []struct {
		c    *rawClient
		user string
	}{{a, "alice"}, {b, "bob"}} {
		if res := x.c.Register(x.user, "pw-"+x.user, "sipedge"); res == nil || res.StatusCode != 200 {
			t.Fatalf("register %s: %v", x.user, res)
		}
	}
	// An INVITE that rings and is cancelled, and one that is left ringing when the edge stops.
	a.Send(a.Request("INVITE", "sip:bob@sipedge", "sip:alice@sipedge", "sip:bob@sipedge", "Content-Type: application/sdp\r\n", testSDP))
	if inv := b.ReadRequest(3 * time.Second); inv == nil {
		t.Fatal("no INVITE at bob")
	} else {
		b.Respond(inv, 180, "Ringing", "")
	}
	a.Send(a.Request("OPTIONS", "sip:bob@sipedge", "sip:alice@sipedge", "sip:bob@sipedge", "", ""))
	time.Sleep(300 * time.Millisecond)
	a.Conn.Close()
	b.Conn.Close()
	e.Stop() // goleak.VerifyNone (deferred) retries for a while before it reports a leak
}
