package proxy_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/softphone"
	"github.com/sipedge/sipedge/tlsutil"
)

// A third-party phone (baresip) registers through the edge over TLS and is called by the project's
// phone through the edge and the PBX: both flows cross the edge twice. DTMF reaches it.
func TestBaresipThroughEdge(t *testing.T) {
	testpeers.Require(t, "baresip")
	k := startPBX(t, "alice", "dave")
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	dave := testpeers.StartBaresip(t, testpeers.BaresipOptions{User: "dave", Password: "pw-dave", Domain: "pbx.test",
		Transport: "tls", Outbound: "sip:" + e.TLS + ";transport=tls", CAFile: filepath.Join(e.Cfg.DataDir, tlsutil.SelfSignedCert),
		SIPOutbound: true, ToneHz: 1000, AnswerMode: "auto", Codecs: []string{"PCMU"}, MediaEnc: "srtp-mand"})
	waitB(t, dave, 10*time.Second, testpeers.EventRegisterOK)
	locs, err := k.WaitLocations(ctxT(t, 5*time.Second), "dave", 1)
	if err != nil || locs[0].Path == "" {
		t.Fatalf("dave's location %+v, %v: want a Path through the edge", locs, err)
	}
	alice := startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	ctx := ctxT(t, 30*time.Second)
	rec := filepath.Join(t.TempDir(), "a.wav")
	call := edgetest.CallDesk(t, ctx, alice, dave, "sip:dave@pbx.test", softphone.MediaOptions{Play: "tone:440", Record: rec})
	if err := call.SendDTMF(ctx, "5"); err != nil {
		t.Fatal(err)
	}
	if ev := waitB(t, dave, 5*time.Second, testpeers.EventCallDTMFStart); ev.Param != "5" {
		t.Errorf("baresip got DTMF %q, want 5", ev.Param)
	}
	time.Sleep(1200 * time.Millisecond)
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitB(t, dave, 5*time.Second, testpeers.EventCallClosed)
	edgetest.AssertTones(t, rec, 1000, dave, 440)
}

// Blind and attended transfer by a phone behind the edge (REFER, NOTIFY, INVITE with Replaces cross the
// edge in-dialog).
func TestTransfersThroughEdge(t *testing.T) {
	k := startPBX(t, "alice", "bob", "carol")
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	alice := startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	bob := deskPhone(t, k, "bob", 1000, "auto")
	carol := deskPhone(t, k, "carol", 700, "auto")
	aEv, stop := alice.Events(128)
	defer stop()
	ctx := ctxT(t, 40*time.Second)
	mo := softphone.DialOptions{MediaOptions: softphone.MediaOptions{Play: "tone:440"}}

	// Blind: alice -> bob, then bob is sent to carol.
	c1, err := alice.Dial(ctx, "sip:bob@pbx.test", mo)
	if err != nil {
		t.Fatal(err)
	}
	if err := c1.WaitAnswered(ctx); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallEstablished)
	if err := c1.Transfer(ctx, "sip:carol@pbx.test"); err != nil {
		t.Fatalf("blind transfer through the edge: %v", err)
	}
	waitB(t, carol, 5*time.Second, testpeers.EventCallEstablished)
	waitEvent(t, aEv, softphone.EventEnded, c1.ID(), 5*time.Second)
	if err := carol.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)
	waitB(t, carol, 5*time.Second, testpeers.EventCallClosed)

	// Attended: alice -> bob, alice -> carol (consultation), then bob is connected to carol.
	c2, err := alice.Dial(ctx, "sip:bob@pbx.test", mo)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.WaitAnswered(ctx); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallEstablished)
	c3, err := alice.Dial(ctx, "sip:carol@pbx.test", mo)
	if err != nil {
		t.Fatal(err)
	}
	if err := c3.WaitAnswered(ctx); err != nil {
		t.Fatal(err)
	}
	waitB(t, carol, 5*time.Second, testpeers.EventCallEstablished)
	if err := c2.AttendedTransfer(ctx, c3); err != nil {
		t.Fatalf("attended transfer through the edge: %v", err)
	}
	waitEvent(t, aEv, softphone.EventEnded, c2.ID(), 5*time.Second)
	waitEvent(t, aEv, softphone.EventEnded, c3.ID(), 5*time.Second)
	waitB(t, bob, 5*time.Second, testpeers.EventCallEstablished) // bob's new call (with Replaces) to carol
}

// A phone on UDP through the edge: its flow is its source address, kept alive by its registration.
func TestUDPPhoneThroughEdge(t *testing.T) {
	testpeers.Require(t, "baresip")
	k := startPBX(t, "alice", "erin")
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	erin := testpeers.StartBaresip(t, testpeers.BaresipOptions{User: "erin", Password: "pw-erin", Domain: "pbx.test",
		Outbound: "sip:" + e.UDP + ";transport=udp", ToneHz: 1000, AnswerMode: "auto", Codecs: []string{"PCMU"}, MediaEnc: "srtp-mand"})
	waitB(t, erin, 10*time.Second, testpeers.EventRegisterOK)
	alice := startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	ctx := ctxT(t, 20*time.Second)
	rec := filepath.Join(t.TempDir(), "a.wav")
	call := edgetest.CallDesk(t, ctx, alice, erin, "sip:erin@pbx.test", softphone.MediaOptions{Play: "tone:440", Record: rec})
	time.Sleep(1200 * time.Millisecond)
	if err := erin.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitB(t, erin, 5*time.Second, testpeers.EventCallClosed)
	select {
	case <-call.Done():
	case <-ctx.Done():
		t.Fatal("alice's call did not end after the UDP phone hung up")
	}
	testpeers.AssertTone(t, rec, 1000)
}
