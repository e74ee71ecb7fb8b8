package dtmf

// Received is a telephone event reported by a Receiver.
type Received struct {
	Event Event
	// Digit is the DTMF character, or 0 for a non-DTMF event.
	Digit rune
	// Timestamp is the RTP timestamp of the event's start.
	Timestamp uint32
	Volume    uint8
	// Duration so far, in timestamp units, as carried by the packet that
	// revealed the event (the full duration when only end packets arrived).
	Duration uint16
	// End is set when the packet that revealed the event was already an
	// end packet (the earlier ones were lost).
	End bool
}

// Receiver turns a stream of telephone-event packets into events, each
// reported exactly once, on the first packet seen of it:
//
//   - a new RTP timestamp starts a new event (RFC 4733 section 2.5.1.3), so
//     the same key pressed twice is reported twice;
//   - updates and the (usually three) end packets of an event, carrying its
//     timestamp, are not reported again, however late they come: the last
//     16 events are remembered;
//   - a packet with a later timestamp that lies within a not-yet-ended
//     event of the same code continues it (a long event split into
//     segments, RFC 4733 section 2.5.2.1) and is not a new key press;
//   - the only surviving packet of an event may arrive after the next
//     event has begun; it is still reported (so two keys reordered on the
//     network are reported in arrival order).
//
// Reporting on the first packet means one surviving packet is enough to
// see a key press. A Receiver is not safe for concurrent use; use one per
// stream and call Reset when the SSRC changes. The zero value is ready.
type Receiver struct {
	valid bool
	ts    uint32 // the latest event
	event Event
	ended bool
	dur   uint16

	recent [16]seenEvent // ring of reported events
	next   int
}

type seenEvent struct {
	ts    uint32
	event Event
	valid bool
}

// NewReceiver returns an empty Receiver.
func NewReceiver() *Receiver { return &Receiver{} }

// Reset forgets every event, for a new stream.
func (r *Receiver) Reset() { *r = Receiver{} }

// Push processes one packet. It returns the event and true when the packet
// starts an event not seen before, and an error for a malformed payload.
func (r *Receiver) Push(ts uint32, payload []byte) (Received, bool, error) {
	var p Payload
	if err := p.Unmarshal(payload); err != nil {
		return Received{}, false, err
	}
	if r.valid {
		d := int32(ts - r.ts)
		switch {
		case d == 0 && p.Event == r.event:
			r.update(p)
			return Received{}, false, nil
		case d > 0 && p.Event == r.event && !r.ended && uint32(d) <= uint32(r.dur):
			// A segment of the same long event: follow it.
			r.ts = ts
			r.update(p)
			return Received{}, false, nil
		}
	}
	if r.seen(ts, p.Event) { // a late packet of an event already reported
		return Received{}, false, nil
	}
	r.remember(ts, p.Event)
	if !r.valid || int32(ts-r.ts) >= 0 { // an event reported late does not become current
		r.valid, r.ts, r.event, r.ended, r.dur = true, ts, p.Event, p.End, p.Duration
	}
	return received(ts, p), true, nil
}

func received(ts uint32, p Payload) Received {
	rec := Received{Event: p.Event, Timestamp: ts, Volume: p.Volume, Duration: p.Duration, End: p.End}
	if d, err := p.Event.Digit(); err == nil {
		rec.Digit = d
	}
	return rec
}

func (r *Receiver) seen(ts uint32, e Event) bool {
	for _, s := range r.recent {
		if s.valid && s.ts == ts && s.event == e {
			return true
		}
	}
	return false
}

func (r *Receiver) remember(ts uint32, e Event) {
	r.recent[r.next] = seenEvent{ts: ts, event: e, valid: true}
	r.next = (r.next + 1) % len(r.recent)
}

func (r *Receiver) update(p Payload) {
	if p.End {
		r.ended = true
	}
	r.dur = max(r.dur, p.Duration)
}
