package relay

import (
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/sipedge/sipedge/media"
)

func fuzzSeeds(f *testing.F) {
	c1, _ := media.NewCryptoAttr(1, media.SuiteAES80)
	c2, _ := media.NewCryptoAttr(2, media.SuiteGCM128)
	for _, b := range [][]byte{
		sdpOpts{addr: phoneSDPAddr, proto: "RTP/SAVP", attrs: cryptoAttrs(c1, c2)}.body(),
		sdpOpts{addr: pbxSDPAddr, attrs: []string{"rtcp-mux", "sendonly"}}.body(),
		sdpOpts{addr: phoneSDPAddr, proto: "RTP/SAVPF", attrs: []string{"rtcp:9 IN IP4 0.0.0.0", "crypto:1 AES_CM_128_HMAC_SHA1_32 inline:AAAA|2^20|1:4 WSH=64"}}.body(),
		sdpOpts{addr: phoneSDPAddr, extra: "m=image 4002 udptl t38\r\nm=video 0 RTP/AVP 96\r\nm=text 4004 RTP/AVP 98\r\n"}.body(),
		[]byte("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:70000\r\n"),
		[]byte("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4/127\nt=0 0\nm=audio 4000/2 rtp/avp 0\n"),
		[]byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\nc=IN IP4 999.1.1.1\r\na=crypto:1 AEAD_AES_128_GCM inline:\r\n"),
		[]byte("m=audio 1 RTP/AVP 0\r\n"),
		{},
	} {
		f.Add(b)
	}
}

var fuzzSeq atomic.Int64

func fuzzRelay(f *testing.F, srtp string) *Relay {
	n := newFakeNet()
	r, err := New(Config{AccessIP: netip.MustParseAddr("203.0.113.1"), CoreIP: netip.MustParseAddr("10.0.0.1"),
		PortMin: 20000, PortMax: 20999, SRTP: srtp, ListenUDP: n.listen})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = r.Close() })

	return r
}

// FuzzOffer feeds arbitrary bodies to every rewrite entry point: it must never panic,
// and whatever it returns must parse again.
func FuzzOffer(f *testing.F) {
	fuzzSeeds(f)
	rs := []*Relay{fuzzRelay(f, SRTPRequired), fuzzRelay(f, SRTPOptional), fuzzRelay(f, SRTPOff)}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, r := range rs {
			for _, from := range []Side{Access, Core} {
				s := r.Session("fuzz-" + strconv.FormatInt(fuzzSeq.Add(1), 10))
				if out, err := s.Offer(from, body, netip.Addr{}); err == nil {
					if _, err := parseSDP(out); err != nil {
						t.Fatalf("offer output does not parse: %v\n%q", err, out)
					}
					if out, err := s.Answer(from.other(), body, netip.Addr{}); err == nil {
						if _, err := parseSDP(out); err != nil {
							t.Fatalf("answer output does not parse: %v\n%q", err, out)
						}
					}
					_, _ = s.OfferTo(from, from.other(), body, netip.Addr{})
				}
				s.Close(ReasonError)
			}
		}
	})
}

// FuzzAnswer answers a valid offer with arbitrary bodies.
func FuzzAnswer(f *testing.F) {
	fuzzSeeds(f)
	r := fuzzRelay(f, SRTPRequired)
	c1, _ := media.NewCryptoAttr(1, media.SuiteAES80)
	phoneOffer := sdpOpts{addr: phoneSDPAddr, proto: "RTP/SAVP", attrs: cryptoAttrs(c1), extra: "m=video 4002 RTP/AVP 96\r\n"}.body()
	pbxOffer := sdpOpts{addr: pbxSDPAddr, extra: "m=video 6002 RTP/AVP 96\r\n"}.body()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, tc := range []struct {
			from  Side
			offer []byte
		}{{Access, phoneOffer}, {Core, pbxOffer}} {
			s := r.Session("fuzz-" + strconv.FormatInt(fuzzSeq.Add(1), 10))
			if _, err := s.Offer(tc.from, tc.offer, netip.Addr{}); err != nil {
				t.Fatal(err)
			}
			if out, err := s.Answer(tc.from.other(), body, netip.Addr{}); err == nil {
				if _, err := parseSDP(out); err != nil {
					t.Fatalf("answer output does not parse: %v\n%q", err, out)
				}
			}
			s.Close(ReasonError)
		}
	})
}
