// Package dtmf implements RFC 4733 telephone events for DTMF: the 4-byte
// payload, a sender that lays out the packets of a key press, and a
// receiver that turns a packet stream into key presses exactly once.
//
// RTP framing (sequence numbers, SSRC, the payload type negotiated for
// telephone-event/8000) is left to the caller: the sender says which
// timestamp, marker bit and payload each packet carries and when to send
// it; the receiver takes the timestamp and payload of each packet.
package dtmf

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Event is an RFC 4733 event code. Codes 0-15 are the DTMF digits.
type Event uint8

// DTMF event codes (RFC 4733 section 3.2).
const (
	EventStar  Event = 10
	EventPound Event = 11
	EventA     Event = 12
	EventB     Event = 13
	EventC     Event = 14
	EventD     Event = 15
)

const digitChars = "0123456789*#ABCD"

// DigitToEvent maps a DTMF character (0-9, *, #, A-D, a-d) to its event code.
func DigitToEvent(r rune) (Event, error) {
	switch {
	case r >= '0' && r <= '9':
		return Event(r - '0'), nil
	case r == '*':
		return EventStar, nil
	case r == '#':
		return EventPound, nil
	case r >= 'A' && r <= 'D':
		return EventA + Event(r-'A'), nil
	case r >= 'a' && r <= 'd':
		return EventA + Event(r-'a'), nil
	}
	return 0, fmt.Errorf("%w: %q (want 0-9, *, #, A-D)", ErrBadDigit, r)
}

// Digit returns the DTMF character of the event (A-D in upper case).
func (e Event) Digit() (rune, error) {
	if e > EventD {
		return 0, fmt.Errorf("%w: event %d", ErrBadEvent, e)
	}
	return rune(digitChars[e]), nil
}

// IsDigit reports whether the event is a DTMF digit (0-15).
func (e Event) IsDigit() bool { return e <= EventD }

// String returns the digit for DTMF events and "event N" otherwise.
func (e Event) String() string {
	if d, err := e.Digit(); err == nil {
		return string(d)
	}
	return fmt.Sprintf("event %d", uint8(e))
}

// ValidDigits reports the first character of s that is not a DTMF digit.
func ValidDigits(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty string", ErrBadDigit)
	}
	for _, r := range s {
		if _, err := DigitToEvent(r); err != nil {
			return err
		}
	}
	return nil
}

// PayloadSize is the size of one telephone-event payload.
const PayloadSize = 4

// MaxVolume is the largest volume value (-63 dBm0).
const MaxVolume = 63

// Payload is one RFC 4733 telephone-event payload:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Payload struct {
	Event Event
	// End marks the final packets of the event.
	End bool
	// Volume is the power level in -dBm0 (0-63); 10 means -10 dBm0.
	Volume uint8
	// Duration of the event so far in RTP timestamp units.
	Duration uint16
}

// Marshal appends the 4-byte encoding to dst. The reserved bit is zero.
func (p Payload) Marshal(dst []byte) ([]byte, error) {
	if p.Volume > MaxVolume {
		return dst, fmt.Errorf("%w: %d (max %d)", ErrBadVolume, p.Volume, MaxVolume)
	}
	b := p.Volume
	if p.End {
		b |= 0x80
	}
	dst = slices.Grow(dst, PayloadSize)
	dst = append(dst, byte(p.Event), b)
	return binary.BigEndian.AppendUint16(dst, p.Duration), nil
}

// Unmarshal decodes the first 4 bytes of b. The reserved bit is ignored,
// as RFC 4733 requires of receivers; bytes after the first event (RFC 2198
// redundancy is not supported) are ignored.
func (p *Payload) Unmarshal(b []byte) error {
	if len(b) < PayloadSize {
		return fmt.Errorf("%w: got %d", ErrShortPayload, len(b))
	}
	p.Event = Event(b[0])
	p.End = b[1]&0x80 != 0
	p.Volume = b[1] & 0x3F
	p.Duration = binary.BigEndian.Uint16(b[2:4])
	return nil
}

// String formats the payload for logs.
func (p Payload) String() string {
	end := ""
	if p.End {
		end = " end"
	}
	return fmt.Sprintf("%s vol=-%d dur=%d%s", p.Event, p.Volume, p.Duration, end)
}
