package proxy

import (
	"context"
	"net"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/sipedge/sipedge/secevent"
)

// identify binds an access-side request to a user: REGISTER authenticates (passthrough or local),
// in-dialog requests must belong to a dialog of the flow's user, and everything else needs a flow
// whose user sent it.
func (p *Proxy) identify(next handler) handler {
	return func(ctx context.Context, in *inbound) error {
		_, in.advert = p.popRoutes(in.req, true)
		in.user = in.flow.User()
		if in.req.Method == sip.REGISTER {
			return next(ctx, in)
		}
		if toTag(in.req) != "" {
			d, fromA := p.dialogs.find(in.req, sideAccess)
			if d == nil {
				if in.req.IsAck() {
					return reject(0, "", "ACK for an unknown dialog")
				}
				return reject(481, "Call/Transaction Does Not Exist", "no such dialog")
			}
			l := &d.a
			if !fromA {
				l = &d.b
			}
			d.mu.Lock()
			owner, flowID := l.user, l.flowID
			d.mu.Unlock()
			if flowID == "" || in.user == "" || owner != in.user {
				p.secEvent(secevent.FlowRejected, in, in.user, "in-dialog request on a flow that does not own the dialog")
				return reject(403, "Forbidden", "dialog belongs to another flow")
			}
			if flowID != in.flow.ID { // the phone reconnected (new connection or address): follow it
				d.mu.Lock()
				l.flowID = in.flow.ID
				d.mu.Unlock()
			}
			in.dlg, in.fromA = d, fromA
			return next(ctx, in)
		}
		if in.req.IsCancel() {
			return reject(481, "Call/Transaction Does Not Exist", "CANCEL matches no transaction")
		}
		if in.user == "" {
			p.secEvent(secevent.FlowRejected, in, "", "request on a flow that never registered")
			return reject(403, "Forbidden", "flow not registered")
		}
		if fu := fromUser(in.req); fu != in.user {
			p.secEvent(secevent.FlowRejected, in, in.user, "From user "+fu+" on a flow registered as "+in.user)
			return reject(403, "Forbidden", "From user does not match the flow's user")
		}
		return next(ctx, in)
	}
}

// routeAccess sends an access-side request on: REGISTER to the registrar logic, in-dialog requests to
// the other leg of their dialog, new requests to the PBX or (standalone) to the called user's devices.
func (p *Proxy) routeAccess(ctx context.Context, in *inbound) error {
	req := in.req
	if req.Method == sip.REGISTER {
		return p.handleRegister(ctx, in)
	}
	if in.dlg != nil {
		return p.forwardInDialog(in)
	}
	if req.IsAck() {
		return reject(0, "", "out-of-dialog ACK")
	}
	if p.isDraining() && isDialogForming(req.Method) {
		return reject(503, "Service Unavailable", "draining")
	}
	if p.reg != nil {
		return p.routeLocal(in)
	}
	b, err := p.coreBranch(in, req.Recipient, nil)
	if err != nil {
		return err
	}
	go p.forward(in, []*branch{b})
	return nil
}

// routeLocal forks a request to every registered device of the called user (standalone mode).
func (p *Proxy) routeLocal(in *inbound) error {
	user := in.req.Recipient.User
	if user == "" {
		if in.req.Method == sip.OPTIONS {
			return reject(200, "OK", "")
		}
		return reject(484, "Address Incomplete", "no user in Request-URI")
	}
	var brs []*branch
	for _, bnd := range p.reg.Lookup(user) {
		f := p.flows.get(bnd.FlowID)
		if f == nil {
			continue
		}
		var target sip.Uri
		if err := sip.ParseUri(bnd.Contact, &target); err != nil {
			continue
		}
		brs = append(brs, p.accessBranch(in, f, target))
	}
	if len(brs) == 0 {
		return reject(480, "Temporarily Unavailable", "no registered device for "+user)
	}
	go p.forward(in, brs)
	return nil
}

