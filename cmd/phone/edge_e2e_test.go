package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/softphone"
	"github.com/sipedge/sipedge/softphone/control"
)

// The end-to-end tests of issue 6 through the edge: the phone registers at a real edge over TLS (pinned
// by fingerprint, SRTP with the edge's media relay), the edge forwards to Kamailio, and the far end is a
// baresip desk phone registered directly at Kamailio (plain RTP).

// Done-when 2: `phone call` through the edge to a desk phone: audio both ways (the dominant frequency of
// each recording is the other side's tone) and DTMF digits received by baresip.
func TestCallCommandThroughEdge(t *testing.T) {
	l := startLab(t, "alice", "bob")
	bob := deskPhone(t, l.k, "bob", 1000, "auto")
	rec := filepath.Join(l.dir, "alice.wav")
	args := append([]string{"call", "bob", "--json", "--play", "tone:440", "--record", rec, "--duration", "2s", "--dtmf", "73"},
		l.account("alice", l.e.TLS)...)
	out, _, err := runPhone(t, 40*time.Second, args...)
	if err != nil {
		t.Fatalf("phone call: %v\n%s", err, out)
	}
	var cs callSummary
	if err := json.Unmarshal([]byte(out), &cs); err != nil || !cs.OK || !cs.Answered || cs.SRTP == "none" || cs.SRTP == "" ||
		cs.PacketsReceived < 50 || cs.Remote != "sip:bob@pbx.test" {
		t.Errorf("call summary %s (%v): want answered with SRTP to the edge and audio", out, err)
	}
	if got := dtmfAt(t, bob, 2); got != "73" {
		t.Errorf("baresip received DTMF %q, want 73", got)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)
	testpeers.AssertTone(t, rec, 1000)
	assertHeard(t, bob, 440)
}

// Done-when 2: a desk phone calls `phone answer` through the edge and hangs up; audio both ways.
func TestAnswerCommandThroughEdge(t *testing.T) {
	l := startLab(t, "alice", "bob")
	bob := deskPhone(t, l.k, "bob", 1000, "manual")
	rec := filepath.Join(l.dir, "alice.wav")
	answered := goPhone(t, 40*time.Second, append([]string{"answer", "--play", "tone:440", "--record", rec, "--duration", "0",
		"--timeout", "20s"}, l.account("alice", l.e.TLS)...)...)
	l.waitRegistered(t, "alice")
	if err := bob.Dial("sip:alice@pbx.test"); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 10*time.Second, testpeers.EventCallEstablished)
	time.Sleep(2 * time.Second)
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	r := <-answered
	if r.err != nil {
		t.Fatalf("phone answer: %v\n%s", r.err, r.out)
	}
	for _, want := range []string{"call from sip:bob@pbx.test", "ended (remote hangup)", "srtp AEAD_AES_128_GCM", "recording " + rec} {
		if !strings.Contains(r.out, want) {
			t.Errorf("answer summary lacks %q:\n%s", want, r.out)
		}
	}
	testpeers.AssertTone(t, rec, 1000)
	assertHeard(t, bob, 440)
}

// Done-when 2 and 3 through the daemon: a desk phone calls the daemon through the edge; the call is
// answered over the control socket with audio both ways, DTMF digits reach baresip, hold and resume
// (re-INVITE through the edge) work, and the desk phone hangs up.
func TestDaemonAnswersThroughEdge(t *testing.T) {
	l := startLab(t, "alice", "bob")
	bob := deskPhone(t, l.k, "bob", 1000, "manual")
	d := startDaemon(t, l.dir, l.account("alice", l.e.TLS)...)
	l.waitRegistered(t, "alice")
	if err := bob.Dial("sip:alice@pbx.test"); err != nil {
		t.Fatal(err)
	}
	in := d.wait(softphone.EventIncoming, "", 10*time.Second)
	if in.Remote != "sip:bob@pbx.test" {
		t.Errorf("incoming call from %q", in.Remote)
	}
	rec := filepath.Join(l.dir, "daemon-in.wav")
	d.do(control.Request{Cmd: control.CmdAnswer, Call: in.Call, Play: "tone:440", Record: rec})
	d.wait(softphone.EventAnswered, in.Call, 5*time.Second)
	waitB(t, bob, 5*time.Second, testpeers.EventCallEstablished)
	time.Sleep(2 * time.Second) // baresip's recorder stops at the first re-INVITE: audio first
	d.do(control.Request{Cmd: control.CmdDTMF, Call: in.Call, Digits: "159#"})
	if got := dtmfAt(t, bob, 4); got != "159#" {
		t.Errorf("baresip received DTMF %q, want 159#", got)
	}
	d.do(control.Request{Cmd: control.CmdHold, Call: in.Call})
	if e := d.wait(softphone.EventHold, in.Call, 5*time.Second); e.State != "local" {
		t.Errorf("hold event %+v", e)
	}
	d.do(control.Request{Cmd: control.CmdUnhold, Call: in.Call})
	if e := d.wait(softphone.EventHold, in.Call, 5*time.Second); e.State != "none" {
		t.Errorf("resume event %+v", e)
	}
	before := d.stats(in.Call).PacketsReceived
	time.Sleep(time.Second)
	if after := d.stats(in.Call).PacketsReceived; after < before+30 {
		t.Errorf("packets received %d -> %d in 1 s after resuming: audio did not resume", before, after)
	}
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	end := d.wait(softphone.EventEnded, in.Call, 5*time.Second)
	if end.Reason != "remote hangup" || end.Stats == nil || end.Stats.SRTP == "none" || end.Stats.PacketsReceived < 100 {
		t.Errorf("ended event %+v", end)
	}
	testpeers.AssertTone(t, rec, 1000)
	assertHeard(t, bob, 440)
}

