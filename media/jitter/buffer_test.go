package jitter

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSteadyStream(t *testing.T) {
	b := newBuf(t, Config{})
	ev := run(t, b, stream(200, 1000, 5000, nil), 0, 5*time.Second)
	seqs := played(ev)
	checkOrder(t, seqs)
	st := b.Stats()
	if st.Lost != 0 || st.Late != 0 || inStream(ev, KindLost, true) != 0 {
		t.Fatalf("clean stream: %+v", st)
	}
	if int(st.Played+st.Shrunk) != 200 {
		t.Fatalf("played %d + shrunk %d, want 200", st.Played, st.Shrunk)
	}
	// It waited InitialDelay (60 ms) after the first arrival (30 ms).
	first := -1
	for i, e := range ev {
		if e.f.Kind == KindFrame {
			first = i
			break
		}
	}
	if ev[first].at != 100*time.Millisecond || ev[first].f.Seq != 1000 || ev[first].f.Timestamp != 5000 {
		t.Fatalf("first frame at %v: %+v", ev[first].at, ev[first].f)
	}
	if string(ev[first].f.Payload) != "\x00\x00" {
		t.Fatalf("payload %q", ev[first].f.Payload)
	}
	// With no jitter the target settles at MinDelay and the delay follows.
	if st.Target != 20*time.Millisecond || st.Delay > 40*time.Millisecond {
		t.Fatalf("target %v delay %v", st.Target, st.Delay)
	}
}

func TestReordering(t *testing.T) {
	pk := stream(100, 0, 0, nil)
	for i := 10; i+1 < len(pk); i += 2 { // every pair arrives swapped, 5 ms apart
		pk[i].arrival, pk[i+1].arrival = pk[i+1].arrival+5*time.Millisecond, pk[i].arrival
	}
	b := newBuf(t, Config{})
	ev := run(t, b, pk, 0, 3*time.Second)
	seqs := played(ev)
	checkOrder(t, seqs)
	st := b.Stats()
	if st.Lost != 0 || st.Late != 0 || int(st.Played+st.Shrunk) != 100 || inStream(ev, KindLost, true) != 0 {
		t.Fatalf("reordered stream: %+v", st)
	}
}

func TestLossGivesLostFrames(t *testing.T) {
	pk := stream(60, 100, 8000, nil)
	pk = append(pk[:20], pk[22:]...) // seq 120 and 121 never arrive
	b := newBuf(t, Config{})
	ev := run(t, b, pk, 0, 2*time.Second)
	var lostTS []uint32
	for i, e := range ev {
		if e.f.Kind == KindLost && !e.f.Stretch {
			lostTS = append(lostTS, e.f.Timestamp)
			if ev[i-1].f.Seq != 119 && ev[i-1].f.Kind != KindLost {
				t.Fatalf("loss not right after seq 119: %+v", ev[i-1])
			}
		}
	}
	if len(lostTS) != 2 || lostTS[0] != 8000+20*160 || lostTS[1] != 8000+21*160 {
		t.Fatalf("lost slots %v", lostTS)
	}
	seqs := played(ev)
	checkOrder(t, seqs)
	if st := b.Stats(); st.Lost != 2 || int(st.Played+st.Shrunk) != 58 || inStream(ev, KindLost, true) != 0 {
		t.Fatalf("%+v", st)
	}
}

func TestDuplicates(t *testing.T) {
	pk := stream(50, 7, 0, nil)
	var dup []pkt
	for _, p := range pk {
		dup = append(dup, p)
		p.arrival += 3 * time.Millisecond
		dup = append(dup, p)
	}
	dup = append(dup, pk[5]) // and a very late copy of an already played packet
	dup[len(dup)-1].arrival = 900 * time.Millisecond
	b := newBuf(t, Config{})
	ev := run(t, b, dup, 0, 1200*time.Millisecond)
	seqs := played(ev)
	checkOrder(t, seqs)
	st := b.Stats()
	if st.Duplicate != 51 || st.Lost != 0 || int(st.Played+st.Shrunk) != 50 || inStream(ev, KindLost, true) != 0 {
		t.Fatalf("%+v", st)
	}
	if r := b.Push(pk[49].seq, pk[49].ts, nil, t0.Add(2*time.Second)); r != Duplicate {
		t.Fatalf("push of a played packet: %v", r)
	}
}

func TestSequenceAndTimestampWrap(t *testing.T) {
	pk := stream(300, 65500, 0xFFFFFFFF-160*50, nil)
	pk[120], pk[121] = pk[121], pk[120] // reorder across nothing in particular
	pk[40].arrival += 10 * time.Millisecond
	b := newBuf(t, Config{})
	ev := run(t, b, pk, 0, 7*time.Second)
	seqs := played(ev)
	checkOrder(t, seqs)
	st := b.Stats()
	if st.Resyncs != 0 || st.Lost != 0 || st.Late != 0 || int(st.Played+st.Shrunk) != 300 || inStream(ev, KindLost, true) != 0 {
		t.Fatalf("%+v", st)
	}
	wrapped := false
	for i := 1; i < len(seqs); i++ {
		if seqs[i] < seqs[i-1] {
			wrapped = true
		}
	}
	if !wrapped {
		t.Fatal("test did not cross the wrap")
	}
}

