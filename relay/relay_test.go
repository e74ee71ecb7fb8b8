package relay

import (
	"bytes"
	"fmt"
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/sipedge/sipedge/media"
	"github.com/sipedge/sipedge/media/audio"
	"github.com/sipedge/sipedge/media/codec"
)

func rtcpRR(t testing.TB, ssrc uint32) []byte {
	t.Helper()
	b, err := (&rtcp.ReceiverReport{SSRC: ssrc}).Marshal()
	if err != nil {
		t.Fatal(err)
	}

	return b
}

func sendRTCP(t testing.TB, p *peer, from *net.UDPConn, to netip.AddrPort, plain []byte) {
	t.Helper()
	wire := plain
	if p.enc != nil {
		var err error
		if wire, err = p.enc.EncryptRTCP(nil, plain); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := from.WriteToUDPAddrPort(wire, to); err != nil {
		t.Fatal(err)
	}
}

func rtcpPort(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr(), a.Port()+1) }

func TestRelayBothWaysEverySuite(t *testing.T) {
	r := testRelay(t, nil)
	for _, suite := range media.SupportedSuites() {
		t.Run(string(suite), func(t *testing.T) {
			c := phoneCall(t, r, "suite-"+string(suite), suite, false)
			defer c.s.Close(ReasonHangup)
			// Voice, DTMF (RFC 4733, PT 101) and comfort noise (PT 13) pass unchanged.
			for _, pt := range []uint8{0, 101, 13} {
				expectRTP(t, c.phone, c.edgeAccess, c.pbx, pt, pcmuPayload(pt+1))
				expectRTP(t, c.pbx, c.edgeCore, c.phone, pt, pcmuPayload(pt+2))
			}
			// SRTCP from the phone reaches the PBX as RTCP, and back.
			rr := rtcpRR(t, c.phone.ssrc)
			sendRTCP(t, c.phone, c.phone.rtcp, rtcpPort(c.edgeAccess), rr)
			got, _ := c.pbx.recv(c.pbx.rtcp, true, 2*time.Second)
			if !bytes.Equal(got, rr) {
				t.Fatalf("PBX got RTCP %x, want %x", got, rr)
			}
			rr2 := rtcpRR(t, c.pbx.ssrc)
			sendRTCP(t, c.pbx, c.pbx.rtcp, rtcpPort(c.edgeCore), rr2)
			if got, _ := c.phone.recv(c.phone.rtcp, true, 2*time.Second); !bytes.Equal(got, rr2) {
				t.Fatalf("phone got RTCP %x, want %x", got, rr2)
			}
			// The relay counts a packet out after its sendto returns, which may be after the peer read it.
			var ph, pbx LegStats
			for deadline := time.Now().Add(time.Second); ; time.Sleep(5 * time.Millisecond) {
				st := c.s.Stats().Streams[0]
				ph, pbx = st.Legs[Caller], st.Legs[Callee]
				if ph.PacketsOut == 4 || time.Now().After(deadline) {
					break
				}
			}
			if ph.Suite != suite || ph.Packets != 3 || ph.RTCPPackets != 1 || ph.PacketsOut != 4 || pbx.Packets != 3 || !ph.Latched {
				t.Fatalf("stats phone %+v pbx %+v", ph, pbx)
			}
		})
	}
}

func TestRelayRTCPMux(t *testing.T) {
	r := testRelay(t, nil)
	c := phoneCall(t, r, "mux", media.SuiteAES80, true)
	if !bytes.Contains(c.answerOut, []byte("a=rtcp-mux")) || !bytes.Contains(c.offerOut, []byte("a=rtcp-mux")) {
		t.Fatalf("rtcp-mux not negotiated:\n%s\n%s", c.offerOut, c.answerOut)
	}
	expectRTP(t, c.phone, c.edgeAccess, c.pbx, 0, pcmuPayload(1))
	rr := rtcpRR(t, c.phone.ssrc)
	sendRTCP(t, c.phone, c.phone.rtp, c.edgeAccess, rr) // RTCP on the RTP port
	if got, _ := c.pbx.recv(c.pbx.rtp, true, 2*time.Second); !bytes.Equal(got, rr) {
		t.Fatalf("PBX got %x on its RTP port, want RTCP %x", got, rr)
	}
	rr2 := rtcpRR(t, c.pbx.ssrc)
	sendRTCP(t, c.pbx, c.pbx.rtp, c.edgeCore, rr2)
	if got, _ := c.phone.recv(c.phone.rtp, true, 2*time.Second); !bytes.Equal(got, rr2) {
		t.Fatalf("phone got %x, want %x", got, rr2)
	}
}

