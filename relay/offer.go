package relay

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/pion/sdp/v3"

	"github.com/sipedge/sipedge/media"
)

// pending is the last offer that passed the session, as far as the answer needs it.
type pending struct {
	from     Party
	streams  []pendingStream // by m= index
	answered bool
	// For RejectOffer: the leg configs before this offer and the offer before it.
	saved []savedConfig
	prev  *pending
}

type savedConfig struct {
	l       *leg
	cfg     *legConfig
	offered []media.CryptoAttr
	enabled bool
}

type pendingStream struct {
	active    bool               // relayed (the answerer got a port)
	proto     []string           // offerer's transport, repeated in the answer to it
	offMux    bool               // offerer asked for rtcp-mux (granted, and offered onward)
	offSRTP   bool               // SRTP toward the offerer
	offLocal  media.CryptoAttr   // our line for the answer to the offerer
	offEnc    *media.Encryptor   // keyed by offLocal
	toOffered []media.CryptoAttr // lines offered to the answerer; nil: plain offer
	toSAVP    bool               // offered as RTP/SAVP: the answer must carry crypto
	offHeld   bool               // the offer itself puts the stream on hold
}

// offerPlan is the decision for one m= line of an offer, made before anything changes.
type offerPlan struct {
	active         bool
	addr, rtcpAddr netip.AddrPort
	mux, srtp      bool
	remote         media.CryptoAttr
	dec            *media.Decryptor
	codec          string
	clock          uint32
	held           bool
}

func (s *Session) offer(p Party, from, to Side, body []byte, accessIP netip.Addr) ([]byte, error) {
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
	x, err := s.resolveOfferer(p, from, to, sd)
	if err != nil {
		return nil, err
	}
	y := x.other()
	if err := s.useAccessIP(from, to, accessIP); err != nil {
		return nil, err
	}
	if len(sd.MediaDescriptions) < len(s.streams) {
		return nil, fmt.Errorf("%w: offer has %d m= line(s), the session already has %d",
			ErrBadSDP, len(sd.MediaDescriptions), len(s.streams))
	}
	plans, err := s.planOffer(sd, x, from)
	if err != nil {
		return nil, err
	}
	if err := s.bindStreams(plans, x, from, to); err != nil {
		return nil, err
	}

	pend := &pending{from: x, streams: make([]pendingStream, len(plans)), prev: s.pending}
	if pend.prev != nil {
		pend.prev.prev = nil // keep one level
	}
	for _, st := range s.streams {
		if st != nil {
			for _, l := range st.legs {
				pend.saved = append(pend.saved, savedConfig{l: l, cfg: l.cfg.Load(), offered: l.offered, enabled: st.enabled})
			}
		}
	}
	yIP := s.advertisedIP(to)
	for i, md := range sd.MediaDescriptions {
		pl := &plans[i]
		if !pl.active {
			if i < len(s.streams) && s.streams[i] != nil {
				s.streams[i].disable()
			}
			rejectSection(md, yIP)
			continue
		}
		ps, err := s.commitOffer(s.streams[i], x, y, from, to, pl, md)
		if err != nil {
			return nil, err
		}
		pend.streams[i] = ps
	}
	s.pending = pend
	s.origins[x] = originKey(sd)
	setSession(sd, yIP)
	s.lastSignal.Store(s.r.cfg.Now().UnixNano())

	return marshalSDP(sd)
}

