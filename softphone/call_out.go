package softphone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"
)

// DialOptions are extra settings of an outgoing call.
type DialOptions struct {
	MediaOptions
	// Headers are added to the INVITE (e.g. Replaces, Referred-By for transfers).
	Headers []sip.Header
	// LateOffer sends the INVITE without SDP: the peer offers in its 2xx and
	// we answer in the ACK (for interoperability tests).
	LateOffer bool
	// replaces is a call of ours to hang up once this one is answered.
	replaces *Call
}

// Dial places a call to dest (a SIP URI, user@host, a number or user on the
// account's domain, or a contact name). It returns once the INVITE is sent;
// follow progress with WaitAnswered, Done or the event stream.
func (p *Phone) Dial(ctx context.Context, dest string, opts DialOptions) (*Call, error) {
	if err := p.checkMediaOptions(opts.MediaOptions); err != nil {
		return nil, err
	}
	f, err := p.currentFlow()
	if err != nil {
		return nil, err
	}
	target, name, err := p.ResolveDestination(dest)
	if err != nil {
		return nil, err
	}
	c, err := p.newCall(DirOut, target, name, opts.MediaOptions)
	if err != nil {
		return nil, err
	}
	c.replaces = opts.replaces
	med, err := newMediaSession(p.localIP, p.log)
	if err != nil {
		return nil, err
	}
	med.audioBackend = p.opts.AudioBackend
	c.med = med
	c.sdp.addr = med.LocalAddr()
	var offer []byte
	if !opts.LateOffer {
		if offer, err = c.sdp.offer(sdp.DirectionSendRecv); err != nil {
			med.Close()
			return nil, fmt.Errorf("softphone: build SDP offer: %w", err)
		}
	}
	req := p.outRequest(sip.INVITE, target, target, name)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	req.AppendHeader(p.contactHeader(f, false))
	req.AppendHeader(sip.NewHeader("Allow", allowHeader))
	req.AppendHeader(sip.NewHeader("Supported", "replaces, outbound"))
	for _, h := range opts.Headers {
		req.AppendHeader(h)
	}
	if offer != nil {
		ct := sip.ContentTypeHeader("application/sdp")
		req.AppendHeader(&ct)
	}
	req.SetBody(offer)
	c.lateOffer = opts.LateOffer
	c.invReq = req
	p.addCall(c)
	c.wg.Add(1)
	go c.runOutgoing(req)
	return c, nil
}

// runOutgoing drives the INVITE transaction: provisional responses, digest
// challenges, CANCEL on hangup, and the 2xx (ACK, media start).
func (c *Call) runOutgoing(req *sip.Request) {
	defer c.wg.Done()
	p := c.p
	tx := c.sendInvite(req)
	if tx == nil {
		return
	}
	var (
		authTries     int
		provisional   bool
		cancelled     bool
		cancelSent    bool
		cancelCh      = c.cancelCh
		cancelTimeout <-chan time.Time
	)
	sendCancel := func() {
		cancelSent = true
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
			defer cancel()
			if _, err := p.do(ctx, cancelRequest(req), nil); err != nil {
				p.log.Warn("CANCEL failed", "call", c.id, "error", err)
			}
		}()
	}
	for {
		select {
		case res := <-tx.Responses():
			switch {
			case res.IsProvisional():
				provisional = true
				if cancelled && !cancelSent {
					sendCancel()
				}
				if res.StatusCode == 180 || res.StatusCode == 183 {
					c.setRinging()
				}
				if res.StatusCode > 100 && !c.lateOffer && !cancelled && isSDP(res) {
					c.earlyMedia(res)
				}
			case res.IsSuccess():
				c.takeAnswer(res)
				if cancelled {
					// 2xx raced our CANCEL: confirm and end the session.
					if c.establish(req, res) == nil {
						ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
						_ = c.bye(ctx)
						cancel()
					}
					c.end(487, "Request Terminated", nil)
					return
				}
				if err := c.establish(req, res); err != nil {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					_ = c.bye(ctx)
					cancel()
					c.end(488, "Not Acceptable Here", err)
				}
				return
			case (res.StatusCode == 401 || res.StatusCode == 407) && authTries < 2 && p.acct.Password != "" && !cancelled:
				authTries++
				if err := p.authorize(req, res); err != nil {
					c.end(res.StatusCode, res.Reason, err)
					return
				}
				req.CSeq().SeqNo++
				req.RemoveHeader("Via")
				tx.Terminate()
				if tx = c.sendInvite(req, sipgo.ClientRequestAddVia); tx == nil {
					return
				}
				provisional = false
			default:
				if cancelled {
					c.end(487, "Request Terminated", nil)
					return
				}
				c.end(res.StatusCode, res.Reason, &StatusError{Method: "INVITE", Code: res.StatusCode, Reason: res.Reason})
				return
			}
		case <-tx.Done():
			err := tx.Err()
			if cancelled {
				c.end(487, "Request Terminated", nil)
				return
			}
			if err == nil {
				err = ErrTimeout
			}
			c.end(408, "Request Timeout", &StatusError{Method: "INVITE", Code: 408, Reason: "Request Timeout (" + err.Error() + ")"})
			return
		case <-cancelCh:
			cancelCh = nil
			cancelled = true
			if provisional {
				sendCancel()
			}
			cancelTimeout = time.After(32 * time.Second)
		case <-cancelTimeout:
			c.end(487, "Request Terminated", nil)
			return
		case <-p.ctx.Done():
			c.end(503, "Service Unavailable", ErrClosed)
			return
		}
	}
}

