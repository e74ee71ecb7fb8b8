package media

import "encoding/binary"

// PacketClass is what a datagram on a media port is, by its first byte (RFC 7983 as
// updated by RFC 9443) and, for RTP/RTCP, its second byte (RFC 5761).
type PacketClass int

// Packet classes returned by Classify.
const (
	PacketUnknown     PacketClass = iota // empty or outside every range: drop
	PacketSTUN                           // first byte 0..3 (STUN, ICE consent, keepalives)
	PacketZRTP                           // 16..19
	PacketDTLS                           // 20..63
	PacketTURNChannel                    // 64..79 (TURN ChannelData)
	PacketRTP                            // 128..191, second byte not an RTCP packet type
	PacketRTCP                           // 128..191, second byte 192..223
)

var packetClassNames = [...]string{"unknown", "stun", "zrtp", "dtls", "turn-channel", "rtp", "rtcp"}

// String returns a short lower-case name, usable as a metric label.
func (c PacketClass) String() string {
	if c < 0 || int(c) >= len(packetClassNames) {
		return "unknown"
	}

	return packetClassNames[c]
}

// Classify tells what kind of packet pkt is, so that one port can carry RTP, RTCP
// (rtcp-mux) and STUN keepalives.
func Classify(pkt []byte) PacketClass {
	if len(pkt) == 0 {
		return PacketUnknown
	}
	switch b := pkt[0]; {
	case b <= 3:
		return PacketSTUN
	case b >= 16 && b <= 19:
		return PacketZRTP
	case b >= 20 && b <= 63:
		return PacketDTLS
	case b >= 64 && b <= 79:
		return PacketTURNChannel
	case b >= 128 && b <= 191:
		if IsRTCP(pkt) {
			return PacketRTCP
		}

		return PacketRTP
	}

	return PacketUnknown
}

// IsRTCP reports whether pkt, an RTP or RTCP packet on a multiplexed port, is RTCP
// (RFC 5761 §4): its second byte is an RTCP packet type in 192..223 (SR 200, RR 201,
// SDES 202, BYE 203, APP 204, RTPFB 205, PSFB 206, XR 207, ...), which as RTP would be
// marker bit plus payload type 64..95, a range RFC 5761 keeps free. It does not check
// the version or length.
func IsRTCP(pkt []byte) bool {
	return len(pkt) >= 2 && pkt[1] >= 192 && pkt[1] <= 223
}

// IsClearRTCP reports whether pkt is a well-formed clear-text RTCP compound packet: its length fields
// cover it exactly, with no SRTCP index and authentication tag after them. On an SRTP session such a
// packet is not SRTCP (baresip sends its APP "PING" and its final RTCP BYE unencrypted); callers use
// this to tell it from a forged or mis-keyed SRTCP packet after authentication failed.
func IsClearRTCP(pkt []byte) bool {
	off := 0
	for off+4 <= len(pkt) {
		if pkt[off]>>6 != 2 {
			return false
		}
		off += (int(binary.BigEndian.Uint16(pkt[off+2:off+4])) + 1) * 4
	}
	return off == len(pkt) && len(pkt) > 0
}
