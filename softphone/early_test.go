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
func earlyCall(t *testing.T, final int, dir string) (*Call, string, *phonetest.Edge, <-chan Event) {
	t.Helper()
	e := phonetest.Start(t)
	e.EarlyMedia(600, 1500*time.Millisecond, final, dir)
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

// An announcement (183 with a sendonly SDP, then 404) is heard and recorded. The phone sends no RTP (the
// SDP says receive only) but an RTCP report at once, which opens the NAT toward the edge.
func TestEarlyMediaBeforeFailureIsPlayed(t *testing.T) {
	c, rec, e, _ := earlyCall(t, 404, "sendonly")
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end")
	}
	i := c.Info()
	if i.Code != 404 || i.Answered != nil {
		t.Fatalf("call ended %d %s answered=%v, want 404 unanswered", i.Code, i.Reason, i.Answered)
	}
	if st := c.Stats(); st.PacketsReceived < 40 {
		t.Errorf("stats %+v: want the early media counted", st)
	}
	testpeers.AssertTone(t, rec, 600)
	if h := e.Heard(); h.RTP.Load() != 0 || h.RTCP.Load() < 1 {
		t.Errorf("before the answer the phone sent %d RTP and %d RTCP packets: want RTCP only (receive-only early media)",
			h.RTP.Load(), h.RTCP.Load())
	}
}

// Early media with a sendrecv SDP, then 200 OK: until the answer the phone sends silence (never its
// audio); the same media session continues and the phone's tone goes out from the answer on.
func TestEarlyMediaThenAnswer(t *testing.T) {
	c, rec, e, _ := earlyCall(t, 200, "sendrecv")
	if err := c.WaitAnswered(testCtx(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(800 * time.Millisecond)
	if h := e.Heard(); h.RTP.Load() < 20 || h.Loud.Load() != 0 || h.AnsweredLoud.Load() < 10 {
		t.Errorf("RTP from the phone: %d before the answer (%d with sound, want silence only), %d after (%d with sound, want its tone)",
			h.RTP.Load(), h.Loud.Load(), h.AnsweredRTP.Load(), h.AnsweredLoud.Load())
	}
	if err := c.Hangup(testCtx(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	testpeers.AssertTone(t, rec, 600)
}
