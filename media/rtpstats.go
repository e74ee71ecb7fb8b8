package media

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// RFC 3550 appendix A.1 constants.
const (
	maxDropout  = 3000 // a forward jump up to this many packets is loss, not a restart
	maxMisorder = 100  // a backward step up to this many packets is reordering
	seqMod      = 1 << 16

	// jitterResetSeconds: a transit-time change larger than this is a timestamp
	// discontinuity (source switched without a new SSRC), not jitter; it is skipped.
	jitterResetSeconds = 10
)

// RTPStats keeps RFC 3550 receive statistics for one incoming RTP stream: extended
// sequence number tracking with wrap-around and restart detection (A.1), cumulative and
// interval loss (A.3) and interarrival jitter (A.8). A change of SSRC, or a sequence
// restart (two consecutive packets after a jump of more than 3000), starts a new source;
// packet, byte and loss totals carry across sources so that they describe the whole call.
//
// Unlike A.1 there is no probation: the first packet of a source counts (the relay only
// feeds authenticated or source-checked packets).
//
// The zero value is ready to use but computes no jitter until SetClockRate; NewRTPStats
// sets the clock rate. It is safe for concurrent use (one writer, any readers).
type RTPStats struct {
	mu        sync.Mutex
	clockRate uint32

	started bool
	ssrc    uint32
	// A.1 state of the current source.
	maxSeq   uint16
	cycles   uint32 // count of sequence wraps, shifted left 16
	baseSeq  uint32
	badSeq   uint32
	received uint64
	// A.3 interval state.
	expectedPrior, receivedPrior uint64
	// Totals of earlier sources of this stream.
	prevExpected, prevReceived uint64

	// A.8 jitter state.
	haveTransit bool
	transit     uint32
	jitter      float64 // timestamp units
	base        time.Time

	packets, bytes  uint64
	late, discarded uint64
	sources         uint64
	lastArrival     time.Time

	haveSR     bool
	lsr        uint32 // middle 32 bits of the last SR's NTP timestamp
	lsrArrival time.Time
}

// StatsSnapshot is a copy of an RTPStats at one moment.
type StatsSnapshot struct {
	SSRC uint32 // current source
	// Packets and Bytes count accepted packets and their payload bytes (all sources).
	Packets, Bytes uint64
	// Expected is how many packets the sequence numbers say were sent (all sources).
	Expected uint64
	// Lost is Expected - Packets; negative when duplicates arrived (RFC 3550 A.3).
	Lost int64
	// LossFraction is Lost/Expected in 0..1 over the whole stream (0 when negative).
	LossFraction float64
	// Jitter is the RFC 3550 interarrival jitter of the current source in timestamp
	// units; JitterMs is the same in milliseconds (0 without a clock rate).
	Jitter   uint32
	JitterMs float64
	// ExtHighestSeq is the current source's extended highest sequence number.
	ExtHighestSeq uint32
	// Late counts packets older than the highest sequence number seen (reordered or
	// duplicated); they are still counted in Packets.
	Late uint64
	// Discarded counts packets dropped as a possible sequence restart that was not
	// confirmed by a following packet.
	Discarded uint64
	// Sources counts the sources seen: 1 for a stream without SSRC change or restart.
	Sources     uint64
	LastArrival time.Time
}

// NewRTPStats returns statistics for a stream whose RTP clock runs at clockRate Hz
// (8000 for PCMU/PCMA/G.722, 48000 for Opus).
func NewRTPStats(clockRate uint32) *RTPStats {
	return &RTPStats{clockRate: clockRate}
}

// SetClockRate changes the RTP clock rate (after a codec change). Jitter restarts.
func (s *RTPStats) SetClockRate(hz uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if hz != s.clockRate {
		s.clockRate = hz
		s.haveTransit = false
		s.jitter = 0
	}
}

// Update records one received packet: its SSRC, sequence number, RTP timestamp, payload
// size and arrival time (use a monotonic time.Now()). It reports whether the packet was
// accepted; false means it was held back as a possible sequence restart (RFC 3550 A.1
// bad_seq) and counted in Discarded.
func (s *RTPStats) Update(ssrc uint32, seq uint16, ts uint32, payloadBytes int, arrival time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	switch {
	case !s.started:
		s.started = true
		s.ssrc = ssrc
		s.base = arrival
		s.initSeq(seq)
	case ssrc != s.ssrc:
		s.foldSource()
		s.ssrc = ssrc
		s.initSeq(seq)
	default:
		if !s.updateSeq(seq) {
			s.discarded++

			return false
		}
	}
	s.received++
	s.packets++
	if payloadBytes > 0 {
		s.bytes += uint64(payloadBytes)
	}
	s.lastArrival = arrival
	s.updateJitter(ts, arrival)

	return true
}

// UpdateHeader is Update with the fields taken from a parsed RTP header.
func (s *RTPStats) UpdateHeader(h *rtp.Header, payloadBytes int, arrival time.Time) bool {
	return s.Update(h.SSRC, h.SequenceNumber, h.Timestamp, payloadBytes, arrival)
}

// initSeq is A.1 init_seq.
func (s *RTPStats) initSeq(seq uint16) {
	s.baseSeq = uint32(seq)
	s.maxSeq = seq
	s.badSeq = seqMod + 1 // so seq == badSeq is false
	s.cycles = 0
	s.received = 0
	s.expectedPrior, s.receivedPrior = 0, 0
	s.haveTransit = false
	s.jitter = 0
	s.sources++
}

// foldSource adds the current source's counts to the stream totals before a new source.
func (s *RTPStats) foldSource() {
	s.prevExpected += s.expected()
	s.prevReceived += s.received
}

