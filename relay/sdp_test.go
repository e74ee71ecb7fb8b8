package relay

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/sipedge/sipedge/media"
)

var (
	phoneSDPAddr = netip.MustParseAddrPort("127.0.0.1:4000")
	pbxSDPAddr   = netip.MustParseAddrPort("127.0.0.3:6000")
)

func TestRewritePhoneOfferGolden(t *testing.T) {
	r := testRelay(t, nil)
	s := r.Session("golden-1")
	lines := []media.CryptoAttr{mustCrypto(t, 1, media.SuiteAES80), mustCrypto(t, 2, media.SuiteAES32), mustCrypto(t, 3, media.SuiteGCM128)}
	lines[0].Lifetime, lines[0].MKI, lines[0].MKILen = 1<<31, []byte{1}, 1
	offer := sdpOpts{origin: "phone 1", addr: phoneSDPAddr, proto: "RTP/SAVP",
		attrs: append(cryptoAttrs(lines...), "ptime:20", "sendrecv", "candidate:1 1 UDP 1 192.168.1.5 4000 typ host", "rtcp:4001")}
	out, err := s.Offer(Access, offer.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	core := mediaAddr(t, out, 0)
	want := "v=0\r\n" +
		"o=phone 1 1 IN IP4 127.0.0.4\r\n" +
		"s=-\r\n" +
		"c=IN IP4 127.0.0.4\r\n" +
		"t=0 0\r\n" +
		"m=audio PORT0 RTP/AVP 0 101 13\r\n" +
		"c=IN IP4 127.0.0.4\r\n" +
		"a=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-16\r\n" +
		"a=ptime:20\r\n" +
		"a=sendrecv\r\n" +
		"a=rtcp:PORT0+1\r\n"
	if got := normalize(out, core.Port()); got != want {
		t.Fatalf("offer to the PBX:\n%s\nwant:\n%s", got, want)
	}
	if core.Addr() != edgeCoreIP || core.Port() < 30000 || core.Port()%2 != 0 {
		t.Fatalf("core address %s", core)
	}

	ans, err := s.Answer(Core, sdpOpts{origin: "pbx 9", addr: pbxSDPAddr, attrs: []string{"sendrecv"}}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	access := mediaAddr(t, ans, 0)
	want = "v=0\r\n" +
		"o=pbx 9 1 IN IP4 127.0.0.1\r\n" +
		"s=-\r\n" +
		"c=IN IP4 127.0.0.1\r\n" +
		"t=0 0\r\n" +
		"m=audio PORT0 RTP/SAVP 0 101 13\r\n" +
		"c=IN IP4 127.0.0.1\r\n" +
		"a=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-16\r\n" +
		"a=sendrecv\r\n" +
		"a=crypto:3 AEAD_AES_128_GCM inline:KEY\r\n" +
		"a=rtcp:PORT0+1\r\n"
	if got := normalize(ans, access.Port()); got != want {
		t.Fatalf("answer to the phone:\n%s\nwant:\n%s", got, want)
	}
	if access.Addr() != edgeAccessIP || access.Port() == core.Port() {
		t.Fatalf("access address %s (core %s)", access, core)
	}
	if strings.Contains(string(ans), "127.0.0.3") || strings.Contains(string(out), "192.168.1.5") {
		t.Fatal("an address of the other side leaked")
	}
	edge := cryptosIn(t, ans, 0)[0]
	if string(edge.Key) == string(lines[2].Key) {
		t.Fatal("the edge echoed the phone's key")
	}
}

func TestRewritePBXOfferGolden(t *testing.T) {
	r := testRelay(t, nil)
	s := r.Session("golden-2")
	out, err := s.Offer(Core, sdpOpts{origin: "pbx 5", addr: pbxSDPAddr, attrs: []string{"rtcp-mux"}}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	access := mediaAddr(t, out, 0)
	want := "v=0\r\n" +
		"o=pbx 5 1 IN IP4 127.0.0.1\r\n" +
		"s=-\r\n" +
		"c=IN IP4 127.0.0.1\r\n" +
		"t=0 0\r\n" +
		"m=audio PORT0 RTP/SAVP 0 101 13\r\n" +
		"c=IN IP4 127.0.0.1\r\n" +
		"a=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-16\r\n" +
		"a=crypto:1 AEAD_AES_128_GCM inline:KEY\r\n" +
		"a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:KEY\r\n" +
		"a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:KEY\r\n" +
		"a=rtcp-mux\r\n"
	if got := normalize(out, access.Port()); got != want {
		t.Fatalf("offer to the phone:\n%s\nwant:\n%s", got, want)
	}
	offered := cryptosIn(t, out, 0)
	keys := map[string]bool{}
	for _, c := range offered {
		keys[string(c.Key)] = true
	}
	if len(keys) != 3 {
		t.Fatal("crypto lines share a key")
	}

	// The phone picks AES_CM_128_HMAC_SHA1_32 (tag 3) and does not mux.
	phoneLine := mustCrypto(t, 3, media.SuiteAES32)
	ans, err := s.Answer(Access, sdpOpts{origin: "phone 2", addr: phoneSDPAddr, proto: "RTP/SAVP",
		attrs: cryptoAttrs(phoneLine)}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	core := mediaAddr(t, ans, 0)
	want = "v=0\r\n" +
		"o=phone 2 1 IN IP4 127.0.0.4\r\n" +
		"s=-\r\n" +
		"c=IN IP4 127.0.0.4\r\n" +
		"t=0 0\r\n" +
		"m=audio PORT0 RTP/AVP 0 101 13\r\n" +
		"c=IN IP4 127.0.0.4\r\n" +
		"a=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-16\r\n" +
		"a=rtcp-mux\r\n"
	if got := normalize(ans, core.Port()); got != want {
		t.Fatalf("answer to the PBX:\n%s\nwant:\n%s", got, want)
	}
	leg := s.Stats().Streams[0].Legs[Callee]
	if !leg.SRTP || leg.Suite != media.SuiteAES32 || leg.Side != Access {
		t.Fatalf("phone leg %+v", leg)
	}
}

func TestRewriteErrors(t *testing.T) {
	r := testRelay(t, nil)
	plainPhone := sdpOpts{addr: phoneSDPAddr}.body()
	badCrypto := sdpOpts{addr: phoneSDPAddr, proto: "RTP/SAVP", attrs: []string{"crypto:1 AES_CM_128_HMAC_SHA1_80 inline:!!notbase64"}}.body()
	onlyUnknown := sdpOpts{addr: phoneSDPAddr, proto: "RTP/SAVP", attrs: []string{"crypto:1 AES_256_CM_HMAC_SHA1_80 inline:AAAA"}}.body()
	unencrypted := sdpOpts{addr: phoneSDPAddr, proto: "RTP/SAVP", attrs: cryptoAttrs(media.CryptoAttr{Tag: 1,
		Suite: media.SuiteAES80, Key: make([]byte, 16), Salt: make([]byte, 14), Params: []string{"UNENCRYPTED_SRTP"}})}.body()
	for _, tc := range []struct {
		name   string
		body   []byte
		want   error
		status int
	}{
		{"required without crypto", plainPhone, ErrNoCrypto, 488},
		{"malformed crypto", badCrypto, ErrBadCrypto, 488},
		{"only unknown suites", onlyUnknown, ErrNoCrypto, 488},
		{"unusable params", unencrypted, ErrNoCrypto, 488},
		{"garbage", []byte("hello"), ErrBadSDP, 488},
		{"no c= line", []byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"), ErrBadSDP, 488},
		{"huge", make([]byte, maxSDPSize+1), ErrBadSDP, 488},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := r.Session(tc.name)
			defer s.Close(ReasonError)
			_, err := s.Offer(Access, tc.body, netip.Addr{})
			if !errors.Is(err, tc.want) || SIPStatus(err) != tc.status {
				t.Fatalf("err = %v (status %d), want %v", err, SIPStatus(err), tc.want)
			}
			if strings.Contains(err.Error(), "notbase64") {
				t.Fatalf("error quotes the key parameter: %v", err)
			}
			if len(s.Stats().Streams) != 0 || r.FreePortPairs() != pairsIn(r.cfg.PortMin, r.cfg.PortMax) {
				t.Fatal("a failed offer left ports bound")
			}
		})
	}

	s := r.Session("no-offer")
	if _, err := s.Answer(Core, sdpOpts{addr: pbxSDPAddr}.body(), netip.Addr{}); !errors.Is(err, ErrNoOffer) {
		t.Fatalf("answer without offer: %v", err)
	}
	// The PBX's answer to an offer that went to it must come from the core side.
	if _, err := s.Offer(Core, sdpOpts{addr: pbxSDPAddr}.body(), netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Answer(Core, sdpOpts{addr: pbxSDPAddr}.body(), netip.Addr{}); !errors.Is(err, ErrNoOffer) {
		t.Fatalf("answer from the offerer's side: %v", err)
	}
	// The phone answers without crypto to an RTP/SAVP offer.
	if _, err := s.Answer(Access, plainPhone, netip.Addr{}); !errors.Is(err, ErrNoCrypto) {
		t.Fatalf("plain answer to SAVP offer: %v", err)
	}
	// Crypto answered with a tag that was not offered.
	bad := sdpOpts{addr: phoneSDPAddr, proto: "RTP/SAVP", attrs: cryptoAttrs(mustCrypto(t, 9, media.SuiteAES80))}.body()
	if _, err := s.Answer(Access, bad, netip.Addr{}); !errors.Is(err, ErrBadCrypto) {
		t.Fatalf("mismatched crypto answer: %v", err)
	}
	s.Close(ReasonError)
	if _, err := s.Offer(Core, sdpOpts{addr: pbxSDPAddr}.body(), netip.Addr{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("offer after close: %v", err)
	}
	if SIPStatus(nil) != 0 || SIPStatus(ErrNoPorts) != 503 || SIPStatus(errors.New("x")) != 500 {
		t.Fatal("SIPStatus")
	}
}

func TestRewriteOptionalAndOff(t *testing.T) {
	opt := testRelay(t, func(c *Config) { c.SRTP = SRTPOptional })
	s := opt.Session("opt")
	out, err := s.Offer(Access, sdpOpts{addr: phoneSDPAddr}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := s.Answer(Core, sdpOpts{addr: pbxSDPAddr}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if media.Transport(parse(t, ans).MediaDescriptions[0]) != "RTP/AVP" || len(cryptosIn(t, ans, 0)) != 0 || len(cryptosIn(t, out, 0)) != 0 {
		t.Fatalf("optional, plain phone: answer\n%s", ans)
	}
	// Toward the phone, optional offers best-effort SRTP: RTP/AVP with crypto lines.
	s2 := opt.Session("opt-2")
	out, err = s2.Offer(Core, sdpOpts{addr: pbxSDPAddr}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if md := parse(t, out).MediaDescriptions[0]; media.Transport(md) != "RTP/AVP" || len(cryptosIn(t, out, 0)) != 3 {
		t.Fatalf("optional offer to the phone:\n%s", out)
	}
	// A phone that ignores them answers plain: accepted.
	if _, err := s2.Answer(Access, sdpOpts{addr: phoneSDPAddr}.body(), netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if s2.Stats().Streams[0].Legs[Callee].SRTP {
		t.Fatal("phone leg should be plain")
	}

	off := testRelay(t, func(c *Config) { c.SRTP = SRTPOff })
	s3 := off.Session("off")
	if _, err := s3.Offer(Access, sdpOpts{addr: phoneSDPAddr, proto: "RTP/SAVP", attrs: cryptoAttrs(mustCrypto(t, 1, media.SuiteAES80))}.body(), netip.Addr{}); !errors.Is(err, ErrNoCrypto) {
		t.Fatalf("SAVP with srtp off: %v", err)
	}
	out, err = s3.Offer(Core, sdpOpts{addr: pbxSDPAddr}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if md := parse(t, out).MediaDescriptions[0]; media.Transport(md) != "RTP/AVP" || len(cryptosIn(t, out, 0)) != 0 {
		t.Fatalf("off offer to the phone:\n%s", out)
	}
}

func TestRewriteSeveralStreams(t *testing.T) {
	r := testRelay(t, nil)
	s := r.Session("multi")
	video := "m=video 4002 RTP/SAVP 96\r\na=rtpmap:96 H264/90000\r\na=" + cryptoAttrs(mustCrypto(t, 1, media.SuiteAES80))[0] + "\r\n" +
		"m=image 4004 udptl t38\r\n" +
		"m=audio 0 RTP/SAVP 8\r\n"
	offer := sdpOpts{addr: phoneSDPAddr, proto: "RTP/SAVP", attrs: cryptoAttrs(mustCrypto(t, 1, media.SuiteGCM128)), extra: video}
	out, err := s.Offer(Access, offer.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	sd := parse(t, out)
	if len(sd.MediaDescriptions) != 4 {
		t.Fatalf("%d m= lines", len(sd.MediaDescriptions))
	}
	a, v := mediaAddr(t, out, 0), mediaAddr(t, out, 1)
	if a.Port() == 0 || v.Port() == 0 || a.Port() == v.Port() {
		t.Fatalf("audio %s video %s", a, v)
	}
	if p := mediaAddr(t, out, 2).Port(); p != 0 {
		t.Fatalf("T.38 udptl relayed on port %d; want rejected", p)
	}
	if p := mediaAddr(t, out, 3).Port(); p != 0 {
		t.Fatalf("disabled stream got port %d", p)
	}
	ansExtra := "m=video 6002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=image 0 udptl t38\r\nm=audio 0 RTP/AVP 8\r\n"
	ans, err := s.Answer(Core, sdpOpts{addr: pbxSDPAddr, extra: ansExtra}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if mediaAddr(t, ans, 1).Port() == 0 || len(cryptosIn(t, ans, 1)) != 1 || mediaAddr(t, ans, 2).Port() != 0 || mediaAddr(t, ans, 3).Port() != 0 {
		t.Fatalf("answer:\n%s", ans)
	}
	st := s.Stats()
	if len(st.Streams) != 2 || st.Streams[1].Media != "video" || st.Streams[1].Codec != "H264" {
		t.Fatalf("streams %+v", st.Streams)
	}
	// A re-offer may not drop m= lines.
	if _, err := s.Offer(Access, sdpOpts{addr: phoneSDPAddr, proto: "RTP/SAVP", attrs: cryptoAttrs(mustCrypto(t, 1, media.SuiteGCM128))}.body(), netip.Addr{}); !errors.Is(err, ErrBadSDP) {
		t.Fatalf("re-offer with fewer m= lines: %v", err)
	}
}

func TestRewriteEarlyMediaAndReofferKeepPortsAndKeys(t *testing.T) {
	r := testRelay(t, nil)
	s := r.Session("early")
	phoneLine := mustCrypto(t, 1, media.SuiteAES80)
	offer := sdpOpts{origin: "phone 3", addr: phoneSDPAddr, proto: "RTP/SAVP", attrs: cryptoAttrs(phoneLine)}
	out, err := s.Offer(Access, offer.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	a183, err := s.Answer(Core, sdpOpts{addr: pbxSDPAddr}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	a200, err := s.Answer(Core, sdpOpts{addr: pbxSDPAddr, ver: 1}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := cryptosIn(t, a183, 0)[0], cryptosIn(t, a200, 0)[0]
	if k1.String() != k2.String() || mediaAddr(t, a183, 0) != mediaAddr(t, a200, 0) {
		t.Fatal("183 and 200 answers differ in key or address")
	}
	// Hold from the phone: same ports, same edge key, direction passed through.
	offer.ver, offer.attrs = 1, append(cryptoAttrs(phoneLine), "sendonly")
	out2, err := s.Offer(Access, offer.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if mediaAddr(t, out2, 0) != mediaAddr(t, out, 0) || !strings.Contains(string(out2), "a=sendonly") {
		t.Fatalf("hold re-offer:\n%s", out2)
	}
	hold, err := s.Answer(Core, sdpOpts{addr: pbxSDPAddr, ver: 2, attrs: []string{"recvonly"}}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if cryptosIn(t, hold, 0)[0].String() != k1.String() || mediaAddr(t, hold, 0) != mediaAddr(t, a183, 0) {
		t.Fatal("hold answer changed the edge's key or port")
	}
	if !s.held.Load() || !s.Stats().Streams[0].Held {
		t.Fatal("session not marked held")
	}
	// A PBX re-offer with a new address (from the core side) keeps the edge's ports.
	out3, err := s.Offer(Core, sdpOpts{addr: netip.MustParseAddrPort("127.0.0.3:7000")}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if mediaAddr(t, out3, 0) != mediaAddr(t, a183, 0) {
		t.Fatal("re-offer from the PBX moved the phone-facing port")
	}
	if o := cryptosIn(t, out3, 0); len(o) != 3 {
		t.Fatalf("re-offer to the phone has %d crypto lines", len(o))
	}
}

func TestAccessIPOverride(t *testing.T) {
	r := testRelay(t, func(c *Config) { c.AccessIP = netip.Addr{} })
	s := r.Session("ip")
	if _, err := s.Offer(Core, sdpOpts{addr: pbxSDPAddr}.body(), netip.Addr{}); !errors.Is(err, ErrNoAddress) {
		t.Fatalf("no access address: %v", err)
	}
	out, err := s.Offer(Core, sdpOpts{addr: pbxSDPAddr}.body(), netip.MustParseAddr("127.0.0.5"))
	if err != nil {
		t.Fatal(err)
	}
	if a := mediaAddr(t, out, 0).Addr(); a != netip.MustParseAddr("127.0.0.5") {
		t.Fatalf("advertised %s", a)
	}
}

// An edge behind 1:1 NAT binds its private address and advertises the public one toward the phones
// (the PBX still gets the core address). 203.0.113.7 is only written into SDP; the test sends to the
// bound address, as the NAT would.
func TestAccessAdvertise(t *testing.T) {
	public := netip.MustParseAddr("203.0.113.7")
	r := testRelay(t, func(c *Config) { c.AccessAdvertise = public })
	c := phoneCall(t, r, "adv", media.SuiteGCM128, false)
	defer c.s.Close(ReasonHangup)
	if c.edgeAccess.Addr() != public || !strings.Contains(string(c.answerOut), "c=IN IP4 203.0.113.7") {
		t.Fatalf("answer to the phone advertises %s:\n%s", c.edgeAccess, c.answerOut)
	}
	if strings.Contains(string(c.answerOut), edgeAccessIP.String()) {
		t.Errorf("the bound access address leaks into the phone's SDP:\n%s", c.answerOut)
	}
	if c.edgeCore.Addr() != edgeCoreIP {
		t.Errorf("the PBX is offered %s, want the core address", c.edgeCore)
	}
	bound := netip.AddrPortFrom(edgeAccessIP, c.edgeAccess.Port())
	expectRTP(t, c.phone, bound, c.pbx, 0, pcmuPayload(1))
	expectRTP(t, c.pbx, c.edgeCore, c.phone, 0, pcmuPayload(2))

	for _, bad := range []string{"0.0.0.0", "224.0.0.1"} {
		if _, err := New(Config{CoreIP: edgeCoreIP, AccessAdvertise: netip.MustParseAddr(bad)}); !errors.Is(err, ErrConfig) {
			t.Errorf("AccessAdvertise %s: err %v, want ErrConfig", bad, err)
		}
	}
}

// A media address of the other IP family than the edge's socket on that side cannot be relayed: the
// offer or answer is refused (the proxy answers 488) instead of a call without audio.
func TestAddressFamilyMismatchIsRefused(t *testing.T) {
	r := testRelay(t, func(c *Config) { c.AccessIP = netip.MustParseAddr("::1") })
	phone := newPeer(t, phoneIP) // IPv4
	_, err := r.Session("fam-offer").Offer(Access, sdpOpts{origin: "phone 1", addr: phone.addr(), proto: "RTP/SAVP",
		attrs: cryptoAttrs(mustCrypto(t, 1, media.SuiteGCM128))}.body(), netip.Addr{})
	if !errors.Is(err, ErrBadSDP) || !strings.Contains(err.Error(), "IPv4 media address") {
		t.Errorf("IPv4 offer toward an IPv6 access side: %v, want ErrBadSDP naming the family", err)
	}

	// The PBX answers with an IPv6 address while the core side is IPv4.
	s := r.Session("fam-answer")
	if _, err := s.Offer(Access, sdpOpts{origin: "phone 1", addr: netip.MustParseAddrPort("[::1]:4000"), proto: "RTP/SAVP",
		attrs: cryptoAttrs(mustCrypto(t, 1, media.SuiteGCM128))}.body(), netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Answer(Core, sdpOpts{origin: "pbx 9", addr: netip.MustParseAddrPort("[::1]:5000")}.body(), netip.Addr{})
	if !errors.Is(err, ErrBadSDP) || !strings.Contains(err.Error(), "IPv6 media address") {
		t.Errorf("IPv6 answer toward an IPv4 core side: %v, want ErrBadSDP naming the family", err)
	}
	// Hold with 0.0.0.0 is not an address to reach.
	s2 := r.Session("fam-hold")
	if _, err := s2.Offer(Access, sdpOpts{origin: "phone 1", addr: netip.MustParseAddrPort("[::1]:4000"), proto: "RTP/SAVP",
		attrs: cryptoAttrs(mustCrypto(t, 1, media.SuiteGCM128))}.body(), netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Answer(Core, sdpOpts{origin: "pbx 9", addr: netip.MustParseAddrPort("0.0.0.0:5000")}.body(), netip.Addr{}); err != nil {
		t.Errorf("answer with 0.0.0.0: %v", err)
	}
}

// media.core_srtp required: the edge offers SDES SRTP to the PBX, the PBX's SRTP answer keys the core
// leg, media is encrypted on both legs (each with its own keys), and a plain answer from the PBX is refused.
func TestCoreSRTPRequired(t *testing.T) {
	r := testRelay(t, func(c *Config) { c.CoreSRTP = SRTPRequired })
	phoneLines := []media.CryptoAttr{mustCrypto(t, 1, media.SuiteGCM128)}
	phone, pbx := newPeer(t, phoneIP), newPeer(t, pbxIP)
	s := r.Session("core-srtp")
	defer s.Close(ReasonHangup)
	out, err := s.Offer(Access, sdpOpts{origin: "phone 1", addr: phone.addr(), proto: "RTP/SAVP", attrs: cryptoAttrs(phoneLines...)}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "RTP/SAVP") {
		t.Fatalf("the offer to the PBX is not SRTP:\n%s", out)
	}
	offered := cryptosIn(t, out, 0)
	if len(offered) == 0 {
		t.Fatalf("no crypto offered to the PBX:\n%s", out)
	}
	_, pbxKey, err := media.AnswerCrypto(offered)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := s.Answer(Core, sdpOpts{origin: "pbx 9", addr: pbx.addr(), proto: "RTP/SAVP", attrs: cryptoAttrs(pbxKey)}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	edgeAccess, edgeCore := mediaAddr(t, ans, 0), mediaAddr(t, out, 0)
	// Keys: the phone encrypts with its line and decrypts the edge's; the PBX likewise on its leg.
	phoneMine, err := media.MatchAnswer(phoneLines, cryptosIn(t, ans, 0)[0])
	if err != nil {
		t.Fatal(err)
	}
	if phone.enc, err = media.NewEncryptor(phoneMine); err != nil {
		t.Fatal(err)
	}
	if phone.dec, err = media.NewDecryptor(cryptosIn(t, ans, 0)[0]); err != nil {
		t.Fatal(err)
	}
	edgeToPBX, err := media.MatchAnswer(offered, pbxKey)
	if err != nil {
		t.Fatal(err)
	}
	if pbx.enc, err = media.NewEncryptor(pbxKey); err != nil {
		t.Fatal(err)
	}
	if pbx.dec, err = media.NewDecryptor(edgeToPBX); err != nil {
		t.Fatal(err)
	}
	pbx.ssrc = 0x50b50b
	expectRTP(t, phone, edgeAccess, pbx, 0, pcmuPayload(1))
	expectRTP(t, pbx, edgeCore, phone, 0, pcmuPayload(2))
	if core := s.Stats().Streams[0].Legs[Callee]; !core.SRTP {
		t.Errorf("core leg stats %+v: want SRTP", core)
	}

	// A PBX that answers plain RTP is refused.
	s2 := r.Session("core-plain")
	defer s2.Close(ReasonHangup)
	if _, err := s2.Offer(Access, sdpOpts{origin: "phone 1", addr: phone.addr(), proto: "RTP/SAVP", attrs: cryptoAttrs(phoneLines...)}.body(), netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Answer(Core, sdpOpts{origin: "pbx 9", addr: pbx.addr()}.body(), netip.Addr{}); err == nil {
		t.Error("a plain RTP answer from the PBX was accepted with core SRTP required")
	}
}
