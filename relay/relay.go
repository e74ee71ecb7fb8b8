// Package relay is the edge's media anchoring engine: for every call it opens a media
// session with, per SDP m= line, one leg toward each party (an RTP and an RTCP port each),
// rewrites the SDP offers and answers that pass the edge so that both parties send their
// media to it, and forwards the packets: SRTP (SDES, RFC 4568) on the access side, plain
// RTP toward the PBX, SRTCP <-> RTCP alike.
//
// The relay knows no SIP. The proxy hands it SDP bodies together with the side each one
// comes from and goes to (Session.Offer, Session.Answer; OfferTo/AnswerTo/OfferBy when
// both parties are phones) and closes the session when the dialog ends.
//
// Security properties:
//   - An access leg with SRTP learns ("latches") the phone's address only from a packet
//     that passes SRTP authentication and replay checks, and moves only on such a packet
//     from a new address (roaming). Everything else is dropped and counted, never
//     forwarded (no RTP Bleed, no injection). Junk is filtered by size and SSRC before
//     pion/srtp sees it.
//   - An access leg without SRTP (media.srtp optional/off) can only use a weaker rule:
//     before the first packet it accepts a packet from the phone's SDP address, or from
//     any address when that one is not a public address (the phone is behind NAT); then
//     it stays with the first source (symmetric RTP) until the phone's next offer or
//     answer announces a new address. An attacker who guesses the port and wins the race
//     for the first packet can take that stream over; use media.srtp: required.
//   - A core leg accepts RTP only from the exact address and port in the PBX's SDP and
//     RTCP only from its IP.
//
// The packet path is one goroutine per socket reading into preallocated buffers; it does
// not allocate per packet.
package relay

import (
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Relay owns the port range, the sessions and the timeout sweeper.
type Relay struct {
	cfg   Config
	met   *metrics
	ports *portPool
	log   *zap.Logger

	mu       sync.Mutex
	sessions map[string]*Session
	closed   bool

	stop chan struct{}
	wg   sync.WaitGroup // packet loops, timeout callbacks, sweeper
}

// New validates cfg, registers the metrics and starts the media timeout sweeper.
func New(cfg Config) (*Relay, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	met, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("relay: registering metrics: %w", err)
	}
	r := &Relay{
		cfg:      cfg,
		met:      met,
		ports:    newPortPool(cfg.PortMin, cfg.PortMax),
		log:      cfg.Log.Named("relay"),
		sessions: make(map[string]*Session),
		stop:     make(chan struct{}),
	}
	r.wg.Add(1)
	go r.sweeper()

	return r, nil
}

// Close ends every session (reason ReasonShutdown), stops the sweeper and waits for all
// goroutines of the relay, including running OnTimeout callbacks.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	list := make([]*Session, 0, len(r.sessions))
	for _, s := range r.sessions {
		list = append(list, s)
	}
	r.mu.Unlock()
	close(r.stop)
	for _, s := range list {
		s.Close(ReasonShutdown)
	}
	r.wg.Wait()

	return nil
}

// Session returns the open session with this id, creating it if there is none. The proxy
// chooses the id (Call-ID plus a pass number when a call crosses the edge twice). After
// Close the returned session is already closed (its methods return ErrClosed).
func (r *Relay) Session(id string) *Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.sessions[id]; ok {
		return s
	}
	s := newSession(r, id)
	if r.closed {
		s.closed = true
		return s
	}
	r.sessions[id] = s
	r.met.sessions.Inc()

	return s
}

// Lookup returns the open session with this id.
func (r *Relay) Lookup(id string) (*Session, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sessions[id]

	return s, ok
}

// Len returns the number of open sessions.
func (r *Relay) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()

	return len(r.sessions)
}

// FreePortPairs returns how many RTP/RTCP port pairs are unused.
func (r *Relay) FreePortPairs() int { return r.ports.free() }

// forget removes s from the session table (called by Session.Close).
func (r *Relay) forget(s *Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sessions[s.id] == s {
		delete(r.sessions, s.id)
		r.met.sessions.Dec()
	}
}

// sweeper checks media timeouts until Close.
func (r *Relay) sweeper() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.sweepInterval())
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.mu.Lock()
			list := make([]*Session, 0, len(r.sessions))
			for _, s := range r.sessions {
				list = append(list, s)
			}
			r.mu.Unlock()
			now := r.cfg.Now()
			for _, s := range list {
				s.checkTimeout(now)
			}
		}
	}
}
