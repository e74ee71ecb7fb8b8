package relay

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/sdp/v3"
	"go.uber.org/zap"

	"github.com/sipedge/sipedge/media"
)

// Session is the media of one call (one pass of a call through the edge). Its methods
// are safe for concurrent use; signaling calls are serialised.
type Session struct {
	r     *Relay
	id    string
	start time.Time

	mu       sync.Mutex
	closed   bool
	final    Stats
	hasSides bool
	sides    [2]Side    // by Party
	accessIP netip.Addr // fixed when the first stream is bound
	streams  []*stream  // by m= index; nil for lines never relayed
	pending  *pending   // the last offer; stays answerable (183 then 200, forks)
	origins  [2]string  // o= identity of each party's descriptions

	// Read by the sweeper without the mutex.
	started    atomic.Bool  // an answer was applied: the media timeout runs
	held       atomic.Bool  // some stream is on hold: HoldTimeout applies
	lastSignal atomic.Int64 // unix ns of the last offer/answer
	timedOut   atomic.Bool
	timedOutAt atomic.Int64
}

func newSession(r *Relay, id string) *Session {
	s := &Session{r: r, id: id, start: r.cfg.Now()}
	s.lastSignal.Store(s.start.UnixNano())

	return s
}

// ID returns the session id.
func (s *Session) ID() string { return s.id }

// Offer rewrites an SDP offer travelling from side `from` to the other side (the common
// case: phone <-> PBX) and returns the body to forward. accessIP, if valid, is the edge
// address the phone's signaling arrived on and replaces Config.AccessIP for this call
// (it is fixed by the first offer or answer that binds ports). Pass every offer: INVITE,
// re-INVITE, UPDATE, a 200/183 carrying an offer (INVITE without SDP), PRACK.
func (s *Session) Offer(from Side, body []byte, accessIP netip.Addr) ([]byte, error) {
	return s.OfferTo(from, from.other(), body, accessIP)
}

// OfferTo is Offer with an explicit destination side, for calls between two parties on
// the same side (phone to phone in standalone mode: OfferTo(Access, Access, ...)). The
// first offer makes its sender the Caller. Later offers are matched to a party by side;
// when both parties are on the same side, by the o= line (which RFC 3264 keeps constant
// within a session); if that does not decide it returns ErrAmbiguousParty: use OfferBy.
func (s *Session) OfferTo(from, to Side, body []byte, accessIP netip.Addr) ([]byte, error) {
	return s.offer(-1, from, to, body, accessIP)
}

// OfferBy is OfferTo with the sending party named explicitly (the proxy knows it from
// the dialog: Caller for requests from the dialog's UAC, Callee otherwise).
func (s *Session) OfferBy(p Party, from, to Side, body []byte, accessIP netip.Addr) ([]byte, error) {
	if p != Caller && p != Callee {
		return nil, fmt.Errorf("%w: party %d", ErrSideMismatch, p)
	}

	return s.offer(p, from, to, body, accessIP)
}

// Answer rewrites the SDP answer to the pending offer, travelling from side `from` to the
// other side, and returns the body to forward. Pass every answer: 183 and 200 (each
// fork's, the final 200 last), ACK or PRACK answering an offer in a response, 200 to
// UPDATE/re-INVITE. Several answers to one offer are fine; the last one wins.
func (s *Session) Answer(from Side, body []byte, accessIP netip.Addr) ([]byte, error) {
	return s.AnswerTo(from, from.other(), body, accessIP)
}

// AnswerTo is Answer with an explicit destination side (phone to phone). The answering
// party is the one that did not send the pending offer.
func (s *Session) AnswerTo(from, to Side, body []byte, accessIP netip.Addr) ([]byte, error) {
	return s.answer(from, to, body, accessIP)
}

// Stats returns the live statistics.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.final
	}

	return s.statsLocked()
}

