package softphone

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipedge/sipedge/softphone/phonetest"
)

// tagged returns the requests of a method sent to the device with the given To tag.
func tagged(reqs []*sip.Request, method sip.RequestMethod, tag string) int {
	n := 0
	for _, r := range reqs {
		if t, _ := r.To().Params.Get("tag"); r.Method == method && t == tag {
			n++
		}
	}
	return n
}

// TestForkedSecondAnswerIsEnded: two 200 OKs (two devices of a forked call)
// arrive back to back on the same connection, so the second reaches sipgo's
// transaction before the phone has handled the first. The first makes the
// call; the second is acknowledged and ended with BYE at once (RFC 3261
// section 13.2.2.4), never left unanswered.
func TestForkedSecondAnswerIsEnded(t *testing.T) {
	e := phonetest.Start(t)
	e.AnswerInvites(2)
	acct := edgeAccount(e, "alice")
	acct.SRTP = SRTPOff
	p := startPhone(t, acct, Options{})
	ctx := testCtx(t, 10*time.Second)
	for i := 0; i < 5; i++ { // the race needed luck before the fix; repeat it
		call := dialAnswered(t, ctx, p, "bob", DialOptions{})
		cid := call.invReq.CallID().Value()
		inCall := func(reqs []*sip.Request) []*sip.Request {
			var out []*sip.Request
			for _, r := range reqs {
				if r.CallID().Value() == cid {
					out = append(out, r)
				}
			}
			return out
		}
		// Either answer may be handled first; the other one must be ended.
		call.mu.Lock()
		win := call.dlg.remoteTag
		call.mu.Unlock()
		lose := map[string]string{"device1": "device2", "device2": "device1"}[win]
		got := inCall(e.WaitInDialog(3*time.Second, func(r []*sip.Request) bool {
			r = inCall(r)
			return tagged(r, sip.ACK, win) >= 1 && tagged(r, sip.ACK, lose) >= 1 && tagged(r, sip.BYE, lose) >= 1
		}))
		if lose == "" || tagged(got, sip.ACK, win) != 1 || tagged(got, sip.ACK, lose) < 1 || tagged(got, sip.BYE, lose) != 1 {
			t.Fatalf("round %d: winner %q, in-dialog requests %v: want ACK to both devices and one BYE to the other", i, win, methodsAndTags(got))
		}
		if tagged(got, sip.BYE, win) != 0 || call.Info().State != StateActive {
			t.Fatalf("round %d: the winning call was ended (%v, %s)", i, methodsAndTags(got), call.Info().State)
		}
		if err := call.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func methodsAndTags(reqs []*sip.Request) []string {
	var out []string
	for _, r := range reqs {
		tag, _ := r.To().Params.Get("tag")
		out = append(out, string(r.Method)+"->"+tag)
	}
	return out
}

// A 2xx that matches no call (its INVITE transaction is gone) is
// acknowledged and ended once; its retransmission only gets the ACK again.
func TestStrayAnswerAckedOnce(t *testing.T) {
	e := phonetest.Start(t)
	acct := edgeAccount(e, "alice")
	p := startPhone(t, acct, Options{})
	res := sip.NewResponse(200, "OK")
	from := &sip.FromHeader{Address: p.aor(), Params: sip.NewParams()}
	from.Params.Add("tag", "mine")
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1"}, Params: sip.NewParams()}
	to.Params.Add("tag", "stray")
	cid := sip.CallIDHeader("stray-call")
	res.AppendHeader(from)
	res.AppendHeader(to)
	res.AppendHeader(&cid)
	res.AppendHeader(&sip.CSeqHeader{SeqNo: 7, MethodName: sip.INVITE})
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: 5099}})
	p.unhandledResponse(res)
	p.unhandledResponse(res.Clone())
	got := e.WaitInDialog(3*time.Second, func(r []*sip.Request) bool {
		return tagged(r, sip.ACK, "stray") >= 2 && tagged(r, sip.BYE, "stray") >= 1
	})
	time.Sleep(200 * time.Millisecond)
	got = e.InDialog()
	if tagged(got, sip.ACK, "stray") != 2 || tagged(got, sip.BYE, "stray") != 1 {
		t.Fatalf("in-dialog requests %v: want 2 ACKs and 1 BYE", methodsAndTags(got))
	}
	for _, r := range got {
		if r.Method == sip.ACK && r.CSeq().SeqNo != 7 {
			t.Errorf("ACK CSeq %d, want 7", r.CSeq().SeqNo)
		}
	}
}

func TestSendErrorMapsUDPLimit(t *testing.T) {
	err := sendError("INVITE", fmt.Errorf("write: %w", sip.ErrUDPMTUCongestion))
	if !IsStatus(err, 513) || !strings.Contains(err.Error(), "tcp://") {
		t.Errorf("over the UDP limit: %v, want 513 with a hint", err)
	}
	other := errors.New("connection refused")
	if got := sendError("BYE", other); got != other {
		t.Errorf("other errors must pass unchanged, got %v", got)
	}
}
