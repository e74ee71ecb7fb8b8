package relay_test

import (
	"bufio"
	"encoding/hex"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/media"
	"github.com/sipedge/sipedge/media/audio"
	"github.com/sipedge/sipedge/media/codec"
	"github.com/sipedge/sipedge/relay"
	"github.com/sipedge/sipedge/softphone"

	"github.com/pion/sdp/v3"
)

func deskPhone(t *testing.T, k *testpeers.Kamailio, user string, tone int) *testpeers.Baresip {
	return edgetest.DeskPhone(t, k, user, tone, "auto")
}

func waitB(t *testing.T, b *testpeers.Baresip, d time.Duration, types ...string) {
	t.Helper()
	edgetest.WaitB(t, b, d, types...)
}

// capture records UDP on the loopback interface with tshark for the test's duration.
type capture struct {
	cmd  *exec.Cmd
	file string
}

func startCapture(t *testing.T) *capture {
	t.Helper()
	testpeers.Require(t, "tshark")
	file := filepath.Join(t.TempDir(), "lo.pcap")
	// IPv4 only: tests of other packages running at the same time may relay IPv6 media on these ports.
	cmd := exec.Command("tshark", "-q", "-i", "lo", "-f", "ip and udp portrange 20000-29999", "-w", file)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	ready := make(chan struct{})
	go func() {
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Capturing on") {
				close(ready)
				for sc.Scan() {
				}
				return
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("tshark did not start capturing")
	}
	return &capture{cmd: cmd, file: file}
}

type packet struct {
	src, dst netip.AddrPort
	payload  []byte // UDP payload
}

func (c *capture) stop(t *testing.T) []packet {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	_ = c.cmd.Process.Signal(os.Interrupt)
	_ = c.cmd.Wait()
	out, err := exec.Command("tshark", "-r", c.file, "-T", "fields", "-e", "ip.src", "-e", "udp.srcport",
		"-e", "ip.dst", "-e", "udp.dstport", "-e", "udp.payload").Output()
	if err != nil {
		t.Fatalf("tshark -r: %v", err)
	}
	var ps []packet
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 5 {
			continue
		}
		sp, _ := strconv.Atoi(f[1])
		dp, _ := strconv.Atoi(f[3])
		pl, err := hex.DecodeString(strings.ReplaceAll(f[4], ":", ""))
		src, err1 := netip.ParseAddr(f[0])
		dst, err2 := netip.ParseAddr(f[2])
		if err != nil || err1 != nil || err2 != nil {
			continue // not an IPv4 UDP packet with a payload
		}
		ps = append(ps, packet{src: netip.AddrPortFrom(src, uint16(sp)), dst: netip.AddrPortFrom(dst, uint16(dp)), payload: pl})
	}
	return ps
}

// toneOf decodes the PCMU payloads of plain RTP packets and returns the dominant frequency.
func toneOf(ps []packet) float64 {
	var pcm []int16
	for _, p := range ps {
		if len(p.payload) < 12+160 || p.payload[0]>>6 != 2 || p.payload[1]&0x7f != 0 {
			continue
		}
		for _, b := range p.payload[12:] {
			pcm = append(pcm, codec.ULawDecode(b))
		}
	}
	if len(pcm) < 8000 {
		return 0
	}
	return audio.DominantFrequency(pcm, 8000)
}

