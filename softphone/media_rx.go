package softphone

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/sipedge/sipedge/media"
)

// readLoop reads one of the call's sockets until it closes: the RTP socket carries RTP and (with
// rtcp-mux) RTCP; the RTCP socket (a peer without rtcp-mux) only RTCP.
func (m *mediaSession) readLoop(conn *net.UDPConn, rtcpOnly bool) {
	defer m.wg.Done()
	buf := make([]byte, maxPacket)
	plain := make([]byte, 0, maxPacket)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		switch pkt := buf[:n]; {
		case media.IsRTCP(pkt):
			m.handleRTCP(pkt, plain, from, time.Now())
		case !rtcpOnly:
			m.handleRTP(pkt, plain, from, time.Now())
		}
	}
}

func (m *mediaSession) handleRTP(pkt, plain []byte, from netip.AddrPort, now time.Time) {
	m.mu.Lock()
	dec, neg := m.dec, m.neg
	m.mu.Unlock()
	if len(pkt) < 12 || pkt[0]>>6 != 2 {
		return
	}
	if dec != nil {
		var err error
		if pkt, err = dec.DecryptRTP(plain[:0], pkt); err != nil {
			m.countDecryptFailure(from)
			return
		}
	} else if neg.SRTP {
		return
	}
	var p rtp.Packet
	if err := p.Unmarshal(pkt); err != nil {
		return
	}
	digit := ""
	m.mu.Lock()
	defer func() {
		cb := m.onDTMF
		m.mu.Unlock()
		if digit != "" && cb != nil {
			cb(digit)
		}
	}()
	if dec != nil && from != m.remote && from.IsValid() {
		// Authenticated media from a new address: follow it (symmetric RTP).
		m.remote = from
		if m.neg.RTCPMux {
			m.remoteRTCP = from
		}
	}
	if !m.neg.Recv {
		return
	}
	switch {
	case m.neg.DTMF && p.PayloadType == m.neg.DTMFPT:
		// Event packets share the sequence space: count them so they are not
		// taken for loss, with the timestamp audio would have had (event
		// timestamps stand still and would read as jitter).
		if m.haveLast {
			ts := m.lastTS + uint32(int32(int16(p.SequenceNumber-m.lastSeq)))*m.neg.Codec.TimestampIncrement(20)
			m.rstats.Update(p.SSRC, p.SequenceNumber, ts, len(p.Payload), now)
		}
		if ev, ok, err := m.dtmfRx.Push(p.Timestamp, p.Payload); err == nil && ok && ev.Digit != 0 {
			digit = string(ev.Digit)
		}
	case p.PayloadType == m.neg.PT:
		m.rstats.Update(p.SSRC, p.SequenceNumber, p.Timestamp, len(p.Payload), now)
		m.lastSeq, m.lastTS, m.haveLast = p.SequenceNumber, p.Timestamp, true
		m.playout.put(p.SequenceNumber, p.Timestamp, p.Payload, now)
	}
}

// countDecryptFailure counts a packet that failed SRTP/SRTCP authentication: an SRTP error when it
// came from the peer's media addresses, a stray packet otherwise.
func (m *mediaSession) countDecryptFailure(from netip.AddrPort) {
	m.mu.Lock()
	if from == m.remote || from == m.remoteRTCP {
		m.srtpErrs++
	} else {
		m.strays++
	}
	m.mu.Unlock()
}

func (m *mediaSession) handleRTCP(pkt, plain []byte, from netip.AddrPort, now time.Time) {
	m.mu.Lock()
	dec := m.dec
	m.mu.Unlock()
	if dec != nil {
		var err error
		orig := pkt
		if pkt, err = dec.DecryptRTCP(plain[:0], pkt); err != nil {
			if errors.Is(err, media.ErrMalformedPacket) || media.IsClearRTCP(orig) {
				// Clear-text RTCP on an SRTP session: baresip sends its APP "PING" keepalive and its final
				// RTCP BYE unencrypted. Dropped; only failed SRTCP counts as an SRTP error.
				return
			}
			m.countDecryptFailure(from)
			return
		}
	}
	pkts, err := rtcp.Unmarshal(pkt)
	if err != nil {
		return
	}
	for _, p := range pkts {
		var reports []rtcp.ReceptionReport
		switch r := p.(type) {
		case *rtcp.SenderReport:
			m.rstats.SenderReport(r.NTPTime, now)
			reports = r.Reports
		case *rtcp.ReceiverReport:
			reports = r.Reports
		}
		for _, rr := range reports {
			if rr.SSRC != m.ssrc {
				continue
			}
			m.mu.Lock()
			if rtt, ok := media.RoundTrip(rr, now); ok {
				m.rtt = rtt
			}
			m.remLoss = float64(rr.FractionLost) / 256
			if m.neg.Codec.ClockRate > 0 {
				m.remJitter = float64(rr.Jitter) * 1000 / float64(m.neg.Codec.ClockRate)
			}
			m.mu.Unlock()
		}
	}
}

// sendRTCP sends a sender report (or receiver report while not sending), plus SDES and optionally BYE.
func (m *mediaSession) sendRTCP(bye bool) {
	now := time.Now()
	m.mu.Lock()
	if !m.remoteRTCP.IsValid() || m.remoteRTCP.Addr().IsUnspecified() {
		m.mu.Unlock()
		return
	}
	var reports []rtcp.ReceptionReport
	if rb, ok := m.rstats.ReportBlock(now); ok {
		reports = append(reports, rb)
	}
	var first rtcp.Packet
	if m.sent > 0 {
		first = &rtcp.SenderReport{SSRC: m.ssrc, NTPTime: media.NTPTime(now), RTPTime: m.ts,
			PacketCount: uint32(m.sent), OctetCount: uint32(m.sentBytes), Reports: reports}
	} else {
		first = &rtcp.ReceiverReport{SSRC: m.ssrc, Reports: reports}
	}
	comp := []rtcp.Packet{first, &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{
		Source: m.ssrc, Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "sipedge-phone"}}}}}}
	if bye {
		comp = append(comp, &rtcp.Goodbye{Sources: []uint32{m.ssrc}})
	}
	enc, dst, conn := m.enc, m.remoteRTCP, m.conn
	if !m.neg.RTCPMux && m.rtcpConn != nil {
		conn = m.rtcpConn // from port+1, where the peer sends its own RTCP
	}
	m.mu.Unlock()
	b, err := rtcp.Marshal(comp)
	if err != nil {
		return
	}
	if enc != nil {
		if b, err = enc.EncryptRTCP(nil, b); err != nil {
			return
		}
	}
	_, _ = conn.WriteToUDPAddrPort(b, dst)
}
