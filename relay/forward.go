package relay

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"time"

	"go.uber.org/zap"

	"github.com/sipedge/sipedge/media"
)

// run is the read loop of one socket; it returns when the socket is closed.
func (k *sock) run(done func()) {
	defer done()
	for {
		var (
			n   int
			src netip.AddrPort
			err error
		)
		if k.fast != nil {
			n, src, err = k.fast.ReadFromUDPAddrPort(k.buf[:readLimit])
		} else {
			var a net.Addr
			n, a, err = k.conn.ReadFrom(k.buf[:readLimit])
			if ua, ok := a.(*net.UDPAddr); ok {
				src = ua.AddrPort()
			}
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(time.Millisecond) // unexpected but not fatal: do not spin
			continue
		}
		k.handle(k.buf[:n], netip.AddrPortFrom(src.Addr().Unmap(), src.Port()))
	}
}

// handle processes one datagram received from src: checks, decrypts, latches, counts and
// forwards it. It does not allocate in the steady state.
func (k *sock) handle(pkt []byte, src netip.AddrPort) {
	l := k.leg
	cfg := l.cfg.Load()
	if cfg == nil {
		l.count(resUnknownSource) // stream not negotiated (yet), or disabled
		return
	}
	isRTCP := k.rtcp || media.IsRTCP(pkt)
	if !wellFormed(pkt, isRTCP) {
		l.count(resMalformed)
		return
	}
	if !k.sourceAllowed(cfg, src, isRTCP) {
		l.count(resUnknownSource)
		return
	}

	plain, spare := pkt, k.aux
	if cfg.srtp {
		res, out := k.decrypt(cfg, pkt, isRTCP)
		if res != resForwarded {
			l.count(res)
			return
		}
		plain, spare = out, k.buf
	}

	now := l.r.cfg.Now()
	k.learn(cfg, src)
	l.lastPacket.Store(now.UnixNano())
	l.bytesIn.Add(uint64(len(pkt)))
	if isRTCP {
		l.rtcpIn.Add(1)
	} else {
		l.rtpIn.Add(1)
		ssrc, seq, ts, payload := rtpFields(plain)
		l.rtp.Update(ssrc, seq, ts, payload, now)
	}
	l.r.met.bytes[l.side].Add(float64(len(pkt)))
	l.forward(plain, spare, isRTCP)
}

// forward sends plain (RTP or RTCP) to the peer leg's party, encrypting it into spare
// when that party uses SRTP.
func (l *leg) forward(plain, spare []byte, isRTCP bool) {
	o := l.peer
	ocfg := o.cfg.Load()
	if ocfg == nil {
		l.count(resDropped)
		return
	}
	dst, out := o.dest(ocfg, isRTCP)
	if !dst.IsValid() || dst.Port() == 0 || dst.Addr().IsUnspecified() {
		l.count(resDropped)
		return
	}
	data := plain
	if ocfg.srtp {
		if ocfg.enc == nil {
			l.count(resDropped)
			return
		}
		var err error
		if isRTCP {
			data, err = ocfg.enc.EncryptRTCP(spare[:0], plain)
		} else {
			data, err = ocfg.enc.EncryptRTP(spare[:0], plain)
		}
		if err != nil {
			l.count(resMalformed)
			return
		}
	}
	if err := out.write(data, dst); err != nil {
		l.count(resDropped)
		return
	}
	l.count(resForwarded)
	o.packetsOut.Add(1)
	o.bytesOut.Add(uint64(len(data)))
}

func (k *sock) write(b []byte, dst netip.AddrPort) error {
	if k.fast != nil {
		_, err := k.fast.WriteToUDPAddrPort(b, dst)
		return err
	}
	_, err := k.conn.WriteTo(b, net.UDPAddrFromAddrPort(dst))

	return err
}

