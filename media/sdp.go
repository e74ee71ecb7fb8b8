package media

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// SDP attribute names used here.
const (
	attrCrypto  = "crypto"
	attrRTCPMux = "rtcp-mux"
	attrRTCP    = "rtcp"
)

// CryptosOf returns the a=crypto lines of md in order. Lines naming a suite this package
// does not implement are skipped (a valid offer may list them). Malformed lines, and a
// tag used twice, are left out too and reported together in the error (which never
// contains key material); the lines that did parse are returned alongside it, so a
// caller may go on with them or reject the section.
func CryptosOf(md *sdp.MediaDescription) ([]CryptoAttr, error) {
	if md == nil {
		return nil, nil
	}
	var (
		out  []CryptoAttr
		errs []error
		n    int
	)
	for _, a := range md.Attributes {
		if !strings.EqualFold(a.Key, attrCrypto) {
			continue
		}
		n++
		c, err := ParseCrypto(a.Value)
		switch {
		case errors.Is(err, ErrUnknownSuite):
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("crypto line %d of media %q: %w", n, md.MediaName.Media, err))
			continue
		}
		if hasTag(out, c.Tag) {
			errs = append(errs, fmt.Errorf("crypto line %d of media %q: %w: tag %d used twice",
				n, md.MediaName.Media, ErrMalformedCrypto, c.Tag))
			continue
		}
		out = append(out, c)
	}

	return out, errors.Join(errs...)
}

func hasTag(cs []CryptoAttr, tag int) bool {
	for _, c := range cs {
		if c.Tag == tag {
			return true
		}
	}

	return false
}

// SetCrypto replaces every a=crypto line of md with attrs (none removes them all). The new
// lines take the place of the first old one, or go at the end.
func SetCrypto(md *sdp.MediaDescription, attrs ...CryptoAttr) {
	lines := make([]sdp.Attribute, len(attrs))
	for i, c := range attrs {
		lines[i] = sdp.NewAttribute(attrCrypto, c.String())
	}
	replaceAttributes(md, attrCrypto, lines)
}

// replaceAttributes removes every attribute named key (case-insensitive) and inserts
// repl where the first one was, or at the end.
func replaceAttributes(md *sdp.MediaDescription, key string, repl []sdp.Attribute) {
	if md == nil {
		return
	}
	kept := make([]sdp.Attribute, 0, len(md.Attributes)+len(repl))
	at := -1
	for _, a := range md.Attributes {
		if strings.EqualFold(a.Key, key) {
			if at < 0 {
				at = len(kept)
			}
			continue
		}
		kept = append(kept, a)
	}
	if at < 0 {
		at = len(kept)
	}
	md.Attributes = append(kept[:at:at], append(repl, kept[at:]...)...)
}

// RemoveAttributes removes every attribute named key (case-insensitive) from md and
// returns how many it removed.
func RemoveAttributes(md *sdp.MediaDescription, key string) int {
	if md == nil {
		return 0
	}
	before := len(md.Attributes)
	replaceAttributes(md, key, nil)

	return before - len(md.Attributes)
}

// MediaAddr returns the address and port that md's media is sent to: the media-level c=
// line, else the session-level one, and the m= port. Port 0 (a rejected or disabled
// stream) and 0.0.0.0 (old-style hold) are returned as they are. Errors (wrapping ErrSDP):
// no c= line, a network type other than IN, an address that is not an IP literal or does
// not match its address type.
func MediaAddr(sd *sdp.SessionDescription, md *sdp.MediaDescription) (netip.AddrPort, error) {
	if md == nil {
		return netip.AddrPort{}, fmt.Errorf("%w: no media section", ErrSDP)
	}
	ci := md.ConnectionInformation
	if ci == nil && sd != nil {
		ci = sd.ConnectionInformation
	}
	addr, err := connAddr(ci)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("media %q: %w", md.MediaName.Media, err)
	}
	port := md.MediaName.Port.Value
	if port < 0 || port > 65535 {
		return netip.AddrPort{}, fmt.Errorf("%w: media %q: port %d is out of range", ErrSDP, md.MediaName.Media, port)
	}

	return netip.AddrPortFrom(addr, uint16(port)), nil
}

