package phonetest

import (
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"
)

// AnswerInvites makes the edge answer every INVITE with n 200 OKs sent back
// to back, each from another "device" (its own To tag), as a forking proxy
// passes on the answers of several devices. The answers carry a plain RTP
// PCMU SDP (use an account with SRTP off). 0 (the default) answers 405.
func (e *Edge) AnswerInvites(n int) {
	e.mu.Lock()
	e.answers = n
	e.mu.Unlock()
}

func (e *Edge) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	e.mu.Lock()
	n, early := e.answers, e.early
	e.mu.Unlock()
	if early != nil {
		e.playEarly(req, tx, early)
		return
	}
	if n == 0 {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil))
		return
	}
	for i := 0; i < n; i++ {
		sdp := fmt.Sprintf("v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
			"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n", i+1, 40000+2*i)
		res := sip.NewResponseFromRequest(req, 200, "OK", []byte(sdp))
		res.To().Params.Add("tag", fmt.Sprintf("device%d", i+1))
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: fmt.Sprintf("device%d", i+1), Host: "127.0.0.1", Port: 5099}})
		ct := sip.ContentTypeHeader("application/sdp")
		res.AppendHeader(&ct)
		_ = tx.Respond(res)
	}
}

func (e *Edge) onInDialog(req *sip.Request, tx sip.ServerTransaction) {
	if req.Method == sip.BYE {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	e.mu.Lock()
	e.inDlg = append(e.inDlg, req)
	e.mu.Unlock()
	select {
	case e.inDlgCh <- struct{}{}:
	default:
	}
}

// InDialog returns the ACK and BYE requests the edge received, in order.
func (e *Edge) InDialog() []*sip.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*sip.Request(nil), e.inDlg...)
}

// WaitInDialog waits until the ACKs and BYEs received satisfy ok, or the timeout passes.
func (e *Edge) WaitInDialog(timeout time.Duration, ok func([]*sip.Request) bool) []*sip.Request {
	deadline := time.After(timeout)
	for {
		if got := e.InDialog(); ok(got) {
			return got
		}
		select {
		case <-e.inDlgCh:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			return e.InDialog()
		}
	}
}
