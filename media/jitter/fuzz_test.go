package jitter

import (
	"encoding/binary"
	"testing"
	"time"
)

// FuzzBuffer drives a buffer with arbitrary pushes and pops: no panic, the
// capacity holds, and frames come out in sequence order between resyncs.
func FuzzBuffer(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 0, 0, 10, 1, 1, 0, 2, 0, 0, 1, 0, 20, 1, 1})
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		b, err := New(Config{Capacity: 16})
		if err != nil {
			t.Fatal(err)
		}
		now := t0
		var last uint16
		var have bool
		resyncs := uint64(0)
		for len(ops) >= 8 {
			op := ops[0]
			seq := binary.BigEndian.Uint16(ops[1:3])
			ts := binary.BigEndian.Uint32(ops[3:7])
			now = now.Add(time.Duration(ops[7]) * time.Millisecond)
			ops = ops[8:]
			switch op % 4 {
			case 0, 1:
				b.Push(seq, ts, ops[:min(len(ops), 3)], now)
			case 2:
				f := b.Pop(now)
				st := b.Stats()
				if st.Resyncs != resyncs {
					resyncs, have = st.Resyncs, false
				}
				if f.Kind == KindFrame {
					if have && int16(f.Seq-last) <= 0 {
						t.Fatalf("frame %d after %d", f.Seq, last)
					}
					last, have = f.Seq, true
				}
			case 3:
				b.Reset()
				have = false
			}
			if st := b.Stats(); st.Buffered > 16 {
				t.Fatalf("buffered %d", st.Buffered)
			}
		}
	})
}

// FuzzPLC: any mix of good and lost frames of any size.
func FuzzPLC(f *testing.F) {
	f.Add([]byte{1, 200, 0, 160, 1, 3}, int16(1000))
	f.Fuzz(func(t *testing.T, ops []byte, amp int16) {
		p, _ := NewPLC(8000)
		for i, op := range ops {
			frame := make([]int16, int(op))
			for j := range frame {
				frame[j] = amp * int16((i+j)%7-3)
			}
			if i%2 == 0 {
				p.Good(frame)
			} else {
				p.Conceal(frame)
			}
		}
	})
}
