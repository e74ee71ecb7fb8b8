package softphone

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Transfer states reported in transfer events.
const (
	TransferAccepted  = "accepted"  // the peer accepted our REFER (202)
	TransferTrying    = "trying"    // progress NOTIFY (1xx)
	TransferCompleted = "completed" // the new call was answered; our call ends
	TransferFailed    = "failed"
)

// Transfer performs a blind transfer: it asks the peer (REFER) to call
// target, waits for the outcome reported by NOTIFY, and hangs up on success.
func (c *Call) Transfer(ctx context.Context, target string) error {
	uri, _, err := c.p.ResolveDestination(target)
	if err != nil {
		return err
	}
	u := uri
	return c.refer(ctx, "<"+u.String()+">")
}

// AttendedTransfer connects the peer of this call with the peer of other
// (our consultation call): the peer is asked to call other's party with
// Replaces, which replaces our consultation call. Both our calls end on success.
func (c *Call) AttendedTransfer(ctx context.Context, other *Call) error {
	if other == nil || other == c {
		return fmt.Errorf("%w: attended transfer needs a second, different call", ErrCallState)
	}
	other.mu.Lock()
	od, ostate, oremote := other.dlg, other.state, other.remote
	other.mu.Unlock()
	if od == nil || ostate != StateActive {
		return fmt.Errorf("%w: the consultation call %s is not answered", ErrCallState, other.id)
	}
	err := c.refer(ctx, referToWithReplaces(oremote, od.replacesValue()))
	if err == nil {
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		select { // the target normally ends the replaced call itself
		case <-other.done:
		case <-time.After(2 * time.Second):
			_ = other.Hangup(hctx)
		}
	}
	return err
}

// refer sends REFER with the given Refer-To value and follows the NOTIFYs.
func (c *Call) refer(ctx context.Context, referTo string) error {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	c.mu.Lock()
	d, state := c.dlg, c.state
	c.mu.Unlock()
	if d == nil || state != StateActive {
		return fmt.Errorf("%w: transfer needs an answered call", ErrCallState)
	}
	f, err := c.p.currentFlow()
	if err != nil {
		return err
	}
	for len(c.xfer) > 0 {
		<-c.xfer
	}
	req := d.request(c.p, sip.REFER, 0)
	req.AppendHeader(sip.NewHeader("Refer-To", referTo))
	aor := c.p.aor()
	req.AppendHeader(sip.NewHeader("Referred-By", "<"+aor.String()+">"))
	req.AppendHeader(c.p.contactHeader(f, false))
	res, err := c.p.do(ctx, req, d.learnSeq)
	if err != nil {
		return fmt.Errorf("REFER: %w", err)
	}
	if !res.IsSuccess() {
		c.transferEvent(TransferFailed, res.StatusCode, res.Reason)
		return &StatusError{Method: "REFER", Code: res.StatusCode, Reason: res.Reason}
	}
	c.transferEvent(TransferAccepted, res.StatusCode, res.Reason)
	for {
		select {
		case code := <-c.xfer:
			switch {
			case code < 200:
				c.transferEvent(TransferTrying, code, "")
				continue
			case code < 300:
				c.transferEvent(TransferCompleted, code, "")
				hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = c.Hangup(hctx)
				cancel()
				return nil
			default:
				c.transferEvent(TransferFailed, code, "")
				return &StatusError{Method: "transfer", Code: code, Reason: reasonPhrase(code)}
			}
		case <-c.done:
			// The peer hung up after accepting: treat as completed.
			c.transferEvent(TransferCompleted, 200, "peer ended the call")
			return nil
		case <-ctx.Done():
			return fmt.Errorf("transfer: %w", ctx.Err())
		}
	}
}

func (c *Call) transferEvent(state string, code int, reason string) {
	e := c.event(EventTransfer)
	e.State, e.Code, e.Reason = state, code, reason
	c.p.emit(e)
}

// onNotify takes the NOTIFYs of a REFER subscription (sipfrag progress).
func (p *Phone) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	c := p.callByRequest(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Subscription Does Not Exist", nil))
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	ev := req.GetHeader("Event")
	if ev == nil || !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ev.Value())), "refer") {
		return
	}
	if code, ok := sipfragStatus(req.Body()); ok {
		select {
		case c.xfer <- code:
		default:
		}
	}
}

// sipfragStatus reads the status code of a message/sipfrag body ("SIP/2.0 200 OK").
func sipfragStatus(body []byte) (int, bool) {
	line, _, _ := strings.Cut(string(body), "\n")
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(strings.ToUpper(f[0]), "SIP/") {
		return 0, false
	}
	code, err := strconv.Atoi(f[1])
	return code, err == nil && code >= 100 && code <= 699
}

// onRefer handles a REFER from the peer (we are the transferee): accept,
// call the Refer-To target (with Replaces for an attended transfer), report
// progress by NOTIFY, and end the original call on success.
func (p *Phone) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	c := p.dialogCall(req, tx, true)
	if c == nil {
		return
	}
	h := req.GetHeader("Refer-To")
	if h == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request (no Refer-To)", nil))
		return
	}
	var target sip.Uri
	if _, err := sip.ParseAddressValue(h.Value(), &target, nil); err != nil || (target.Scheme != "sip" && target.Scheme != "sips") {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request (bad Refer-To)", nil))
		return
	}
	var hdrs []sip.Header
	if v, ok := target.Headers.Get("Replaces"); ok {
		if dec, err := url.QueryUnescape(v); err == nil {
			v = dec
		}
		hdrs = append(hdrs, sip.NewHeader("Replaces", v))
	}
	if rb := req.GetHeader("Referred-By"); rb != nil {
		hdrs = append(hdrs, sip.NewHeader("Referred-By", rb.Value()))
	}
	target.Headers = nil
	_ = tx.Respond(sip.NewResponseFromRequest(req, 202, "Accepted", nil))
	c.transferEvent("referred", 202, target.String())

	p.goBackground(func() {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Minute)
		defer cancel()
		c.notifyRefer(ctx, 100, "Trying", false)
		c.mu.Lock()
		mo := c.mopts
		c.mu.Unlock()
		nc, err := p.Dial(ctx, target.String(), DialOptions{MediaOptions: mo, Headers: hdrs})
		if err == nil {
			err = nc.WaitAnswered(ctx)
		}
		if err != nil {
			code := errorCode(err, 503)
			c.notifyRefer(ctx, code, reasonPhrase(code), true)
			c.transferEvent(TransferFailed, code, err.Error())
			return
		}
		c.notifyRefer(ctx, 200, "OK", true)
		c.transferEvent(TransferCompleted, 200, nc.ID())
		_ = c.Hangup(ctx)
	})
}

// notifyRefer sends a NOTIFY with a sipfrag status for the implicit REFER subscription.
func (c *Call) notifyRefer(ctx context.Context, code int, reason string, final bool) {
	c.mu.Lock()
	d := c.dlg
	c.mu.Unlock()
	if d == nil {
		return
	}
	req := d.request(c.p, sip.NOTIFY, 0)
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	state := "active;expires=60"
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	if f, err := c.p.currentFlow(); err == nil {
		req.AppendHeader(c.p.contactHeader(f, false))
	}
	ct := sip.ContentTypeHeader("message/sipfrag;version=2.0")
	req.AppendHeader(&ct)
	req.SetBody([]byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", code, reason)))
	if _, err := c.p.do(ctx, req, d.learnSeq); err != nil {
		c.p.log.Debug("NOTIFY failed", "call", c.id, "error", err)
	}
}
