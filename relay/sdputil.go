package relay

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/sipedge/sipedge/media"
)

// maxSDPSize bounds the bodies the relay parses.
const maxSDPSize = 64 << 10

// dropAttrs are removed from every rewritten media section (and, where they may appear,
// the session level): ICE (the edge does not do ICE, and candidates would leak
// addresses), DTLS keying, crypto and RTCP addresses (rewritten by the relay).
var dropAttrs = [...]string{
	"candidate", "remote-candidates", "end-of-candidates", "ice-ufrag", "ice-pwd", "ice-options",
	"ice-lite", "ice-mismatch", "fingerprint", "setup", "crypto", "rtcp", "rtcp-mux",
}

func parseSDP(body []byte) (*sdp.SessionDescription, error) {
	if len(body) > maxSDPSize {
		return nil, fmt.Errorf("%w: body of %d bytes exceeds %d", ErrBadSDP, len(body), maxSDPSize)
	}
	sd, err := media.ParseSDP(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}

	return sd, nil
}

func marshalSDP(sd *sdp.SessionDescription) ([]byte, error) {
	out, err := sd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("%w: marshal: %w", ErrBadSDP, err)
	}

	return out, nil
}

// relayable reports whether the relay anchors this media section: audio or video over
// RTP/AVP(F) or RTP/SAVP(F). Everything else (T.38 udptl, DTLS-SRTP, application, text
// over TCP, ...) is rejected with port 0.
func relayable(md *sdp.MediaDescription) bool {
	m := strings.ToLower(md.MediaName.Media)
	if m != "audio" && m != "video" {
		return false
	}

	return media.IsSRTP(md) || media.IsPlainRTP(md)
}

// stripAttrs removes the attributes in dropAttrs from attrs.
func stripAttrs(attrs []sdp.Attribute) []sdp.Attribute {
	out := attrs[:0]
	for _, a := range attrs {
		drop := false
		for _, k := range dropAttrs {
			if strings.EqualFold(a.Key, k) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, a)
		}
	}

	return out
}

// setRTCP writes the RTCP attributes of a section we send: a=rtcp-mux when muxing, else
// a=rtcp:<port+1> (RFC 3605).
func setRTCP(md *sdp.MediaDescription, rtpPort int, mux bool) {
	if mux {
		md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute("rtcp-mux"))
		return
	}
	md.Attributes = append(md.Attributes, sdp.NewAttribute("rtcp", strconv.Itoa(rtpPort+1)))
}

// rejectSection sets md to port 0 with our address, without crypto, ICE or RTCP lines.
func rejectSection(md *sdp.MediaDescription, ip netip.Addr) {
	md.Attributes = stripAttrs(md.Attributes)
	if ip.IsValid() {
		media.SetMediaAddr(md, netip.AddrPortFrom(ip, 0))
	} else {
		md.ConnectionInformation = nil
		md.MediaName.Port = sdp.RangedPort{Value: 0}
	}
}

// setSession rewrites the session level for the receiving side: o= and c= addresses,
// no ICE or DTLS attributes.
func setSession(sd *sdp.SessionDescription, ip netip.Addr) {
	if ip.IsValid() {
		media.SetSessionAddr(sd, ip)
	}
	sd.Attributes = stripAttrs(sd.Attributes)
}

// originKey identifies the sender of a description (RFC 3264 §8: o= stays the same
// apart from the version within a session).
func originKey(sd *sdp.SessionDescription) string {
	o := sd.Origin

	return o.Username + " " + strconv.FormatUint(o.SessionID, 10) + " " + o.UnicastAddress
}

// firstCodec returns the encoding name and clock rate of the first payload format of
// md: from its a=rtpmap, else the RFC 3551 static table, else ("", 8000 for audio or
// 90000 for video).
func firstCodec(md *sdp.MediaDescription) (string, uint32) {
	def := uint32(8000)
	if strings.EqualFold(md.MediaName.Media, "video") {
		def = 90000
	}
	if len(md.MediaName.Formats) == 0 {
		return "", def
	}
	pt := md.MediaName.Formats[0]
	for _, a := range md.Attributes {
		if !strings.EqualFold(a.Key, "rtpmap") {
			continue
		}
		num, enc, ok := strings.Cut(a.Value, " ")
		if !ok || num != pt {
			continue
		}
		parts := strings.Split(enc, "/")
		if len(parts) >= 2 {
			if r, err := strconv.ParseUint(parts[1], 10, 32); err == nil && r > 0 {
				return parts[0], uint32(r)
			}
		}

		return parts[0], def
	}
	switch pt {
	case "0":
		return "PCMU", 8000
	case "8":
		return "PCMA", 8000
	case "9":
		return "G722", 8000
	case "18":
		return "G729", 8000
	case "3":
		return "GSM", 8000
	}

	return "", def
}

// sectionHeld reports whether md (with session sd) puts the stream on hold: a direction
// other than sendrecv or the old-style c=0.0.0.0.
func sectionHeld(sd *sdp.SessionDescription, md *sdp.MediaDescription) bool {
	if media.Direction(sd, md) != sdp.DirectionSendRecv {
		return true
	}
	ap, err := media.MediaAddr(sd, md)

	return err == nil && ap.Addr().IsUnspecified()
}