// sendInvite starts the INVITE client transaction, with the hook for further
// 2xx responses installed before any response is read. It ends the call and
// returns nil when the INVITE cannot be sent.
func (c *Call) sendInvite(req *sip.Request, opts ...sipgo.ClientRequestOption) sip.ClientTransaction {
	tx, err := c.p.cli.TransactionRequest(c.p.ctx, req, opts...)
	if err != nil {
		var se *StatusError
		if errors.As(sendError("INVITE", err), &se) {
			c.end(se.Code, se.Reason, se)
		} else {
			c.end(503, "Service Unavailable", fmt.Errorf("INVITE: %w", err))
		}
		return nil
	}
	c.watchAnswers(tx)
	c.mu.Lock()
	c.invTx = tx
	c.mu.Unlock()
	return tx
}

// establish handles the 2xx of our INVITE: dialog, ACK, SDP answer, media.
func (c *Call) establish(req *sip.Request, res *sip.Response) error {
	d, err := dialogUAC(res, req.Recipient)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.dlg = d
	c.mu.Unlock()
	ack := d.request(c.p, sip.ACK, req.CSeq().SeqNo)
	var (
		neg    Negotiated
		negErr error
	)
	if c.lateOffer {
		// The 2xx carries the offer; our answer goes in the ACK.
		var answer []byte
		if answer, neg, negErr = c.sdp.answer(res.Body(), false); negErr == nil {
			ct := sip.ContentTypeHeader("application/sdp")
			ack.AppendHeader(&ct)
			ack.SetBody(answer)
		}
	} else {
		neg, negErr = c.sdp.applyAnswer(res.Body(), false)
	}
	if err := c.p.cli.WriteRequest(ack); err != nil {
		return fmt.Errorf("ACK: %w", err)
	}
	c.mu.Lock()
	c.ack = ack
	c.mu.Unlock()
	if negErr != nil {
		return negErr
	}
	c.mu.Lock()
	early := c.early
	c.mu.Unlock()
	if early { // media runs since the early answer: now our audio goes out (and a changed answer is followed)
		if err := c.applyNegotiated(neg); err != nil {
			return err
		}
		c.mu.Lock()
		med, muted := c.med, c.muted
		c.mu.Unlock()
		med.SetMute(muted)
	} else if err := c.startMedia(neg); err != nil {
		return err
	}
	c.setActive()
	return nil
}

// earlyMedia plays what the far end sends before it answers (ringback, "the number is not in service"):
// a provisional response carrying the SDP answer (RFC 3960). Until the answer we send encoded silence (if
// the early SDP lets us send at all), never our audio, and an RTCP report at once: these packets open the
// NAT toward the edge and let its relay latch (it forwards only to an address that sent authenticated
// SRTP or SRTCP), so the early media reaches a phone behind NAT. A later early answer (another fork, a
// changed SDP) replaces the first.
func (c *Call) earlyMedia(res *sip.Response) {
	neg, err := c.sdp.applyAnswer(res.Body(), false)
	if err != nil {
		c.p.log.Warn("early media refused", "call", c.id, "status", res.StatusCode, "error", err)
		return
	}
	neg.RemoteHold = false // an announcement is often sendonly; that is not the far end holding the call
	c.mu.Lock()
	first := !c.early
	c.early = true
	c.mu.Unlock()
	if first {
		err = c.startMedia(neg) // muted (silence) until answered: c.early is set
	} else {
		err = c.applyNegotiated(neg)
	}
	if err != nil {
		c.p.log.Warn("early media not started", "call", c.id, "error", err)
		return
	}
	if first {
		c.mu.Lock()
		med := c.med
		c.mu.Unlock()
		med.sendRTCP(false)
		e := c.event(EventRinging)
		e.State = "early_media"
		c.p.emit(e)
	}
}

// isSDP reports whether a message carries an SDP body.
func isSDP(m *sip.Response) bool {
	if len(m.Body()) == 0 {
		return false
	}
	h := m.ContentType()
	return h == nil || strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Value())), "application/sdp")
}

// resendAck answers a retransmitted 2xx.
func (c *Call) resendAck() {
	c.mu.Lock()
	ack := c.ack
	c.mu.Unlock()
	if ack != nil {
		_ = c.p.cli.WriteRequest(ack.Clone())
	}
}

// cancelRequest builds the CANCEL of an INVITE (RFC 3261 section 9.1).
func cancelRequest(inv *sip.Request) *sip.Request {
	req := sip.NewRequest(sip.CANCEL, inv.Recipient)
	req.AppendHeader(sip.HeaderClone(inv.Via()))
	for _, r := range inv.GetHeaders("Route") {
		req.AppendHeader(sip.HeaderClone(r))
	}
	req.AppendHeader(sip.HeaderClone(inv.From()))
	req.AppendHeader(sip.HeaderClone(inv.To()))
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.SetTransport(inv.Transport())
	req.SetDestination(inv.Destination())
	req.Laddr = inv.Laddr
	return req
}