// updateSeq is A.1 update_seq without probation; it reports whether to count the packet.
func (s *RTPStats) updateSeq(seq uint16) bool {
	udelta := seq - s.maxSeq
	switch {
	case udelta < maxDropout:
		if udelta == 0 {
			s.late++ // duplicate of the highest packet
		}
		if seq < s.maxSeq {
			s.cycles += seqMod // wrapped
		}
		s.maxSeq = seq
	case uint32(udelta) <= seqMod-maxMisorder:
		// A very large jump: a restart if the next packet follows this one.
		if uint32(seq) != s.badSeq {
			s.badSeq = (uint32(seq) + 1) & (seqMod - 1)

			return false
		}
		s.foldSource()
		s.initSeq(seq)
	default:
		s.late++ // reordered or duplicated, within maxMisorder behind
	}

	return true
}

func (s *RTPStats) expected() uint64 {
	ext := uint64(s.cycles) + uint64(s.maxSeq)
	if ext+1 < uint64(s.baseSeq) {
		return 0
	}

	return ext - uint64(s.baseSeq) + 1
}

// updateJitter is A.8: J += (|D| - J)/16 with D the change in relative transit time.
func (s *RTPStats) updateJitter(ts uint32, arrival time.Time) {
	if s.clockRate == 0 {
		return
	}
	transit := s.arrivalUnits(arrival) - ts
	if !s.haveTransit {
		s.haveTransit = true
		s.transit = transit
		return
	}
	d := int64(int32(transit - s.transit))
	s.transit = transit
	if d < 0 {
		d = -d
	}
	if d > int64(s.clockRate)*jitterResetSeconds {
		return
	}
	s.jitter += (float64(d) - s.jitter) / 16
}

// arrivalUnits converts an arrival time to RTP timestamp units since the first packet,
// modulo 2^32.
func (s *RTPStats) arrivalUnits(t time.Time) uint32 {
	e := int64(t.Sub(s.base))
	c := int64(s.clockRate)
	u := (e/int64(time.Second))*c + (e%int64(time.Second))*c/int64(time.Second)

	return uint32(u)
}

// Snapshot returns the current statistics.
func (s *RTPStats) Snapshot() StatsSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()

	snap := StatsSnapshot{
		SSRC:        s.ssrc,
		Packets:     s.packets,
		Bytes:       s.bytes,
		Jitter:      uint32(s.jitter),
		Late:        s.late,
		Discarded:   s.discarded,
		Sources:     s.sources,
		LastArrival: s.lastArrival,
	}
	if !s.started {
		return snap
	}
	snap.ExtHighestSeq = s.cycles + uint32(s.maxSeq)
	snap.Expected = s.prevExpected + s.expected()
	snap.Lost = int64(snap.Expected) - int64(s.prevReceived+s.received)
	if snap.Expected > 0 && snap.Lost > 0 {
		snap.LossFraction = float64(snap.Lost) / float64(snap.Expected)
	}
	if s.clockRate > 0 {
		snap.JitterMs = s.jitter * 1000 / float64(s.clockRate)
	}

	return snap
}

// SenderReport records an RTCP sender report from this stream's sender: its 64-bit NTP
// timestamp and when it arrived. ReportBlock then fills LSR and DLSR, from which the
// sender computes the round-trip time (RFC 3550 §6.4.1).
func (s *RTPStats) SenderReport(ntpTime uint64, arrival time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.haveSR = true
	s.lsr = uint32(ntpTime >> 16)
	s.lsrArrival = arrival
}

// ReportBlock returns an RTCP reception report block for the current source as of now
// and starts a new reporting interval (A.3 fraction lost is per interval). It returns
// false before the first packet.
func (s *RTPStats) ReportBlock(now time.Time) (rtcp.ReceptionReport, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return rtcp.ReceptionReport{}, false
	}
	expected := s.expected()
	lost := int64(expected) - int64(s.received)
	lost = min(max(lost, -0x800000), 0x7fffff) // 24-bit signed field

	expInt := expected - s.expectedPrior
	recInt := s.received - s.receivedPrior
	s.expectedPrior, s.receivedPrior = expected, s.received
	var fraction uint8
	if lostInt := int64(expInt) - int64(recInt); expInt > 0 && lostInt > 0 {
		fraction = uint8(min((lostInt<<8)/int64(expInt), 255))
	}

	rr := rtcp.ReceptionReport{
		SSRC:               s.ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(int32(lost)) & 0xffffff,
		LastSequenceNumber: s.cycles + uint32(s.maxSeq),
		Jitter:             uint32(s.jitter),
	}
	if s.haveSR {
		rr.LastSenderReport = s.lsr
		switch d := now.Sub(s.lsrArrival); {
		case d >= 65536*time.Second:
			rr.Delay = 1<<32 - 1
		case d > 0:
			rr.Delay = uint32(d * 65536 / time.Second)
		}
	}

	return rr, true
}

// NTPTime converts t to a 64-bit NTP timestamp (seconds since 1900 in the high 32 bits,
// fraction in the low 32), as carried in RTCP sender reports.
func NTPTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // seconds from 1900-01-01 to 1970-01-01
	sec := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)

	return sec<<32 | frac
}

// RoundTrip computes the round-trip time from a reception report about our stream that
// arrived at arrival (RFC 3550 §6.4.1: A - LSR - DLSR). It reports false when the report
// has no LSR or the result is negative (clock or report error).
func RoundTrip(rr rtcp.ReceptionReport, arrival time.Time) (time.Duration, bool) {
	if rr.LastSenderReport == 0 {
		return 0, false
	}
	a := uint32(NTPTime(arrival) >> 16)
	rtt := int64(int32(a - rr.LastSenderReport - rr.Delay))
	if rtt < 0 {
		return 0, false
	}

	return time.Duration(rtt) * time.Second / 65536, true
}
