package softphone

import (
	"context"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// A forked INVITE can be answered by several devices (RFC 3261 section
// 13.2.2.4): the first 2xx makes the call, every other 2xx opens a dialog the
// phone must confirm (ACK) and end at once (BYE). sipgo passes only the first
// 2xx of a transaction on Responses(); later ones go to the transaction's
// retransmission hook, and once the transaction is gone, to the unhandled
// response handler. Both paths end here.

// watchAnswers installs the 2xx hook on an INVITE client transaction. It must
// run before the first response is read from tx.Responses(): sipgo holds the
// transaction's state machine while it hands over the first 2xx, so no later
// 2xx can reach the hook before the hook exists.
func (c *Call) watchAnswers(tx sip.ClientTransaction) {
	tx.OnRetransmission(func(r *sip.Response) {
		if r.IsSuccess() {
			c.p.goBackground(func() { c.lateAnswer(r) })
		}
	})
}

// takeAnswer records the 2xx that makes the call; its dialog wins.
func (c *Call) takeAnswer(res *sip.Response) {
	c.mu.Lock()
	c.winTag = toTag(res)
	c.mu.Unlock()
	c.wonOnce.Do(func() { close(c.won) })
}

// lateAnswer handles a 2xx after the first one: a retransmission of the
// winning 2xx gets the ACK again; a 2xx from another fork is confirmed and
// ended. It waits until the winner is known (the first 2xx may still be on
// its way through runOutgoing).
func (c *Call) lateAnswer(res *sip.Response) {
	select {
	case <-c.won:
	case <-c.done:
	case <-c.p.ctx.Done():
		return
	}
	c.mu.Lock()
	win := c.winTag
	c.mu.Unlock()
	if win != "" && toTag(res) == win {
		c.resendAck()
		return
	}
	c.p.dropDialog(res)
}

func toTag(res *sip.Response) string {
	if to := res.To(); to != nil {
		tag, _ := to.Params.Get("tag")
		return tag
	}
	return ""
}

// strayTTL is how long the ACK of a dialog the phone ended is kept for
// retransmitted 2xx responses (64*T1 with the default T1: the UAS retransmits that long).
const strayTTL = 32 * time.Second

// strayDialogs remembers the ACKs of INVITE dialogs that are over (ended
// calls and dropped forks), so a retransmitted 2xx gets its ACK again instead
// of a second BYE.
type strayDialogs struct {
	mu   sync.Mutex
	acks map[string]strayAck
}

type strayAck struct {
	ack   *sip.Request
	until time.Time
}

func dialogKey(callID, localTag, remoteTag string) string {
	return callID + "\x00" + localTag + "\x00" + remoteTag
}

// remember stores the ACK of a finished dialog; it reports false when the
// dialog was already known.
func (s *strayDialogs) remember(key string, ack *sip.Request, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.acks {
		if now.After(v.until) {
			delete(s.acks, k)
		}
	}
	if _, ok := s.acks[key]; ok {
		return false
	}
	if s.acks == nil {
		s.acks = map[string]strayAck{}
	}
	s.acks[key] = strayAck{ack: ack, until: now.Add(strayTTL)}
	return true
}

// ack returns the stored ACK of a finished dialog, or nil.
func (s *strayDialogs) ack(key string, now time.Time) *sip.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.acks[key]; ok && now.Before(v.until) {
		return v.ack
	}
	return nil
}

// rememberEnded keeps the last ACK of an ended outgoing call for 2xx retransmissions.
func (c *Call) rememberEnded() {
	c.mu.Lock()
	d, ack := c.dlg, c.ack
	c.mu.Unlock()
	if d == nil || ack == nil || c.dir != DirOut {
		return
	}
	c.p.strays.remember(dialogKey(d.callID, d.localTag, d.remoteTag), ack, time.Now())
}

// dropDialog confirms and ends a dialog the phone does not want: a second
// fork's 2xx or a 2xx that matches no call. A retransmission of such a 2xx
// only gets the ACK again.
func (p *Phone) dropDialog(res *sip.Response) {
	cid, from, cseq := res.CallID(), res.From(), res.CSeq()
	if cid == nil || from == nil || cseq == nil {
		return
	}
	localTag, _ := from.Params.Get("tag")
	key := dialogKey(string(*cid), localTag, toTag(res))
	now := time.Now()
	if ack := p.strays.ack(key, now); ack != nil {
		_ = p.cli.WriteRequest(ack.Clone())
		return
	}
	d, err := dialogUAC(res, sip.Uri{})
	if err != nil {
		p.log.Debug("cannot end unwanted dialog", "error", err)
		return
	}
	ack := d.request(p, sip.ACK, cseq.SeqNo)
	if !p.strays.remember(key, ack, now) {
		_ = p.cli.WriteRequest(ack.Clone()) // another goroutine is ending it
		return
	}
	if err := p.cli.WriteRequest(ack.Clone()); err != nil {
		return
	}
	p.log.Info("ending an extra answer of a forked call", "call_id", d.callID, "remote_tag", d.remoteTag)
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	if _, err := p.do(ctx, d.request(p, sip.BYE, 0), nil); err != nil {
		p.log.Debug("BYE for an extra answer failed", "error", err)
	}
}

// goBackground runs f on a goroutine Close waits for; after Close it does nothing.
func (p *Phone) goBackground(f func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
	return true
}
