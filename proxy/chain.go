package proxy

import (
	"context"
	"errors"
	"net/netip"
	"strconv"

	"github.com/emiago/sipgo/sip"
	"go.uber.org/zap"

	"github.com/sipedge/sipedge/proxy/sipcheck"
	"github.com/sipedge/sipedge/secevent"
)

// handler is one step of the request chain; a returned error answers the request.
type handler func(ctx context.Context, in *inbound) error

type middleware func(next handler) handler

func chain(final handler, steps ...middleware) handler {
	h := final
	for i := len(steps) - 1; i >= 0; i-- {
		h = steps[i](h)
	}
	return h
}

// accessChain is the order every request from a phone goes through. Read it here, in one place.
func (p *Proxy) accessChain() handler {
	return chain(p.routeAccess,
		p.validate,  // size, syntax, Max-Forwards (400/483/...)
		p.screen,    // policy hook: floods, scanners
		p.identify,  // flow identity: registered flow, or authentication (REGISTER)
		p.authorize, // policy hook: RBAC, destination, fraud limits
	)
}

// coreChain is the order for requests from the PBX side.
func (p *Proxy) coreChain() handler {
	return chain(p.routeCore, p.validate)
}

func (p *Proxy) onRequest(s Side, req *sip.Request, tx *sip.ServerTx) {
	p.inflight.Add(1)
	defer p.inflight.Done()
	p.m.requests.WithLabelValues(s.String()).Inc()
	in := &inbound{side: s, req: req, tx: tx}
	if s == sideAccess {
		var conn sip.Connection
		if tx != nil {
			conn = tx.Connection()
		}
		local, listener := "", ""
		if conn != nil {
			local = conn.LocalAddr().String()
		}
		if req.Transport() == "UDP" {
			conn, listener = nil, local // the UDP socket the request arrived on
			if f := p.flows.byRemote("UDP", req.Source()); f != nil {
				local = f.Local
			} else {
				local = p.udpLocalToward(listener, req.Source())
			}
		}
		certUser, _ := p.tlsUsers.Load(req.Source())
		cu, _ := certUser.(string)
		in.flow, _ = p.flows.lookupOrCreate(req.Transport(), req.Source(), local, listener, conn, cu)
	}
	h := p.accessH
	if s == sideCore {
		h = p.coreH
	}
	err := h(p.ctx, in)
	if req.IsAck() {
		if tx != nil {
			tx.Terminate()
		}
		if err != nil {
			p.log.Debug("ACK dropped", zap.Error(err), zap.String("call_id", callID(req)))
		}
		return
	}
	if err != nil {
		p.respondError(in, err)
	}
}

func (p *Proxy) respondError(in *inbound, err error) {
	var se *statusError
	if !errors.As(err, &se) {
		se = &statusError{Status: 500, Reason: "Server Internal Error", Detail: err.Error()}
	}
	if se.Status == 0 { // drop silently
		return
	}
	if se.Detail != "" {
		p.log.Info("request refused", zap.String("side", in.side.String()), zap.String("method", string(in.req.Method)),
			zap.Int("status", se.Status), zap.String("detail", se.Detail), zap.String("src", in.req.Source()),
			zap.String("call_id", callID(in.req)))
	}
	res := sip.NewResponseFromRequest(in.req, se.Status, se.Reason, nil)
	if se.Status == 503 {
		res.AppendHeader(sip.NewHeader("Retry-After", "5"))
	}
	for _, h := range se.headers {
		res.AppendHeader(h)
	}
	p.respond(in, res)
	// An unauthenticated UDP source may be spoofed: answer its INVITE once, without the retransmissions of
	// the final response (up to 32 s of them), so the edge cannot be used as an amplifier. (Other
	// transactions only repeat a response when the request is repeated.)
	if in.tx != nil && in.side == sideAccess && in.req.IsInvite() && in.req.Transport() == "UDP" &&
		(in.flow == nil || in.flow.User() == "") {
		in.tx.Terminate()
	}
}

func (p *Proxy) respond(in *inbound, res *sip.Response) {
	p.m.responses.WithLabelValues(in.side.String(), strconv.Itoa(res.StatusCode/100)+"xx").Inc()
	if in.tx == nil {
		return
	}
	if err := in.tx.Respond(res); err != nil {
		p.log.Debug("response not sent", zap.Error(err), zap.Int("status", res.StatusCode))
	}
}

func (p *Proxy) validate(next handler) handler {
	return func(ctx context.Context, in *inbound) error {
		if e := sipcheck.Request(in.req, sipcheck.Options{}); e != nil {
			p.m.malformed.WithLabelValues(in.side.String()).Inc()
			if in.req.Method == sip.OPTIONS && e.Status == 483 {
				// Max-Forwards 0 on OPTIONS addressed to us: answer for the edge itself.
				return reject(200, "OK", "")
			}
			se := &statusError{Status: e.Status, Reason: e.Reason, Detail: e.Detail}
			if len(e.Unsupported) > 0 {
				se.headers = append(se.headers, sip.NewHeader("Unsupported", joinComma(e.Unsupported)))
			}
			return se
		}
		if mf := in.req.MaxForwards(); mf != nil {
			mf.Dec()
		} else {
			m := sip.MaxForwardsHeader(69)
			in.req.AppendHeader(&m)
		}
		return next(ctx, in)
	}
}

func (p *Proxy) screen(next handler) handler {
	return func(ctx context.Context, in *inbound) error {
		if p.hooks.Screen != nil {
			if r := p.hooks.Screen(ctx, p.hookRequest(in)); r != nil {
				if r.Drop {
					return &statusError{}
				}
				return reject(r.Status, r.Reason, r.Detail)
			}
		}
		return next(ctx, in)
	}
}

func (p *Proxy) authorize(next handler) handler {
	return func(ctx context.Context, in *inbound) error {
		if p.hooks.Authorize != nil && in.dlg == nil && in.req.Method != sip.REGISTER && !in.req.IsAck() {
			if r := p.hooks.Authorize(ctx, p.hookRequest(in)); r != nil {
				if r.Drop {
					return &statusError{}
				}
				return reject(r.Status, r.Reason, r.Detail)
			}
		}
		return next(ctx, in)
	}
}

func (p *Proxy) hookRequest(in *inbound) *Request {
	r := &Request{SIP: in.req, Transport: in.req.Transport(), User: in.user}
	if ap, err := netip.ParseAddrPort(in.req.Source()); err == nil {
		r.SrcIP, r.SrcPort = ap.Addr().Unmap(), int(ap.Port())
	}
	if in.flow != nil {
		r.FlowID = in.flow.ID
	}
	return r
}

// secEvent emits a security event about a request.
func (p *Proxy) secEvent(t secevent.Type, in *inbound, user, reason string) {
	e := secevent.Event{Time: p.now(), Type: t, User: user, Reason: reason, Method: string(in.req.Method),
		CallID: callID(in.req), Transport: in.req.Transport()}
	if ap, err := netip.ParseAddrPort(in.req.Source()); err == nil {
		e.SrcIP, e.SrcPort = ap.Addr().Unmap().String(), int(ap.Port())
	}
	if ua := in.req.GetHeader("User-Agent"); ua != nil {
		e.UserAgent = ua.Value()
	}
	if err := p.sec.Emit(e); err != nil {
		p.log.Warn("security event not written", zap.Error(err))
	}
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out
}
