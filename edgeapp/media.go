package edgeapp

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/proxy"
	"github.com/sipedge/sipedge/relay"
)

// newRelay builds the media relay from media.* and connects its timeouts to the proxy (BYE both sides).
func (a *App) newRelay() error {
	m := a.Cfg.Media
	pr, err := config.ParsePortRange(m.PortRange)
	if err != nil {
		return fmt.Errorf("media.port_range: %w", err)
	}
	c := relay.Config{PortMin: pr.First, PortMax: pr.Last, SRTP: m.SRTP, CoreSRTP: m.CoreSRTP, SendBeforeLatch: m.SendBeforeLatch, Timeout: m.Timeout.D(),
		HoldTimeout: m.HoldTimeout.D(), Log: a.Log.Named("media"), Registerer: a.Registry,
		OnTimeout: func(id, reason string) {
			go func() { // never block the relay's timer goroutine (ending the call closes the session)
				ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
				defer cancel()
				if a.Proxy != nil {
					_ = a.Proxy.EndMediaSession(ctx, id, reason)
				}
			}()
		}}
	if m.AccessIP != "" {
		if c.AccessIP, err = netip.ParseAddr(m.AccessIP); err != nil {
			return fmt.Errorf("media.access_ip: %w", err)
		}
	}
	if m.Advertise != "" {
		if c.AccessAdvertise, err = netip.ParseAddr(m.Advertise); err != nil {
			return fmt.Errorf("media.advertise: %w", err)
		}
	}
	if c.CoreIP, err = netip.ParseAddr(m.CoreIP); err != nil {
		return fmt.Errorf("media.core_ip: %w", err)
	}
	r, err := relay.New(c)
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	a.Relay = r
	a.closers = append(a.closers, r.Close)
	return nil
}

// mediaAdapter lets the proxy drive the relay: one relay session per proxy media session.
type mediaAdapter struct{ r *relay.Relay }

func relaySide(s proxy.Side) relay.Side {
	if s == proxy.SideAccess {
		return relay.Access
	}
	return relay.Core
}

func (m mediaAdapter) Offer(l proxy.MediaLeg, sdp []byte) ([]byte, error) {
	return m.r.Session(l.Session).OfferTo(relaySide(l.From), relaySide(l.To), sdp, l.AccessIP)
}

func (m mediaAdapter) Answer(l proxy.MediaLeg, sdp []byte) ([]byte, error) {
	s, ok := m.r.Lookup(l.Session)
	if !ok {
		return nil, relay.ErrNoOffer
	}
	return s.AnswerTo(relaySide(l.From), relaySide(l.To), sdp, l.AccessIP)
}

func (m mediaAdapter) Reject(session string) {
	if s, ok := m.r.Lookup(session); ok {
		s.RejectOffer()
	}
}

func (m mediaAdapter) End(session, reason string) {
	if s, ok := m.r.Lookup(session); ok {
		s.Close(reason)
	}
}
