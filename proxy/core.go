package proxy

import (
	"context"

	"github.com/emiago/sipgo/sip"
)

// routeCore routes a request from the PBX side: by dialog when it has a To tag, else by the flow token
// of the Path entry the PBX routed it with. A gone flow gets 430 Flow Failed at once (RFC 5626 §5.3).
func (p *Proxy) routeCore(ctx context.Context, in *inbound) error {
	req := in.req
	in.token, _ = p.popRoutes(req, false)
	if toTag(req) != "" {
		d, fromA := p.dialogs.find(req, sideCore)
		if d == nil {
			if req.IsAck() {
				return reject(0, "", "ACK for an unknown dialog")
			}
			return reject(481, "Call/Transaction Does Not Exist", "no such dialog")
		}
		in.dlg, in.fromA = d, fromA
		return p.forwardInDialog(in)
	}
	if req.IsAck() {
		return reject(0, "", "stray ACK")
	}
	if req.IsCancel() {
		return reject(481, "Call/Transaction Does Not Exist", "CANCEL matches no transaction")
	}
	if req.Method == sip.REGISTER {
		return reject(403, "Forbidden", "REGISTER from the core side")
	}
	if in.token == "" {
		if req.Method == sip.OPTIONS && (req.Recipient.User == "" || p.isMe(req.Recipient)) {
			return reject(200, "OK", "") // the PBX's keepalive probe of the edge
		}
		return reject(404, "Not Found", "no flow token in Route")
	}
	f := p.flows.get(in.token)
	if f == nil || !p.flowAlive(f) {
		p.m.flowFailed.Inc()
		return reject(430, "Flow Failed", "flow "+in.token+" is gone")
	}
	if f.User() == "" { // never deliver to a source that did not authenticate
		return reject(430, "Flow Failed", "flow "+in.token+" never registered")
	}
	if p.isDraining() && isDialogForming(req.Method) {
		return reject(503, "Service Unavailable", "draining")
	}
	go p.forward(in, []*branch{p.accessBranch(in, f, req.Recipient)})
	return nil
}

// forwardInDialog sends an in-dialog request to the other party of its dialog.
func (p *Proxy) forwardInDialog(in *inbound) error {
	d := in.dlg
	d.mu.Lock()
	src, dst := &d.a, &d.b
	if !in.fromA {
		src, dst = &d.b, &d.a
	}
	if cs := in.req.CSeq(); cs != nil && !in.req.IsAck() && !in.req.IsCancel() && cs.SeqNo > src.cseq {
		src.cseq = cs.SeqNo
	}
	target, routes, flowID := dst.target, append([]sip.Uri(nil), dst.routes...), dst.flowID
	d.mu.Unlock()
	if in.req.Method == sip.INVITE || in.req.Method == sip.UPDATE {
		if c := in.req.Contact(); c != nil { // target refresh
			d.mu.Lock()
			src.target = c.Address
			d.mu.Unlock()
		}
	}
	var b *branch
	if flowID != "" {
		f := p.flows.get(flowID)
		if f == nil || !p.flowAlive(f) {
			p.m.flowFailed.Inc()
			if in.req.IsAck() {
				return reject(0, "", "ACK for a gone flow")
			}
			return reject(430, "Flow Failed", "dialog's flow is gone")
		}
		b = p.accessBranch(in, f, target)
	} else {
		var err error
		if b, err = p.coreBranch(in, target, routes); err != nil {
			return err
		}
	}
	if in.req.IsAck() {
		if err := p.mediaRequest(in, []*branch{b}); err != nil { // the answer of a late offer
			return reject(0, "", err.Error())
		}
		return p.sendStateless(b)
	}
	if in.req.Method == sip.BYE {
		// The dialog (its media and policy counts) ends before the final response goes back, so a
		// caller that places its next call as soon as its BYE is answered finds the slot free.
		// A challenged BYE (401/407) is sent again with credentials, so it leaves the dialog in place.
		challenged := false
		in.onFinal = func(res *sip.Response) {
			if challenged = res.StatusCode == 401 || res.StatusCode == 407; !challenged {
				p.endDialog(d, "bye")
			}
		}
		go func() {
			p.forward(in, []*branch{b})
			if !challenged {
				p.endDialog(d, "bye") // no final response was relayed (shutdown)
			}
		}()
		return nil
	}
	go p.forward(in, []*branch{b})
	return nil
}

// sendStateless sends an ACK for a 2xx (end-to-end, no transaction).
func (p *Proxy) sendStateless(b *branch) error {
	ensureContentLength(b.out)
	tp := p.coreTP
	if b.side == sideAccess {
		if !p.flowAlive(b.flow) {
			return reject(0, "", "flow gone")
		}
		tp = p.accessTP
	}
	if err := tp.WriteMsg(b.out); err != nil {
		return reject(0, "", "ACK not sent: "+err.Error())
	}
	return nil
}