// count records one packet result for this leg and in the metrics.
func (l *leg) count(res result) {
	l.in[res].Add(1)
	l.r.met.packets[l.side][res].Inc()
}

// wellFormed checks the version and minimum length; the read loop's limit already
// rejected datagrams too large to re-encrypt (a truncated read fills the buffer).
func wellFormed(pkt []byte, isRTCP bool) bool {
	if len(pkt) >= readLimit || len(pkt) < 8 || pkt[0]>>6 != 2 {
		return false
	}
	if isRTCP {
		return pkt[1] >= 192 && pkt[1] <= 223
	}

	return len(pkt) >= 12
}

// sourceAllowed applies the leg's address rule before any decryption.
func (k *sock) sourceAllowed(cfg *legConfig, src netip.AddrPort, isRTCP bool) bool {
	l := k.leg
	switch cfg.mode {
	case latchAuth:
		return true // authentication decides
	case latchFirst:
		if p := l.latch[k.idx()].Load(); p != nil {
			return *p == src
		}
		if k.rtcp {
			if p := l.latch[0].Load(); p != nil {
				return p.Addr() == src.Addr()
			}
		}
		want := cfg.rtpAddr.Addr()

		return want == src.Addr() || !isPublic(want)
	}
	// Strict: RTP (and muxed RTCP) from the SDP address and port; RTCP on its own
	// socket from the SDP IP, any port.
	if k.rtcp {
		return src.Addr() == cfg.rtcpAddr.Addr() || src.Addr() == cfg.rtpAddr.Addr() ||
			(cfg.altRTP.IsValid() && src.Addr() == cfg.altRTP.Addr())
	}

	return src == cfg.rtpAddr || (cfg.altRTP.IsValid() && src == cfg.altRTP)
}

func (k *sock) idx() int {
	if k.rtcp {
		return 1
	}

	return 0
}

