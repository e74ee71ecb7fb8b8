package dtmf

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func receiveAll(t *testing.T, pk []Packet) string {
	t.Helper()
	r := NewReceiver()
	var sb strings.Builder
	for _, p := range pk {
		b, err := p.Payload.Marshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		rec, ok, err := r.Push(p.Timestamp, b)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			sb.WriteRune(rec.Digit)
		}
	}
	return sb.String()
}

func TestReceiverExactlyOnce(t *testing.T) {
	s, _ := NewSender(SenderConfig{})
	pk, _ := s.Digits("1234567890*#ABCD", 0xFFFFF000) // crosses the timestamp wrap
	if got := receiveAll(t, pk); got != "1234567890*#ABCD" {
		t.Fatalf("got %q", got)
	}
	// Same key twice: two presses (new timestamp = new event).
	pk, _ = s.Digits("5555", 0)
	if got := receiveAll(t, pk); got != "5555" {
		t.Fatalf("got %q", got)
	}
	// Every packet sent twice (retransmission): still once each.
	pk, _ = s.Digits("909", 42)
	var twice []Packet
	for _, p := range pk {
		twice = append(twice, p, p)
	}
	if got := receiveAll(t, twice); got != "909" {
		t.Fatalf("duplicated stream: %q", got)
	}
}

func TestReceiverLossAndReorder(t *testing.T) {
	s, _ := NewSender(SenderConfig{})
	pk, _ := s.Digits("147", 500)
	// Only the end packets of each key survive.
	var endsOnly []Packet
	for _, p := range pk {
		if p.Payload.End {
			endsOnly = append(endsOnly, p)
		}
	}
	r := NewReceiver()
	var got []Received
	for _, p := range endsOnly {
		b, _ := p.Payload.Marshal(nil)
		if rec, ok, _ := r.Push(p.Timestamp, b); ok {
			got = append(got, rec)
		}
	}
	if len(got) != 3 || got[0].Digit != '1' || !got[0].End || got[0].Duration != 800 || got[2].Digit != '7' {
		t.Fatalf("ends only: %+v", got)
	}
	// Random loss of 40% of packets and reordering: every key that keeps a
	// packet is reported exactly once.
	rng := rand.New(rand.NewPCG(9, 9))
	for trial := range 200 {
		pk, _ := s.Digits("0123456789", uint32(rng.Uint32()))
		var kept []Packet
		keys := map[uint32]bool{}
		for _, p := range pk {
			if rng.Float64() < 0.4 {
				continue
			}
			kept = append(kept, p)
			keys[p.Timestamp] = true
		}
		for i := 1; i < len(kept); i++ { // swap neighbours, also across keys
			if rng.IntN(3) == 0 {
				kept[i], kept[i-1] = kept[i-1], kept[i]
			}
		}
		want := ""
		for _, p := range pk { // keys in order; a key counts if any packet survived
			if p.Marker && keys[p.Timestamp] {
				d, _ := p.Payload.Event.Digit()
				want += string(d)
			}
		}
		// Reordering across keys may change the order, never the count.
		if got := receiveAll(t, kept); sorted(got) != sorted(want) {
			t.Fatalf("trial %d: got %q want %q", trial, got, want)
		}
	}
}

func TestReceiverLatePacketsOfOldEvent(t *testing.T) {
	r := NewReceiver()
	push := func(ts uint32, p Payload) bool {
		b, _ := p.Marshal(nil)
		_, ok, err := r.Push(ts, b)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !push(1000, Payload{Event: 1, Duration: 160}) {
		t.Fatal("first")
	}
	if !push(3000, Payload{Event: 2, Duration: 160}) {
		t.Fatal("second")
	}
	if push(1000, Payload{Event: 1, End: true, Duration: 800}) {
		t.Fatal("late end of the first event reported again")
	}
	// The only packet of an event reordered behind the next event: reported.
	if !push(2000, Payload{Event: 8, End: true, Duration: 800}) {
		t.Fatal("late single packet of an unseen event")
	}
	if push(2000, Payload{Event: 8, End: true, Duration: 800}) {
		t.Fatal("its retransmission")
	}
	if push(3000, Payload{Event: 2, End: true, Duration: 800}) || push(3000, Payload{Event: 2, End: true, Duration: 800}) {
		t.Fatal("end packets reported")
	}
	// Same timestamp, different event: a buggy sender, but a new key.
	if !push(3000, Payload{Event: 3, Duration: 160}) {
		t.Fatal("different event on the same timestamp")
	}
	if push(3000, Payload{Event: 2, End: true, Duration: 800}) || push(3000, Payload{Event: 3, End: true, Duration: 800}) {
		t.Fatal("either event reported twice")
	}
}

func TestReceiverLongEventSegments(t *testing.T) {
	r := NewReceiver()
	push := func(ts uint32, p Payload) bool {
		b, _ := p.Marshal(nil)
		_, ok, _ := r.Push(ts, b)
		return ok
	}
	if !push(0, Payload{Event: 9, Duration: 30000}) {
		t.Fatal("start")
	}
	if push(0, Payload{Event: 9, Duration: 0xFFFF}) {
		t.Fatal("update")
	}
	// RFC 4733 2.5.2.1: the next segment starts at ts + 0xFFFF, no end bit before.
	if push(0xFFFF, Payload{Event: 9, Duration: 1000}) {
		t.Fatal("segment reported as a new key")
	}
	if push(0xFFFF, Payload{Event: 9, End: true, Duration: 2000}) {
		t.Fatal("segment end")
	}
	// After the end, the same key again is new.
	if !push(0xFFFF+4000, Payload{Event: 9, Duration: 160}) {
		t.Fatal("new press")
	}
}

func TestReceiverErrorsAndReset(t *testing.T) {
	r := NewReceiver()
	if _, ok, err := r.Push(0, []byte{1, 2}); ok || !errors.Is(err, ErrShortPayload) {
		t.Fatalf("short: %v", err)
	}
	b, _ := Payload{Event: 4, Duration: 160}.Marshal(nil)
	if _, ok, _ := r.Push(100, b); !ok {
		t.Fatal("first")
	}
	if _, ok, _ := r.Push(100, b); ok {
		t.Fatal("repeat")
	}
	r.Reset()
	if _, ok, _ := r.Push(100, b); !ok {
		t.Fatal("after Reset the event is new")
	}
	// Non-DTMF events are reported with Digit 0.
	b, _ = Payload{Event: 16, Duration: 160}.Marshal(nil)
	rec, ok, _ := r.Push(5000, b)
	if !ok || rec.Digit != 0 || rec.Event != 16 {
		t.Fatalf("flash: %+v", rec)
	}
}

func BenchmarkReceiver(b *testing.B) {
	s, _ := NewSender(SenderConfig{})
	pk, _ := s.Digits("0123456789", 0)
	payloads := make([][]byte, len(pk))
	for i, p := range pk {
		payloads[i], _ = p.Payload.Marshal(nil)
	}
	r := NewReceiver()
	b.ReportAllocs()
	for b.Loop() {
		for i, p := range pk {
			_, _, _ = r.Push(p.Timestamp, payloads[i])
		}
	}
}

func sorted(s string) string {
	b := []byte(s)
	slices.Sort(b)
	return string(b)
}
