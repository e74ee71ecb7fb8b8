package relay

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/sipedge/sipedge/media"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Test addresses: the edge's access and core addresses, the phone (which roams to
// phone2) and the PBX. All of 127/8 is routed to lo on Linux.
var (
	edgeAccessIP = netip.MustParseAddr("127.0.0.1")
	edgeCoreIP   = netip.MustParseAddr("127.0.0.4")
	phoneIP      = netip.MustParseAddr("127.0.0.1")
	phone2IP     = netip.MustParseAddr("127.0.0.2")
	pbxIP        = netip.MustParseAddr("127.0.0.3")
)

var nextRange atomic.Int32

// testRelay starts a relay on its own port range (so tests never share ports) and
// closes it at the end of the test.
func testRelay(t testing.TB, mod func(*Config)) *Relay {
	t.Helper()
	n := int(nextRange.Add(1))
	cfg := Config{
		AccessIP: edgeAccessIP, CoreIP: edgeCoreIP,
		PortMin: 30000 + 200*(n%150), PortMax: 30000 + 200*(n%150) + 199,
		Log: zap.NewNop(),
	}
	if os.Getenv("RELAY_TEST_LOG") != "" {
		cfg.Log, _ = zap.NewDevelopment()
	}
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })

	return r
}

// sdpOpts builds a test SDP body.
type sdpOpts struct {
	origin string // o= username and session id, e.g. "pbx 100"
	ver    int
	addr   netip.AddrPort
	proto  string // default RTP/AVP
	media  string // default audio
	attrs  []string
	extra  string // appended verbatim (further m= sections)
}

func (o sdpOpts) body() []byte {
	proto, med, origin := o.proto, o.media, o.origin
	if proto == "" {
		proto = "RTP/AVP"
	}
	if med == "" {
		med = "audio"
	}
	if origin == "" {
		origin = "peer 42"
	}
	var b strings.Builder
	at := "IP4"
	if o.addr.Addr().Is6() {
		at = "IP6"
	}
	fmt.Fprintf(&b, "v=0\r\no=%s %d IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n", origin, o.ver+1, at, o.addr.Addr(), at, o.addr.Addr())
	fmt.Fprintf(&b, "m=%s %d %s 0 101 13\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n",
		med, o.addr.Port(), proto)
	for _, a := range o.attrs {
		b.WriteString("a=" + a + "\r\n")
	}
	b.WriteString(o.extra)

	return []byte(b.String())
}

func cryptoAttrs(cs ...media.CryptoAttr) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = "crypto:" + c.String()
	}

	return out
}

func mustCrypto(t testing.TB, tag int, s media.Suite) media.CryptoAttr {
	t.Helper()
	c, err := media.NewCryptoAttr(tag, s)
	if err != nil {
		t.Fatal(err)
	}

	return c
}

func parse(t testing.TB, body []byte) *sdp.SessionDescription {
	t.Helper()
	sd, err := parseSDP(body) // pion plus the relay's m= line masking
	if err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, body)
	}

	return sd
}

// mediaAddr returns the RTP address of m= line i of body.
func mediaAddr(t testing.TB, body []byte, i int) netip.AddrPort {
	t.Helper()
	sd := parse(t, body)
	ap, err := media.MediaAddr(sd, sd.MediaDescriptions[i])
	if err != nil {
		t.Fatal(err)
	}

	return ap
}

func cryptosIn(t testing.TB, body []byte, i int) []media.CryptoAttr {
	t.Helper()
	sd := parse(t, body)
	cs, err := media.CryptosOf(sd.MediaDescriptions[i])
	if err != nil {
		t.Fatal(err)
	}

	return cs
}

var keyRE = regexp.MustCompile(`inline:[A-Za-z0-9+/=]+`)

// normalize replaces keys and the given ports (RTP, and RTP+1) by placeholders for
// golden comparisons.
func normalize(body []byte, ports ...uint16) string {
	s := keyRE.ReplaceAllString(string(body), "inline:KEY")
	for i, p := range ports {
		s = strings.ReplaceAll(s, " "+strconv.Itoa(int(p))+" ", fmt.Sprintf(" PORT%d ", i))
		s = strings.ReplaceAll(s, ":"+strconv.Itoa(int(p)+1)+"\r", fmt.Sprintf(":PORT%d+1\r", i))
	}

	return s
}

// peer is a fake phone or PBX: an RTP and an RTCP socket, and SRTP contexts if it
// uses SRTP.
type peer struct {
	t         testing.TB
	rtp, rtcp *net.UDPConn
	enc       *media.Encryptor
	dec       *media.Decryptor
	ssrc      uint32
	seq       uint16
	ts        uint32
}

func newPeer(t testing.TB, ip netip.Addr) *peer {
	t.Helper()
	p := &peer{t: t, ssrc: 0x1234abcd}
	for {
		a, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			t.Fatal(err)
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		if port%2 == 0 && port < 65535 {
			b, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port+1))))
			if err == nil {
				p.rtp, p.rtcp = a, b
				break
			}
		}
		_ = a.Close()
	}
	t.Cleanup(func() { _ = p.rtp.Close(); _ = p.rtcp.Close() })

	return p
}

func (p *peer) addr() netip.AddrPort { return p.rtp.LocalAddr().(*net.UDPAddr).AddrPort() }

