package softphone

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sipedge/sipedge/internal/testpeers"
)

// kamailioAccount is an account registering directly at Kamailio on transport.
func kamailioAccount(k *testpeers.Kamailio, transport, user string) Account {
	a := Account{Name: user, User: user, Password: "pw-" + user, Domain: k.Domain(),
		Edge: transport + "://" + k.Addr(transport), RegisterExpires: 60 * time.Second}
	if transport == "tls" {
		a.CAFile = k.CACertFile()
	}
	return a
}

func startKamailio(t *testing.T, users ...string) *testpeers.Kamailio {
	t.Helper()
	testpeers.Require(t, "kamailio")
	m := map[string]string{}
	for _, u := range users {
		m[u] = "pw-" + u
	}
	return testpeers.StartKamailio(t, testpeers.KamailioOptions{Users: m, TLS: true})
}

// waitEvent waits for an event of type typ (and call id, if not empty).
func waitEvent(t *testing.T, ch <-chan Event, typ EventType, call string, d time.Duration) Event {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("event stream closed waiting for %s", typ)
			}
			if e.Type == typ && (call == "" || e.Call == call) {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event within %v", typ, d)
		}
	}
}

func TestKamailioRegisterTransports(t *testing.T) {
	k := startKamailio(t, "u1", "u2", "u3")
	for i, tr := range []string{"udp", "tcp", "tls"} {
		p := startPhone(t, kamailioAccount(k, tr, []string{"u1", "u2", "u3"}[i]), Options{})
		if st := p.Registration(); st.State != RegRegistered {
			t.Errorf("%s: state %s (%s)", tr, st.State, st.Error)
		}
		locs, err := k.Locations([]string{"u1", "u2", "u3"}[i])
		if err != nil || len(locs) != 1 {
			t.Errorf("%s: locations %v, %v", tr, locs, err)
		}
	}
}

