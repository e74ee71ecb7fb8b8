package dtmf

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDigitEventMapping(t *testing.T) {
	for i, r := range "0123456789*#ABCD" {
		e, err := DigitToEvent(r)
		if err != nil || int(e) != i {
			t.Fatalf("DigitToEvent(%q) = %d, %v", r, e, err)
		}
		d, err := e.Digit()
		if err != nil || d != r {
			t.Fatalf("Event(%d).Digit() = %q, %v", e, d, err)
		}
		if !e.IsDigit() || e.String() != string(r) {
			t.Fatalf("Event(%d) String %q", e, e.String())
		}
	}
	for _, r := range "abcd" {
		e, err := DigitToEvent(r)
		if err != nil || e != EventA+Event(r-'a') {
			t.Fatalf("lower case %q: %d, %v", r, e, err)
		}
	}
	for _, r := range "EeFx+ .\x00٣" {
		if _, err := DigitToEvent(r); !errors.Is(err, ErrBadDigit) {
			t.Errorf("DigitToEvent(%q) = %v", r, err)
		}
	}
	for _, e := range []Event{16, 32, 255} {
		if _, err := e.Digit(); !errors.Is(err, ErrBadEvent) || e.IsDigit() {
			t.Errorf("Event(%d).Digit() = %v", e, err)
		}
		if !strings.Contains(e.String(), "event") {
			t.Errorf("String %q", e.String())
		}
	}
	if err := ValidDigits("123*#abcd"); err != nil {
		t.Error(err)
	}
	for _, s := range []string{"", "12x3", "1 2"} {
		if err := ValidDigits(s); !errors.Is(err, ErrBadDigit) {
			t.Errorf("ValidDigits(%q) = %v", s, err)
		}
	}
}

func TestPayloadEncoding(t *testing.T) {
	// RFC 4733 layout: event, E|R|volume, duration (big endian).
	for _, tc := range []struct {
		p    Payload
		wire []byte
	}{
		{Payload{Event: 5, Volume: 10, Duration: 160}, []byte{0x05, 0x0A, 0x00, 0xA0}},
		{Payload{Event: EventPound, End: true, Volume: 10, Duration: 800}, []byte{0x0B, 0x8A, 0x03, 0x20}},
		{Payload{Event: EventD, End: true, Volume: 63, Duration: 0xFFFF}, []byte{0x0F, 0xBF, 0xFF, 0xFF}},
		{Payload{Event: 0}, []byte{0, 0, 0, 0}},
	} {
		got, err := tc.p.Marshal([]byte{0xEE})
		if err != nil || string(got) != string(append([]byte{0xEE}, tc.wire...)) {
			t.Errorf("Marshal(%v) = % x, %v", tc.p, got, err)
		}
		var p Payload
		if err := p.Unmarshal(tc.wire); err != nil || p != tc.p {
			t.Errorf("Unmarshal(% x) = %+v, %v", tc.wire, p, err)
		}
	}
	// The reserved bit is ignored on receipt; trailing bytes too.
	var p Payload
	if err := p.Unmarshal([]byte{0x01, 0xCA, 0x00, 0x10, 0x99}); err != nil || p != (Payload{Event: 1, End: true, Volume: 10, Duration: 16}) {
		t.Errorf("reserved bit: %+v, %v", p, err)
	}
	for _, b := range [][]byte{nil, {1}, {1, 2, 3}} {
		if err := p.Unmarshal(b); !errors.Is(err, ErrShortPayload) {
			t.Errorf("Unmarshal(% x) = %v", b, err)
		}
	}
	if _, err := (Payload{Volume: 64}).Marshal(nil); !errors.Is(err, ErrBadVolume) {
		t.Errorf("volume 64: %v", err)
	}
	if s := (Payload{Event: 1, End: true, Volume: 10, Duration: 800}).String(); s != "1 vol=-10 dur=800 end" {
		t.Errorf("String %q", s)
	}
}

