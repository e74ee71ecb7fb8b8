package proxy

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"
	"go.uber.org/zap"
)

var errBanned = errors.New("source refused by policy")

// accessReadFilter runs on every read of the access transports before parsing: it drops datagrams and
// closes connections of refused sources, and answers STUN binding requests on UDP (RFC 5626 §4.4.2
// keepalives) without passing them to the SIP parser.
func (p *Proxy) accessReadFilter(props sip.TransportReadProps, data []byte) ([]byte, error) {
	ip := remoteIP(props.RemoteAddr)
	if p.hooks.Admit != nil && !p.hooks.Admit(ip) {
		if props.Transport == "UDP" {
			return nil, nil // never return an error on UDP: it would end the whole read loop
		}
		return nil, errBanned
	}
	if props.Transport != "UDP" {
		return p.streamFilter(props.Transport, props.RemoteAddr.String(), data)
	}
	if isSTUNBinding(data) {
		if pc := p.udpConns[props.LocalAddr.String()]; pc != nil {
			if resp := stunBindingSuccess(data, props.RemoteAddr); resp != nil {
				_, _ = pc.WriteTo(resp, props.RemoteAddr)
			}
		}
		return nil, nil
	}
	return data, nil
}

const stunMagic = 0x2112A442

func isSTUNBinding(b []byte) bool {
	return len(b) >= 20 && b[0] == 0x00 && b[1] == 0x01 && binary.BigEndian.Uint32(b[4:8]) == stunMagic &&
		int(binary.BigEndian.Uint16(b[2:4]))+20 == len(b)
}

// stunBindingSuccess builds a Binding success response with XOR-MAPPED-ADDRESS (RFC 5389).
func stunBindingSuccess(req []byte, to net.Addr) []byte {
	ap, err := netip.ParseAddrPort(to.String())
	if err != nil {
		return nil
	}
	ip := ap.Addr().Unmap()
	family, alen := byte(0x01), 4
	if ip.Is6() {
		family, alen = 0x02, 16
	}
	out := make([]byte, 20+4+4+alen)
	binary.BigEndian.PutUint16(out[0:2], 0x0101)
	binary.BigEndian.PutUint16(out[2:4], uint16(4+4+alen))
	copy(out[4:20], req[4:20]) // magic cookie + transaction id
	binary.BigEndian.PutUint16(out[20:22], 0x0020)
	binary.BigEndian.PutUint16(out[22:24], uint16(4+alen))
	out[25] = family
	binary.BigEndian.PutUint16(out[26:28], ap.Port()^uint16(stunMagic>>16))
	raw := ip.AsSlice()
	for i := range raw {
		raw[i] ^= out[4+i] // cookie then transaction id (RFC 5389 §15.2)
	}
	copy(out[28:], raw)
	return out
}

// tlsAccepted remembers the user a verified client certificate names (mutual TLS).
func (p *Proxy) tlsAccepted(remote string, st tls.ConnectionState) {
	if len(st.VerifiedChains) == 0 || len(st.PeerCertificates) == 0 {
		return
	}
	c := st.PeerCertificates[0]
	user := c.Subject.CommonName
	for _, u := range c.URIs {
		if u.Scheme == "sip" || u.Scheme == "sips" {
			if i := strings.IndexByte(u.Opaque, '@'); i > 0 {
				user = u.Opaque[:i]
			}
		}
	}
	if user != "" {
		p.tlsUsers.Store(remote, user)
	}
}

func (p *Proxy) connRefused(ip netip.Addr, reason string) {
	r := "banned"
	switch {
	case strings.HasPrefix(reason, "too many"):
		r = "per_ip_limit"
	case strings.HasPrefix(reason, "TLS"):
		r = "tls_handshake"
	}
	p.m.connRefused.WithLabelValues(r).Inc()
	p.log.Debug("connection refused", zap.String("src_ip", ip.String()), zap.String("reason", reason))
}

// connClosed is told when an access connection closes: its flow is gone at once.
func (p *Proxy) connClosed(transport, remote string) {
	p.tlsUsers.Delete(remote)
	p.framers.Delete(flowKey(transport, remote))
	if f := p.flows.closeRemote(transport, remote); f != nil {
		p.flowGone(f)
	}
}

func (p *Proxy) flowGone(f *Flow) {
	if p.reg != nil {
		p.reg.RemoveFlow(f.ID)
	}
	p.log.Debug("flow gone", zap.String("flow", f.ID), zap.String("user", f.User()), zap.String("remote", f.Remote))
}
