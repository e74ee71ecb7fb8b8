package proxy

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"go.uber.org/zap"
)

// DialogInfo describes a tracked dialog (for the admin API, media and policy).
type DialogInfo struct {
	ID        string `json:"call_id"`
	Session   string `json:"media_session"` // media session (relay)
	Method    string `json:"method"`
	UserA     string `json:"caller_user,omitempty"` // access user of the caller leg ("" for a core leg)
	UserB     string `json:"callee_user,omitempty"`
	Confirmed bool   `json:"confirmed"`
}

// Dialogs lists the tracked dialogs.
func (p *Proxy) Dialogs() []DialogInfo {
	out := []DialogInfo{}
	for _, d := range p.dialogs.list() {
		d.mu.Lock()
		out = append(out, DialogInfo{ID: d.callID, Session: d.media, Method: d.method, UserA: d.a.user, UserB: d.b.user,
			Confirmed: d.confirmed})
		d.mu.Unlock()
	}
	return out
}

// Flows lists the access flows with their users and registered contacts.
func (p *Proxy) Flows() []FlowInfo {
	out := []FlowInfo{}
	for _, f := range p.flows.list() {
		out = append(out, f.Info())
	}
	return out
}

// endDialog forgets a dialog that ended by BYE.
func (p *Proxy) endDialog(d *dialog, reason string) {
	d.mu.Lock()
	already := d.ended
	d.ended = true
	d.mu.Unlock()
	if !already {
		p.dialogs.remove(d)
		d.mu.Lock()
		m := d.media
		d.mu.Unlock()
		if d.method == "INVITE" {
			p.endMedia(m, reason)
			d.mu.Lock()
			answered := d.confirmed
			d.mu.Unlock()
			if answered && p.hooks.CallEnded != nil {
				p.hooks.CallEnded(d.info(reason))
			}
		}
		p.log.Debug("dialog ended", zap.String("call_id", d.callID), zap.String("reason", reason))
	}
}

// EndCall ends every confirmed INVITE dialog of a Call-ID with a BYE to both parties (used by media
// timeouts and policy). It returns when both BYEs are answered or timed out.
func (p *Proxy) EndCall(ctx context.Context, callID, reason string) error {
	var found []*dialog
	for _, d := range p.dialogs.list() {
		d.mu.Lock()
		ok := d.callID == callID && d.method == "INVITE" && d.confirmed && !d.ended
		d.mu.Unlock()
		if ok {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return fmt.Errorf("no call with Call-ID %q", callID)
	}
	for _, d := range found {
		p.endDialog(d, reason)
		var wg sync.WaitGroup
		for _, toA := range []bool{true, false} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.sendBye(ctx, d, toA, reason); err != nil {
					p.log.Info("BYE not delivered", zap.String("call_id", callID), zap.Bool("to_caller", toA), zap.Error(err))
				}
			}()
		}
		wg.Wait()
	}
	return nil
}

// sendBye sends an edge-originated BYE to one party of d, as if the other party had sent it.
func (p *Proxy) sendBye(ctx context.Context, d *dialog, toA bool, reason string) error {
	d.mu.Lock()
	dst, src := d.b, d.a
	if toA {
		dst, src = d.a, d.b
	}
	src.cseq++
	if toA {
		d.b.cseq = src.cseq
	} else {
		d.a.cseq = src.cseq
	}
	d.mu.Unlock()
	req := sip.NewRequest(sip.BYE, dst.target)
	from, to := sip.NewHeader("From", src.uri), sip.NewHeader("To", dst.uri)
	req.AppendHeader(from)
	req.AppendHeader(to)
	cid := sip.CallIDHeader(d.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: src.cseq, MethodName: sip.BYE})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(sip.NewHeader("Reason", `SIP;cause=200;text="`+reason+`"`))
	cl := sip.ContentLengthHeader(0)
	req.AppendHeader(&cl)
	b := &branch{side: sideCore, out: req}
	if dst.flowID != "" {
		f := p.flows.get(dst.flowID)
		if f == nil || !p.flowAlive(f) {
			return ErrFlowGone
		}
		b.side, b.flow = sideAccess, f
		req.SetDestination(f.Remote)
		req.SetTransport(f.Transport)
		p.bindUDPListener(req, f)
		addVia(req, f.Transport, p.viaHost(f))
	} else {
		for _, r := range dst.routes {
			req.AppendHeader(&sip.RouteHeader{Address: r})
		}
		dest, tr := destOf(dst.target)
		if len(dst.routes) > 0 {
			dest, tr = destOf(dst.routes[0])
		}
		req.SetDestination(dest)
		req.SetTransport(tr)
		addVia(req, tr, p.coreEP.Addr())
	}
	if err := p.send(b); err != nil {
		return err
	}
	defer b.tx.Terminate()
	t := time.NewTimer(32 * time.Second)
	defer t.Stop()
	for {
		select {
		case res := <-b.tx.Responses():
			if res != nil && res.StatusCode >= 200 {
				return nil
			}
		case <-b.tx.Done():
			return b.tx.Err()
		case <-t.C:
			return sip.ErrTransactionTimeout
		case <-ctx.Done():
			return ctx.Err()
		case <-p.ctx.Done():
			return context.Canceled
		}
	}
}