func TestSenderDigit(t *testing.T) {
	s, err := NewSender(SenderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pk, err := s.Digit('7', 12345)
	if err != nil {
		t.Fatal(err)
	}
	// 100 ms at 20 ms: 5 updates (160..800) then 3 end packets of 800.
	if len(pk) != 8 {
		t.Fatalf("%d packets", len(pk))
	}
	for i, p := range pk {
		if p.Timestamp != 12345 || p.Payload.Event != 7 || p.Payload.Volume != 10 {
			t.Fatalf("packet %d: %+v", i, p)
		}
		if p.Marker != (i == 0) {
			t.Fatalf("packet %d marker %v", i, p.Marker)
		}
		if p.Offset != time.Duration(i)*20*time.Millisecond {
			t.Fatalf("packet %d offset %v", i, p.Offset)
		}
		if i < 5 {
			if p.Payload.End || p.Payload.Duration != uint16(160*(i+1)) {
				t.Fatalf("update %d: %+v", i, p.Payload)
			}
		} else if !p.Payload.End || p.Payload.Duration != 800 {
			t.Fatalf("end %d: %+v", i, p.Payload)
		}
	}
	if _, err := s.Digit('x', 0); !errors.Is(err, ErrBadDigit) {
		t.Fatalf("bad digit: %v", err)
	}
}

func TestSenderEventDurations(t *testing.T) {
	s, _ := NewSender(SenderConfig{Interval: 50 * time.Millisecond, EndPackets: 2})
	pk, err := s.Event(EventStar, 0, 130*time.Millisecond) // 1040 samples: 400, 800, 1040
	if err != nil {
		t.Fatal(err)
	}
	var durs []uint16
	ends := 0
	for _, p := range pk {
		if p.Payload.End {
			ends++
			if p.Payload.Duration != 1040 {
				t.Fatalf("end duration %d", p.Payload.Duration)
			}
		} else {
			durs = append(durs, p.Payload.Duration)
		}
	}
	if ends != 2 || len(durs) != 3 || durs[0] != 400 || durs[1] != 800 || durs[2] != 1040 {
		t.Fatalf("updates %v, %d ends", durs, ends)
	}
	// 16 kHz clock.
	s16, _ := NewSender(SenderConfig{ClockRate: 16000})
	pk, _ = s16.Digit('1', 0)
	if pk[0].Payload.Duration != 320 || pk[len(pk)-1].Payload.Duration != 1600 {
		t.Fatalf("16 kHz durations %d..%d", pk[0].Payload.Duration, pk[len(pk)-1].Payload.Duration)
	}
	for _, d := range []time.Duration{-time.Millisecond, 9 * time.Second, time.Nanosecond} {
		if _, err := s.Event(1, 0, d); !errors.Is(err, ErrBadDuration) {
			t.Errorf("duration %v: %v", d, err)
		}
	}
	if _, err := s.Event(1, 0, 8*time.Second); err != nil { // 64000 samples fits
		t.Errorf("8 s: %v", err)
	}
}

func TestSenderConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg   SenderConfig
		field string
	}{
		{SenderConfig{ClockRate: 10}, "ClockRate"},
		{SenderConfig{Interval: time.Millisecond}, "Interval"},
		{SenderConfig{Volume: 64}, "Volume"},
		{SenderConfig{Gap: -1}, "Gap"},
		{SenderConfig{EndPackets: 11}, "EndPackets"},
		{SenderConfig{Duration: time.Minute}, "Duration"},
	} {
		if _, err := NewSender(tc.cfg); !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: %v", tc.cfg, err)
		}
	}
	s, err := NewSender(SenderConfig{ZeroVolume: true})
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := s.Digit('1', 0)
	if pk[0].Payload.Volume != 0 {
		t.Fatalf("volume %d", pk[0].Payload.Volume)
	}
}

func TestSenderDigits(t *testing.T) {
	s, _ := NewSender(SenderConfig{})
	pk, err := s.Digits("12#", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(pk) != 24 {
		t.Fatalf("%d packets", len(pk))
	}
	// Key k starts at k*200 ms, timestamp 1000 + k*1600.
	starts := map[uint32]time.Duration{}
	for i, p := range pk {
		if i > 0 && p.Offset < pk[i-1].Offset {
			t.Fatal("not in sending order")
		}
		if p.Marker {
			starts[p.Timestamp] = p.Offset
		}
	}
	if len(starts) != 3 || starts[1000] != 0 || starts[2600] != 200*time.Millisecond || starts[4200] != 400*time.Millisecond {
		t.Fatalf("starts %v", starts)
	}
	if _, err := s.Digits("1z", 0); !errors.Is(err, ErrBadDigit) {
		t.Fatal(err)
	}
	// A short gap interleaves the end packets of one key with the next key.
	tight, _ := NewSender(SenderConfig{Gap: 20 * time.Millisecond})
	pk, _ = tight.Digits("55", 0)
	for i := 1; i < len(pk); i++ {
		if pk[i].Offset < pk[i-1].Offset {
			t.Fatal("not sorted")
		}
	}
	if got := receiveAll(t, pk); got != "55" {
		t.Fatalf("tight gap received %q", got)
	}
}

// receiveAll feeds packets (marshalled) to a fresh Receiver and returns the digits.
