package softphone

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/internal/testpeers"
)

// startBaresipAt starts a baresip phone registered at Kamailio over UDP with mandatory SRTP.
func startBaresipAt(t *testing.T, k *testpeers.Kamailio, user string, tone int, answer string) *testpeers.Baresip {
	t.Helper()
	testpeers.Require(t, "baresip")
	b := testpeers.StartBaresip(t, testpeers.BaresipOptions{
		User: user, Password: "pw-" + user, Domain: k.Domain(), Outbound: k.URI("udp"),
		MediaEnc: "srtp-mand", AnswerMode: answer, ToneHz: tone,
	})
	ctx := testCtx(t, 10*time.Second)
	if _, err := b.WaitEvent(ctx, testpeers.EventRegisterOK); err != nil {
		t.Fatalf("baresip %s did not register: %v", user, err)
	}
	return b
}

func bwait(t *testing.T, b *testpeers.Baresip, types ...string) testpeers.Event {
	t.Helper()
	ctx := testCtx(t, 15*time.Second)
	e, err := b.WaitEvent(ctx, types...)
	if err != nil {
		t.Fatalf("baresip: waiting for %v: %v", types, err)
	}
	return e
}

func TestBaresipPhoneCallsBaresip(t *testing.T) {
	k := startKamailio(t, "alice", "bob")
	bob := startBaresipAt(t, k, "bob", 1000, "auto")
	alice := startPhone(t, kamailioAccount(k, "tls", "alice"), Options{})
	rec := filepath.Join(t.TempDir(), "alice.wav")
	ctx := testCtx(t, 30*time.Second)
	call := dialAnswered(t, ctx, alice, "bob", DialOptions{MediaOptions: MediaOptions{Play: "tone:440", Record: rec}})
	bwait(t, bob, testpeers.EventCallEstablished)
	if info := call.Info(); info.SRTP == "none" || info.SRTP == "" {
		t.Errorf("SRTP suite %q, want SRTP with baresip", info.SRTP)
	}
	// baresip's recorder stops at the first re-INVITE: let audio flow first.
	time.Sleep(2 * time.Second)

	// DTMF to baresip (RFC 4733).
	if err := call.SendDTMF(ctx, "159"); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for got.Len() < 3 {
		got.WriteString(bwait(t, bob, testpeers.EventCallDTMFStart).Param)
	}
	if got.String() != "159" {
		t.Errorf("baresip received DTMF %q, want 159", got.String())
	}
	// DTMF from baresip.
	if err := bob.SendDTMF("7"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(call.Stats().DTMFReceived, "7") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if d := call.Stats().DTMFReceived; d != "7" {
		t.Errorf("phone received DTMF %q, want 7", d)
	}

	// Hold and resume toward baresip.
	if err := call.Hold(ctx); err != nil {
		t.Fatalf("hold: %v", err)
	}
	if err := call.Unhold(ctx); err != nil {
		t.Fatalf("unhold: %v", err)
	}
	time.Sleep(time.Second)
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	bwait(t, bob, testpeers.EventCallClosed)
	s := call.Stats()
	if s.PacketsReceived < 50 || s.MOS < 3.5 || s.SRTPErrors != 0 {
		t.Errorf("stats %+v", s)
	}
	testpeers.AssertTone(t, rec, 1000)
	r, err := bob.Recordings()
	if err != nil {
		t.Fatal(err)
	}
	testpeers.AssertTone(t, r.Received, 440)
}

func TestBaresipCallsPhone(t *testing.T) {
	k := startKamailio(t, "alice", "bob")
	bob := startBaresipAt(t, k, "bob", 1000, "manual")
	alice := startPhone(t, kamailioAccount(k, "tcp", "alice"), Options{})
	ev := subscribe(t, alice)
	if err := bob.Dial("sip:alice@" + k.Domain()); err != nil {
		t.Fatal(err)
	}
	in := waitEvent(t, ev, EventIncoming, "", 10*time.Second)
	c, err := alice.Call(in.Call)
	if err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(t.TempDir(), "in.wav")
	if err := c.Answer(&MediaOptions{Play: "tone:600", Record: rec}); err != nil {
		t.Fatal(err)
	}
	bwait(t, bob, testpeers.EventCallEstablished)
	time.Sleep(2 * time.Second)
	// baresip puts us on hold and back.
	if err := bob.Hold(); err != nil {
		t.Fatal(err)
	}
	if e := waitEvent(t, ev, EventHold, c.ID(), 5*time.Second); e.State != "remote" {
		t.Errorf("hold event %+v", e)
	}
	if err := bob.Resume(); err != nil {
		t.Fatal(err)
	}
	if e := waitEvent(t, ev, EventHold, c.ID(), 5*time.Second); e.State != "none" {
		t.Errorf("resume event %+v", e)
	}
	time.Sleep(time.Second)
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	end := waitEvent(t, ev, EventEnded, c.ID(), 10*time.Second)
	if end.Reason != "remote hangup" {
		t.Errorf("end %+v", end)
	}
	testpeers.AssertTone(t, rec, 1000)
	r, err := bob.Recordings()
	if err != nil {
		t.Fatal(err)
	}
	testpeers.AssertTone(t, r.Received, 600)
}
