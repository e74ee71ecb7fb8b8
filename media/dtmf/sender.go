package dtmf

import (
	"fmt"
	"time"
)

// SenderConfig tunes a Sender. Zero fields take their defaults.
type SenderConfig struct {
	// ClockRate of the telephone-event payload type. Default 8000.
	ClockRate int
	// Interval between the packets of an event. Default 20 ms (the usual
	// audio packet interval; RFC 4733 leaves it to the sender).
	Interval time.Duration
	// Volume in -dBm0, 0-63. Default 10 (-10 dBm0). Volume 0 (0 dBm0, the
	// loudest) needs ZeroVolume, since the zero value selects the default.
	Volume uint8
	// ZeroVolume sends volume 0 (0 dBm0) instead of the default.
	ZeroVolume bool
	// Duration of a key press. Default 100 ms.
	Duration time.Duration
	// Gap between key presses in Digits. Default 100 ms.
	Gap time.Duration
	// EndPackets is how many times the final (end) packet is sent.
	// Default 3, as RFC 4733 section 2.5.1.4 recommends.
	EndPackets int
}

func (c SenderConfig) withDefaults() SenderConfig {
	if c.ClockRate == 0 {
		c.ClockRate = 8000
	}
	if c.Interval == 0 {
		c.Interval = 20 * time.Millisecond
	}
	if c.Volume == 0 && !c.ZeroVolume {
		c.Volume = 10
	}
	if c.Duration == 0 {
		c.Duration = 100 * time.Millisecond
	}
	if c.Gap == 0 {
		c.Gap = 100 * time.Millisecond
	}
	if c.EndPackets == 0 {
		c.EndPackets = 3
	}
	return c
}

// Packet is one RTP packet of a telephone event, before RTP framing.
type Packet struct {
	// Offset is when to send the packet, from the start of the first event.
	Offset time.Duration
	// Marker is the RTP marker bit: set on the first packet of an event.
	Marker bool
	// Timestamp is the RTP timestamp: the start of the event, the same for
	// every packet of it.
	Timestamp uint32
	// Payload is the telephone-event payload; encode it with Marshal.
	Payload Payload
}

// Sender lays out the packets of DTMF key presses (RFC 4733 section 2.5.1):
// a first packet with the marker bit, updates every Interval with the
// duration so far, then the final packet EndPackets times, all with the
// timestamp of the start of the event. A Sender holds no per-call state
// and is safe for concurrent use.
type Sender struct {
	cfg      SenderConfig
	step     int // timestamp units per Interval
	maxPress time.Duration
}

// NewSender returns a Sender for cfg.
func NewSender(cfg SenderConfig) (*Sender, error) {
	cfg = cfg.withDefaults()
	switch {
	case cfg.ClockRate < 1000 || cfg.ClockRate > 96000:
		return nil, fmt.Errorf("%w: ClockRate %d must be in [1000, 96000]", ErrBadConfig, cfg.ClockRate)
	case cfg.Interval < 5*time.Millisecond || cfg.Interval > time.Second:
		return nil, fmt.Errorf("%w: Interval %v must be in [5ms, 1s]", ErrBadConfig, cfg.Interval)
	case cfg.Volume > MaxVolume:
		return nil, fmt.Errorf("%w: Volume %d must be at most %d", ErrBadConfig, cfg.Volume, MaxVolume)
	case cfg.Gap < 0:
		return nil, fmt.Errorf("%w: Gap %v is negative", ErrBadConfig, cfg.Gap)
	case cfg.EndPackets < 1 || cfg.EndPackets > 10:
		return nil, fmt.Errorf("%w: EndPackets %d must be in [1, 10]", ErrBadConfig, cfg.EndPackets)
	}
	s := &Sender{cfg: cfg, step: samples(cfg.Interval, cfg.ClockRate)}
	s.maxPress = time.Duration(0xFFFF) * time.Second / time.Duration(cfg.ClockRate)
	if err := s.checkDuration(cfg.Duration); err != nil {
		return nil, fmt.Errorf("%w: Duration: %w", ErrBadConfig, err)
	}
	return s, nil
}

func samples(d time.Duration, rate int) int {
	return int(d * time.Duration(rate) / time.Second)
}

func (s *Sender) checkDuration(d time.Duration) error {
	if d <= 0 || samples(d, s.cfg.ClockRate) < 1 {
		return fmt.Errorf("%w: %v must be positive", ErrBadDuration, d)
	}
	if d > s.maxPress {
		// Longer events need segmenting (RFC 4733 section 2.5.2.1), which a
		// key press never does.
		return fmt.Errorf("%w: %v exceeds %v (the 16-bit duration field at %d Hz)",
			ErrBadDuration, d, s.maxPress, s.cfg.ClockRate)
	}
	return nil
}

// Event returns the packets of one event of duration d starting at RTP
// timestamp ts (d 0 means the configured Duration).
func (s *Sender) Event(e Event, ts uint32, d time.Duration) ([]Packet, error) {
	return s.appendEvent(nil, e, ts, 0, d)
}

// Digit returns the packets of one key press of the configured Duration.
func (s *Sender) Digit(digit rune, ts uint32) ([]Packet, error) {
	e, err := DigitToEvent(digit)
	if err != nil {
		return nil, err
	}
	return s.appendEvent(nil, e, ts, 0, 0)
}

// Digits returns the packets of a string of key presses, each lasting
// Duration and separated by Gap. Key press k starts at offset
// k*(Duration+Gap) and RTP timestamp ts plus that offset in clock units,
// which keeps the events on the timeline of an audio stream that starts
// at ts. The packets are in sending order.
func (s *Sender) Digits(digits string, ts uint32) ([]Packet, error) {
	if err := ValidDigits(digits); err != nil {
		return nil, err
	}
	var out []Packet
	period := s.cfg.Duration + s.cfg.Gap
	k := 0
	for _, r := range digits {
		e, _ := DigitToEvent(r)
		off := time.Duration(k) * period
		var err error
		out, err = s.appendEvent(out, e, ts+uint32(samples(off, s.cfg.ClockRate)), off, 0)
		if err != nil {
			return nil, err
		}
		k++
	}
	sortByOffset(out) // end packets of one key may overlap the next with a short Gap
	return out, nil
}

func (s *Sender) appendEvent(out []Packet, e Event, ts uint32, off, d time.Duration) ([]Packet, error) {
	if d == 0 {
		d = s.cfg.Duration
	}
	if err := s.checkDuration(d); err != nil {
		return nil, err
	}
	total := samples(d, s.cfg.ClockRate)
	updates := (total + s.step - 1) / s.step
	for i := range updates {
		out = append(out, Packet{
			Offset:    off + time.Duration(i)*s.cfg.Interval,
			Marker:    i == 0,
			Timestamp: ts,
			Payload:   Payload{Event: e, Volume: s.cfg.Volume, Duration: uint16(min((i+1)*s.step, total))},
		})
	}
	endAt := off + time.Duration(updates)*s.cfg.Interval
	for i := range s.cfg.EndPackets {
		out = append(out, Packet{
			Offset:    endAt + time.Duration(i)*s.cfg.Interval,
			Timestamp: ts,
			Payload:   Payload{Event: e, End: true, Volume: s.cfg.Volume, Duration: uint16(total)},
		})
	}
	return out, nil
}

// sortByOffset is a stable insertion sort (the input is nearly sorted).
func sortByOffset(p []Packet) {
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && p[j].Offset < p[j-1].Offset; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}
