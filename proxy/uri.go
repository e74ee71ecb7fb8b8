package proxy

import (
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// isMe reports whether a Route/Record-Route URI names this edge: the core address, or the port of an
// access listener (on its bound IP, or on any IP when the listener is bound to the wildcard address).
func (p *Proxy) isMe(u sip.Uri) bool {
	port := u.Port
	tr := strings.ToLower(u.UriParams.GetOr("transport", "udp"))
	if port == 0 {
		port = 5060
		if tr == "tls" || u.Scheme == "sips" {
			port = 5061
		}
	}
	host := strings.Trim(u.Host, "[]")
	if host == p.coreEP.Host && port == p.coreEP.Port {
		return true
	}
	ip, err := netip.ParseAddr(host)
	for _, l := range p.accessAddrs {
		if l.Port() != uint16(port) {
			continue
		}
		if l.Addr().IsUnspecified() || (err == nil && ip.Unmap() == l.Addr().Unmap()) {
			return true
		}
		if err != nil && p.cfg.Listen.Advertise != "" && strings.EqualFold(host, p.cfg.Listen.Advertise) {
			return true
		}
	}
	return false
}

// isMine reports whether u is one of the edge's Record-Route entries for the flow token: in a call that
// passes the edge twice, the other pass's entries are ordinary route hops.
func (p *Proxy) isMine(u sip.Uri, token string) bool { return u.User == token && p.isMe(u) }

// isCore reports whether u is the edge's core-side address.
func (p *Proxy) isCore(u sip.Uri) bool {
	return strings.Trim(u.Host, "[]") == p.coreEP.Host && u.Port == p.coreEP.Port
}

// popRoutes removes the Route entries naming this edge from the top of req (RFC 3261 §16.4) and
// returns the flow token found in them, if any.
func (p *Proxy) popRoutes(req *sip.Request, fromAccess bool) (token, host string) {
	for {
		r := req.Route()
		if r == nil {
			return
		}
		_, ob := r.Address.UriParams.Get("ob")
		if !p.isMe(r.Address) && !(fromAccess && ob && host == "") {
			return
		}
		if strings.HasPrefix(r.Address.User, "f") && token == "" {
			token = r.Address.User
		}
		if host == "" {
			host = r.Address.Host
			if r.Address.Port != 0 {
				host = net.JoinHostPort(strings.Trim(r.Address.Host, "[]"), strconv.Itoa(r.Address.Port))
			}
		}
		req.RemoveHeader("Route")
	}
}

// coreURI is the edge's core-side Record-Route/Path URI carrying a flow token.
func (p *Proxy) coreURI(token string) sip.Uri {
	u := sip.Uri{Scheme: "sip", User: token, Host: p.coreEP.Host, Port: p.coreEP.Port, UriParams: sip.NewParams()}
	u.UriParams.Add("transport", p.coreEP.Transport)
	u.UriParams.Add("lr", "")
	return u
}

// accessURI is the edge's access-side URI for a flow: what the phone's requests are routed to.
func (p *Proxy) accessURI(f *Flow, advert, token string, lr bool) sip.Uri {
	hp := f.Local
	if p.cfg.Listen.Advertise != "" {
		_, port := hostPort(f.Local)
		hp = net.JoinHostPort(p.cfg.Listen.Advertise, strconv.Itoa(port))
	} else if ap, err := netip.ParseAddrPort(f.Local); err != nil || ap.Addr().IsUnspecified() {
		if advert != "" {
			hp = advert
		}
	}
	h, port := hostPort(hp)
	u := sip.Uri{Scheme: "sip", User: token, Host: h, Port: port, UriParams: sip.NewParams()}
	u.UriParams.Add("transport", strings.ToLower(f.Transport))
	if lr {
		u.UriParams.Add("lr", "")
	}
	return u
}

func uriOf(h sip.Header) (sip.Uri, bool) {
	switch v := h.(type) {
	case *sip.RouteHeader:
		return v.Address, true
	case *sip.RecordRouteHeader:
		return v.Address, true
	}
	var u sip.Uri
	s := strings.TrimSpace(h.Value())
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			s = s[i+1 : i+j]
		}
	}
	if err := sip.ParseUri(s, &u); err != nil {
		return u, false
	}
	return u, true
}

// destOf returns where a request toward uri goes: host:port and transport (upper case).
func destOf(u sip.Uri) (string, string) {
	tr := strings.ToUpper(u.UriParams.GetOr("transport", "udp"))
	if u.Scheme == "sips" {
		tr = "TLS"
	}
	port := u.Port
	if port == 0 {
		port = 5060
		if tr == "TLS" {
			port = 5061
		}
	}
	return net.JoinHostPort(strings.Trim(u.Host, "[]"), strconv.Itoa(port)), tr
}

// addVia prepends the edge's Via for a branch.
func addVia(out *sip.Request, transport, hostport string) {
	h, port := hostPort(hostport)
	v := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: transport, Host: h, Port: port,
		Params: sip.NewParams()}
	v.Params.Add("branch", sip.GenerateBranch())
	v.Params.Add("rport", "")
	out.PrependHeader(v)
}

// hdrMsg is what requests and responses share for header editing.
type hdrMsg interface {
	sip.Message
	RemoveHeader(name string) bool
	GetHeader(name string) sip.Header
	Contact() *sip.ContactHeader
}

// ensureContentLength adds Content-Length when a message (received over UDP, where it is optional)
// goes out on a stream, where it is mandatory.
func ensureContentLength(m hdrMsg) {
	if m.ContentLength() == nil {
		cl := sip.ContentLengthHeader(len(m.Body()))
		m.AppendHeader(&cl)
	}
}

func removeAll(m hdrMsg, name string) {
	for m.RemoveHeader(name) {
	}
}
