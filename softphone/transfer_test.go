package softphone

import (
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/internal/testpeers"
)

func TestTransferBlindBaresip(t *testing.T) {
	k := startKamailio(t, "alice", "bob", "carol")
	bob := startBaresipAt(t, k, "bob", 1000, "auto")
	alice := startPhone(t, kamailioAccount(k, "tls", "alice"), Options{})
	carol := startPhone(t, kamailioAccount(k, "tcp", "carol"), Options{})
	aEv := subscribe(t, alice)
	cEv := subscribe(t, carol)
	ctx := testCtx(t, 40*time.Second)

	call := dialAnswered(t, ctx, alice, "bob", DialOptions{})
	bwait(t, bob, testpeers.EventCallEstablished)
	done := make(chan error, 1)
	go func() { done <- call.Transfer(ctx, "carol") }()
	in := waitEvent(t, cEv, EventIncoming, "", 15*time.Second)
	if !strings.Contains(in.Remote, "bob") {
		t.Errorf("carol's incoming call is from %q, want bob", in.Remote)
	}
	cc, err := carol.Call(in.Call)
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Answer(nil); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("transfer: %v", err)
	}
	if e := waitEvent(t, aEv, EventTransfer, call.ID(), 5*time.Second); e.State != TransferAccepted {
		t.Errorf("first transfer event %+v", e)
	}
	<-call.Done()
	if cc.Info().State != StateActive {
		t.Errorf("carol's call state %s, want active", cc.Info().State)
	}
	_ = cc.Hangup(ctx)
}

// TestTransferAttended: alice talks to dave, consults carol, then connects
// dave and carol (REFER with Replaces); carol's call with alice is replaced.
func TestTransferAttended(t *testing.T) {
	k := startKamailio(t, "alice", "carol", "dave")
	alice := startPhone(t, kamailioAccount(k, "tls", "alice"), Options{})
	carol := autoPhone(t, k, "tcp", "carol")
	dave := autoPhone(t, k, "udp", "dave")
	cEv := subscribe(t, carol)
	dEv := subscribe(t, dave)
	ctx := testCtx(t, 40*time.Second)

	toDave := dialAnswered(t, ctx, alice, "dave", DialOptions{})
	if err := toDave.Hold(ctx); err != nil {
		t.Fatal(err)
	}
	toCarol := dialAnswered(t, ctx, alice, "carol", DialOptions{})
	first := waitEvent(t, cEv, EventAnswered, "", 5*time.Second)
	if err := toDave.AttendedTransfer(ctx, toCarol); err != nil {
		t.Fatalf("attended transfer: %v", err)
	}
	// dave placed a new call to carol that replaced carol's call with alice.
	var daveNew Event
	for {
		daveNew = waitEvent(t, dEv, EventAnswered, "", 10*time.Second)
		if daveNew.Direction == DirOut {
			break
		}
	}
	replacedBy(t, cEv, first, "dave")
	<-toDave.Done()
	<-toCarol.Done()
	if n := len(alice.Calls()); n != 0 {
		t.Errorf("alice still has %d calls", n)
	}
	dc, err := dave.Call(daveNew.Call)
	if err != nil {
		t.Fatalf("dave's call to carol is gone: %v", err)
	}
	_ = dc.Hangup(ctx)
}

// TestTransferAttendedBaresip: baresip is the transferee; it must call carol
// with Replaces, which replaces carol's consultation call with alice.
func TestTransferAttendedBaresip(t *testing.T) {
	k := startKamailio(t, "alice", "bob", "carol")
	bob := startBaresipAt(t, k, "bob", 1000, "auto")
	alice := startPhone(t, kamailioAccount(k, "tls", "alice"), Options{})
	carol := autoPhone(t, k, "tcp", "carol")
	cEv := subscribe(t, carol)
	ctx := testCtx(t, 40*time.Second)

	toBob := dialAnswered(t, ctx, alice, "bob", DialOptions{})
	bwait(t, bob, testpeers.EventCallEstablished)
	toCarol := dialAnswered(t, ctx, alice, "carol", DialOptions{})
	first := waitEvent(t, cEv, EventAnswered, "", 5*time.Second)
	if err := toBob.AttendedTransfer(ctx, toCarol); err != nil {
		t.Fatalf("attended transfer: %v", err)
	}
	second := replacedBy(t, cEv, first, "bob")
	<-toBob.Done()
	cc, err := carol.Call(second.Call)
	if err != nil {
		t.Fatalf("carol's call with bob is gone: %v", err)
	}
	_ = cc.Hangup(ctx)
}

// replacedBy waits until the call first of an auto-answering phone (events
// ev) is replaced by a new answered call from the named user, and returns
// the new call's event.
func replacedBy(t *testing.T, ev <-chan Event, first Event, from string) Event {
	t.Helper()
	second := waitEvent(t, ev, EventAnswered, "", 10*time.Second)
	if second.Call == first.Call || !strings.Contains(second.Remote, from) {
		t.Errorf("the new call %+v, want one from %s", second, from)
	}
	waitEvent(t, ev, EventEnded, first.Call, 5*time.Second)
	return second
}
