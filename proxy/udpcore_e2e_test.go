package proxy_test

import (
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/softphone"
)

func TestUDPCoreSide(t *testing.T) {
	k := startPBX(t, "alice", "bob")
	e := startEdge(t, func(c *config.Config) {
		c.PBX.Targets = []string{"udp://" + k.Addr("udp")}
		c.Listen.Core = "udp://127.0.0.2:0"
	})
	alice := startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	bob := deskPhone(t, k, "bob", 1000, "auto")
	aEv, stop := alice.Events(64)
	defer stop()
	ctx := ctxT(t, 20*time.Second)
	call := edgetest.CallDesk(t, ctx, alice, bob, "sip:bob@pbx.test", softphone.MediaOptions{Play: "tone:440"})
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, aEv, softphone.EventEnded, call.ID(), 5*time.Second)
	c2 := incomingCall(t, bob, "sip:alice@pbx.test", alice, aEv)
	if err := c2.Answer(&softphone.MediaOptions{Play: "tone:440"}); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallEstablished)
	if err := c2.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)
}