func (s *Session) statsLocked() Stats {
	st := Stats{ID: s.id, Start: s.start}
	for _, x := range s.streams {
		if x == nil {
			continue
		}
		ss := StreamStats{Index: x.index, Media: x.media, Codec: x.codec, Enabled: x.enabled, Held: x.held}
		for p, l := range x.legs {
			ss.Legs[p] = l.snapshot(x.codec)
		}
		st.Streams = append(st.Streams, ss)
	}

	return st
}

// Close ends the session: it stops forwarding, frees the ports, logs the end-of-call
// record (zap Info "cdr") and updates the metrics. It returns the final statistics;
// later calls return them again without effect.
func (s *Session) Close(reason string) Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.final
	}
	s.closed = true
	for _, st := range s.streams {
		if st != nil {
			st.close(s.r)
		}
	}
	s.final = s.statsLocked()
	s.final.End = s.r.cfg.Now()
	s.final.Reason = reason
	s.r.forget(s)

	m := s.r.met
	m.endedCounter(reason).Inc()
	m.duration.Observe(s.final.End.Sub(s.start).Seconds())
	for _, x := range s.final.Streams {
		for _, l := range x.Legs {
			if l.Packets == 0 {
				continue
			}
			m.loss[l.Side].Observe(l.LossFraction)
			m.jitter[l.Side].Observe(l.JitterMs / 1000)
			m.mos[l.Side].Observe(l.MOS)
		}
	}
	s.r.log.Info("cdr", zap.String("session", s.id), zap.String("reason", reason),
		zap.Duration("duration", s.final.End.Sub(s.start)), zap.Object("media", s.final))

	return s.final
}

// checkTimeout is called by the sweeper.
func (s *Session) checkTimeout(now time.Time) {
	if !s.started.Load() {
		return
	}
	cfg := s.r.cfg
	if s.timedOut.Load() {
		// Safety net: the proxy did not close the session after OnTimeout.
		if now.UnixNano()-s.timedOutAt.Load() >= int64(cfg.Timeout) {
			s.Close(ReasonMediaTimeout)
		}
		return
	}
	last := s.lastSignal.Load()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	for _, st := range s.streams {
		if st == nil {
			continue
		}
		for _, l := range st.legs {
			last = max(last, l.lastPacket.Load())
		}
	}
	s.mu.Unlock()
	limit := cfg.Timeout
	if s.held.Load() {
		limit = cfg.HoldTimeout
	}
	if now.UnixNano()-last < int64(limit) {
		return
	}
	if !s.timedOut.CompareAndSwap(false, true) {
		return
	}
	s.timedOutAt.Store(now.UnixNano())
	s.r.log.Warn("media timeout", zap.String("session", s.id), zap.Duration("silence", time.Duration(now.UnixNano()-last)),
		zap.Bool("held", s.held.Load()))
	if cfg.OnTimeout == nil {
		s.Close(ReasonMediaTimeout)
		return
	}
	s.r.wg.Add(1)
	go func() {
		defer s.r.wg.Done()
		cfg.OnTimeout(s.id, ReasonMediaTimeout)
	}()
}

// sideIP is the edge address for a side in this session.
func (s *Session) sideIP(side Side) netip.Addr {
	if side == Core {
		return s.r.cfg.CoreIP
	}

	return s.accessIP
}

// advertisedIP is the edge address written into SDP sent to a side: the bound address, or
// Config.AccessAdvertise toward the phones.
func (s *Session) advertisedIP(side Side) netip.Addr {
	if side == Access && s.r.cfg.AccessAdvertise.IsValid() {
		return s.r.cfg.AccessAdvertise
	}

	return s.sideIP(side)
}

// checkFamily refuses a media address the edge's socket on that side cannot reach: an IPv4 address
// when the side is bound to IPv6, or the reverse (e.g. a phone signalling over IPv6 that offers IPv4
// media). 0.0.0.0 and :: (hold) pass.
func (s *Session) checkFamily(side Side, addr netip.AddrPort, line int) error {
	ours := s.sideIP(side)
	a := addr.Addr().Unmap()
	if !ours.IsValid() || !a.IsValid() || a.IsUnspecified() || ours.Is4() == a.Is4() {
		return nil
	}
	fam := map[bool]string{true: "IPv4", false: "IPv6"}
	return fmt.Errorf("%w: m= line %d: %s media address %s cannot be reached from the edge's %s address %s on the %s side",
		ErrBadSDP, line, fam[a.Is4()], a, fam[ours.Is4()], ours, side)
}

