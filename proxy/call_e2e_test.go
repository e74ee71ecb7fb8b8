package proxy_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/softphone"
)

func deskPhone(t *testing.T, k *testpeers.Kamailio, user string, tone int, answer string) *testpeers.Baresip {
	return edgetest.DeskPhone(t, k, user, tone, answer)
}

func waitB(t *testing.T, b *testpeers.Baresip, d time.Duration, types ...string) testpeers.Event {
	t.Helper()
	return edgetest.WaitB(t, b, d, types...)
}

// Done-when 3: calls both ways through the edge with audio, re-INVITE (hold/resume), BYE from either side.
func TestCallsBothWaysThroughEdge(t *testing.T) {
	k := startPBX(t, "alice", "bob")
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	alice := startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	bob := deskPhone(t, k, "bob", 1000, "auto")
	aEv, stop := alice.Events(128)
	defer stop()
	dir := t.TempDir()

	// alice (edge, TLS) -> bob (desk phone at the PBX); bob hangs up: BYE from the core side.
	ctx := ctxT(t, 30*time.Second)
	rec := filepath.Join(dir, "a1.wav")
	call := edgetest.CallDesk(t, ctx, alice, bob, "sip:bob@pbx.test", softphone.MediaOptions{Play: "tone:440", Record: rec})
	time.Sleep(1500 * time.Millisecond)
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, aEv, softphone.EventEnded, call.ID(), 5*time.Second)
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)
	edgetest.AssertTones(t, rec, 1000, bob, 440)

	// bob -> alice: the PBX routes through the edge by Path; alice holds and resumes (re-INVITE from
	// the access side) and hangs up (BYE from the access side).
	time.Sleep(1100 * time.Millisecond) // baresip names recordings by the second
	ac := incomingCall(t, bob, "sip:alice@pbx.test", alice, aEv)
	rec2 := filepath.Join(dir, "a2.wav")
	if err := ac.Answer(&softphone.MediaOptions{Play: "tone:440", Record: rec2}); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallEstablished)
	if err := ac.Hold(ctx); err != nil {
		t.Fatalf("hold through the edge: %v", err)
	}
	if err := ac.Unhold(ctx); err != nil {
		t.Fatalf("resume through the edge: %v", err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := ac.Hangup(ctx); err != nil {
		t.Fatalf("hangup: %v", err)
	}
	// The dialog (with its media and policy counts) is gone before the BYE's 200 reaches the phone, so
	// a call placed right after a hangup never finds the old one still counted.
	if len(e.App.Proxy.Dialogs()) != 0 {
		t.Errorf("dialogs left when the BYE was answered: %+v", e.App.Proxy.Dialogs())
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)
	testpeers.AssertTone(t, rec2, 1000)
}

// Done-when 3: CANCEL before answer and a busy callee, through the edge.
func TestCancelAndBusyThroughEdge(t *testing.T) {
	k := startPBX(t, "alice", "bob")
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	alice := startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	bob := deskPhone(t, k, "bob", 1000, "manual")
	aEv, stop := alice.Events(128)
	defer stop()
	ctx := ctxT(t, 30*time.Second)

	call, err := alice.Dial(ctx, "sip:bob@pbx.test", softphone.DialOptions{MediaOptions: softphone.MediaOptions{Play: "silence"}})
	if err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallIncoming)
	waitEvent(t, aEv, softphone.EventRinging, call.ID(), 5*time.Second)
	if err := call.Hangup(ctx); err != nil { // CANCEL
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)

	call, err = alice.Dial(ctx, "sip:bob@pbx.test", softphone.DialOptions{MediaOptions: softphone.MediaOptions{Play: "silence"}})
	if err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallIncoming)
	if err := bob.Hangup(); err != nil { // rejects the ringing call
		t.Fatal(err)
	}
	end := waitEvent(t, aEv, softphone.EventEnded, call.ID(), 5*time.Second)
	if end.Code < 400 || end.Code == 408 || end.Code == 430 || end.Code == 503 {
		t.Errorf("rejected call ended with %d %s; want the callee's rejection", end.Code, end.Reason)
	}
	_ = context.Background
}

// A PBX that challenges BYE (407): the phone sends the BYE again with credentials through the edge,
// which keeps the dialog across the challenge (a 481 there would leave the desk phone in the call).
func TestChallengedBYEThroughEdge(t *testing.T) {
	k := testpeers.StartKamailio(t, testpeers.KamailioOptions{Domain: "pbx.test", ChallengeBYE: true,
		Users: map[string]string{"alice": "pw-alice", "bob": "pw-bob"}})
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	alice := startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	bob := deskPhone(t, k, "bob", 1000, "auto")
	ctx := ctxT(t, 20*time.Second)
	call := edgetest.CallDesk(t, ctx, alice, bob, "sip:bob@pbx.test", softphone.MediaOptions{Play: "tone:440"})
	if err := call.Hangup(ctx); err != nil {
		t.Fatalf("hangup: %v", err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)
	if ds := e.App.Proxy.Dialogs(); len(ds) != 0 {
		t.Errorf("dialogs left after the challenged BYE went through: %+v", ds)
	}
	if log, _ := os.ReadFile(k.LogPath()); bytes.Count(log, []byte("<- BYE")) < 2 {
		t.Error("Kamailio did not see the BYE twice (challenged, then with credentials)")
	}
}
