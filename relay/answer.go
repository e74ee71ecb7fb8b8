package relay

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/pion/sdp/v3"

	"github.com/sipedge/sipedge/media"
)

// answerPlan is the decision for one m= line of an answer.
type answerPlan struct {
	active         bool
	addr, rtcpAddr netip.AddrPort
	mux, srtp      bool
	enc            *media.Encryptor
	encLine        media.CryptoAttr
	dec            *media.Decryptor
	decLine        media.CryptoAttr
	held           bool
	clock          uint32
}

func (s *Session) answer(from, to Side, body []byte, accessIP netip.Addr) ([]byte, error) {
	if !from.valid() || !to.valid() {
		return nil, fmt.Errorf("%w: side %d -> %d", ErrSideMismatch, from, to)
	}
	sd, err := parseSDP(body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	pend := s.pending
	if pend == nil {
		return nil, ErrNoOffer
	}
	x, y := pend.from, pend.from.other()
	if s.sides[y] != from || s.sides[x] != to {
		return nil, fmt.Errorf("%w: the pending offer went %s -> %s, this answer goes %s -> %s",
			ErrNoOffer, s.sides[x], s.sides[y], from, to)
	}
	if err := s.useAccessIP(from, to, accessIP); err != nil {
		return nil, err
	}
	if len(sd.MediaDescriptions) != len(pend.streams) {
		return nil, fmt.Errorf("%w: answer has %d m= line(s), the offer had %d",
			ErrBadSDP, len(sd.MediaDescriptions), len(pend.streams))
	}
	plans := make([]answerPlan, len(sd.MediaDescriptions))
	for i, md := range sd.MediaDescriptions {
		ps := &pend.streams[i]
		if !ps.active || md.MediaName.Port.Value == 0 {
			continue
		}
		if err := s.planAnswer(sd, md, i, s.streams[i].legs[y], ps, &plans[i]); err != nil {
			return nil, err
		}
		if err := s.checkFamily(from, plans[i].addr, i); err != nil {
			return nil, err
		}
	}

	xIP := s.advertisedIP(to)
	held := false
	for i, md := range sd.MediaDescriptions {
		ps, pl := &pend.streams[i], &plans[i]
		if !pl.active {
			if ps.active {
				s.streams[i].disable()
			}
			rejectSection(md, xIP)
			continue
		}
		st := s.streams[i]
		st.legs[y].applyAnswer(from, pl)
		xl := st.legs[x]
		xc := xl.config()
		xc.altRTP = netip.AddrPort{}
		if ps.offSRTP {
			xc.enc, xc.encLine = ps.offEnc, ps.offLocal
		} else {
			xc.enc, xc.encLine = nil, media.CryptoAttr{}
		}
		xl.cfg.Store(&xc)
		st.held, st.enabled = pl.held || ps.offHeld, true
		held = held || st.held

		md.Attributes = stripAttrs(md.Attributes)
		md.MediaName.Protos = slices.Clone(ps.proto)
		if ps.offSRTP {
			media.SetCrypto(md, ps.offLocal)
		}
		media.SetMediaAddr(md, netip.AddrPortFrom(xIP, uint16(xl.port)))
		setRTCP(md, xl.port, ps.offMux)
	}
	pend.answered = true
	s.held.Store(held)
	s.started.Store(true)
	s.origins[y] = originKey(sd)
	setSession(sd, xIP)
	s.lastSignal.Store(s.r.cfg.Now().UnixNano())

	return marshalSDP(sd)
}

// planAnswer checks the answerer's m= line i against what was offered to it.
func (s *Session) planAnswer(sd *sdp.SessionDescription, md *sdp.MediaDescription, i int, yl *leg,
	ps *pendingStream, pl *answerPlan) error {
	if !ps.offMux {
		media.RemoveAttributes(md, "rtcp-mux") // not offered: cannot be accepted
	}
	var err error
	if pl.addr, err = media.MediaAddr(sd, md); err != nil {
		return fmt.Errorf("%w: m= line %d: %w", ErrBadSDP, i, err)
	}
	if pl.rtcpAddr, err = media.RTCPAddr(sd, md); err != nil {
		return fmt.Errorf("%w: m= line %d: %w", ErrBadSDP, i, err)
	}
	pl.mux = media.HasRTCPMux(md)
	lines, err := media.CryptosOf(md)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadCrypto, err)
	}
	switch {
	case ps.toOffered != nil && len(lines) > 1:
		return fmt.Errorf("%w: m= line %d: answer has %d crypto lines, want one", ErrBadCrypto, i, len(lines))
	case ps.toOffered != nil && len(lines) == 1:
		ours, err := media.MatchAnswer(ps.toOffered, lines[0])
		if err != nil {
			return fmt.Errorf("%w: m= line %d: %w", ErrBadCrypto, i, err)
		}
		cur := yl.config()
		if pl.enc, err = keepEncryptor(cur.enc, cur.encLine, ours); err != nil {
			return fmt.Errorf("%w: %w", ErrBadCrypto, err)
		}
		if pl.dec, err = keepDecryptor(cur.dec, cur.decLine, lines[0]); err != nil {
			return fmt.Errorf("%w: %w", ErrBadCrypto, err)
		}
		pl.srtp, pl.encLine, pl.decLine = true, ours, lines[0]
	case ps.toSAVP:
		return fmt.Errorf("%w: m= line %d: answer to an RTP/SAVP offer has no usable crypto line", ErrNoCrypto, i)
	case ps.toOffered == nil && (len(lines) > 0 || media.IsSRTP(md)):
		return fmt.Errorf("%w: m= line %d: SRTP answered to a plain RTP offer", ErrBadCrypto, i)
	}
	_, pl.clock = firstCodec(md)
	pl.held = sectionHeld(sd, md)
	pl.active = true

	return nil
}

// applyAnswer installs the answerer's addresses and keys on its leg.
func (l *leg) applyAnswer(from Side, pl *answerPlan) {
	old := l.config()
	c := old
	c.mode = modeFor(from, pl.srtp)
	c.altRTP = netip.AddrPort{}
	c.rtpAddr, c.rtcpAddr, c.mux, c.srtp = pl.addr, pl.rtcpAddr, pl.mux, pl.srtp
	if pl.srtp {
		if pl.dec != old.dec {
			c.prevDec = old.dec
		}
		c.dec, c.decLine, c.enc, c.encLine = pl.dec, pl.decLine, pl.enc, pl.encLine
	} else {
		c.dec, c.prevDec, c.enc = nil, nil, nil
		c.decLine, c.encLine = media.CryptoAttr{}, media.CryptoAttr{}
	}
	l.cfg.Store(&c)
	if c.mode != latchAuth && old.rtpAddr != pl.addr {
		l.resetLatch()
	}
	l.rtp.SetClockRate(pl.clock)
}