// useAccessIP fixes the session's access address on first use.
func (s *Session) useAccessIP(from, to Side, accessIP netip.Addr) error {
	if s.accessIP.IsValid() || (from != Access && to != Access) {
		return nil
	}
	switch {
	case accessIP.IsValid() && !accessIP.IsUnspecified():
		s.accessIP = accessIP.Unmap()
	case s.r.cfg.AccessIP.IsValid():
		s.accessIP = s.r.cfg.AccessIP
	default:
		return ErrNoAddress
	}

	return nil
}

// resolveOfferer returns the party sending an offer from -> to.
func (s *Session) resolveOfferer(p Party, from, to Side, sd *sdp.SessionDescription) (Party, error) {
	if !s.hasSides {
		if p < 0 {
			p = Caller
		}

		return p, nil
	}
	if p >= 0 {
		if s.sides[p] != from || s.sides[p.other()] != to {
			return 0, fmt.Errorf("%w: %s is on the %s side, offer is %s -> %s", ErrSideMismatch, p, s.sides[p], from, to)
		}

		return p, nil
	}
	var cands []Party
	for _, q := range [...]Party{Caller, Callee} {
		if s.sides[q] == from && s.sides[q.other()] == to {
			cands = append(cands, q)
		}
	}
	switch len(cands) {
	case 0:
		return 0, fmt.Errorf("%w: session is %s <-> %s, offer is %s -> %s", ErrSideMismatch,
			s.sides[Caller], s.sides[Callee], from, to)
	case 1:
		return cands[0], nil
	}
	key := originKey(sd)
	switch c, e := s.origins[Caller] == key, s.origins[Callee] == key; {
	case c && !e:
		return Caller, nil
	case e && !c:
		return Callee, nil
	}

	return 0, ErrAmbiguousParty
}

// cryptoPolicy is how a leg uses SDES.
type cryptoPolicy int

const (
	polOff      cryptoPolicy = iota // plain only; RTP/SAVP sections disabled
	polAccept                       // core: plain offers, SRTP when the party offers it
	polOptional                     // access optional: best-effort offers (RTP/AVP + crypto)
	polRequired                     // access required: RTP/SAVP offers, crypto mandatory
)

func (s *Session) policy(side Side) cryptoPolicy {
	if side == Core {
		if s.r.cfg.CoreSRTP == SRTPRequired {
			return polRequired
		}
		return polAccept
	}
	switch s.r.cfg.SRTP {
	case SRTPOff:
		return polOff
	case SRTPOptional:
		return polOptional
	}

	return polRequired
}

// modeFor is the latch rule of a leg.
func modeFor(side Side, srtp bool) latchMode {
	switch {
	case side == Core:
		return latchStrict
	case srtp:
		return latchAuth
	}

	return latchFirst
}

// keepDecryptor returns cur when it is keyed by line (keeping its replay and rollover
// state), else a new Decryptor.
func keepDecryptor(cur *media.Decryptor, curLine, line media.CryptoAttr) (*media.Decryptor, error) {
	if cur != nil && sameKey(curLine, line) {
		return cur, nil
	}

	return media.NewDecryptor(line)
}

func keepEncryptor(cur *media.Encryptor, curLine, line media.CryptoAttr) (*media.Encryptor, error) {
	if cur != nil && sameKey(curLine, line) {
		return cur, nil
	}

	return media.NewEncryptor(line)
}

func sameKey(a, b media.CryptoAttr) bool {
	return a.Suite == b.Suite && string(a.Key) == string(b.Key) && string(a.Salt) == string(b.Salt) &&
		string(a.MKI) == string(b.MKI)
}