func TestLatePacketDropped(t *testing.T) {
	pk := stream(80, 0, 0, func(i int) time.Duration {
		if i == 30 {
			return 600 * time.Millisecond // beyond MaxDelay
		}
		return 0
	})
	b := newBuf(t, Config{})
	ev := run(t, b, pk, 0, 2*time.Second)
	st := b.Stats()
	if st.Late != 1 || st.Lost != 1 {
		t.Fatalf("late %d lost %d", st.Late, st.Lost)
	}
	// At most one slot waited for it before packet 31 showed it missing.
	if w := inStream(ev, KindLost, true); w > 1 {
		t.Fatalf("waited %d slots", w)
	}
	for _, s := range played(ev) {
		if s == 30 {
			t.Fatal("late packet played")
		}
	}
	if r := b.Push(5, 5*160, nil, t0.Add(3*time.Second)); r != Duplicate {
		t.Fatalf("old packet: %v", r)
	}
}

func TestOverflow(t *testing.T) {
	b := newBuf(t, Config{Capacity: 8})
	for i := range 20 {
		b.Push(uint16(i), uint32(i*160), []byte{byte(i)}, t0)
	}
	st := b.Stats()
	if st.Buffered != 8 || st.Overflow != 12 {
		t.Fatalf("%+v", st)
	}
	f := b.Pop(t0.Add(time.Second))
	if f.Kind != KindFrame || f.Seq != 12 {
		t.Fatalf("first after overflow: %+v", f)
	}
}

func TestLearnsFrameDuration(t *testing.T) {
	b := newBuf(t, Config{})
	for i := range 10 {
		b.Push(uint16(i), uint32(i*240), nil, t0.Add(time.Duration(i)*30*time.Millisecond))
	}
	if d := b.FrameDuration(); d != 30*time.Millisecond {
		t.Fatalf("frame duration %v", d)
	}
	var seqs []uint16
	for i := range 10 {
		if f := b.Pop(t0.Add(time.Duration(90+30*i) * time.Millisecond)); f.Kind == KindFrame {
			seqs = append(seqs, f.Seq)
		} else if f.Kind == KindLost && !f.Stretch {
			t.Fatalf("lost frame with 30 ms packets at pop %d", i)
		}
	}
	checkOrder(t, seqs)
}

func TestPopEmpty(t *testing.T) {
	b := newBuf(t, Config{})
	if f := b.Pop(t0); f.Kind != KindEmpty {
		t.Fatalf("%+v", f)
	}
	if KindLost.String() != "lost" || Late.String() != "late" || Kind(9).String() == "" || PushResult(9).String() == "" {
		t.Fatal("String")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg   Config
		field string
	}{
		{Config{ClockRate: 10}, "ClockRate"},
		{Config{FrameDuration: time.Second}, "FrameDuration"},
		{Config{MinDelay: -1}, "MinDelay"},
		{Config{MinDelay: 200 * time.Millisecond, MaxDelay: 100 * time.Millisecond}, "MaxDelay"},
		{Config{MaxDelay: time.Minute, MaxTimestampJump: 2 * time.Minute}, "MaxDelay"},
		{Config{InitialDelay: time.Second}, "InitialDelay"},
		{Config{Window: 1}, "Window"},
		{Config{WarmupPackets: 1000, Window: 10}, "WarmupPackets"},
		{Config{Quantile: 1.5}, "Quantile"},
		{Config{ShrinkInterval: -1}, "ShrinkInterval"},
		{Config{Capacity: 1}, "Capacity"},
		{Config{MaxConceal: -1}, "MaxConceal"},
		{Config{MaxTimestampJump: 100 * time.Millisecond}, "MaxTimestampJump"},
	} {
		_, err := New(tc.cfg)
		if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: %v, want an error naming %s", tc.cfg, err, tc.field)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentPushPop(t *testing.T) {
	b := newBuf(t, Config{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 2000 {
			b.Push(uint16(i), uint32(i*160), []byte{byte(i)}, t0.Add(time.Duration(i)*20*time.Millisecond))
		}
	}()
	for i := range 2000 {
		f := b.Pop(t0.Add(time.Duration(i)*20*time.Millisecond + 100*time.Millisecond))
		if f.Kind == KindFrame && len(f.Payload) != 1 {
			t.Fatalf("payload %v", f.Payload)
		}
	}
	<-done
}

func TestNoAllocsSteadyState(t *testing.T) {
	b := newBuf(t, Config{})
	payload := make([]byte, 160)
	i := 0
	step := func() {
		at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		b.Push(uint16(i), uint32(i*160), payload, at)
		b.Pop(at.Add(60 * time.Millisecond))
		i++
	}
	for range 300 {
		step()
	}
	if a := testing.AllocsPerRun(500, step); a != 0 {
		t.Fatalf("%v allocations per packet", a)
	}
}

func BenchmarkPushPop(b *testing.B) {
	buf, _ := New(Config{})
	payload := make([]byte, 160)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		buf.Push(uint16(i), uint32(i*160), payload, at)
		buf.Pop(at.Add(60 * time.Millisecond))
		i++
	}
}
