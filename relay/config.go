package relay

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Side is the network side of the edge a party is on.
type Side int

const (
	// Access is the internet side (phones): SRTP per Config.SRTP, latching on
	// authenticated packets.
	Access Side = iota
	// Core is the PBX side: plain RTP (SRTP only if the PBX offers it), strict source
	// checking against the address in the PBX's SDP.
	Core
)

// String returns "access" or "core" (also the metric label).
func (s Side) String() string {
	if s == Core {
		return "core"
	}

	return "access"
}

func (s Side) valid() bool { return s == Access || s == Core }

// other returns the opposite side.
func (s Side) other() Side { return 1 - s }

// Party is one end of a call: Caller is the party that sent the first offer through the
// session (normally the UAC of the dialog-creating INVITE), Callee the other one. Each
// party has its own leg (ports, keys, latch) in every stream.
type Party int

// The two parties of a session.
const (
	Caller Party = iota
	Callee
)

// String returns "caller" or "callee".
func (p Party) String() string {
	if p == Callee {
		return "callee"
	}

	return "caller"
}

func (p Party) other() Party { return 1 - p }

// SRTP modes for the access side (Config.SRTP, media.srtp).
const (
	SRTPRequired = "required" // offers SAVP with crypto; an access party without usable crypto is refused
	SRTPOptional = "optional" // SRTP when the phone offers or accepts crypto, else plain RTP
	SRTPOff      = "off"      // plain RTP only; RTP/SAVP streams are disabled (port 0)
	// CoreSRTPAccept (core side only): plain RTP offers toward the PBX, SRTP when the PBX offers it.
	CoreSRTPAccept = "accept"
)

// End-of-session reasons with their own metric label; Close accepts any text (it goes to
// the CDR line as is) but counts unknown reasons as "other".
const (
	ReasonHangup       = "hangup"        // BYE from either party
	ReasonCancelled    = "cancelled"     // CANCEL before answer
	ReasonRejected     = "rejected"      // final non-2xx response
	ReasonMediaTimeout = "media timeout" // no media for Timeout (HoldTimeout while held)
	ReasonError        = "error"         // signaling or SDP failure
	ReasonShutdown     = "shutdown"      // Relay.Close
)

var knownReasons = [...]string{ReasonHangup, ReasonCancelled, ReasonRejected, ReasonMediaTimeout, ReasonError, ReasonShutdown}

// Config configures a Relay. Zero values get the defaults named on each field.
type Config struct {
	// AccessIP is the address media ports toward the phones are bound to and
	// advertised in SDP. It may be left invalid when every call passes its own access
	// address (the address the phone's signaling arrived on) to Offer/Answer.
	AccessIP netip.Addr
	// AccessAdvertise, if valid, is written into SDP toward the phones instead of the
	// address the access ports are bound to: for an edge behind 1:1 NAT (a cloud VM binds
	// its private address; phones reach it on the public one).
	AccessAdvertise netip.Addr
	// CoreIP is the address media ports toward the PBX are bound to and advertised.
	// Required.
	CoreIP netip.Addr
	// PortMin and PortMax bound the UDP ports (media.port_range). RTP uses even ports,
	// RTCP the next odd one. Default 20000-29999.
	PortMin, PortMax int
	// SRTP is the access-side mode: SRTPRequired (default), SRTPOptional or SRTPOff.
	SRTP string
	// SendBeforeLatch sends media toward an SRTP phone before it has sent an authenticated packet, to the
	// address in its SDP. Off by default: that address is only the phone's claim, and an authenticated
	// user could point a call's media at a third party. Turn it on only for phones on a LAN that send
	// nothing during early media.
	SendBeforeLatch bool
	// CoreSRTP is the core-side mode: CoreSRTPAccept (default: plain RTP offers, SRTP when the PBX
	// offers it) or SRTPRequired (SDES SRTP offers toward the PBX, SRTP required from it).
	CoreSRTP string
	// Timeout ends a session with no media on any leg for this long (default 30s);
	// HoldTimeout replaces it while a stream is on hold (default 2h). The clock starts
	// with the first answer.
	Timeout, HoldTimeout time.Duration
	// OnTimeout is called once per session (on its own goroutine) when it times out,
	// with the session id and ReasonMediaTimeout; the proxy then sends BYE to both
	// parties and calls Session.Close. If the session is still open one Timeout later
	// (or OnTimeout is nil) the relay closes it itself.
	OnTimeout func(sessionID, reason string)
	// Log receives session events and the end-of-call "cdr" lines (default: no logs).
	Log *zap.Logger
	// Registerer receives the sipedge_media_* metrics (default: not registered).
	Registerer prometheus.Registerer
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ListenUDP binds one media socket (default: net.ListenUDP on ip:port). Sockets that
	// are *net.UDPConn (or have ReadFromUDPAddrPort/WriteToUDPAddrPort) are used without
	// allocating per packet.
	ListenUDP func(ip netip.Addr, port int) (net.PacketConn, error)
}