// isPublic reports whether a is an address a phone could be reached at from the
// internet (so a packet from elsewhere is not the phone's NAT).
func isPublic(a netip.Addr) bool {
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !cgnat.Contains(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// decrypt prefilters and decrypts an SRTP/SRTCP packet into k.aux. It returns
// resForwarded and the plaintext on success, else the reason to drop.
func (k *sock) decrypt(cfg *legConfig, pkt []byte, isRTCP bool) (result, []byte) {
	if cfg.dec == nil {
		return resAuthFailed, nil
	}
	var ssrc uint32
	if isRTCP {
		if len(pkt) < 8+cfg.dec.Suite().RTCPOverhead() {
			return resMalformed, nil
		}
		ssrc = binary.BigEndian.Uint32(pkt[4:8])
	} else {
		if len(pkt) < 12+cfg.dec.Suite().RTPOverhead() {
			return resMalformed, nil
		}
		ssrc = binary.BigEndian.Uint32(pkt[8:12])
	}
	known := k.isKnown(ssrc)
	if !known && !k.takeToken() {
		return resAuthFailed, nil
	}
	out, err := decryptWith(cfg.dec, k.aux[:0], pkt, isRTCP)
	if errors.Is(err, media.ErrAuth) && cfg.prevDec != nil {
		out, err = decryptWith(cfg.prevDec, k.aux[:0], pkt, isRTCP)
	}
	switch {
	case err == nil:
	case errors.Is(err, media.ErrAuth) && isRTCP && media.IsClearRTCP(pkt):
		return resMalformed, nil // clear-text RTCP on an SRTP leg (baresip's final BYE), not a forgery
	case errors.Is(err, media.ErrAuth):
		return resAuthFailed, nil
	case errors.Is(err, media.ErrReplay):
		return resReplay, nil
	default:
		return resMalformed, nil
	}
	if !known {
		k.known[k.nextKnown] = ssrc
		k.nextKnown = (k.nextKnown + 1) % knownSSRCs
		k.nKnown = min(k.nKnown+1, knownSSRCs)
	}

	return resForwarded, out
}

func decryptWith(d *media.Decryptor, dst, pkt []byte, isRTCP bool) ([]byte, error) {
	if isRTCP {
		return d.DecryptRTCP(dst, pkt)
	}

	return d.DecryptRTP(dst, pkt)
}

func (k *sock) isKnown(ssrc uint32) bool {
	for i := range k.nKnown {
		if k.known[i] == ssrc {
			return true
		}
	}

	return false
}

// takeToken spends one unknown-SSRC attempt from a bucket refilled at newSSRCRate/s.
func (k *sock) takeToken() bool {
	now := k.leg.r.cfg.Now().UnixNano()
	if add := (now - k.refilled) / tokenEveryNs; add > 0 {
		k.tokens = min(k.tokens+add, newSSRCRate)
		k.refilled = now
	}
	if k.tokens <= 0 {
		return false
	}
	k.tokens--

	return true
}

// learn moves the latch after an accepted packet (authenticated on SRTP legs).
func (k *sock) learn(cfg *legConfig, src netip.AddrPort) {
	if cfg.mode == latchStrict {
		return
	}
	l := k.leg
	slot := &l.latch[k.idx()]
	cur := slot.Load()
	if cur != nil && *cur == src {
		return
	}
	if cur != nil && cfg.mode == latchFirst {
		return // sourceAllowed already refused other sources; a racing packet lost
	}
	addr := src
	if !slot.CompareAndSwap(cur, &addr) {
		return
	}
	if cur != nil {
		l.latchChanges.Add(1)
		l.r.met.latchMoves.Inc()
		l.r.log.Info("media latch moved", zap.String("side", l.side.String()), zap.Bool("rtcp", k.rtcp),
			zap.Stringer("from", *cur), zap.Stringer("to", src), zap.Int("local_port", l.port+k.idx()))
	}
}

// dest returns where to send to this leg's party and from which socket.
func (l *leg) dest(c *legConfig, isRTCP bool) (netip.AddrPort, *sock) {
	if !isRTCP || c.mux {
		if c.mode != latchStrict {
			if p := l.latch[0].Load(); p != nil {
				return *p, l.socks[0]
			}
			if c.mode == latchAuth && !l.r.cfg.SendBeforeLatch {
				// Nothing goes to an SRTP party before it has sent an authenticated packet: the address in
				// its SDP is only its claim (an authenticated user could name a third party's address).
				return netip.AddrPort{}, l.socks[0]
			}
		}

		return c.rtpAddr, l.socks[0]
	}
	if c.mode != latchStrict {
		if p := l.latch[1].Load(); p != nil {
			return *p, l.socks[1]
		}
		if c.mode == latchAuth && !l.r.cfg.SendBeforeLatch {
			p := l.latch[0].Load()
			if p == nil {
				return netip.AddrPort{}, l.socks[1]
			}
			return netip.AddrPortFrom(p.Addr(), c.rtcpAddr.Port()), l.socks[1] // the proven address, the SDP's RTCP port
		}
	}

	return c.rtcpAddr, l.socks[1]
}

// rtpFields extracts the fields RTPStats needs from an RTP packet of at least 12 bytes.
func rtpFields(p []byte) (ssrc uint32, seq uint16, ts uint32, payload int) {
	seq = binary.BigEndian.Uint16(p[2:4])
	ts = binary.BigEndian.Uint32(p[4:8])
	ssrc = binary.BigEndian.Uint32(p[8:12])
	hdr := 12 + 4*int(p[0]&0x0f)
	if p[0]&0x10 != 0 && len(p) >= hdr+4 {
		hdr += 4 + 4*int(binary.BigEndian.Uint16(p[hdr+2:hdr+4]))
	}
	payload = len(p) - hdr
	if p[0]&0x20 != 0 && payload > 0 {
		payload -= int(p[len(p)-1])
	}

	return ssrc, seq, ts, max(payload, 0)
}
