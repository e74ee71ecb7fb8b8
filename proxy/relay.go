package proxy

import (
	"slices"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"
	"go.uber.org/zap"
)

// relayFinal sends the chosen final response of a request upstream.
func (p *Proxy) relayFinal(in *inbound, res *sip.Response) {
	p.relay(in, nil, res)
}

// relayResponse sends one response of branch b upstream, rewritten for the side it goes to.
func (p *Proxy) relayResponse(in *inbound, b *branch, res *sip.Response) {
	p.relay(in, b, res)
}

func (p *Proxy) relay(in *inbound, b *branch, res *sip.Response) {
	r := res.Clone()
	// The response's Vias are the request's as it arrived (ours is dropped, hidden core ones restored).
	removeAll(r, "Via")
	vias := in.req.GetHeaders("Via")
	for i := len(vias) - 1; i >= 0; i-- {
		r.PrependHeader(sip.HeaderClone(vias[i]))
	}
	ensureContentLength(r)
	r.SetDestination(in.req.Source())
	r.SetTransport(in.req.Transport())
	if b != nil && isDialogForming(in.req.Method) && in.dlg == nil && toTag(r) != "" &&
		r.StatusCode > 100 && r.StatusCode < 300 {
		p.trackDialog(in, b, r)
	}
	if in.req.Method == sip.SUBSCRIBE && in.dlg != nil && r.IsSuccess() {
		p.refreshSubscription(in.dlg, r)
	}
	if res.IsSuccess() && (in.req.Method == sip.INVITE || in.req.Method == sip.UPDATE) && in.dlg != nil && b != nil {
		if c := res.Contact(); c != nil { // target refresh by the answering side (before any hiding)
			d := in.dlg
			d.mu.Lock()
			if in.fromA {
				d.b.target = c.Address
			} else {
				d.a.target = c.Address
			}
			d.mu.Unlock()
		}
	}
	p.mediaResponse(in, b, r)
	if b != nil && b.side == sideCore && in.side == sideAccess {
		p.hideResponse(in, r)
	}
	if b != nil && b.side == sideAccess && in.side == sideCore {
		// The PBX sees both edge entries (RFC 5658: access, then core) followed by its own entries that
		// were hidden from the phone.
		if isDialogForming(in.req.Method) && in.dlg == nil && r.StatusCode < 300 && r.StatusCode > 100 {
			removeAll(r, "Record-Route")
			r.AppendHeader(&sip.RecordRouteHeader{Address: p.accessURI(b.flow, "", b.flow.ID, true)})
			r.AppendHeader(&sip.RecordRouteHeader{Address: p.coreURI(b.flow.ID)})
			for _, h := range in.req.GetHeaders("Record-Route") {
				r.AppendHeader(sip.HeaderClone(h))
			}
		}
	}
	if in.onFinal != nil && r.StatusCode >= 200 {
		in.onFinal(res)
		in.onFinal = nil
	}
	p.respond(in, r)
}

// hideResponse removes core-side addresses from a response going to a phone: Record-Route entries that
// are not the edge's and the core party's Contact.
func (p *Proxy) hideResponse(in *inbound, r *sip.Response) {
	rr := r.GetHeaders("Record-Route")
	if len(rr) > 0 {
		var keep []sip.Header
		for _, h := range rr {
			if u, ok := uriOf(h); ok && in.flow != nil && p.isMine(u, in.flow.ID) && !p.isCore(u) {
				keep = append(keep, sip.HeaderClone(h))
			}
		}
		removeAll(r, "Record-Route")
		for _, h := range keep {
			r.AppendHeader(h)
		}
	}
	if r.Contact() != nil && in.flow != nil {
		p.hideContact(r, in.flow, in.advert)
	}
	removeAll(r, "Path")
	if in.req.Method == sip.REGISTER && in.flow != nil {
		pu := p.accessURI(in.flow, in.advert, in.flow.ID, true)
		pu.UriParams.Add("ob", "")
		r.AppendHeader(sip.NewHeader("Path", "<"+pu.String()+">"))
	}
}

