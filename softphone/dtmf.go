package softphone

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipedge/sipedge/media/dtmf"
)

const dtmfDigits = "0123456789*#ABCD"

// dtmfQueue schedules the shared RFC 4733 sender's packets on the 20 ms
// send ticks; digits asked for while a batch plays wait for it to finish.
type dtmfQueue struct {
	sender  *dtmf.Sender
	packets []dtmf.Packet
	tick    int // ticks since the batch started
	pending string
}

func newDTMFQueue() (*dtmfQueue, error) {
	s, err := dtmf.NewSender(dtmf.SenderConfig{})
	if err != nil {
		return nil, err
	}
	return &dtmfQueue{sender: s}, nil
}

func (q *dtmfQueue) queue(digits string) error {
	if err := dtmf.ValidDigits(digits); err != nil {
		return fmt.Errorf("%w: %v", ErrBadDTMF, err)
	}
	q.pending += digits
	return nil
}

// due returns the packets to send at this tick (whose timestamp is ts),
// starting a pending batch at ts when idle.
func (q *dtmfQueue) due(ts uint32) []dtmf.Packet {
	if len(q.packets) == 0 {
		if q.pending == "" {
			return nil
		}
		pk, err := q.sender.Digits(q.pending, ts)
		q.pending = ""
		if err != nil || len(pk) == 0 {
			return nil
		}
		q.packets, q.tick = pk, 0
	}
	now := time.Duration(q.tick) * frameDur
	q.tick++
	i := 0
	for i < len(q.packets) && q.packets[i].Offset <= now {
		i++
	}
	out := q.packets[:i]
	q.packets = q.packets[i:]
	return out
}

// active reports whether a batch is playing (audio is replaced meanwhile).
func (q *dtmfQueue) active() bool { return len(q.packets) > 0 || q.pending != "" }

// SendDTMF sends digits as RFC 4733 telephone events, or as SIP INFO
// (application/dtmf-relay) when the peer did not accept telephone-event.
func (c *Call) SendDTMF(ctx context.Context, digits string) error {
	c.mu.Lock()
	med, state := c.med, c.state
	c.mu.Unlock()
	if state != StateActive || med == nil {
		return fmt.Errorf("%w: DTMF needs an answered call", ErrCallState)
	}
	err := med.SendDTMF(digits)
	if err != errNoTelephoneEvent {
		return err
	}
	for _, r := range strings.ToUpper(digits) {
		if err := c.sendInfoDTMF(ctx, string(r)); err != nil {
			return err
		}
	}
	return nil
}

func (c *Call) sendInfoDTMF(ctx context.Context, digit string) error {
	if !strings.Contains(dtmfDigits, digit) {
		return fmt.Errorf("%w: %q", ErrBadDTMF, digit)
	}
	req := c.dlg.request(c.p, sip.INFO, 0)
	ct := sip.ContentTypeHeader("application/dtmf-relay")
	req.AppendHeader(&ct)
	req.SetBody([]byte("Signal=" + digit + "\r\nDuration=160\r\n"))
	res, err := c.p.do(ctx, req, c.dlg.learnSeq)
	if err != nil {
		return fmt.Errorf("INFO: %w", err)
	}
	if !res.IsSuccess() {
		return &StatusError{Method: "INFO", Code: res.StatusCode, Reason: res.Reason}
	}
	return nil
}

// onInfo receives SIP INFO DTMF (application/dtmf-relay or application/dtmf).
func (p *Phone) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := p.dialogCall(req, tx, false)
	if c == nil {
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(h.Value())
	}
	digit := ""
	switch {
	case strings.HasPrefix(ct, "application/dtmf-relay"):
		for _, line := range strings.Split(string(req.Body()), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				digit = strings.ToUpper(strings.TrimSpace(v))
			}
		}
	case strings.HasPrefix(ct, "application/dtmf"):
		digit = strings.ToUpper(strings.TrimSpace(string(req.Body())))
	}
	if digit == "10" {
		digit = "*"
	} else if digit == "11" {
		digit = "#"
	}
	if len(digit) != 1 || !strings.Contains(dtmfDigits, digit) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	c.dtmfReceived(digit)
}

// dtmfReceived records a digit (from RTP or INFO) and emits the event.
func (c *Call) dtmfReceived(digit string) {
	c.mu.Lock()
	c.digits += digit
	c.mu.Unlock()
	e := c.event(EventDTMF)
	e.Digit = digit
	c.p.emit(e)
}