// planOffer checks every m= line of an offer from party x on side `from`.
func (s *Session) planOffer(sd *sdp.SessionDescription, x Party, from Side) ([]offerPlan, error) {
	plans := make([]offerPlan, len(sd.MediaDescriptions))
	pol := s.policy(from)
	active, noCrypto := 0, 0
	for i, md := range sd.MediaDescriptions {
		pl := &plans[i]
		pl.codec, pl.clock = firstCodec(md)
		if i >= maxStreams || !relayable(md) || md.MediaName.Port.Value == 0 {
			continue
		}
		var err error
		if pl.addr, err = media.MediaAddr(sd, md); err != nil {
			return nil, fmt.Errorf("%w: m= line %d: %w", ErrBadSDP, i, err)
		}
		if err := s.checkFamily(from, pl.addr, i); err != nil {
			return nil, err
		}
		if pl.rtcpAddr, err = media.RTCPAddr(sd, md); err != nil {
			return nil, fmt.Errorf("%w: m= line %d: %w", ErrBadSDP, i, err)
		}
		lines, err := media.CryptosOf(md)
		if err != nil && pol != polOff {
			return nil, fmt.Errorf("%w: %w", ErrBadCrypto, err)
		}
		srtp, remote, ok := decideOffered(pol, md, lines)
		if !ok {
			noCrypto++
			continue
		}
		pl.active, pl.srtp, pl.remote, pl.mux = true, srtp, remote, media.HasRTCPMux(md)
		pl.held = sectionHeld(sd, md)
		if srtp {
			var cur legConfig
			if i < len(s.streams) && s.streams[i] != nil {
				cur = s.streams[i].legs[x].config()
			}
			if pl.dec, err = keepDecryptor(cur.dec, cur.decLine, remote); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadCrypto, err)
			}
		}
		active++
	}
	if active == 0 && noCrypto > 0 {
		return nil, fmt.Errorf("%w: %d m= line(s) without usable crypto from the %s side (media.srtp: %s)",
			ErrNoCrypto, noCrypto, from, s.r.cfg.SRTP)
	}

	return plans, nil
}

// decideOffered decides SRTP for the leg of a party that offers md under policy pol. ok
// is false when the section cannot be accepted (no usable crypto where it is needed, or
// RTP/SAVP with SRTP off).
func decideOffered(pol cryptoPolicy, md *sdp.MediaDescription, lines []media.CryptoAttr) (bool, media.CryptoAttr, bool) {
	secure := media.IsSRTP(md)
	if pol == polOff {
		return false, media.CryptoAttr{}, !secure
	}
	if c, found := media.SelectCrypto(lines); found {
		return true, c, true
	}
	if secure || pol == polRequired {
		return false, media.CryptoAttr{}, false
	}

	return false, media.CryptoAttr{}, true
}

// bindStreams creates the streams an offer activates. On error nothing is left bound
// and the session's sides are unchanged.
func (s *Session) bindStreams(plans []offerPlan, x Party, from, to Side) error {
	hadSides := s.hasSides
	if !hadSides {
		s.sides[x], s.sides[x.other()] = from, to
		s.hasSides = true
	}
	var created []int
	for i, pl := range plans {
		if !pl.active || (i < len(s.streams) && s.streams[i] != nil) {
			continue
		}
		st, err := s.newStream(i)
		if err != nil {
			for _, j := range created {
				s.streams[j].close(s.r)
				s.streams[j] = nil
			}
			s.streams = trimNil(s.streams)
			s.hasSides = hadSides

			return err
		}
		for len(s.streams) <= i {
			s.streams = append(s.streams, nil)
		}
		s.streams[i] = st
		created = append(created, i)
	}

	return nil
}

func trimNil(sts []*stream) []*stream {
	for len(sts) > 0 && sts[len(sts)-1] == nil {
		sts = sts[:len(sts)-1]
	}

	return sts
}

