package softphone

import (
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipedge/sipedge/internal/testpeers"
)

// mediaPair negotiates two local SDPs and starts two media sessions wired to each other.
func mediaPair(t testing.TB, srtp string, codecs ...string) (a, b *mediaSession, na, nb Negotiated) {
	t.Helper()
	return mediaPairMux(t, true, srtp, codecs...)
}

// mediaPairMux is mediaPair; with mux false the answerer is offered no rtcp-mux (a peer without it).
func mediaPairMux(t testing.TB, mux bool, srtp string, codecs ...string) (a, b *mediaSession, na, nb Negotiated) {
	t.Helper()
	ip := netip.MustParseAddr("127.0.0.1")
	var err error
	if a, err = newMediaSession(ip, nil); err != nil {
		t.Fatal(err)
	}
	if b, err = newMediaSession(ip, nil); err != nil {
		t.Fatal(err)
	}
	la, lb := testLocal(t, a.LocalAddr().Port(), srtp, codecs...), testLocal(t, b.LocalAddr().Port(), srtp, codecs...)
	offer, _ := la.offer(0)
	if !mux {
		offer = []byte(strings.Replace(string(offer), "a=rtcp-mux\r\n", "", 1))
	}
	ans, nb, err := lb.answer(offer, false)
	if err != nil {
		t.Fatal(err)
	}
	if na, err = la.applyAnswer(ans, false); err != nil {
		t.Fatal(err)
	}
	a.rtcpEvery, b.rtcpEvery = 200*time.Millisecond, 200*time.Millisecond
	return a, b, na, nb
}

