package softphone

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/softphone/phonetest"
)

// earlyCall dials through a fake edge that answers with 183 and a 600 Hz announcement for 1.5 s, then
// final; it returns the call (ended or answered), its recording and the events seen.
func earlyCall(t *testing.T, final int) (*Call, string, *phonetest.Edge, <-chan Event) {
	t.Helper()
	e := phonetest.Start(t)
	e.EarlyMedia(600, 1500*time.Millisecond, final)
	acct := edgeAccount(e, "alice")
	acct.SRTP = SRTPOff
	p := startPhone(t, acct, Options{})
	ev, stop := p.Events(64)
	t.Cleanup(stop)
	rec := filepath.Join(t.TempDir(), "early.wav")
	c, err := p.Dial(testCtx(t, 10*time.Second), "ivr", DialOptions{MediaOptions: MediaOptions{Play: "tone:1000", Record: rec}})
	if err != nil {
		t.Fatal(err)
	}
	e2 := waitEvent(t, ev, EventRinging, c.ID(), 5*time.Second)
	if e2.State != "early_media" {
		e2 = waitEvent(t, ev, EventRinging, c.ID(), 5*time.Second)
	}
	if e2.State != "early_media" {
		t.Fatalf("ringing event state %q, want early_media", e2.State)
	}
	return c, rec, e, ev
}

// An announcement sent before a failure (183 with SDP, then 404) is heard and recorded; the phone sends
// nothing while it has not been answered.
func TestEarlyMediaBeforeFailureIsPlayed(t *testing.T) {
	c, rec, e, _ := earlyCall(t, 404)
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end")
	}
	i := c.Info()
	if i.Code != 404 || i.Answered != nil {
		t.Fatalf("call ended %d %s answered=%v, want 404 unanswered", i.Code, i.Reason, i.Answered)
	}
	if st := c.Stats(); st.PacketsReceived < 40 || st.PacketsSent != 0 {
		t.Errorf("stats %+v: want the early media counted and nothing sent", st)
	}
	testpeers.AssertTone(t, rec, 600)
	if early, _ := e.EarlyHeard(); early != 0 {
		t.Errorf("the phone sent %d packets before it was answered", early)
	}
}

// Early media, then 200 OK: the same media session continues and the phone starts sending on answer.
func TestEarlyMediaThenAnswer(t *testing.T) {
	c, rec, e, _ := earlyCall(t, 200)
	if err := c.WaitAnswered(testCtx(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(800 * time.Millisecond)
	if early, answered := e.EarlyHeard(); early != 0 || answered < 10 {
		t.Errorf("packets from the phone: %d before the answer (want 0), %d after (want ~30)", early, answered)
	}
	if err := c.Hangup(testCtx(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	testpeers.AssertTone(t, rec, 600)
}
