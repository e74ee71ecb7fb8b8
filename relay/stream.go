package relay

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/sipedge/sipedge/media"
)

// maxStreams caps the m= lines relayed per session; further lines are rejected with port
// 0, so that a re-offer cannot make the edge bind ports without limit.
const maxStreams = 4

// latchMode is how a leg decides which source addresses it accepts.
type latchMode int

const (
	latchStrict latchMode = iota // core: only the address in the party's SDP
	latchAuth                    // access with SRTP: any source, moved by authenticated packets
	latchFirst                   // access without SRTP: first packet, then symmetric
)

// stream is one m= line: a leg per party.
type stream struct {
	index int
	legs  [2]*leg // by Party
	wg    sync.WaitGroup

	// Guarded by the session mutex.
	media   string // "audio", "video"
	codec   string // first payload format's encoding name
	enabled bool   // last offer/answer relays it (port != 0)
	held    bool   // last answer made it not sendrecv
}

// leg is one party's end of a stream: the edge's RTP/RTCP sockets facing that party, the
// party's addresses and keys, and what was received from it.
type leg struct {
	r     *Relay
	party Party
	side  Side
	ip    netip.Addr
	port  int      // RTP; RTCP is port+1
	socks [2]*sock // RTP, RTCP
	peer  *leg     // the other party's leg of the same stream

	cfg   atomic.Pointer[legConfig]
	latch [2]atomic.Pointer[netip.AddrPort] // learned source for the RTP and the RTCP socket

	rtp          *media.RTPStats
	in           [numResults]atomic.Uint64 // packets from this party, by result
	bytesIn      atomic.Uint64
	rtpIn        atomic.Uint64
	rtcpIn       atomic.Uint64
	packetsOut   atomic.Uint64
	bytesOut     atomic.Uint64
	latchChanges atomic.Uint64
	lastPacket   atomic.Int64 // unix ns of the last accepted packet

	// Signaling state, guarded by the session mutex.
	offered []media.CryptoAttr // lines last offered to this party (reused by re-offers)
}

// legConfig is what signaling last told a leg; replaced as a whole (copy on write) so the
// packet path reads it with one atomic load.
type legConfig struct {
	mode latchMode
	srtp bool
	// enc protects what is sent to the party (our key); dec verifies what the party
	// sends (its key); prevDec is the key it used before the last offer or answer,
	// still accepted so packets in flight during a re-key are not lost.
	enc          *media.Encryptor
	encLine      media.CryptoAttr
	dec, prevDec *media.Decryptor
	decLine      media.CryptoAttr
	mux          bool           // the party multiplexes RTCP on the RTP port
	rtpAddr      netip.AddrPort // from the party's SDP
	rtcpAddr     netip.AddrPort
	altRTP       netip.AddrPort // strict mode: previous SDP address, accepted until the answer
}

// addrPortConn is implemented by *net.UDPConn: reads and writes without allocating.
type addrPortConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

const (
	bufSize   = 2048
	readLimit = bufSize - 256 // room for the SRTP tag, SRTCP index and an MKI
	// Unknown-SSRC budget of an SRTP socket: packets with an SSRC that has not yet
	// authenticated cost pion an allocation each, so only this many per second (burst
	// the same) get to try.
	newSSRCRate  = 50
	knownSSRCs   = 4
	tokenEveryNs = int64(1e9 / newSSRCRate)
)

// sock is one UDP socket of a leg and the state of its read loop.
type sock struct {
	leg  *leg
	rtcp bool // the RTCP socket (port+1)
	conn net.PacketConn
	fast addrPortConn // nil when conn lacks the allocation-free methods

	buf, aux []byte // read buffer and decrypt/encrypt buffer, owned by the loop

	// Prefilter state, owned by the loop.
	known     [knownSSRCs]uint32
	nKnown    int
	nextKnown int
	tokens    int64
	refilled  int64 // unix ns
}

func newSock(l *leg, conn net.PacketConn, rtcp bool) *sock {
	k := &sock{leg: l, rtcp: rtcp, conn: conn, buf: make([]byte, bufSize), aux: make([]byte, bufSize), tokens: newSSRCRate}
	k.fast, _ = conn.(addrPortConn)

	return k
}

// newStream binds a port pair for each party and starts the read loops.
func (s *Session) newStream(index int) (*stream, error) {
	st := &stream{index: index}
	for p := range 2 {
		side := s.sides[p]
		ip := s.sideIP(side)
		port, a, b, err := s.r.bindPair(ip)
		if err != nil {
			for _, l := range st.legs {
				if l != nil {
					closeConns(l.socks[0].conn, l.socks[1].conn)
					s.r.ports.put(l.port)
				}
			}

			return nil, err
		}
		l := &leg{r: s.r, party: Party(p), side: side, ip: ip, port: port, rtp: media.NewRTPStats(8000)}
		l.socks = [2]*sock{newSock(l, a, false), newSock(l, b, true)}
		st.legs[p] = l
	}
	st.legs[0].peer, st.legs[1].peer = st.legs[1], st.legs[0]
	for _, l := range st.legs {
		for _, k := range l.socks {
			st.wg.Add(1)
			s.r.wg.Add(1)
			go k.run(func() { st.wg.Done(); s.r.wg.Done() })
		}
	}

	return st, nil
}

// close stops the read loops, waits for them and returns the ports.
func (st *stream) close(r *Relay) {
	for _, l := range st.legs {
		closeConns(l.socks[0].conn, l.socks[1].conn)
	}
	st.wg.Wait()
	for _, l := range st.legs {
		r.ports.put(l.port)
	}
}

// localAddr is the edge's RTP address for the leg's party.
func (l *leg) localAddr() netip.AddrPort { return netip.AddrPortFrom(l.ip, uint16(l.port)) }

// config returns a copy of the current config (zero value if none) for modification.
func (l *leg) config() legConfig {
	if c := l.cfg.Load(); c != nil {
		return *c
	}

	return legConfig{}
}
