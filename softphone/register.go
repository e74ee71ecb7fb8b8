package softphone

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Registration states reported in registration events and Status.
const (
	RegRegistering  = "registering"
	RegRegistered   = "registered"
	RegReconnecting = "reconnecting"
	RegFailed       = "failed"
	RegUnregistered = "unregistered"
)

type regState struct {
	state   string
	err     error
	since   time.Time
	expires time.Duration
	callID  string
	cseq    uint32
	count   int // successful registrations (1 = first, >1 = re-registrations)
}

// RegistrationStatus is a snapshot of the registration.
type RegistrationStatus struct {
	State string `json:"state"`
	// Since is when the state was entered.
	Since time.Time `json:"since"`
	// Expires is the lifetime the registrar granted.
	Expires time.Duration `json:"expires_ns,omitempty"`
	// Contact is the registered contact URI.
	Contact string `json:"contact,omitempty"`
	// Flow is local->remote address of the flow.
	Flow string `json:"flow,omitempty"`
	// Mapped is where the edge sees the phone on a UDP flow (the address in
	// its last STUN keepalive answer; RFC 5626 section 4.4.2).
	Mapped string `json:"mapped,omitempty"`
	// Registrations counts successful REGISTER transactions with a binding.
	Registrations int    `json:"registrations"`
	Error         string `json:"error,omitempty"`
}

// Registration returns the current registration state.
func (p *Phone) Registration() RegistrationStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := RegistrationStatus{State: p.reg.state, Since: p.reg.since, Expires: p.reg.expires, Registrations: p.reg.count}
	if s.State == "" {
		s.State = RegUnregistered
	}
	if p.reg.err != nil {
		s.Error = p.reg.err.Error()
	}
	if p.flow != nil {
		c := p.contactURI(p.flow, true)
		s.Contact = c.String()
		s.Flow = p.flow.localS + "->" + p.flow.remote
		if m := p.flow.mappedAddr(); m.IsValid() {
			s.Mapped = m.String()
		}
	}
	return s
}

func (p *Phone) setRegState(state string, err error) {
	p.mu.Lock()
	changed := p.reg.state != state
	p.reg.state, p.reg.err = state, err
	if changed {
		p.reg.since = time.Now()
	}
	p.mu.Unlock()
	if changed || err != nil {
		e := Event{Type: EventRegistration, State: state}
		if err != nil {
			e.Error = err.Error()
			var se *StatusError
			if errors.As(err, &se) {
				e.Code, e.Reason = se.Code, se.Reason
			}
		}
		p.emit(e)
	}
}

// aor is the account's address of record.
func (p *Phone) aor() sip.Uri {
	return sip.Uri{Scheme: "sip", User: p.acct.User, Host: p.acct.Domain}
}

// edgeRoute is the Route entry naming the edge (RFC 5626: "ob" marks an outbound proxy).
func (p *Phone) edgeRoute() sip.Uri {
	u := sip.Uri{Scheme: "sip", Host: p.target.Host, Port: p.target.Port, UriParams: sip.NewParams()}
	if p.target.Network != "UDP" {
		u.UriParams.Add("transport", lower(p.target.Network))
	}
	u.UriParams.Add("lr", "")
	if !p.acct.NoOutbound {
		u.UriParams.Add("ob", "")
	}
	return u
}

// contactURI is the phone's contact on a flow.
func (p *Phone) contactURI(f *flow, register bool) sip.Uri {
	u := sip.Uri{Scheme: "sip", User: p.acct.User, Host: f.local.Addr().String(), Port: int(f.local.Port()), UriParams: sip.NewParams()}
	if f.network != "UDP" {
		u.UriParams.Add("transport", lower(f.network))
	}
	if !p.acct.NoOutbound && !register {
		u.UriParams.Add("ob", "")
	}
	return u
}

