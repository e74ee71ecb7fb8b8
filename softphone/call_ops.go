package softphone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// end finishes the call once: media stops, the call leaves the phone, the
// ended event and the history entry are written.
func (c *Call) end(code int, reason string, err error) {
	c.mu.Lock()
	if c.state == StateEnded {
		c.mu.Unlock()
		return
	}
	prev := c.state
	c.state = StateEnded
	c.endCode, c.endReason, c.endErr = code, reason, err
	med := c.med
	neg, answered := c.neg, c.answered
	c.mu.Unlock()

	var s CallStats
	if med != nil {
		s = med.Close()
	}
	s = c.withCallFields(s, neg, answered)
	c.mu.Lock()
	c.finalStats = &s
	c.mu.Unlock()
	c.rememberEnded()
	c.p.mu.Lock()
	delete(c.p.calls, c.id)
	c.p.mu.Unlock()
	close(c.done) // after the call left the phone: once Done is closed, Calls() no longer lists it
	c.mu.Lock()
	invTx := c.invTx
	c.mu.Unlock()
	if invTx != nil {
		invTx.Terminate()
	}

	e := c.event(EventEnded)
	e.State = prev
	e.Code, e.Reason, e.Stats = code, reason, &s
	if err != nil {
		e.Error = err.Error()
	}
	c.p.emit(e)
	if h := c.p.opts.History; h != nil {
		info := c.Info()
		_ = h.Append(HistoryEntry{
			Time: info.Started, Account: c.p.acct.Name, Direction: c.dir, Remote: info.Remote, Name: info.Name,
			Answered: !answered.IsZero(), Duration: s.Duration, Code: code, Reason: reason,
			Codec: s.Codec, SRTP: s.SRTP, Stats: &s,
		})
	}
}

// Hangup ends the call: CANCEL while an outgoing call rings, 603 Decline for
// an unanswered incoming call, BYE once answered.
func (c *Call) Hangup(ctx context.Context) error {
	c.mu.Lock()
	state, dir := c.state, c.dir
	c.mu.Unlock()
	switch {
	case state == StateEnded:
		return nil
	case state != StateActive && dir == DirOut:
		c.cancelOnce.Do(func() { close(c.cancelCh) })
		select {
		case <-c.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	case state != StateActive:
		return c.Reject(603)
	}
	err := c.bye(ctx)
	c.end(0, "local hangup", nil)
	return err
}

func (c *Call) bye(ctx context.Context) error {
	c.mu.Lock()
	d := c.dlg
	c.mu.Unlock()
	if d == nil {
		return nil
	}
	req := d.request(c.p, sip.BYE, 0)
	res, err := c.p.do(ctx, req, d.learnSeq)
	if err != nil {
		return fmt.Errorf("BYE: %w", err)
	}
	if !res.IsSuccess() && res.StatusCode != 481 {
		return &StatusError{Method: "BYE", Code: res.StatusCode, Reason: res.Reason}
	}
	return nil
}

// Reject declines an incoming call that is still ringing (486 Busy Here by
// default; 603 Decline, 480 and other 4xx-6xx codes are allowed).
func (c *Call) Reject(code int) error {
	if code == 0 {
		code = 486
	}
	if code < 400 || code > 699 {
		return fmt.Errorf("%w: reject code %d is not 400..699", ErrCallState, code)
	}
	if err := c.decideRinging(decision{code: code, reason: reasonPhrase(code)}, "rejected"); err != nil {
		return err
	}
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
	}
	return nil
}

// Answer answers a ringing incoming call, optionally with new media options.
func (c *Call) Answer(mo *MediaOptions) error {
	if mo != nil {
		if err := c.p.checkMediaOptions(*mo); err != nil {
			return err
		}
	}
	return c.decideRinging(decision{answer: true, mo: mo}, "answered")
}

// decideRinging hands the decision on a ringing incoming call to its INVITE handler.
func (c *Call) decideRinging(d decision, verb string) error {
	c.mu.Lock()
	ok := c.dir == DirIn && c.state == StateRinging
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: only a ringing incoming call can be %s", ErrCallState, verb)
	}
	select {
	case c.decide <- d:
		return nil
	default:
		return fmt.Errorf("%w: the call was already answered or rejected", ErrCallState)
	}
}

// startMedia starts the media session with the negotiated parameters.
func (c *Call) startMedia(neg Negotiated) error {
	c.mu.Lock()
	c.neg = neg
	c.remoteHold = neg.RemoteHold
	// Early media (not answered yet) sends silence: set before the first frame goes out.
	med, mo, muted := c.med, c.mopts, c.muted || (c.early && c.state != StateActive)
	c.mu.Unlock()
	if med == nil {
		return fmt.Errorf("%w: no media session", ErrCallState)
	}
	med.SetMute(muted)
	return med.Start(neg, mo, c.dtmfReceived)
}

// Mute stops (true) or resumes (false) sending our audio; RTP keeps flowing with silence.
func (c *Call) Mute(on bool) error {
	c.mu.Lock()
	c.muted = on
	med := c.med
	c.mu.Unlock()
	if med != nil {
		med.SetMute(on)
	}
	return nil
}

func reasonPhrase(code int) string {
	switch code {
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 513:
		return "Message Too Large"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	}
	if code >= 600 {
		return "Global Failure"
	}
	if code >= 500 {
		return "Server Error"
	}
	return "Request Failed"
}

// checkMediaOptions rejects specs this build or machine cannot open before
// any SIP is sent: a source that does not parse, device audio without cgo,
// and an audio device that does not match or does not open.
func (p *Phone) checkMediaOptions(mo MediaOptions) error {
	if isDevice(mo.Play) {
		if err := checkDevice(mo.Play, DeviceCapture, p.opts.AudioBackend); err != nil {
			return fmt.Errorf("--play %s: %w", strings.TrimSpace(mo.Play), err)
		}
	} else if mo.Play != "" {
		if _, err := parseSourceSpec(mo.Play); err != nil {
			return err
		}
	}
	if isDevice(mo.Record) {
		if err := checkDevice(mo.Record, DevicePlayback, p.opts.AudioBackend); err != nil {
			return fmt.Errorf("--record %s: %w", strings.TrimSpace(mo.Record), err)
		}
	}
	return nil
}

// errorCode maps an end error to a SIP status for reporting.
func errorCode(err error, def int) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return def
}