// coreBranch builds the copy of in.req for the PBX.
func (p *Proxy) coreBranch(in *inbound, ruri sip.Uri, routes []sip.Uri) (*branch, error) {
	out := in.req.Clone()
	out.Recipient = ruri
	removeAll(out, "Route")
	for _, r := range routes {
		out.AppendHeader(&sip.RouteHeader{Address: r})
	}
	var dest, tr string
	if len(routes) > 0 {
		dest, tr = destOf(routes[0])
	} else if in.dlg != nil {
		dest, tr = destOf(ruri)
	} else {
		t, ok := p.pickTarget()
		if !ok {
			p.m.noTarget.Inc()
			return nil, reject(503, "Service Unavailable", ErrNoTarget.Error())
		}
		dest, tr = t.dest, t.transport
	}
	out.SetDestination(dest)
	out.SetTransport(tr)
	if in.side == sideAccess && in.dlg == nil && isDialogForming(in.req.Method) {
		token := in.flow.ID
		out.PrependHeader(&sip.RecordRouteHeader{Address: p.accessURI(in.flow, in.advert, token, true)})
		out.PrependHeader(&sip.RecordRouteHeader{Address: p.coreURI(token)})
	}
	addVia(out, tr, p.coreEP.Addr())
	return &branch{out: out, side: sideCore}, nil
}

// accessBranch builds the copy of in.req for a phone's flow. Toward the access side the core-side Vias,
// Record-Routes and Contact are hidden (restored on the responses).
func (p *Proxy) accessBranch(in *inbound, f *Flow, target sip.Uri) *branch {
	out := in.req.Clone()
	out.Recipient = target
	removeAll(out, "Route")
	if in.side == sideCore {
		removeAll(out, "Via")
		removeAll(out, "Record-Route")
		p.hideContact(out, f, in.advert)
	}
	if in.dlg == nil && isDialogForming(in.req.Method) {
		// Toward a phone only the access-side entry is shown: the core-side one (RFC 5658's second entry)
		// would expose the core address. The edge routes the phone's in-dialog requests by dialog.
		if in.side == sideAccess { // standalone: phone to phone
			out.PrependHeader(&sip.RecordRouteHeader{Address: p.accessURI(in.flow, in.advert, in.flow.ID, true)})
		}
		out.PrependHeader(&sip.RecordRouteHeader{Address: p.accessURI(f, "", f.ID, true)})
	}
	out.SetDestination(f.Remote)
	out.SetTransport(f.Transport)
	p.bindUDPListener(out, f)
	addVia(out, f.Transport, p.viaHost(f))
	return &branch{out: out, side: sideAccess, flow: f}
}

func (p *Proxy) viaHost(f *Flow) string {
	u := p.accessURI(f, "", "", false)
	return u.HostPort()
}

// hideContact replaces a core-side Contact with the edge's access URI: the phone's in-dialog requests
// then come to the edge, which routes them by dialog.
func (p *Proxy) hideContact(m hdrMsg, f *Flow, advert string) {
	if m.Contact() == nil {
		return
	}
	removeAll(m, "Contact")
	m.AppendHeader(&sip.ContactHeader{Address: p.accessURI(f, advert, "", false)})
}

func fromUser(req *sip.Request) string {
	if f := req.From(); f != nil {
		return f.Address.User
	}
	return ""
}

// udpLocalToward is the edge's UDP access address as seen by a phone at src: the listener's address,
// with a wildcard IP replaced by the local address the kernel routes toward src (what the phone sent to,
// in all but policy-routed setups). l is the address of the UDP listener the phone's request arrived on.
func (p *Proxy) udpLocalToward(l, src string) string {
	ap, err := netip.ParseAddrPort(l)
	if err != nil || !ap.Addr().IsUnspecified() {
		return l
	}
	dst, err := netip.ParseAddrPort(src)
	if err != nil {
		return l
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst)) // no packet is sent
	if err != nil {
		return l
	}
	defer c.Close()
	local := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	return netip.AddrPortFrom(local, ap.Port()).String()
}

func (p *Proxy) flowAlive(f *Flow) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	closed, conn := f.closed, f.conn
	f.mu.Unlock()
	if closed {
		return false
	}
	if conn == nil {
		return f.Transport == "UDP"
	}
	c, err := p.accessTP.GetConnection(strings.ToLower(f.Transport), f.Remote)
	return err == nil && c == conn
}
