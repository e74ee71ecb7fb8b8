package softphone

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/sipedge/sipedge/media"
	"github.com/sipedge/sipedge/media/codec"
)

func testLocal(t testing.TB, port uint16, srtp string, codecs ...string) *localSDP {
	t.Helper()
	if len(codecs) == 0 {
		codecs = []string{"G722", "PCMU", "PCMA"}
	}
	cs, err := codecInfos(codecs)
	if err != nil {
		t.Fatal(err)
	}
	return &localSDP{addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), codecs: cs, srtp: srtp}
}

func TestOfferContents(t *testing.T) {
	l := testLocal(t, 4000, SRTPRequired)
	b, err := l.offer(0)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		"m=audio 4000 RTP/SAVP 9 0 8 101", "c=IN IP4 127.0.0.1", "a=rtpmap:9 G722/8000", "a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-16", "a=ptime:20", "a=rtcp-mux", "AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("offer lacks %q:\n%s", want, s)
		}
	}
	// A second offer keeps the session id and the keys, and bumps the version.
	b2, _ := l.offer(0)
	if l.version != 2 || !strings.Contains(string(b2), l.offered[0].String()) {
		t.Errorf("second offer: version %d", l.version)
	}
}

func TestOfferAnswerSRTP(t *testing.T) {
	a, b := testLocal(t, 4000, SRTPRequired), testLocal(t, 5000, SRTPRequired)
	offer, _ := a.offer(0)
	ans, nb, err := b.answer(offer, false)
	if err != nil {
		t.Fatal(err)
	}
	na, err := a.applyAnswer(ans, false)
	if err != nil {
		t.Fatal(err)
	}
	if nb.Codec.Name != "G722" || na.Codec.Name != "G722" || !na.DTMF || na.DTMFPT != 101 || !na.RTCPMux {
		t.Errorf("negotiated %+v / %+v", na, nb)
	}
	if na.Suite() != string(media.SuiteGCM128) || nb.Suite() != string(media.SuiteGCM128) {
		t.Errorf("suites %s / %s, want GCM", na.Suite(), nb.Suite())
	}
	if !sameKey(na.TxKey, nb.RxKey) || !sameKey(nb.TxKey, na.RxKey) || sameKey(na.TxKey, nb.TxKey) {
		t.Error("keys are not cross-wired: each side must decrypt with the other's sending key")
	}
	if na.Remote.Port() != 5000 || nb.Remote.Port() != 4000 || !na.Send || !na.Recv {
		t.Errorf("addresses/directions %+v %+v", na, nb)
	}
	if strings.Count(string(ans), "a=crypto") != 1 || !strings.Contains(string(ans), "RTP/SAVP 9 101") {
		t.Errorf("answer:\n%s", ans)
	}
}

func TestSRTPPolicy(t *testing.T) {
	plainOffer, _ := testLocal(t, 4000, SRTPOff).offer(0)
	if !strings.Contains(string(plainOffer), "RTP/AVP") || strings.Contains(string(plainOffer), "crypto") {
		t.Fatalf("srtp off offer:\n%s", plainOffer)
	}
	if _, _, err := testLocal(t, 5000, SRTPRequired).answer(plainOffer, false); !errors.Is(err, ErrSRTPRequired) {
		t.Errorf("required vs plain offer: %v", err)
	}
	_, n, err := testLocal(t, 5000, SRTPOptional).answer(plainOffer, false)
	if err != nil || n.SRTP {
		t.Errorf("optional vs plain offer: %+v %v", n, err)
	}
	secureOffer, _ := testLocal(t, 4000, SRTPRequired).offer(0)
	if _, _, err := testLocal(t, 5000, SRTPOff).answer(secureOffer, false); !errors.Is(err, ErrBadSDP) {
		t.Errorf("off vs SAVP offer: %v", err)
	}
	// SDES over RTP/AVP (baresip mediaenc=srtp) is accepted as SRTP.
	avpCrypto := strings.Replace(string(secureOffer), "RTP/SAVP", "RTP/AVP", 1)
	ans, n, err := testLocal(t, 5000, SRTPRequired).answer([]byte(avpCrypto), false)
	if err != nil || !n.SRTP || !strings.Contains(string(ans), "RTP/AVP") || !strings.Contains(string(ans), "a=crypto") {
		t.Errorf("AVP+crypto: %v\n%s", err, ans)
	}
	// The offerer refuses a plain answer when SRTP is required.
	a := testLocal(t, 4000, SRTPRequired)
	off, _ := a.offer(0)
	plainAns := strings.Replace(string(off), "RTP/SAVP", "RTP/AVP", 1)
	var lines []string
	for _, l := range strings.Split(plainAns, "\r\n") {
		if !strings.HasPrefix(l, "a=crypto") {
			lines = append(lines, l)
		}
	}
	if _, err := a.applyAnswer([]byte(strings.Join(lines, "\r\n")), false); !errors.Is(err, ErrSRTPRequired) {
		t.Errorf("plain answer to required offer: %v", err)
	}
}

const peerOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 6000 RTP/AVP 111 8 0 96\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:8 PCMA/8000\r\n" +
	"a=rtpmap:96 telephone-event/8000\r\n%s"

func TestCodecAndDTMFChoice(t *testing.T) {
	offer := strings.Replace(peerOffer, "%s", "a=sendrecv\r\n", 1)
	ans, n, err := testLocal(t, 5000, SRTPOptional).answer([]byte(offer), false)
	if err != nil {
		t.Fatal(err)
	}
	if n.Codec.Name != codec.NamePCMA || n.PT != 8 || n.DTMFPT != 96 || n.RTCPMux {
		t.Errorf("negotiated %+v", n)
	}
	if !strings.Contains(string(ans), "m=audio 5000 RTP/AVP 8 96") || strings.Contains(string(ans), "rtcp-mux") {
		t.Errorf("answer:\n%s", ans)
	}
	// Only codecs we lack: 488-style error.
	opusOnly := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"
	if _, _, err := testLocal(t, 5000, SRTPOptional).answer([]byte(opusOnly), false); !errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("opus only: %v", err)
	}
	// A restricted codec list is honoured.
	if _, _, err := testLocal(t, 5000, SRTPOptional, "G722").answer([]byte(offer), false); !errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("G722-only account vs PCMA offer: %v", err)
	}
}

func TestHoldDirections(t *testing.T) {
	cases := []struct {
		offerDir   string
		localHold  bool
		ansDir     string
		send, recv bool
		remoteHold bool
	}{
		{"a=sendonly\r\n", false, "a=recvonly", false, true, true},
		{"a=inactive\r\n", false, "a=inactive", false, false, true},
		{"a=sendrecv\r\n", true, "a=sendonly", true, false, false},
		{"a=recvonly\r\n", false, "a=sendonly", true, false, false},
		{"", false, "a=sendrecv", true, true, false},
	}
	for _, c := range cases {
		offer := strings.Replace(peerOffer, "%s", c.offerDir, 1)
		ans, n, err := testLocal(t, 5000, SRTPOptional).answer([]byte(offer), c.localHold)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(ans), c.ansDir) || n.Send != c.send || n.Recv != c.recv || n.RemoteHold != c.remoteHold {
			t.Errorf("offer %q hold=%v: answer dir want %s, got %+v\n%s", c.offerDir, c.localHold, c.ansDir, n, ans)
		}
	}
	// Old-style hold: c=0.0.0.0.
	offer := strings.Replace(strings.Replace(peerOffer, "%s", "", 1), "c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0", 1)
	if _, n, err := testLocal(t, 5000, SRTPOptional).answer([]byte(offer), false); err != nil || !n.RemoteHold {
		t.Errorf("0.0.0.0 hold: %+v %v", n, err)
	}
}

func TestBadSDP(t *testing.T) {
	for _, body := range []string{"", "garbage", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"} {
		if _, _, err := testLocal(t, 5000, SRTPOptional).answer([]byte(body), false); !errors.Is(err, ErrBadSDP) {
			t.Errorf("%q: err %v, want ErrBadSDP", body, err)
		}
	}
}

func FuzzAnswer(f *testing.F) {
	off, _ := (&localSDP{addr: netip.MustParseAddrPort("127.0.0.1:4000"), codecs: codec.All(), srtp: SRTPRequired}).offer(0)
	f.Add(off)
	f.Add([]byte(strings.Replace(peerOffer, "%s", "a=sendonly\r\n", 1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		l := &localSDP{addr: netip.MustParseAddrPort("127.0.0.1:5000"), codecs: codec.All(), srtp: SRTPOptional}
		_, _, _ = l.answer(b, false)
		_, _ = l.applyAnswer(b, false)
	})
}

// An offer with video and T.38 next to audio (pion/sdp alone refuses "m=image ... udptl") is answered
// with one section per offered one: audio taken, the others refused with port 0 (RFC 3264 §6).
func TestAnswerRefusesOtherStreams(t *testing.T) {
	offer := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=video 6000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n" +
		"m=audio 5000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n" +
		"m=image 7000 udptl t38\r\n"
	ans, n, err := testLocal(t, 4000, SRTPOptional).answer([]byte(offer), false)
	if err != nil {
		t.Fatal(err)
	}
	if n.Codec.Name != "PCMU" || n.Remote.Port() != 5000 {
		t.Errorf("negotiated %+v", n)
	}
	var ms []string
	for _, l := range strings.Split(string(ans), "\r\n") {
		if strings.HasPrefix(l, "m=") {
			ms = append(ms, l)
		}
	}
	want := []string{"m=video 0 RTP/AVP 96", "m=audio 4000 RTP/AVP 0 101", "m=image 0 udptl t38"}
	if strings.Join(ms, "|") != strings.Join(want, "|") {
		t.Errorf("answer m= lines %q, want %q:\n%s", ms, want, ans)
	}
	if _, err := media.ParseSDP(ans); err != nil {
		t.Errorf("the answer does not parse: %v", err)
	}
}