func connAddr(ci *sdp.ConnectionInformation) (netip.Addr, error) {
	if ci == nil || ci.Address == nil {
		return netip.Addr{}, fmt.Errorf("%w: no connection address (c=)", ErrSDP)
	}
	if ci.NetworkType != "IN" {
		return netip.Addr{}, fmt.Errorf("%w: network type %q is not IN", ErrSDP, ci.NetworkType)
	}
	addr, err := netip.ParseAddr(ci.Address.Address)
	if err != nil || addr.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%w: connection address %q is not an IP address", ErrSDP, ci.Address.Address)
	}
	switch ci.AddressType {
	case "IP4":
		if !addr.Is4() {
			return netip.Addr{}, fmt.Errorf("%w: connection address %q is not IPv4 (IP4)", ErrSDP, ci.Address.Address)
		}
	case "IP6":
		if !addr.Is6() {
			return netip.Addr{}, fmt.Errorf("%w: connection address %q is not IPv6 (IP6)", ErrSDP, ci.Address.Address)
		}
	default:
		return netip.Addr{}, fmt.Errorf("%w: address type %q is neither IP4 nor IP6", ErrSDP, ci.AddressType)
	}

	return addr, nil
}

// connInfo builds "c=IN IP4|IP6 addr" for addr (IPv4-mapped addresses become IP4).
func connInfo(addr netip.Addr) *sdp.ConnectionInformation {
	addr = addr.Unmap()
	at := "IP4"
	if addr.Is6() {
		at = "IP6"
	}

	return &sdp.ConnectionInformation{NetworkType: "IN", AddressType: at, Address: &sdp.Address{Address: addr.String()}}
}

// SetMediaAddr sets md's media-level c= line and m= port to ap (dropping a port range).
func SetMediaAddr(md *sdp.MediaDescription, ap netip.AddrPort) {
	if md == nil {
		return
	}
	md.ConnectionInformation = connInfo(ap.Addr())
	md.MediaName.Port = sdp.RangedPort{Value: int(ap.Port())}
}

// SetSessionAddr sets the session-level c= line and the o= line's address to addr, so that
// no address of the other side stays in the description (topology hiding). Media-level
// c= lines are left to SetMediaAddr.
func SetSessionAddr(sd *sdp.SessionDescription, addr netip.Addr) {
	if sd == nil {
		return
	}
	ci := connInfo(addr)
	sd.ConnectionInformation = ci
	sd.Origin.NetworkType = "IN"
	sd.Origin.AddressType = ci.AddressType
	sd.Origin.UnicastAddress = ci.Address.Address
}

// RTCPAddr returns where RTCP for md goes: the media address with rtcp-mux (RFC 5761),
// the a=rtcp port and optional address (RFC 3605), else the media port + 1.
func RTCPAddr(sd *sdp.SessionDescription, md *sdp.MediaDescription) (netip.AddrPort, error) {
	media, err := MediaAddr(sd, md)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if HasRTCPMux(md) {
		return media, nil
	}
	v, ok := md.Attribute(attrRTCP)
	if !ok {
		if media.Port() == 0 || media.Port() == 65535 {
			return netip.AddrPortFrom(media.Addr(), 0), nil
		}

		return netip.AddrPortFrom(media.Addr(), media.Port()+1), nil
	}
	f := strings.Fields(v)
	if len(f) == 0 {
		return netip.AddrPort{}, fmt.Errorf("%w: a=rtcp has no port", ErrSDP)
	}
	port, err := strconv.ParseUint(f[0], 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: a=rtcp:%s: port is not a number 0..65535", ErrSDP, v)
	}
	switch len(f) {
	case 1:
		return netip.AddrPortFrom(media.Addr(), uint16(port)), nil
	case 4:
		addr, err := connAddr(&sdp.ConnectionInformation{NetworkType: f[1], AddressType: f[2], Address: &sdp.Address{Address: f[3]}})
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("a=rtcp:%s: %w", v, err)
		}

		return netip.AddrPortFrom(addr, uint16(port)), nil
	}

	return netip.AddrPort{}, fmt.Errorf("%w: a=rtcp:%s: want \"<port>\" or \"<port> IN IP4|IP6 <address>\"", ErrSDP, v)
}

// HasRTCPMux reports whether md has a=rtcp-mux.
func HasRTCPMux(md *sdp.MediaDescription) bool {
	return md != nil && hasAttr(md.Attributes, attrRTCPMux)
}

