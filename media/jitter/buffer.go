// Package jitter is the receive-side jitter buffer of the softphone: it
// takes RTP packets as they arrive (out of order, late, duplicated) and
// hands out one frame per playout tick, in order, telling the caller when to
// conceal a missing frame. It also provides packet loss concealment for PCM.
//
// # How the buffer plays out
//
// The caller pushes every received packet with its arrival time and calls
// Pop once per frame of played audio (every FrameDuration). Pop returns:
//
//   - KindFrame: the next packet's payload, to decode and play;
//   - KindLost: nothing to decode; run packet loss concealment (PLC). This
//     is either a missing packet or, with Frame.Stretch set, a frame
//     inserted to raise the delay (also when the next packet has not
//     arrived in time: the buffer waits for it rather than skip it);
//   - KindEmpty: play silence. The buffer is priming (start of stream or
//     after the stream stopped), or the sender paused (a timestamp gap
//     without a sequence gap, as with discontinuous transmission).
//
// Clocks are injected: Push and Pop take the time, and nothing in the
// package reads the system clock, so tests are deterministic.
//
// # Adaptation
//
// For each packet the buffer computes its transit offset D = arrival time -
// media time (timestamp / clock rate). Over the last Window packets, the
// spread between the smallest D and the Quantile of D is the jitter the
// buffer must absorb; the target delay is that spread, clamped to
// [MinDelay, MaxDelay] (and at least InitialDelay during warm-up). The
// current delay of the frame being played is now - (its media time +
// smallest D), i.e. how long after its earliest possible arrival it is
// played. When that delay is below the target the buffer inserts a
// concealment frame (Stretch), which raises it by one frame at once; when it
// is more than one frame above the target it drops one frame, at most one
// every ShrinkInterval frames (and only when the next packet is already
// there). Rising is immediate, falling is gradual and starts once the jitter
// has left the window (5 s by default). When the buffer runs dry it does not
// skip the missing slot: it conceals and waits (Stretch), so a packet that
// is merely late is still played and the delay grows to match the network;
// the slot is declared lost only once a later packet shows a sequence gap.
// This also absorbs clock drift between sender and receiver.
//
// # Sequence, duplicates, late packets, resync
//
// Sequence numbers and timestamps are extended to 64 bits (wrap-safe).
// A packet already received (within the last 256 sequence numbers) is a
// duplicate; a packet whose slot has already been played or concealed is
// late; both are dropped and counted. A packet whose sequence number jumps
// by more than 3000 forward or 100 backward is held on probation, and two
// such packets in sequence start a new stream (RFC 3550 A.1 style). A
// packet whose timestamp is more than MaxTimestampJump away from where its
// sequence number puts it also starts a new stream. Call Reset when the
// SSRC changes.
package jitter

import (
	"fmt"
	"sync"
	"time"
)

// Kind says what Pop returned.
type Kind uint8

