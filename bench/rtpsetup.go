package bench

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/pion/sdp/v3"

	"github.com/sipedge/sipedge/media"
)

// Media modes of the relay benchmark: what the relay receives and what it sends.
const (
	// ModeRTP: phone -> relay -> PBX, plain RTP on both sides.
	ModeRTP = "rtp-rtp"
	// ModeRTPtoSRTP: PBX (plain RTP) -> relay -> phone (SRTP, the relay encrypts).
	ModeRTPtoSRTP = "rtp-srtp"
	// ModeSRTPtoRTP: phone (SRTP) -> relay -> PBX (plain RTP, the relay authenticates and decrypts).
	ModeSRTPtoRTP = "srtp-rtp"
)

// RelayUnderTest is a relay driven through the ng protocol: the sipedge relay (ServeNG in a child
// process) or rtpengine.
type RelayUnderTest struct {
	Name string
	NG   *NGClient
	Proc *Proc
	// OfferFlags and AnswerFlags are added to every offer and answer command.
	OfferFlags, AnswerFlags map[string]any
}

// rtpSession is one call through the relay as the load generator sees it.
type rtpSession struct {
	callID string
	dst    netip.AddrPort // the relay's port the sender sends to
	ssrc   uint32
	seq    uint16
	ts     uint32
	dec    *media.Decryptor // rtp-srtp: what the relay sends the phone (checked in the warm-up)
	pre    [][]byte         // srtp-rtp: packets encrypted with the phone's key, in order
	// rtp-srtp: one SRTP packet of the phone's own stream, sent to access before the load as a real
	// phone would: the edge sends nothing to a phone before it has sent an authenticated packet.
	prime  []byte
	access netip.AddrPort
}

// rtpPayloadLen is the payload of a 20 ms G.711 packet; with the 12-byte header every packet the
// relays receive is 172 bytes (182 with an SRTP tag).
const rtpPayloadLen = 160

const ssrcBase = 0x5e000000

// setupSessions opens n sessions on rt for mode with phone and PBX at the given addresses. perSession
// is the number of packets each session will send (srtp-rtp pre-encrypts them).
func setupSessions(rt *RelayUnderTest, mode string, n, perSession int, phone, pbx netip.AddrPort, run string) ([]*rtpSession, error) {
	out := make([]*rtpSession, n)
	for i := range n {
		s := &rtpSession{callID: fmt.Sprintf("bench-%s-%d", run, i), ssrc: ssrcBase + uint32(i)}
		var phoneKey media.CryptoAttr
		var attrs []string
		proto := "RTP/AVP"
		if mode != ModeRTP {
			var err error
			if phoneKey, err = media.NewCryptoAttr(1, media.SuiteAES80); err != nil {
				return nil, err
			}
			attrs, proto = []string{"crypto:" + phoneKey.String()}, "RTP/SAVP"
		}
		offer := map[string]any{"command": "offer", "call-id": s.callID, "from-tag": "caller",
			"sdp": sdpBody("phone", phone, proto, attrs)}
		for k, v := range rt.OfferFlags {
			offer[k] = v
		}
		rep, err := rt.NG.Call(offer, 2*time.Second)
		if err != nil {
			return nil, fmt.Errorf("%s offer %d: %w", rt.Name, i, err)
		}
		core, _, err := sdpTarget(rep, false)
		if err != nil {
			return nil, fmt.Errorf("%s offer %d: %w", rt.Name, i, err)
		}
		answer := map[string]any{"command": "answer", "call-id": s.callID, "from-tag": "caller", "to-tag": "callee",
			"sdp": sdpBody("pbx", pbx, "RTP/AVP", nil)}
		for k, v := range rt.AnswerFlags {
			answer[k] = v
		}
		if rep, err = rt.NG.Call(answer, 2*time.Second); err != nil {
			return nil, fmt.Errorf("%s answer %d: %w", rt.Name, i, err)
		}
		access, line, err := sdpTarget(rep, mode != ModeRTP)
		if err != nil {
			return nil, fmt.Errorf("%s answer %d: %w", rt.Name, i, err)
		}
		switch mode {
		case ModeRTP:
			s.dst = access
		case ModeRTPtoSRTP:
			s.dst, s.access = core, access
			if s.dec, err = media.NewDecryptor(line); err != nil {
				return nil, fmt.Errorf("%s answer %d: relay's key: %w", rt.Name, i, err)
			}
			enc, err := media.NewEncryptor(phoneKey)
			if err != nil {
				return nil, err
			}
			phoneStream := &rtpSession{ssrc: s.ssrc ^ 0x80000000}
			if s.prime, err = enc.EncryptRTP(nil, phoneStream.plain(nil)); err != nil {
				return nil, err
			}
		case ModeSRTPtoRTP:
			s.dst = access
			if line.Tag != phoneKey.Tag || line.Suite != phoneKey.Suite {
				return nil, fmt.Errorf("%w: %s answered crypto %d %s to offer %d %s", ErrSDP, rt.Name, line.Tag, line.Suite, phoneKey.Tag, phoneKey.Suite)
			}
			enc, err := media.NewEncryptor(phoneKey)
			if err != nil {
				return nil, err
			}
			s.pre = make([][]byte, perSession)
			buf := make([]byte, 0, 256)
			for k := range s.pre {
				plain := s.plain(buf[:0])
				if s.pre[k], err = enc.EncryptRTP(make([]byte, 0, len(plain)+16), plain); err != nil {
					return nil, err
				}
			}
			s.seq, s.ts = 0, 0
		default:
			return nil, fmt.Errorf("%w: unknown mode %q", ErrSDP, mode)
		}
		out[i] = s
	}

	return out, nil
}