// trackDialog records the dialog a 1xx/2xx to a dialog-forming request creates (one per remote tag).
func (p *Proxy) trackDialog(in *inbound, b *branch, r *sip.Response) {
	req := in.req
	d := &dialog{callID: callID(req), method: string(req.Method), created: p.now(), media: in.mediaID}
	if d.media == "" && d.method == "INVITE" {
		d.media = p.mediaSession(in, b)
	}
	d.a = leg{tag: fromTag(req), uri: req.From().Value()}
	if cs := req.CSeq(); cs != nil {
		d.a.cseq = cs.SeqNo
	}
	if c := req.Contact(); c != nil {
		d.a.target = c.Address
	}
	if in.side == sideAccess {
		d.a.flowID, d.a.user = in.flow.ID, in.flow.User()
	} else {
		// Route from the edge toward the caller: the Record-Route entries below ours, in order.
		for _, h := range req.GetHeaders("Record-Route") {
			if u, ok := uriOf(h); ok && !(b.side == sideAccess && p.isMine(u, b.flow.ID)) {
				d.a.routes = append(d.a.routes, u)
			}
		}
	}
	d.b = leg{tag: toTag(r), uri: r.To().Value()}
	if c := r.Contact(); c != nil {
		d.b.target = c.Address
	}
	if b.side == sideAccess {
		d.b.flowID, d.b.user = b.flow.ID, b.flow.User()
	} else {
		// Route toward the callee: the entries above ours in the response, nearest first (reversed).
		var above []sip.Uri
		for _, h := range r.GetHeaders("Record-Route") {
			u, ok := uriOf(h)
			if !ok {
				continue
			}
			if in.flow != nil && p.isMine(u, in.flow.ID) {
				break
			}
			above = append(above, u)
		}
		slices.Reverse(above)
		d.b.routes = above
	}
	d.dialled = req.Recipient.User
	stored, isNew := p.dialogs.upsert(d)
	stored.mu.Lock()
	started := false
	if r.IsSuccess() {
		if !stored.confirmed && d.method == "INVITE" {
			p.m.calls.Inc()
			started = true
			stored.answered = p.now()
		}
		stored.confirmed = true
		if !isNew && r.Contact() != nil {
			stored.b.target = r.Contact().Address
		}
	}
	stored.mu.Unlock()
	if started && p.hooks.CallStarted != nil {
		p.hooks.CallStarted(stored.info(""))
	}
	if d.method != "INVITE" {
		p.refreshSubscription(stored, r)
	}
	if isNew {
		p.log.Debug("dialog", zap.String("call_id", d.callID), zap.String("method", d.method), zap.Int("status", r.StatusCode))
	}
}

// refreshSubscription sets a SUBSCRIBE/REFER dialog's expiry from the response's Expires.
func (p *Proxy) refreshSubscription(d *dialog, r *sip.Response) {
	exp := 3600
	if h := r.GetHeader("Expires"); h != nil {
		if v, err := strconv.Atoi(h.Value()); err == nil && v >= 0 {
			exp = v
		}
	}
	d.mu.Lock()
	d.expires = p.now().Add(time.Duration(exp)*time.Second + time.Minute)
	d.mu.Unlock()
}

// strayResponse forwards a response that matches no client transaction: only 2xx retransmissions for
// INVITE, statelessly, after checking that the top Via is the edge's.
func (p *Proxy) strayResponse(s Side, r *sip.Response) {
	if !r.IsSuccess() {
		return
	}
	if cs := r.CSeq(); cs == nil || cs.MethodName != sip.INVITE {
		return
	}
	p.log.Debug("stray 2xx dropped (its transaction is gone)", zap.String("side", s.String()), zap.String("call_id", callID(r)))
}