// contactHeader builds the Contact header of requests and responses on a flow.
func (p *Phone) contactHeader(f *flow, register bool) *sip.ContactHeader {
	h := &sip.ContactHeader{Address: p.contactURI(f, register), Params: sip.NewParams()}
	if !p.acct.NoOutbound {
		h.Params.Add("+sip.instance", `"<urn:uuid:`+p.instance+`>"`)
		if register {
			h.Params.Add("reg-id", "1")
		}
	}
	return h
}

// outRequest builds an out-of-dialog request on the flow: Route to the edge
// (and the Service-Route learned at registration), From with a new tag, To, Call-ID.
func (p *Phone) outRequest(method sip.RequestMethod, ruri, to sip.Uri, toName string) *sip.Request {
	req := sip.NewRequest(method, ruri)
	req.SetTransport(p.target.Network)
	req.SetDestination(p.dest)
	if !p.acct.NoRoute {
		req.AppendHeader(&sip.RouteHeader{Address: p.edgeRoute()})
	}
	p.mu.Lock()
	for _, r := range p.serviceRts {
		req.AppendHeader(&sip.RouteHeader{Address: r})
	}
	p.mu.Unlock()
	from := &sip.FromHeader{DisplayName: p.acct.DisplayName, Address: p.aor(), Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{DisplayName: toName, Address: to, Params: sip.NewParams()})
	cid := sip.CallIDHeader(newUUID())
	req.AppendHeader(&cid)
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(sip.NewHeader("User-Agent", p.ua.Name()))
	return req
}

// register sends one REGISTER on the flow (expires 0 removes the binding)
// and returns the lifetime the registrar granted.
func (p *Phone) register(ctx context.Context, f *flow, expires time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.RegisterTimeout)
	defer cancel()
	p.mu.Lock()
	if p.reg.callID == "" {
		p.reg.callID = newUUID()
		p.reg.cseq = 1
	}
	callID := p.reg.callID
	p.mu.Unlock()

	ruri := sip.Uri{Scheme: "sip", Host: p.acct.Domain}
	for attempt := 0; attempt < 2; attempt++ {
		req := p.outRequest(sip.REGISTER, ruri, p.aor(), p.acct.DisplayName)
		cid := sip.CallIDHeader(callID)
		req.ReplaceHeader(&cid)
		p.mu.Lock()
		p.reg.cseq++
		seq := p.reg.cseq
		p.mu.Unlock()
		req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: sip.REGISTER})
		contact := p.contactHeader(f, true)
		req.AppendHeader(contact)
		secs := int(expires / time.Second)
		eh := sip.ExpiresHeader(secs)
		req.AppendHeader(&eh)
		if p.acct.NoOutbound {
			req.AppendHeader(sip.NewHeader("Supported", "path"))
		} else {
			req.AppendHeader(sip.NewHeader("Supported", "path, outbound"))
		}
		req.AppendHeader(sip.NewHeader("Allow", allowHeader))

		res, err := p.do(ctx, req, func(seq uint32) {
			p.mu.Lock()
			p.reg.cseq = max(p.reg.cseq, seq)
			p.mu.Unlock()
		})
		if err != nil {
			return 0, fmt.Errorf("REGISTER: %w", err)
		}
		if res.StatusCode == 423 && attempt == 0 {
			if h := res.GetHeader("Min-Expires"); h != nil {
				if v, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && v > 0 {
					expires = time.Duration(v) * time.Second
					continue
				}
			}
		}
		if !res.IsSuccess() {
			return 0, &StatusError{Method: "REGISTER", Code: res.StatusCode, Reason: res.Reason}
		}
		if expires == 0 {
			return 0, nil
		}
		granted := grantedExpires(res, contact, expires)
		if granted <= 0 {
			return 0, &StatusError{Method: "REGISTER", Code: res.StatusCode, Reason: "registrar accepted but kept no binding for our contact"}
		}
		var routes []sip.Uri
		for _, h := range res.GetHeaders("Service-Route") {
			for _, v := range splitHeaderList(h.Value()) {
				var u sip.Uri
				if _, err := sip.ParseAddressValue(v, &u, nil); err == nil {
					routes = append(routes, u)
				}
			}
		}
		p.mu.Lock()
		p.serviceRts = routes
		p.reg.expires = granted
		p.reg.count++
		p.mu.Unlock()
		return granted, nil
	}
	return 0, errors.New("REGISTER: registrar kept asking for a longer expiry")
}

