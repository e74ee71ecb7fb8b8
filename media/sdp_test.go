package media

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

const offerSDP = "v=0\r\n" +
	"o=- 4858 4858 IN IP4 192.0.2.10\r\n" +
	"s=call\r\n" +
	"c=IN IP4 192.0.2.10\r\n" +
	"t=0 0\r\n" +
	"a=sendonly\r\n" +
	"m=audio 16384 RTP/SAVP 0 8 101\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31\r\n" +
	"a=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzWVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n" +
	"a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:bad!key\r\n" +
	"a=crypto:4 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCw==\r\n" +
	"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj\r\n" +
	"a=ptime:20\r\n" +
	"m=video 0 RTP/AVPF 96\r\n" +
	"c=IN IP6 2001:db8::7\r\n" +
	"a=recvonly\r\n" +
	"a=rtcp-mux\r\n"

func parseSDP(t *testing.T, s string) *sdp.SessionDescription {
	t.Helper()
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(s); err != nil {
		t.Fatal(err)
	}

	return &sd
}

func TestCryptosOfAndSetCrypto(t *testing.T) {
	sd := parseSDP(t, offerSDP)
	audio := sd.MediaDescriptions[0]
	got, err := CryptosOf(audio)
	if len(got) != 2 || got[0].Tag != 1 || got[0].Suite != SuiteAES80 || got[1].Tag != 4 || got[1].Suite != SuiteGCM128 {
		t.Fatalf("CryptosOf = %v", got)
	}
	if err == nil || !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), "used twice") ||
		!strings.Contains(err.Error(), "crypto line 3") {
		t.Fatalf("CryptosOf error = %v", err)
	}
	if strings.Contains(err.Error(), "NzB4d1BI") {
		t.Fatal("error leaks key material")
	}
	if sel, ok := SelectCrypto(got); !ok || sel.Tag != 4 {
		t.Fatalf("SelectCrypto = %v %v", sel.Tag, ok)
	}

	ours := mustAttr(t, 4, SuiteGCM128)
	SetCrypto(audio, ours)
	again, err := CryptosOf(audio)
	if err != nil || len(again) != 1 || again[0].String() != ours.String() {
		t.Fatalf("after SetCrypto: %v %v", again, err)
	}
	// Placed where the first crypto line was, other attributes kept in order.
	var keys []string
	for _, a := range audio.Attributes {
		keys = append(keys, a.Key)
	}
	if strings.Join(keys, ",") != "rtpmap,crypto,ptime" {
		t.Fatalf("attributes %v", keys)
	}
	SetCrypto(audio)
	if c, _ := CryptosOf(audio); len(c) != 0 {
		t.Fatal("SetCrypto() did not remove the lines")
	}
	if c, err := CryptosOf(nil); c != nil || err != nil {
		t.Fatal("nil media")
	}
	if n := RemoveAttributes(audio, "PTIME"); n != 1 {
		t.Fatalf("removed %d", n)
	}
}

func TestMediaAddr(t *testing.T) {
	sd := parseSDP(t, offerSDP)
	audio, video := sd.MediaDescriptions[0], sd.MediaDescriptions[1]
	if ap, err := MediaAddr(sd, audio); err != nil || ap != netip.MustParseAddrPort("192.0.2.10:16384") {
		t.Fatalf("audio (session c=) = %v %v", ap, err)
	}
	if ap, err := MediaAddr(sd, video); err != nil || ap != netip.MustParseAddrPort("[2001:db8::7]:0") {
		t.Fatalf("video (media c=, port 0) = %v %v", ap, err)
	}

	SetMediaAddr(audio, netip.MustParseAddrPort("[::ffff:203.0.113.5]:40000"))
	SetSessionAddr(sd, netip.MustParseAddr("203.0.113.5"))
	out, err := sd.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{"o=- 4858 4858 IN IP4 203.0.113.5\r\n", "\r\nc=IN IP4 203.0.113.5\r\nt=0 0",
		"m=audio 40000 RTP/SAVP 0 8 101\r\nc=IN IP4 203.0.113.5\r\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("marshalled SDP lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "192.0.2.10") {
		t.Errorf("old address left in SDP:\n%s", text)
	}

	bad := []struct {
		ci   *sdp.ConnectionInformation
		want string
	}{
		{nil, "no connection address"},
		{&sdp.ConnectionInformation{NetworkType: "IN", AddressType: "IP4", Address: &sdp.Address{Address: "pbx.example.com"}}, "not an IP address"},
		{&sdp.ConnectionInformation{NetworkType: "IN", AddressType: "IP4", Address: &sdp.Address{Address: "2001:db8::1"}}, "not IPv4"},
		{&sdp.ConnectionInformation{NetworkType: "IN", AddressType: "IP6", Address: &sdp.Address{Address: "10.0.0.1"}}, "not IPv6"},
		{&sdp.ConnectionInformation{NetworkType: "ATM", AddressType: "IP4", Address: &sdp.Address{Address: "10.0.0.1"}}, "network type"},
		{&sdp.ConnectionInformation{NetworkType: "IN", AddressType: "IPX", Address: &sdp.Address{Address: "10.0.0.1"}}, "address type"},
	}
	for _, b := range bad {
		md := &sdp.MediaDescription{MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: 5004}}, ConnectionInformation: b.ci}
		_, err := MediaAddr(&sdp.SessionDescription{}, md)
		if !errors.Is(err, ErrSDP) || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%v: err = %v, want %q", b.ci, err, b.want)
		}
	}
	if _, err := MediaAddr(nil, nil); !errors.Is(err, ErrSDP) {
		t.Errorf("nil media: %v", err)
	}
}