// withDefaults returns c with defaults applied and checks it.
func (c Config) withDefaults() (Config, error) {
	if c.PortMin == 0 && c.PortMax == 0 {
		c.PortMin, c.PortMax = 20000, 29999
	}
	if c.SRTP == "" {
		c.SRTP = SRTPRequired
	}
	if c.CoreSRTP == "" {
		c.CoreSRTP = CoreSRTPAccept
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.HoldTimeout == 0 {
		c.HoldTimeout = 2 * time.Hour
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ListenUDP == nil {
		c.ListenUDP = listenUDP
	}
	switch {
	case !c.CoreIP.IsValid() || c.CoreIP.IsUnspecified():
		return c, fmt.Errorf("%w: CoreIP: %q is not a usable IP address", ErrConfig, c.CoreIP)
	case c.AccessIP.IsValid() && c.AccessIP.IsUnspecified():
		return c, fmt.Errorf("%w: AccessIP: %s cannot be advertised in SDP", ErrConfig, c.AccessIP)
	case c.AccessAdvertise.IsValid() && (c.AccessAdvertise.IsUnspecified() || c.AccessAdvertise.IsMulticast()):
		return c, fmt.Errorf("%w: AccessAdvertise: %s cannot be advertised in SDP", ErrConfig, c.AccessAdvertise)
	case c.PortMin < 1 || c.PortMax > 65535 || c.PortMin > c.PortMax:
		return c, fmt.Errorf("%w: PortMin/PortMax: need 1 <= %d <= %d <= 65535", ErrConfig, c.PortMin, c.PortMax)
	case pairsIn(c.PortMin, c.PortMax) < 2:
		return c, fmt.Errorf("%w: PortMin/PortMax: %d-%d holds fewer than two even RTP/RTCP pairs", ErrConfig, c.PortMin, c.PortMax)
	case c.SRTP != SRTPRequired && c.SRTP != SRTPOptional && c.SRTP != SRTPOff:
		return c, fmt.Errorf("%w: SRTP: %q is not one of required, optional, off", ErrConfig, c.SRTP)
	case c.CoreSRTP != CoreSRTPAccept && c.CoreSRTP != SRTPRequired:
		return c, fmt.Errorf("%w: CoreSRTP: %q is not one of accept, required", ErrConfig, c.CoreSRTP)
	case c.Timeout < 0 || c.HoldTimeout < 0:
		return c, fmt.Errorf("%w: Timeout/HoldTimeout must be positive", ErrConfig)
	}
	c.CoreIP = c.CoreIP.Unmap()
	c.AccessIP = c.AccessIP.Unmap()
	c.AccessAdvertise = c.AccessAdvertise.Unmap()

	return c, nil
}

func listenUDP(ip netip.Addr, port int) (net.PacketConn, error) {
	return net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
}

// sweepInterval is how often timeouts are checked: a quarter of the shorter timeout,
// between 10 ms and 1 s.
func (c Config) sweepInterval() time.Duration {
	return min(max(min(c.Timeout, c.HoldTimeout)/4, 10*time.Millisecond), time.Second)
}
