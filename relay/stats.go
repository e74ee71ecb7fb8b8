package relay

import (
	"net/netip"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/sipedge/sipedge/media"
)

// Stats describes a session: live from Session.Stats, final from Session.Close.
type Stats struct {
	ID     string
	Start  time.Time
	End    time.Time // zero while the session is open
	Reason string    // why it ended; empty while open
	// Streams has one entry per m= line the session relayed at some point (nil slots
	// for m= lines that were never relayed are left out).
	Streams []StreamStats
}

// StreamStats is one m= line.
type StreamStats struct {
	Index   int    // m= line index
	Media   string // "audio", "video"
	Codec   string // first payload format of the last offer, e.g. "PCMU"
	Enabled bool   // relayed by the last offer/answer (false: port 0)
	Held    bool   // the last answer was not sendrecv
	// Legs are indexed by Party: the caller's leg (Legs[Caller]) and the callee's.
	Legs [2]LegStats
}

// LegStats is one party's leg of a stream. "In" counters are about packets the party
// sent to the edge, "Out" counters about packets the edge sent to the party.
type LegStats struct {
	Party Party
	Side  Side
	// Local is the edge's RTP address facing this party; Remote is where its RTP goes
	// (the latched address, else the party's SDP address).
	Local, Remote netip.AddrPort
	Latched       bool
	SRTP          bool
	Suite         media.Suite // empty without SRTP
	// Accepted RTP and RTCP packets (authenticated on SRTP legs); Bytes counts both as
	// received.
	Packets, Bytes, RTCPPackets uint64
	PacketsOut, BytesOut        uint64
	// RTP receive quality of the party's stream (RFC 3550).
	Lost         int64
	LossFraction float64
	JitterMs     float64
	MOS          float64 // E-model estimate from loss and jitter (no RTT); 0 before any packet
	// Rejected and dropped packets from this party.
	AuthFailures, Replays, UnknownSource, Malformed, Dropped uint64
	LatchChanges                                             uint64
	LastPacket                                               time.Time // zero if none
}

// snapshot builds the leg's statistics.
func (l *leg) snapshot(codec string) LegStats {
	ls := LegStats{
		Party:         l.party,
		Side:          l.side,
		Local:         l.localAddr(),
		Packets:       l.rtpIn.Load(),
		Bytes:         l.bytesIn.Load(),
		RTCPPackets:   l.rtcpIn.Load(),
		PacketsOut:    l.packetsOut.Load(),
		BytesOut:      l.bytesOut.Load(),
		AuthFailures:  l.in[resAuthFailed].Load(),
		Replays:       l.in[resReplay].Load(),
		UnknownSource: l.in[resUnknownSource].Load(),
		Malformed:     l.in[resMalformed].Load(),
		Dropped:       l.in[resDropped].Load(),
		LatchChanges:  l.latchChanges.Load(),
	}
	if ns := l.lastPacket.Load(); ns != 0 {
		ls.LastPacket = time.Unix(0, ns)
	}
	if c := l.cfg.Load(); c != nil {
		ls.SRTP = c.srtp
		if c.srtp && c.dec != nil {
			ls.Suite = c.dec.Suite()
		}
		ls.Remote, _ = l.dest(c, false)
	}
	ls.Latched = l.latch[0].Load() != nil
	rs := l.rtp.Snapshot()
	ls.Lost, ls.LossFraction, ls.JitterMs = rs.Lost, rs.LossFraction, rs.JitterMs
	if rs.Packets > 0 {
		ls.MOS = media.EstimateMOS(rs.LossFraction, rs.JitterMs, 0, codec)
	}

	return ls
}

// MarshalLogObject writes the stats as a zap object (the CDR line's fields).
func (st Stats) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("session", st.ID)
	enc.AddTime("start", st.Start)
	if !st.End.IsZero() {
		enc.AddDuration("duration", st.End.Sub(st.Start))
		enc.AddString("reason", st.Reason)
	}

	return enc.AddArray("streams", zapcore.ArrayMarshalerFunc(func(ae zapcore.ArrayEncoder) error {
		for _, s := range st.Streams {
			if err := ae.AppendObject(s); err != nil {
				return err
			}
		}

		return nil
	}))
}

// MarshalLogObject writes one stream.
func (s StreamStats) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddInt("index", s.Index)
	enc.AddString("media", s.Media)
	enc.AddString("codec", s.Codec)
	enc.AddBool("held", s.Held)
	if err := enc.AddObject("caller", s.Legs[Caller]); err != nil {
		return err
	}

	return enc.AddObject("callee", s.Legs[Callee])
}

// MarshalLogObject writes one leg (no key material).
func (l LegStats) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("side", l.Side.String())
	enc.AddString("local", l.Local.String())
	enc.AddString("remote", l.Remote.String())
	enc.AddBool("srtp", l.SRTP)
	if l.Suite != "" {
		enc.AddString("suite", string(l.Suite))
	}
	enc.AddUint64("packets", l.Packets)
	enc.AddUint64("bytes", l.Bytes)
	enc.AddUint64("rtcp_packets", l.RTCPPackets)
	enc.AddUint64("packets_out", l.PacketsOut)
	enc.AddUint64("bytes_out", l.BytesOut)
	enc.AddInt64("lost", l.Lost)
	enc.AddFloat64("loss", l.LossFraction)
	enc.AddFloat64("jitter_ms", l.JitterMs)
	enc.AddFloat64("mos", l.MOS)
	enc.AddUint64("auth_failures", l.AuthFailures)
	enc.AddUint64("replays", l.Replays)
	enc.AddUint64("unknown_source", l.UnknownSource)
	enc.AddUint64("malformed", l.Malformed)
	enc.AddUint64("dropped", l.Dropped)
	enc.AddUint64("latch_changes", l.LatchChanges)

	return nil
}
