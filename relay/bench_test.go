package relay

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sipedge/sipedge/media"
)

// discardConn is a socket that drops what is written and blocks reads until closed: the
// internal benchmarks measure the relay's per-packet work without the sendto syscall.
type discardConn struct {
	addr   netip.AddrPort
	done   chan struct{}
	closer sync.Once
}

func (c *discardConn) ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error) {
	<-c.done
	return 0, netip.AddrPort{}, net.ErrClosed
}
func (c *discardConn) WriteToUDPAddrPort(b []byte, _ netip.AddrPort) (int, error) { return len(b), nil }
func (c *discardConn) ReadFrom(b []byte) (int, net.Addr, error) {
	<-c.done
	return 0, nil, net.ErrClosed
}
func (c *discardConn) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }
func (c *discardConn) Close() error                              { c.closer.Do(func() { close(c.done) }); return nil }
func (c *discardConn) LocalAddr() net.Addr                       { return net.UDPAddrFromAddrPort(c.addr) }
func (c *discardConn) SetDeadline(time.Time) error               { return nil }
func (c *discardConn) SetReadDeadline(time.Time) error           { return nil }
func (c *discardConn) SetWriteDeadline(time.Time) error          { return nil }

func discardListen(ip netip.Addr, port int) (net.PacketConn, error) {
	return &discardConn{addr: netip.AddrPortFrom(ip, uint16(port)), done: make(chan struct{})}, nil
}

// benchCall sets up a call and returns the edge's access and core sockets (outside
// their read loops, with their own buffers) for calling handle directly.
func benchCall(b *testing.B, suite media.Suite, discard bool) (*call, *sock, *sock) {
	r := testRelay(b, func(c *Config) {
		if discard {
			c.ListenUDP = discardListen
		}
	})
	c := phoneCall(b, r, "bench", suite, false)
	st := c.s.streams[0]
	acc, core := st.legs[Caller], st.legs[Callee]
	return c, newSock(acc, acc.socks[0].conn, false), newSock(core, core.socks[0].conn, false)
}

const benchBatch = 4096