// packet builds the next RTP packet of the peer's stream.
func (p *peer) packet(pt uint8, payload []byte) []byte {
	p.seq++
	p.ts += 160
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc},
		Payload: payload}).Marshal()
	if err != nil {
		p.t.Fatal(err)
	}

	return b
}

// sendRTP sends one RTP packet (encrypted if the peer uses SRTP) and returns the plain
// packet.
func (p *peer) sendRTP(to netip.AddrPort, pt uint8, payload []byte) []byte {
	p.t.Helper()
	plain := p.packet(pt, payload)
	wire := plain
	if p.enc != nil {
		var err error
		if wire, err = p.enc.EncryptRTP(nil, plain); err != nil {
			p.t.Fatal(err)
		}
	}
	if _, err := p.rtp.WriteToUDPAddrPort(wire, to); err != nil {
		p.t.Fatal(err)
	}

	return plain
}

// recv reads one datagram from c, decrypting it if the peer uses SRTP. It returns nil
// after the timeout.
func (p *peer) recv(c *net.UDPConn, rtcp bool, timeout time.Duration) ([]byte, netip.AddrPort) {
	p.t.Helper()
	buf := make([]byte, 2048)
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	n, src, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, netip.AddrPort{}
		}
		p.t.Fatal(err)
	}
	pkt := buf[:n]
	if p.dec != nil {
		if rtcp {
			pkt, err = p.dec.DecryptRTCP(nil, pkt)
		} else {
			pkt, err = p.dec.DecryptRTP(nil, pkt)
		}
		if err != nil {
			p.t.Fatalf("peer cannot decrypt what the edge sent: %v", err)
		}
	}

	return pkt, src
}

// expect sends from p and checks that q receives exactly the same RTP packet.
func expectRTP(t testing.TB, from *peer, to netip.AddrPort, recv *peer, pt uint8, payload []byte) {
	t.Helper()
	sent := from.sendRTP(to, pt, payload)
	got, _ := recv.recv(recv.rtp, false, 2*time.Second)
	if got == nil {
		t.Fatalf("packet (pt %d) not relayed to %s", pt, recv.addr())
	}
	if !bytes.Equal(got, sent) {
		t.Fatalf("relayed packet differs:\n got %x\nwant %x", got, sent)
	}
}

// expectNothing checks that nothing arrives on c within d.
func expectNothing(t testing.TB, p *peer, c *net.UDPConn, d time.Duration) {
	t.Helper()
	buf := make([]byte, 2048)
	_ = c.SetReadDeadline(time.Now().Add(d))
	if n, src, err := c.ReadFromUDPAddrPort(buf); err == nil {
		t.Fatalf("unexpected %d-byte packet from %s", n, src)
	}
}

// call is a phone (SRTP, access side) <-> PBX (plain, core side) call through the edge.
type call struct {
	s          *Session
	phone, pbx *peer
	edgeAccess netip.AddrPort   // where the phone sends
	edgeCore   netip.AddrPort   // where the PBX sends
	phoneKey   media.CryptoAttr // the phone's line that the edge accepted
	offerOut   []byte           // the offer as forwarded to the PBX
	answerOut  []byte           // the answer as forwarded to the phone
}

// phoneCall sets up a call offered by the phone with one crypto line of suite (all three
// if suite is empty) and answered by the PBX.
func phoneCall(t testing.TB, r *Relay, id string, suite media.Suite, mux bool) *call {
	t.Helper()
	c := &call{s: r.Session(id), phone: newPeer(t, phoneIP), pbx: newPeer(t, pbxIP)}
	var lines []media.CryptoAttr
	if suite == "" {
		lines = []media.CryptoAttr{mustCrypto(t, 1, media.SuiteAES80), mustCrypto(t, 2, media.SuiteAES32), mustCrypto(t, 3, media.SuiteGCM128)}
	} else {
		lines = []media.CryptoAttr{mustCrypto(t, 7, suite)}
	}
	attrs := cryptoAttrs(lines...)
	if mux {
		attrs = append(attrs, "rtcp-mux")
	}
	out, err := c.s.Offer(Access, sdpOpts{origin: "phone 1", addr: c.phone.addr(), proto: "RTP/SAVP", attrs: attrs}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	c.offerOut = out
	c.edgeCore = mediaAddr(t, out, 0)
	pbxAttrs := []string(nil)
	if mux && media.HasRTCPMux(parse(t, out).MediaDescriptions[0]) {
		pbxAttrs = append(pbxAttrs, "rtcp-mux")
	}
	ans, err := c.s.Answer(Core, sdpOpts{origin: "pbx 9", addr: c.pbx.addr(), attrs: pbxAttrs}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	c.answerOut = ans
	c.edgeAccess = mediaAddr(t, ans, 0)
	edgeLines := cryptosIn(t, ans, 0)
	if len(edgeLines) != 1 {
		t.Fatalf("answer to the phone has %d crypto lines", len(edgeLines))
	}
	mine, err := media.MatchAnswer(lines, edgeLines[0])
	if err != nil {
		t.Fatal(err)
	}
	c.phoneKey = mine
	if c.phone.enc, err = media.NewEncryptor(mine); err != nil {
		t.Fatal(err)
	}
	if c.phone.dec, err = media.NewDecryptor(edgeLines[0]); err != nil {
		t.Fatal(err)
	}
	c.pbx.ssrc = 0x50b50b
	return c
}

func pcmuPayload(b byte) []byte { return bytes.Repeat([]byte{b}, 160) }
