package relay

import (
	"net/netip"
	"testing"
	"time"

	"github.com/sipedge/sipedge/media"
)

// TestHoldAndNewAddressKeepMediaFlowing: the PBX puts the call on hold (sendonly, music
// on hold keeps flowing), resumes it from a new media address, and the phone re-keys.
func TestHoldAndNewAddressKeepMediaFlowing(t *testing.T) {
	r := testRelay(t, nil)
	c := phoneCall(t, r, "hold", media.SuiteAES80, false)
	expectRTP(t, c.phone, c.edgeAccess, c.pbx, 0, pcmuPayload(1))
	expectRTP(t, c.pbx, c.edgeCore, c.phone, 0, pcmuPayload(2))

	// Hold from the PBX side: the offer goes to the phone with the edge's crypto lines.
	hold, err := c.s.Offer(Core, sdpOpts{origin: "pbx 9", ver: 1, addr: c.pbx.addr(), attrs: []string{"sendonly"}}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if mediaAddr(t, hold, 0) != c.edgeAccess {
		t.Fatalf("hold offer moved the phone-facing port: %s", mediaAddr(t, hold, 0))
	}
	offered := cryptosIn(t, hold, 0)
	var edgeLine media.CryptoAttr
	for _, o := range offered {
		if o.Suite == media.SuiteAES80 {
			edgeLine = o
		}
	}
	// The phone answers recvonly and keeps its key (as most phones do).
	phoneLine := c.phoneKey
	phoneLine.Tag = edgeLine.Tag
	ans, err := c.s.Answer(Access, sdpOpts{origin: "phone 1", ver: 1, addr: c.phone.addr(), proto: "RTP/SAVP",
		attrs: append(cryptoAttrs(phoneLine), "recvonly")}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if mediaAddr(t, ans, 0) != c.edgeCore {
		t.Fatal("hold answer moved the PBX-facing port")
	}
	// The edge offered the key it already used toward the phone (from its first
	// answer) for that suite, so the phone's receive context carries on unchanged.
	if first := cryptosIn(t, c.answerOut, 0)[0]; !sameKey(first, edgeLine) {
		t.Fatal("the re-offer to the phone changed the edge's key for the suite in use")
	}
	expectRTP(t, c.pbx, c.edgeCore, c.phone, 0, pcmuPayload(3)) // music on hold
	if !c.s.Stats().Streams[0].Held {
		t.Fatal("not held")
	}

	// Resume from a new PBX media address.
	pbx2 := newPeer(t, pbxIP)
	pbx2.ssrc = 0x77
	resume, err := c.s.Offer(Core, sdpOpts{origin: "pbx 9", ver: 2, addr: pbx2.addr()}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.Answer(Access, sdpOpts{origin: "phone 1", ver: 2, addr: c.phone.addr(), proto: "RTP/SAVP",
		attrs: cryptoAttrs(phoneLine)}.body(), netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if mediaAddr(t, resume, 0) != c.edgeAccess || c.s.Stats().Streams[0].Held {
		t.Fatal("resume changed ports or left the call held")
	}
	expectRTP(t, c.phone, c.edgeAccess, pbx2, 0, pcmuPayload(4))
	expectRTP(t, pbx2, c.edgeCore, c.phone, 0, pcmuPayload(5))
	// The old PBX address is no longer accepted.
	c.pbx.sendRTP(c.edgeCore, 0, pcmuPayload(6))
	expectNothing(t, c.phone, c.phone.rtp, 200*time.Millisecond)
	expectNothing(t, c.pbx, c.pbx.rtp, 50*time.Millisecond)
}

// TestPhoneRekeyKeepsOldKeyInFlight: a phone re-offer with a new key; packets still
// protected with the old key (in flight) are accepted, the new key works.
func TestPhoneRekeyKeepsOldKeyInFlight(t *testing.T) {
	r := testRelay(t, nil)
	c := phoneCall(t, r, "rekey", media.SuiteAES32, false)
	expectRTP(t, c.phone, c.edgeAccess, c.pbx, 0, pcmuPayload(1))
	newLine := mustCrypto(t, 1, media.SuiteGCM128)
	if _, err := c.s.Offer(Access, sdpOpts{origin: "phone 1", ver: 1, addr: c.phone.addr(), proto: "RTP/SAVP", attrs: cryptoAttrs(newLine)}.body(), netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	expectRTP(t, c.phone, c.edgeAccess, c.pbx, 0, pcmuPayload(2)) // old key, in flight
	ans, err := c.s.Answer(Core, sdpOpts{origin: "pbx 9", ver: 1, addr: c.pbx.addr()}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	edge := cryptosIn(t, ans, 0)[0]
	if edge.Suite != media.SuiteGCM128 {
		t.Fatalf("edge answered %s", edge.Suite)
	}
	c.phone.enc, _ = media.NewEncryptor(newLine)
	c.phone.dec, _ = media.NewDecryptor(edge)
	expectRTP(t, c.phone, c.edgeAccess, c.pbx, 0, pcmuPayload(3))
	expectRTP(t, c.pbx, c.edgeCore, c.phone, 0, pcmuPayload(4))
}

// TestRejectedReofferRollsBack: the PBX re-offers a new address, the phone refuses it
// (488), and media keeps using the old addresses.
func TestRejectedReofferRollsBack(t *testing.T) {
	r := testRelay(t, nil)
	c := phoneCall(t, r, "reject", media.SuiteAES80, false)
	pbx2 := newPeer(t, pbxIP)
	if _, err := c.s.Offer(Core, sdpOpts{origin: "pbx 9", ver: 1, addr: pbx2.addr()}.body(), netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	c.s.RejectOffer()
	expectRTP(t, c.phone, c.edgeAccess, c.pbx, 0, pcmuPayload(1))
	expectRTP(t, c.pbx, c.edgeCore, c.phone, 0, pcmuPayload(2))
	pbx2.sendRTP(c.edgeCore, 0, pcmuPayload(3))
	expectNothing(t, c.phone, c.phone.rtp, 200*time.Millisecond)
	if _, err := c.s.Answer(Access, sdpOpts{addr: c.phone.addr()}.body(), netip.Addr{}); err == nil {
		t.Fatal("answer accepted for the rejected offer's direction")
	}
}
