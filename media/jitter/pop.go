package jitter

import (
	"slices"
	"time"
)

// Pop returns the frame to play at now. Call it once per FrameDuration of
// played audio. See the package documentation for the kinds of frames.
func (b *Buffer) Pop(now time.Time) Frame {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.playing && !b.prime(now) {
		b.stats.Silence++
		return Frame{Kind: KindEmpty}
	}
	b.sinceShrink++
	for {
		if len(b.pkts) == 0 {
			return b.underrun()
		}
		head := b.pkts[0]
		d := head.ts - b.playTS
		if d < -b.step/2 { // behind the play point (the frame size changed): drop
			b.drop()
			b.stats.Late++
			continue
		}
		if d >= (b.step+1)/2 { // the head is for a later slot
			if f, ok := b.gap(now, head); ok {
				return f
			}
			continue
		}
		b.concealRun = 0
		delay := b.delay(now, b.playTS)
		b.stats.Delay = delay
		target := b.target()
		if delay < target {
			b.stats.Stretched++
			return Frame{Kind: KindLost, Timestamp: uint32(b.playTS), Stretch: true}
		}
		if delay > target+b.tsDur(b.step) && b.sinceShrink >= b.cfg.ShrinkInterval && b.nextIsDue() {
			b.lastExt = head.ext
			b.playTS = head.ts + b.step
			b.drop()
			b.stats.Shrunk++
			b.sinceShrink = 0
			continue
		}
		b.out = append(b.out[:0], head.payload...)
		f := Frame{Kind: KindFrame, Seq: head.seq, Timestamp: head.rawTS, Payload: b.out}
		b.lastExt = head.ext
		b.playTS = head.ts + b.step
		b.drop()
		b.stats.Played++
		return f
	}
}

// prime starts playout once the oldest buffered packet has waited for the
// target delay.
func (b *Buffer) prime(now time.Time) bool {
	if len(b.pkts) == 0 {
		return false
	}
	head := b.pkts[0]
	if b.delay(now, head.ts) < b.target() {
		return false
	}
	b.playing = true
	b.playTS = head.ts
	if !b.havePlayed || head.ext > b.lastExt+1 {
		b.lastExt = head.ext - 1
	}
	b.havePlayed = true
	b.concealRun = 0
	b.sinceShrink = 0
	return true
}

// underrun handles a slot with nothing buffered. The packet for the slot
// is late, or lost, or the sender has paused: conceal without advancing the
// play point, so a late packet is still played (the delay grows by one
// frame, as it must when packets come later than the target allows). A
// packet truly lost shows up as a gap once the next one arrives. After
// MaxConceal the stream is taken as stopped and the buffer primes again.
func (b *Buffer) underrun() Frame {
	b.concealRun += b.step
	if b.tsDur(b.concealRun) > b.cfg.MaxConceal {
		b.playing = false
		b.stats.Silence++
		return Frame{Kind: KindEmpty, Timestamp: uint32(b.playTS)}
	}
	b.stats.Stretched++
	return Frame{Kind: KindLost, Timestamp: uint32(b.playTS), Stretch: true}
}

// gap handles a slot before the next buffered packet. With a sequence
// number missing it is a loss: conceal and advance. With none missing the
// sender paused (discontinuous transmission): play silence until the next
// packet is due, or play it at once if it has already waited for the
// target delay (a talk spurt after the buffer held its play point).
func (b *Buffer) gap(now time.Time, head *packet) (Frame, bool) {
	b.concealRun = 0
	if head.ext == b.lastExt+1 && b.delay(now, head.ts) >= b.target() {
		b.playTS = head.ts
		return Frame{}, false
	}
	f := Frame{Timestamp: uint32(b.playTS)}
	b.playTS += b.step
	if head.ext == b.lastExt+1 {
		f.Kind = KindEmpty
		b.stats.Silence++
		return f, true
	}
	f.Kind = KindLost
	b.lastExt++
	b.stats.Lost++
	return f, true
}

// nextIsDue reports whether the packet after the head is present and
// follows it directly, so dropping the head loses no audio continuity.
func (b *Buffer) nextIsDue() bool {
	return len(b.pkts) > 1 && b.pkts[1].ext == b.pkts[0].ext+1 && b.pkts[1].ts-b.pkts[0].ts == b.step
}

func (b *Buffer) drop() {
	b.free = append(b.free, b.pkts[0])
	b.pkts = slices.Delete(b.pkts, 0, 1)
}

// delay is how long after its earliest possible arrival the media at
// timestamp ts is played if played at now.
func (b *Buffer) delay(now time.Time, ts int64) time.Duration {
	b.refresh()
	return now.Sub(b.epoch) - b.tsDur(ts-b.tsBase) - b.minD
}

// refresh recomputes the transit minimum and the jitter spread.
func (b *Buffer) refresh() {
	if !b.dirty {
		return
	}
	b.dirty = false
	if b.winN == 0 {
		b.minD, b.spread = 0, 0
		return
	}
	s := b.scratch[:b.winN]
	copy(s, b.win[:b.winN])
	slices.Sort(s)
	b.minD = s[0]
	k := int(b.cfg.Quantile*float64(len(s))+0.999999) - 1
	k = min(max(k, 0), len(s)-1)
	b.spread = s[k] - s[0]
}

// target is the delay the buffer aims for.
func (b *Buffer) target() time.Duration {
	b.refresh()
	t := b.spread
	if b.samples < b.cfg.WarmupPackets {
		t = max(t, b.floor)
	}
	t = min(max(t, b.cfg.MinDelay), b.cfg.MaxDelay)
	b.stats.Target = t
	return t
}