func TestMediaLoopbackSRTP(t *testing.T) {
	for _, tc := range []struct{ srtp, codec string }{{SRTPRequired, "G722"}, {SRTPRequired, "PCMU"}, {SRTPOff, "PCMA"}} {
		t.Run(tc.codec+"-"+tc.srtp, func(t *testing.T) {
			dir := t.TempDir()
			a, b, na, nb := mediaPair(t, tc.srtp, tc.codec)
			var mu sync.Mutex
			var digits string
			ra, rb := filepath.Join(dir, "a.wav"), filepath.Join(dir, "b.wav")
			if err := a.Start(na, MediaOptions{Play: "tone:440", Record: ra}, nil); err != nil {
				t.Fatal(err)
			}
			if err := b.Start(nb, MediaOptions{Play: "tone:1000", Record: rb}, func(d string) {
				mu.Lock()
				digits += d
				mu.Unlock()
			}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(700 * time.Millisecond)
			if err := a.SendDTMF("5*"); err != nil {
				t.Fatal(err)
			}
			// Garbage to b's port must be dropped (and counted when SRTP is on).
			c, err := net.Dial("udp", b.LocalAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			_, _ = c.Write([]byte{0x80, 0x09, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
			c.Close()
			time.Sleep(900 * time.Millisecond)
			sa, sb := a.Close(), b.Close()
			mu.Lock()
			got := digits
			mu.Unlock()
			if got != "5*" {
				t.Errorf("digits %q, want 5*", got)
			}
			if sa.PacketsSent < 60 || sb.PacketsReceived < 60 || sb.PacketsLost != 0 || sb.MOS < 4 {
				t.Errorf("stats a %+v b %+v", sa, sb)
			}
			if tc.srtp == SRTPRequired && (sb.StrayPackets != 1 || sb.SRTPErrors != 0) {
				t.Errorf("stray %d, SRTP errors %d: want the forged packet from another address rejected and counted as stray, none from the peer",
					sb.StrayPackets, sb.SRTPErrors)
			}
			if sa.RTTMs <= 0 || sa.RTTMs > 50 {
				t.Errorf("RTT %.2f ms from RTCP, want a small positive value", sa.RTTMs)
			}
			testpeers.AssertTone(t, ra, 1000)
			testpeers.AssertTone(t, rb, 440)
		})
	}
}

// A peer that refuses rtcp-mux sends RTCP to the RTP port + 1 and expects ours from there: reports flow
// both ways over the RTCP sockets (each side measures the round trip from the other's reports).
func TestMediaRTCPWithoutMux(t *testing.T) {
	a, b, na, nb := mediaPairMux(t, false, SRTPRequired, "PCMU")
	if na.RTCPMux || nb.RTCPMux || na.RemoteRTCP.Port() != b.LocalAddr().Port()+1 || nb.RemoteRTCP.Port() != a.LocalAddr().Port()+1 {
		t.Fatalf("negotiated mux %v/%v, RTCP to %s/%s (RTP %s/%s)", na.RTCPMux, nb.RTCPMux, na.RemoteRTCP, nb.RemoteRTCP, a.LocalAddr(), b.LocalAddr())
	}
	if err := a.Start(na, MediaOptions{Play: "tone:440", Record: "null"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(nb, MediaOptions{Play: "tone:1000", Record: "null"}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(900 * time.Millisecond)
	sa, sb := a.Close(), b.Close()
	if sa.RTTMs <= 0 || sb.RTTMs <= 0 || sa.SRTPErrors != 0 || sb.SRTPErrors != 0 {
		t.Errorf("RTT %.2f / %.2f ms, SRTP errors %d / %d: want RTCP (SRTCP) both ways on the RTCP ports",
			sa.RTTMs, sb.RTTMs, sa.SRTPErrors, sb.SRTPErrors)
	}
	if sa.PacketsReceived < 30 || sb.PacketsReceived < 30 {
		t.Errorf("RTP received %d / %d", sa.PacketsReceived, sb.PacketsReceived)
	}
}

func TestMediaHoldAndMute(t *testing.T) {
	a, b, na, nb := mediaPair(t, SRTPRequired, "PCMU")
	defer a.Close()
	defer b.Close()
	if err := a.Start(na, MediaOptions{Play: "tone:440"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(nb, MediaOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	held := na
	held.Send, held.Recv = false, false
	if err := a.Update(held); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	before := b.Stats().PacketsReceived
	time.Sleep(300 * time.Millisecond)
	if after := b.Stats().PacketsReceived; after != before {
		t.Errorf("a kept sending on hold: %d -> %d packets", before, after)
	}
	if err := a.Update(na); err != nil {
		t.Fatal(err)
	}
	a.SetMute(true)
	time.Sleep(300 * time.Millisecond)
	if b.Stats().PacketsReceived <= before {
		t.Error("no RTP after resume (mute must keep RTP flowing)")
	}
	if err := a.SendDTMF("x"); err == nil {
		t.Error("invalid DTMF digit accepted")
	}
}

// TestMediaCodecChange switches G.722 (16 kHz) to PCMU (8 kHz) mid-call, as a
// re-INVITE may: the source and the recording keep their rates and pitch.
func TestMediaCodecChange(t *testing.T) {
	dir := t.TempDir()
	a, b, na, nb := mediaPair(t, SRTPRequired, "G722")
	rb := filepath.Join(dir, "b.wav")
	if err := a.Start(na, MediaOptions{Play: "tone:440"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(nb, MediaOptions{Record: rb}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	pcmu, _ := codecInfos([]string{"PCMU"})
	na.Codec, na.PT = pcmu[0], 0
	nb.Codec, nb.PT = pcmu[0], 0
	if err := b.Update(nb); err != nil {
		t.Fatal(err)
	}
	if err := a.Update(na); err != nil {
		t.Fatal(err)
	}
	time.Sleep(900 * time.Millisecond)
	a.Close()
	if s := b.Close(); s.PacketsReceived < 60 {
		t.Errorf("stats %+v", s)
	}
	testpeers.AssertTone(t, rb, 440)
}

// BenchmarkSendFrame measures one 20 ms send tick (tone source, G.722,
// AEAD_AES_128_GCM, UDP write): it should not allocate.
func BenchmarkSendFrame(b *testing.B) {
	for _, c := range []string{"G722", "PCMU"} {
		b.Run(c, func(b *testing.B) {
			a, peer, na, _ := mediaPair(b, SRTPRequired, c)
			defer peer.Close()
			defer a.Close()
			src, err := parseSourceSpec("tone:440")
			if err != nil {
				b.Fatal(err)
			}
			if a.src, err = src.OpenSource(na.Codec.SampleRate); err != nil {
				b.Fatal(err)
			}
			a.mu.Lock()
			if err := a.applyLocked(na); err != nil {
				b.Fatal(err)
			}
			a.mu.Unlock()
			sc := newSendScratch()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				a.sendFrame(sc)
			}
		})
	}
}