// Issue 4, done-when 1 and 2: the project's phone (TLS + SRTP through the edge) calls baresip at
// Kamailio (plain RTP): audio both ways; a capture shows SRTP only on the access leg and plain RTP on
// the core leg.
func TestAnchoredCallSRTPToRTP(t *testing.T) {
	k := edgetest.StartPBX(t, "alice", "bob")
	e := edgetest.Start(t, func(c *config.Config) {
		c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")}
		c.Media.CoreIP = "127.0.0.2" // the core leg is told apart in the capture by its address
	})
	bob := deskPhone(t, k, "bob", 1000)
	alice := edgetest.StartPhone(t, edgetest.PhoneAccount(e, "alice", "pw-alice", "pbx.test"))
	cap := startCapture(t)
	ctx := edgetest.Ctx(t, 30*time.Second)
	rec := filepath.Join(t.TempDir(), "alice.wav")
	call := edgetest.CallDesk(t, ctx, alice, bob, "sip:bob@pbx.test", softphone.MediaOptions{Play: "tone:440", Record: rec})
	time.Sleep(2 * time.Second)
	st := edgetest.OnlySession(t, e).Stats()
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)
	ps := cap.stop(t)

	edgetest.AssertTones(t, rec, 1000, bob, 440)

	if len(st.Streams) != 1 {
		t.Fatalf("streams %+v", st.Streams)
	}
	acc, core := st.Streams[0].Legs[relay.Caller], st.Streams[0].Legs[relay.Callee]
	if !acc.SRTP || acc.Suite == "" || core.SRTP || acc.Packets < 50 || core.Packets < 50 {
		t.Fatalf("legs: access %+v core %+v", acc, core)
	}
	var toPhone, fromPhone, toPBX, fromPBX []packet
	for _, p := range ps {
		switch {
		case p.src == acc.Local:
			toPhone = append(toPhone, p)
		case p.dst == acc.Local:
			fromPhone = append(fromPhone, p)
		case p.src == core.Local:
			toPBX = append(toPBX, p)
		case p.dst == core.Local:
			fromPBX = append(fromPBX, p)
		}
	}
	if len(toPhone) < 50 || len(fromPhone) < 50 || len(toPBX) < 50 || len(fromPBX) < 50 {
		t.Fatalf("captured %d/%d access and %d/%d core packets", len(toPhone), len(fromPhone), len(toPBX), len(fromPBX))
	}
	// Core leg: plain RTP carrying the tones.
	if f := toneOf(toPBX); math.Abs(f-440) > 15 {
		t.Errorf("RTP toward the PBX: dominant %.0f Hz, want the phone's 440 Hz in clear", f)
	}
	if f := toneOf(fromPBX); math.Abs(f-1000) > 30 {
		t.Errorf("RTP from the PBX: dominant %.0f Hz, want bob's 1000 Hz in clear", f)
	}
	// Access leg: the audio the core leg carries in clear never appears there (compared payload by payload),
	// and every packet carries an authentication tag.
	clear := map[string]bool{}
	for _, p := range append(append([]packet(nil), toPBX...), fromPBX...) {
		if len(p.payload) > 12 {
			clear[string(p.payload[12:])] = true
		}
	}
	for name, set := range map[string][]packet{"to the phone": toPhone, "from the phone": fromPhone} {
		leaked := 0
		for _, p := range set {
			if len(p.payload) > 12 && clear[string(p.payload[12:])] {
				leaked++
			}
		}
		if leaked > 0 {
			t.Errorf("%d access packets %s carry a core-side payload in clear", leaked, name)
		}
		for _, p := range set {
			if p.payload[1]&0x7f == 0 && len(p.payload) <= 12+160 { // PCMU without a tag would be exactly 172
				t.Errorf("access packet %s without an SRTP tag: %d bytes", name, len(p.payload))
				break
			}
		}
	}
}

