package jitter

import (
	"slices"
	"time"
)

// seqWindow remembers which of the last 256 extended sequence numbers were
// received, for duplicate detection.
type seqWindow struct {
	bits [4]uint64
	high int64
	init bool
}

const seqWindowSize = 256

// advance moves the window's top to high, forgetting older numbers.
func (w *seqWindow) advance(high int64) {
	if !w.init {
		w.init, w.high = true, high
		return
	}
	if high <= w.high {
		return
	}
	if high-w.high >= seqWindowSize {
		w.bits = [4]uint64{}
	} else {
		for e := w.high + 1; e <= high; e++ {
			w.clear(e)
		}
	}
	w.high = high
}

func (w *seqWindow) clear(e int64) { w.bits[(e>>6)&3] &^= 1 << (e & 63) }

// seen reports whether e was marked; numbers older than the window count
// as seen.
func (w *seqWindow) seen(e int64) bool {
	if !w.init || e > w.high {
		return false
	}
	if w.high-e >= seqWindowSize {
		return true
	}
	return w.bits[(e>>6)&3]&(1<<(e&63)) != 0
}

func (w *seqWindow) mark(e int64) { w.bits[(e>>6)&3] |= 1 << (e & 63) }

// Push adds a received packet. The payload is copied. arrival is the
// receive time on the same clock as the now passed to Pop.
func (b *Buffer) Push(seq uint16, ts uint32, payload []byte, arrival time.Time) PushResult {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stats.Received++
	return b.push(seq, ts, payload, arrival)
}

func (b *Buffer) push(seq uint16, ts uint32, payload []byte, arrival time.Time) PushResult {
	if !b.started {
		b.start(seq, ts, arrival)
		b.accept(b.highExt, b.highTS, b.newPacket(seq, ts, payload, arrival))
		return Accepted
	}
	delta := int64(int16(seq - uint16(b.highExt)))
	if delta > maxDropout || delta < -maxMisorder {
		return b.probation(seq, ts, payload, arrival)
	}
	ext := b.highExt + delta
	extTS := b.highTS + int64(int32(ts-uint32(b.highTS)))
	jump := extTS - (b.highTS + delta*b.step)
	if max(jump, -jump) > b.maxJumpTS() {
		b.resync(seq, ts, arrival)
		b.accept(b.highExt, b.highTS, b.newPacket(seq, ts, payload, arrival))
		return Resynced
	}
	if b.probe != nil { // the current stream goes on: forget the stray packet
		b.free = append(b.free, b.probe)
		b.probe = nil
	}
	if b.seen.seen(ext) {
		b.stats.Duplicate++
		return Duplicate
	}
	b.sample(arrival, extTS)
	if b.isLate(ext, extTS) {
		b.seen.advance(max(ext, b.highExt))
		b.seen.mark(ext)
		b.stats.Late++
		return Late
	}
	if ext == b.highExt+1 {
		b.learnStep(extTS - b.highTS)
	}
	b.accept(ext, extTS, b.newPacket(seq, ts, payload, arrival))
	return Accepted
}

func (b *Buffer) maxJumpTS() int64 {
	return int64(b.cfg.MaxTimestampJump) * int64(b.cfg.ClockRate) / int64(time.Second)
}

// isLate reports whether the slot of a packet has already been played or
// concealed.
func (b *Buffer) isLate(ext, extTS int64) bool {
	if !b.havePlayed {
		return false
	}
	if ext <= b.lastExt {
		return true
	}
	return extTS-b.playTS < -b.step/2
}

// start makes the packet the first of a new stream.
func (b *Buffer) start(seq uint16, ts uint32, arrival time.Time) {
	b.started = true
	b.highExt = int64(seq) + 1<<20
	b.highTS = int64(ts) + 1<<36
	b.tsBase = b.highTS
	b.epoch = arrival
	b.seen = seqWindow{}
	b.sample(arrival, b.highTS)
}

// resync flushes the buffer and starts a new stream with this packet,
// keeping the current target as the warm-up floor.
func (b *Buffer) resync(seq uint16, ts uint32, arrival time.Time) {
	floor := b.target()
	b.flush()
	b.floor = floor
	b.stats.Resyncs++
	b.start(seq, ts, arrival)
}

// probation holds a packet far outside the sequence window; a second one
// right after it confirms a new stream.
func (b *Buffer) probation(seq uint16, ts uint32, payload []byte, arrival time.Time) PushResult {
	p := b.probe
	if p != nil && seq == p.seq+1 && int32(ts-p.rawTS) >= 0 && int64(ts-p.rawTS) <= b.maxJumpTS() {
		b.probe = nil
		b.resync(p.seq, p.rawTS, p.arrival)
		b.accept(b.highExt, b.highTS, p)
		b.push(seq, ts, payload, arrival)
		return Resynced
	}
	if p != nil {
		b.free = append(b.free, p)
	}
	b.probe = b.newPacket(seq, ts, payload, arrival)
	return Probation
}

// learnStep adopts a new packet interval once three consecutive pairs of
// packets agree on it (so one pause in the stream does not count).
func (b *Buffer) learnStep(d int64) {
	if d <= 0 || d > int64(b.cfg.ClockRate)/5 { // over 200 ms is a pause, not a frame
		b.stepCount = 0
		return
	}
	if d != b.stepCand {
		b.stepCand, b.stepCount = d, 1
		return
	}
	b.stepCount++
	if b.stepCount >= 3 && d != b.step {
		b.step = d
	}
}

// accept stores a packet, dropping the oldest if the buffer is full.
func (b *Buffer) accept(ext, extTS int64, p *packet) {
	p.ext, p.ts = ext, extTS
	if ext > b.highExt {
		b.highExt, b.highTS = ext, extTS
	}
	b.seen.advance(b.highExt)
	b.seen.mark(ext)
	if len(b.pkts) >= b.cfg.Capacity {
		b.stats.Overflow++
		if ext < b.pkts[0].ext {
			b.free = append(b.free, p)
			return
		}
		b.free = append(b.free, b.pkts[0])
		b.pkts = slices.Delete(b.pkts, 0, 1)
	}
	i := len(b.pkts)
	for i > 0 && b.pkts[i-1].ext > ext {
		i--
	}
	b.pkts = slices.Insert(b.pkts, i, p)
}

// sample records the transit offset of a packet.
func (b *Buffer) sample(arrival time.Time, extTS int64) {
	d := arrival.Sub(b.epoch) - b.tsDur(extTS-b.tsBase)
	b.win[b.winPos] = d
	b.winPos = (b.winPos + 1) % len(b.win)
	b.winN = min(b.winN+1, len(b.win))
	b.samples++
	b.dirty = true
}
