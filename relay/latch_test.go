package relay

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sipedge/sipedge/media"
)

// metricValue returns the value of a counter or gauge with the given labels.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue metrics
				}
			}
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			return m.Gauge.GetValue()
		}
	}

	return 0
}

func TestForgedPacketsDroppedAndLatchKept(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := testRelay(t, func(c *Config) { c.Registerer = reg })
	c := phoneCall(t, r, "forged", media.SuiteAES80, false)
	expectRTP(t, c.phone, c.edgeAccess, c.pbx, 0, pcmuPayload(1)) // latches on the phone
	attacker := newPeer(t, phone2IP)
	send := func(b []byte) {
		t.Helper()
		if _, err := attacker.rtp.WriteToUDPAddrPort(b, c.edgeAccess); err != nil {
			t.Fatal(err)
		}
	}

	// 1. plain RTP injection, with the phone's SSRC
	attacker.ssrc, attacker.seq = c.phone.ssrc, 1000 // fresh indexes: these must fail authentication, not the replay check
	plain := attacker.packet(0, pcmuPayload(9))
	send(plain)
	// 2. a genuine packet with its tag broken
	good, _ := c.phone.enc.EncryptRTP(nil, c.phone.packet(0, pcmuPayload(2)))
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0x55
	send(bad)
	// 3. a captured packet replayed from elsewhere: deliver it first from the phone, then again from the attacker
	if _, err := c.phone.rtp.WriteToUDPAddrPort(good, c.edgeAccess); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.pbx.recv(c.pbx.rtp, false, 2*time.Second); got == nil {
		t.Fatal("genuine packet lost")
	}
	send(good)
	// 4. a packet under the wrong key
	wrongKey, _ := media.NewEncryptor(mustCrypto(t, 1, media.SuiteAES80))
	forged, _ := wrongKey.EncryptRTP(nil, attacker.packet(0, pcmuPayload(7)))
	send(forged)
	// 5. junk: too short, not version 2, random SSRCs
	send([]byte{0x80, 0, 1})
	send(make([]byte, 40))
	for i := range 200 {
		attacker.ssrc = uint32(i + 1000)
		send(attacker.packet(0, pcmuPayload(1)))
	}
	expectNothing(t, c.pbx, c.pbx.rtp, 300*time.Millisecond)

	leg := c.s.Stats().Streams[0].Legs[Caller]
	if leg.LatchChanges != 0 || leg.Remote.Addr() != phoneIP || leg.Replays != 1 || leg.Malformed != 2 ||
		leg.AuthFailures < 203 || leg.Packets != 2 {
		t.Fatalf("phone leg after attack: %+v", leg)
	}
	if v := metricValue(t, reg, "sipedge_media_packets_total", map[string]string{"side": "access", "result": "auth_failed"}); v != float64(leg.AuthFailures) {
		t.Fatalf("auth_failed metric %v, leg says %d", v, leg.AuthFailures)
	}
	// Return traffic still goes to the phone, not to the attacker.
	expectRTP(t, c.pbx, c.edgeCore, c.phone, 0, pcmuPayload(5))
	expectNothing(t, attacker, attacker.rtp, 100*time.Millisecond)
}

func TestAuthenticatedPacketFromNewAddressMovesLatch(t *testing.T) {
	r := testRelay(t, nil)
	c := phoneCall(t, r, "roam", media.SuiteGCM128, false)
	expectRTP(t, c.phone, c.edgeAccess, c.pbx, 0, pcmuPayload(1))
	expectRTP(t, c.pbx, c.edgeCore, c.phone, 0, pcmuPayload(2))

	// The phone moves from Wi-Fi (127.0.0.1) to LTE (127.0.0.2), keeping its keys and
	// sequence numbers.
	moved := newPeer(t, phone2IP)
	moved.enc, moved.dec, moved.ssrc, moved.seq, moved.ts = c.phone.enc, c.phone.dec, c.phone.ssrc, c.phone.seq, c.phone.ts
	expectRTP(t, moved, c.edgeAccess, c.pbx, 0, pcmuPayload(3))
	expectRTP(t, c.pbx, c.edgeCore, moved, 0, pcmuPayload(4))
	expectNothing(t, c.phone, c.phone.rtp, 100*time.Millisecond)
	leg := c.s.Stats().Streams[0].Legs[Caller]
	if leg.LatchChanges != 1 || leg.Remote != moved.addr() {
		t.Fatalf("latch after roaming: %+v", leg)
	}
}