// Issue 4, done-when 3 (required) and 4: an offer without crypto gets 488; forged packets toward the
// phone's access port (wrong source, bad tag) are dropped, counted, and never move the latch or reach
// the PBX.
func TestForgedMediaIsDropped(t *testing.T) {
	k := edgetest.StartPBX(t, "alice", "bob")
	e := edgetest.Start(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	bob := deskPhone(t, k, "bob", 1000)

	plain := edgetest.PhoneAccount(e, "alice", "pw-alice", "pbx.test")
	plain.SRTP = "off"
	a0 := edgetest.StartPhone(t, plain)
	ctx := edgetest.Ctx(t, 30*time.Second)
	c0, err := a0.Dial(ctx, "sip:bob@pbx.test", softphone.DialOptions{MediaOptions: softphone.MediaOptions{Play: "silence"}})
	if err == nil {
		err = c0.WaitAnswered(ctx)
	}
	if err == nil || !strings.Contains(err.Error(), "488") {
		t.Fatalf("plain RTP offer with media.srtp required: %v, want 488", err)
	}
	a0.Close()

	alice := edgetest.StartPhone(t, edgetest.PhoneAccount(e, "alice", "pw-alice", "pbx.test"))
	rec := filepath.Join(t.TempDir(), "alice.wav")
	call := edgetest.CallDesk(t, ctx, alice, bob, "sip:bob@pbx.test", softphone.MediaOptions{Play: "tone:440", Record: rec})
	time.Sleep(500 * time.Millisecond)
	s := edgetest.OnlySession(t, e)
	before := s.Stats().Streams[0]
	acc := before.Legs[relay.Caller]
	// An attacker on another address sends RTP-looking packets (with the phone's SSRC guessed from
	// nothing: random, and a valid-looking header) and garbage to the edge's access port.
	atk, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.3")}, net.UDPAddrFromAddrPort(acc.Local))
	if err != nil {
		t.Fatal(err)
	}
	defer atk.Close()
	for i := 0; i < 200; i++ {
		pkt := make([]byte, 12+160+10)
		pkt[0], pkt[1] = 0x80, 0
		pkt[2], pkt[3] = byte(i>>8), byte(i)
		copy(pkt[8:12], []byte{1, 2, 3, byte(i % 3)})
		for j := 12; j < len(pkt); j++ {
			pkt[j] = 0xff
		}
		_, _ = atk.Write(pkt)
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	after := s.Stats().Streams[0]
	a2 := after.Legs[relay.Caller]
	if a2.LatchChanges != acc.LatchChanges || a2.Remote != acc.Remote {
		t.Errorf("latch moved by forged packets: %+v -> %+v", acc.Remote, a2.Remote)
	}
	if a2.AuthFailures+a2.UnknownSource+a2.Malformed+a2.Dropped == 0 {
		t.Errorf("forged packets not counted as dropped: %+v", a2)
	}
	if got, want := after.Legs[relay.Callee].PacketsOut-before.Legs[relay.Callee].PacketsOut,
		a2.Packets-acc.Packets; got > want+5 {
		t.Errorf("the PBX got %d packets while the phone sent %d authenticated ones", got, want)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)
	r, _ := bob.Recordings()
	testpeers.AssertTone(t, r.Received, 440) // the forged 0xff payload (silence-ish) never reached bob's audio
	testpeers.AssertTone(t, rec, 1000)
}

// Issue 4, done-when 5: a silent call (no packets on either leg) is torn down after media.timeout with
// BYE to both sides, and its ports are freed. Two raw clients (they send no RTP) call each other through a
// standalone edge. The edge is configured as behind 1:1 NAT: both phones are given media.advertise in SDP
// (nothing is ever sent to it: the phones send no media).
func TestSilentCallTimesOut(t *testing.T) {
	const public = "203.0.113.9"
	e := edgetest.Start(t, func(c *config.Config) {
		c.Media.Timeout = config.Duration(2 * time.Second)
		c.Media.Advertise = public
		edgetest.LocalUsers(t, c, "alice", "bob")
	})
	free := e.App.Relay.FreePortPairs()
	a, b := edgetest.DialRaw(t, "tls", e.TLS), edgetest.DialRaw(t, "tls", e.TLS)
	for _, x := range []struct {
		c    *edgetest.Raw
		user string
	}{{a, "alice"}, {b, "bob"}} {
		if res := x.c.Register(x.user, "pw-"+x.user, "sipedge"); res == nil || res.StatusCode != 200 {
			t.Fatalf("register %s: %v", x.user, res)
		}
	}
	a.Send(a.Request("INVITE", "sip:bob@sipedge", "sip:alice@sipedge", "sip:bob@sipedge", "Content-Type: application/sdp\r\n", edgetest.TestSDP))
	inv := b.ReadRequest(3 * time.Second)
	if inv == nil || inv.Method != "INVITE" {
		t.Fatalf("bob got %v", inv)
	}
	b.RespondBody(inv, 200, "OK", "Content-Type: application/sdp\r\n", sdpAnswer(t, inv.Body()))
	ok := a.ReadFinal(3 * time.Second)
	if ok == nil || ok.StatusCode != 200 || len(ok.Body()) == 0 {
		t.Fatalf("alice got %v", ok)
	}
	a.Send(a.Ack(ok))
	start := time.Now()
	for who, body := range map[string][]byte{"offer to bob": inv.Body(), "answer to alice": ok.Body()} {
		if !strings.Contains(string(body), "c=IN IP4 "+public+"\r\n") {
			t.Errorf("%s does not advertise media.advertise %s:\n%s", who, public, body)
		}
	}
	for name, c := range map[string]*edgetest.Raw{"caller": a, "callee": b} {
		bye := c.ReadRequest(8 * time.Second)
		for bye != nil && bye.Method == "ACK" {
			bye = c.ReadRequest(8 * time.Second)
		}
		if bye == nil || bye.Method != "BYE" {
			t.Fatalf("%s: %v after the media timeout, want BYE", name, bye)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("%s got BYE after %v, before the timeout", name, d)
		}
		c.Respond(bye, 200, "OK", "")
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.App.Relay.FreePortPairs() != free || len(e.App.Proxy.Dialogs()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after the timeout: %d free port pairs (want %d), dialogs %+v", e.App.Relay.FreePortPairs(), free, e.App.Proxy.Dialogs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sdpAnswer answers an SRTP offer from the edge: same media, an own key for the first suite offered.
func sdpAnswer(t *testing.T, offer []byte) string {
	t.Helper()
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(offer); err != nil {
		t.Fatalf("edge offer: %v\n%s", err, offer)
	}
	offered, err := media.CryptosOf(sd.MediaDescriptions[0])
	if err != nil || len(offered) == 0 {
		t.Fatalf("edge offer without crypto: %v\n%s", err, offer)
	}
	_, local, err := media.AnswerCrypto(offered)
	if err != nil {
		t.Fatal(err)
	}
	return "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/SAVP 0\r\n" +
		"a=rtpmap:0 PCMU/8000\r\na=crypto:" + strings.TrimPrefix(local.String(), "a=crypto:") + "\r\n"
}
