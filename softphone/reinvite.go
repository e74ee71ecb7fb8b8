package softphone

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"
)

func contextTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// onReinvite answers a re-INVITE (hold/resume by the peer, target refresh, rekey).
func (p *Phone) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	c := p.dialogCall(req, tx, true)
	if c == nil {
		return
	}
	c.mu.Lock()
	pending := c.reinvOut
	localHold := c.localHold
	c.mu.Unlock()
	if pending {
		res := sip.NewResponseFromRequest(req, 491, "Request Pending", nil)
		_ = tx.Respond(res)
		return
	}
	f, err := p.currentFlow()
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
		return
	}
	c.dlg.updateTarget(req)
	var body []byte
	if len(req.Body()) == 0 {
		// Offerless re-INVITE: we offer in the 2xx, the answer comes in the ACK.
		dir := sdp.DirectionSendRecv
		if localHold {
			dir = sdp.DirectionSendOnly
		}
		if body, err = c.sdp.offer(dir); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
			return
		}
		c.mu.Lock()
		c.ackOffer = true
		c.mu.Unlock()
	} else {
		answer, neg, err := c.sdp.answer(req.Body(), localHold)
		if err != nil {
			res := sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
			res.AppendHeader(sip.NewHeader("Warning", fmt.Sprintf(`399 sipedge-phone "%v"`, err)))
			_ = tx.Respond(res)
			return
		}
		if err := c.applyNegotiated(neg); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
			return
		}
		body = answer
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(p.contactHeader(f, false))
	ct := sip.ContentTypeHeader("application/sdp")
	res.AppendHeader(&ct)
	if err := tx.Respond(res); err != nil {
		return
	}
	if !c.waitAck(tx, res, req.CSeq().SeqNo) {
		p.log.Warn("no ACK for re-INVITE 200 OK", "call", c.id)
	}
}

// ackAnswer applies the SDP answer carried in an ACK (after an offerless re-INVITE).
func (c *Call) ackAnswer(body []byte) {
	c.mu.Lock()
	want, hold := c.ackOffer, c.localHold
	c.ackOffer = false
	c.mu.Unlock()
	if !want {
		return
	}
	neg, err := c.sdp.applyAnswer(body, hold)
	if err != nil {
		c.p.log.Warn("bad SDP answer in ACK", "call", c.id, "error", err)
		return
	}
	c.mu.Lock()
	started := c.med != nil && c.med.isStarted()
	c.mu.Unlock()
	if !started {
		// Late-offer INVITE: media starts with the answer.
		if err := c.startMedia(neg); err != nil {
			c.p.log.Warn("media start failed", "call", c.id, "error", err)
		}
		return
	}
	_ = c.applyNegotiated(neg)
}

// onUpdate answers UPDATE (RFC 3311): session refresh, or an SDP offer.
func (p *Phone) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	c := p.dialogCall(req, tx, true)
	if c == nil {
		return
	}
	if len(req.Body()) == 0 {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		return
	}
	c.mu.Lock()
	hold := c.localHold
	c.mu.Unlock()
	answer, neg, err := c.sdp.answer(req.Body(), hold)
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	_ = c.applyNegotiated(neg)
	res := sip.NewResponseFromRequest(req, 200, "OK", answer)
	ct := sip.ContentTypeHeader("application/sdp")
	res.AppendHeader(&ct)
	_ = tx.Respond(res)
}

// applyNegotiated updates media after a new offer/answer and reports hold changes.
func (c *Call) applyNegotiated(neg Negotiated) error {
	c.mu.Lock()
	med := c.med
	wasRemote := c.remoteHold
	localHold := c.localHold
	c.neg = neg
	c.remoteHold = neg.RemoteHold
	c.mu.Unlock()
	if localHold {
		neg.Send, neg.Recv = false, false
	}
	if med != nil {
		if err := med.Update(neg); err != nil {
			return err
		}
	}
	if wasRemote != neg.RemoteHold {
		e := c.event(EventHold)
		e.State = "remote"
		if !neg.RemoteHold {
			e.State = "none"
		}
		c.p.emit(e)
	}
	return nil
}

// Hold puts the call on hold (re-INVITE with a=sendonly).
func (c *Call) Hold(ctx context.Context) error { return c.setHold(ctx, true) }

// Unhold resumes a held call (re-INVITE with a=sendrecv).
func (c *Call) Unhold(ctx context.Context) error { return c.setHold(ctx, false) }

