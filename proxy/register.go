package proxy

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"go.uber.org/zap"

	"github.com/sipedge/sipedge/proxy/auth"
	"github.com/sipedge/sipedge/proxy/registrar"
	"github.com/sipedge/sipedge/secevent"
)

// handleRegister authenticates (local mode) or forwards (passthrough) a REGISTER and binds the flow to
// the registered user once the registration is accepted.
func (p *Proxy) handleRegister(ctx context.Context, in *inbound) error {
	req := in.req
	if p.isDraining() {
		return reject(503, "Service Unavailable", "draining")
	}
	to := req.To()
	if to == nil || to.Address.User == "" {
		return reject(400, "Bad Request", "REGISTER without a user in To")
	}
	user := to.Address.User
	if bound := in.flow.User(); bound != "" && bound != user {
		p.secEvent(secevent.FlowRejected, in, bound, "REGISTER for "+user+" on a flow bound to "+bound)
		return reject(403, "Forbidden", "flow is bound to another user")
	}
	if p.hooks.Register != nil {
		hr := p.hookRequest(in)
		hr.User = user
		if r := p.hooks.Register(ctx, hr); r != nil {
			if r.Drop {
				return &statusError{}
			}
			return reject(r.Status, r.Reason, r.Detail)
		}
	}
	if p.auth != nil {
		ok, err := p.localAuth(in, user)
		if !ok {
			return err
		}
		if p.reg != nil {
			return p.registerLocal(in, user)
		}
	} else if name := authUsername(req); name != "" && name != user {
		p.secEvent(secevent.AuthFailed, in, name, "Authorization username differs from the registered user "+user)
		return reject(403, "Forbidden", "auth username != To user")
	}
	return p.forwardRegister(in, user)
}

// localAuth checks the REGISTER's digest credentials; false means the returned error answers it.
func (p *Proxy) localAuth(in *inbound, user string) (bool, error) {
	req := in.req
	h := req.GetHeader("Authorization")
	if h == nil {
		return false, p.challenge(in, false)
	}
	res, err := p.auth.Verify(string(req.Method), h.Value(), req.Recipient.String())
	switch {
	case errors.Is(err, auth.ErrStaleNonce):
		return false, p.challenge(in, true)
	case err != nil:
		p.authResult(in, false, authUsername(req), auth.Reason(err))
		return false, reject(403, "Forbidden", "authentication failed: "+auth.Reason(err))
	case res.User.Name != user:
		p.authResult(in, false, res.User.Name, "authenticated as "+res.User.Name+" but registering "+user)
		return false, reject(403, "Forbidden", "auth user != To user")
	}
	p.authResult(in, true, user, "")
	return true, nil
}

func (p *Proxy) challenge(in *inbound, stale bool) error {
	vals := p.auth.Challenge(string(in.req.Method))
	if stale {
		vals = p.auth.ChallengeStale(string(in.req.Method))
	}
	se := &statusError{Status: 401, Reason: "Unauthorized"}
	for _, v := range vals {
		se.headers = append(se.headers, sip.NewHeader("WWW-Authenticate", v))
	}
	return se
}

func (p *Proxy) authResult(in *inbound, ok bool, user, reason string) {
	t := secevent.AuthSucceeded
	if !ok {
		t = secevent.AuthFailed
	}
	p.m.auth.WithLabelValues(map[bool]string{true: "success", false: "failure"}[ok]).Inc()
	p.secEvent(t, in, user, reason)
	if p.hooks.AuthResult != nil {
		e := AuthEvent{OK: ok, User: user, Transport: in.req.Transport(), Method: string(in.req.Method),
			CallID: callID(in.req), Reason: reason}
		hr := p.hookRequest(in)
		e.SrcIP, e.SrcPort = hr.SrcIP, hr.SrcPort
		if ua := in.req.GetHeader("User-Agent"); ua != nil {
			e.UserAgent = ua.Value()
		}
		p.hooks.AuthResult(e)
	}
}

