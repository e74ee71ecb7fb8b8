package proxy_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/softphone"
)

// Done-when 8: standalone mode (no PBX): phones register at the edge itself (local digest auth) and call
// each other; a user's devices all ring.
func TestStandaloneRegistrarCalls(t *testing.T) {
	e := startEdge(t, func(c *config.Config) {
		edgetest.LocalUsers(t, c, "alice", "bob")
	})
	acct := func(u, pw string) softphone.Account {
		a := edgePhone(e, u, pw, "sipedge")
		a.SRTP = "required" // phone to phone: SRTP end to end
		return a
	}
	// A wrong password is refused.
	bad, err := softphone.New(acct("bob", "nope"), softphone.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Start(ctxT(t, 5*time.Second)); err == nil {
		t.Error("registration with a wrong password succeeded")
	}
	bad.Close()

	alice := startPhone(t, acct("alice", "pw-alice"))
	bob1 := startPhone(t, acct("bob", "pw-bob"))
	bob2 := startPhone(t, acct("bob", "pw-bob"))
	b1, stop1 := bob1.Events(64)
	defer stop1()
	b2, stop2 := bob2.Events(64)
	defer stop2()
	aEv, stopA := alice.Events(64)
	defer stopA()
	dir := t.TempDir()
	ctx := ctxT(t, 30*time.Second)

	aRec, bRec := filepath.Join(dir, "a.wav"), filepath.Join(dir, "b.wav")
	call, err := alice.Dial(ctx, "sip:bob@sipedge", softphone.DialOptions{MediaOptions: softphone.MediaOptions{Play: "tone:440", Record: aRec}})
	if err != nil {
		t.Fatal(err)
	}
	in1 := waitEvent(t, b1, softphone.EventIncoming, "", 5*time.Second)
	in2 := waitEvent(t, b2, softphone.EventIncoming, "", 5*time.Second)
	bc, err := bob2.Call(in2.Call)
	if err != nil {
		t.Fatal(err)
	}
	if err := bc.Answer(&softphone.MediaOptions{Play: "tone:1000", Record: bRec}); err != nil {
		t.Fatal(err)
	}
	if err := call.WaitAnswered(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, b1, softphone.EventEnded, in1.Call, 5*time.Second) // the other device stops ringing
	if info := call.Info(); info.SRTP == "" {
		t.Errorf("call without SRTP: %+v", info)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, b2, softphone.EventEnded, bc.ID(), 5*time.Second)
	waitEvent(t, aEv, softphone.EventEnded, call.ID(), 5*time.Second)
	testpeers.AssertTone(t, aRec, 1000)
	testpeers.AssertTone(t, bRec, 440)

	// An unregistered user is temporarily unavailable.
	c2, err := alice.Dial(ctx, "sip:nobody@sipedge", softphone.DialOptions{MediaOptions: softphone.MediaOptions{Play: "silence"}})
	if err != nil {
		t.Fatal(err)
	}
	if end := waitEvent(t, aEv, softphone.EventEnded, c2.ID(), 5*time.Second); end.Code != 480 {
		t.Errorf("call to an unregistered user ended %d %s, want 480", end.Code, end.Reason)
	}
}
