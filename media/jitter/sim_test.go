package jitter

import (
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// pkt is a packet of a simulated stream.
type pkt struct {
	seq     uint16
	ts      uint32
	arrival time.Duration // after t0
	payload []byte
}

// stream builds n packets of 20 ms (160 timestamp units at 8 kHz) sent
// every 20 ms from t0, with transit 30 ms + extra(i).
func stream(n int, seq0 uint16, ts0 uint32, extra func(i int) time.Duration) []pkt {
	out := make([]pkt, n)
	for i := range out {
		d := 30 * time.Millisecond
		if extra != nil {
			d += extra(i)
		}
		out[i] = pkt{
			seq:     seq0 + uint16(i),
			ts:      ts0 + uint32(i)*160,
			arrival: time.Duration(i)*20*time.Millisecond + d,
			payload: []byte{byte(i), byte(i >> 8)},
		}
	}
	return out
}

// event is one Pop result with its time.
type event struct {
	at time.Duration
	f  Frame
}

// run pushes the packets in arrival order and pops every 20 ms from
// popStart until until, returning every Pop result. Packets arriving at the
// same instant as a Pop are pushed first.
func run(t *testing.T, b *Buffer, pkts []pkt, popStart, until time.Duration) []event {
	t.Helper()
	pkts = slices.Clone(pkts)
	slices.SortStableFunc(pkts, func(a, b pkt) int { return int(a.arrival - b.arrival) })
	var out []event
	i := 0
	for now := popStart; now <= until; now += 20 * time.Millisecond {
		for ; i < len(pkts) && pkts[i].arrival <= now; i++ {
			b.Push(pkts[i].seq, pkts[i].ts, pkts[i].payload, t0.Add(pkts[i].arrival))
		}
		f := b.Pop(t0.Add(now))
		f.Payload = slices.Clone(f.Payload)
		out = append(out, event{now, f})
	}
	return out
}

func newBuf(t *testing.T, cfg Config) *Buffer {
	t.Helper()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// played returns the sequence numbers of the KindFrame results.
func played(ev []event) []uint16 {
	var s []uint16
	for _, e := range ev {
		if e.f.Kind == KindFrame {
			s = append(s, e.f.Seq)
		}
	}
	return s
}

// checkOrder fails unless seqs increase (modulo 2^16) without repeats.
func checkOrder(t *testing.T, seqs []uint16) {
	t.Helper()
	for i := 1; i < len(seqs); i++ {
		if d := int16(seqs[i] - seqs[i-1]); d <= 0 {
			t.Fatalf("out of order at %d: %d after %d", i, seqs[i], seqs[i-1])
		}
	}
}

// inStream counts the frames of kind k (and stretch flag) before the last
// KindFrame, ignoring the concealment after the stream ends.
func inStream(ev []event, k Kind, stretch bool) int {
	last := -1
	for i, e := range ev {
		if e.f.Kind == KindFrame {
			last = i
		}
	}
	n := 0
	for _, e := range ev[:last+1] {
		if e.f.Kind == k && e.f.Stretch == stretch {
			n++
		}
	}
	return n
}