// encryptBatch prepares n fresh SRTP packets from the phone (new indexes each time, so the
// replay check passes).
func encryptBatch(b *testing.B, c *call, pkts [][]byte, n int) {
	payload := pcmuPayload(0xd5)
	for i := range n {
		plain := c.phone.packet(0, payload)
		var err error
		if pkts[i], err = c.phone.enc.EncryptRTP(pkts[i][:0], plain); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForwardSRTPtoRTP: phone -> PBX. internal-*: the per-packet function (prefilter,
// SRTP verify+decrypt, latch check, stats, forward) with the write discarded or sent on a
// real loopback socket; loopback: phone socket -> edge -> PBX socket, 16 packets in flight
// (includes two syscalls and a goroutine wake-up per packet).
func BenchmarkForwardSRTPtoRTP(b *testing.B) {
	for _, suite := range []media.Suite{media.SuiteAES80, media.SuiteGCM128} {
		for _, mode := range []string{"internal-discard", "internal-udp"} {
			b.Run(mode+"/"+string(suite), func(b *testing.B) {
				c, acc, _ := benchCall(b, suite, mode == "internal-discard")
				src := c.phone.addr()
				pkts := make([][]byte, benchBatch)
				for i := range pkts {
					pkts[i] = make([]byte, 0, 1500)
				}
				b.SetBytes(172)
				b.ReportAllocs()
				b.ResetTimer()
				for done := 0; done < b.N; {
					b.StopTimer()
					n := min(benchBatch, b.N-done)
					encryptBatch(b, c, pkts, n)
					b.StartTimer()
					for i := range n {
						copy(acc.buf, pkts[i])
						acc.handle(acc.buf[:len(pkts[i])], src)
					}
					done += n
				}
				b.StopTimer()
				if leg := c.s.Stats().Streams[0].Legs[Caller]; leg.AuthFailures+leg.Replays != 0 || leg.Packets < uint64(b.N) {
					b.Fatalf("leg %+v after %d packets", leg, b.N)
				}
			})
		}
		b.Run("loopback/"+string(suite), func(b *testing.B) {
			r := testRelay(b, nil)
			c := phoneCall(b, r, "bench", suite, false)
			pkts := make([][]byte, benchBatch)
			for i := range pkts {
				pkts[i] = make([]byte, 0, 1500)
			}
			loopback(b, func(n int) { encryptBatch(b, c, pkts, n) }, func(i int) []byte { return pkts[i] },
				c.phone.rtp, c.edgeAccess, c.pbx.rtp)
		})
	}
}

// BenchmarkForwardRTPtoSRTP: PBX -> phone, encrypting for the phone.
func BenchmarkForwardRTPtoSRTP(b *testing.B) {
	for _, suite := range []media.Suite{media.SuiteAES80, media.SuiteGCM128} {
		for _, mode := range []string{"internal-discard", "internal-udp"} {
			b.Run(mode+"/"+string(suite), func(b *testing.B) {
				c, _, core := benchCall(b, suite, mode == "internal-discard")
				src := c.pbx.addr()
				plain := c.pbx.packet(0, pcmuPayload(0x55))
				b.SetBytes(int64(len(plain)))
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					n := copy(core.buf, plain)
					core.buf[2], core.buf[3] = byte(i>>8), byte(i)
					core.handle(core.buf[:n], src)
				}
				b.StopTimer()
				if leg := c.s.Stats().Streams[0].Legs[Caller]; leg.PacketsOut < uint64(b.N) {
					b.Fatalf("phone leg %+v after %d packets", leg, b.N)
				}
			})
		}
		b.Run("loopback/"+string(suite), func(b *testing.B) {
			r := testRelay(b, nil)
			c := phoneCall(b, r, "bench", suite, false)
			plain := c.pbx.packet(0, pcmuPayload(0x55))
			loopback(b, func(int) {}, func(i int) []byte {
				plain[2], plain[3] = byte(i>>8), byte(i)
				return plain
			}, c.pbx.rtp, c.edgeCore, c.phone.rtp)
		})
	}
}

// loopback sends packets from `from` to the edge address `to` and receives them on
// `recv`, 16 at a time. prepare(n) runs outside the timer before each batch of up to
// benchBatch packets; packet(i) returns the i-th packet of the batch.
func loopback(b *testing.B, prepare func(n int), packet func(i int) []byte, from *net.UDPConn, to netip.AddrPort, recv *net.UDPConn) {
	const window = 16
	buf := make([]byte, 2048)
	lost := 0
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		n := min(benchBatch, b.N-done)
		prepare(n)
		b.StartTimer()
		for i := 0; i < n; i += window {
			w := min(window, n-i)
			for j := range w {
				if _, err := from.WriteToUDPAddrPort(packet(i+j), to); err != nil {
					b.Fatal(err)
				}
			}
			_ = recv.SetReadDeadline(time.Now().Add(time.Second))
			for range w {
				if _, _, err := recv.ReadFromUDPAddrPort(buf); err != nil {
					lost++
					break
				}
			}
		}
		done += n
	}
	b.StopTimer()
	if lost > b.N/100 {
		b.Fatalf("%d of %d packets lost", lost, b.N)
	}
}

// BenchmarkDropForged measures the rejection path on the access side: forged packets
// with the phone's SSRC (they reach pion and fail authentication) and junk with random
// SSRCs (stopped by the prefilter once the unknown-SSRC budget is spent).
func BenchmarkDropForged(b *testing.B) {
	for _, suite := range []media.Suite{media.SuiteAES80, media.SuiteGCM128} {
		for _, kind := range []string{"known-ssrc", "random-ssrc"} {
			b.Run(kind+"/"+string(suite), func(b *testing.B) {
				c, acc, _ := benchCall(b, suite, true)
				expectLatch := c.phone.packet(0, pcmuPayload(1))
				wire, _ := c.phone.enc.EncryptRTP(nil, expectLatch)
				copy(acc.buf, wire)
				acc.handle(acc.buf[:len(wire)], c.phone.addr()) // the phone's SSRC is now known
				forger := netip.MustParseAddrPort("127.0.0.2:5000")
				pkt := c.phone.packet(0, pcmuPayload(2))
				pkt = append(pkt, make([]byte, 16)...) // room for a fake tag
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					n := copy(acc.buf, pkt)
					acc.buf[2], acc.buf[3] = byte(i>>8), byte(i) // new index: not a replay
					if kind == "random-ssrc" {
						acc.buf[8], acc.buf[9] = byte(i>>16), byte(i>>24)
					}
					acc.handle(acc.buf[:n], forger)
				}
				b.StopTimer()
				if leg := c.s.Stats().Streams[0].Legs[Caller]; leg.LatchChanges != 0 || leg.Packets != 1 {
					b.Fatalf("forged packets were accepted: %+v", leg)
				}
			})
		}
	}
}
