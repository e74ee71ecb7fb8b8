package softphone

import (
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"
)

// onInvite handles a new incoming call, or a re-INVITE within a dialog.
// sipgo runs it on its own goroutine; it returns once the INVITE is answered
// and acknowledged, rejected, or cancelled.
func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		p.onReinvite(req, tx)
		return
	}
	respond := func(code int, reason string, hdrs ...sip.Header) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range hdrs {
			res.AppendHeader(h)
		}
		_ = tx.Respond(res)
	}
	f, err := p.currentFlow()
	if err != nil {
		respond(503, "Service Unavailable")
		return
	}
	from := req.From()
	if from == nil || req.Contact() == nil || req.CallID() == nil || req.CSeq() == nil {
		respond(400, "Bad Request")
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 100, "Trying", nil))

	var replaced *Call
	if h := req.GetHeader("Replaces"); h != nil {
		cid, toTag, fromTag, ok := parseReplaces(h.Value())
		if ok {
			replaced = p.callByTags(cid, fromTag, toTag)
		}
		if replaced == nil {
			respond(481, "Call/Transaction Does Not Exist")
			return
		}
	}

	c, err := p.newCall(DirIn, from.Address, from.DisplayName, MediaOptions{})
	if err != nil {
		respond(503, "Service Unavailable")
		return
	}
	if p.opts.Contacts != nil {
		if n := p.opts.Contacts.NameFor(from.Address); n != "" {
			c.name = n
		}
	}
	c.replaces = replaced
	localTag := sip.GenerateTagN(16)
	inv := req.Clone()
	inv.To().Params.Add("tag", localTag)
	resp := func(code int, reason string, body []byte) *sip.Response {
		res := sip.NewResponseFromRequest(inv, code, reason, body)
		if code > 100 && code < 300 {
			res.AppendHeader(p.contactHeader(f, false))
			res.AppendHeader(sip.NewHeader("Allow", allowHeader))
			res.AppendHeader(sip.NewHeader("Supported", "replaces, outbound"))
		}
		if body != nil {
			ct := sip.ContentTypeHeader("application/sdp")
			res.AppendHeader(&ct)
		}
		return res
	}

	med, err := newMediaSession(p.localIP, p.log)
	if err != nil {
		_ = tx.Respond(resp(500, "Server Internal Error", nil))
		return
	}
	med.audioBackend = p.opts.AudioBackend
	c.med = med
	c.sdp.addr = med.LocalAddr()
	// An INVITE without SDP (late offer): we offer in the 200 OK and the
	// answer arrives in the ACK, which starts the media.
	lateOffer := len(req.Body()) == 0
	var (
		answer []byte
		neg    Negotiated
	)
	if lateOffer {
		answer, err = c.sdp.offer(sdp.DirectionSendRecv)
		c.ackOffer = true
	} else {
		answer, neg, err = c.sdp.answer(req.Body(), false)
	}
	if err != nil {
		res := resp(488, "Not Acceptable Here", nil)
		res.AppendHeader(sip.NewHeader("Warning", fmt.Sprintf(`399 sipedge-phone "%s"`, strings.ReplaceAll(err.Error(), `"`, "'"))))
		_ = tx.Respond(res)
		c.end(488, "Not Acceptable Here", err)
		return
	}
	d, err := dialogUAS(inv, localTag)
	if err != nil {
		_ = tx.Respond(resp(400, "Bad Request", nil))
		c.end(400, "Bad Request", err)
		return
	}
	c.mu.Lock()
	c.dlg = d
	c.mu.Unlock()
	p.addCall(c)

	cancelled := make(chan struct{})
	tx.OnCancel(func(*sip.Request) { close(cancelled) })
	if err := tx.Respond(resp(180, "Ringing", nil)); err != nil {
		c.end(500, "Server Internal Error", err)
		return
	}
	p.emit(c.event(EventIncoming))
	if p.acct.AutoAnswer || replaced != nil {
		c.decide <- decision{answer: true}
	}

	ring := time.NewTimer(DefaultRingTimeout)
	defer ring.Stop()
	var dec decision
	select {
	case dec = <-c.decide:
	case <-cancelled:
		c.end(487, "Request Terminated", &StatusError{Method: "INVITE", Code: 487, Reason: "cancelled by the caller"})
		return
	case <-tx.Done():
		c.end(487, "Request Terminated", &StatusError{Method: "INVITE", Code: 487, Reason: "transaction ended before answer"})
		return
	case <-ring.C:
		_ = tx.Respond(resp(480, "Temporarily Unavailable", nil))
		c.end(480, "Temporarily Unavailable", &StatusError{Method: "INVITE", Code: 480, Reason: "not answered"})
		return
	case <-p.ctx.Done():
		_ = tx.Respond(resp(503, "Service Unavailable", nil))
		c.end(503, "Service Unavailable", ErrClosed)
		return
	}
	if !dec.answer {
		_ = tx.Respond(resp(dec.code, dec.reason, nil))
		c.end(dec.code, dec.reason, nil)
		return
	}
	if dec.mo != nil {
		c.mu.Lock()
		c.mopts = *dec.mo
		c.mu.Unlock()
	}
	if !lateOffer {
		if err := c.startMedia(neg); err != nil {
			_ = tx.Respond(resp(500, "Server Internal Error", nil))
			c.end(500, "Server Internal Error", err)
			return
		}
	}
	ok := resp(200, "OK", answer)
	if err := tx.Respond(ok); err != nil {
		select {
		case <-cancelled: // the CANCEL won the race with our answer
			c.end(487, "Request Terminated", &StatusError{Method: "INVITE", Code: 487, Reason: "cancelled by the caller"})
		default:
			c.end(500, "Server Internal Error", err)
		}
		return
	}
	c.setActive()
	if !c.waitAck(tx, ok, req.CSeq().SeqNo) {
		p.log.Warn("no ACK for 200 OK; ending call", "call", c.id)
		_ = c.byeAsync()
		c.end(408, "Request Timeout", &StatusError{Method: "INVITE", Code: 408, Reason: "no ACK received"})
	}
}

