package proxy_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/relay"
	"github.com/sipedge/sipedge/softphone"
)

// A phone on IPv6 (an LTE network is often IPv6-only) reaches an IPv4 PBX through the edge: signaling
// over TLS on [::1], SRTP on an IPv6 access leg, plain RTP on the IPv4 core leg; tones both ways.
func TestIPv6PhoneThroughEdge(t *testing.T) {
	k := startPBX(t, "alice", "bob")
	e := startEdge(t, func(c *config.Config) {
		c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")}
		c.Listen.Access = []string{"tls://[::1]:0"}
	})
	if !strings.HasPrefix(e.TLS, "[::1]:") {
		t.Fatalf("TLS listener %s, want [::1]", e.TLS)
	}
	acct := edgePhone(e, "alice", "pw-alice", "pbx.test")
	acct.LocalIP = "::1"
	alice := startPhone(t, acct)
	bob := deskPhone(t, k, "bob", 1000, "auto")
	ctx := ctxT(t, 20*time.Second)
	rec := filepath.Join(t.TempDir(), "a.wav")
	call := edgetest.CallDesk(t, ctx, alice, bob, "sip:bob@pbx.test", softphone.MediaOptions{Play: "tone:440", Record: rec})
	time.Sleep(1500 * time.Millisecond)
	legs := edgetest.OnlySession(t, e).Stats().Streams[0].Legs
	phone, pbx := legs[relay.Caller], legs[relay.Callee]
	if !phone.Local.Addr().Is6() || !phone.Remote.Addr().Is6() || !pbx.Local.Addr().Is4() || phone.Suite == "" || !phone.Latched {
		t.Errorf("access leg %s <-> %s (%s, latched %v), core leg %s: want SRTP over IPv6 toward the phone, IPv4 toward the PBX",
			phone.Local, phone.Remote, phone.Suite, phone.Latched, pbx.Local)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)
	edgetest.AssertTones(t, rec, 1000, bob, 440)

	// A client signalling over IPv6 that offers IPv4 media cannot be relayed: 488, not a silent call.
	raw := dialRaw(t, "tls", e.TLS)
	if res := raw.Register("bob", "pw-bob", "pbx.test"); res == nil || res.StatusCode != 200 {
		t.Fatalf("register bob over IPv6: %v", res)
	}
	res := raw.Do("INVITE", "sip:alice@pbx.test", "sip:bob@pbx.test", "sip:alice@pbx.test", "Content-Type: application/sdp\r\n",
		edgetest.TestSDP, "bob", "pw-bob")
	if res == nil || res.StatusCode != 488 {
		t.Fatalf("IPv4 offer over IPv6 signalling: %v, want 488", res)
	}
}