// commitOffer applies an offer's m= line to the offerer's leg and rewrites md for the
// answerer.
func (s *Session) commitOffer(st *stream, x, y Party, from, to Side, pl *offerPlan, md *sdp.MediaDescription) (pendingStream, error) {
	xl, yl := st.legs[x], st.legs[y]
	old := xl.config()
	c := old
	c.mode = modeFor(from, pl.srtp)
	c.altRTP = netip.AddrPort{}
	if c.mode == latchStrict && old.rtpAddr.IsValid() && old.rtpAddr != pl.addr {
		c.altRTP = old.rtpAddr
	}
	c.rtpAddr, c.rtcpAddr, c.mux, c.srtp = pl.addr, pl.rtcpAddr, pl.mux, pl.srtp
	if pl.srtp {
		if pl.dec != old.dec {
			c.prevDec = old.dec
		}
		c.dec, c.decLine = pl.dec, pl.remote
	} else {
		c.dec, c.prevDec, c.decLine = nil, nil, media.CryptoAttr{}
	}
	xl.cfg.Store(&c)
	if c.mode != latchAuth && old.rtpAddr != pl.addr {
		xl.resetLatch()
	}
	xl.rtp.SetClockRate(pl.clock)

	ps := pendingStream{active: true, proto: slices.Clone(md.MediaName.Protos), offMux: pl.mux, offSRTP: pl.srtp, offHeld: pl.held}
	if pl.srtp {
		// Keep the key we already send to this party with, if the suite stays: its SRTP
		// context (rollover counter) carries on and the phone need not re-key.
		local := old.encLine
		if local.Suite != pl.remote.Suite || len(local.Key) == 0 {
			var err error
			if local, err = media.NewCryptoAttr(pl.remote.Tag, pl.remote.Suite); err != nil {
				return ps, err
			}
		}
		local.Tag = pl.remote.Tag
		enc, err := keepEncryptor(old.enc, old.encLine, local)
		if err != nil {
			return ps, err
		}
		ps.offLocal, ps.offEnc = local, enc
	}

	switch pol := s.policy(to); pol {
	case polOptional, polRequired:
		offered := yl.offered
		if len(offered) == 0 {
			var err error
			if offered, err = media.OfferCryptos(); err != nil {
				return ps, err
			}
		}
		// Offer the key we currently send with again for its suite (see above).
		if cur := yl.config().encLine; len(cur.Key) > 0 {
			offered = slices.Clone(offered)
			for i := range offered {
				if offered[i].Suite == cur.Suite {
					tag := offered[i].Tag
					offered[i] = cur
					offered[i].Tag = tag
				}
			}
		}
		yl.offered = offered
		ps.toOffered, ps.toSAVP = offered, pol == polRequired
	}

	md.Attributes = stripAttrs(md.Attributes)
	if err := media.SetSRTP(md, ps.toSAVP); err != nil {
		return ps, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	media.SetCrypto(md, ps.toOffered...)
	media.SetMediaAddr(md, netip.AddrPortFrom(s.advertisedIP(to), uint16(yl.port)))
	setRTCP(md, yl.port, pl.mux)

	st.media, st.codec, st.enabled = md.MediaName.Media, pl.codec, true

	return ps, nil
}

// disable stops forwarding on a stream whose m= line got port 0.
func (st *stream) disable() {
	st.enabled = false
	for _, l := range st.legs {
		l.cfg.Store(nil)
		l.resetLatch()
	}
}

func (l *leg) resetLatch() {
	l.latch[0].Store(nil)
	l.latch[1].Store(nil)
}

// RejectOffer undoes the last offer when it was refused (a non-2xx final response to a
// re-INVITE or UPDATE): the legs go back to the addresses and keys of the previous
// offer/answer exchange. It does nothing once an answer to the offer has been applied.
// Ports bound for new m= lines stay with the session (disabled) until Close. For a failed
// initial INVITE call Close instead.
func (s *Session) RejectOffer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending
	if s.closed || p == nil || p.answered {
		return
	}
	for _, sv := range p.saved {
		sv.l.cfg.Store(sv.cfg)
		sv.l.offered = sv.offered
	}
	for _, st := range s.streams {
		if st == nil {
			continue
		}
		st.enabled = false
		for _, sv := range p.saved {
			if sv.l == st.legs[0] {
				st.enabled = sv.enabled
			}
		}
		if !st.enabled {
			for _, l := range st.legs {
				l.cfg.Store(nil)
			}
		}
	}
	s.pending = p.prev
}