// waitAck waits for the ACK of a 2xx, retransmitting the 2xx on UDP
// (RFC 3261 section 13.3.1.4). It reports whether the ACK arrived.
func (c *Call) waitAck(tx sip.ServerTransaction, ok *sip.Response, seq uint32) bool {
	interval := sip.T1
	retrans := time.NewTimer(interval)
	defer retrans.Stop()
	giveUp := time.NewTimer(64 * sip.T1)
	defer giveUp.Stop()
	reliable := c.p.target.Network != "UDP"
	for {
		select {
		case ack := <-c.acks:
			if ack.CSeq() != nil && ack.CSeq().SeqNo == seq {
				return true
			}
		case <-retrans.C:
			if !reliable {
				_ = tx.Respond(ok)
			}
			interval = min(2*interval, sip.T2)
			retrans.Reset(interval)
		case <-giveUp.C:
			return false
		case <-c.done:
			return true
		}
	}
}

func (c *Call) byeAsync() error {
	ctx, cancel := contextTimeout(5 * time.Second)
	defer cancel()
	return c.bye(ctx)
}

// onAck delivers an ACK (for a 2xx) to its call.
func (p *Phone) onAck(req *sip.Request, tx sip.ServerTransaction) {
	c := p.callByRequest(req)
	if c == nil {
		return
	}
	if body := req.Body(); len(body) > 0 {
		c.ackAnswer(body)
	}
	select {
	case c.acks <- req:
	default:
	}
}

// onBye ends the call the BYE belongs to.
func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := p.dialogCall(req, tx, false)
	if c == nil {
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	c.end(0, "remote hangup", nil)
}

// onCancel answers a CANCEL that matched no pending INVITE (sipgo handles the matching ones).
func (p *Phone) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
}