// SetRTCPMux adds (on) or removes (off) a=rtcp-mux on md.
func SetRTCPMux(md *sdp.MediaDescription, on bool) {
	if md == nil {
		return
	}
	RemoveAttributes(md, attrRTCPMux)
	if on {
		md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute(attrRTCPMux))
	}
}

func hasAttr(attrs []sdp.Attribute, key string) bool {
	for _, a := range attrs {
		if strings.EqualFold(a.Key, key) {
			return true
		}
	}

	return false
}

// Direction returns the media direction of md (RFC 3264 §5.1): its own sendrecv,
// sendonly, recvonly or inactive attribute, else the session-level one, else sendrecv.
func Direction(sd *sdp.SessionDescription, md *sdp.MediaDescription) sdp.Direction {
	if md != nil {
		if d, ok := directionOf(md.Attributes); ok {
			return d
		}
	}
	if sd != nil {
		if d, ok := directionOf(sd.Attributes); ok {
			return d
		}
	}

	return sdp.DirectionSendRecv
}

func directionOf(attrs []sdp.Attribute) (sdp.Direction, bool) {
	for _, a := range attrs {
		if a.Value != "" {
			continue
		}
		if d, err := sdp.NewDirection(strings.ToLower(a.Key)); err == nil {
			return d, true
		}
	}

	return 0, false
}

// SetDirection replaces md's direction attribute with d. An unknown d removes it, which
// means sendrecv unless the session level says otherwise.
func SetDirection(md *sdp.MediaDescription, d sdp.Direction) {
	if md == nil {
		return
	}
	for _, k := range [...]sdp.Direction{sdp.DirectionSendRecv, sdp.DirectionSendOnly, sdp.DirectionRecvOnly, sdp.DirectionInactive} {
		RemoveAttributes(md, k.String())
	}
	if s := d.String(); s != "" {
		md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute(s))
	}
}

// ReverseDirection is the direction an answer takes to an offer with direction d
// (RFC 3264 §6.1): sendonly <-> recvonly; sendrecv and inactive stay.
func ReverseDirection(d sdp.Direction) sdp.Direction {
	switch d {
	case sdp.DirectionSendOnly:
		return sdp.DirectionRecvOnly
	case sdp.DirectionRecvOnly:
		return sdp.DirectionSendOnly
	}

	return d
}

// Transport returns md's transport protocol as written on the m= line, e.g. "RTP/SAVP".
func Transport(md *sdp.MediaDescription) string {
	if md == nil {
		return ""
	}

	return strings.Join(md.MediaName.Protos, "/")
}

// IsSRTP reports whether md uses SDES-keyed SRTP: RTP/SAVP or RTP/SAVPF.
func IsSRTP(md *sdp.MediaDescription) bool {
	t := strings.ToUpper(Transport(md))

	return t == "RTP/SAVP" || t == "RTP/SAVPF"
}

// IsPlainRTP reports whether md uses unencrypted RTP: RTP/AVP or RTP/AVPF.
func IsPlainRTP(md *sdp.MediaDescription) bool {
	t := strings.ToUpper(Transport(md))

	return t == "RTP/AVP" || t == "RTP/AVPF"
}

// SetSRTP switches md between RTP/AVP and RTP/SAVP (keeping a trailing F, RTP/AVPF <->
// RTP/SAVPF). Switching to plain RTP also removes the a=crypto lines. Other transports
// (DTLS "UDP/TLS/RTP/SAVP", "udptl" for T.38, ...) get an error wrapping ErrSDP.
func SetSRTP(md *sdp.MediaDescription, secure bool) error {
	if md == nil {
		return fmt.Errorf("%w: no media section", ErrSDP)
	}
	if !IsSRTP(md) && !IsPlainRTP(md) {
		return fmt.Errorf("%w: media %q: transport %q is neither RTP/AVP(F) nor RTP/SAVP(F)",
			ErrSDP, md.MediaName.Media, Transport(md))
	}
	profile := "AVP"
	if secure {
		profile = "SAVP"
	}
	if strings.HasSuffix(strings.ToUpper(Transport(md)), "F") {
		profile += "F"
	}
	md.MediaName.Protos = []string{"RTP", profile}
	if !secure {
		SetCrypto(md)
	}

	return nil
}
