package relay

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/sipedge/sipedge/media"
)

// scaleSetup opens n phone <-> PBX calls through one relay. All phones share one socket
// and all PBX legs another (each call has its own keys and SSRC), so the test needs 4n
// edge sockets but only 4 peer sockets.
func scaleSetup(tb testing.TB, n int) (r *Relay, phone, pbx *peer, edgeAccess, edgeCore []netip.AddrPort, encs []*media.Encryptor) {
	tb.Helper()
	// Below the kernel's ephemeral range, with room to skip ports other processes hold.
	r = testRelay(tb, func(c *Config) { c.PortMin, c.PortMax = 10000, 10000+8*n+7 })
	phone, pbx = newPeer(tb, phoneIP), newPeer(tb, pbxIP)
	for i := range n {
		s := r.Session("scale-" + strconv.Itoa(i))
		line := mustCrypto(tb, 1, media.SuiteGCM128)
		out, err := s.Offer(Access, sdpOpts{addr: phone.addr(), proto: "RTP/SAVP", attrs: cryptoAttrs(line)}.body(), netip.Addr{})
		if err != nil {
			tb.Fatal(err)
		}
		ans, err := s.Answer(Core, sdpOpts{addr: pbx.addr()}.body(), netip.Addr{})
		if err != nil {
			tb.Fatal(err)
		}
		enc, err := media.NewEncryptor(line)
		if err != nil {
			tb.Fatal(err)
		}
		edgeAccess = append(edgeAccess, mediaAddr(tb, ans, 0))
		edgeCore = append(edgeCore, mediaAddr(tb, out, 0))
		encs = append(encs, enc)
	}

	return r, phone, pbx, edgeAccess, edgeCore, encs
}

// TestScale1000Sessions: 1000 concurrent sessions each relay a packet from the phone to
// the PBX and one back, all arriving at the right place.
func TestScale1000Sessions(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 4000 sockets")
	}
	const n = 1000
	start := time.Now()
	r, phone, pbx, edgeAccess, edgeCore, encs := scaleSetup(t, n)
	setup := time.Since(start)
	if r.Len() != n {
		t.Fatalf("%d sessions", r.Len())
	}
	buf := make([]byte, 2048)
	const window = 50
	seen := make([]bool, n)
	for base := 0; base < n; base += window {
		for i := base; i < min(base+window, n); i++ {
			phone.ssrc = uint32(i + 1)
			plain := phone.packet(0, pcmuPayload(byte(i)))
			wire, _ := encs[i].EncryptRTP(nil, plain)
			if _, err := phone.rtp.WriteToUDPAddrPort(wire, edgeAccess[i]); err != nil {
				t.Fatal(err)
			}
		}
		for range min(window, n-base) {
			_ = pbx.rtp.SetReadDeadline(time.Now().Add(2 * time.Second))
			k, src, err := pbx.rtp.ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatalf("PBX received %d packets: %v", base, err)
			}
			i := int(binary.BigEndian.Uint32(buf[8:12])) - 1
			if i < 0 || i >= n || src != edgeCore[i] || buf[k-1] != byte(i) || seen[i] {
				t.Fatalf("packet for session %d from %s (want %s)", i, src, edgeCore[i])
			}
			seen[i] = true
		}
	}
	// And back: plain from the PBX, each to the latched phone address.
	for i := 0; i < n; i += 97 {
		pbx.sendRTP(edgeCore[i], 0, pcmuPayload(1))
		_ = phone.rtp.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, src, err := phone.rtp.ReadFromUDPAddrPort(buf); err != nil || src != edgeAccess[i] {
			t.Fatalf("session %d return packet: %v from %s", i, err, src)
		}
	}
	t.Logf("1000 sessions set up in %v", setup)
	start = time.Now()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("closed in %v", time.Since(start))
}

// BenchmarkScale1000Sessions forwards SRTP -> RTP round-robin over 1000 sessions through
// real loopback sockets (50 packets in flight); ns/op is per packet.
func BenchmarkScale1000Sessions(b *testing.B) {
	const n = 1000
	_, phone, pbx, edgeAccess, _, encs := scaleSetup(b, n)
	wires := make([][]byte, n)
	for i := range wires {
		wires[i] = make([]byte, 0, 1500)
	}
	buf := make([]byte, 2048)
	const window = 50
	phone.ssrc = 7
	lost := 0
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		batch := min(n, b.N-done)
		for i := range batch {
			plain := phone.packet(0, pcmuPayload(1))
			wires[i], _ = encs[i].EncryptRTP(wires[i][:0], plain)
		}
		b.StartTimer()
		for base := 0; base < batch; base += window {
			w := min(window, batch-base)
			for i := base; i < base+w; i++ {
				if _, err := phone.rtp.WriteToUDPAddrPort(wires[i], edgeAccess[i]); err != nil {
					b.Fatal(err)
				}
			}
			_ = pbx.rtp.SetReadDeadline(time.Now().Add(time.Second))
			for range w {
				if _, _, err := pbx.rtp.ReadFromUDPAddrPort(buf); err != nil {
					lost++
					break
				}
			}
		}
		done += batch
	}
	b.StopTimer()
	if lost > b.N/100+1 {
		b.Fatalf("%d of %d lost", lost, b.N)
	}
}