// deleteSessions ends the sessions on rt (errors are ignored: the relay is stopped afterwards).
func deleteSessions(rt *RelayUnderTest, ss []*rtpSession) {
	for _, s := range ss {
		if s != nil {
			_, _ = rt.NG.Call(map[string]any{"command": "delete", "call-id": s.callID, "from-tag": "caller"}, time.Second)
		}
	}
}

// plain appends the session's next plain RTP packet (PCMU, 160 bytes of 0xd5) to dst.
func (s *rtpSession) plain(dst []byte) []byte {
	s.seq++
	s.ts += 160
	dst = append(dst, 0x80, 0, byte(s.seq>>8), byte(s.seq),
		byte(s.ts>>24), byte(s.ts>>16), byte(s.ts>>8), byte(s.ts),
		byte(s.ssrc>>24), byte(s.ssrc>>16), byte(s.ssrc>>8), byte(s.ssrc))
	for range rtpPayloadLen {
		dst = append(dst, 0xd5)
	}

	return dst
}

// next returns the session's next packet on the wire (pre-encrypted or built into buf) and its
// sequence number.
func (s *rtpSession) next(buf []byte) ([]byte, uint16) {
	if s.pre != nil {
		s.seq++
		return s.pre[int(s.seq)-1], s.seq
	}
	p := s.plain(buf[:0])

	return p, s.seq
}

// sdpBody is a one-stream audio SDP (PCMU and telephone-event) at ap.
func sdpBody(user string, ap netip.AddrPort, proto string, attrs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=%s 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n", user, ap.Addr(), ap.Addr())
	fmt.Fprintf(&b, "m=audio %d %s 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n", ap.Port(), proto)
	for _, a := range attrs {
		b.WriteString("a=" + a + "\r\n")
	}

	return b.String()
}

// sdpTarget reads the relay's media address (and, if wantCrypto, its one crypto line) from the SDP of
// an ng reply.
func sdpTarget(rep map[string]any, wantCrypto bool) (netip.AddrPort, media.CryptoAttr, error) {
	body, _ := rep["sdp"].(string)
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(body); err != nil {
		return netip.AddrPort{}, media.CryptoAttr{}, fmt.Errorf("%w: %v\n%s", ErrSDP, err, body)
	}
	if len(sd.MediaDescriptions) == 0 {
		return netip.AddrPort{}, media.CryptoAttr{}, fmt.Errorf("%w: no m= line\n%s", ErrSDP, body)
	}
	md := sd.MediaDescriptions[0]
	ap, err := media.MediaAddr(&sd, md)
	if err != nil || ap.Port() == 0 {
		return netip.AddrPort{}, media.CryptoAttr{}, fmt.Errorf("%w: media address: %v\n%s", ErrSDP, err, body)
	}
	if !wantCrypto {
		return ap, media.CryptoAttr{}, nil
	}
	cs, err := media.CryptosOf(md)
	if err != nil || len(cs) == 0 {
		return netip.AddrPort{}, media.CryptoAttr{}, fmt.Errorf("%w: no usable crypto line (%v)\n%s", ErrSDP, err, body)
	}

	return ap, cs[0], nil
}

// listenLoopback opens a UDP socket on 127.0.0.1 with a large receive buffer.
func listenLoopback() (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	_ = c.SetReadBuffer(4 << 20)
	_ = c.SetWriteBuffer(4 << 20)

	return c, nil
}
