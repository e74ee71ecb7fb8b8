package jitter

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestAdaptation(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 1))
	const n = 1500     // 30 s
	jitterUntil := 500 // 10 s of jitter, then 20 s of none
	pk := stream(n, 0, 0, func(i int) time.Duration {
		if i < jitterUntil {
			return time.Duration(rng.IntN(100)) * time.Millisecond
		}
		return 0
	})
	b := newBuf(t, Config{})
	var maxTarget time.Duration
	var lostInJitter int
	// Drive the simulation by hand to sample the target mid-way.
	i := 0
	byArrival := append([]pkt(nil), pk...)
	sortByArrival(byArrival)
	for now := time.Duration(0); now <= 31*time.Second; now += 20 * time.Millisecond {
		for ; i < len(byArrival) && byArrival[i].arrival <= now; i++ {
			p := byArrival[i]
			b.Push(p.seq, p.ts, p.payload, t0.Add(p.arrival))
		}
		f := b.Pop(t0.Add(now))
		st := b.Stats()
		if now < 10*time.Second {
			maxTarget = max(maxTarget, st.Target)
			if f.Kind == KindLost {
				lostInJitter++
			}
		}
		if now == 9*time.Second {
			if st.Target < 80*time.Millisecond || st.Target > 100*time.Millisecond {
				t.Errorf("target under 0-100 ms jitter: %v (jitter %v)", st.Target, st.Jitter)
			}
			if st.Delay < st.Target || st.Delay > st.Target+25*time.Millisecond {
				t.Errorf("delay %v does not follow target %v", st.Delay, st.Target)
			}
		}
	}
	t.Logf("max target %v, %d concealed under jitter; end: %+v", maxTarget, lostInJitter, b.Stats())
	if lostInJitter > 50 { // ~5% of 500 by design of the 95% quantile, plus warm-up
		t.Errorf("%d frames lost under jitter", lostInJitter)
	}
	st := b.Stats()
	if st.Target != 20*time.Millisecond {
		t.Errorf("target after jitter stopped: %v", st.Target)
	}
	if st.Delay > 40*time.Millisecond {
		t.Errorf("delay after jitter stopped: %v", st.Delay)
	}
	if st.Stretched == 0 || st.Shrunk == 0 {
		t.Errorf("no adaptation: %+v", st)
	}
	if maxTarget > 300*time.Millisecond {
		t.Errorf("target %v above MaxDelay", maxTarget)
	}
}

func sortByArrival(p []pkt) {
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && p[j].arrival < p[j-1].arrival; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

func TestTargetBounds(t *testing.T) {
	// Huge jitter: the target stops at MaxDelay.
	rng := rand.New(rand.NewPCG(7, 7))
	pk := stream(500, 0, 0, func(int) time.Duration { return time.Duration(rng.IntN(400)) * time.Millisecond })
	b := newBuf(t, Config{MaxDelay: 150 * time.Millisecond, MinDelay: 40 * time.Millisecond})
	run(t, b, pk, 0, 11*time.Second)
	if st := b.Stats(); st.Target != 150*time.Millisecond || st.Jitter < 300*time.Millisecond {
		t.Fatalf("target %v jitter %v", st.Target, st.Jitter)
	}
	// No jitter: it stops at MinDelay.
	b = newBuf(t, Config{MaxDelay: 150 * time.Millisecond, MinDelay: 40 * time.Millisecond})
	run(t, b, stream(200, 0, 0, nil), 0, 5*time.Second)
	if st := b.Stats(); st.Target != 40*time.Millisecond {
		t.Fatalf("target %v", st.Target)
	}
}

func TestClockDrift(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
	}{{"sender fast", 19900 * time.Microsecond}, {"sender slow", 20100 * time.Microsecond}} {
		pk := stream(1500, 0, 0, nil)
		for i := range pk {
			pk[i].arrival = time.Duration(i)*tc.interval + 30*time.Millisecond
		}
		b := newBuf(t, Config{})
		ev := run(t, b, pk, 0, 29*time.Second)
		checkOrder(t, played(ev))
		st := b.Stats()
		t.Logf("%s: %+v", tc.name, st)
		if st.Delay > st.Target+25*time.Millisecond || st.Delay < st.Target-5*time.Millisecond {
			t.Errorf("%s: delay %v drifted from target %v", tc.name, st.Delay, st.Target)
		}
		// 0.5% of 29 s is 145 ms: about 7 frames to drop or insert.
		if tc.interval < 20*time.Millisecond && st.Shrunk < 6 {
			t.Errorf("%s: only %d frames dropped", tc.name, st.Shrunk)
		}
		if tc.interval > 20*time.Millisecond && inStream(ev, KindLost, true) < 5 {
			t.Errorf("%s: only %d frames inserted", tc.name, inStream(ev, KindLost, true))
		}
		if st.Late != 0 || st.Lost != 0 {
			t.Errorf("%s: %d late, %d lost", tc.name, st.Late, st.Lost)
		}
	}
}