// registerLocal is the standalone registrar (RFC 3261 §10.3; RFC 5626 instance/reg-id).
func (p *Proxy) registerLocal(in *inbound, user string) error {
	aor, upd, err := registrar.ParseUpdate(in.req, in.flow.ID)
	if err != nil {
		return reject(400, "Bad Request", err.Error())
	}
	if aor != user {
		return reject(403, "Forbidden", "AOR != authenticated user")
	}
	bnds, err := p.reg.Apply(aor, upd)
	if err != nil {
		code, reason := registrar.Status(err)
		se := &statusError{Status: code, Reason: reason, Detail: err.Error()}
		var brief *registrar.IntervalTooBriefError
		if errors.As(err, &brief) {
			se.headers = append(se.headers, sip.NewHeader("Min-Expires", strconv.Itoa(brief.MinExpiresSeconds())))
		}
		return se
	}
	res := sip.NewResponseFromRequest(in.req, 200, "OK", nil)
	var maxExp time.Time
	for _, b := range bnds {
		var u sip.Uri
		if sip.ParseUri(b.Contact, &u) != nil {
			continue
		}
		ch := &sip.ContactHeader{Address: u, Params: sip.NewParams()}
		ch.Params.Add("expires", strconv.Itoa(b.SecondsLeft(p.now())))
		if b.Instance != "" {
			ch.Params.Add("+sip.instance", "\"<"+b.Instance+">\"")
		}
		if b.RegID != 0 {
			ch.Params.Add("reg-id", strconv.Itoa(b.RegID))
		}
		res.AppendHeader(ch)
		if b.FlowID == in.flow.ID && b.Expires.After(maxExp) {
			maxExp = b.Expires
		}
	}
	pu := p.accessURI(in.flow, in.advert, in.flow.ID, true)
	pu.UriParams.Add("ob", "")
	if strings.Contains(strings.ToLower(headerValue(in.req, "Supported")), "path") || in.req.GetHeader("Path") != nil {
		res.AppendHeader(sip.NewHeader("Path", "<"+pu.String()+">"))
	}
	res.AppendHeader(sip.NewHeader("Date", time.Now().UTC().Format(time.RFC1123)))
	in.flow.bind(user, maxExp, flowBindings(in.req, res, p.now()))
	p.m.registrations.WithLabelValues("ok").Inc()
	p.respond(in, res)
	return nil
}

// forwardRegister sends a REGISTER to the PBX (failover: the first healthy target; all: every healthy
// target, answering the phone from the first one) with a Path naming this flow.
func (p *Proxy) forwardRegister(in *inbound, user string) error {
	targets := p.healthyTargets()
	if len(targets) == 0 {
		p.m.noTarget.Inc()
		return reject(503, "Service Unavailable", ErrNoTarget.Error())
	}
	if p.cfg.PBX.Mode != "all" {
		targets = targets[:1]
	}
	hadCreds := authUsername(in.req) != ""
	mk := func(t target) *branch {
		out := in.req.Clone()
		removeAll(out, "Route")
		pu := p.coreURI(in.flow.ID)
		pu.UriParams.Add("ob", "")
		out.PrependHeader(sip.NewHeader("Path", "<"+pu.String()+">"))
		if !strings.Contains(strings.ToLower(headerValue(out, "Supported")), "path") {
			out.AppendHeader(sip.NewHeader("Supported", "path"))
		}
		out.SetDestination(t.dest)
		out.SetTransport(t.transport)
		addVia(out, t.transport, p.coreEP.Addr())
		return &branch{out: out, side: sideCore}
	}
	in.onFinal = func(res *sip.Response) {
		switch {
		case res.IsSuccess():
			in.flow.bind(user, p.now().Add(registrationExpiry(in.req, res, in.flow)), flowBindings(in.req, res, p.now()))
			p.m.registrations.WithLabelValues("ok").Inc()
			if hadCreds {
				p.authResult(in, true, user, "")
			}
		case res.StatusCode == 401 || res.StatusCode == 407 || res.StatusCode == 403:
			p.m.registrations.WithLabelValues("rejected").Inc()
			if hadCreds {
				p.authResult(in, false, authUsername(in.req), "PBX answered "+strconv.Itoa(res.StatusCode))
			}
		default:
			p.m.registrations.WithLabelValues("failed").Inc()
		}
	}
	for _, t := range targets[1:] { // registration fork: secondary targets, results logged only
		b := mk(t)
		go func() {
			fin := &inbound{side: sideAccess, req: in.req, flow: in.flow}
			p.forwardQuiet(fin, b)
		}()
	}
	go p.forward(in, []*branch{mk(targets[0])})
	return nil
}