// TestRelayMuxOneSide: the phone muxes, the PBX does not: RTCP moves between the
// phone's RTP port and the PBX's RTCP port.
func TestRelayMuxOneSide(t *testing.T) {
	r := testRelay(t, nil)
	s := r.Session("mux-one")
	phone, pbx := newPeer(t, phoneIP), newPeer(t, pbxIP)
	line := mustCrypto(t, 1, media.SuiteGCM128)
	out, err := s.Offer(Access, sdpOpts{addr: phone.addr(), proto: "RTP/SAVP", attrs: append(cryptoAttrs(line), "rtcp-mux")}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := s.Answer(Core, sdpOpts{addr: pbx.addr()}.body(), netip.Addr{}) // PBX ignores rtcp-mux
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ans, []byte("a=rtcp-mux")) {
		t.Fatal("the phone's rtcp-mux was not granted")
	}
	edgeLine := cryptosIn(t, ans, 0)[0]
	phone.enc, _ = media.NewEncryptor(line)
	phone.dec, _ = media.NewDecryptor(edgeLine)
	rr := rtcpRR(t, 1)
	sendRTCP(t, phone, phone.rtp, mediaAddr(t, ans, 0), rr)
	if got, _ := pbx.recv(pbx.rtcp, true, 2*time.Second); !bytes.Equal(got, rr) {
		t.Fatal("RTCP from a muxing phone did not reach the PBX's RTCP port")
	}
	rr2 := rtcpRR(t, 2)
	sendRTCP(t, pbx, pbx.rtcp, rtcpPort(mediaAddr(t, out, 0)), rr2)
	if got, _ := phone.recv(phone.rtp, true, 2*time.Second); !bytes.Equal(got, rr2) {
		t.Fatal("RTCP from the PBX did not reach the phone's RTP port")
	}
}