// Kinds of Frame.
const (
	// KindEmpty means nothing to play: play silence or comfort noise.
	KindEmpty Kind = iota
	// KindFrame means Payload holds the next frame.
	KindFrame
	// KindLost means a frame is missing: run packet loss concealment.
	KindLost
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindEmpty:
		return "empty"
	case KindFrame:
		return "frame"
	case KindLost:
		return "lost"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Frame is one playout slot returned by Pop.
type Frame struct {
	Kind Kind
	// Seq is the packet's sequence number (KindFrame only).
	Seq uint16
	// Timestamp is the RTP timestamp of the slot.
	Timestamp uint32
	// Payload is the packet payload (KindFrame only). It stays valid until
	// the next Pop.
	Payload []byte
	// Stretch marks a KindLost frame inserted to raise the delay rather
	// than for a missing packet.
	Stretch bool
}

// PushResult says what Push did with a packet.
type PushResult uint8

// Push results.
const (
	// Accepted: the packet is buffered.
	Accepted PushResult = iota
	// Duplicate: the packet was already received; dropped.
	Duplicate
	// Late: the packet's slot has been played or concealed; dropped.
	Late
	// Probation: the packet's sequence number is far off; held until a
	// second packet confirms a new stream.
	Probation
	// Resynced: the packet started a new stream; the buffer was flushed.
	Resynced
)

// String returns the result's name.
func (r PushResult) String() string {
	switch r {
	case Accepted:
		return "accepted"
	case Duplicate:
		return "duplicate"
	case Late:
		return "late"
	case Probation:
		return "probation"
	case Resynced:
		return "resynced"
	}
	return fmt.Sprintf("result(%d)", uint8(r))
}

// Stats are the buffer's counters and current state.
type Stats struct {
	Received  uint64        // packets pushed
	Played    uint64        // frames returned as KindFrame
	Lost      uint64        // KindLost frames for packets known to be missing
	Stretched uint64        // KindLost frames inserted to raise the delay or wait for a packet
	Shrunk    uint64        // frames dropped to lower the delay
	Silence   uint64        // KindEmpty frames for a sender pause or priming
	Late      uint64        // packets dropped because their slot had passed
	Duplicate uint64        // packets dropped as already received
	Overflow  uint64        // packets dropped because the buffer was full
	Resyncs   uint64        // new streams started by a sequence or timestamp jump
	Buffered  int           // packets held now
	Target    time.Duration // current target delay
	Delay     time.Duration // delay of the last frame played
	Jitter    time.Duration // current delay spread (before clamping)
	FrameDur  time.Duration // current packet interval
}

const (
	maxDropout  = 3000
	maxMisorder = 100
)

type packet struct {
	ext     int64 // extended sequence number
	ts      int64 // extended timestamp
	seq     uint16
	rawTS   uint32
	arrival time.Time
	payload []byte
}

// Buffer is an adaptive jitter buffer for one RTP stream. It is safe for
// concurrent use: a receive goroutine may Push while a playout goroutine
// Pops.
type Buffer struct {
	mu  sync.Mutex
	cfg Config

	pkts []*packet // buffered, sorted by ext
	free []*packet
	out  []byte // payload returned by the last Pop

	started bool // a packet has been seen since the last reset
	highExt int64
	highTS  int64
	seen    seqWindow
	epoch   time.Time
	tsBase  int64
	probe   *packet // probation candidate for a new stream

	playing     bool
	playTS      int64
	lastExt     int64 // sequence of the last packet played, dropped or declared lost
	havePlayed  bool
	concealRun  int64 // timestamp units concealed with nothing buffered
	sinceShrink int

	step      int64 // frame size in timestamp units
	stepCand  int64
	stepCount int

	win     []time.Duration // ring of transit offsets
	winN    int
	winPos  int
	scratch []time.Duration
	samples int           // transit samples since the last resync
	floor   time.Duration // target floor during warm-up
	dirty   bool
	minD    time.Duration
	spread  time.Duration

	stats Stats
}

// New returns a Buffer for cfg (zero fields take their defaults).
func New(cfg Config) (*Buffer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	b := &Buffer{
		cfg:     cfg,
		pkts:    make([]*packet, 0, cfg.Capacity+1),
		win:     make([]time.Duration, cfg.Window),
		scratch: make([]time.Duration, cfg.Window),
		step:    int64(cfg.FrameDuration) * int64(cfg.ClockRate) / int64(time.Second),
	}
	b.floor = cfg.InitialDelay
	b.stats.Target = cfg.InitialDelay
	return b, nil
}

// tsDur converts timestamp units to a duration without overflow.
func (b *Buffer) tsDur(n int64) time.Duration {
	c := int64(b.cfg.ClockRate)
	return time.Duration(n/c)*time.Second + time.Duration(n%c)*time.Second/time.Duration(c)
}

// FrameDuration is the packet interval in use (configured or learned): the
// caller should Pop once per FrameDuration of played audio.
func (b *Buffer) FrameDuration() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tsDur(b.step)
}

// Stats returns a snapshot of the counters.
func (b *Buffer) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stats
	s.Buffered = len(b.pkts)
	s.Target = b.target()
	s.Jitter = b.spread
	s.FrameDur = b.tsDur(b.step)
	return s
}

// Reset drops every buffered packet and the jitter history, for a new
// stream (for example an SSRC change). Counters and the learned frame
// duration are kept; the target restarts from InitialDelay.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flush()
	b.floor = b.cfg.InitialDelay
}

// flush drops buffered packets, the stream state and the transit history
// (a new stream has a new timeline).
func (b *Buffer) flush() {
	for _, p := range b.pkts {
		b.free = append(b.free, p)
	}
	b.pkts = b.pkts[:0]
	if b.probe != nil {
		b.free = append(b.free, b.probe)
		b.probe = nil
	}
	b.started, b.playing, b.havePlayed = false, false, false
	b.concealRun, b.sinceShrink = 0, 0
	b.seen = seqWindow{}
	b.winN, b.winPos, b.samples = 0, 0, 0
	b.dirty = true
}

func (b *Buffer) newPacket(seq uint16, ts uint32, payload []byte, arrival time.Time) *packet {
	var p *packet
	if n := len(b.free); n > 0 {
		p = b.free[n-1]
		b.free = b.free[:n-1]
	} else {
		p = &packet{}
	}
	p.seq, p.rawTS, p.arrival = seq, ts, arrival
	p.payload = append(p.payload[:0], payload...)
	return p
}