func (c *Call) setHold(ctx context.Context, hold bool) error {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	c.mu.Lock()
	if c.state != StateActive {
		c.mu.Unlock()
		return fmt.Errorf("%w: hold needs an answered call (state %s)", ErrCallState, c.state)
	}
	prev := c.localHold
	c.localHold = hold
	c.mu.Unlock()
	dir := sdp.DirectionSendRecv
	if hold {
		dir = sdp.DirectionSendOnly
	}
	err := c.reinvite(ctx, dir, hold)
	if err != nil {
		c.mu.Lock()
		c.localHold = prev
		c.mu.Unlock()
		return err
	}
	e := c.event(EventHold)
	e.State = "local"
	if !hold {
		e.State = "none"
	}
	c.p.emit(e)
	return nil
}

// reinvite sends a re-INVITE with a new offer and applies the answer. A 491
// is retried once after a random 2.1-4 s wait (RFC 3261 section 14.1).
func (c *Call) reinvite(ctx context.Context, dir sdp.Direction, hold bool) error {
	c.mu.Lock()
	c.reinvOut = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.reinvOut = false
		c.mu.Unlock()
	}()
	f, err := c.p.currentFlow()
	if err != nil {
		return err
	}
	for attempt := 0; attempt < 2; attempt++ {
		offer, err := c.sdp.offer(dir)
		if err != nil {
			return err
		}
		req := c.dlg.request(c.p, sip.INVITE, 0)
		req.AppendHeader(c.p.contactHeader(f, false))
		ct := sip.ContentTypeHeader("application/sdp")
		req.AppendHeader(&ct)
		req.SetBody(offer)
		res, err := c.inviteTransaction(ctx, req)
		if err != nil {
			return fmt.Errorf("re-INVITE: %w", err)
		}
		if res.StatusCode == 491 && attempt == 0 {
			select {
			case <-time.After(2100*time.Millisecond + rand.N(1900*time.Millisecond)):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if !res.IsSuccess() {
			return &StatusError{Method: "re-INVITE", Code: res.StatusCode, Reason: res.Reason}
		}
		c.dlg.updateTarget(res)
		ack := c.dlg.request(c.p, sip.ACK, req.CSeq().SeqNo)
		if err := c.p.cli.WriteRequest(ack); err != nil {
			return fmt.Errorf("ACK: %w", err)
		}
		c.mu.Lock()
		c.ack = ack // answers retransmissions of this 2xx
		c.mu.Unlock()
		neg, err := c.sdp.applyAnswer(res.Body(), hold)
		if err != nil {
			return err
		}
		return c.applyNegotiated(neg)
	}
	return &StatusError{Method: "re-INVITE", Code: 491, Reason: "Request Pending"}
}

// inviteTransaction runs an in-dialog INVITE to its final response, answering digest challenges.
func (c *Call) inviteTransaction(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	p := c.p
	tx, err := p.cli.TransactionRequest(ctx, req)
	if err != nil {
		return nil, sendError("re-INVITE", err)
	}
	for attempt := 0; ; attempt++ {
		res, err := finalResponse(ctx, tx, nil)
		if err != nil {
			tx.Terminate()
			return nil, err
		}
		if (res.StatusCode == 401 || res.StatusCode == 407) && attempt < 2 && p.acct.Password != "" {
			tx.Terminate()
			if err := p.authorize(req, res); err != nil {
				return nil, err
			}
			req.CSeq().SeqNo++
			c.dlg.learnSeq(req.CSeq().SeqNo)
			req.RemoveHeader("Via")
			if tx, err = p.cli.TransactionRequest(ctx, req, sipgo.ClientRequestAddVia); err != nil {
				return nil, sendError("re-INVITE", err)
			}
			continue
		}
		if res.IsSuccess() {
			tx.OnRetransmission(func(*sip.Response) {})
		}
		return res, nil
	}
}

// refreshCalls sends a target refresh (re-INVITE with the new Contact and the
// same media) on every answered call after the flow to the edge was replaced,
// so in-dialog requests reach the phone over the new connection (RFC 5626
// section 4.2.1).
func (p *Phone) refreshCalls() {
	p.mu.Lock()
	calls := make([]*Call, 0, len(p.calls))
	for _, c := range p.calls {
		calls = append(calls, c)
	}
	p.mu.Unlock()
	for _, c := range calls {
		p.goBackground(func() {
			ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
			defer cancel()
			if err := c.refreshTarget(ctx); err != nil {
				p.log.Warn("target refresh after reconnect failed", "call", c.id, "error", err)
			}
		})
	}
}

func (c *Call) refreshTarget(ctx context.Context) error {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	c.mu.Lock()
	state, hold := c.state, c.localHold
	c.mu.Unlock()
	if state != StateActive {
		return nil
	}
	dir := sdp.DirectionSendRecv
	if hold {
		dir = sdp.DirectionSendOnly
	}
	return c.reinvite(ctx, dir, hold)
}