// forwardQuiet runs a branch whose responses nobody upstream waits for (registration fork).
func (p *Proxy) forwardQuiet(in *inbound, b *branch) {
	p.inflight.Add(1)
	defer p.inflight.Done()
	if err := p.send(b); err != nil {
		p.log.Info("secondary REGISTER not sent", zap.String("target", b.out.Destination()), zap.Error(err))
		return
	}
	defer b.tx.Terminate()
	timeout := time.NewTimer(40 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case res := <-b.tx.Responses():
			if res == nil || res.StatusCode < 200 {
				continue
			}
			p.log.Debug("secondary REGISTER answered", zap.String("target", b.out.Destination()), zap.Int("status", res.StatusCode))
			p.m.forkedRegistrations.WithLabelValues(strconv.Itoa(res.StatusCode/100) + "xx").Inc()
			return
		case <-b.tx.Done():
			p.m.forkedRegistrations.WithLabelValues("error").Inc()
			return
		case <-timeout.C:
			return
		case <-p.ctx.Done():
			return
		}
	}
}

// flowBindings are the contacts of the REGISTER that the registrar's 2xx lists (with its expiry).
func flowBindings(req *sip.Request, res *sip.Response, now time.Time) []FlowBinding {
	var out []FlowBinding
	for _, h := range req.GetHeaders("Contact") {
		rc, ok := h.(*sip.ContactHeader)
		if !ok || rc.Address.Wildcard {
			continue
		}
		for _, g := range res.GetHeaders("Contact") {
			c, ok := g.(*sip.ContactHeader)
			if !ok || !registrar.SameURI(c.Address.String(), rc.Address.String()) {
				continue
			}
			b := FlowBinding{Contact: c.Address.String(), Expires: now.Add(time.Hour)}
			if c.Params != nil {
				if v, ok := c.Params.Get("expires"); ok {
					if n, err := strconv.Atoi(v); err == nil {
						b.Expires = now.Add(time.Duration(n) * time.Second)
					}
				}
			}
			if rc.Params != nil {
				b.Instance = strings.Trim(rc.Params.GetOr("+sip.instance", ""), "\"<>")
				b.RegID, _ = strconv.Atoi(rc.Params.GetOr("reg-id", "0"))
			}
			out = append(out, b)
		}
	}
	return out
}

// registrationExpiry is how long the registration on this flow lasts according to the 2xx.
func registrationExpiry(req *sip.Request, res *sip.Response, f *Flow) time.Duration {
	best := 0
	for _, h := range res.GetHeaders("Contact") {
		ch, ok := h.(*sip.ContactHeader)
		if !ok || ch.Params == nil {
			continue
		}
		if v, ok := ch.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n > best {
				best = n
			}
		}
	}
	if best == 0 {
		if h := res.GetHeader("Expires"); h != nil {
			best, _ = strconv.Atoi(h.Value())
		}
	}
	if best == 0 {
		best = 3600
	}
	return time.Duration(best) * time.Second
}

func authUsername(req *sip.Request) string {
	for _, name := range []string{"Authorization", "Proxy-Authorization"} {
		h := req.GetHeader(name)
		if h == nil {
			continue
		}
		v := h.Value()
		i := strings.Index(strings.ToLower(v), "username=")
		if i < 0 {
			continue
		}
		v = strings.TrimSpace(v[i+len("username="):])
		if strings.HasPrefix(v, "\"") {
			if j := strings.IndexByte(v[1:], '"'); j >= 0 {
				return v[1 : j+1]
			}
			return ""
		}
		if j := strings.IndexAny(v, ", "); j >= 0 {
			v = v[:j]
		}
		return v
	}
	return ""
}

func headerValue(m hdrMsg, name string) string {
	var parts []string
	for _, h := range m.GetHeaders(name) {
		parts = append(parts, h.Value())
	}
	return strings.Join(parts, ", ")
}
