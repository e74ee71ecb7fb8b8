package proxy

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"go.uber.org/zap"
)

// Side is a side of the edge: the access side faces the phones, the core side the PBX.
type Side int

// The two sides.
const (
	SideAccess Side = iota
	SideCore
)

const (
	sideAccess = SideAccess
	sideCore   = SideCore
)

func (s Side) String() string {
	if s == sideAccess {
		return "access"
	}
	return "core"
}

// timerC bounds how long a proxied INVITE may ring without a final response (RFC 3261 §16.6: > 3 min).
const timerC = 3*time.Minute + 10*time.Second

// inbound is a request being processed, with what the chain learned about it.
type inbound struct {
	side     Side
	req      *sip.Request
	tx       *sip.ServerTx
	flow     *Flow  // access side: the flow it arrived on
	user     string // identity after identify
	advert   string // access side: host:port the phone used to reach the edge (Record-Route toward it)
	token    string // core side: flow token found in the popped Route entries
	dlg      *dialog
	fromA    bool                    // in-dialog: the request comes from leg a (the dialog's caller)
	onFinal  func(res *sip.Response) // called once with the final response relayed upstream
	offered  bool                    // the request carried an SDP offer: SDP in responses is the answer
	mediaID  string                  // media session of the request SDP
	mediaGen int                     // which offer of the session this request made (initial INVITEs)
}

// branch is one outgoing copy of a request.
type branch struct {
	out   *sip.Request
	side  Side
	flow  *Flow // access-side destination flow
	tx    *sip.ClientTx
	final *sip.Response
	done  bool

	// The last SDP rewritten in a response of this branch: a retransmitted 2xx carries the same body and
	// must get the same rewrite (the relay accepts one answer per offer).
	sdpMu  sync.Mutex
	sdpIn  []byte
	sdpOut []byte
	sdpSt  int
}

type brEvent struct {
	b   *branch
	res *sip.Response
	err error
}

// send starts the client transaction of one branch.
func (p *Proxy) send(b *branch) error {
	ensureContentLength(b.out)
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	if b.side == sideAccess {
		if !p.flowAlive(b.flow) {
			return ErrFlowGone
		}
		tx, err := p.accessTxl.Request(ctx, b.out)
		if err != nil {
			return errors.Join(ErrFlowGone, err)
		}
		b.tx = tx
		return nil
	}
	tx, err := p.coreTxl.Request(ctx, b.out)
	if err != nil {
		return err
	}
	b.tx = tx
	return nil
}

// forward sends the branches of in and relays responses upstream until every branch is final
// (RFC 3261 §16.7). It owns the branches' transactions and returns when they are settled.
func (p *Proxy) forward(in *inbound, brs []*branch) {
	p.inflight.Add(1)
	defer p.inflight.Done()
	p.forwarding.Add(1)
	defer p.forwarding.Add(-1)
	evs := make(chan brEvent, 4*len(brs)+4)
	quit := make(chan struct{})
	defer close(quit)
	isInvite := in.req.IsInvite()
	if err := p.mediaRequest(in, brs); err != nil {
		p.respondError(in, err)
		return
	}
	pending := 0
	for _, b := range brs {
		if err := p.send(b); err != nil {
			b.done = true
			b.final = p.failureResponse(b, err)
			continue
		}
		pending++
		if isInvite {
			b := b
			b.tx.OnRetransmission(func(r *sip.Response) {
				if r.IsSuccess() {
					p.relayResponse(in, b, r)
				}
			})
		}
		go pump(b, evs, quit)
	}
	cancelled := make(chan struct{}, 1)
	if isInvite && in.tx != nil {
		in.tx.OnCancel(func(*sip.Request) {
			select {
			case cancelled <- struct{}{}:
			default:
			}
		})
	}
	timer := time.NewTimer(timerC)
	defer timer.Stop()
	answered := false
	for pending > 0 {
		select {
		case e := <-evs:
			b := e.b
			if e.err != nil || e.res == nil {
				if !b.done {
					b.done, b.final = true, p.failureResponse(b, e.err)
					pending--
				}
				continue
			}
			res := e.res
			switch {
			case res.StatusCode < 200:
				if res.StatusCode > 100 && !answered {
					p.relayResponse(in, b, res)
					timer.Reset(timerC)
				}
			case res.IsSuccess():
				p.relayResponse(in, b, res)
				if !b.done {
					b.done = true
					pending--
				}
				if isInvite && !answered {
					answered = true
					for _, o := range brs {
						if o != b && !o.done {
							p.cancelBranch(o)
						}
					}
				}
			default:
				if !b.done {
					b.done, b.final = true, res
					pending--
				}
			}
		case <-cancelled:
			for _, o := range brs {
				if !o.done {
					p.cancelBranch(o)
				}
			}
		case <-timer.C:
			p.log.Info("no final response in time (timer C); cancelling", zap.String("call_id", callID(in.req)))
			for _, o := range brs {
				if !o.done {
					p.cancelBranch(o)
				}
			}
			timer.Reset(32 * time.Second) // the CANCELs get their 487s; then give up
			if isInvite {
				isInvite = false // second expiry: stop waiting
			} else {
				for _, o := range brs {
					if !o.done {
						o.done, o.final = true, p.synth(o.out, 408, "Request Timeout")
						pending--
					}
				}
			}
		case <-p.ctx.Done():
			return
		}
	}
	// Clean up before relaying the final response: the caller may retry at once with the same Call-ID
	// (after a digest challenge), and that retry's early dialog, media and policy reservation must not be
	// dropped by this transaction's cleanup.
	if in.req.IsInvite() && !answered && in.dlg == nil {
		p.dialogs.dropEarly(callID(in.req))
		p.endFailedOffer(in)
		if in.side == sideAccess && p.hooks.CallEnded != nil { // releases the policy's reservation
			p.hooks.CallEnded(CallInfo{CallID: callID(in.req), Caller: in.user, Dialled: in.req.Recipient.User,
				EndedWhy: "not answered"})
		}
	}
	if !answered {
		if in.offered && in.dlg != nil && p.media != nil { // a refused re-offer: keep the media as it was
			p.media.Reject(in.mediaID)
		}
		if best := bestResponse(brs); best != nil {
			p.relayFinal(in, best)
		}
	}
}