func TestCoreAcceptsOnlyThePBXAddress(t *testing.T) {
	r := testRelay(t, nil)
	c := phoneCall(t, r, "strict", media.SuiteAES80, false)
	expectRTP(t, c.phone, c.edgeAccess, c.pbx, 0, pcmuPayload(1))
	for _, ip := range []netip.Addr{phone2IP, pbxIP} { // another host; the PBX's IP from another port
		intruder := newPeer(t, ip)
		intruder.ssrc = c.pbx.ssrc
		intruder.sendRTP(c.edgeCore, 0, pcmuPayload(6))
		sendRTCP(t, intruder, intruder.rtcp, rtcpPort(c.edgeCore), rtcpRR(t, 1))
	}
	// RTCP from the PBX's IP but another port is fine (RTCP source ports vary); RTP is not.
	if got, _ := c.phone.recv(c.phone.rtcp, true, time.Second); got == nil {
		t.Fatal("RTCP from the PBX's IP was dropped")
	}
	expectNothing(t, c.phone, c.phone.rtp, 200*time.Millisecond)
	expectNothing(t, c.phone, c.phone.rtcp, 100*time.Millisecond)
	if leg := c.s.Stats().Streams[0].Legs[Callee]; leg.UnknownSource != 3 {
		t.Fatalf("PBX leg %+v", leg)
	}
	expectRTP(t, c.pbx, c.edgeCore, c.phone, 0, pcmuPayload(2))
}

// TestPlainAccessLatch documents the weaker rule without SRTP: the first packet from the
// SDP address latches, later packets from elsewhere are dropped.
func TestPlainAccessLatch(t *testing.T) {
	r := testRelay(t, func(c *Config) { c.SRTP = SRTPOff })
	s := r.Session("plain")
	phone, pbx, other := newPeer(t, phoneIP), newPeer(t, pbxIP), newPeer(t, phone2IP)
	// Public-looking SDP address: only packets from that IP may latch.
	out, err := s.Offer(Access, sdpOpts{addr: phone.addr()}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := s.Answer(Core, sdpOpts{addr: pbx.addr()}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	edge := mediaAddr(t, ans, 0)
	expectRTP(t, phone, edge, pbx, 0, pcmuPayload(1))
	other.sendRTP(edge, 0, pcmuPayload(2))
	expectNothing(t, pbx, pbx.rtp, 200*time.Millisecond)
	expectRTP(t, pbx, mediaAddr(t, out, 0), phone, 0, pcmuPayload(3))
	expectNothing(t, other, other.rtp, 100*time.Millisecond)
	if leg := s.Stats().Streams[0].Legs[Caller]; leg.UnknownSource != 1 || leg.Remote != phone.addr() {
		t.Fatalf("plain phone leg %+v", leg)
	}
}

// Clear-text RTCP on an SRTP leg (baresip sends its final RTCP BYE so) is dropped and counted as
// malformed, not as an authentication failure, so that metric keeps meaning forged or mis-keyed packets.
func TestClearTextRTCPIsNotAnAuthFailure(t *testing.T) {
	r := testRelay(t, nil)
	c := phoneCall(t, r, "clear-rtcp", media.SuiteGCM128, true)
	defer c.s.Close(ReasonHangup)
	expectRTP(t, c.phone, c.edgeAccess, c.pbx, 0, pcmuPayload(1))
	bye, err := rtcp.Marshal([]rtcp.Packet{&rtcp.Goodbye{Sources: []uint32{c.phone.ssrc}, Reason: "Adjo"},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: c.phone.ssrc,
			Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "sip:bob@127.0.0.1"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.phone.rtp.WriteToUDPAddrPort(bye, c.edgeAccess); err != nil {
		t.Fatal(err)
	}
	expectNothing(t, c.pbx, c.pbx.rtp, 300*time.Millisecond)
	leg := c.s.Stats().Streams[0].Legs[Caller]
	if leg.Malformed != 1 || leg.AuthFailures != 0 {
		t.Errorf("malformed %d, auth failures %d: want the clear-text RTCP as malformed", leg.Malformed, leg.AuthFailures)
	}
}