// Done-when 3 through the daemon: blind and attended transfer with the PBX and a third phone, driven by
// `transfer` commands on the control socket.
func TestDaemonTransfersThroughEdge(t *testing.T) {
	l := startLab(t, "alice", "bob", "carol")
	bob := deskPhone(t, l.k, "bob", 1000, "auto")
	carol := deskPhone(t, l.k, "carol", 700, "auto")
	d := startDaemon(t, l.dir, l.account("alice", l.e.TLS)...)

	// Blind: alice calls bob, then sends him to carol (REFER); bob's new call to carol is answered.
	c1 := d.dial("bob", "tone:440", "")
	d.wait(softphone.EventAnswered, c1, 10*time.Second)
	waitB(t, bob, 5*time.Second, testpeers.EventCallEstablished)
	d.do(control.Request{Cmd: control.CmdTransfer, Call: c1, To: "carol"})
	if e := waitB(t, carol, 5*time.Second, testpeers.EventCallEstablished); !strings.Contains(e.PeerURI, "bob") {
		t.Errorf("carol's call is from %q, want bob", e.PeerURI)
	}
	if e := waitB(t, bob, 5*time.Second, testpeers.EventCallEstablished); !strings.HasPrefix(e.PeerURI, "sip:carol@") {
		t.Errorf("bob's new call is to %q, want carol", e.PeerURI)
	}
	if end := d.wait(softphone.EventEnded, c1, 5*time.Second); end.Reason != "local hangup" && end.Reason != "remote hangup" {
		t.Errorf("alice's transferred call ended with %+v", end)
	}
	if err := carol.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)
	waitB(t, carol, 5*time.Second, testpeers.EventCallClosed)

	// Attended: alice calls bob and consults carol, then connects them (REFER with Replaces): bob calls
	// carol with Replaces, which replaces carol's call with alice; both of alice's calls end.
	c2 := d.dial("bob", "tone:440", "")
	d.wait(softphone.EventAnswered, c2, 10*time.Second)
	waitB(t, bob, 5*time.Second, testpeers.EventCallEstablished)
	d.do(control.Request{Cmd: control.CmdHold, Call: c2})
	c3 := d.dial("carol", "tone:440", "")
	d.wait(softphone.EventAnswered, c3, 10*time.Second)
	waitB(t, carol, 5*time.Second, testpeers.EventCallEstablished)
	d.do(control.Request{Cmd: control.CmdTransfer, Call: c2, With: c3})
	d.wait(softphone.EventEnded, c2, 5*time.Second)
	d.wait(softphone.EventEnded, c3, 5*time.Second)
	if e := waitB(t, bob, 5*time.Second, testpeers.EventCallEstablished); !strings.HasPrefix(e.PeerURI, "sip:carol@pbx.test?Replaces=") {
		t.Errorf("bob's new call is to %q, want carol (with Replaces)", e.PeerURI)
	}
	if e := waitB(t, carol, 5*time.Second, testpeers.EventCallEstablished); !strings.Contains(e.PeerURI, "bob") {
		t.Errorf("carol's new call is from %q, want bob", e.PeerURI)
	}
	if e := waitB(t, carol, 5*time.Second, testpeers.EventCallClosed); !strings.Contains(e.PeerURI, "alice") {
		t.Errorf("carol's replaced call was with %q, want alice", e.PeerURI)
	}
	var st struct {
		Calls []softphone.CallInfo `json:"calls"`
	}
	result(t, d.do(control.Request{Cmd: control.CmdStatus}), &st)
	if len(st.Calls) != 0 {
		t.Errorf("alice still has calls after the transfers: %+v", st.Calls)
	}
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	if e := waitB(t, carol, 5*time.Second, testpeers.EventCallClosed); !strings.Contains(e.PeerURI, "bob") {
		t.Errorf("carol's closed call was with %q, want bob", e.PeerURI)
	}
}