func pump(b *branch, evs chan<- brEvent, quit <-chan struct{}) {
	for {
		select {
		case res, ok := <-b.tx.Responses():
			if !ok {
				return
			}
			select {
			case evs <- brEvent{b: b, res: res}:
			case <-quit:
				return
			}
			if res.StatusCode >= 200 {
				return
			}
		case <-b.tx.Done():
			select {
			case evs <- brEvent{b: b, err: b.tx.Err()}:
			case <-quit:
			}
			return
		case <-quit:
			return
		}
	}
}

// cancelBranch sends CANCEL for a pending INVITE branch (RFC 3261 §16.10).
func (p *Proxy) cancelBranch(b *branch) {
	if b.tx == nil || !b.out.IsInvite() {
		return
	}
	c := sip.NewRequest(sip.CANCEL, b.out.Recipient)
	c.AppendHeader(sip.HeaderClone(b.out.Via()))
	for _, h := range b.out.GetHeaders("Route") {
		c.AppendHeader(sip.HeaderClone(h))
	}
	c.AppendHeader(sip.HeaderClone(b.out.From()))
	c.AppendHeader(sip.HeaderClone(b.out.To()))
	c.AppendHeader(sip.HeaderClone(b.out.CallID()))
	c.AppendHeader(&sip.CSeqHeader{SeqNo: b.out.CSeq().SeqNo, MethodName: sip.CANCEL})
	mf := sip.MaxForwardsHeader(70)
	c.AppendHeader(&mf)
	cl := sip.ContentLengthHeader(0)
	c.AppendHeader(&cl)
	c.SetTransport(b.out.Transport())
	c.SetDestination(b.out.Destination())
	c.Laddr = b.out.Laddr
	txl := p.coreTxl
	if b.side == sideAccess {
		if !p.flowAlive(b.flow) {
			return
		}
		txl = p.accessTxl
	}
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	tx, err := txl.Request(ctx, c)
	if err != nil {
		p.log.Debug("CANCEL not sent", zap.Error(err))
		return
	}
	go func() { // the CANCEL's own transaction ends by itself; drain it
		defer tx.Terminate()
		select {
		case <-tx.Responses():
		case <-tx.Done():
		case <-time.After(32 * time.Second):
		}
	}()
}

// failureResponse is the response a branch that could not be sent or timed out counts as.
func (p *Proxy) failureResponse(b *branch, err error) *sip.Response {
	switch {
	case errors.Is(err, ErrFlowGone):
		p.m.flowFailed.Inc()
		return p.synth(b.out, 430, "Flow Failed")
	case errors.Is(err, sip.ErrTransactionTimeout):
		if b.side == sideCore && p.health != nil {
			p.markTargetFailed(b.out.Destination())
		}
		return p.synth(b.out, 408, "Request Timeout")
	default:
		if b.side == sideCore && p.health != nil {
			p.markTargetFailed(b.out.Destination())
			return p.synth(b.out, 503, "Service Unavailable")
		}
		p.log.Debug("branch failed", zap.Error(err))
		return p.synth(b.out, 503, "Service Unavailable")
	}
}

func (p *Proxy) synth(req *sip.Request, code int, reason string) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	if code == 503 {
		res.AppendHeader(sip.NewHeader("Retry-After", "5"))
	}
	return res
}

// bestResponse picks the response to send when no branch answered (RFC 3261 §16.7 step 6).
func bestResponse(brs []*branch) *sip.Response {
	var best *sip.Response
	rank := func(r *sip.Response) int {
		c := r.StatusCode
		switch {
		case c >= 600:
			return 0
		case c == 401 || c == 407 || c == 415 || c == 420 || c == 484:
			return 1000 + c
		case c >= 300 && c < 500:
			return 2000 + c
		case c == 503:
			return 3500 // a 503 is forwarded as 500 (§16.7) only when nothing better exists
		case c >= 500:
			return 3000 + c
		}
		return 9000
	}
	for _, b := range brs {
		if b.final == nil {
			continue
		}
		if best == nil || rank(b.final) < rank(best) {
			best = b.final
		}
	}
	return best
}