// TestRelayTone sends a 440 Hz PCMU tone from the phone (SRTP) and 1000 Hz from the PBX
// (RTP) and checks the dominant frequency of what arrives on the other side.
func TestRelayTone(t *testing.T) {
	r := testRelay(t, nil)
	c := phoneCall(t, r, "tone", "", false)
	check := func(from *peer, to netip.AddrPort, recv *peer, freq float64) {
		t.Helper()
		src, err := audio.NewToneSource(freq, 8000, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		enc, dec := codec.NewPCMU(), codec.NewPCMU()
		frame := make([]int16, 160)
		var got []int16
		for range 50 { // one second
			if err := src.ReadFrame(frame); err != nil {
				t.Fatal(err)
			}
			from.sendRTP(to, 0, enc.Encode(nil, frame))
			pkt, _ := recv.recv(recv.rtp, false, 2*time.Second)
			if pkt == nil {
				t.Fatal("tone packet lost")
			}
			got = dec.Decode(got, pkt[12:])
		}
		if f := audio.DominantFrequency(got, 8000); math.Abs(f-freq) > 5 {
			t.Fatalf("dominant frequency %.1f Hz, want %.0f", f, freq)
		}
	}
	check(c.phone, c.edgeAccess, c.pbx, 440)
	check(c.pbx, c.edgeCore, c.phone, 1000)
	st := c.s.Close(ReasonHangup)
	for _, l := range st.Streams[0].Legs {
		if l.Packets != 50 || l.Lost != 0 || l.MOS < 4 {
			t.Fatalf("leg stats %+v", l)
		}
	}
}

// TestRelayPhoneToPhone: both parties on the access side, each with its own keys.
func TestRelayPhoneToPhone(t *testing.T) {
	r := testRelay(t, nil)
	s := r.Session("p2p")
	a, b := newPeer(t, phoneIP), newPeer(t, phone2IP)
	aLine := mustCrypto(t, 1, media.SuiteAES80)
	out, err := s.OfferTo(Access, Access, sdpOpts{origin: "alice 1", addr: a.addr(), proto: "RTP/SAVP", attrs: cryptoAttrs(aLine)}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	offered := cryptosIn(t, out, 0)
	if len(offered) != 3 || media.Transport(parse(t, out).MediaDescriptions[0]) != "RTP/SAVP" {
		t.Fatalf("offer to the callee phone:\n%s", out)
	}
	bLine := mustCrypto(t, offered[1].Tag, offered[1].Suite)
	ans, err := s.AnswerTo(Access, Access, sdpOpts{origin: "bob 7", addr: b.addr(), proto: "RTP/SAVP", attrs: cryptoAttrs(bLine)}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	edgeToA := cryptosIn(t, ans, 0)[0]
	if sameKey(edgeToA, offered[1]) || sameKey(edgeToA, aLine) || sameKey(edgeToA, bLine) {
		t.Fatal("keys are shared between legs")
	}
	a.enc, _ = media.NewEncryptor(aLine)
	a.dec, _ = media.NewDecryptor(edgeToA)
	b.enc, _ = media.NewEncryptor(bLine)
	b.dec, _ = media.NewDecryptor(offered[1])
	b.ssrc = 77
	// Nothing goes to a phone before it has sent an authenticated packet (its SDP address is only a
	// claim): alice's first packet, sent before bob has sent anything, is held back.
	a.sendRTP(mediaAddr(t, ans, 0), 0, pcmuPayload(2))
	expectNothing(t, b, b.rtp, 200*time.Millisecond)
	expectRTP(t, b, mediaAddr(t, out, 0), a, 0, pcmuPayload(4)) // alice has sent: she gets bob's
	expectRTP(t, a, mediaAddr(t, ans, 0), b, 0, pcmuPayload(3)) // and bob, having sent, gets hers

	// A re-offer from bob (the callee) is attributed to bob by its o= line.
	re, err := s.OfferTo(Access, Access, sdpOpts{origin: "bob 7", ver: 1, addr: b.addr(), proto: "RTP/SAVP", attrs: append(cryptoAttrs(bLine), "sendonly")}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if mediaAddr(t, re, 0) != mediaAddr(t, ans, 0) {
		t.Fatal("bob's re-offer was not attributed to bob")
	}
	if _, err := s.OfferTo(Access, Access, sdpOpts{origin: "mallory 1", addr: b.addr(), proto: "RTP/SAVP", attrs: cryptoAttrs(bLine)}.body(), netip.Addr{}); err == nil {
		t.Fatal("offer from an unknown origin accepted without OfferBy")
	}
	if _, err := s.Offer(Core, sdpOpts{addr: pbxSDPAddr}.body(), netip.Addr{}); err == nil {
		t.Fatal("core offer on a phone-to-phone session accepted")
	}
	if _, err := s.OfferBy(Callee, Access, Access, sdpOpts{origin: "bob 8", addr: b.addr(), proto: "RTP/SAVP", attrs: cryptoAttrs(bLine)}.body(), netip.Addr{}); err != nil {
		t.Fatal(err)
	}
}

// With SendBeforeLatch (an explicit option for silent phones on a LAN) the PBX's media reaches the phone
// at its SDP address before the phone has sent anything; by default it is held until the phone has.
func TestSendBeforeLatch(t *testing.T) {
	for _, before := range []bool{false, true} {
		r := testRelay(t, func(c *Config) { c.SendBeforeLatch = before })
		c := phoneCall(t, r, fmt.Sprintf("before-%v", before), media.SuiteGCM128, true)
		c.pbx.sendRTP(c.edgeCore, 0, pcmuPayload(5))
		got, _ := c.phone.recv(c.phone.rtp, false, 300*time.Millisecond)
		if (got != nil) != before {
			t.Errorf("SendBeforeLatch %v: phone got a packet before sending one: %v", before, got != nil)
		}
		c.s.Close(ReasonHangup)
	}
}

// Early media toward a phone that sends no RTP yet (a receive-only announcement): its first SRTCP report
// is an authenticated packet too, and after it the PBX's media reaches the phone.
func TestRTCPAloneLatchesForEarlyMedia(t *testing.T) {
	r := testRelay(t, nil)
	c := phoneCall(t, r, "early-rtcp", media.SuiteGCM128, true)
	defer c.s.Close(ReasonHangup)
	c.pbx.sendRTP(c.edgeCore, 0, pcmuPayload(6))
	expectNothing(t, c.phone, c.phone.rtp, 200*time.Millisecond) // nothing before the phone has spoken
	sendRTCP(t, c.phone, c.phone.rtp, c.edgeAccess, rtcpRR(t, c.phone.ssrc))
	if got, _ := c.pbx.recv(c.pbx.rtp, true, 2*time.Second); got == nil {
		t.Fatal("the phone's SRTCP report did not reach the PBX")
	}
	expectRTP(t, c.pbx, c.edgeCore, c.phone, 0, pcmuPayload(7))
}