// grantedExpires finds the lifetime of our binding in a 2xx to REGISTER.
func grantedExpires(res *sip.Response, ours *sip.ContactHeader, requested time.Duration) time.Duration {
	hdrs := res.GetHeaders("Contact")
	if len(hdrs) == 0 {
		return requested // registrars that list no bindings: assume granted
	}
	for _, h := range hdrs {
		for _, v := range splitHeaderList(h.Value()) {
			var u sip.Uri
			params := sip.NewParams()
			if _, err := sip.ParseAddressValue(v, &u, &params); err != nil {
				continue
			}
			if u.Host != ours.Address.Host || u.Port != ours.Address.Port || u.User != ours.Address.User {
				continue
			}
			if e, ok := params.Get("expires"); ok {
				if n, err := strconv.Atoi(e); err == nil {
					return time.Duration(n) * time.Second
				}
			}
			break
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			return time.Duration(n) * time.Second
		}
	}
	return requested
}

// splitHeaderList splits a comma-separated header value, respecting <> and quotes.
func splitHeaderList(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' && (i == 0 || v[i-1] != '\\'):
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	if s := strings.TrimSpace(v[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// do sends a non-INVITE request and returns its final response, answering
// one or two digest challenges (401/407). onCSeq learns the CSeq of each resend.
func (p *Phone) do(ctx context.Context, req *sip.Request, onCSeq func(uint32)) (*sip.Response, error) {
	tx, err := p.cli.TransactionRequest(ctx, req)
	if err != nil {
		return nil, sendError(string(req.Method), err)
	}
	for attempt := 0; ; attempt++ {
		res, err := finalResponse(ctx, tx, nil)
		tx.Terminate()
		if err != nil {
			return nil, err
		}
		if (res.StatusCode == 401 || res.StatusCode == 407) && attempt < 2 && p.acct.Password != "" {
			if err := p.authorize(req, res); err != nil {
				return nil, err
			}
			req.CSeq().SeqNo++
			if onCSeq != nil {
				onCSeq(req.CSeq().SeqNo)
			}
			req.RemoveHeader("Via")
			if tx, err = p.cli.TransactionRequest(ctx, req, sipgo.ClientRequestAddVia); err != nil {
				return nil, sendError(string(req.Method), err)
			}
			continue
		}
		return res, nil
	}
}

// finalResponse waits for the final response of a client transaction,
// passing provisional ones to onProvisional.
func finalResponse(ctx context.Context, tx sip.ClientTransaction, onProvisional func(*sip.Response)) (*sip.Response, error) {
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				if onProvisional != nil {
					onProvisional(res)
				}
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w: transaction ended without a final response", ErrTimeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// authorize adds Authorization or Proxy-Authorization answering the challenge in res.
func (p *Phone) authorize(req *sip.Request, res *sip.Response) error {
	hname, cname := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		hname, cname = "Proxy-Authenticate", "Proxy-Authorization"
	}
	h := res.GetHeader(hname)
	if h == nil {
		return &StatusError{Method: string(req.Method), Code: res.StatusCode, Reason: res.Reason + " (no " + hname + " challenge)"}
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		return fmt.Errorf("%s: bad %s challenge: %w", req.Method, hname, err)
	}
	chal.Algorithm = strings.ToUpper(chal.Algorithm)
	cred, err := digest.Digest(chal, digest.Options{
		Method:   string(req.Method),
		URI:      req.Recipient.String(),
		Username: p.acct.AuthUser,
		Password: p.acct.Password,
		Count:    1,
	})
	if err != nil {
		return fmt.Errorf("%s: digest: %w", req.Method, err)
	}
	req.RemoveHeader(cname)
	req.AppendHeader(sip.NewHeader(cname, cred.String()))
	return nil
}
