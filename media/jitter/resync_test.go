package jitter

import (
	"testing"
	"time"
)

func TestTimestampJumpResync(t *testing.T) {
	a := stream(50, 100, 1000, nil)
	c := stream(50, 150, 90000000, nil) // same sequence line, new timeline
	for i := range c {
		c[i].arrival += time.Second
	}
	b := newBuf(t, Config{})
	ev := run(t, b, append(a, c...), 0, 3*time.Second)
	st := b.Stats()
	if st.Resyncs != 1 {
		t.Fatalf("resyncs %d", st.Resyncs)
	}
	seqs := played(ev)
	checkOrder(t, seqs)
	if seqs[len(seqs)-1] != 199 {
		t.Fatalf("last played %d", seqs[len(seqs)-1])
	}
	if st.Late != 0 {
		t.Fatalf("late %d", st.Late)
	}
}

func TestSequenceJumpProbation(t *testing.T) {
	b := newBuf(t, Config{})
	a := stream(40, 10, 0, nil)
	run(t, b, a[:19], 0, 400*time.Millisecond)
	// One stray packet far away: held, the stream is unaffected.
	if r := b.Push(30000, 123456, []byte{9}, t0.Add(401*time.Millisecond)); r != Probation {
		t.Fatalf("stray: %v", r)
	}
	ev := run(t, b, a[19:], 420*time.Millisecond, 1200*time.Millisecond)
	if st := b.Stats(); st.Resyncs != 0 || st.Lost != 0 {
		t.Fatalf("stray packet disturbed the stream: %+v", st)
	}
	if got := played(ev); got[len(got)-1] != 49 {
		t.Fatalf("last %d", got[len(got)-1])
	}
	// Two in sequence: a new stream.
	if r := b.Push(40000, 5000, []byte{1}, t0.Add(1300*time.Millisecond)); r != Probation {
		t.Fatalf("first of new stream: %v", r)
	}
	if r := b.Push(40001, 5160, []byte{2}, t0.Add(1320*time.Millisecond)); r != Resynced {
		t.Fatalf("second of new stream: %v", r)
	}
	var got []uint16
	for now := 1320 * time.Millisecond; now < 1600*time.Millisecond; now += 20 * time.Millisecond {
		if f := b.Pop(t0.Add(now)); f.Kind == KindFrame {
			got = append(got, f.Seq)
		}
	}
	if len(got) != 2 || got[0] != 40000 || got[1] != 40001 {
		t.Fatalf("new stream played %v", got)
	}
}

func TestResetForNewSSRC(t *testing.T) {
	b := newBuf(t, Config{})
	run(t, b, stream(30, 500, 0, nil), 0, 500*time.Millisecond)
	b.Reset()
	if st := b.Stats(); st.Buffered != 0 {
		t.Fatalf("buffered after reset: %d", st.Buffered)
	}
	// A new stream with lower sequence numbers and timestamps is accepted.
	pk := stream(30, 10, 0, nil)
	for i := range pk {
		pk[i].arrival += 600 * time.Millisecond
	}
	ev := run(t, b, pk, 600*time.Millisecond, 1400*time.Millisecond)
	if got := played(ev); len(got) < 25 || got[0] != 10 {
		t.Fatalf("after reset played %v", got)
	}
}

func TestSenderPause(t *testing.T) {
	// DTX: 10 packets, a 1 s pause (timestamps jump, sequence does not),
	// then 20 more. The pause is concealed for MaxConceal then silent, and
	// the first packet after it is played, not dropped as late.
	a := stream(10, 0, 0, nil)
	c := stream(20, 10, 10*160+8000, nil)
	for i := range c {
		c[i].arrival += 1200 * time.Millisecond
	}
	b := newBuf(t, Config{})
	ev := run(t, b, append(a, c...), 0, 2*time.Second)
	st := b.Stats()
	if st.Late != 0 || st.Resyncs != 0 {
		t.Fatalf("%+v", st)
	}
	seqs := played(ev)
	if len(seqs) == 0 || seqs[len(seqs)-1] != 29 || int(st.Played+st.Shrunk) != 30 {
		t.Fatalf("played %v", seqs)
	}
	if st.Lost != 0 || inStream(ev, KindLost, true) != 10 { // MaxConceal (200 ms) of concealment, then silence
		t.Fatalf("lost %d, waited %d", st.Lost, inStream(ev, KindLost, true))
	}
}

func TestGapWithoutLossIsSilence(t *testing.T) {
	b := newBuf(t, Config{})
	// seq 0..4 every 20 ms, then seq 5 three frames later in media time
	// (the sender paused for 60 ms), each arriving at its media time.
	for i := range 5 {
		b.Push(uint16(i), uint32(i*160), []byte{1}, t0.Add(time.Duration(i)*20*time.Millisecond))
	}
	b.Push(5, 8*160, []byte{2}, t0.Add(160*time.Millisecond))
	var kinds []Kind
	for i := range 10 {
		kinds = append(kinds, b.Pop(t0.Add(time.Duration(60+20*i)*time.Millisecond)).Kind)
	}
	want := []Kind{KindFrame, KindFrame, KindFrame, KindFrame, KindFrame, KindEmpty, KindEmpty, KindEmpty, KindFrame, KindLost}
	// (the last slot: nothing buffered, the buffer waits and conceals)
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("slots %v, want %v", kinds, want)
		}
	}
}