func TestKamailioCallBetweenPhones(t *testing.T) {
	k := startKamailio(t, "alice", "bob")
	dir := t.TempDir()
	alice := startPhone(t, kamailioAccount(k, "tls", "alice"), Options{QualityInterval: time.Second})
	bob := startPhone(t, kamailioAccount(k, "tcp", "bob"), Options{})
	bobEv := subscribe(t, bob)
	aliceEv := subscribe(t, alice)

	ctx := testCtx(t, 30*time.Second)
	aRec, bRec := filepath.Join(dir, "alice.wav"), filepath.Join(dir, "bob.wav")
	call, err := alice.Dial(ctx, "bob", DialOptions{MediaOptions: MediaOptions{Play: "tone:440", Record: aRec}})
	if err != nil {
		t.Fatal(err)
	}
	in := waitEvent(t, bobEv, EventIncoming, "", 10*time.Second)
	waitEvent(t, aliceEv, EventRinging, call.ID(), 5*time.Second)
	bc, err := bob.Call(in.Call)
	if err != nil {
		t.Fatal(err)
	}
	if err := bc.Answer(&MediaOptions{Play: "tone:1000", Record: bRec}); err != nil {
		t.Fatal(err)
	}
	if err := call.WaitAnswered(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, aliceEv, EventQuality, call.ID(), 5*time.Second)
	if info := call.Info(); info.SRTP != "AEAD_AES_128_GCM" || info.Codec != "G722" {
		t.Errorf("call info %+v: want G722 with AEAD_AES_128_GCM", info)
	}

	// Hold and resume from alice; bob sees the remote hold.
	if err := call.Hold(ctx); err != nil {
		t.Fatalf("hold: %v", err)
	}
	if e := waitEvent(t, bobEv, EventHold, bc.ID(), 5*time.Second); e.State != "remote" {
		t.Errorf("bob hold event %+v", e)
	}
	if err := call.Unhold(ctx); err != nil {
		t.Fatalf("unhold: %v", err)
	}
	if e := waitEvent(t, bobEv, EventHold, bc.ID(), 5*time.Second); e.State != "none" {
		t.Errorf("bob resume event %+v", e)
	}

	// DTMF both ways (RFC 4733).
	if err := call.SendDTMF(ctx, "12#"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1", "2", "#"} {
		if e := waitEvent(t, bobEv, EventDTMF, bc.ID(), 5*time.Second); e.Digit != want {
			t.Errorf("bob got digit %q, want %q", e.Digit, want)
		}
	}
	// SIP INFO (application/dtmf-relay), as phones without telephone-event send it.
	if err := call.sendInfoDTMF(ctx, "9"); err != nil {
		t.Fatal(err)
	}
	if e := waitEvent(t, bobEv, EventDTMF, bc.ID(), 5*time.Second); e.Digit != "9" {
		t.Errorf("bob got INFO digit %q, want 9", e.Digit)
	}
	if got := bc.Stats().DTMFReceived; got != "12#9" {
		t.Errorf("bob's received digits %q, want 12#9", got)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	end := waitEvent(t, bobEv, EventEnded, bc.ID(), 5*time.Second)
	if end.Reason != "remote hangup" {
		t.Errorf("bob end %+v", end)
	}
	s := call.Stats()
	if s.PacketsSent < 50 || s.PacketsReceived < 50 || s.MOS < 3.5 || s.SRTPErrors != 0 {
		t.Errorf("stats %+v", s)
	}
	<-bc.Done()
	testpeers.AssertTone(t, aRec, 1000)
	testpeers.AssertTone(t, bRec, 440)
}

func TestKamailioBusyAndCancel(t *testing.T) {
	k := startKamailio(t, "carol", "dave")
	carol := startPhone(t, kamailioAccount(k, "tcp", "carol"), Options{})
	dave := startPhone(t, kamailioAccount(k, "udp", "dave"), Options{})
	daveEv := subscribe(t, dave)
	ctx := testCtx(t, 30*time.Second)

	// Busy: dave rejects with 486, carol's call fails with 486.
	call, err := carol.Dial(ctx, "sip:dave@"+k.Domain(), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in := waitEvent(t, daveEv, EventIncoming, "", 10*time.Second)
	dc, _ := dave.Call(in.Call)
	if err := dc.Reject(486); err != nil {
		t.Fatal(err)
	}
	if err := call.WaitAnswered(ctx); !IsStatus(err, 486) {
		t.Fatalf("busy call: err = %v, want 486", err)
	}

	// Cancel: carol hangs up while dave rings; dave sees the call end with 487.
	call, err = carol.Dial(ctx, "dave", DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in = waitEvent(t, daveEv, EventIncoming, "", 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	end := waitEvent(t, daveEv, EventEnded, in.Call, 10*time.Second)
	if end.Code != 487 {
		t.Errorf("dave end event %+v, want 487", end)
	}
	if c := call.Info().Code; c != 487 {
		t.Errorf("carol's cancelled call code %d, want 487", c)
	}

	// Unknown user: 404 from Kamailio.
	call, err = carol.Dial(ctx, "nobody", DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := call.WaitAnswered(ctx); !IsStatus(err, 404) {
		t.Fatalf("unknown user: err = %v, want 404", err)
	}
}

// TestKamailioFlowBreakMidCall kills alice's TCP connection during a call:
// she re-registers within 2 s, refreshes the dialog target, and the call
// still works (bob's BYE reaches her over the new connection).
func TestKamailioFlowBreakMidCall(t *testing.T) {
	k := startKamailio(t, "alice", "bob")
	alice := startPhone(t, kamailioAccount(k, "tcp", "alice"), Options{})
	bob := autoPhone(t, k, "tcp", "bob")
	aEv := subscribe(t, alice)
	bEv := subscribe(t, bob)
	ctx := testCtx(t, 30*time.Second)
	call := dialAnswered(t, ctx, alice, "bob", DialOptions{MediaOptions: MediaOptions{Play: "tone:440"}})
	in := waitEvent(t, bEv, EventAnswered, "", 5*time.Second)
	alice.mu.Lock()
	f := alice.flow
	alice.mu.Unlock()
	broke := time.Now()
	f.close()
	waitEvent(t, aEv, EventRegistration, "", 2*time.Second) // reconnecting
	for {
		e := waitEvent(t, aEv, EventRegistration, "", 3*time.Second)
		if e.State == RegRegistered {
			break
		}
	}
	if d := time.Since(broke); d > 2*time.Second {
		t.Errorf("re-registered after %v, want < 2s", d)
	}
	time.Sleep(500 * time.Millisecond) // the target refresh re-INVITE
	bc, err := bob.Call(in.Call)
	if err != nil {
		t.Fatal(err)
	}
	if err := bc.Hangup(ctx); err != nil {
		t.Fatalf("bob's BYE after alice's reconnect: %v", err)
	}
	select {
	case <-call.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("alice never got bob's BYE over her new flow")
	}
	if s := call.Stats(); s.PacketsReceived < 25 {
		t.Errorf("stats %+v", s)
	}
}

// TestKamailioLateOffer: an INVITE without SDP; the callee offers in the
// 200 OK and the caller answers in the ACK. Audio flows both ways.
func TestKamailioLateOffer(t *testing.T) {
	k := startKamailio(t, "alice", "bob")
	dir := t.TempDir()
	alice := startPhone(t, kamailioAccount(k, "tcp", "alice"), Options{})
	bob := autoPhone(t, k, "tcp", "bob")
	bEv := subscribe(t, bob)
	ctx := testCtx(t, 20*time.Second)
	rec := filepath.Join(dir, "alice.wav")
	call := dialAnswered(t, ctx, alice, "bob", DialOptions{LateOffer: true, MediaOptions: MediaOptions{Play: "tone:440", Record: rec}})
	in := waitEvent(t, bEv, EventAnswered, "", 5*time.Second)
	time.Sleep(1500 * time.Millisecond)
	bc, err := bob.Call(in.Call)
	if err != nil {
		t.Fatal(err)
	}
	if s := bc.Stats(); s.PacketsReceived < 40 || s.SRTP == "none" {
		t.Errorf("bob's stats %+v", s)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if s := call.Stats(); s.PacketsReceived < 40 {
		t.Errorf("alice's stats %+v", s)
	}
}

// TestKamailioForkedAnswers: bob has two auto-answering devices and Kamailio
// forks the INVITE to both. The first answer wins; the other device is
// cancelled by Kamailio or, if its 2xx got through too, ended by alice
// (ACK + BYE, fork.go). Either way exactly one of bob's devices keeps a call.
func TestKamailioForkedAnswers(t *testing.T) {
	k := startKamailio(t, "alice", "bob")
	alice := startPhone(t, kamailioAccount(k, "tcp", "alice"), Options{})
	bob1 := autoPhone(t, k, "tcp", "bob")
	bob2 := autoPhone(t, k, "tcp", "bob")
	ev1 := subscribe(t, bob1)
	ev2 := subscribe(t, bob2)
	if locs, err := k.Locations("bob"); err != nil || len(locs) != 2 {
		t.Fatalf("bob's locations %v, %v", locs, err)
	}
	ctx := testCtx(t, 20*time.Second)
	call := dialAnswered(t, ctx, alice, "bob", DialOptions{})
	// Settled: exactly one call among bob's devices for a whole second (a
	// device that got the fork late is cancelled by Kamailio or, if it
	// answered, ended by alice; unfixed, it kept its call for 32 s).
	deadline := time.Now().Add(6 * time.Second)
	var stable time.Time
	for time.Now().Before(deadline) {
		if len(bob1.Calls())+len(bob2.Calls()) != 1 {
			stable = time.Time{}
		} else if stable.IsZero() {
			stable = time.Now()
		} else if time.Since(stable) > time.Second {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n1, n2 := len(bob1.Calls()), len(bob2.Calls()); n1+n2 != 1 {
		t.Fatalf("bob's devices hold %d and %d calls, want exactly one in total", n1, n2)
	}
	if call.Info().State != StateActive {
		t.Errorf("alice's call %+v", call.Info())
	}
	// A device that answered but lost must have been ended by alice's BYE
	// (not by its own missing-ACK timeout).
	answered := 0
	for _, ev := range []<-chan Event{ev1, ev2} {
		drain := time.After(200 * time.Millisecond)
		devAnswered := false
	loop:
		for {
			select {
			case e := <-ev:
				switch e.Type {
				case EventAnswered:
					answered++
					devAnswered = true
				case EventEnded:
					if devAnswered && e.Reason != "remote hangup" {
						t.Errorf("a forked device's answered call ended with %d %q, want alice's BYE", e.Code, e.Reason)
					}
				}
			case <-drain:
				break loop
			}
		}
	}
	t.Logf("%d of bob's devices answered", answered)
	_ = call.Hangup(ctx)
}

// Kamailio (without its stun module) never answers the STUN keepalives of a
// UDP registration: the phone keeps sending them (they hold a NAT binding
// open) but does not take the silence for a failed flow.
func TestKamailioSilentSTUNKeepsFlow(t *testing.T) {
	k := startKamailio(t, "alice")
	acct := kamailioAccount(k, "udp", "alice")
	acct.Keepalive = time.Second
	p := startPhone(t, acct, Options{PongTimeout: 500 * time.Millisecond})
	time.Sleep(2500 * time.Millisecond) // three keepalives, none answered
	st := p.Registration()
	if st.State != RegRegistered || st.Registrations != 1 || st.Mapped != "" {
		t.Errorf("registration %+v: want the first registration kept and no mapped address", st)
	}
	if !p.stunSilent.Load() {
		t.Error("the phone did not notice that the registrar does not answer STUN")
	}
}