func TestRTCPAddr(t *testing.T) {
	sd := parseSDP(t, offerSDP)
	audio := sd.MediaDescriptions[0]
	tests := []struct {
		attrs []sdp.Attribute
		want  string
		err   string
	}{
		{nil, "192.0.2.10:16385", ""},
		{[]sdp.Attribute{sdp.NewPropertyAttribute("rtcp-mux")}, "192.0.2.10:16384", ""},
		{[]sdp.Attribute{sdp.NewAttribute("rtcp", "53020")}, "192.0.2.10:53020", ""},
		{[]sdp.Attribute{sdp.NewAttribute("rtcp", "53020 IN IP4 198.51.100.1")}, "198.51.100.1:53020", ""},
		{[]sdp.Attribute{sdp.NewAttribute("rtcp", "53020 IN IP6 2001:db8::2")}, "[2001:db8::2]:53020", ""},
		{[]sdp.Attribute{sdp.NewAttribute("rtcp", "99999")}, "", "port"},
		{[]sdp.Attribute{sdp.NewAttribute("rtcp", "")}, "", "no port"},
		{[]sdp.Attribute{sdp.NewAttribute("rtcp", "5 IN IP4")}, "", "want"},
		{[]sdp.Attribute{sdp.NewAttribute("rtcp", "5 IN IP4 host.example")}, "", "not an IP"},
	}
	for _, tt := range tests {
		audio.Attributes = tt.attrs
		got, err := RTCPAddr(sd, audio)
		if tt.err != "" {
			if !errors.Is(err, ErrSDP) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: err = %v, want %q", tt.attrs, err, tt.err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("%v: %v %v, want %s", tt.attrs, got, err, tt.want)
		}
	}
}

func TestDirectionMuxTransport(t *testing.T) {
	sd := parseSDP(t, offerSDP)
	audio, video := sd.MediaDescriptions[0], sd.MediaDescriptions[1]
	if d := Direction(sd, audio); d != sdp.DirectionSendOnly {
		t.Errorf("audio inherits session sendonly, got %v", d)
	}
	if d := Direction(sd, video); d != sdp.DirectionRecvOnly {
		t.Errorf("video recvonly, got %v", d)
	}
	if d := Direction(nil, &sdp.MediaDescription{}); d != sdp.DirectionSendRecv {
		t.Errorf("default %v", d)
	}
	SetDirection(video, sdp.DirectionInactive)
	if d := Direction(sd, video); d != sdp.DirectionInactive || strings.Count(attrKeys(video), "only") != 0 {
		t.Errorf("SetDirection: %v (%s)", d, attrKeys(video))
	}
	SetDirection(video, 0) // unknown: remove, falls back to session level
	if d := Direction(sd, video); d != sdp.DirectionSendOnly {
		t.Errorf("after removal: %v", d)
	}
	for in, want := range map[sdp.Direction]sdp.Direction{
		sdp.DirectionSendOnly: sdp.DirectionRecvOnly, sdp.DirectionRecvOnly: sdp.DirectionSendOnly,
		sdp.DirectionSendRecv: sdp.DirectionSendRecv, sdp.DirectionInactive: sdp.DirectionInactive,
	} {
		if got := ReverseDirection(in); got != want {
			t.Errorf("ReverseDirection(%v) = %v", in, got)
		}
	}

	if HasRTCPMux(audio) || !HasRTCPMux(video) {
		t.Error("rtcp-mux detection")
	}
	SetRTCPMux(audio, true)
	SetRTCPMux(audio, true)
	SetRTCPMux(video, false)
	if !HasRTCPMux(audio) || strings.Count(attrKeys(audio), "rtcp-mux") != 1 || HasRTCPMux(video) {
		t.Error("SetRTCPMux")
	}

	if !IsSRTP(audio) || IsPlainRTP(audio) || IsSRTP(video) || !IsPlainRTP(video) || Transport(audio) != "RTP/SAVP" {
		t.Error("transport detection")
	}
	if err := SetSRTP(audio, false); err != nil || Transport(audio) != "RTP/AVP" {
		t.Fatalf("SetSRTP off: %v %s", err, Transport(audio))
	}
	if strings.Contains(attrKeys(audio), "crypto") {
		t.Error("crypto lines kept on RTP/AVP")
	}
	if err := SetSRTP(video, true); err != nil || Transport(video) != "RTP/SAVPF" {
		t.Fatalf("SetSRTP on: %v %s", err, Transport(video))
	}
	dtls := &sdp.MediaDescription{MediaName: sdp.MediaName{Media: "audio", Protos: []string{"UDP", "TLS", "RTP", "SAVPF"}}}
	if err := SetSRTP(dtls, false); !errors.Is(err, ErrSDP) || IsSRTP(dtls) {
		t.Errorf("DTLS transport: %v", err)
	}
	if err := SetSRTP(nil, true); !errors.Is(err, ErrSDP) {
		t.Errorf("nil: %v", err)
	}
}

func attrKeys(md *sdp.MediaDescription) string {
	var k []string
	for _, a := range md.Attributes {
		k = append(k, a.Key)
	}

	return strings.Join(k, ",")
}