// waitReregistered waits for the daemon to report registered again and returns how long it took.
func (d *daemon) waitReregistered(since time.Time) time.Duration {
	d.t.Helper()
	for {
		if e := d.wait(softphone.EventRegistration, "", 5*time.Second); e.State == softphone.RegRegistered {
			return time.Since(since)
		}
	}
}

// waitOffer waits until baresip received the next SDP offer (an INVITE or re-INVITE).
func waitOffer(t *testing.T, b *testpeers.Baresip) {
	t.Helper()
	if _, err := b.WaitEventFunc(edgetest.Ctx(t, 5*time.Second), func(e testpeers.Event) bool {
		return e.Type == "CALL_REMOTE_SDP" && e.Param == "offer"
	}); err != nil {
		t.Fatalf("baresip got no SDP offer: %v", err)
	}
}

// Done-when 4: the phone's TLS connection to the edge is killed mid-call (by the network: a relay in
// front of the edge closes it). The daemon registers again within 2 s over a new connection, refreshes
// the call's target through the edge (re-INVITE), and the call goes on: audio keeps flowing and the call
// can be hung up from either side over the new connection.
func TestDaemonSurvivesTLSKillThroughEdge(t *testing.T) {
	l := startLab(t, "alice", "bob")
	bob := deskPhone(t, l.k, "bob", 1000, "auto")
	fwd := startForwarder(t, l.e.TLS)
	d := startDaemon(t, l.dir, l.account("alice", fwd.Addr())...)

	for round, farEndHangsUp := range []bool{true, false} {
		call := d.dial("bob", "tone:440", "")
		d.wait(softphone.EventAnswered, call, 10*time.Second)
		waitB(t, bob, 5*time.Second, testpeers.EventCallEstablished)
		waitOffer(t, bob) // the INVITE's
		time.Sleep(time.Second)
		if n := fwd.Kill(); n != 1 {
			t.Fatalf("round %d: %d connections to kill, want the phone's one", round, n)
		}
		killed := time.Now()
		took := d.waitReregistered(killed)
		t.Logf("round %d: registered again %v after the TLS connection was killed", round, took.Round(time.Millisecond))
		if took > 2*time.Second {
			t.Errorf("round %d: re-registration took %v, want < 2s", round, took)
		}
		var st softphone.RegistrationStatus
		var status struct {
			Registration *softphone.RegistrationStatus `json:"registration"`
			Calls        []softphone.CallInfo          `json:"calls"`
		}
		status.Registration = &st
		result(t, d.do(control.Request{Cmd: control.CmdStatus}), &status)
		if st.Registrations != round+2 || len(status.Calls) != 1 || status.Calls[0].State != softphone.StateActive {
			t.Fatalf("round %d: status after the reconnect: %+v, calls %+v", round, st, status.Calls)
		}
		waitOffer(t, bob) // the target refresh (re-INVITE) crossed the edge to bob
		// Audio keeps flowing (media does not depend on the signaling connection).
		before := d.stats(call).PacketsReceived
		time.Sleep(time.Second)
		if after := d.stats(call).PacketsReceived; after < before+30 {
			t.Errorf("round %d: packets received %d -> %d in 1 s after the reconnect", round, before, after)
		}
		if farEndHangsUp {
			// bob's BYE reaches alice only if the edge learned her new connection (target refresh).
			if err := bob.Hangup(); err != nil {
				t.Fatal(err)
			}
			if end := d.wait(softphone.EventEnded, call, 5*time.Second); end.Reason != "remote hangup" {
				t.Errorf("round %d: ended %+v, want bob's hangup", round, end)
			}
		} else {
			d.do(control.Request{Cmd: control.CmdHangup, Call: call})
			d.wait(softphone.EventEnded, call, 5*time.Second)
		}
		waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)
	}
}
